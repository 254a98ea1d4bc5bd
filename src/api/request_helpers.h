// Shared steps of the API handlers: authentication and JSON bodies. Each
// returns either what the handler needs or the error response to send.
#pragma once

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/context.h"
#include "api/http/request.h"
#include "api/http/response.h"
#include "catalog/validate.h"

namespace punt::api {

// An organisation key's holder.
struct Caller {
  std::string org_id;
  unsigned scopes = 0;
};

// nullopt when the request carries the admin key; else a 401 response.
std::optional<http::Response> RequireAdmin(const http::Request& req, const Context& ctx);

// The organisation whose key the request carries, with `scope`; else 401.
std::variant<Caller, http::Response> RequireOrgKey(const http::Request& req, const Context& ctx,
                                                   unsigned scope);

// How deep a request's JSON may nest.
constexpr size_t kMaxJsonDepth = 32;

// What a body that is a JSON array may nest.
enum class ArrayDepth {
  kCounts,          // the array is a level like any other
  kHoldsDocuments,  // each item is a document of its own, held to kMaxJsonDepth
};

// The JSON body; 415 unless Content-Type is application/json (in any case),
// 400 when the body is not JSON (or nests deeper than kMaxJsonDepth; with
// ArrayDepth::kHoldsDocuments, a top-level array's items may each nest that
// deep: a batch takes the events one posted alone would).
// With `storage`, the value is built in it (a handler's arena: see Ingest);
// else on the heap.
std::variant<boost::json::value, http::Response> ParseJsonBody(
    const http::Request& req, boost::json::storage_ptr storage = {},
    ArrayDepth array_depth = ArrayDepth::kCounts);

// The body as an object; 400 when it is another JSON value.
std::variant<boost::json::object, http::Response> ParseJsonObject(const http::Request& req);

// 422 with every problem as a field error.
http::Response Invalid(const std::vector<catalog::Problem>& problems,
                       std::string_view message = "the request has invalid fields");

http::Response NotFound(std::string_view what);

// A store write's failure: 404 for NotFound (`what` not found), 409 with
// the store's message for Conflict, 503 otherwise.
http::Response StoreFailure(const store::Status& status, std::string_view what);

// 503 for a read that failed (store::Status from a read's `failed`): not
// "not found", which would tell a client its key, organisation or
// subscription is gone when it may be back on the next try.
http::Response Unreadable();

}  // namespace punt::api
