// carbonkube/allocator.hpp: the seed's CarbonAwareResourceAllocator, for
// real: base recommendation (recommender.hpp: a VPA-grade recommender fed
// with the workload's usage, or a recommendation from outside) -> the seed's
// carbon adjustment (carbon_adjustment.hpp) -> the RL optimizer (rl.hpp)
// behind its safety shield -> the allocation. Value in, value out: plain
// structs, so the C ABI and the Python binding
// (CarbonAwareResourceAllocator.calculate_optimal_allocation(workload_profile))
// wrap it directly.
//
// Callers: a controller loop that feeds metrics (add_usage, record_oom) and
// asks for allocations, then reports what followed (learn). Not thread-safe:
// one allocator per loop. Workloads are keyed by namespace/name/container
// (a map lookup per call: the per-sample work itself allocates nothing once
// a workload is known). See docs/allocator.md.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "carbonkube/carbon_adjustment.hpp"
#include "carbonkube/recommender.hpp"
#include "carbonkube/rl.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

struct AllocatorConfig {
  RecommenderConfig recommender;
  CarbonAdjustmentConfig carbon;
  RlConfig rl;
  /// false: stop after the carbon adjustment (the seed's fixed rule).
  bool use_rl = true;
  /// The memory OOM floor looks at the peak working set over this window.
  std::int64_t oom_floor_lookback_seconds = 24 * 3600;

  /// Thresholds from a CarbonProfile's carbonBudget.
  static AllocatorConfig from_profile(const CarbonProfile& profile);
  void validate() const;
};

/// What the caller knows about one workload at decision time.
struct WorkloadProfile {
  std::string namespace_name = "default";
  std::string name;
  std::string container = "main";
  SlaRequirements sla;
  /// Grid intensity where it runs, now and expected over the next hours
  /// (gCO2/kWh; NaN: unknown, the carbon step is then neutral).
  double intensity_g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  double forecast_g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  std::int64_t unix_seconds = 0;
  /// The workload's own carbon budget (its CarbonProfile's thresholds and
  /// factors) in place of AllocatorConfig::carbon; validated when given.
  std::optional<CarbonAdjustmentConfig> carbon_budget;
  /// A recommendation from outside (a VPA or KVPA status) to use as the
  /// base instead of the built-in recommender's.
  std::optional<Recommendation> external_recommendation;
  /// Usage over the last interval for the RL features (RlObservation);
  /// ratios are filled in from these against the carbon-adjusted target.
  double mean_cpu_cores = std::numeric_limits<double>::quiet_NaN();
  double peak_cpu_cores = std::numeric_limits<double>::quiet_NaN();
  double mean_memory_bytes = std::numeric_limits<double>::quiet_NaN();
  double peak_memory_bytes = std::numeric_limits<double>::quiet_NaN();
  double throttled_fraction = 0.0;
  double oom_kills = 0.0;
  double slo_latency_ratio = 0.0;
  /// Expected peak CPU over the coming interval (e.g. the same interval
  /// yesterday: a seasonal-naive forecast); NaN: unknown.
  double forecast_peak_cpu_cores = std::numeric_limits<double>::quiet_NaN();
};

struct ResourceAllocation {
  ResourceAmounts requests;  // what to apply
  Recommendation base;       // the base recommendation (KVPA fields)
  CarbonAdjusted carbon;     // after the seed's rule
  bool used_rl = false;
  AllocationDecision decision;  // valid when used_rl: pass it back to learn()
};

class CarbonAwareResourceAllocator {
 public:
  explicit CarbonAwareResourceAllocator(AllocatorConfig config = {});
  ~CarbonAwareResourceAllocator();
  CarbonAwareResourceAllocator(CarbonAwareResourceAllocator&&) noexcept;
  CarbonAwareResourceAllocator& operator=(CarbonAwareResourceAllocator&&) noexcept;

  /// One usage sample of a workload's container (InvalidInput for NaN,
  /// negative or out-of-order samples, naming the workload).
  void add_usage(std::string_view namespace_name, std::string_view name, std::string_view container,
                 std::int64_t unix_seconds, double cpu_cores, double cpu_request_cores,
                 double memory_bytes);
  /// An OOM kill; false if VPA's rule ignores it (older than the window).
  bool record_oom(std::string_view namespace_name, std::string_view name,
                  std::string_view container, std::int64_t unix_seconds,
                  double memory_request_bytes);

  /// Base -> carbon rule -> RL (when enabled and the base has data).
  /// Without usage history nor an external recommendation, the base is the
  /// recommender's empty answer (minimums, upper bound at the cap) and the RL
  /// is skipped. Throws InvalidInput for an empty name.
  ResourceAllocation calculate_optimal_allocation(const WorkloadProfile& profile);
  /// The same with the intensity and a 3-hour forecast mean taken from
  /// `signals` for `zone` at profile.unix_seconds (unusable data: NaN).
  ResourceAllocation calculate_optimal_allocation(const WorkloadProfile& profile,
                                                  const CarbonSignals& signals,
                                                  std::string_view zone,
                                                  const SignalPolicy& policy = {});
  /// What followed an allocation that used the RL; returns the rewards.
  std::array<double, 2> learn(const ResourceAllocation& allocation,
                              const AllocationOutcome& outcome);

  const AllocatorConfig& config() const;
  const RlOptimizer& optimizer() const;
  /// The recommender of a workload, or nullptr.
  const ContainerRecommender* recommender(std::string_view namespace_name, std::string_view name,
                                          std::string_view container) const;
  /// The RL state (RlOptimizer::save); restore_optimizer replaces it.
  std::string save_optimizer() const;
  void restore_optimizer(std::string_view text, std::string_view source,
                         const ParseLimits& limits = {});

 private:
  struct State;
  std::unique_ptr<State> s_;
};

CARBONKUBE_NAMESPACE_END
