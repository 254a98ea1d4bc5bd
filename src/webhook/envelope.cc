#include "webhook/envelope.h"

#include <boost/json/object.hpp>

#include "util/event_id.h"
#include "util/json.h"
#include "util/time.h"

namespace punt::webhook {

std::string WebhookBody(const boost::json::value& event) {
  const auto& fields = event.as_object();
  auto occurred_at = ParseRfc3339(fields.at("occurred_at").as_string());
  boost::json::object body;
  body["type"] = fields.at("type");
  body["timestamp"] = FormatTimestamp(occurred_at.value());
  body["data"] = event;
  return ToJson(body);
}

std::string MessageId(std::string_view org_id, std::string_view event_id) {
  return "msg_" + StatementId(org_id, event_id);
}

}  // namespace punt::webhook
