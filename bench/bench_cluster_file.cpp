// The C++ API on a cluster from a file, so that other front ends can be
// compared with it on exactly the same work: bench/bench_python.py writes a
// cluster (Nodes, bound Pods, pending Pods as a kubectl-style List) and runs
// this with CARBONKUBE_BENCH_CLUSTER=that file. Every pending pod is
// scheduled once per iteration with the seed profile, independently (as
// ck_score_batch does). Without the variable the benchmark is skipped.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"

using namespace carbonkube;

namespace {

void BM_CppScheduleEachPendingPod(benchmark::State& state) {
  const char* path = std::getenv("CARBONKUBE_BENCH_CLUSTER");
  if (!path) {
    state.SkipWithError("set CARBONKUBE_BENCH_CLUSTER to a cluster file (bench/bench_python.py)");
    return;
  }
  KubeObjects objs = parse_kube_objects(read_file(path), path);
  SnapshotPtr snap = ClusterState::build(objs);
  Scheduler scheduler(seed_profile());
  std::vector<CompiledPod> pods;
  for (const auto& p : objs.pods)
    if (p.is_pending()) pods.push_back(compile_pod(p, *snap));
  ScoringContext ctx(1);
  for (auto _ : state) {
    for (const CompiledPod& pod : pods) {
      CycleResult r = scheduler.schedule(*snap, pod, ctx);
      benchmark::DoNotOptimize(r);
    }
  }
  state.counters["pods"] = static_cast<double>(pods.size());
  state.counters["nodes"] = static_cast<double>(snap->node_count());
  state.counters["us_per_pod"] = benchmark::Counter(
      static_cast<double>(pods.size()) * 1e-6,
      benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_CppScheduleEachPendingPod)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
