// The scheduling cycle: percentageOfNodesToScore with kube-scheduler's
// adaptive default and rotating start, filters in order, weighted totals,
// seeded uniform tie-breaking, and the explanation.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

namespace {
// (GCC 12 warns falsely about "literal" + std::string under -O3: -Wrestrict.)
std::string node_name(int i) { return std::string("n").append(std::to_string(i)); }
SnapshotPtr uniform_cluster(int n) {
  KubeObjects objs;
  for (int i = 0; i < n; ++i) objs.nodes.push_back(make_node(node_name(i), 4000, 8LL << 30));
  return ClusterState::build(objs);
}
Profile with_percentage(int pct) {
  return compile_profile(
      parse_scheduler_config("apiVersion: kubescheduler.config.k8s.io/v1\nkind: "
                             "KubeSchedulerConfiguration\npercentageOfNodesToScore: " +
                                 std::to_string(pct) + "\n",
                             "cfg.yaml"));
}
}  // namespace

TEST_CASE("numFeasibleNodesToFind matches kube-scheduler's table") {
  CHECK(num_feasible_nodes_to_find(0, 50) == 50);
  CHECK(num_feasible_nodes_to_find(0, 100) == 100);
  CHECK(num_feasible_nodes_to_find(0, 150) == 100);
  CHECK(num_feasible_nodes_to_find(0, 300) == 144);
  CHECK(num_feasible_nodes_to_find(0, 1000) == 420);
  CHECK(num_feasible_nodes_to_find(0, 2000) == 680);
  CHECK(num_feasible_nodes_to_find(0, 5000) == 500);
  CHECK(num_feasible_nodes_to_find(0, 6000) == 300);
  CHECK(num_feasible_nodes_to_find(0, 10000) == 500);
  CHECK(num_feasible_nodes_to_find(10, 5000) == 500);
  CHECK(num_feasible_nodes_to_find(1, 5000) == 100);
  CHECK(num_feasible_nodes_to_find(100, 5000) == 5000);
}

TEST_CASE("the search stops at enough feasible nodes and the next cycle starts after them") {
  auto snap = uniform_cluster(1000);
  Scheduler sched(default_profile());
  ScoringContext ctx;
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "100m"}}), *snap);
  CycleResult r1 = sched.schedule(*snap, pod, ctx);
  CHECK(r1.feasible == 420);
  CHECK(r1.processed == 420);
  CHECK(ctx.next_start_node() == 420);
  CycleResult r2 = sched.schedule(*snap, pod, ctx);
  CHECK(r2.feasible == 420);
  CHECK(ctx.next_start_node() == 840);
  // Wraps around the node list.
  sched.schedule(*snap, pod, ctx);
  CHECK(ctx.next_start_node() == (840 + 420) % 1000);
  // Every evaluated node is one of the 420 after the start.
  std::set<NodeIndex> seen(ctx.feasible().begin(), ctx.feasible().end());
  CHECK(seen.size() == 420);
  CHECK(seen.count(840 % 1000) == 1);
  CHECK(seen.count(259) == 1);
  CHECK(seen.count(260) == 0);
}

TEST_CASE("failed nodes count as processed; those after the stop do not") {
  KubeObjects objs;
  for (int i = 0; i < 400; ++i)
    objs.nodes.push_back(make_node(node_name(i), i % 2 ? 4000 : 100, 8LL << 30));
  auto snap = ClusterState::build(objs);
  Scheduler sched(with_percentage(10));  // 400 nodes -> 100 to find
  ScoringContext ctx;
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "1"}}), *snap);
  CycleResult r = sched.schedule(*snap, pod, ctx);
  CHECK(r.feasible == 100);
  CHECK(r.processed == 200);  // 100 odd nodes fit, 100 even ones failed before the 100th fit
  CHECK(ctx.failures().size() == 100);
  CHECK(ctx.next_start_node() == 200);
}

TEST_CASE("selection: highest weighted total; ties uniform and reproducible under a seed") {
  auto snap = uniform_cluster(8);
  Scheduler sched(default_profile());
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "1"}, {"memory", "1Gi"}}), *snap);
  std::map<NodeIndex, int> counts;
  std::vector<NodeIndex> first_run;
  for (int rep = 0; rep < 2; ++rep) {
    ScoringContext ctx(12345);
    for (int i = 0; i < 4000; ++i) {
      CycleResult r = sched.schedule(*snap, pod, ctx);
      REQUIRE(r.selected.has_value());
      if (rep == 0) {
        ++counts[*r.selected];
        first_run.push_back(*r.selected);
      } else {
        CHECK(first_run[static_cast<std::size_t>(i)] == *r.selected);  // same seed, same choices
      }
    }
  }
  CHECK(counts.size() == 8);
  for (auto& [node, c] : counts) {
    CAPTURE(node);
    CHECK(c > 400);  // expected 500 each; a 5-sigma band is about +-100
    CHECK(c < 600);
  }
}

TEST_CASE("the emptier node wins under LeastAllocated, the fuller under MostAllocated") {
  KubeObjects objs;
  objs.nodes = {make_node("busy", 4000, 8LL << 30), make_node("idle", 4000, 8LL << 30)};
  objs.pods = {make_pod("x", {{"cpu", "3"}, {"memory", "6Gi"}}, "busy")};
  auto snap = ClusterState::build(objs);
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "500m"}, {"memory", "512Mi"}}), *snap);
  ScoringContext ctx;
  Scheduler least(default_profile());
  CHECK(snap->node_name(*least.schedule(*snap, pod, ctx).selected) == "idle");
  Scheduler most(compile_profile(parse_scheduler_config(
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- "
      "pluginConfig:\n"
      "  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated}}\n",
      "cfg.yaml")));
  CHECK(snap->node_name(*most.schedule(*snap, pod, ctx).selected) == "busy");
}

TEST_CASE("filters: taints, unschedulable, affinity and resources, with kube-scheduler's reasons") {
  Node tainted = make_node("tainted", 4000, 8LL << 30);
  tainted.taints = {{"dedicated", "ml", TaintEffect::kNoSchedule}};
  Node cordoned = make_node("cordoned", 4000, 8LL << 30);
  cordoned.unschedulable = true;
  Node small = make_node("small", 500, 8LL << 30);
  Node full = make_node("full", 4000, 8LL << 30, 1);
  Node ok = make_node("ok", 4000, 8LL << 30);
  ok.labels = {{"zone", "green"}};
  KubeObjects objs;
  objs.nodes = {tainted, cordoned, small, full, ok};
  objs.pods = {make_pod("resident", {}, "full")};
  auto snap = ClusterState::build(objs);
  Scheduler sched(default_profile());
  ScoringContext ctx;
  Pod p = make_pod("p", {{"cpu", "1"}, {"example.com/fpga", "1"}});
  CompiledPod pod = compile_pod(p, *snap);
  CycleResult r = sched.schedule(*snap, pod, ctx);
  CHECK(!r.selected.has_value());
  Explanation ex = explain(sched, *snap, pod, ctx, r);
  std::map<std::string, std::vector<std::string>> reasons;
  for (const auto& n : ex.nodes) reasons[n.name] = n.reasons;
  CHECK(reasons["tainted"] ==
        std::vector<std::string>{"node(s) had untolerated taint {dedicated: ml}"});
  CHECK(reasons["cordoned"] == std::vector<std::string>{"node(s) were unschedulable"});
  CHECK(reasons["small"] ==
        std::vector<std::string>{"Insufficient cpu", "Insufficient example.com/fpga"});
  CHECK(reasons["full"] ==
        std::vector<std::string>{"Too many pods", "Insufficient example.com/fpga"});
  CHECK(reasons["ok"] == std::vector<std::string>{"Insufficient example.com/fpga"});

  // Tolerating the taint, selecting the zone and asking for nothing exotic.
  p = make_pod("q", {{"cpu", "1"}});
  p.tolerations = {{"dedicated", false, "ml", TaintEffect::kNoSchedule}};
  p.node_selector = {{"zone", "green"}};
  pod = compile_pod(p, *snap);
  r = sched.schedule(*snap, pod, ctx);
  REQUIRE(r.selected.has_value());
  CHECK(snap->node_name(*r.selected) == "ok");
  ex = explain(sched, *snap, pod, ctx, r);
  for (const auto& n : ex.nodes)
    if (n.name == "tainted")
      CHECK(n.reasons ==
            std::vector<std::string>{"node(s) didn't match Pod's node affinity/selector"});
}

TEST_CASE("an empty cluster and a pod that fits nowhere give no selection, not a crash") {
  KubeObjects none;
  auto empty = ClusterState::build(none);
  Scheduler sched(default_profile());
  ScoringContext ctx;
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "1"}}), *empty);
  CycleResult r = sched.schedule(*empty, pod, ctx);
  CHECK(!r.selected.has_value());
  CHECK(r.feasible == 0);
  CHECK(explain(sched, *empty, pod, ctx, r).nodes.empty());
}
