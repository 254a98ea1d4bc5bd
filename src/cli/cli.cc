#include "cli/cli.h"

#include <iostream>

namespace punt::cli {

int Main(int, char**) {
  std::cout << "punt " << PUNT_VERSION << "\n";
  return 0;
}

}  // namespace punt::cli
