#include "cli/api_client.h"

#include <curl/curl.h>

#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cstdlib>
#include <iostream>
#include <utility>

namespace punt::cli {
namespace {

size_t Collect(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

}  // namespace

std::optional<std::vector<std::string>> TakeClientOptions(Args args, ClientOptions& options,
                                                          std::string* error) {
  if (const char* v = std::getenv("PUNT_SERVER"); v && *v) options.server = v;
  if (const char* v = std::getenv("PUNT_API_KEY"); v && *v) options.key = v;
  std::vector<std::string> rest;
  bool server_given = false, key_given = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    // --server=URL and --key=KEY, as ParseFlags takes --flag=value.
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--server=") || arg.starts_with("--key=")) {
      size_t eq = arg.find('=');
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (inline_value) {
      if (std::exchange(arg == "--server" ? server_given : key_given, true)) {
        *error = std::string(arg) + " given twice";
        return std::nullopt;
      }
      (arg == "--server" ? options.server : options.key) = std::string(*inline_value);
    } else if (arg == "--server" || arg == "--key") {
      // No server URL or key starts with "--": that is the next option.
      if (i + 1 >= args.size() || std::string_view(args[i + 1]).starts_with("--")) {
        *error = std::string(arg) + " needs a value";
        return std::nullopt;
      }
      // As for every other option: a second value is a mistake, not the last word.
      if (std::exchange(arg == "--server" ? server_given : key_given, true)) {
        *error = std::string(arg) + " given twice";
        return std::nullopt;
      }
      (arg == "--server" ? options.server : options.key) = args[++i];
    } else {
      rest.emplace_back(arg);
    }
  }
  // Sent in a header line: a line end (a key file with CRLF, "$(cat key; echo)")
  // gave "400 malformed HTTP request", and could add a header of its own.
  for (unsigned char c : options.key) {
    if (c < 0x20 || c == 0x7f) {
      *error = "the API key (--key or PUNT_API_KEY) holds a control character, such as a line end";
      return std::nullopt;
    }
  }
  while (!options.server.empty() && options.server.back() == '/') options.server.pop_back();
  return rest;
}

std::string UrlEncoded(std::string_view text) {
  return boost::urls::encode(text, boost::urls::unreserved_chars);
}

ApiAnswer CallApi(const ClientOptions& options, std::string_view method, std::string_view path,
                  std::string_view body) {
  ApiAnswer answer;
  CURL* curl = curl_easy_init();
  std::string url = options.server + std::string(path);
  std::string method_text(method);
  curl_slist* headers = nullptr;
  std::string auth = "Authorization: Bearer " + options.key;
  if (!options.key.empty()) headers = curl_slist_append(headers, auth.c_str());
  if (!body.empty()) headers = curl_slist_append(headers, "Content-Type: application/json");
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method_text.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // An ID of "." or ".." is sent as given, not folded into the path before it.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
  if (!body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  CURLcode code = curl_easy_perform(curl);
  if (code == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
  } else {
    answer.error = curl_easy_strerror(code);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return answer;
}

int Report(const ApiAnswer& answer, std::string_view command) {
  if (answer.status == 0) {
    std::cerr << "punt " << command << ": cannot reach the server: " << answer.error << "\n";
    return 1;
  }
  if (answer.status >= 200 && answer.status < 300) {
    if (!answer.body.empty()) std::cout << answer.body << "\n";
    return 0;
  }
  std::cerr << "punt " << command << ": the server answered " << answer.status;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(answer.body, ec);
  const boost::json::object* error = nullptr;
  if (!ec && parsed.is_object()) {
    if (auto* e = parsed.as_object().if_contains("error"); e && e->is_object()) {
      error = &e->as_object();
    }
  }
  if (!error) {
    std::cerr << "\n";
    if (!answer.body.empty()) std::cerr << answer.body << "\n";
    return 1;
  }
  if (auto* m = error->if_contains("message"); m && m->is_string()) {
    std::cerr << ": " << std::string_view(m->get_string());
  }
  std::cerr << "\n";
  if (auto* fields = error->if_contains("fields"); fields && fields->is_array()) {
    for (const auto& f : fields->get_array()) {
      if (!f.is_object()) continue;
      auto* path = f.as_object().if_contains("path");
      auto* message = f.as_object().if_contains("message");
      if (path && path->is_string() && message && message->is_string()) {
        // "" points at the whole body; shown as "/", as ReadEvent does.
        std::string_view where = path->get_string();
        std::cerr << "  " << (where.empty() ? "/" : where) << ": "
                  << std::string_view(message->get_string()) << "\n";
      }
    }
  }
  return 1;
}

}  // namespace punt::cli
