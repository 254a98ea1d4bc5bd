// A small parser for "SUBCOMMAND [POSITIONAL...] [--flag value | --switch]".
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace punt::cli {

struct ParsedFlags {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;  // "--name" → value
  std::map<std::string, std::vector<std::string>> lists;  // repeatable "--secret" → values
  std::set<std::string> switches;             // "--mbox"

  std::optional<std::string> Get(const std::string& flag) const {
    auto it = values.find(flag);
    return it == values.end() ? std::nullopt : std::optional(it->second);
  }
};

// `value_flags` take a value, as "--flag value" or "--flag=value";
// `switch_flags` do not; after "--", every argument is positional. Anything
// else starting
// with "--", a value flag given twice, or one followed by another known flag
// instead of its value, is an error (returned in `error`). Those of
// `value_flags` also in `repeatable` may come more than once: their values
// go to `lists`, in order, instead of `values`.
std::optional<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                      const std::set<std::string>& value_flags,
                                      const std::set<std::string>& switch_flags, std::string* error,
                                      const std::set<std::string>& repeatable = {});

}  // namespace punt::cli
