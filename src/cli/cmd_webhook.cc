#include "cli/commands.h"
namespace punt::cli {
int RunWebhookBody(Args) { return 1; }
int RunWebhookSign(Args) { return 1; }
int RunWebhookVerify(Args) { return 1; }
}  // namespace punt::cli
