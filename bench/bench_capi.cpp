// The C ABI's cost over the C++ API: 64 pending pods scored against the same
// synthetic cluster, once through Scheduler::schedule in a loop and once
// through ck_score_batch (and ck_score_pod). Issue 4's target: the batch
// within 5 % of the C++ API. Run: build/bin/bench_capi (see
// docs/benchmarks.md for the recorded numbers and the exact command).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "carbonkube.h"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"
#include "synthetic.hpp"

using namespace carbonkube;

namespace {

constexpr int kPods = 64;

// The same configuration as bench_scoring (issue 2's target).
const char* const kFitBalanced = ck_bench::kFitBalancedConfig;

std::string pending_pod_yaml(int i) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: pending-" + std::to_string(i) +
         "}\nspec:\n  containers:\n  - name: app\n"
         "    resources: {requests: {cpu: 500m, memory: 1Gi}}\n";
}

void check(ck_status s) {
  if (s != CK_OK) throw std::runtime_error(ck_last_error());
}

// The synthetic cluster of bench_scoring, fed to the C ABI as plain arrays.
struct CapiCluster {
  ck_engine* engine = nullptr;
  ck_cluster* cluster = nullptr;
  ck_snapshot* snapshot = nullptr;
  std::vector<ck_pod*> pods;

  explicit CapiCluster(const KubeObjects& objs) {
    ck_engine_options eo = CK_ENGINE_OPTIONS_INIT;
    eo.scheduler_config = kFitBalanced;
    eo.scheduler_config_len = std::char_traits<char>::length(kFitBalanced);
    check(ck_engine_create(&engine, &eo));
    check(ck_cluster_create(&cluster));
    const std::size_t n = objs.nodes.size();
    std::vector<std::string> labels(n);
    std::vector<const char*> names(n), label_ptrs(n);
    const char* resources[] = {"cpu", "memory", "pods", "ephemeral-storage"};
    std::vector<std::vector<std::int64_t>> alloc(4, std::vector<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) {
      const Node& node = objs.nodes[i];
      names[i] = node.name.c_str();
      for (const auto& [k, v] : node.labels)
        labels[i] += (labels[i].empty() ? "" : ",") + k + "=" + v;
      label_ptrs[i] = labels[i].c_str();
      for (const ResourceAmount& a : node.allocatable)
        for (std::size_t r = 0; r < 4; ++r)
          if (a.name == resources[r]) alloc[r][i] = a.amount;
    }
    const std::int64_t* columns[] = {alloc[0].data(), alloc[1].data(), alloc[2].data(),
                                     alloc[3].data()};
    ck_node_arrays na = CK_NODE_ARRAYS_INIT;
    na.count = n;
    na.names = names.data();
    na.labels = label_ptrs.data();
    na.resource_count = 4;
    na.resource_names = resources;
    na.allocatable = columns;
    check(ck_cluster_apply_node_arrays(cluster, &na));

    const std::size_t m = objs.pods.size();
    std::vector<const char*> pod_names(m), namespaces(m), nodes(m);
    std::vector<std::int64_t> cpu(m), mem(m);
    for (std::size_t i = 0; i < m; ++i) {
      const Pod& p = objs.pods[i];
      pod_names[i] = p.name.c_str();
      namespaces[i] = p.namespace_name.c_str();
      nodes[i] = p.node_name.c_str();
      for (const auto& [k, q] : p.containers[0].requests)
        (k == "cpu" ? cpu[i] : mem[i]) = k == "cpu" ? q.milli_value() : q.value();
    }
    const char* pod_resources[] = {"cpu", "memory"};
    const std::int64_t* requests[] = {cpu.data(), mem.data()};
    ck_pod_arrays pa = CK_POD_ARRAYS_INIT;
    pa.count = m;
    pa.namespaces = namespaces.data();
    pa.names = pod_names.data();
    pa.node_names = nodes.data();
    pa.resource_count = 2;
    pa.resource_names = pod_resources;
    pa.requests = requests;
    check(ck_cluster_apply_pod_arrays(cluster, &pa));
    check(ck_snapshot_publish(&snapshot, cluster, engine, nullptr));
    for (int i = 0; i < kPods; ++i) {
      const std::string text = pending_pod_yaml(i);
      ck_pod* pod = nullptr;
      check(ck_pod_create(&pod, snapshot, text.data(), text.size()));
      pods.push_back(pod);
    }
  }
  ~CapiCluster() {
    for (ck_pod* p : pods) ck_pod_free(p);
    ck_snapshot_free(snapshot);
    ck_cluster_free(cluster);
    ck_engine_free(engine);
  }
};

void per_pod_counters(benchmark::State& state) {
  state.counters["pods"] = kPods;
  state.counters["ns_per_pod"] = benchmark::Counter(
      kPods, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_CppScheduleLoop(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto snap = ClusterState::build(ck_bench::synthetic_cluster(n, 10));
  Scheduler sched(compile_profile(parse_scheduler_config(kFitBalanced, "bench.yaml")));
  std::vector<CompiledPod> pods;
  for (int i = 0; i < kPods; ++i) {
    const std::string text = pending_pod_yaml(i);
    pods.push_back(compile_pod(parse_kube_objects(text, "pod").pods.front(), *snap));
  }
  ScoringContext ctx(1);
  std::vector<std::int64_t> selected(kPods);
  for (auto _ : state) {
    for (int i = 0; i < kPods; ++i) {
      const CycleResult r = sched.schedule(*snap, pods[static_cast<std::size_t>(i)], ctx);
      selected[static_cast<std::size_t>(i)] = r.selected ? std::int64_t{*r.selected} : -1;
    }
    benchmark::DoNotOptimize(selected.data());
  }
  per_pod_counters(state);
}
BENCHMARK(BM_CppScheduleLoop)->Arg(5000)->Unit(benchmark::kMicrosecond);

void BM_CapiScoreBatch(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  CapiCluster c(ck_bench::synthetic_cluster(n, 10));
  ck_context* ctx = nullptr;
  check(ck_context_create(&ctx, 1));
  std::vector<ck_pod_result> out(kPods);
  std::vector<const ck_pod*> pods(c.pods.begin(), c.pods.end());
  for (auto _ : state) {
    check(ck_score_batch(out.data(), out.size(), nullptr, 0, c.engine, c.snapshot, pods.data(),
                         pods.size(), ctx, nullptr));
    benchmark::DoNotOptimize(out.data());
  }
  ck_context_free(ctx);
  per_pod_counters(state);
}
BENCHMARK(BM_CapiScoreBatch)->Arg(5000)->Unit(benchmark::kMicrosecond);

// The same, also writing every pod's total per node (64 x 5,000 values).
void BM_CapiScoreBatchWithTotals(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  CapiCluster c(ck_bench::synthetic_cluster(n, 10));
  ck_context* ctx = nullptr;
  check(ck_context_create(&ctx, 1));
  std::vector<ck_pod_result> out(kPods);
  std::vector<std::int64_t> totals(static_cast<std::size_t>(kPods) * static_cast<std::size_t>(n));
  std::vector<const ck_pod*> pods(c.pods.begin(), c.pods.end());
  for (auto _ : state) {
    check(ck_score_batch(out.data(), out.size(), totals.data(), totals.size(), c.engine, c.snapshot,
                         pods.data(), pods.size(), ctx, nullptr));
    benchmark::DoNotOptimize(totals.data());
  }
  ck_context_free(ctx);
  per_pod_counters(state);
}
BENCHMARK(BM_CapiScoreBatchWithTotals)->Arg(5000)->Unit(benchmark::kMicrosecond);

// One ck_score_pod per pod, with per-node results (what a host's scheduling
// cycle calls).
void BM_CapiScorePodLoop(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  CapiCluster c(ck_bench::synthetic_cluster(n, 10));
  ck_context* ctx = nullptr;
  check(ck_context_create(&ctx, 1));
  ck_pod_result res;
  std::vector<ck_node_result> nodes(static_cast<std::size_t>(n));
  for (auto _ : state) {
    for (ck_pod* pod : c.pods)
      check(ck_score_pod(&res, nodes.data(), nodes.size(), nullptr, 0, c.engine, c.snapshot, pod,
                         ctx, nullptr));
    benchmark::DoNotOptimize(nodes.data());
  }
  ck_context_free(ctx);
  per_pod_counters(state);
}
BENCHMARK(BM_CapiScorePodLoop)->Arg(5000)->Unit(benchmark::kMicrosecond);

// The floor of any call through the ABI.
void BM_CapiTrivialCall(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ck_version_number());
}
BENCHMARK(BM_CapiTrivialCall);

}  // namespace

BENCHMARK_MAIN();
