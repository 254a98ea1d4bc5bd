// Event → xAPI statement: a pure function, no I/O. The mapping is written up
// in docs/xapi-mapping.md. Thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace punt::xapi {

enum class Version { k1_0_3, k2_0_0 };

// "1.0.3" or "2.0.0": the X-Experience-API-Version header.
std::string_view VersionHeader(Version version);
std::optional<Version> ParseVersion(std::string_view text);

// An organisation's platform URL as punt keeps it: an absolute http(s) URL
// with a host and no query, fragment or credentials (user:password@), its
// scheme and host in lower case. nullopt when `text` is none. The API and
// `punt statement` both take it so, so the CLI prints what punt sends.
std::optional<std::string> NormalisePlatformUrl(std::string_view text);

// What a statement needs to know about the organisation it is sent for.
struct OrgSettings {
  std::string org_id;
  std::string platform_url;  // "https://acme.example"; a trailing '/' is ignored
  bool mbox_opt_in = false;  // identify users by mbox instead of account
};

// True when events of this type become statements (the learning events).
bool HasStatement(std::string_view event_type);

// The statement for `event`.
// REQUIRES: catalog::Validate(event) is empty and HasStatement(event type).
// Statements of both versions have the same shape: the version only changes
// the header they are sent with.
boost::json::object BuildStatement(const OrgSettings& org, const boost::json::value& event,
                                   Version version);

// BuildStatement as the exact bytes punt stores and sends.
std::string StatementJson(const OrgSettings& org, const boost::json::value& event,
                          Version version);

}  // namespace punt::xapi
