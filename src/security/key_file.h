// Private key files in the data directory, shared by the master key (sealer.h)
// and the admin key (api_keys.h). Thread-safe: no shared state; safe against a
// second process starting at the same time on the same directory.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace punt::security {

struct KeyFileContents {
  std::string text;  // the file's contents, leading/trailing whitespace trimmed
  bool created;      // true if this call wrote the file
};

// Creates `dir` (mode 0700, parents as needed) if missing. If `dir`/`name`
// exists, returns its trimmed contents; it must be a regular file, not
// readable or writable by group or others (else an error telling the operator
// to chmod 600) and not empty. Otherwise writes make() plus a newline to a
// mode-0600 temporary file, fsyncs it and links it into place without
// replacing anything (so no reader ever sees a partial file; if another
// process won the race, its file is read instead). Returns nullopt with
// `*error` set on failure; error messages never contain the file's contents.
std::optional<KeyFileContents> ReadOrCreateKeyFile(const std::filesystem::path& dir,
                                                   std::string_view name,
                                                   const std::function<std::string()>& make,
                                                   std::string* error);

// `text` without leading and trailing ASCII whitespace.
std::string_view TrimWhitespace(std::string_view text);

}  // namespace punt::security
