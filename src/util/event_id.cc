#include "util/event_id.h"

#include "util/uuid.h"

namespace punt {

std::string StatementId(std::string_view org_id, std::string_view event_id) {
  std::string name = "punt:";
  name.append(org_id).append(":").append(event_id);
  return Uuid5(kUrlNamespace, name);
}

}  // namespace punt
