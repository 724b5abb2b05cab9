// The C++ side of bench/compare.sh: carbonkube on the cluster file that the
// seed's Python logic (bench/seed_python/) and kube-scheduler's Go plugins
// (bench/kube-scheduler-go/) read too. Every pending pod is scheduled once
// per iteration against every node (percentageOfNodesToScore 100).
//
//   CARBONKUBE_BENCH_CLUSTER  kubectl List (bench/seed_python/make_cluster.py)
//   CARBONKUBE_BENCH_ZONES    ZoneMap YAML for the seed profile's carbon plugins
//   CARBONKUBE_BENCH_SIGNALS  colon-separated Electricity Maps CSVs
//   CARBONKUBE_BENCH_AT       unix seconds at which intensities are read
//
// Without CARBONKUBE_BENCH_CLUSTER the benchmarks are skipped. Counters:
// ns_per_node_score = time / (pods x nodes), us_per_pod.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/conditions.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "synthetic.hpp"

using namespace carbonkube;

namespace {

struct Inputs {
  KubeObjects objs;
  SnapshotPtr snap;
  std::vector<CompiledPod> pods;
};

bool load(benchmark::State& state, Inputs& in) {
  const char* path = std::getenv("CARBONKUBE_BENCH_CLUSTER");
  if (!path) {
    state.SkipWithError("set CARBONKUBE_BENCH_CLUSTER (bench/compare.sh)");
    return false;
  }
  in.objs = parse_kube_objects(read_file(path), path);
  in.snap = ClusterState::build(in.objs);
  for (const auto& p : in.objs.pods)
    if (p.is_pending()) in.pods.push_back(compile_pod(p, *in.snap));
  return true;
}

void run(benchmark::State& state, const Inputs& in, const Scheduler& sched,
         const ClusterConditions* cond) {
  ScoringContext ctx(1);
  for (const CompiledPod& pod : in.pods) sched.schedule(*in.snap, pod, ctx, cond);  // warm-up
  for (auto _ : state) {
    for (const CompiledPod& pod : in.pods) {
      CycleResult r = sched.schedule(*in.snap, pod, ctx, cond);
      benchmark::DoNotOptimize(r);
    }
  }
  const double pods = static_cast<double>(in.pods.size());
  const double nodes = static_cast<double>(in.snap->node_count());
  state.counters["pods"] = pods;
  state.counters["nodes"] = nodes;
  state.counters["ns_per_node_score"] =
      benchmark::Counter(pods * nodes * 1e-9, benchmark::Counter::kIsIterationInvariantRate |
                                                  benchmark::Counter::kInvert);
  state.counters["us_per_pod"] = benchmark::Counter(
      pods * 1e-6, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["snapshot_bytes_per_node"] = static_cast<double>(in.snap->memory_bytes()) / nodes;
}

void BM_CompareFitBalanced(benchmark::State& state) {
  Inputs in;
  if (!load(state, in)) return;
  Scheduler sched(
      compile_profile(parse_scheduler_config(ck_bench::kFitBalancedConfig, "fit-balanced.yaml")));
  run(state, in, sched, nullptr);
}
BENCHMARK(BM_CompareFitBalanced)->Unit(benchmark::kMillisecond);

// The seed profile (every node scored) with carbon conditions from the
// bundled Electricity Maps data.
void BM_CompareSeedProfile(benchmark::State& state) {
  Inputs in;
  if (!load(state, in)) return;
  const char* zones_path = std::getenv("CARBONKUBE_BENCH_ZONES");
  const char* signal_paths = std::getenv("CARBONKUBE_BENCH_SIGNALS");
  const char* at = std::getenv("CARBONKUBE_BENCH_AT");
  if (!zones_path || !signal_paths || !at) {
    state.SkipWithError("set CARBONKUBE_BENCH_ZONES, _SIGNALS and _AT (bench/compare.sh)");
    return;
  }
  ZoneMap zones = ZoneMap::parse(read_file(zones_path), zones_path);
  CarbonSignals signals;
  std::string_view rest(signal_paths);
  while (!rest.empty()) {
    const std::size_t colon = rest.find(':');
    const std::string p(rest.substr(0, colon));
    signals.add(load_electricitymaps_csv(read_file(p), p, IntensityScope::kLifecycle).series);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
  }
  const ClusterConditions cond =
      ClusterConditions::build(*in.snap, zones, signals, std::strtoll(at, nullptr, 10));
  Scheduler sched(compile_profile(parse_scheduler_config(
      ck_bench::seed_profile_all_nodes(seed_profile_yaml()), "seed-100.yaml")));
  run(state, in, sched, &cond);
}
BENCHMARK(BM_CompareSeedProfile)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
