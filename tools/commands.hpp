// tools/commands.hpp: the subcommands of `carbonkube`, one file each
// (tools/cmd_*.cpp or cli.cpp for `score`). cli.cpp dispatches through
// kCommands. A command throws UsageError for bad arguments (exit 2 with the
// usage), carbonkube::Error for bad input (exit 2), and returns its exit code.
#pragma once

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/signals.hpp"

namespace carbonkube::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The input limits of this run (--max-input-bytes, --max-objects,
/// --max-depth, taken out of args before the command runs). Commands pass
/// them to read_file and every parser.
const ParseLimits& input_limits();
/// SignalLoadOptions{} with input_limits().
SignalLoadOptions limited_signal_options();

/// Walks a command's arguments, args[0] (the command) skipped: each flag in
/// turn, value() taking the next argument as the flag's value.
class ArgReader {
 public:
  explicit ArgReader(const std::vector<std::string>& args) : args_(args) {}
  /// Moves to the next flag; false past the end.
  bool next() { return ++i_ < args_.size(); }
  const std::string& flag() const { return args_[i_]; }
  /// The flag's value; UsageError "FLAG needs a value" when none follows.
  const std::string& value() {
    if (i_ + 1 >= args_.size()) throw UsageError(flag() + " needs a value");
    return args_[++i_];
  }
  /// The next argument when it is not a flag (for flags taking several
  /// values), else nullptr.
  const std::string* more_values() {
    if (i_ + 1 >= args_.size() || args_[i_ + 1].starts_with("--")) return nullptr;
    return &args_[++i_];
  }

 private:
  const std::vector<std::string>& args_;
  std::size_t i_ = 0;
};

// args[0] is the command's own name.
using CommandFn = int (*)(const std::vector<std::string>& args, std::ostream& out,
                          std::ostream& err);

struct Command {
  const char* name;
  const char* usage;  // indented usage block, printed by `carbonkube help`
  CommandFn run;
};

int score(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
extern const char* const kScoreUsage;
int evaluate_allocator(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
extern const char* const kEvaluateAllocatorUsage;
int forecast(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
extern const char* const kForecastUsage;
int plan(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
extern const char* const kPlanUsage;
int simulate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);
extern const char* const kSimulateUsage;

}  // namespace carbonkube::cli
