// bench/synthetic.hpp: what the benchmarks share: seeded synthetic clusters
// (nodes in a few zones with realistic capacities, ten bound pods per node,
// pending pods with typical requests) and the scheduler configurations they
// time.
#pragma once

#include <random>
#include <string>
#include <string_view>

#include "carbonkube/kube.hpp"

namespace ck_bench {

/// The configuration of issue 2's target: NodeResourcesFit (filter and
/// LeastAllocated) + NodeResourcesBalancedAllocation, every node scored.
inline constexpr const char* kFitBalancedConfig = R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- percentageOfNodesToScore: 100
  plugins:
    multiPoint: {disabled: [{name: '*'}]}
    filter: {enabled: [{name: NodeResourcesFit}]}
    score: {enabled: [{name: NodeResourcesFit}, {name: NodeResourcesBalancedAllocation}]}
)";

/// kube-scheduler's default plugins that carbonkube runs (NodeUnschedulable,
/// TaintToleration, NodeAffinity, NodeResourcesFit, BalancedAllocation),
/// every node scored.
inline constexpr const char* kDefaultPluginsConfig = R"(apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- percentageOfNodesToScore: 100
)";

/// The seed's profile (katalyst-carbon-scheduler) with every node scored (the
/// seed leaves kube-scheduler's adaptive default).
inline std::string seed_profile_all_nodes(std::string_view seed_yaml) {
  std::string yaml(seed_yaml);
  const std::string key = "- schedulerName: katalyst-carbon-scheduler\n";
  yaml.insert(yaml.find(key) + key.size(), "  percentageOfNodesToScore: 100\n");
  return yaml;
}

inline carbonkube::KubeObjects synthetic_cluster(int nodes, int pods_per_node,
                                                 std::uint64_t seed = 42) {
  using namespace carbonkube;
  std::mt19937_64 rng(seed);
  const std::int64_t cpu_sizes[] = {3920, 7910, 15890, 31850, 63770};
  const std::int64_t mem_gib[] = {15, 31, 62, 124, 248};
  const char* zones[] = {"us-west-1a", "us-west-1b", "eu-south-2a", "eu-north-1a"};
  KubeObjects objs;
  objs.nodes.reserve(static_cast<std::size_t>(nodes));
  for (int i = 0; i < nodes; ++i) {
    Node n;
    n.name = "node-" + std::to_string(i);
    std::size_t size = rng() % 5;
    n.allocatable = {{"cpu", cpu_sizes[size]},
                     {"memory", mem_gib[size] << 30},
                     {"pods", 110},
                     {"ephemeral-storage", 100LL << 30}};
    const char* zone = zones[static_cast<std::size_t>(i) % 4];
    n.labels = {{"kubernetes.io/hostname", n.name},
                {"topology.kubernetes.io/region", std::string(zone).substr(0, 9)},
                {"topology.kubernetes.io/zone", zone}};
    objs.nodes.push_back(std::move(n));
  }
  objs.pods.reserve(static_cast<std::size_t>(nodes) * static_cast<std::size_t>(pods_per_node));
  for (int i = 0; i < nodes * pods_per_node; ++i) {
    Pod p;
    p.name = "pod-" + std::to_string(i);
    p.namespace_name = "ns-" + std::to_string(i % 20);
    p.node_name = "node-" + std::to_string(i % nodes);
    p.phase = PodPhase::kRunning;
    Container c;
    c.name = "app";
    c.requests = {{"cpu", parse_quantity(std::to_string(50 + rng() % 400) + "m")},
                  {"memory", parse_quantity(std::to_string(64 + rng() % 1024) + "Mi")}};
    p.containers.push_back(std::move(c));
    objs.pods.push_back(std::move(p));
  }
  return objs;
}

inline carbonkube::Pod pending_pod(int i) {
  using namespace carbonkube;
  Pod p;
  p.name = "pending-" + std::to_string(i);
  Container c;
  c.name = "app";
  c.requests = {{"cpu", parse_quantity("500m")}, {"memory", parse_quantity("1Gi")}};
  p.containers.push_back(std::move(c));
  return p;
}

}  // namespace ck_bench
