#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "xapi/token.h"

namespace punt::cli {
namespace {

constexpr const char* kUsage =
    "Usage: punt token [--] KEY SECRET\n"
    "       punt token --normalise [--] TOKEN\n\n"
    "Prints the xAPI Basic auth token: base64(KEY:SECRET) in the standard\n"
    "alphabet with padding (RFC 7617), as punt sends it after \"Basic \".\n"
    "A bad key, secret or token prints the reason to stderr and exits 2.\n"
    "After --, every argument is KEY, SECRET or TOKEN, even one starting with --.\n\n"
    "Options:\n"
    "  --normalise TOKEN   re-encode a pasted token (\"Basic \" prefix, URL-safe\n"
    "                      alphabet and missing padding are accepted); also --normalize\n";

int Fail(std::string_view message) {
  std::cerr << "punt token: " << message << "\n";
  return 2;
}

}  // namespace

int RunToken(Args args) {
  if (WantsHelp(args)) {
    std::cout << kUsage;
    return 0;
  }
  std::string error;
  auto flags = ParseFlags(std::vector<std::string>(args.begin(), args.end()), {},
                          {"--normalise", "--normalize"}, &error);
  if (!flags) return Fail(error + "\n\n" + kUsage);
  const std::vector<std::string>& positional = flags->positional;
  const bool normalise = !flags->switches.empty();
  if (positional.size() != (normalise ? 1u : 2u)) {
    return Fail(std::string("wrong number of arguments\n\n") + kUsage);
  }
  auto result = normalise ? xapi::NormaliseToken(positional[0])
                          : xapi::TokenFromKeySecret(positional[0], positional[1]);
  if (const auto* error = std::get_if<xapi::TokenError>(&result)) return Fail(error->message);
  std::cout << std::get<xapi::NormalisedToken>(result).header_value << "\n";
  return 0;
}

}  // namespace punt::cli
