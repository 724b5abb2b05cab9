// The Katalyst topology score on its own: one pod against 5,000 nodes with
// 2 sockets × 4 NUMA zones whose capacity is reported (as parse_topologies
// reads real CNRs), so the one-zone fit runs on every node. Arg 1 runs
// topology_alignment_scores (what KatalystTopologyScore calls), arg 0 the
// plain reference search per node; docs/benchmarks.md (issue 3) has figures.
#include <benchmark/benchmark.h>

#include <string>
#include <utility>
#include <vector>

#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"

using namespace carbonkube;

namespace {

constexpr std::int64_t kGi = 1024LL * 1024 * 1024;

void BM_TopologyScores(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  KubeObjects objs;
  std::vector<NodeTopology> topologies;
  for (int i = 0; i < n; ++i) {
    Node node;
    node.name = "node-";
    node.name += std::to_string(i);
    node.allocatable = {{"cpu", 64000}, {"memory", 256 * kGi}, {"pods", 110}};
    NodeTopology t;
    t.node_name = node.name;
    t.sockets = {"0", "1"};
    for (int z = 0; z < 8; ++z) {
      NumaZone zone;
      zone.id = z;
      zone.socket = z / 4;
      zone.allocatable_milli_cpu = zone.capacity_milli_cpu = 8000;
      zone.allocatable_memory = zone.capacity_memory = 32 * kGi;
      // A third of the zones are full, so the first zone does not always fit.
      zone.allocated_milli_cpu = (i + z) % 3 == 0 ? 8000 : 2666;
      zone.allocated_memory = zone.allocatable_memory / 3;
      t.numa.push_back(std::move(zone));
    }
    t.pue = 1.1 + 0.1 * static_cast<double>(i % 5);
    objs.nodes.push_back(std::move(node));
    topologies.push_back(std::move(t));
  }
  SnapshotPtr snap = ClusterState::build(objs);
  const TopologyTable table = TopologyTable::build(*snap, topologies);
  std::vector<NodeIndex> nodes(static_cast<std::size_t>(n));
  for (NodeIndex i = 0; i < static_cast<NodeIndex>(n); ++i) nodes[i] = i;
  std::vector<std::int64_t> scores(nodes.size());
  PodTopologyRequest req;  // shared_cores, 500m and 1Gi: the seed's pending pod
  req.milli_cpu = 500;
  req.memory = kGi;
  const bool fast = state.range(1) != 0;
  for (auto _ : state) {
    if (fast) {
      topology_alignment_scores(table, nodes, req, {}, scores);
    } else {
      for (std::size_t k = 0; k < nodes.size(); ++k)
        scores[k] = topology_alignment_score(table, nodes[k], req,
                                             fits_numa_reference(table, nodes[k], req));
    }
    benchmark::DoNotOptimize(scores.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_TopologyScores)
    ->ArgNames({"nodes", "fast"})
    ->Args({5000, 1})
    ->Args({5000, 0})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
