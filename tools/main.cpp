// The `carbonkube` command-line program.
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return carbonkube::cli::run(args, std::cout, std::cerr);
}
