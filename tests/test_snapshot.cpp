// ClusterState / ClusterSnapshot: usage accounting, copy-on-write updates that
// leave old snapshots untouched, and incremental updates equal to a rebuild.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "carbonkube/error.hpp"
#include "carbonkube/snapshot.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

namespace {
// Everything a snapshot says about one node, keyed by name (order-free).
struct NodeView {
  std::map<std::string, std::int64_t> alloc, req, nz;
  std::int32_t pods;
  bool operator==(const NodeView&) const = default;
};
std::map<std::string, NodeView> view(const ClusterSnapshot& s) {
  std::map<std::string, NodeView> out;
  for (NodeIndex i = 0; i < s.node_count(); ++i) {
    NodeView v;
    for (ResourceId r = 0; r < s.resources().size(); ++r) {
      const std::string& name = s.resources().name(r);
      if (s.allocatable(r)[i]) v.alloc[name] = s.allocatable(r)[i];
      if (s.requested(r)[i]) v.req[name] = s.requested(r)[i];
      if (s.nonzero_requested(r)[i]) v.nz[name] = s.nonzero_requested(r)[i];
    }
    v.pods = s.pod_count()[i];
    out[s.node_name(i)] = v;
  }
  return out;
}
}  // namespace

TEST_CASE("bound pods count as usage, terminal and pending pods do not") {
  KubeObjects objs;
  objs.nodes = {make_node("a", 4000, 8LL << 30), make_node("b", 2000, 4LL << 30)};
  objs.pods = {make_pod("p1", {{"cpu", "500m"}, {"memory", "1Gi"}}, "a"),
               make_pod("p2", {}, "a"),  // best effort: 0 requested, 100m/200Mi non-zero
               make_pod("p3", {{"cpu", "1"}})};
  Pod done = make_pod("p4", {{"cpu", "3"}}, "b");
  done.phase = PodPhase::kSucceeded;
  objs.pods.push_back(done);
  auto snap = ClusterState::build(objs);
  auto a = *snap->find_node("a");
  auto b = *snap->find_node("b");
  CHECK(snap->requested(kCpu)[a] == 500);
  CHECK(snap->nonzero_requested(kCpu)[a] == 600);
  CHECK(snap->nonzero_requested(kMemory)[a] == (1LL << 30) + 200LL * 1048576);
  CHECK(snap->pod_count()[a] == 2);
  CHECK(snap->requested(kCpu)[b] == 0);
  CHECK(snap->pod_count()[b] == 0);
  CHECK(snap->allocatable(kPods)[a] == 110);
  CHECK(!snap->find_node("zzz").has_value());
}

TEST_CASE("published snapshots are never disturbed by later updates") {
  ClusterState state;
  state.upsert_node(make_node("a", 4000, 1 << 30));
  state.upsert_node(make_node("b", 4000, 1 << 30));
  auto s1 = state.publish();
  const std::int64_t* alloc_before = s1->allocatable(kCpu).data();
  state.upsert_pod(make_pod("p", {{"cpu", "1"}}, "a"));
  auto s2 = state.publish();
  CHECK(s1->requested(kCpu)[*s1->find_node("a")] == 0);
  CHECK(s2->requested(kCpu)[*s2->find_node("a")] == 1000);
  // Columns the update did not touch are shared, not copied.
  CHECK(s2->allocatable(kCpu).data() == alloc_before);
  CHECK(s2->requested(kCpu).data() != s1->requested(kCpu).data());
  CHECK(s2->generation() > s1->generation());

  state.remove_node("a");
  auto s3 = state.publish();
  CHECK(s3->node_count() == 1);
  CHECK(s2->node_count() == 2);
  CHECK(s2->node_name(*s2->find_node("a")) == "a");
}

TEST_CASE("pods on a node that is not there yet count once it appears") {
  ClusterState state;
  state.upsert_pod(make_pod("early", {{"cpu", "750m"}}, "late-node"));
  state.upsert_node(make_node("late-node", 4000, 1 << 30));
  auto s = state.publish();
  CHECK(s->requested(kCpu)[0] == 750);
  CHECK(s->pod_count()[0] == 1);
  // ...and stop counting when deleted, and again when the node comes back.
  state.remove_node("late-node");
  state.upsert_node(make_node("late-node", 8000, 1 << 30));
  s = state.publish();
  CHECK(s->requested(kCpu)[0] == 750);
  CHECK(s->allocatable(kCpu)[0] == 8000);
  CHECK(state.remove_pod("default/early"));
  CHECK(!state.remove_pod("default/early"));
  s = state.publish();
  CHECK(s->requested(kCpu)[0] == 0);
  CHECK(s->pod_count()[0] == 0);
}

TEST_CASE("a pod that finishes stops counting") {
  ClusterState state;
  state.upsert_node(make_node("a", 4000, 1 << 30));
  Pod p = make_pod("job", {{"cpu", "2"}}, "a");
  state.upsert_pod(p);
  CHECK(state.publish()->requested(kCpu)[0] == 2000);
  p.phase = PodPhase::kSucceeded;
  state.upsert_pod(p);
  CHECK(state.publish()->requested(kCpu)[0] == 0);
}

TEST_CASE("property: any sequence of incremental updates equals a rebuild") {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    CAPTURE(seed);
    auto c = random_cluster(seed, 30, 120, 0);
    std::mt19937_64 rng(seed * 7919);
    ClusterState state;
    std::map<std::string, Node> nodes;
    std::map<std::string, Pod> pods;
    std::vector<SnapshotPtr> history;
    for (int step = 0; step < 400; ++step) {
      int op = static_cast<int>(rng() % 6);
      if (op <= 1) {
        Node n = c.nodes[rng() % c.nodes.size()];
        n.allocatable[0].amount += static_cast<std::int64_t>(rng() % 3) * 1000;  // changed capacity
        state.upsert_node(n);
        nodes[n.name] = n;
      } else if (op == 2 && !nodes.empty()) {
        auto it = std::next(nodes.begin(), static_cast<long>(rng() % nodes.size()));
        CHECK(state.remove_node(it->first));
        nodes.erase(it);
      } else if (op <= 4) {
        Pod p = c.bound[rng() % c.bound.size()];
        if (rng() % 4 == 0) p.node_name = "node-" + std::to_string(rng() % 30);  // moved
        state.upsert_pod(p);
        pods[p.key()] = p;
      } else if (!pods.empty()) {
        auto it = std::next(pods.begin(), static_cast<long>(rng() % pods.size()));
        CHECK(state.remove_pod(it->first));
        pods.erase(it);
      }
      if (step % 37 == 0) history.push_back(state.publish());
    }
    KubeObjects objs;
    for (auto& [_, n] : nodes) objs.nodes.push_back(n);
    for (auto& [_, p] : pods) objs.pods.push_back(p);
    CHECK(view(*state.publish()) == view(*ClusterState::build(objs)));
    // Old snapshots stay internally consistent (sizes match their node count).
    for (const auto& s : history) {
      for (ResourceId r = 0; r < s->resources().size(); ++r)
        CHECK(s->allocatable(r).size() == s->node_count());
      CHECK(s->pod_count().size() == s->node_count());
    }
  }
}

TEST_CASE("labels and taints are interned per node") {
  Node n = make_node("a", 1000, 1 << 30);
  n.labels = {{"topology.kubernetes.io/zone", "z1"}, {"disk", "ssd"}};
  n.taints = {{"dedicated", "ml", TaintEffect::kNoSchedule}};
  KubeObjects objs;
  objs.nodes = {n};
  auto s = ClusterState::build(objs);
  StringId zone = s->strings().find("topology.kubernetes.io/zone");
  REQUIRE(zone != kNoString);
  CHECK(s->strings().str(s->label(0, zone)) == "z1");
  CHECK(s->label(0, s->strings().find("z1")) == kNoString);
  REQUIRE(s->taints(0).size() == 1);
  CHECK(s->strings().str(s->taints(0)[0].key) == "dedicated");
}

TEST_CASE("duplicate nodes are an error") {
  KubeObjects objs;
  objs.nodes = {make_node("a", 1, 1), make_node("a", 2, 2)};
  CHECK_THROWS_WITH_AS(ClusterState::build(objs), doctest::Contains("appears more than once"),
                       InvalidInput);
}
