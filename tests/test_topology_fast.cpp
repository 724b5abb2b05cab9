// Property test: fits_numa() and topology_alignment_scores() (the fast
// paths the topology plugins run) give exactly what the plain subset search
// fits_numa_reference() and the per-node topology_alignment_score() give, on
// random Katalyst topologies with edge values, for every kind of request.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using ck_test::make_node;

namespace {

constexpr std::int64_t kGi = 1024LL * 1024 * 1024;
constexpr std::int64_t kHuge = std::numeric_limits<std::int64_t>::max() / 4;

struct RandomCluster {
  SnapshotPtr snap;
  TopologyTable table;
  std::vector<NodeIndex> nodes;
};

/// A uniform integer in [0, n) (n > 0).
int below(std::mt19937_64& rng, int n) {
  return static_cast<int>(rng() % static_cast<std::uint64_t>(n));
}

/// "prefix" followed by n.
std::string named(const char* prefix, int n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

/// A value drawn mostly from a realistic range, sometimes an edge (0, 1,
/// the exact `pivot`, one either side of it, a huge value).
std::int64_t edgy(std::mt19937_64& rng, std::int64_t typical, std::int64_t pivot) {
  switch (rng() % 8) {
    case 0:
      return 0;
    case 1:
      return pivot;
    case 2:
      return pivot - 1;
    case 3:
      return pivot + 1;
    case 4:
      return rng() % 64 == 0 ? kHuge : 1;
    default:
      return static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(typical + 1));
  }
}

RandomCluster random_cluster(std::mt19937_64& rng, std::int64_t cpu_pivot, std::int64_t mem_pivot) {
  KubeObjects objs;
  std::vector<NodeTopology> topologies;
  const int node_count = 1 + static_cast<int>(rng() % 12);
  for (int n = 0; n < node_count; ++n) {
    const std::string name = named("node-", n);
    const std::int64_t node_gpus = static_cast<std::int64_t>(rng() % 4);
    objs.nodes.push_back(make_node(name, 128000, 512 * kGi, 110, {{"nvidia.com/gpu", node_gpus}}));
    if (rng() % 10 == 0) continue;  // no CNR: neutral
    NodeTopology t;
    t.node_name = name;
    const int sockets = static_cast<int>(rng() % 3);
    for (int s = 0; s < sockets; ++s) t.sockets.push_back(std::to_string(s));
    // Up to 12 zones: past 8 the reference is greedy, not exhaustive.
    const int zones = rng() % 6 == 0 ? static_cast<int>(rng() % 13) : static_cast<int>(rng() % 9);
    for (int z = 0; z < zones; ++z) {
      NumaZone nz;
      nz.id = z;
      nz.socket = sockets == 0 || rng() % 10 == 0 ? -1 : static_cast<std::int32_t>(z % sockets);
      nz.allocatable_milli_cpu = edgy(rng, 32000, cpu_pivot);
      nz.allocatable_memory = edgy(rng, 64 * kGi, mem_pivot);
      nz.capacity_milli_cpu = rng() % 8 == 0 ? 0 : nz.allocatable_milli_cpu;
      nz.capacity_memory = rng() % 8 == 0 ? 0 : nz.allocatable_memory;
      nz.allocated_milli_cpu = rng() % 3 == 0 ? 0 : edgy(rng, nz.allocatable_milli_cpu, cpu_pivot);
      nz.allocated_memory = rng() % 3 == 0 ? 0 : edgy(rng, nz.allocatable_memory, mem_pivot);
      if (rng() % 3 == 0) nz.consumers.push_back(named("default/busy/uid-", z));
      t.numa.push_back(nz);
    }
    const int nics = static_cast<int>(rng() % 3);
    for (int k = 0; k < nics; ++k) {
      NicZone nic;
      nic.name = named("eth", k);
      if (zones > 0 && rng() % 2 == 0) nic.numa_ids = std::uint64_t{1} << below(rng, zones);
      if (sockets > 0 && rng() % 2 == 0) nic.socket = below(rng, sockets);
      t.nics.push_back(nic);
    }
    if (rng() % 3 == 0) {
      const int gpus = 1 + static_cast<int>(rng() % 4);
      for (int g = 0; g < gpus; ++g) {
        GpuZone gz;
        gz.name = named("gpu-", g);
        if (zones > 0 && rng() % 3 != 0) gz.numa_ids = std::uint64_t{1} << below(rng, zones);
        if (sockets > 0 && rng() % 3 == 0) gz.socket = below(rng, sockets);
        gz.allocatable = 1 + static_cast<std::int64_t>(rng() % 2);
        gz.allocated = static_cast<std::int64_t>(rng() % 3);
        t.gpus.push_back(gz);
      }
    }
    if (rng() % 2 == 0) {
      const double pues[] = {1.0, 1.05, 1.2, 1.499, 1.5, 1.995, 2.0, 3.5, 10.0};
      t.pue = pues[rng() % std::size(pues)];
    }
    if (rng() % 4 == 0) {
      t.reclaimed_reported = true;
      t.reclaimed_allocatable_milli_cpu = edgy(rng, 64000, cpu_pivot);
      t.reclaimed_allocatable_memory = edgy(rng, 128 * kGi, mem_pivot);
    }
    topologies.push_back(std::move(t));
  }
  RandomCluster c;
  c.snap = ClusterState::build(objs);
  c.table = TopologyTable::build(*c.snap, topologies);
  for (NodeIndex i = 0; i < c.table.node_count(); ++i) c.nodes.push_back(i);
  return c;
}

PodTopologyRequest random_request(std::mt19937_64& rng, std::int64_t cpu_pivot,
                                  std::int64_t mem_pivot) {
  PodTopologyRequest req;
  const KatalystQosLevel levels[] = {
      KatalystQosLevel::kSharedCores, KatalystQosLevel::kDedicatedCores,
      KatalystQosLevel::kReclaimedCores, KatalystQosLevel::kSystemCores};
  // Half the requests are the common case the fast path takes.
  const bool simple = rng() % 2 == 0;
  req.qos = simple ? KatalystQosLevel::kSharedCores : levels[rng() % 4];
  req.reclaimed = req.qos == KatalystQosLevel::kReclaimedCores;
  req.numa_binding = !simple && rng() % 2 == 0;
  req.numa_exclusive =
      req.numa_binding && req.qos == KatalystQosLevel::kDedicatedCores && rng() % 2 == 0;
  req.numa_number = req.numa_binding && rng() % 2 == 0 ? static_cast<std::int32_t>(rng() % 10) : 0;
  req.milli_cpu = edgy(rng, 40000, cpu_pivot);
  req.memory = edgy(rng, 96 * kGi, mem_pivot);
  req.gpus = simple ? 0 : static_cast<std::int64_t>(rng() % 3);
  return req;
}

/// ceil(Σ zone capacity / zones) per resource, and the fewest such zones
/// holding the request: what NumaFit::ideal_numa_count must say.
std::uint8_t plain_ideal(const TopologyTable& t, NodeIndex i, const PodTopologyRequest& req) {
  if (req.milli_cpu <= 0 && req.memory <= 0) return 0;
  std::int64_t need = 1;
  const std::int64_t wants[] = {req.milli_cpu, req.memory};
  const std::int64_t sizes[] = {t.numa_size_milli_cpu()[i], t.numa_size_memory()[i]};
  for (int r = 0; r < 2; ++r) {
    if (wants[r] <= 0) continue;
    if (sizes[r] <= 0) {
      need = 255;
    } else {
      need = std::max(need, (wants[r] + sizes[r] - 1) / sizes[r]);
    }
  }
  return static_cast<std::uint8_t>(std::min<std::int64_t>(need, 255));
}

}  // namespace

TEST_CASE("topology fast path: fits_numa and the batch score equal the reference search") {
  int compared = 0, simple_single_zone = 0, unfit = 0;
  for (std::uint64_t seed = 1; seed <= 400; ++seed) {
    std::mt19937_64 rng(seed);
    // Pivots shared by zones and requests make "exactly fits" common.
    const std::int64_t cpu_pivot = 1 + static_cast<std::int64_t>(rng() % 16000);
    const std::int64_t mem_pivot = 1 + static_cast<std::int64_t>(rng() % (32 * kGi));
    RandomCluster c = random_cluster(rng, cpu_pivot, mem_pivot);
    std::vector<std::int64_t> batch(c.nodes.size());
    for (int r = 0; r < 25; ++r) {
      const PodTopologyRequest req = random_request(rng, cpu_pivot, mem_pivot);
      TopologyScoreTerms terms;
      terms.numa = rng() % 5 != 0;
      terms.device = rng() % 5 != 0;
      terms.power = rng() % 5 != 0;
      topology_alignment_scores(c.table, c.nodes, req, terms, batch);
      for (NodeIndex i : c.nodes) {
        CAPTURE(seed);
        CAPTURE(r);
        CAPTURE(i);
        const NumaFit fast = fits_numa(c.table, i, req);
        const NumaFit ref = fits_numa_reference(c.table, i, req);
        REQUIRE(fast.fits == ref.fits);
        REQUIRE(fast.reason == ref.reason);
        REQUIRE(fast.numa_count == ref.numa_count);
        REQUIRE(fast.numa_mask == ref.numa_mask);
        REQUIRE(fast.ideal_numa_count == ref.ideal_numa_count);
        const std::int64_t score = topology_alignment_score(c.table, i, req, ref, terms);
        REQUIRE(batch[i] == score);
        REQUIRE(score >= 0);
        REQUIRE(score <= 100);
        // ideal_numa_count is set once the GPU and reclaimed checks pass.
        const bool gpu_short = req.gpus > 0 && c.table.gpus_free()[i] < req.gpus;
        if (c.table.has_topology(i) && !req.reclaimed && !gpu_short)
          REQUIRE(ref.ideal_numa_count == plain_ideal(c.table, i, req));
        if (!req.numa_binding && !req.reclaimed && req.gpus == 0 && ref.numa_count == 1)
          ++simple_single_zone;
        if (!ref.fits) ++unfit;
        ++compared;
      }
    }
  }
  // The random tables reach the fast path's answers and the failures.
  CHECK(compared > 20000);
  CHECK(simple_single_zone > 1000);
  CHECK(unfit > 1000);
}

TEST_CASE("topology fast path: power term precomputed as 100 x (2 - PUE), 50 when unknown") {
  KubeObjects objs;
  const double pues[] = {1.0, 1.25, 1.2, 1.99, 2.0, 4.0};
  std::vector<NodeTopology> topologies;
  for (std::size_t k = 0; k < std::size(pues); ++k) {
    objs.nodes.push_back(make_node(named("n", static_cast<int>(k)), 8000, 32 * kGi));
    NodeTopology t;
    t.node_name = named("n", static_cast<int>(k));
    t.pue = pues[k];
    topologies.push_back(t);
  }
  objs.nodes.push_back(make_node("unknown-pue", 8000, 32 * kGi));
  NodeTopology unknown;
  unknown.node_name = "unknown-pue";
  topologies.push_back(unknown);
  SnapshotPtr snap = ClusterState::build(objs);
  TopologyTable t = TopologyTable::build(*snap, topologies);
  const int want[] = {100, 75, 80, 1, 0, 0};
  for (std::size_t k = 0; k < std::size(pues); ++k)
    CHECK(t.power_score()[*snap->find_node(named("n", static_cast<int>(k)))] == want[k]);
  CHECK(t.power_score()[*snap->find_node("unknown-pue")] == 50);
}
