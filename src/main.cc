#include "cli/cli.h"

int main(int argc, char** argv) { return punt::cli::Main(argc, argv); }
