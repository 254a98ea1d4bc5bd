#include "util/event_id.h"

#include "util/uuid.h"

namespace punt {

void AppendStatementId(std::string& out, std::string_view org_id, std::string_view event_id) {
  AppendUuid5(out, kUrlNamespace, {"punt:", org_id, ":", event_id});
}

std::string StatementId(std::string_view org_id, std::string_view event_id) {
  std::string out;
  AppendStatementId(out, org_id, event_id);
  return out;
}

}  // namespace punt
