// The CLI's side of the HTTP API: `--server URL` (PUNT_SERVER) and `--key KEY`
// (PUNT_API_KEY), one blocking request per call (libcurl).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"

namespace punt::cli {

struct ClientOptions {
  std::string server = "http://127.0.0.1:8080";
  std::string key;
};

// Takes --server and --key out of `args` (after PUNT_SERVER and PUNT_API_KEY);
// the rest is returned in order. nullopt (with `error`) for a flag without a
// value, given twice, or a key holding a control character.
std::optional<std::vector<std::string>> TakeClientOptions(Args args, ClientOptions& options,
                                                          std::string* error);

struct ApiAnswer {
  long status = 0;    // 0: no answer
  std::string body;
  std::string error;  // transport error
};

// `text` with every byte but RFC 3986's unreserved ones (A-Z a-z 0-9 - . _ ~)
// percent-encoded: safe as a query value or an ID in a path, where '&', '#',
// '+', '/', '?', '%' and a space would otherwise split, cut or change it.
std::string UrlEncoded(std::string_view text);

ApiAnswer CallApi(const ClientOptions& options, std::string_view method, std::string_view path,
                  std::string_view body = {});

// Prints a 2xx answer's body to stdout (exit 0); otherwise the API's error
// with its field problems, or the transport error, to stderr (exit 1).
int Report(const ApiAnswer& answer, std::string_view command);

}  // namespace punt::cli
