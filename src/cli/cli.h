// The `punt` command line: dispatches to one command per verb.
#pragma once

namespace punt::cli {

// Runs the command named by argv[1]; returns the process exit status.
int Main(int argc, char** argv);

}  // namespace punt::cli
