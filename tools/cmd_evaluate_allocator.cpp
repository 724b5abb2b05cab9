// `carbonkube evaluate-allocator`: replays a seeded fleet of generated
// workloads on real carbon data under each allocation policy (fixed, VPA,
// VPA + the seed's carbon rule, Autopilot's moving window and ML ensemble,
// the RL optimizer)
// and prints the per-policy table with 95 % confidence intervals over seeds
// (include/carbonkube/replay.hpp, docs/allocator.md).
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/replay.hpp"
#include "carbonkube/signals.hpp"
#include "commands.hpp"

namespace carbonkube::cli {

const char* const kEvaluateAllocatorUsage =
    R"(  carbonkube evaluate-allocator [--signals FILE]... [--scope direct|lifecycle]
                   [--zones Z1,Z2,...] [--seeds N] [--first-seed S] [--workloads N]
                   [--days D] [--warmup-days D] [--policies P1,P2,...]
                   [--carbon-profile FILE] [--format table|json|csv] [--csv FILE]
                   [--decision-minutes M] [--rl-carbon-weight W] [--rl-slo-scale F]
                   [--rl-oom-scale F]
      Replays N seeds (default 10) of a generated fleet (default 24 workloads,
      14 days with 3 warm-up) on hourly carbon intensity under each policy
      (fixed, vpa, vpa-carbon, autopilot-window, autopilot-ml, rl) with the
      throttling / OOM / latency / carbon model of docs/allocator.md, and
      prints relative slack,
      OOM kills per container-day, throttled %, SLO-violation %, kgCO2,
      adjustments per day and regret against the best fixed multiplier, mean
      ±95% CI, then RL minus each baseline paired by seed. --signals:
      Electricity Maps portal CSVs (default: the four bundled files under
      data/carbon/electricitymaps/ of the current directory); --zones: the
      zones to spread workloads over (default: every zone loaded);
      --carbon-profile: a CarbonProfile whose carbonBudget thresholds the
      carbon rule and the RL use (default 300 / 100 gCO2/kWh). --csv FILE also
      writes the per-seed metrics. --decision-minutes: how often policies may
      resize (default 15); --rl-carbon-weight sets the RL reward's carbon
      weight (default 0.3), --rl-slo-scale scales its SLO and throttling
      weights, --rl-oom-scale its OOM weight (default 1).
)";

namespace {

int parse_int(const std::string& flag, const std::string& text, int lo, int hi) {
  int v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi)
    throw UsageError(
        fmt::format("{}: expected an integer in {}..{}, got \"{}\"", flag, lo, hi, text));
  return v;
}

double parse_number(const std::string& flag, const std::string& text) {
  double v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v) || v < 0.0)
    throw UsageError(fmt::format("{}: expected a number >= 0, got \"{}\"", flag, text));
  return v;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string part =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(part);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

int evaluate_allocator(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> signal_files;
  std::string scope = "lifecycle";
  std::vector<std::string> zones;
  int seeds = 10;
  int first_seed = 1;
  std::string format = "table";
  std::string csv_path;
  std::string profile_path;
  std::vector<PolicyKind> policies = all_policies();
  ReplayConfig config;
  for (ArgReader arg(args); arg.next();) {
    const std::string& k = arg.flag();
    auto value = [&]() -> const std::string& { return arg.value(); };
    if (k == "--signals") {
      signal_files.push_back(value());
    } else if (k == "--scope") {
      scope = value();
      if (scope != "direct" && scope != "lifecycle")
        throw UsageError(fmt::format("--scope: expected direct or lifecycle, got \"{}\"", scope));
    } else if (k == "--zones") {
      zones = split_commas(value());
    } else if (k == "--seeds") {
      seeds = parse_int(k, value(), 1, 1000);
    } else if (k == "--first-seed") {
      first_seed = parse_int(k, value(), 0, 1000000000);
    } else if (k == "--workloads") {
      config.workloads = parse_int(k, value(), 1, 10000);
    } else if (k == "--days") {
      config.days = parse_int(k, value(), 2, 300);
    } else if (k == "--warmup-days") {
      config.warmup_days = parse_int(k, value(), 0, 299);
    } else if (k == "--decision-minutes") {
      config.decision_seconds = 60 * static_cast<std::int64_t>(parse_int(k, value(), 5, 1440));
      if (config.decision_seconds % config.step_seconds != 0)
        throw UsageError("--decision-minutes: must be a multiple of 5");
    } else if (k == "--rl-carbon-weight") {
      const double w = parse_number(k, value());
      for (RewardWeights& rw : config.rl.weights) rw.carbon = w;
    } else if (k == "--rl-slo-scale") {
      const double f = parse_number(k, value());
      for (RewardWeights& rw : config.rl.weights) {
        rw.slo *= f;
        rw.throttle *= f;
      }
    } else if (k == "--rl-oom-scale") {
      const double f = parse_number(k, value());
      for (RewardWeights& rw : config.rl.weights) rw.oom *= f;
    } else if (k == "--policies") {
      policies.clear();
      for (const std::string& p : split_commas(value())) policies.push_back(parse_policy_kind(p));
      if (policies.empty()) throw UsageError("--policies: no policy given");
    } else if (k == "--carbon-profile") {
      profile_path = value();
    } else if (k == "--format") {
      format = value();
      if (format != "table" && format != "json" && format != "csv")
        throw UsageError(fmt::format("--format: expected table, json or csv, got \"{}\"", format));
    } else if (k == "--csv") {
      csv_path = value();
    } else {
      throw UsageError(fmt::format("evaluate-allocator: unknown option \"{}\"", k));
    }
  }
  if (config.warmup_days >= config.days)
    throw UsageError(fmt::format("--warmup-days ({}) must be less than --days ({})",
                                 config.warmup_days, config.days));
  if (signal_files.empty()) {
    for (const char* f : {"US-CAL-CISO_2023_hourly.csv", "ES_2023_hourly.csv", "NO_2023_hourly.csv",
                          "BR_2023_hourly.csv"}) {
      const std::string path = std::string("data/carbon/electricitymaps/") + f;
      if (std::filesystem::exists(path)) signal_files.push_back(path);
    }
    if (signal_files.empty())
      throw UsageError(
          "no --signals given and data/carbon/electricitymaps/ is not under the current "
          "directory");
  }
  CarbonSignals signals;
  const IntensityScope sc =
      scope == "direct" ? IntensityScope::kDirect : IntensityScope::kLifecycle;
  for (const std::string& path : signal_files)
    signals.add(load_electricitymaps_csv(read_file(path, input_limits()), path, sc,
                                         limited_signal_options())
                    .series);
  if (zones.empty())
    for (const auto& [zone, series] : signals.all()) zones.push_back(zone);
  if (!profile_path.empty()) {
    const CarbonProfile profile =
        parse_carbon_profile(read_file(profile_path, input_limits()), profile_path, input_limits());
    config.carbon = CarbonAdjustmentConfig::from_profile(profile);
  }
  config.signal_policy.kind = make_intensity_kind(IntensityBasis::kAverage, sc);
  err << fmt::format("evaluate-allocator: {} seeds from {}, {} workloads, {} days, zones {}\n",
                     seeds, first_seed, config.workloads, config.days, fmt::join(zones, ","));
  const Evaluation ev = evaluate_allocators(signals, zones, policies,
                                            static_cast<std::uint64_t>(first_seed), seeds, config);
  if (format == "table")
    out << format_evaluation_table(ev);
  else if (format == "json")
    out << evaluation_to_json(ev) << "\n";
  else
    out << evaluation_to_csv(ev);
  if (!csv_path.empty()) {
    std::ofstream f(csv_path);
    if (!f) throw Error(ErrorKind::kIo, fmt::format("--csv: cannot write {}", csv_path));
    f << evaluation_to_csv(ev);
  }
  return 0;
}

}  // namespace carbonkube::cli
