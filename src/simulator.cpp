// The trace-driven simulator (simulator.hpp): one code path, configured by
// the policy; the planner, forecasts and energy attribution are the engine's.
#include "carbonkube/simulator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <tuple>
#include <unordered_map>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;
// Ridge needs 8 days of lags; every model starts there so that all
// policies plan the same jobs.
constexpr std::int64_t kWarmupDays = 8;
constexpr std::size_t kPadRepeatCells = 168;
constexpr std::size_t kProgressEvery = 1024;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Civil (proleptic Gregorian) year and month of unix seconds (H. Hinnant's
// days-to-civil algorithm).
void civil_month(std::int64_t t, int& year, int& month) {
  const std::int64_t z = floor_div(t, kDay) + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int>(yoe + era * 400 + (m <= 2 ? 1 : 0));
  month = static_cast<int>(m);
}

constexpr std::int64_t kMilli = 1000;
// Node memory and pod slots that never bind: the trace has only CPUs.
constexpr std::string_view kNodeMemory = "1Ti";
constexpr std::string_view kNodePods = "1000";
constexpr std::string_view kSimNamespace = "carbonkube-sim";

// CarbonAwareScore at the seed profile's weight on top of kube-scheduler's
// defaults; useForecast lets the oracle's pods (with an expected runtime)
// be scored on the mean over their run. Pods without the annotation are
// scored on the intensity at the cycle's hour.
constexpr std::string_view kCarbonProfileYaml = R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      enabled:
      - name: CarbonAwareScore
        weight: 30
  pluginConfig:
  - name: CarbonAwareScore
    args:
      useForecast: true
)";

Quantity milli_quantity(std::int64_t milli) {
  Quantity q;
  q.nano = static_cast<Int128>(milli) * 1000000;
  return q;
}

// The simulated cluster in the engine: a ClusterState of the nodes, one
// bound occupancy pod per node carrying its peak reservation over the hours
// being decided, and one Scheduler cycle per decision. Decisions read the
// reservations, not only the pods running at that instant, because a
// shifted job holds its future hours from the moment it is planned.
class EngineCluster {
 public:
  EngineCluster(std::span<const ClusterZone> zones, const CarbonSignals& signals,
                Placement placement, bool perfect, std::uint64_t seed)
      : scheduler_(simulator_profile(placement)),
        zone_map_(simulator_zone_map(zones)),
        signals_(signals),
        carbon_(placement == Placement::kCarbonAware),
        perfect_(perfect),
        ctx_(seed) {
    for (const Node& n : simulator_nodes(zones)) {
      state_.upsert_node(n);
      Pod p;
      p.namespace_name = std::string(kSimNamespace);
      p.name = "occupancy-" + n.name;
      p.node_name = n.name;
      p.phase = PodPhase::kRunning;
      Container c;
      c.name = "reserved";
      c.requests.emplace_back("cpu", milli_quantity(0));
      p.containers.push_back(std::move(c));
      occupancy_.push_back(std::move(p));
    }
    for (const ClusterZone& z : zones) zone_names_.push_back(z.zone);
    published_.assign(occupancy_.size(), 0);
    snapshot_ = state_.publish();
  }

  // The node the Scheduler picks for a job of `milli` cpu starting at t for
  // `duration` seconds, on nodes whose reservations over its hours are
  // `peaks` (millicores per node), in zone `zone` (-1: any); -1 for none.
  long place(std::span<const std::int64_t> peaks, std::int64_t t, std::int64_t duration,
             std::int64_t milli, long zone) {
    sync(peaks);
    const CompiledPod& pod = compiled(milli, zone, perfect_ ? duration : 0);
    const ClusterConditions* cond = carbon_ ? &conditions(t) : nullptr;
    const CycleResult r = scheduler_.schedule(*snapshot_, pod, ctx_, cond);
    return r.selected ? static_cast<long>(*r.selected) : -1;
  }

 private:
  void sync(std::span<const std::int64_t> peaks) {
    bool changed = false;
    for (std::size_t n = 0; n < peaks.size(); ++n) {
      if (peaks[n] == published_[n]) continue;
      occupancy_[n].containers[0].requests[0].second = milli_quantity(peaks[n]);
      state_.upsert_pod(occupancy_[n]);
      published_[n] = peaks[n];
      changed = true;
    }
    if (changed) snapshot_ = state_.publish();
  }

  // Conditions for the hour of t, built once per hour; the nodes never
  // change, so a later snapshot's conditions differ only in the generation.
  const ClusterConditions& conditions(std::int64_t t) {
    const std::int64_t hour = floor_div(t, kHour) * kHour;
    if (hour != conditions_hour_) {
      conditions_ = ClusterConditions::build(*snapshot_, zone_map_, signals_, hour);
      conditions_hour_ = hour;
    }
    conditions_.snapshot_generation = snapshot_->generation();
    conditions_.now = t;  // the oracle's window starts at the job's start
    return conditions_;
  }

  const CompiledPod& compiled(std::int64_t milli, long zone, std::int64_t runtime) {
    const auto key = std::make_tuple(milli, zone, runtime);
    auto it = pods_.find(key);
    if (it != pods_.end()) return it->second;
    Pod p;
    p.namespace_name = std::string(kSimNamespace);
    p.name = fmt::format("job-{}m-{}-{}s", milli, zone, runtime);
    Container c;
    c.name = "job";
    c.requests.emplace_back("cpu", milli_quantity(milli));
    p.containers.push_back(std::move(c));
    if (zone >= 0)
      p.node_selector.emplace_back(std::string(kTopologyZoneLabel),
                                   zone_names_[static_cast<std::size_t>(zone)]);
    if (runtime > 0)
      p.annotations.emplace_back("carbon-kube.io/expected-runtime", fmt::format("{}s", runtime));
    return pods_.emplace(key, compile_pod(p, *snapshot_)).first->second;
  }

  Scheduler scheduler_;
  ZoneMap zone_map_;
  const CarbonSignals& signals_;
  bool carbon_;
  bool perfect_;
  ScoringContext ctx_;
  ClusterState state_;
  SnapshotPtr snapshot_;
  std::vector<Pod> occupancy_;
  std::vector<std::int64_t> published_;
  std::vector<std::string> zone_names_;
  ClusterConditions conditions_;
  std::int64_t conditions_hour_ = std::numeric_limits<std::int64_t>::min();
  std::map<std::tuple<std::int64_t, long, std::int64_t>, CompiledPod> pods_;
};

}  // namespace

Profile simulator_profile(Placement placement) {
  if (placement == Placement::kLeastAllocated) return default_profile();
  return compile_profile(parse_scheduler_config(kCarbonProfileYaml, "simulator carbon profile"));
}

std::vector<Node> simulator_nodes(std::span<const ClusterZone> zones) {
  std::vector<Node> nodes;
  for (const ClusterZone& z : zones)
    for (std::size_t k = 0; k < z.nodes; ++k) {
      Node n;
      n.name = fmt::format("{}-{}", z.zone, k);
      n.labels.emplace_back(std::string(kTopologyZoneLabel), z.zone);
      n.allocatable.push_back({"cpu", std::llround(z.power.vcpus * kMilli)});
      n.allocatable.push_back({"memory", parse_quantity(kNodeMemory).value()});
      n.allocatable.push_back({"pods", parse_quantity(kNodePods).value()});
      n.ready = true;
      nodes.push_back(std::move(n));
    }
  return nodes;
}

ZoneMap simulator_zone_map(std::span<const ClusterZone> zones) {
  ZoneMap map;
  for (const ClusterZone& z : zones) map.add_zone_label(z.zone, z.zone);
  return map;
}

std::vector<SimPolicy> standard_policies(ForecastModel model) {
  using P = Placement;
  constexpr ForecastModel kPerfect = ForecastModel::kPerfect;
  return {{"baseline", P::kLeastAllocated, false, model},
          {"carbon-placement", P::kCarbonAware, false, model},
          {"carbon-placement-oracle", P::kCarbonAware, false, kPerfect},
          {"temporal", P::kLeastAllocated, true, model},
          {"temporal-oracle", P::kLeastAllocated, true, kPerfect},
          {"temporal+placement", P::kCarbonAware, true, model},
          {"temporal+placement-oracle", P::kCarbonAware, true, kPerfect}};
}

std::optional<SimPolicy> parse_policy(std::string_view name, ForecastModel model) {
  for (SimPolicy& p : standard_policies(model))
    if (p.name == name) return p;
  return std::nullopt;
}

int oracle_index(std::span<const SimPolicy> policies, const SimPolicy& p) {
  if (p.model == ForecastModel::kPerfect) return -1;
  if (!p.shift && p.placement == Placement::kLeastAllocated) return -1;
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const SimPolicy& q = policies[i];
    if (q.model == ForecastModel::kPerfect && q.shift == p.shift && q.placement == p.placement)
      return static_cast<int>(i);
  }
  return -1;
}

double saving_percent(const PolicyResult& baseline, const PolicyResult& r) {
  return baseline.kg > 0 ? 100.0 * (baseline.kg - r.kg) / baseline.kg : 0.0;
}

std::optional<double> oracle_fraction(const PolicyResult& baseline, const PolicyResult& r,
                                      const PolicyResult& oracle) {
  const double best = baseline.kg - oracle.kg;
  if (!(best > 0)) return std::nullopt;
  return (baseline.kg - r.kg) / best;
}

Simulator::Simulator(const CarbonSignals& signals, std::vector<ClusterZone> zones,
                     std::vector<TraceJob> trace, SimOptions options)
    : zones_(std::move(zones)), options_(options) {
  if (zones_.empty()) throw InvalidInput("simulator: no zones in the cluster");
  if (trace.empty()) throw InvalidInput("simulator: the workload trace has no jobs");
  if (!(options_.slack_hours >= 0) || !std::isfinite(options_.slack_hours))
    throw InvalidInput("simulator options: slack_hours must be finite and >= 0");
  if (options_.forecast_every_seconds <= 0 || options_.forecast_every_seconds % kHour != 0)
    throw InvalidInput(
        "simulator options: forecast_every_seconds must be a positive multiple of 3600");
  if (options_.horizon_cells < 1 || options_.horizon_cells > 168)
    throw InvalidInput("simulator options: horizon_cells must be 1..168");
  if (options_.max_wait_hours < 1)
    throw InvalidInput("simulator options: max_wait_hours must be >= 1");

  std::set<std::string, std::less<>> seen;
  std::vector<const ZoneSeries*> series;
  std::int64_t start = std::numeric_limits<std::int64_t>::min();
  std::int64_t end = std::numeric_limits<std::int64_t>::max();
  for (const ClusterZone& z : zones_) {
    const std::string where = fmt::format("simulator cluster: zone \"{}\"", z.zone);
    if (!seen.insert(z.zone).second) throw InvalidInput(where + ": listed twice");
    if (z.nodes == 0) throw InvalidInput(where + ": nodes must be > 0");
    z.power.validate(where);
    if (!(z.power.vcpus > 0)) throw InvalidInput(where + ": power.vcpus must be > 0");
    const ZoneSeries* s = signals.find(z.zone);
    if (!s || s->points.empty())
      throw InvalidInput(where + ": no carbon signal for this zone in the signals loaded");
    series.push_back(s);
    start = std::max(start, floor_div(s->points.front().unix_seconds + kHour - 1, kHour) * kHour);
    end =
        std::min(end, floor_div(s->points.back().unix_seconds + s->period_seconds, kHour) * kHour);
  }
  if (end - start < (kWarmupDays + 1) * kDay)
    throw InvalidInput(fmt::format(
        "simulator: the zones' signals share {} hours; at least {} days are needed (the "
        "forecasters' {} days of warm-up and one to plan)",
        std::max<std::int64_t>(0, (end - start) / kHour), kWarmupDays + 1, kWarmupDays));
  for (const ZoneSeries* s : series) grids_.push_back(resample(*s, start, end));
  first_issue_ = start + kWarmupDays * kDay;

  double max_len = 0;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const TraceJob& t = trace[i];
    if (!(t.arrival_hours >= 0) || !(t.length_hours > 0) || !(t.cpus > 0) ||
        !std::isfinite(t.arrival_hours) || !std::isfinite(t.length_hours) || !std::isfinite(t.cpus))
      throw InvalidInput(fmt::format(
          "simulator trace: job {}: arrival must be >= 0, length and cpus > 0, all finite", i));
    for (const ClusterZone& z : zones_)
      if (t.cpus > z.power.vcpus)
        throw InvalidInput(fmt::format(
            "simulator trace: job {} needs {} vCPUs, more than a node of zone \"{}\" has ({})", i,
            t.cpus, z.zone, z.power.vcpus));
    Job j{start + std::llround(t.arrival_hours * 3600.0),
          std::max<std::int64_t>(1, std::llround(t.length_hours * 3600.0)), t.cpus,
          std::llround(t.cpus * static_cast<double>(kMilli))};
    if (i > 0 && t.arrival_hours < trace[i - 1].arrival_hours)
      throw InvalidInput(fmt::format("simulator trace: job {} arrives before job {}", i, i - 1));
    if (j.arrival + j.duration > end) {
      ++excluded_;
      continue;
    }
    max_len = std::max(max_len, t.length_hours);
    jobs_.push_back(j);
  }
  if (jobs_.empty())
    throw InvalidInput("simulator: no job of the trace runs within the carbon data's span");

  // Scoring curves: the data, then its last week repeated, for the rare run
  // that capacity waits push past the data's end (counted in past_data_end).
  const std::size_t pad = static_cast<std::size_t>(options_.max_wait_hours) +
                          static_cast<std::size_t>(std::ceil(max_len + options_.slack_hours)) + 48;
  for (const HourlyGrid& g : grids_) {
    std::vector<double> v = g.g_per_kwh;
    const std::size_t n = g.size(), rep = std::min(n, kPadRepeatCells);
    for (std::size_t k = 0; k < pad; ++k) v.push_back(g.g_per_kwh[n - rep + k % rep]);
    ZoneSeries actual_series;
    actual_series.zone = g.zone;
    actual_series.kind = g.kind;
    actual_series.source = g.zone + " (simulated actual)";
    actual_series.period_seconds = g.step_seconds;
    actual_series.points.reserve(v.size());
    for (std::size_t k = 0; k < v.size(); ++k)
      actual_series.points.push_back(
          {g.start + static_cast<std::int64_t>(k) * g.step_seconds, v[k]});
    engine_signals_.add(std::move(actual_series));
    actual_.emplace_back(g.start, g.step_seconds, std::move(v), g.zone + " (actual)");
    actual_.back().set_kind(g.kind);
  }

  // Each job's facility power in each zone, from the energy model's
  // attribution (the pod's requested cores; idle of unused capacity is the
  // node's own account).
  Attribution attr;
  for (const ClusterZone& z : zones_) {
    std::map<double, double> cache;
    std::vector<double> kw(jobs_.size());
    for (std::size_t i = 0; i < jobs_.size(); ++i) {
      auto it = cache.find(jobs_[i].cpus);
      if (it == cache.end()) {
        const PodUsage use{jobs_[i].cpus, 0, 0, 0};
        attribute(z.power, std::span<const PodUsage>(&use, 1), IdleAttribution::kSeparate, attr);
        it = cache.emplace(jobs_[i].cpus, attr.pod_watts.at(0) / 1000.0).first;
      }
      kw[i] = it->second;
    }
    power_kw_.push_back(std::move(kw));
  }
}

const std::vector<RollingForecast>& Simulator::forecasts(ForecastModel model) {
  auto it = forecasts_.find(model);
  if (it != forecasts_.end()) return it->second;
  std::vector<RollingForecast> v;
  v.reserve(grids_.size());
  for (const HourlyGrid& g : grids_)
    v.emplace_back(g, model, first_issue_, options_.forecast_every_seconds, options_.horizon_cells);
  return forecasts_.emplace(model, std::move(v)).first->second;
}

PolicyResult Simulator::run(const SimPolicy& policy, std::optional<double> slack_hours) {
  const double slack = slack_hours.value_or(options_.slack_hours);
  if (!(slack >= 0) || !std::isfinite(slack))
    throw InvalidInput(
        fmt::format("simulator: policy \"{}\": slack must be finite and >= 0", policy.name));
  const std::int64_t slack_s = std::llround(slack * 3600.0);
  const std::size_t nz = zones_.size();
  const std::size_t H = hours();
  const std::size_t C = actual_.front().values().size();  // calendar hours
  const std::int64_t t0 = start();
  const bool carbon = policy.placement == Placement::kCarbonAware;
  const bool perfect = policy.model == ForecastModel::kPerfect;

  // Nodes: zone z owns [first_node[z], first_node[z + 1]).
  std::vector<std::size_t> first_node(nz + 1, 0);
  for (std::size_t z = 0; z < nz; ++z) first_node[z + 1] = first_node[z] + zones_[z].nodes;
  const std::size_t nn = first_node[nz];
  // Reserved millicores per node and hour: the feasibility the snapshot's
  // occupancy pods carry (EngineCluster).
  std::vector<std::int64_t> used(nn * C, 0);
  std::vector<std::uint32_t> node_zone(nn);
  for (std::size_t z = 0; z < nz; ++z)
    for (std::size_t n = first_node[z]; n < first_node[z + 1]; ++n)
      node_zone[n] = static_cast<std::uint32_t>(z);
  EngineCluster engine(zones_, engine_signals_, policy.placement, perfect, options_.seed);
  std::vector<std::int64_t> peaks(nn, 0);

  const std::vector<RollingForecast>* fc = policy.shift ? &forecasts(policy.model) : nullptr;

  PolicyResult r;
  r.policy = policy;
  r.slack_hours = slack;
  r.excluded = excluded_;
  r.zones.resize(nz);
  for (std::size_t z = 0; z < nz; ++z) r.zones[z].zone = zones_[z].zone;
  r.starts.assign(nz * H, 0);
  if (options_.record_jobs) r.jobs_out.reserve(jobs_.size());
  std::map<int, MonthResult> months;
  std::vector<double> waits;
  waits.reserve(jobs_.size());
  std::vector<double> zone_vcpu_h(nz, 0.0);

  Planner planner;
  Plan plan;
  struct Candidate {
    std::int64_t start;
    long zone;
  };
  struct ZonePlan {
    double g;
    std::int64_t start;
    long zone;
  };
  constexpr long kAnyZone = -1;
  std::vector<Candidate> cands;
  std::vector<ZonePlan> zone_plans;

  // The Scheduler's node for the job over [h0, h1) in zone `zone` (kAnyZone:
  // all), its start t; -1 when nothing fits.
  auto best_node = [&](const Job& job, std::int64_t t, long zone, std::size_t h0,
                       std::size_t h1) -> long {
    for (std::size_t n = 0; n < nn; ++n) {
      const std::int64_t* u = &used[n * C];
      std::int64_t peak = 0;
      for (std::size_t h = h0; h < h1; ++h) peak = std::max(peak, u[h]);
      peaks[n] = peak;
    }
    return engine.place(peaks, t, job.duration, job.milli, zone);
  };
  auto hour_span = [&](std::int64_t s, std::int64_t e, std::size_t& h0, std::size_t& h1) {
    h0 = static_cast<std::size_t>(floor_div(s - t0, kHour));
    h1 = static_cast<std::size_t>(floor_div(e - t0 + kHour - 1, kHour));
  };

  const std::int64_t max_wait = options_.max_wait_hours * kHour;
  for (std::size_t i = 0; i < jobs_.size(); ++i) {
    const Job& job = jobs_[i];
    PlannedJob pj;
    pj.arrival = job.arrival;
    pj.duration_seconds = job.duration;
    pj.deadline = job.arrival + job.duration + slack_s;
    // Candidates (start, zone or kAnyZone), tried in order; the first with
    // room wins. Without shifting: the arrival. With it: the planner's
    // start(s), then the arrival; then the next hours from the arrival.
    cands.clear();
    long home_node = -1;  // the temporal job's node at arrival, found to pick its zone
    if (fc && job.arrival >= first_issue_) {
      const IntensityCurve& c0 = (*fc)[0].curve_at(job.arrival);
      if (job.arrival + job.duration <= c0.end()) {
        pj = within_curve(c0, pj);
        if (!carbon) {
          std::size_t h0 = 0, h1 = 0;
          hour_span(job.arrival, job.arrival + job.duration, h0, h1);
          const long n = best_node(job, job.arrival, kAnyZone, h0, h1);
          home_node = n;
          if (n >= 0) {
            const std::uint32_t home = node_zone[static_cast<std::size_t>(n)];
            pj.power_kw = power_kw_[home][i];
            planner.plan((*fc)[home].curve_at(job.arrival), pj, plan);
            cands.push_back({plan.start, static_cast<long>(home)});
            cands.push_back({job.arrival, static_cast<long>(home)});
            ++r.planned;
          }
        } else {
          // Where and when: each zone's best start (what plan_across picks
          // the least of) and its start at arrival, cleanest first by the
          // forecast, so a full slot falls back to the next cleanest one
          // rather than to a dirty hour.
          zone_plans.clear();
          for (std::size_t z = 0; z < nz; ++z) {
            pj.power_kw = power_kw_[z][i];
            planner.plan((*fc)[z].curve_at(job.arrival), pj, plan);
            zone_plans.push_back({plan.expected_g, plan.start, static_cast<long>(z)});
            if (plan.start != job.arrival)
              zone_plans.push_back({plan.immediate_g, job.arrival, static_cast<long>(z)});
          }
          std::stable_sort(zone_plans.begin(), zone_plans.end(),
                           [](const ZonePlan& x, const ZonePlan& y) { return x.g < y.g; });
          for (const ZonePlan& zp : zone_plans) cands.push_back({zp.start, zp.zone});
          ++r.planned;
        }
      }
    }
    cands.push_back({job.arrival, kAnyZone});

    // Place: the candidates, else wait for room hour by hour.
    std::int64_t t = job.arrival;
    long node = -1;
    for (const Candidate& c : cands) {
      std::size_t h0 = 0, h1 = 0;
      hour_span(c.start, c.start + job.duration, h0, h1);
      // The arrival in the home zone was just decided by a cycle at arrival:
      // reuse that node, so that zero slack repeats the baseline's cycles.
      const bool decided =
          home_node >= 0 && c.start == job.arrival &&
          c.zone == static_cast<long>(node_zone[static_cast<std::size_t>(home_node)]);
      node = decided ? home_node : best_node(job, c.start, c.zone, h0, h1);
      if (node >= 0) {
        t = c.start;
        break;
      }
    }
    // The wait: a temporal job keeps its zone; the others take any zone the
    // profile scores best.
    const bool keep_home = !carbon && cands.size() > 1;
    const long wait_zone = keep_home ? cands.front().zone : kAnyZone;
    while (node < 0) {
      std::size_t h0 = 0, h1 = 0;
      hour_span(t, t + job.duration, h0, h1);
      t = t0 + static_cast<std::int64_t>(h0 + 1) * kHour;
      hour_span(t, t + job.duration, h0, h1);
      if (h1 > C || t - job.arrival > max_wait)
        throw InvalidInput(fmt::format(
            "simulator: policy \"{}\": job {} ({} vCPUs, arriving {}) found no node with room "
            "within {} hours of its arrival: the cluster is too small for the trace",
            policy.name, i, job.cpus, format_timestamp(job.arrival), options_.max_wait_hours));
      node = best_node(job, t, wait_zone, h0, h1);
    }
    {
      std::size_t h0 = 0, h1 = 0;
      hour_span(t, t + job.duration, h0, h1);
      for (std::size_t h = h0; h < h1; ++h)
        used[static_cast<std::size_t>(node) * C + h] += job.milli;
      if (h0 < H) ++r.starts[node_zone[static_cast<std::size_t>(node)] * H + h0];
    }
    if (t != cands.front().start) ++r.capacity_waits;

    const std::size_t nu = static_cast<std::size_t>(node);
    const std::uint32_t z = node_zone[nu];
    PlannedJob scored;
    scored.arrival = t;
    scored.duration_seconds = job.duration;
    scored.deadline = t + job.duration;
    scored.power_kw = power_kw_[z][i];
    const Run run{t, t + job.duration};
    const double g = emissions_g(actual_[z], scored, std::span<const Run>(&run, 1));
    const double kwh = scored.power_kw * static_cast<double>(job.duration) / 3600.0;
    if (run.end > grids_[z].end()) ++r.past_data_end;
    if (run.end > job.arrival + job.duration + slack_s) ++r.deadline_misses;
    const double wait_h = static_cast<double>(t - job.arrival) / 3600.0;
    waits.push_back(wait_h);
    r.jobs += 1;
    r.kg += g / 1000.0;
    r.energy_kwh += kwh;
    ZoneResult& zr = r.zones[z];
    zr.jobs += 1;
    zr.kg += g / 1000.0;
    zr.energy_kwh += kwh;
    zone_vcpu_h[z] += job.cpus * static_cast<double>(job.duration) / 3600.0;
    int y = 0, m = 0;
    civil_month(t, y, m);
    MonthResult& mr = months[y * 100 + m];
    mr.year = y;
    mr.month = m;
    mr.jobs += 1;
    mr.kg += g / 1000.0;
    mr.energy_kwh += kwh;
    if (options_.record_jobs)
      r.jobs_out.push_back({z, static_cast<std::uint32_t>(nu - first_node[z]), t, run.end, kwh, g});
    if (progress_ && ((i + 1) % kProgressEvery == 0 || i + 1 == jobs_.size()))
      progress_(i + 1, jobs_.size());
  }

  // Idle power of the capacity no job holds, over the data's hours.
  double cap_total = 0, used_total = 0;
  for (std::size_t z = 0; z < nz; ++z) {
    const NodePowerModel& pm = zones_[z].power;
    const double zone_cap = pm.vcpus * static_cast<double>(zones_[z].nodes);
    ZoneResult& zr = r.zones[z];
    for (std::size_t h = 0; h < H; ++h) {
      std::int64_t reserved = 0;
      for (std::size_t n = first_node[z]; n < first_node[z + 1]; ++n) reserved += used[n * C + h];
      const double u = static_cast<double>(reserved) / static_cast<double>(kMilli);
      const double idle_kw = std::max(0.0, zone_cap - u) * pm.idle_watts_per_vcpu * pm.pue / 1000.0;
      zr.idle_kwh += idle_kw;
      zr.idle_kg += idle_kw * grids_[z].g_per_kwh[h] / 1000.0;
    }
    zr.utilisation = zone_vcpu_h[z] / (zone_cap * static_cast<double>(H));
    r.idle_kwh += zr.idle_kwh;
    r.idle_kg += zr.idle_kg;
    cap_total += zone_cap * static_cast<double>(H);
    used_total += zone_vcpu_h[z];
  }
  r.utilisation = used_total / cap_total;
  for (auto& [k, m] : months) r.months.push_back(m);
  if (!waits.empty()) {
    double sum = 0;
    for (double w : waits) sum += w;
    r.mean_wait_hours = sum / static_cast<double>(waits.size());
    r.max_wait_hours = *std::max_element(waits.begin(), waits.end());
    const std::size_t k =
        static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(waits.size()))) - 1;
    std::nth_element(waits.begin(), waits.begin() + static_cast<std::ptrdiff_t>(k), waits.end());
    r.p95_wait_hours = waits[k];
  }
  return r;
}

CARBONKUBE_NAMESPACE_END
