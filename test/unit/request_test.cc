// What BuildRequest puts in a request, and that a refused request goes
// nowhere on either client's path.
#include "delivery/request.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "delivery/transfer.h"
#include "net/cidr.h"
#include "util/event_id.h"
#include "webhook/signature.h"

namespace punt::delivery {
namespace {

const std::string kSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

Target WebhookTarget(std::string url) {
  Target target;
  target.id = "sub_1";
  target.org_id = "acme";
  target.url = std::move(url);
  target.signing_keys = {*webhook::DecodeSecret(kSecret)};
  return target;
}

Batch OneDelivery(std::string body) {
  store::DueDelivery d;
  d.delivery_id = 7;
  d.subscription_id = "sub_1";
  d.org_id = "acme";
  d.event_id = "evt-8812";
  d.body = std::move(body);
  return {d};
}

// The value of the header line `name`, or "(none)".
std::string HeaderValue(const std::string& lines, const std::string& name) {
  size_t at = lines.find(name + ": ");
  if (at == std::string::npos) return "(none)";
  at += name.size() + 2;
  return lines.substr(at, lines.find("\r\n", at) - at);
}

TEST(BuildRequest, WritesTheSignedWebhookHeadersAsLines) {
  Batch batch = OneDelivery(R"({"type":"user.created"})");
  OutgoingRequest r =
      BuildRequest(WebhookTarget("http://hooks.example/in"), batch, 1'700'000'123'456);
  EXPECT_TRUE(r.refused.empty());
  EXPECT_EQ(r.body, R"({"type":"user.created"})");
  const std::string id = "msg_" + StatementId("acme", "evt-8812");
  const std::string signature = HeaderValue(r.header_lines, "webhook-signature");
  EXPECT_EQ(r.header_lines,
            "Content-Type: application/json\r\nwebhook-id: " + id +
                "\r\nwebhook-timestamp: 1700000123\r\nwebhook-signature: " + signature + "\r\n");
  EXPECT_EQ(webhook::Verify(kSecret, id, "1700000123", signature, r.body, 1'700'000'123),
            webhook::VerifyResult::kOk);
}

TEST(BuildRequest, SignsWithEverySecretAndAddsTheAuthorization) {
  Target target = WebhookTarget("http://hooks.example/in");
  const std::string old_secret = "whsec_" + std::string(40, 'A');
  target.signing_keys.push_back(*webhook::DecodeSecret(old_secret));
  target.authorization = "Bearer t0ken";
  Batch batch = OneDelivery("{}");
  OutgoingRequest r = BuildRequest(target, batch, 1'700'000'000'000);
  const std::string id = HeaderValue(r.header_lines, "webhook-id");
  const std::string signatures = HeaderValue(r.header_lines, "webhook-signature");
  EXPECT_NE(signatures.find(' '), std::string::npos) << signatures;
  for (const std::string& secret : {kSecret, old_secret}) {
    EXPECT_EQ(webhook::Verify(secret, id, "1700000000", signatures, "{}", 1'700'000'000),
              webhook::VerifyResult::kOk);
  }
  EXPECT_EQ(HeaderValue(r.header_lines, "Authorization"), "Bearer t0ken");
}

TEST(BuildRequest, RefusesAHeaderValueWithALineBreak) {
  Target target = WebhookTarget("http://hooks.example/in");
  target.authorization = "Bearer x\r\nEvil: 1";
  Batch batch = OneDelivery("{}");
  OutgoingRequest r = BuildRequest(target, batch, 1'700'000'000'000);
  EXPECT_NE(r.refused.find("line break"), std::string::npos) << r.refused;
  EXPECT_EQ(r.header_lines.find("Evil"), std::string::npos);
}

// The libcurl path (https://) sends nothing for a refused request: it ends
// with the refusal before connecting.
TEST(Transfer, ARefusedRequestEndsWithoutConnecting) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  acceptor.non_blocking(true);
  Target target = WebhookTarget(
      "https://127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()) + "/in");
  target.authorization = "Bearer x\nEvil: 1";
  TransportOptions options;
  Transfer transfer(target, OneDelivery("{}"), options, 1'700'000'000'000, nullptr);

  CURLM* multi = curl_multi_init();
  curl_multi_add_handle(multi, transfer.handle());
  CURLcode code = CURLE_OK;
  bool done = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done && std::chrono::steady_clock::now() < deadline) {
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE) {
        code = msg->data.result;
        done = true;
      }
    }
    if (!done) curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
  ASSERT_TRUE(done);
  TransferResult result = transfer.Finish(code);
  curl_multi_remove_handle(multi, transfer.handle());
  curl_multi_cleanup(multi);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("line break"), std::string::npos) << result.error;
  boost::system::error_code ec;
  boost::asio::ip::tcp::socket peer(io);
  acceptor.accept(peer, ec);  // nothing connected: would block
  EXPECT_EQ(ec, boost::asio::error::would_block);
}

// A name with a refused address and an allowed one: curl goes on to the
// allowed one, and what happens there is the attempt's error, not the
// refusal of the address it skipped.
TEST(Transfer, AnAllowedAddressAfterARefusedOneReportsItsOwnError) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor acceptor(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const int port = acceptor.local_endpoint().port();
  std::thread server([&] {
    boost::asio::ip::tcp::socket socket(io);
    acceptor.accept(socket);  // and closed at once, without an answer
  });
  const DestinationGuard guard({*net::Cidr::Parse("127.0.0.0/8")});
  TransportOptions options;
  options.guard = &guard;
  CURL* easy = curl_easy_init();
  const std::string twofold = "twofold.test:" + std::to_string(port) + ":[::1],127.0.0.1";
  curl_slist* resolve = curl_slist_append(nullptr, twofold.c_str());
  curl_easy_setopt(easy, CURLOPT_RESOLVE, resolve);
  curl_easy_setopt(easy, CURLOPT_HAPPY_EYEBALLS_TIMEOUT_MS, 0L);
  {
    Transfer transfer(WebhookTarget("http://twofold.test:" + std::to_string(port) + "/in"),
                      OneDelivery("{}"), options, 1'700'000'000'000, easy);
    TransferResult r = transfer.Finish(curl_easy_perform(easy));
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.error.find("destination refused"), std::string::npos) << r.error;
  }
  server.join();
  curl_slist_free_all(resolve);
}

}  // namespace
}  // namespace punt::delivery
