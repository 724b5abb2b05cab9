// carbonkube/replay.hpp: the allocator evaluation. Replays a seeded fleet of
// generated workloads (usage_model.hpp) on real grid carbon intensity
// (signals.hpp) under each allocation policy, with the explicit throttling /
// OOM / latency / carbon model, and reports per policy: relative slack, OOM
// kills per container-day, throttled fraction, SLO-violation rate, carbon,
// adjustments per day, and regret against the best fixed multiplier in
// hindsight; over many seeds with 95 % confidence intervals and paired
// differences. `carbonkube evaluate-allocator` prints it; docs/allocator.md
// holds the results and the model.
//
// Policies:
// - fixed: the initial requests (a human's generous sizing), never changed;
// - vpa: the recommender's target, applied as VPA's updater would (current
//   requests outside [lowerBound, upperBound], a change > 10 %, or an OOM);
// - vpa-carbon: the same with the seed's fixed carbon rule on the target;
// - autopilot-window: Google Autopilot's moving-window recommender (CPU:
//   95th percentile of usage, 12 h half-life; memory: the peak of the last 24
//   h plus 10 %, bumped x1.2 on OOM);
// - autopilot-ml: our reading of Autopilot's ML recommender, a
//   cost-minimising ensemble: models with decay rates 1/12, 1/72 and 1/288
//   per step and margins 0 / 10 / 20 % each pick the limit minimising
//   w_o x (decayed fraction of samples above it) + w_u x (decayed relative
//   slack) + w_dL x [limit changes]; the ensemble takes the model whose own
//   decayed cost (plus w_dm for switching) is least. Weights are ours
//   (CPU w_o 5, memory w_o 20; w_u 0.2; w_dL, w_dm 0.1), not the paper's;
// - rl: the carbon-adjusted target through the RL optimizer (rl.hpp), one
//   optimizer per SLA tier shared by that tier's containers, learning online.
// Cold path: a whole evaluation allocates freely.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/carbon_adjustment.hpp"
#include "carbonkube/recommender.hpp"
#include "carbonkube/rl.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/usage_model.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

enum class PolicyKind : std::uint8_t {
  kFixed,
  kVpa,
  kVpaCarbon,
  kAutopilotWindow,
  kAutopilotMl,
  kRl,
};
/// "fixed", "vpa", "vpa-carbon", "autopilot-window", "autopilot-ml", "rl".
std::string_view to_string(PolicyKind kind) noexcept;
/// Parses the names above; throws InvalidInput listing them otherwise.
PolicyKind parse_policy_kind(std::string_view text);
/// Every policy, in the order above.
std::vector<PolicyKind> all_policies();

struct ReplayConfig {
  int workloads = 24;
  int days = 14;        // simulated days, warm-up included
  int warmup_days = 3;  // every policy runs the fixed requests; not measured
  std::int64_t step_seconds = 300;
  std::int64_t decision_seconds = 900;  // how often a policy may resize
  /// Start of seed s: first_start + ((s x 37) mod start_spread_days) days, so
  /// seeds see different seasons. The data must cover the whole run (and a
  /// day before it for the persistence forecast).
  std::int64_t first_start_unix_seconds = 1673136000;  // 2023-01-08T00:00:00Z
  int start_spread_days = 300;
  /// Initial (fixed) requests: the workload's peak diurnal demand x this, and
  /// its base memory x memory factor plus the memory per core at that peak.
  double fixed_cpu_factor = 1.3;
  double fixed_memory_factor = 1.5;
  /// The RL shield's OOM floor: the peak working set over this lookback.
  std::int64_t oom_floor_lookback_seconds = 24 * 3600;
  double vpa_update_threshold = 0.10;  // VPA updater: relative change that triggers
  double change_epsilon = 0.01;        // a resize counts as an adjustment above this
  RecommenderConfig recommender;
  CarbonAdjustmentConfig carbon;
  RlConfig rl;
  OutcomeModelConfig model;
  SignalPolicy signal_policy;  // which readings are usable (kind, staleness)

  /// Throws InvalidInput naming the field.
  void validate() const;
};

/// One policy's results on one seed (measured after the warm-up).
struct PolicyMetrics {
  PolicyKind policy = PolicyKind::kFixed;
  double relative_slack = 0.0;  // mean of CPU and memory slack
  double cpu_slack = 0.0;       // mean (request - used) / request over container-steps
  double memory_slack = 0.0;
  double ooms_per_container_day = 0.0;
  double throttled_fraction = 0.0;   // mean over container-steps
  double slo_violation_rate = 0.0;   // fraction of container-steps violating
  double kg_co2 = 0.0;               // the fleet, over the measured days
  double adjustments_per_day = 0.0;  // per container-day
  double cost = 0.0;                 // the RL reward's cost, per container-day
  double regret = 0.0;               // cost - best fixed multiplier's cost, per container-day
  /// Mean CPU request / VPA target over container-steps in dirty, neutral
  /// and green hours (the carbon rule's bands; NaN when there were none):
  /// where in time a policy puts its allocation.
  double cpu_ratio_dirty = 0.0;
  double cpu_ratio_neutral = 0.0;
  double cpu_ratio_green = 0.0;
  /// Fraction of measured container-steps in dirty and in green hours.
  double dirty_share = 0.0;
  double green_share = 0.0;
};

struct SeedResult {
  std::uint64_t seed = 0;
  std::int64_t start_unix_seconds = 0;
  std::vector<PolicyMetrics> policies;  // in the requested order
  double best_fixed_cost = 0.0;         // per container-day
  double best_fixed_cpu_multiplier = 1.0;
  double best_fixed_memory_multiplier = 1.0;
};

/// Replays one seed. `zones` are the grid zones workloads are spread over;
/// each must have a series in `signals`. Throws InvalidInput for an unknown
/// zone, a config error or data that does not cover the run.
SeedResult replay_seed(std::uint64_t seed, const CarbonSignals& signals,
                       std::span<const std::string> zones, std::span<const PolicyKind> policies,
                       const ReplayConfig& config);

struct Interval {
  double mean = 0.0;
  double low = 0.0;  // 95 % confidence interval (Student t)
  double high = 0.0;
};
/// Mean and 95 % CI of values (n >= 1; n == 1 gives a zero-width interval).
Interval confidence_interval(std::span<const double> values);

struct PolicySummary {
  PolicyKind policy = PolicyKind::kFixed;
  Interval relative_slack, cpu_slack, memory_slack, ooms_per_container_day, throttled_fraction,
      slo_violation_rate, kg_co2, adjustments_per_day, cost, regret, cpu_ratio_dirty,
      cpu_ratio_neutral, cpu_ratio_green, dirty_share, green_share;
};

/// RL minus the comparison policy, per seed, then the CI (negative is better
/// for RL on every metric here), and on how many seeds RL was strictly
/// better (lower) or no worse (<=).
struct PairedComparison {
  PolicyKind baseline = PolicyKind::kVpaCarbon;
  Interval relative_slack, kg_co2, ooms_per_container_day, slo_violation_rate;
  int seeds = 0;
  int slack_lower = 0, carbon_lower = 0, oom_no_higher = 0, slo_no_higher = 0;
  /// The bar on every seed: lower slack and carbon, OOM and SLO no higher.
  int bar_met = 0;
};

struct Evaluation {
  ReplayConfig config;
  std::vector<std::string> zones;
  std::vector<SeedResult> seeds;
  std::vector<PolicySummary> summary;
  std::vector<PairedComparison> paired;  // RL against each other policy present
};

/// replay_seed for seeds first_seed .. first_seed + seeds - 1, then the
/// summaries. seeds >= 1.
Evaluation evaluate_allocators(const CarbonSignals& signals, std::span<const std::string> zones,
                               std::span<const PolicyKind> policies, std::uint64_t first_seed,
                               int seeds, const ReplayConfig& config);

/// The summary as a fixed-width text table (one row per policy, mean ± CI
/// half-width) and the paired comparisons below it.
std::string format_evaluation_table(const Evaluation& evaluation);
/// Everything as JSON (config, per-seed metrics, summary, paired).
std::string evaluation_to_json(const Evaluation& evaluation);
/// Per-seed metrics as CSV: seed,policy,relative_slack,...
std::string evaluation_to_csv(const Evaluation& evaluation);

CARBONKUBE_NAMESPACE_END
