// carbonkube/usage_model.hpp: what the allocator is evaluated against.
// (1) A seeded workload-usage generator: CPU demand with diurnal and weekly
// cycles, autocorrelated noise, Poisson bursts and a step change; memory
// working set that follows load plus a slow leak that a restart clears.
// (2) An explicit model of what an allocation does to a workload over one
// step: CPU throttling (CFS quota = request x limit ratio), latency from an
// M/M/1-style queue (latency / SLO latency = (1 - u_slo) / (1 - u)), OOM kills
// when the working set passes the memory limit, and energy and carbon from
// Cloud Carbon Footprint's coefficients (idle share per allocated core,
// dynamic power per busy core, power per GiB allocated, PUE).
//
// Used by the replay driver (replay.hpp), the tests and the benchmarks. Pure
// functions and small value types; deterministic under a seed (own
// splitmix64, no std:: distributions, so results match across platforms).
// See docs/allocator.md for the model and its limits.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/carbon_adjustment.hpp"
#include "carbonkube/recommender.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

struct WorkloadShape {
  std::string name = "workload";
  std::string zone;  // grid zone id of the node it runs on
  SlaTier tier = SlaTier::kStandard;
  double cpu_base_cores = 1.0;         // mean CPU demand before cycles
  double cpu_diurnal_amplitude = 0.5;  // 0..0.95: demand x (1 + a cos(2 pi (h - peak) / 24))
  double peak_hour_utc = 15.0;
  double cpu_weekend_dip = 0.2;        // 0..0.95: Saturday and Sunday x (1 - dip)
  double cpu_noise = 0.15;             // log-normal sigma of the noise
  double noise_autocorrelation = 0.8;  // AR(1) coefficient per step, 0..0.999
  double burst_rate_per_day = 1.0;     // Poisson
  double burst_multiplier = 2.0;       // >= 1
  double burst_duration_seconds = 1800.0;
  double step_change_day = -1.0;  // day (from the start) of a lasting change; < 0: none
  double step_change_factor = 1.5;
  double memory_base_bytes = 1.0 * kGiB;
  double memory_per_core_bytes = 0.5 * kGiB;  // working set per core of demand
  double memory_noise = 0.03;                 // relative sigma
  double leak_bytes_per_hour = 0.0;           // grows until a restart (OOM kill)

  /// Throws InvalidInput naming the workload and the field.
  void validate() const;
};

struct UsageSample {
  std::int64_t unix_seconds = 0;
  double cpu_cores = 0.0;     // demand over the step
  double memory_bytes = 0.0;  // working set at the end of the step
};

/// Demand of one workload, one step at a time. next() allocates nothing.
class UsageGenerator {
 public:
  /// Validates the shape; step_seconds > 0.
  UsageGenerator(WorkloadShape shape, std::uint64_t seed, std::int64_t start_unix_seconds,
                 std::int64_t step_seconds);
  /// The demand over [t, t + step) where t is the current time; then advances.
  UsageSample next() noexcept;
  /// The container restarted (OOM kill): the leak starts over.
  void restart() noexcept;
  const WorkloadShape& shape() const { return shape_; }
  std::int64_t now() const { return t_; }

 private:
  double normal() noexcept;
  WorkloadShape shape_;
  std::uint64_t rng_;
  std::int64_t start_;
  std::int64_t t_;
  std::int64_t step_;
  double log_noise_ = 0.0;
  std::int64_t burst_until_ = 0;
  std::int64_t last_restart_;
};

/// A seeded fleet of `count` varied workloads spread round-robin over
/// `zones` (at least one), tiers in turn critical / standard / best-effort;
/// about a quarter leak memory and a quarter change level once.
std::vector<WorkloadShape> generate_fleet(int count, std::uint64_t seed,
                                          std::span<const std::string> zones);

// ---------------------------------------------------------------------------
// What an allocation does over one step

struct OutcomeModelConfig {
  /// CPU limit = request x this (1.0: CFS quota at the request, as for a
  /// Guaranteed pod).
  double cpu_limit_ratio = 1.0;
  /// The SLO holds while utilisation demand / limit <= this (the latency
  /// ratio (1 - u_slo) / (1 - u) is then <= 1).
  double slo_utilization = 0.9;
  /// Latency ratio reported when saturated (u >= 1).
  double saturated_latency_ratio = 10.0;
  // Cloud Carbon Footprint (cloudcarbonfootprint.org, methodology): AWS
  // average min 0.74 W and max 3.5 W per vCPU, 0.392 W per GB of memory, and
  // AWS's PUE 1.135. Allocated cores pay the idle share, busy cores the rest.
  double idle_watts_per_core = 0.74;
  double busy_watts_per_core = 3.5 - 0.74;
  double watts_per_gib = 0.392;
  double pue = 1.135;

  void validate(std::string_view source = "OutcomeModelConfig") const;
};

struct StepOutcome {
  double served_cpu_cores = 0.0;    // min(demand, limit): what the container used
  double throttled_fraction = 0.0;  // (demand - served) / demand
  double latency_ratio = 0.0;       // latency / SLO latency
  bool slo_violated = false;        // latency ratio > 1, or an OOM kill in the step
  bool oom_killed = false;          // working set > memory request (= limit)
  double cpu_slack_fraction = 0.0;  // (request - served) / request
  double memory_slack_fraction = 0.0;
  double energy_wh = 0.0;
  double gco2 = 0.0;  // energy x intensity (0 when the intensity is unknown)
};

/// One step of `seconds` with demand `usage` under `allocation` (requests)
/// at grid intensity g/kWh (NaN: unknown, no carbon counted). Non-finite or
/// negative inputs count as 0. Never throws, never allocates.
StepOutcome simulate_step(const UsageSample& usage, const ResourceAmounts& allocation,
                          double intensity_g_per_kwh, double seconds,
                          const OutcomeModelConfig& model) noexcept;

CARBONKUBE_NAMESPACE_END
