// Fuzz target: Katalyst CustomNodeResource JSON / YAML (parse_topologies),
// then the topology table for the bundled example cluster and a cycle of the
// seed profile (KatalystTopologyFilter/Score) for each example pending pod.
#include <cstddef>
#include <cstdint>

#include "carbonkube/topology.hpp"
#include "fuzz_common.hpp"
#include "fuzz_world.hpp"

using namespace carbonkube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Scheduler seed(seed_profile());
  const ck_fuzz::World& world = ck_fuzz::World::get();

  ParseLimits limits;
  limits.max_objects = 4096;
  TopologyObjects topo;
  if (!ck_fuzz::expect_ok_or_error(
          [&] { topo = parse_topologies(ck_fuzz::as_text(data, size), ck_fuzz::kSource, limits); }))
    return 0;

  const ClusterSnapshot& snap = *world.snapshot;
  std::optional<TopologyTable> table;
  if (!ck_fuzz::expect_ok_or_error([&] { table = TopologyTable::build(snap, topo.nodes); }, ""))
    return 0;
  ck_fuzz::check(table->node_count() == snap.node_count(), "topology table size");
  ClusterConditions cond = ClusterConditions::build(snap, world.zones, world.signals, world.at);
  cond.topology = &*table;
  for (const CompiledPod& pod : world.pending) {
    ScoringContext ctx(3);
    ck_fuzz::expect_ok_or_error(
        [&] {
          CycleResult r = seed.schedule(snap, pod, ctx, &cond);
          if (r.selected) ck_fuzz::check(*r.selected < snap.node_count(), "selected out of range");
          (void)explain(seed, snap, pod, ctx, r, &cond);
        },
        "");
  }
  return 0;
}
