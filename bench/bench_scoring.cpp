// Scoring one pod against N nodes (percentageOfNodesToScore 100) and building
// snapshots. Run: build/bin/bench_scoring --benchmark_filter=... (see
// docs/benchmarks.md for the recorded numbers and the exact command).
#include <benchmark/benchmark.h>

#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"
#include "synthetic.hpp"

using namespace carbonkube;

namespace {

const char* kFitBalanced = R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- percentageOfNodesToScore: 100
  plugins:
    multiPoint: {disabled: [{name: '*'}]}
    filter: {enabled: [{name: NodeResourcesFit}]}
    score: {enabled: [{name: NodeResourcesFit}, {name: NodeResourcesBalancedAllocation}]}
)";

const char* kDefaultAll = R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- percentageOfNodesToScore: 100
)";

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

void BM_ScoreFitBalanced(benchmark::State& state) { score_one_pod(state, kFitBalanced); }
BENCHMARK(BM_ScoreFitBalanced)
    ->RangeMultiplier(10)
    ->Range(100, 100000)
    ->Arg(5000)
    ->Unit(benchmark::kMicrosecond);

void BM_ScoreDefaultProfile(benchmark::State& state) { score_one_pod(state, kDefaultAll); }
BENCHMARK(BM_ScoreDefaultProfile)->Arg(5000)->Unit(benchmark::kMicrosecond);

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
