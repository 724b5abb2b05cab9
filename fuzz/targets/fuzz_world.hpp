// fuzz/targets/fuzz_world.hpp: the bundled example cluster, zone map and
// carbon data, loaded once per fuzzer process, so that a target fuzzing one
// input (a pod, a CNR, a profile) runs it through a real scheduling cycle.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "carbonkube/conditions.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"

namespace ck_fuzz {

struct World {
  carbonkube::KubeObjects objects;
  carbonkube::SnapshotPtr snapshot;
  carbonkube::ZoneMap zones;
  carbonkube::CarbonSignals signals;
  std::int64_t at = 1689444000;  // 2023-07-15T18:00:00Z, the CLI test's time
  std::vector<carbonkube::NodeTopology> topologies;
  std::vector<carbonkube::CompiledPod> pending;

  static const World& get() {
    static const World world = load();
    return world;
  }

 private:
  static World load() {
    using namespace carbonkube;
    const std::string root = CARBONKUBE_SOURCE_DIR;
    World w;
    w.objects = parse_kube_objects(read_file(root + "/examples/cluster/nodes.json"), "nodes.json");
    KubeObjects pods =
        parse_kube_objects(read_file(root + "/examples/cluster/pods.yaml"), "pods.yaml");
    for (auto& p : pods.pods) w.objects.pods.push_back(std::move(p));
    w.snapshot = ClusterState::build(w.objects);
    w.zones = ZoneMap::parse(read_file(root + "/examples/config/zones.yaml"), "zones.yaml");
    for (const char* zone : {"US-CAL-CISO", "ES", "NO"}) {
      const std::string path =
          root + "/data/carbon/electricitymaps/" + std::string(zone) + "_2023_hourly.csv";
      w.signals.add(
          load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle).series);
    }
    w.topologies =
        parse_topologies(read_file(root + "/examples/cluster/cnrs.yaml"), "cnrs.yaml").nodes;
    for (const Pod& p : w.objects.pods)
      if (p.is_pending()) w.pending.push_back(compile_pod(p, *w.snapshot));
    return w;
  }
};

}  // namespace ck_fuzz
