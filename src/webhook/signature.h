// Standard Webhooks signing (v1, HMAC-SHA256) and verification.
// Thread-safe: functions without shared state.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace punt::webhook {

// "whsec_" + standard base64 of 32 random bytes.
std::string GenerateSecret();

// The key bytes of a secret, with or without the "whsec_" prefix, in either
// base64 alphabet. Returns nullopt when it is not base64 or decodes to nothing.
std::optional<std::string> DecodeSecret(std::string_view whsec);

// "v1," + standard base64 of HMAC-SHA256(key, "{msg_id}.{timestamp}.{body}").
std::string Sign(std::string_view secret_bytes, std::string_view msg_id, int64_t timestamp,
                 std::string_view body);

// One space-separated v1 signature per secret, in order (rotation signs with
// the new and the old secret).
std::string SignatureHeader(std::span<const std::string> secrets_bytes, std::string_view msg_id,
                            int64_t timestamp, std::string_view body);
// The same, written at the end of `out`.
void AppendSignatureHeader(std::string& out, std::span<const std::string> secrets_bytes,
                           std::string_view msg_id, int64_t timestamp, std::string_view body);

struct Headers {
  std::string id;         // webhook-id
  std::string timestamp;  // webhook-timestamp, Unix seconds
  std::string signature;  // webhook-signature
};

Headers MakeHeaders(std::span<const std::string> secrets_bytes, std::string_view msg_id,
                    int64_t timestamp, std::string_view body);

enum class VerifyResult {
  kOk,
  kBadSecret,
  kBadTimestamp,
  kTimestampTooOld,
  kTimestampTooNew,
  kNoMatchingSignature,
};

// A sentence for people: "the timestamp is too old", ...
std::string_view Describe(VerifyResult result);

// Checks the headers of a received message. The timestamp must be within
// `tolerance_seconds` of `now_seconds` either way. Every space-separated "v1,"
// entry of `signature_header` is compared in constant time; other versions
// are ignored.
VerifyResult Verify(std::string_view whsec_secret, std::string_view msg_id,
                    std::string_view timestamp_header, std::string_view signature_header,
                    std::string_view body, int64_t now_seconds, int64_t tolerance_seconds = 300);

}  // namespace punt::webhook
