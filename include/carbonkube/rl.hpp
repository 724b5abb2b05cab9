// carbonkube/rl.hpp: the online optimizer that turns a carbon-adjusted
// target (carbon_adjustment.hpp) into the final allocation. Two discounted
// LinUCB contextual bandits (one for CPU, one for memory; Li et al. 2010 with
// the discounting of Russac et al. 2019's D-LinUCB) choose a multiplier on the
// carbon-adjusted target from a small set, given features of the workload
// (usage and tail usage relative to the target, throttling, OOM kills, SLO
// latency ratio), of the grid (carbon intensity now and forecast) and the
// time of day. The reward trades slack, throttling, OOM kills, SLO
// violations, carbon and churn, with weights per SLA tier.
//
// A safety shield masks unsafe multipliers before the choice: the allocation
// stays within [lowerBound, upperBound] of the base recommendation, memory
// never goes under the OOM floor (recent peak working set x headroom), a
// critical tier never goes below 1.0x, and one decision moves a multiplier by
// at most max_step_down / max_step_up. If nothing is safe, the allocation is
// clamped into the safe range.
//
// Deterministic under a seed (own splitmix64 generator, no std::
// distributions). Exploration is epsilon-greedy on top of the UCB argmax so
// every decision has a known propensity, logged with its features and, once
// update() is called, its reward: policies can be compared offline (IPS).
// save() / restore() use a versioned JSON format (format "carbonkube-rl",
// version 1). decide() and update() allocate nothing (the log is a fixed ring
// buffer) and do no string work. Not thread-safe: one optimizer per
// controller loop (it may serve many containers; see docs/allocator.md).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/carbon_adjustment.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/recommender.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

inline constexpr int kRlFeatureCount = 13;
using RlFeatures = std::array<double, kRlFeatureCount>;
/// Feature names, in order (for logs and docs).
const std::array<std::string_view, kRlFeatureCount>& rl_feature_names() noexcept;

/// What the optimizer sees at a decision, measured over the interval before
/// it. Ratios are relative to the carbon-adjusted target (the multiplier's
/// base), so 1.0 means "using exactly the target". NaN or infinite values are
/// replaced by neutral ones (documented per field); nothing here throws.
struct RlObservation {
  double cpu_usage_ratio = 1.0;     // mean CPU usage / CPU target; NaN -> 1
  double cpu_tail_ratio = 1.0;      // peak (or p95) CPU usage / CPU target; NaN -> 1
  double memory_usage_ratio = 1.0;  // mean working set / memory target; NaN -> 1
  double memory_tail_ratio = 1.0;   // peak working set / memory target; NaN -> 1
  double throttled_fraction = 0.0;  // 0..1; NaN -> 0
  double oom_kills = 0.0;           // count; NaN -> 0
  double slo_latency_ratio = 0.0;   // latency / SLO latency (1 = at the SLO); NaN -> 0
  /// Seasonal-naive forecast: peak CPU usage over the coming interval one
  /// day earlier / CPU target; NaN (no history) -> cpu_tail_ratio.
  double cpu_forecast_ratio = std::numeric_limits<double>::quiet_NaN();
  double intensity_g_per_kwh = std::numeric_limits<double>::quiet_NaN();  // NaN: unknown
  double forecast_g_per_kwh = std::numeric_limits<double>::quiet_NaN();   // NaN: unknown
  /// Normaliser for the two intensities (the CarbonProfile threshold).
  double threshold_g_per_kwh = 300.0;
  std::int64_t unix_seconds = 0;  // for the time of day (UTC)
};

/// The features: bias, the four usage ratios and throttling clipped to
/// [0, 3], min(OOM kills, 1), the SLO ratio and both intensities over the
/// threshold clipped to [0, 3] (unknown intensity: 1, the threshold), and the
/// sine and cosine of the time of day, and the seasonal-naive CPU forecast
/// ratio clipped to [0, 3] (unknown: the CPU tail ratio).
RlFeatures rl_features(const RlObservation& obs) noexcept;

struct RewardWeights {
  double slack = 1.0;     // per unit of mean relative slack (alloc - usage) / alloc
  double throttle = 3.0;  // per unit of throttled fraction
  double oom = 10.0;      // per OOM kill
  double slo = 4.0;       // per unit of SLO-violation fraction
  double carbon = 0.3;    // per unit of (intensity / threshold) x allocation / VPA target
  double churn = 0.2;     // per unit of |multiplier change|
};

struct ShieldConfig {
  double max_step_down = 0.2;  // a multiplier falls by at most this per decision
  double max_step_up = 0.5;    // and rises by at most this
  /// Memory never below the recent peak working set x this.
  double memory_oom_headroom = 1.1;
  double critical_min_multiplier = 1.0;
};

struct RlConfig {
  std::vector<double> cpu_multipliers{0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5};
  std::vector<double> memory_multipliers{0.7, 0.8, 0.9, 1.0, 1.1, 1.25};
  double alpha = 0.3;       // UCB width
  double ridge = 1.0;       // lambda of the ridge prior
  double discount = 0.998;  // gamma: per update of an arm
  double epsilon = 0.03;    // uniform exploration over the safe actions
  std::uint64_t seed = 1;
  ShieldConfig shield;
  /// Per SlaTier (critical, standard, best-effort).
  std::array<RewardWeights, 3> weights{
      RewardWeights{1.0, 6.0, 40.0, 7.5, 0.3, 0.3},
      RewardWeights{1.0, 3.0, 20.0, 3.0, 0.3, 0.3},
      RewardWeights{1.0, 1.5, 8.0, 0.75, 0.3, 0.3},
  };
  std::size_t log_capacity = 4096;

  /// Throws InvalidInput naming the field: 1..32 finite positive multipliers
  /// per resource, strictly increasing; alpha, ridge, epsilon finite (ridge >
  /// 0, epsilon in 0..1), discount in (0, 1]; shield steps > 0, headroom >= 1;
  /// weights finite and >= 0; log_capacity >= 1.
  void validate(std::string_view source = "RlConfig") const;
};

/// One decision's inputs.
struct AllocationContext {
  Recommendation base;        // lowerBound / upperBound bound the result
  ResourceAmounts adjusted;   // the carbon-adjusted target: the multipliers' base
  ResourceAmounts sla_floor;  // SlaRequirements::floor(base.target)
  SlaTier tier = SlaTier::kStandard;
  /// Recent peak working set (bytes); memory stays >= this x headroom.
  double memory_peak_bytes = 0.0;
  /// The multipliers in force now (1.0 at the start).
  double previous_cpu_multiplier = 1.0;
  double previous_memory_multiplier = 1.0;
  RlObservation observation;
};

struct AllocationDecision {
  ResourceAmounts resources;  // the allocation to apply (requests)
  double cpu_multiplier = 1.0;
  double memory_multiplier = 1.0;
  int cpu_action = -1;
  int memory_action = -1;
  double cpu_propensity = 1.0;  // probability the policy had of this action
  double memory_propensity = 1.0;
  std::uint32_t cpu_safe_mask = 0;  // bit a: action a passed the shield
  std::uint32_t memory_safe_mask = 0;
  /// Nothing was safe for that resource: the result was clamped into range.
  bool cpu_clamped = false;
  bool memory_clamped = false;
  bool explored = false;  // an epsilon draw (either head)
  SlaTier tier = SlaTier::kStandard;
  double carbon_term = 1.0;  // intensity / threshold used in the reward
  double cpu_change = 0.0;   // |multiplier - previous multiplier|, for the churn term
  /// resources / base.target (the VPA target), for the carbon term: the
  /// carbon the allocation holds relative to the uncorrected recommendation.
  double cpu_target_ratio = 1.0;
  double memory_target_ratio = 1.0;
  double memory_change = 0.0;
  std::uint64_t id = 0;  // index into the decision log
  RlFeatures features{};
};

/// What happened over the interval after a decision.
struct AllocationOutcome {
  double cpu_slack_fraction = 0.0;     // mean (alloc - usage) / alloc, >= 0
  double memory_slack_fraction = 0.0;  // same for memory
  double throttled_fraction = 0.0;     // 0..1
  double oom_kills = 0.0;
  double slo_violation_fraction = 0.0;  // 0..1
};

struct DecisionLogEntry {
  std::uint64_t id = 0;
  std::int64_t unix_seconds = 0;
  std::uint8_t head = 0;  // 0 cpu, 1 memory
  int action = -1;
  double multiplier = 1.0;
  double propensity = 1.0;
  std::uint32_t safe_mask = 0;
  double reward = std::numeric_limits<double>::quiet_NaN();  // NaN until update()
  RlFeatures features{};
};

/// One discounted LinUCB bandit over up to 32 actions (exposed for tests and
/// offline use). Arms are disjoint linear models r = theta_a . x.
class LinUcbBandit {
 public:
  LinUcbBandit(int actions, double ridge, double discount);
  int actions() const { return actions_; }
  /// UCB score theta_a . x + alpha sqrt(x' A_a^-1 x).
  double score(int action, const RlFeatures& x, double alpha) const noexcept;
  double predict(int action, const RlFeatures& x) const noexcept;
  /// The best allowed action by UCB (lowest index on ties); -1 if mask is 0.
  int best(const RlFeatures& x, double alpha, std::uint32_t mask) const noexcept;
  /// A_a = gamma A_a + (1 - gamma) ridge I + x x'; b_a = gamma b_a + r x.
  void update(int action, const RlFeatures& x, double reward) noexcept;
  std::uint64_t pulls(int action) const { return pulls_[static_cast<std::size_t>(action)]; }

  // Raw state for save/restore: per arm A (row-major d x d) then b (d).
  const std::vector<double>& a_matrices() const { return a_; }
  const std::vector<double>& b_vectors() const { return b_; }
  void set_state(std::vector<double> a, std::vector<double> b, std::vector<std::uint64_t> pulls);

 private:
  void refresh(int action) noexcept;
  int actions_;
  double ridge_;
  double discount_;
  std::vector<double> a_;      // actions x d x d
  std::vector<double> chol_;   // actions x d x d: L^-1, L the Cholesky factor of A = L L'
  std::vector<double> b_;      // actions x d
  std::vector<double> theta_;  // actions x d
  std::vector<std::uint64_t> pulls_;
};

class RlOptimizer {
 public:
  /// Validates the config (throws InvalidInput).
  explicit RlOptimizer(RlConfig config = {});
  ~RlOptimizer();
  RlOptimizer(RlOptimizer&&) noexcept;
  RlOptimizer& operator=(RlOptimizer&&) noexcept;
  RlOptimizer(const RlOptimizer&);
  RlOptimizer& operator=(const RlOptimizer&);

  /// Chooses the allocation. Non-finite or negative context values are
  /// treated as 0 (bounds) or neutral (observation); never throws.
  AllocationDecision decide(const AllocationContext& ctx) noexcept;
  /// Learns from what followed a decision returned by decide() (of this
  /// optimizer). Non-finite outcome fields count as 0. Returns the CPU and
  /// memory rewards.
  std::array<double, 2> update(const AllocationDecision& decision,
                               const AllocationOutcome& outcome) noexcept;

  /// The shield alone: bit a set when multipliers[a] x base is within
  /// [floor, upper], respects the tier minimum and the step bounds from
  /// `previous`. Exposed for tests and for other policies.
  static std::uint32_t shield_mask(const std::vector<double>& multipliers, double base,
                                   double floor, double upper, double previous, bool critical,
                                   const ShieldConfig& shield) noexcept;

  /// The reward each head would get (negated cost), as update() computes it.
  std::array<double, 2> rewards(const AllocationDecision& decision,
                                const AllocationOutcome& outcome) const noexcept;

  const RlConfig& config() const;
  const LinUcbBandit& cpu_bandit() const;
  const LinUcbBandit& memory_bandit() const;
  std::uint64_t decisions() const;
  /// The logged decisions, oldest first (at most log_capacity; cold path).
  std::vector<DecisionLogEntry> decision_log() const;

  /// Versioned JSON: {"format": "carbonkube-rl", "version": 1, "config",
  /// "bandits", "rng", "next_id", "baseline"}. The log is not saved.
  std::string save() const;
  /// Restores save()'s output: the restored optimizer then decides exactly
  /// as the saved one would have. Throws InvalidInput naming `source` and the
  /// field on another format or version, mismatched sizes or non-finite state.
  static RlOptimizer restore(std::string_view text, std::string_view source,
                             const ParseLimits& limits = {});

 private:
  struct State;
  std::unique_ptr<State> s_;
};

/// Inverse-propensity estimate of the mean reward `target` would have got on
/// the logged decisions of one head: mean over entries with a reward of
/// 1[target picks the logged action] x reward / propensity. `pick(features,
/// safe_mask)` returns the target policy's action. NaN when nothing is logged.
template <class Pick>
double ips_estimate(const std::vector<DecisionLogEntry>& log, std::uint8_t head, Pick&& pick) {
  double sum = 0.0;
  double n = 0.0;
  for (const DecisionLogEntry& e : log) {
    if (e.head != head || !(e.reward == e.reward) || e.propensity <= 0.0) continue;
    n += 1.0;
    if (pick(e.features, e.safe_mask) == e.action) sum += e.reward / e.propensity;
  }
  return n > 0.0 ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

CARBONKUBE_NAMESPACE_END
