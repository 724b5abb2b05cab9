// The planner, forecaster, energy attribution, ledger and migration advisor.
// Run: build/bin/bench_ledger (docs/carbon-accounting.md has the figures and
// the exact command). A year of synthetic hourly intensity with a daily cycle,
// a weekly cycle and noise stands in for the bundled data so the suite needs
// no files.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "carbonkube/energy.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/ledger.hpp"
#include "carbonkube/migration.hpp"
#include "carbonkube/planner.hpp"

using namespace carbonkube;

namespace {

constexpr std::int64_t kH = 3600;
constexpr std::int64_t kD = 86400;
constexpr std::int64_t k2023 = 1672531200;

// a + b without GCC 12's false -Wrestrict on operator+(const char*, string&&).
std::string cat(std::string a, const std::string& b) {
  a.append(b);
  return a;
}

HourlyGrid year_grid(std::uint64_t seed, double base) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 15);
  HourlyGrid g;
  g.zone = cat("Z", std::to_string(seed));
  g.start = k2023;
  for (int h = 0; h < 8760; ++h) {
    const double hour = h % 24;
    const double weekend = ((h / 24 + 6) % 7) >= 5 ? -30.0 : 0.0;
    g.g_per_kwh.push_back(
        std::max(5.0, base + 80 * std::sin(hour / 24 * 2 * M_PI) + weekend + noise(rng)));
  }
  g.observed.assign(g.g_per_kwh.size(), 1);
  return g;
}

const HourlyGrid& grid() {
  static const HourlyGrid g = year_grid(1, 250);
  return g;
}

const IntensityCurve& curve() {
  static const IntensityCurve c = IntensityCurve::from_grid(grid());
  return c;
}

// Jobs shaped like the Azure trace: arrivals through the year, 1..24 h, a
// window of state.range(0) hours.
std::vector<PlannedJob> jobs(std::int64_t slack_hours, bool interruptible) {
  std::mt19937_64 rng(7);
  std::vector<PlannedJob> out;
  for (int i = 0; i < 4096; ++i) {
    PlannedJob j;
    j.arrival = k2023 + std::uniform_int_distribution<std::int64_t>(0, 8000 * kH)(rng);
    j.duration_seconds = std::uniform_int_distribution<std::int64_t>(600, 24 * kH)(rng);
    j.deadline = j.arrival + j.duration_seconds + slack_hours * kH;
    j.interruptible = interruptible;
    j.power_kw = 0.02;
    out.push_back(j);
  }
  return out;
}

void plan_jobs(benchmark::State& state, bool interruptible) {
  const auto js = jobs(state.range(0), interruptible);
  Planner planner;
  Plan p;
  planner.plan(curve(), js[0], p);  // sizes the scratch
  std::size_t i = 0;
  for (auto _ : state) {
    planner.plan(curve(), js[i++ & 4095], p);
    benchmark::DoNotOptimize(p.expected_g);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PlanStart(benchmark::State& state) { plan_jobs(state, false); }
BENCHMARK(BM_PlanStart)->Arg(6)->Arg(24)->Arg(72);

void BM_PlanInterruptible(benchmark::State& state) { plan_jobs(state, true); }
BENCHMARK(BM_PlanInterruptible)->Arg(6)->Arg(24)->Arg(72);

void BM_RidgeForecast(benchmark::State& state) {
  RidgeForecaster ridge;
  std::vector<double> out(static_cast<std::size_t>(state.range(0)));
  std::int64_t day = 100;
  for (auto _ : state) {
    ridge.forecast(grid(), k2023 + (day++ % 250 + 70) * kD, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RidgeForecast)->Arg(24)->Arg(168)->Unit(benchmark::kMicrosecond);

void BM_EvaluateDayAheadYear(benchmark::State& state) {
  for (auto _ : state) {
    ForecastAccuracy a = evaluate_day_ahead(grid());
    benchmark::DoNotOptimize(a.mape_ridge);
  }
}
BENCHMARK(BM_EvaluateDayAheadYear)->Unit(benchmark::kMillisecond);

void BM_Attribute(benchmark::State& state) {
  NodePowerModel m;
  m.vcpus = 64;
  m.memory_gb = 256;
  std::vector<PodUsage> pods(static_cast<std::size_t>(state.range(0)), PodUsage{1.5, 4, 0, 0});
  Attribution a;
  attribute(m, pods, IdleAttribution::kProportional, a);
  for (auto _ : state) {
    attribute(m, pods, IdleAttribution::kProportional, a);
    benchmark::DoNotOptimize(a.node_watts);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Attribute)->Arg(30)->Arg(110);

void BM_LedgerRecord(benchmark::State& state) {
  Ledger l;
  l.set_daily_limit("ns-0", 100);
  std::vector<UsageRecord> recs;
  for (int i = 0; i < 1000; ++i)
    recs.push_back({cat(cat("ns-", std::to_string(i % 20)), cat("/pod-", std::to_string(i))),
                    cat("ns-", std::to_string(i % 20)), cat("tenant-", std::to_string(i % 5)), "Z1",
                    0, 0, 40.0, 2.0});
  std::int64_t t = k2023;
  std::size_t i = 0;
  for (auto _ : state) {
    UsageRecord& r = recs[i++ % recs.size()];
    r.start = t;
    r.end = t + 60;  // one controller sample a minute
    l.record(r, curve());
    if (i % recs.size() == 0) t += 60;
    if (t + 60 > curve().end()) t = k2023;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LedgerRecord);

// One controller sample: `state.range(0)` nodes of 16 vCPUs with 30 pods
// each, booked for a minute.
void BM_AccountInterval(benchmark::State& state) {
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  ZoneMap map;
  map.add_zone_label("z", "Z1");
  for (int n = 0; n < state.range(0); ++n) {
    Node node;
    node.name = cat("node-", std::to_string(n));
    node.labels = {{"topology.kubernetes.io/zone", "z"}};
    node.allocatable = {{"cpu", 16000}, {"memory", 64'000'000'000}, {"pods", 110}};
    for (int p = 0; p < 30; ++p) {
      Pod pod;
      pod.namespace_name = cat("ns-", std::to_string(p % 10));
      pod.name = cat(cat(node.name, "-"), std::to_string(p));
      pod.node_name = node.name;
      pod.phase = PodPhase::kRunning;
      Container c;
      c.name = "c";
      c.requests = {{"cpu", parse_quantity("500m")}, {"memory", parse_quantity("1Gi")}};
      pod.containers.push_back(c);
      pods.push_back(pod);
    }
    nodes.push_back(node);
  }
  std::vector<ZoneCurve> curves = {{"Z1", &curve()}};
  Ledger ledger;
  std::int64_t t = k2023;
  for (auto _ : state) {
    AccountingResult r = account_interval(ledger, nodes, pods, map, curves, t, t + 60);
    benchmark::DoNotOptimize(r.node_watts);
    t += 60;
    if (t + 60 > curve().end()) t = k2023;
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(pods.size()));
}
BENCHMARK(BM_AccountInterval)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

void BM_MigrationAdvise(benchmark::State& state) {
  std::vector<HourlyGrid> grids = {year_grid(1, 250), year_grid(2, 120), year_grid(3, 400),
                                   year_grid(4, 60)};
  std::vector<IntensityCurve> curves;
  for (const auto& g : grids) curves.push_back(IntensityCurve::from_grid(g));
  std::vector<ZoneOutlook> zones;
  for (std::size_t z = 0; z < curves.size(); ++z) zones.push_back({grids[z].zone, &curves[z]});
  std::vector<MigrationCandidate> pods;
  for (int i = 0; i < state.range(0); ++i) {
    MigrationCandidate c;
    c.pod = cat("ns/pod-", std::to_string(i));
    c.zone = grids[static_cast<std::size_t>(i) % grids.size()].zone;
    c.power_kw = 0.05;
    c.remaining_seconds = 8 * kH;
    c.policy = MigrationPolicy::kAggressive;
    pods.push_back(c);
  }
  MigrationAdvisor advisor;
  for (auto _ : state) {
    auto r = advisor.advise(k2023 + 100 * kD, pods, zones);
    benchmark::DoNotOptimize(r.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_MigrationAdvise)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
