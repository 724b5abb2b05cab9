// Fuzz target: Node and Pod JSON / YAML (parse_kube_objects), then what a
// host does with them: build a snapshot, compile every pending pod, read its
// carbon QoS and Katalyst topology request, and run a scheduling cycle with
// the seed profile (carbon, QoS and topology plugins on the bundled zone map
// and 2023 carbon data) and kube-scheduler's default profile.
// Oracles (fuzz_common.hpp): only carbonkube::Error escapes, naming the input
// or the pod; a cycle selects a feasible node or none; totals are >= 0.
#include <cstddef>
#include <cstdint>

#include "carbonkube/qos.hpp"
#include "carbonkube/topology.hpp"
#include "fuzz_common.hpp"
#include "fuzz_world.hpp"

using namespace carbonkube;

namespace {

constexpr std::size_t kMaxNodesToSchedule = 512;
constexpr std::size_t kMaxPodsToSchedule = 8;

void run_cycle(const Scheduler& scheduler, const ClusterSnapshot& snap, const CompiledPod& pod,
               const ClusterConditions* cond) {
  ScoringContext ctx(7);
  ck_fuzz::expect_ok_or_error(
      [&] {
        CycleResult r = scheduler.schedule(snap, pod, ctx, cond);
        ck_fuzz::check(r.feasible <= snap.node_count(), "more feasible nodes than nodes");
        ck_fuzz::check(r.processed <= snap.node_count(), "more processed nodes than nodes");
        if (r.selected) {
          ck_fuzz::check(*r.selected < snap.node_count(), "selected node out of range");
          ck_fuzz::check(r.total >= 0, "negative total score");
        } else {
          ck_fuzz::check(r.feasible == 0, "feasible nodes but none selected");
        }
        Explanation e = explain(scheduler, snap, pod, ctx, r, cond);
        ck_fuzz::check(e.nodes.size() == snap.node_count(), "explanation misses nodes");
      },
      "");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Scheduler seed(seed_profile());
  static const Scheduler defaults(default_profile());
  const ck_fuzz::World& world = ck_fuzz::World::get();

  ParseLimits limits;
  limits.max_objects = 4096;
  KubeObjects objs;
  if (!ck_fuzz::expect_ok_or_error([&] {
        objs = parse_kube_objects(ck_fuzz::as_text(data, size), ck_fuzz::kSource, limits);
      }))
    return 0;
  if (objs.nodes.size() > kMaxNodesToSchedule) return 0;

  SnapshotPtr snap;
  if (!ck_fuzz::expect_ok_or_error([&] { snap = ClusterState::build(objs); }, "")) return 0;
  ck_fuzz::check(snap->node_count() <= objs.nodes.size(), "snapshot has more nodes than input");

  std::optional<ClusterConditions> cond;
  std::optional<TopologyTable> topo;
  ck_fuzz::expect_ok_or_error(
      [&] {
        cond = ClusterConditions::build(*snap, world.zones, world.signals, world.at);
        topo = TopologyTable::build(*snap, world.topologies);
        cond->topology = &*topo;
      },
      "");

  std::size_t scheduled = 0;
  for (const Pod& pod : objs.pods) {
    if (!pod.is_pending() || scheduled++ == kMaxPodsToSchedule) continue;
    ck_fuzz::expect_ok_or_error([&] { (void)pod_carbon_qos(pod); }, "");
    ck_fuzz::expect_ok_or_error([&] { (void)pod_topology_request(pod); }, "");
    CompiledPod compiled;
    if (!ck_fuzz::expect_ok_or_error([&] { compiled = compile_pod(pod, *snap); }, "")) continue;
    run_cycle(defaults, *snap, compiled, nullptr);
    if (cond) run_cycle(seed, *snap, compiled, &*cond);
  }
  return 0;
}
