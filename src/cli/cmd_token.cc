#include "cli/commands.h"
namespace punt::cli {
int RunToken(Args) { return 1; }
}  // namespace punt::cli
