#include "webhook/envelope.h"

#include <boost/json/object.hpp>

#include "util/event_id.h"
#include "util/json.h"
#include "util/time.h"

namespace punt::webhook {

std::string WebhookBody(const boost::json::value& event, size_t size_hint) {
  const auto& fields = event.as_object();
  auto occurred_at = ParseRfc3339(fields.at("occurred_at").as_string());
  // Written straight out, in the envelope's key order: building an object
  // first would copy the whole event.
  // The envelope adds the type and timestamp again and ~40 bytes of keys.
  constexpr size_t kEnvelope = 128;
  std::string body;
  body.reserve(size_hint + kEnvelope);
  body += "{\"type\":";
  AppendJson(body, fields.at("type"));
  body += ",\"timestamp\":\"";
  AppendTimestamp(body, occurred_at.value());  // digits and -:.TZ: nothing to escape
  body += "\",\"data\":";
  AppendJson(body, event);
  body += '}';
  return body;
}

std::string MessageId(std::string_view org_id, std::string_view event_id) {
  std::string id;
  id.reserve(40);
  id += "msg_";
  AppendStatementId(id, org_id, event_id);
  return id;
}

}  // namespace punt::webhook
