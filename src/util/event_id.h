// The ids punt derives from an event, the same on every retry and replay.
#pragma once

#include <string>
#include <string_view>

namespace punt {

// The lowercase UUIDv5 of "punt:{org_id}:{event_id}" in the URL namespace:
// the xAPI statement id, and the webhook-id after "msg_".
std::string StatementId(std::string_view org_id, std::string_view event_id);
// The same, written at the end of `out`.
void AppendStatementId(std::string& out, std::string_view org_id, std::string_view event_id);

}  // namespace punt
