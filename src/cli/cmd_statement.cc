#include <cstring>
#include <iostream>
#include <set>
#include <string>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "cli/event_input.h"
#include "cli/flags.h"
#include "xapi/statement.h"

namespace punt::cli {
namespace {

constexpr const char* kUsage =
    "Usage: punt statement [OPTIONS] < event.json\n\n"
    "Prints the xAPI statement punt would send for the event on standard input.\n"
    "Bad input prints every problem to stderr and exits 2.\n\n"
    "Options:\n"
    "  --xapi-version V    1.0.3 (default) or 2.0.0\n"
    "  --org-id ID         the organisation the event belongs to (default: demo)\n"
    "  --platform-url URL  the organisation's platform URL\n"
    "                      (default: https://learning.example.com)\n"
    "  --mbox              identify the user by email (mbox) instead of account\n";

}  // namespace

int RunStatement(Args args) {
  if (WantsHelp(args, {"--xapi-version", "--org-id", "--platform-url"})) {
    std::cout << kUsage;
    return 0;
  }
  std::string error;
  auto flags = ParseFlags(std::vector<std::string>(args.begin(), args.end()),
                          {"--xapi-version", "--org-id", "--platform-url"}, {"--mbox"}, &error);
  if (flags && !flags->positional.empty())
    error = "unexpected argument '" + flags->positional[0] + "'";
  if (!flags || !error.empty()) {
    std::cerr << "punt statement: " << error << "\n\n" << kUsage;
    return 2;
  }
  xapi::OrgSettings org{flags->Get("--org-id").value_or("demo"),
                        flags->Get("--platform-url").value_or("https://learning.example.com"),
                        flags->switches.count("--mbox") > 0};
  xapi::Version version = xapi::Version::k1_0_3;
  if (auto text = flags->Get("--xapi-version")) {
    auto parsed = xapi::ParseVersion(*text);
    if (!parsed) {
      std::cerr << "punt statement: --xapi-version must be 1.0.3 or 2.0.0\n";
      return 2;
    }
    version = *parsed;
  }
  // As the API keeps it (POST /v1/orgs), so the statement is the one punt sends.
  auto platform_url = xapi::NormalisePlatformUrl(org.platform_url);
  if (!platform_url) {
    std::cerr << "punt statement: --platform-url must be an http(s) URL, without a query, "
                 "fragment or credentials\n";
    return 2;
  }
  org.platform_url = std::move(*platform_url);
  auto text = ReadInput("statement", "", std::cerr);
  if (!text) return 2;
  auto event = ReadEvent(*text, std::cerr);
  if (!event) return 2;
  std::string_view type = event->at("type").as_string();
  if (!xapi::HasStatement(type)) {
    std::cerr << "punt statement: " << type
              << " events have no xAPI statement; only learning events are sent to an LRS\n";
    return 2;
  }
  std::cout << xapi::StatementJson(org, *event, version) << "\n";
  return 0;
}

}  // namespace punt::cli
