// One function per `punt` command. Each takes the arguments after its name
// and returns the process exit status: 0 success, 1 failure, 2 bad input or
// usage.
#pragma once

#include <initializer_list>
#include <span>
#include <string_view>

namespace punt::cli {

using Args = std::span<char* const>;

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `punt --help`
  int (*run)(Args args);
};

int RunServe(Args args);        // cmd_serve.cc
int RunOrg(Args args);          // cmd_client.cc
int RunSub(Args args);          // cmd_client.cc
int RunEmit(Args args);         // cmd_client.cc
int RunDelivery(Args args);     // cmd_client.cc
int RunStatement(Args args);    // cmd_statement.cc
int RunWebhookBody(Args args);  // cmd_webhook.cc
int RunWebhookSign(Args args);  // cmd_webhook.cc
int RunWebhookVerify(Args args);  // cmd_webhook.cc
int RunToken(Args args);        // cmd_token.cc

// True when args holds -h or --help as an argument of its own: not as the
// value of one of `value_flags` (`--id -h` gives the id "-h"), nor after "--".
bool WantsHelp(Args args, std::initializer_list<std::string_view> value_flags = {});

// Operator subcommands (cmd_operator.cc), dispatched by punt sub and punt
// delivery. REQUIRES: flags.positional holds the subcommand and an ID.
struct ClientOptions;
struct ParsedFlags;
int SubReplay(const ClientOptions& client, const ParsedFlags& flags);      // sub replay ID
int SubTest(const ClientOptions& client, const ParsedFlags& flags);        // sub test ID
int DeliveryRetry(const ClientOptions& client, const ParsedFlags& flags);  // delivery retry ID

}  // namespace punt::cli
