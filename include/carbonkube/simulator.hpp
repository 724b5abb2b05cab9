// carbonkube/simulator.hpp: the trace-driven simulator. It replays a batch
// workload trace (workload_trace.hpp) on a cluster of nodes in several grid
// zones and measures, for each scheduling policy, the emissions, energy,
// waiting and deadline misses, scoring every job on the zones' actual
// intensity. The policies are configurations of one code path, and they run
// the engine's own code: the temporal planner and its rolling forecasts
// (planner.hpp, forecast.hpp), the energy model's attribution (energy.hpp)
// and the planner's emissions integral.
//
// Model (docs/results.md): jobs are taken in arrival order; each decides its
// zone, node and start once, at arrival, and reserves its vCPUs on that node
// for the hours it runs (hourly resolution: a job holds its node from the
// start of the hour it starts in to the end of the hour it ends in; emissions
// and energy use its exact start and run time). A job that finds no node
// with room waits for the next hour. Non-interruptible jobs only.
//
// Every node choice is a cycle of the engine's Scheduler (scheduler.hpp) on
// a ClusterSnapshot of the simulated nodes (simulator_nodes), with the
// policy's profile (simulator_profile) and, for carbon-aware placement,
// ClusterConditions built from the signals once per hour of simulated time.
// A node's cpu usage in the snapshot is its peak reservation over the
// candidate's hours: one bound "occupancy" pod per node, upserted only when
// that peak changes, and the next snapshot published copy-on-write.
//
// Who calls it: `carbonkube simulate` (tools/cmd_simulate.cpp), the tests
// and bench/bench_simulator.cpp. Cold path: a Simulator is built once (grids,
// forecasts, job powers) and run() per policy; run() allocates its result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/energy.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/version.hpp"
#include "carbonkube/workload_trace.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// The simulator's default node: 64 vCPUs, Cloud Carbon Footprint's AWS
/// coefficients and PUE (energy.hpp), no memory or GPU term.
inline NodePowerModel default_sim_node() {
  NodePowerModel m;
  m.vcpus = 64;
  return m;
}

/// The nodes of one grid zone: `nodes` identical machines of `power.vcpus`
/// vCPUs each, with the energy model's coefficients and PUE.
struct ClusterZone {
  std::string zone;  // grid zone id; must be in the signals
  std::size_t nodes = 4;
  NodePowerModel power = default_sim_node();
};

enum class Placement : std::uint8_t {
  /// kube-scheduler's default profile (NodeResourcesFit LeastAllocated +
  /// NodeResourcesBalancedAllocation, weight 1 each) over every node of
  /// every zone: carbon-agnostic.
  kLeastAllocated,
  /// The same profile plus CarbonAwareScore at its documented weight (30,
  /// examples/config/katalyst-carbon-scheduler.yaml), run by the engine's
  /// Scheduler with ClusterConditions at the job's start: forecast-driven,
  /// the zones' intensity at that hour (what a scheduler reads); kPerfect:
  /// the pod carries carbon-kube.io/expected-runtime and the plugin
  /// (useForecast) scores the actual mean over the job's run.
  kCarbonAware,
};

/// The scheduler profile the simulator runs for a placement (see Placement).
Profile simulator_profile(Placement placement);
/// The simulated cluster as Kubernetes objects: per zone, `nodes` Nodes named
/// "<zone>-<k>" (k from 0) with topology.kubernetes.io/zone = the grid zone,
/// cpu = power.vcpus, and memory and pods that never bind a job.
std::vector<Node> simulator_nodes(std::span<const ClusterZone> zones);
/// The ZoneMap of those nodes: each zone label is its grid zone.
ZoneMap simulator_zone_map(std::span<const ClusterZone> zones);

/// A scheduling policy: one configuration of the simulator's code path.
struct SimPolicy {
  std::string name;
  Placement placement = Placement::kLeastAllocated;
  /// Temporal shifting: the planner picks the start within [arrival,
  /// arrival + length + slack) on the forecast of `model` (kPerfect: the
  /// actual intensity, the oracle). With kCarbonAware the planner picks the
  /// zone too (Planner::plan_across).
  bool shift = false;
  ForecastModel model = ForecastModel::kRidge;
  friend bool operator==(const SimPolicy&, const SimPolicy&) = default;
};

/// The seven policies of docs/results.md: baseline, carbon-placement,
/// temporal, temporal+placement (forecast-driven with `model`) and the
/// oracle of each shifting or carbon-aware one ("...-oracle").
std::vector<SimPolicy> standard_policies(ForecastModel model = ForecastModel::kRidge);
/// A policy by its name above; nullopt for an unknown name.
std::optional<SimPolicy> parse_policy(std::string_view name,
                                      ForecastModel model = ForecastModel::kRidge);
/// The index in `policies` of p's perfect-knowledge counterpart (same
/// placement and shift, kPerfect), or -1 (baseline, or an oracle itself).
int oracle_index(std::span<const SimPolicy> policies, const SimPolicy& p);

struct SimOptions {
  double slack_hours = 24;                      // deadline = arrival + length + slack
  std::int64_t forecast_every_seconds = 86400;  // forecasts issued at each UTC midnight
  std::size_t horizon_cells = 168;              // of one forecast, hours
  /// Hours a job may wait for room beyond its planned start; past it, run()
  /// throws InvalidInput naming the job (the cluster is too small).
  std::int64_t max_wait_hours = 24 * 60;
  bool record_jobs = false;  // fill PolicyResult::jobs_out (tests)
  /// The Scheduler's ties are broken at random under this seed (its
  /// ScoringContext's, as kube-scheduler does), the same way in every policy.
  std::uint64_t seed = 1;
};

struct JobOutcome {
  std::uint32_t zone = 0;
  std::uint32_t node = 0;  // within its zone
  std::int64_t start = 0;  // unix seconds
  std::int64_t end = 0;
  double kwh = 0;  // facility energy attributed to the job
  double g = 0;    // gCO2 on the actual intensity
};

struct ZoneResult {
  std::string zone;
  std::size_t jobs = 0;
  double energy_kwh = 0;  // jobs' facility energy
  double kg = 0;          // jobs' emissions
  double idle_kwh = 0;    // idle power of the unallocated vCPUs (kSeparate)
  double idle_kg = 0;
  double utilisation = 0;  // allocated vCPU-hours / capacity over the data
};

struct MonthResult {
  int year = 0;
  int month = 0;  // 1..12, of the job's start (UTC)
  std::size_t jobs = 0;
  double energy_kwh = 0;
  double kg = 0;
};

struct PolicyResult {
  SimPolicy policy;
  double slack_hours = 0;
  std::size_t jobs = 0;      // jobs run (each exactly once)
  std::size_t excluded = 0;  // trace jobs whose run at arrival ends past the data
  std::size_t planned = 0;   // jobs the planner placed (after the first forecast)
  double energy_kwh = 0;
  double kg = 0;  // jobs' emissions: the figure policies are compared on
  double idle_kwh = 0;
  double idle_kg = 0;
  std::size_t deadline_misses = 0;
  std::size_t capacity_waits = 0;  // jobs that did not get their first-choice slot
  std::size_t past_data_end = 0;   // runs scored on the padding past the data
  double mean_wait_hours = 0;      // start - arrival
  double p95_wait_hours = 0;
  double max_wait_hours = 0;
  double utilisation = 0;
  std::vector<ZoneResult> zones;
  std::vector<MonthResult> months;
  /// starts[z * hours + h]: jobs started in zone z during data hour h.
  std::vector<std::uint32_t> starts;
  std::vector<JobOutcome> jobs_out;  // when SimOptions::record_jobs
};

/// Percent of the baseline's kg that `r` saves.
double saving_percent(const PolicyResult& baseline, const PolicyResult& r);
/// r's saving as a fraction of its oracle's (nullopt when the oracle saves
/// nothing).
std::optional<double> oracle_fraction(const PolicyResult& baseline, const PolicyResult& r,
                                      const PolicyResult& oracle);

class Simulator {
 public:
  /// Resamples each zone's history onto one hourly grid over the span all
  /// zones cover; trace hour 0 is the grid's start. Throws InvalidInput for
  /// no zones, a zone missing from `signals` or listed twice, a zone with
  /// no nodes, a bad power model, no common span, an empty trace, or
  /// options out of range (slack < 0 or not finite, cadence not a positive
  /// multiple of an hour, horizon not 1..168, max_wait_hours < 1).
  Simulator(const CarbonSignals& signals, std::vector<ClusterZone> zones,
            std::vector<TraceJob> trace, SimOptions options = {});

  /// Replays the trace under `policy`; slack_hours overrides the options'.
  /// Forecasts are built on first use and kept (run() is not thread-safe).
  PolicyResult run(const SimPolicy& policy, std::optional<double> slack_hours = std::nullopt);

  /// Called after each job with (done, total); for a progress bar.
  void set_progress(std::function<void(std::size_t, std::size_t)> progress) {
    progress_ = std::move(progress);
  }

  std::span<const ClusterZone> zones() const { return zones_; }
  std::span<const HourlyGrid> grids() const { return grids_; }
  std::int64_t start() const { return grids_.front().start; }
  std::size_t hours() const { return grids_.front().size(); }
  const SimOptions& options() const { return options_; }
  /// The first forecast issue: jobs arriving before it run at arrival.
  std::int64_t first_issue() const { return first_issue_; }

 private:
  struct Job {
    std::int64_t arrival;
    std::int64_t duration;
    double cpus;
    std::int64_t milli;  // cpus in millicores, as the pod requests them
  };
  const std::vector<RollingForecast>& forecasts(ForecastModel model);

  std::vector<ClusterZone> zones_;
  SimOptions options_;
  std::vector<HourlyGrid> grids_;
  std::vector<IntensityCurve> actual_;  // the data, then padding (scoring only)
  CarbonSignals engine_signals_;        // actual_ as the conditions' signals
  std::vector<Job> jobs_;
  std::size_t excluded_ = 0;
  std::vector<std::vector<double>> power_kw_;  // [zone][job]
  std::int64_t first_issue_ = 0;
  std::map<ForecastModel, std::vector<RollingForecast>> forecasts_;
  std::function<void(std::size_t, std::size_t)> progress_;
};

CARBONKUBE_NAMESPACE_END
