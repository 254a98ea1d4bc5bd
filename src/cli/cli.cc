#include "cli/cli.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <iostream>

#include "cli/commands.h"

namespace punt::cli {
namespace {

constexpr std::array kCommands = {
    Command{"serve", "run the service: HTTP API, ingest and delivery", RunServe},
    Command{"org", "create (admin key), show and change organisations", RunOrg},
    Command{"sub", "manage an organisation's subscriptions and see their deliveries", RunSub},
    Command{"emit", "post events from a file or standard input", RunEmit},
    Command{"delivery", "show one delivery with its attempts, or send it again", RunDelivery},
    Command{"statement", "print the xAPI statement punt would send for an event (stdin)",
            RunStatement},
    Command{"webhook-body", "print the webhook body punt would send for an event (stdin)",
            RunWebhookBody},
    Command{"webhook-sign", "print Standard Webhooks headers for a body (stdin)", RunWebhookSign},
    Command{"webhook-verify", "check Standard Webhooks headers against a body (stdin)",
            RunWebhookVerify},
    Command{"token", "print the xAPI Basic token for KEY SECRET, or normalise a pasted token",
            RunToken},
};

void PrintUsage(std::ostream& out) {
  out << "punt " << PUNT_VERSION
      << ": delivers a learning platform's events as webhooks and xAPI statements.\n\n"
         "Usage: punt COMMAND [OPTIONS]\n\nCommands:\n";
  for (const auto& c : kCommands) {
    out << "  " << c.name << std::string(16 - c.name.size(), ' ') << c.summary << "\n";
  }
  out << "\nRun `punt COMMAND --help` for a command's options; `punt --version` prints the "
         "version.\n";
}

}  // namespace

bool WantsHelp(Args args, std::initializer_list<std::string_view> value_flags) {
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--") return false;  // what follows is not an option: "-h" may be a secret
    if (arg == "-h" || arg == "--help") return true;
    if (std::find(value_flags.begin(), value_flags.end(), arg) != value_flags.end()) ++i;
  }
  return false;
}

int Main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    // Without a command it is a usage error: the usage goes to stderr, as for
    // an unknown command, so that nothing lands in a pipe's stdout.
    PrintUsage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::cout << "punt " << PUNT_VERSION << "\n";
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name == argv[1]) return c.run(Args(argv + 2, argv + argc));
  }
  std::cerr << "punt: unknown command '" << argv[1] << "'\n\n";
  PrintUsage(std::cerr);
  return 2;
}

}  // namespace punt::cli
