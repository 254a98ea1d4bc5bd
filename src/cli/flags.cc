#include "cli/flags.h"

namespace punt::cli {

std::optional<ParsedFlags> ParseFlags(const std::vector<std::string>& args,
                                      const std::set<std::string>& value_flags,
                                      const std::set<std::string>& switch_flags, std::string* error,
                                      const std::set<std::string>& repeatable) {
  ParsedFlags parsed;
  auto take = [&](const std::string& flag, std::string value) {
    if (repeatable.count(flag)) {
      parsed.lists[flag].push_back(std::move(value));
      return true;
    }
    if (parsed.values.emplace(flag, std::move(value)).second) return true;
    *error = flag + " given twice";
    return false;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {  // the end of the options: a secret may start with "--"
      parsed.positional.insert(parsed.positional.end(), args.begin() + i + 1, args.end());
      break;
    }
    if (size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      // --flag=value, as most command lines take it, is --flag value.
      std::string flag = arg.substr(0, eq);
      if (switch_flags.count(flag)) {
        *error = flag + " takes no value";
        return std::nullopt;
      }
      if (!value_flags.count(flag)) {
        *error = "unknown option " + flag;
        return std::nullopt;
      }
      if (!take(flag, arg.substr(eq + 1))) return std::nullopt;
    } else if (!arg.starts_with("--")) {
      parsed.positional.push_back(arg);
    } else if (switch_flags.count(arg)) {
      parsed.switches.insert(arg);
    } else if (value_flags.count(arg)) {
      // `--token --disabled` lacks the token; it does not mean the token "--disabled".
      if (i + 1 >= args.size() || value_flags.count(args[i + 1]) ||
          switch_flags.count(args[i + 1])) {
        *error = arg + " needs a value";
        return std::nullopt;
      }
      // Refused rather than last-wins: `--events a --events b` meant both.
      if (!take(arg, args[++i])) return std::nullopt;
    } else {
      *error = "unknown option " + arg;
      return std::nullopt;
    }
  }
  return parsed;
}

}  // namespace punt::cli
