// The budget hook's cost (docs/carbon-accounting.md, "The budget hook in the
// scheduler"): the per-pod lookup ClusterConditions::pod_budget in a table of
// N namespaces, and a whole seed-profile cycle over 1,000 nodes without a
// table, with a table whose namespaces are all within budget, and with the
// pod's namespace over budget.
// Run: build/bin/bench_budget_hook
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "carbonkube/conditions.hpp"
#include "carbonkube/ledger.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "synthetic.hpp"

using namespace carbonkube;

namespace {

constexpr std::int64_t kAt = 1689444000;  // 2023-07-15T18:00:00Z

// N namespaces "ns-0".."ns-(N-1)" at `fraction` of a 1 kg limit.
void fill_budgets(ClusterConditions& c, int namespaces, double fraction) {
  for (int i = 0; i < namespaces; ++i) {
    BudgetStatus s;
    s.namespace_name = "ns-" + std::to_string(i);
    s.day_start = utc_day_start(kAt);
    s.limit_kg = 1.0;
    s.used_kg = fraction;
    s.fraction = fraction;
    s.exceeded = fraction > 1.0;
    c.set_budget(s, CarbonBudget{});
  }
}

void BM_PodBudgetLookup(benchmark::State& state) {
  ClusterConditions c;
  c.now = kAt;
  fill_budgets(c, static_cast<int>(state.range(0)), 0.9);
  Pod pod = ck_bench::pending_pod(0);
  pod.namespace_name = "ns-" + std::to_string(state.range(0) / 2);
  for (auto _ : state) {
    PodBudget b = c.pod_budget(pod);
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_PodBudgetLookup)->Arg(10)->Arg(1000)->Arg(100000);

// Arg: 0 no table; 1 a 1,000-namespace table, all within budget; 2 the same
// table with every namespace (the pod's too) near budget.
void BM_ScoreSeedWithBudgets(benchmark::State& state) {
  const int n = 1000;
  auto objs = ck_bench::synthetic_cluster(n, 10);
  auto snap = ClusterState::build(objs);
  CarbonSignals signals;
  const char* grid[] = {"US-CAL-CISO", "ES", "NO"};
  const double level[] = {220, 110, 25};
  for (int z = 0; z < 3; ++z) {
    ZoneSeries zs;
    zs.zone = grid[z];
    zs.kind = IntensityKind::kAverageLifecycle;
    for (int h = 0; h < 48; ++h) zs.points.push_back({1689400000 + h * 3600, level[z], false});
    signals.add(zs);
  }
  ZoneMap zones = ZoneMap::parse(
      "unknownZone: neutral\nzones: {us-west-1a: US-CAL-CISO, eu-south-2a: ES, "
      "eu-north-1a: \"NO\"}\n",
      "bench-zones.yaml");
  ClusterConditions cond = ClusterConditions::build(*snap, zones, signals, kAt);
  if (state.range(0) > 0) fill_budgets(cond, 1000, state.range(0) == 2 ? 0.9 : 0.1);
  Scheduler sched(compile_profile(parse_scheduler_config(
      ck_bench::seed_profile_all_nodes(seed_profile_yaml()), "seed-100.yaml")));
  Pod pod = ck_bench::pending_pod(0);
  pod.namespace_name = "ns-500";
  CompiledPod cp = compile_pod(pod, *snap);
  ScoringContext ctx(1);
  const CycleResult first = sched.schedule(*snap, cp, ctx, &cond);
  for (auto _ : state) {
    CycleResult r = sched.schedule(*snap, cp, ctx, &cond);
    benchmark::DoNotOptimize(r);
  }
  // What each cycle did: every node examined, how many feasible and scored.
  state.counters["processed"] = first.processed;
  state.counters["feasible"] = first.feasible;
}
BENCHMARK(BM_ScoreSeedWithBudgets)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
