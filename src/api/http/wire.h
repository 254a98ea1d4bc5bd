// The bytes of an HTTP/1.1 response head, written by hand into a reused
// buffer (no per-response allocations once the buffer has grown).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "api/http/response.h"

namespace punt::http {

enum class ConnectionHeader { kNone, kKeepAlive, kClose };

// `status` if it is a final status (200..599), else 500.
unsigned NormalizeStatus(unsigned status);

// True for statuses that never carry a body: 1xx, 204, 304.
bool StatusHasNoBody(unsigned status);

// Replaces `out` with the status line and headers of `response`, ending in the
// blank line: Server, Content-Type, Content-Length (unless StatusHasNoBody),
// the Connection header asked for, then the handler's own headers minus the
// reserved ones and malformed ones. The status goes through NormalizeStatus.
void WriteResponseHead(std::string& out, const Response& response, ConnectionHeader connection);

}  // namespace punt::http
