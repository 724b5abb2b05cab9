// tests/fixtures.hpp: small builders for Nodes and Pods, a seeded random
// cluster generator, and the error-message helpers shared by the tests.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"

namespace ck_test {

using namespace carbonkube;

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// The message of the carbonkube::Error f throws, or "" when it returns.
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

inline Node make_node(const std::string& name, std::int64_t milli_cpu, std::int64_t memory,
                      std::int64_t pods = 110, std::vector<ResourceAmount> extra = {}) {
  Node n;
  n.name = name;
  n.allocatable = {{"cpu", milli_cpu}, {"memory", memory}, {"pods", pods}};
  for (auto& e : extra) n.allocatable.push_back(e);
  return n;
}

inline Pod make_pod(const std::string& name,
                    std::vector<std::pair<std::string, std::string>> requests,
                    const std::string& node = "") {
  Pod p;
  p.name = name;
  p.node_name = node;
  p.phase = node.empty() ? PodPhase::kPending : PodPhase::kRunning;
  Container c;
  c.name = "c";
  for (auto& [k, v] : requests) c.requests.emplace_back(k, parse_quantity(v));
  p.containers.push_back(c);
  return p;
}

/// A random cluster: nodes with varied capacity, bound pods with varied
/// requests (some missing cpu or memory requests, some with GPUs).
struct RandomCluster {
  std::vector<Node> nodes;
  std::vector<Pod> bound;
  std::vector<Pod> pending;
};

inline RandomCluster random_cluster(std::uint64_t seed, int n_nodes, int n_bound, int n_pending) {
  std::mt19937_64 rng(seed);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  RandomCluster c;
  for (int i = 0; i < n_nodes; ++i) {
    std::vector<ResourceAmount> extra;
    if (pick(0, 4) == 0) extra.push_back({"nvidia.com/gpu", pick(1, 8)});
    std::int64_t cpu = pick(0, 9) == 0 ? 0 : pick(1, 64) * 1000 - pick(0, 500);
    c.nodes.push_back(make_node("node-" + std::to_string(i), cpu, pick(1, 256) * 1073741824LL,
                                pick(5, 110), extra));
  }
  auto random_requests = [&]() {
    std::vector<std::pair<std::string, std::string>> r;
    if (pick(0, 5) != 0) r.emplace_back("cpu", std::to_string(pick(0, 8000)) + "m");
    if (pick(0, 5) != 0) r.emplace_back("memory", std::to_string(pick(0, 32768)) + "Mi");
    if (pick(0, 9) == 0) r.emplace_back("nvidia.com/gpu", std::to_string(pick(1, 2)));
    return r;
  };
  for (int i = 0; i < n_bound; ++i)
    c.bound.push_back(make_pod("bound-" + std::to_string(i), random_requests(),
                               "node-" + std::to_string(pick(0, n_nodes - 1))));
  for (int i = 0; i < n_pending; ++i)
    c.pending.push_back(make_pod("pending-" + std::to_string(i), random_requests()));
  return c;
}

}  // namespace ck_test
