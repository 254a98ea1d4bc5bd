// How the API reads a JSON body (api/request_helpers.h): the media type, in
// any case, and the depth limit.
#include "api/request_helpers.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

namespace punt::api {
namespace {

http::Request Post(const std::string& content_type, const std::string& body) {
  http::Request request;
  request.method = "POST";
  request.path = "/v1/events";
  request.headers = {{"Content-Type", content_type}};
  request.body = body;
  return request;
}

// `levels` objects nested: {"a":{"a":...1...}}.
std::string Nested(int levels) {
  std::string json = "1";
  for (int i = 0; i < levels; ++i) json = "{\"a\":" + json + "}";
  return json;
}

unsigned StatusOf(const std::variant<boost::json::value, http::Response>& parsed) {
  const auto* error = std::get_if<http::Response>(&parsed);
  return error ? error->status : 200;
}

// Regression: media types ignore case (RFC 9110 8.3.1), and the check
// compared exactly: "Application/JSON" was answered 415.
TEST(ParseJsonBody, TakesApplicationJsonInAnyCaseWithParameters) {
  for (const char* type :
       {"application/json", "Application/JSON", "application/json; charset=utf-8",
        " application/json ", "APPLICATION/JSON;charset=UTF-8"}) {
    EXPECT_EQ(StatusOf(ParseJsonBody(Post(type, "{}"))), 200u) << type;
  }
  for (const char* type : {"", "text/plain", "application/jsonx", "application/x-json"}) {
    EXPECT_EQ(StatusOf(ParseJsonBody(Post(type, "{}"))), 415u) << type;
  }
}

TEST(ParseJsonBody, NestsUpToItsLimit) {
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", Nested(kMaxJsonDepth)))), 200u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", Nested(kMaxJsonDepth + 1)))), 400u);
  EXPECT_EQ(StatusOf(ParseJsonBody(Post("application/json", "{\"a\":"))), 400u);
}

}  // namespace
}  // namespace punt::api
