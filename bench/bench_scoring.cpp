// Scoring one pod against N nodes (percentageOfNodesToScore 100) and building
// snapshots. Run: build/bin/bench_scoring --benchmark_filter=... (see
// docs/benchmarks.md for the recorded numbers and the exact command).
#include <benchmark/benchmark.h>

#include "carbonkube/conditions.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"
#include "synthetic.hpp"

using namespace carbonkube;

namespace {

void score_one_pod(benchmark::State& state, const char* config) {
  const int n = static_cast<int>(state.range(0));
  auto snap = ClusterState::build(ck_bench::synthetic_cluster(n, 10));
  Scheduler sched(compile_profile(parse_scheduler_config(config, "bench.yaml")));
  CompiledPod pod = compile_pod(ck_bench::pending_pod(0), *snap);
  ScoringContext ctx(1);
  sched.schedule(*snap, pod, ctx);  // warm-up: sizes the context once
  for (auto _ : state) {
    CycleResult r = sched.schedule(*snap, pod, ctx);
    benchmark::DoNotOptimize(r);
  }
  state.counters["nodes"] = n;
  state.counters["ns_per_node"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
  state.counters["snapshot_bytes_per_node"] = static_cast<double>(snap->memory_bytes()) / n;
}

void BM_ScoreFitBalanced(benchmark::State& state) {
  score_one_pod(state, ck_bench::kFitBalancedConfig);
}
BENCHMARK(BM_ScoreFitBalanced)
    ->RangeMultiplier(10)
    ->Range(100, 100000)
    ->Arg(5000)
    ->Unit(benchmark::kMicrosecond);

void BM_ScoreDefaultProfile(benchmark::State& state) {
  score_one_pod(state, ck_bench::kDefaultPluginsConfig);
}
BENCHMARK(BM_ScoreDefaultProfile)->Arg(5000)->Unit(benchmark::kMicrosecond);

// The seed's full profile with carbon conditions (4 grid zones, hourly
// data) and Katalyst topology with 8 NUMA zones on 2 sockets per node.
void BM_ScoreSeedProfile(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto objs = ck_bench::synthetic_cluster(n, 10);
  auto snap = ClusterState::build(objs);
  CarbonSignals signals;
  const char* grid[] = {"US-CAL-CISO", "ES", "NO", "BR"};
  const double level[] = {220, 110, 25, 90};
  for (int z = 0; z < 4; ++z) {
    ZoneSeries zs;
    zs.zone = grid[z];
    zs.kind = IntensityKind::kAverageLifecycle;
    for (int h = 0; h < 48; ++h) zs.points.push_back({1689400000 + h * 3600, level[z] + h, false});
    signals.add(zs);
  }
  ZoneMap zones = ZoneMap::parse(
      "unknownZone: neutral\nzones: {us-west-1a: US-CAL-CISO, us-west-1b: US-CAL-CISO, "
      "eu-south-2a: ES, "
      "eu-north-1a: \"NO\"}\n",
      "bench-zones.yaml");
  std::vector<NodeTopology> topo;
  for (const auto& node : objs.nodes) {
    NodeTopology t;
    t.node_name = node.name;
    t.sockets = {"0", "1"};
    for (int z = 0; z < 8; ++z) {
      NumaZone nz;
      nz.id = z;
      nz.socket = z / 4;
      nz.allocatable_milli_cpu = node.allocatable[0].amount / 8;
      nz.allocatable_memory = node.allocatable[1].amount / 8;
      nz.allocated_milli_cpu = nz.allocatable_milli_cpu / 3;
      nz.allocated_memory = nz.allocatable_memory / 3;
      t.numa.push_back(nz);
    }
    t.pue = 1.1 + 0.1 * static_cast<double>(topo.size() % 5);
    topo.push_back(std::move(t));
  }
  TopologyTable table = TopologyTable::build(*snap, topo);
  ClusterConditions cond = ClusterConditions::build(*snap, zones, signals, 1689444000);
  // Arg 1 = 0 leaves the topology out (its plugins score neutrally): the
  // difference is the Katalyst NUMA search's share of the cycle.
  if (state.range(1) != 0) cond.topology = &table;
  Scheduler sched(compile_profile(parse_scheduler_config(
      ck_bench::seed_profile_all_nodes(seed_profile_yaml()), "seed-100.yaml")));
  Pod pod = ck_bench::pending_pod(0);
  pod.annotations = {{"carbon-kube.io/qos-profile", "mixed-burstable"}};
  CompiledPod cp = compile_pod(pod, *snap);
  ScoringContext ctx(1);
  sched.schedule(*snap, cp, ctx, &cond);
  for (auto _ : state) {
    CycleResult r = sched.schedule(*snap, cp, ctx, &cond);
    benchmark::DoNotOptimize(r);
  }
  state.counters["ns_per_node"] =
      benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate |
                                                     benchmark::Counter::kInvert);
}
BENCHMARK(BM_ScoreSeedProfile)
    ->ArgNames({"nodes", "topology"})
    ->Args({5000, 1})
    ->Args({5000, 0})
    ->Unit(benchmark::kMicrosecond);

void BM_BuildSnapshot(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto objs = ck_bench::synthetic_cluster(n, 10);
  for (auto _ : state) {
    auto snap = ClusterState::build(objs);
    benchmark::DoNotOptimize(snap);
  }
  state.counters["pods"] = static_cast<double>(objs.pods.size());
}
BENCHMARK(BM_BuildSnapshot)->Arg(5000)->Unit(benchmark::kMillisecond);

void BM_IncrementalBindAndPublish(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto objs = ck_bench::synthetic_cluster(n, 10);
  ClusterState cluster;
  for (const auto& node : objs.nodes) cluster.upsert_node(node);
  for (const auto& p : objs.pods) cluster.upsert_pod(p);
  auto held = cluster.publish();  // a reader holds the previous snapshot
  int i = 0;
  for (auto _ : state) {
    Pod p = ck_bench::pending_pod(i);
    cluster.assume_pod(p, objs.nodes[static_cast<std::size_t>(i) % objs.nodes.size()].name);
    held = cluster.publish();
    ++i;
  }
}
BENCHMARK(BM_IncrementalBindAndPublish)->Arg(5000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
