#include <openssl/rand.h>

#include <charconv>
#include <chrono>
#include <iostream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "cli/event_input.h"
#include "cli/flags.h"
#include "util/time.h"
#include "webhook/envelope.h"
#include "webhook/signature.h"

namespace punt::cli {
namespace {

constexpr const char* kBodyUsage =
    "Usage: punt webhook-body [OPTIONS] < event.json\n\n"
    "Prints the webhook body punt would send for the event on standard input:\n"
    "{\"type\", \"timestamp\" (occurred_at in UTC), \"data\" (the event as given)}.\n"
    "Bad input prints every problem to stderr and exits 2.\n\n"
    "Options:\n"
    "  --org-id ID         the organisation the event belongs to (the body does not\n"
    "                      depend on it; webhook-sign uses it for the webhook-id)\n";

constexpr const char* kSignUsage =
    "Usage: punt webhook-sign --secret whsec_... [OPTIONS] < body\n\n"
    "Prints the Standard Webhooks headers (webhook-id, webhook-timestamp,\n"
    "webhook-signature) for the body on standard input, taken byte for byte.\n\n"
    "Options:\n"
    "  --secret whsec_...  the signing secret; repeat it to sign with each (rotation)\n"
    "  --id ID             the webhook-id (default: msg_ + a random UUID)\n"
    "  --event-id ID       derive the webhook-id from the event id, as punt does\n"
    "  --org-id ID         the organisation for --event-id (default: demo)\n"
    "  --timestamp SECONDS the webhook-timestamp in Unix seconds (default: now)\n";

constexpr const char* kVerifyUsage =
    "Usage: punt webhook-verify --secret whsec_... --id ID --timestamp T --signature SIG\n"
    "                           [--tolerance SECONDS] < body\n\n"
    "Checks Standard Webhooks headers against the body on standard input. Prints\n"
    "\"verified\" and exits 0, or prints the reason to stderr and exits 1.\n\n"
    "Options:\n"
    "  --secret whsec_...  the signing secret\n"
    "  --id ID             the webhook-id header\n"
    "  --timestamp T       the webhook-timestamp header (Unix seconds)\n"
    "  --signature SIG     the webhook-signature header (space-separated v1,... entries)\n"
    "  --tolerance SECONDS how far the timestamp may be from now (default: 300)\n";

int UsageError(std::string_view command, std::string_view message, const char* usage) {
  std::cerr << "punt " << command << ": " << message << "\n\n" << usage;
  return 2;
}

// ParseFlags, and no positional arguments: these commands read standard input.
std::optional<ParsedFlags> Parse(Args args, const std::set<std::string>& value_flags,
                                 std::string* error, const std::set<std::string>& repeatable = {}) {
  auto flags = ParseFlags(std::vector<std::string>(args.begin(), args.end()), value_flags, {},
                          error, repeatable);
  if (flags && !flags->positional.empty()) {
    *error = "unexpected argument '" + flags->positional[0] + "'";
    return std::nullopt;
  }
  return flags;
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int64_t NowSeconds() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

std::string RandomMessageId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "msg_";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

// WebhookBody's precondition, checked here because the catalog may let more
// through than the envelope can take.
bool HasEnvelopeFields(const boost::json::value& event) {
  const auto* fields = event.if_object();
  if (!fields) return false;
  const auto* type = fields->if_contains("type");
  const auto* occurred_at = fields->if_contains("occurred_at");
  return type && type->is_string() && occurred_at && occurred_at->is_string() &&
         ParseRfc3339(occurred_at->get_string());
}

}  // namespace

int RunWebhookBody(Args args) {
  if (WantsHelp(args, {"--org-id"})) {
    std::cout << kBodyUsage;
    return 0;
  }
  std::string error;
  auto flags = Parse(args, {"--org-id"}, &error);
  if (!flags) return UsageError("webhook-body", error, kBodyUsage);
  auto text = ReadInput("webhook-body", "", std::cerr);
  if (!text) return 2;
  auto event = ReadEvent(*text, std::cerr);
  if (!event) return 2;
  if (!HasEnvelopeFields(*event)) {
    std::cerr << "punt webhook-body: the event needs a string type and an RFC 3339 occurred_at\n";
    return 2;
  }
  std::cout << webhook::WebhookBody(*event) << "\n";
  return 0;
}

int RunWebhookSign(Args args) {
  if (WantsHelp(args, {"--secret", "--id", "--event-id", "--org-id", "--timestamp"})) {
    std::cout << kSignUsage;
    return 0;
  }
  std::string error;
  auto flags = Parse(args, {"--secret", "--id", "--event-id", "--org-id", "--timestamp"}, &error,
                     {"--secret"});
  if (!flags) return UsageError("webhook-sign", error, kSignUsage);
  std::vector<std::string> keys;
  for (const std::string& secret : flags->lists["--secret"]) {
    auto key = webhook::DecodeSecret(secret);
    if (!key) return UsageError("webhook-sign", "--secret must be whsec_ + base64", kSignUsage);
    keys.push_back(std::move(*key));
  }
  for (const char* flag : {"--id", "--event-id", "--org-id"}) {
    if (flags->Get(flag) && flags->Get(flag)->empty()) {
      return UsageError("webhook-sign", std::string(flag) + " must not be empty", kSignUsage);
    }
  }
  std::optional<std::string> id = flags->Get("--id"), event_id = flags->Get("--event-id");
  std::string org_id = flags->Get("--org-id").value_or("demo");
  int64_t timestamp = NowSeconds();
  if (auto text = flags->Get("--timestamp")) {
    auto value = ParseInt(*text);
    if (!value || *value < 0) {
      return UsageError("webhook-sign", "--timestamp must be Unix seconds", kSignUsage);
    }
    timestamp = *value;
  }
  if (keys.empty()) return UsageError("webhook-sign", "--secret is required", kSignUsage);
  if (id && event_id) {
    return UsageError("webhook-sign", "give --id or --event-id, not both", kSignUsage);
  }
  std::string msg_id = id         ? *id
                       : event_id ? webhook::MessageId(org_id, *event_id)
                                  : RandomMessageId();
  auto body = ReadInput("webhook-sign", "", std::cerr);
  if (!body) return 2;
  auto headers = webhook::MakeHeaders(keys, msg_id, timestamp, *body);
  std::cout << "webhook-id: " << headers.id << "\nwebhook-timestamp: " << headers.timestamp
            << "\nwebhook-signature: " << headers.signature << "\n";
  return 0;
}

int RunWebhookVerify(Args args) {
  if (WantsHelp(args, {"--secret", "--id", "--timestamp", "--signature", "--tolerance"})) {
    std::cout << kVerifyUsage;
    return 0;
  }
  std::string error;
  auto flags =
      Parse(args, {"--secret", "--id", "--timestamp", "--signature", "--tolerance"}, &error);
  if (!flags) return UsageError("webhook-verify", error, kVerifyUsage);
  std::optional<std::string> secret = flags->Get("--secret"), id = flags->Get("--id"),
                             timestamp = flags->Get("--timestamp"),
                             signature = flags->Get("--signature");
  int64_t tolerance = 300;
  constexpr int64_t kMaxTolerance = int64_t{100} * 365 * 24 * 3600;
  if (auto text = flags->Get("--tolerance")) {
    auto value = ParseInt(*text);
    if (!value || *value < 0 || *value > kMaxTolerance) {
      return UsageError("webhook-verify", "--tolerance must be 0 to 100 years in seconds",
                        kVerifyUsage);
    }
    tolerance = *value;
  }
  if (!secret || !id || !timestamp || !signature) {
    return UsageError("webhook-verify", "--secret, --id, --timestamp and --signature are required",
                      kVerifyUsage);
  }
  if (!webhook::DecodeSecret(*secret)) {
    return UsageError("webhook-verify", "--secret must be whsec_ + base64", kVerifyUsage);
  }
  auto body = ReadInput("webhook-verify", "", std::cerr);
  if (!body) return 2;
  auto result =
      webhook::Verify(*secret, *id, *timestamp, *signature, *body, NowSeconds(), tolerance);
  if (result != webhook::VerifyResult::kOk) {
    std::cerr << "punt webhook-verify: " << webhook::Describe(result) << "\n";
    return 1;
  }
  std::cout << "verified\n";
  return 0;
}

}  // namespace punt::cli
