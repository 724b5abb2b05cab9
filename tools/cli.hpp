// tools/cli.hpp: the `carbonkube` command line as a function, so tests can
// run it in-process with captured streams. Exit codes: 0 success, 2 bad input
// or usage, 1 unexpected failure.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace carbonkube::cli {
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
}
