// kube-scheduler's resource scoring: the reference formulas against values
// worked out from kube-scheduler's own tests, and the column-wise plugins
// against the reference on random clusters.
#include <doctest/doctest.h>

#include <map>

#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/resource_scoring.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

namespace {
const std::int64_t kW11[] = {1, 1};

Profile profile_from(const std::string& yaml) {
  return compile_profile(parse_scheduler_config(yaml, "test.yaml"));
}

std::string single_score_plugin(const std::string& plugin, const std::string& args) {
  std::string y =
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
      "profiles:\n- percentageOfNodesToScore: 100\n  plugins:\n"
      "    multiPoint: {disabled: [{name: '*'}]}\n"
      "    filter: {enabled: [{name: NodeResourcesFit}]}\n"
      "    score: {enabled: [{name: " +
      plugin + "}]}\n";
  if (!args.empty()) y += "  pluginConfig:\n  - name: " + plugin + "\n    args: " + args + "\n";
  return y;
}
}  // namespace

TEST_CASE("LeastAllocated per resource") {
  CHECK(least_requested_score(0, 4000) == 100);
  CHECK(least_requested_score(3000, 4000) == 25);
  CHECK(least_requested_score(2999, 4000) == 25);  // integer division truncates
  CHECK(least_requested_score(4000, 4000) == 0);
  CHECK(least_requested_score(4001, 4000) == 0);  // over capacity
  CHECK(least_requested_score(0, 0) == 0);        // zero allocatable
  // Node score: ((4000-3000)*100/4000 + (10000-5000)*100/10000) / 2 = (25 + 50) / 2 = 37
  const std::int64_t req[] = {3000, 5000}, alloc[] = {4000, 10000};
  CHECK(least_allocated_node_score(req, alloc, kW11) == 37);
  // A resource the node lacks is left out of the average, not scored 0.
  const std::int64_t alloc0[] = {4000, 0};
  CHECK(least_allocated_node_score(req, alloc0, kW11) == 25);
  const std::int64_t w31[] = {3, 1};
  CHECK(least_allocated_node_score(req, alloc, w31) == (25 * 3 + 50) / 4);
}

TEST_CASE("MostAllocated clamps requests to capacity") {
  CHECK(most_requested_score(3000, 4000) == 75);
  CHECK(most_requested_score(5000, 4000) == 100);
  CHECK(most_requested_score(1, 3) == 33);
  CHECK(most_requested_score(7, 0) == 0);
  const std::int64_t req[] = {3000, 5000}, alloc[] = {4000, 10000};
  CHECK(most_allocated_node_score(req, alloc, kW11) == 62);  // (75 + 50) / 2
}

TEST_CASE("RequestedToCapacityRatio: broken linear shape, zero scores left out, rounding") {
  // Shape {0:10, 100:0} (bin spreading), scores scaled x10.
  const ShapePoint spread[] = {{0, 100}, {100, 0}};
  CHECK(broken_linear(spread, 0) == 100);
  CHECK(broken_linear(spread, 25) == 75);
  CHECK(broken_linear(spread, 100) == 0);
  CHECK(broken_linear(spread, 150) == 0);
  const ShapePoint pack[] = {{0, 0}, {100, 100}};
  CHECK(broken_linear(pack, 33) == 33);
  const ShapePoint steps[] = {{10, 20}, {50, 80}};
  CHECK(broken_linear(steps, 5) == 20);   // below the first point: its score
  CHECK(broken_linear(steps, 30) == 50);  // 20 + 60 * 20 / 40
  CHECK(broken_linear(steps, 90) == 80);  // past the last point
  // cpu 3000/4000 -> util 75 -> 75; memory 5000/10000 -> 50 -> 50; round((75+50)/2) = 63.
  const std::int64_t req[] = {3000, 5000}, alloc[] = {4000, 10000};
  CHECK(requested_to_capacity_ratio_node_score(pack, req, alloc, kW11) == 63);
  // Memory over capacity scores the shape at 100% utilisation.
  const std::int64_t over[] = {3000, 20000};
  CHECK(requested_to_capacity_ratio_node_score(pack, over, alloc, kW11) == 88);  // round(175/2)
  // With the spreading shape the full resource scores 0 and drops out of the average.
  CHECK(requested_to_capacity_ratio_node_score(spread, over, alloc, kW11) == 25);
}

TEST_CASE("BalancedAllocation: 1 - std of fractions, capped at 1, truncated") {
  const std::int64_t req[] = {3000, 5000}, alloc[] = {4000, 10000};
  // fractions 0.75 and 0.5: std = 0.125 -> 87.5 -> 87
  CHECK(balanced_allocation_node_score(req, alloc) == 87);
  const std::int64_t same[] = {2000, 5000};
  const std::int64_t same_alloc[] = {4000, 10000};
  CHECK(balanced_allocation_node_score(same, same_alloc) == 100);
  const std::int64_t over[] = {8000, 0};
  CHECK(balanced_allocation_node_score(over, same_alloc) == 50);  // fraction 2 capped to 1
  const std::int64_t one_alloc[] = {4000, 0};
  CHECK(balanced_allocation_node_score(req, one_alloc) == 100);  // a single fraction has std 0
  const std::int64_t r3[] = {1, 2, 3}, a3[] = {4, 4, 4};
  // fractions .25 .5 .75: std = sqrt(((.25)^2 + 0 + (.25)^2)/3) = 0.2041 -> 79
  CHECK(balanced_allocation_node_score(r3, a3) == 79);
}

TEST_CASE("property: plugins over columns equal the reference on random clusters") {
  struct Case {
    const char* plugin;
    const char* args;
  };
  const Case cases[] = {
      {"NodeResourcesFit", ""},
      {"NodeResourcesFit",
       "{scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 2}, {name: memory, "
       "weight: 1}, {name: nvidia.com/gpu, weight: 5}]}}"},
      {"NodeResourcesFit",
       "{scoringStrategy: {type: RequestedToCapacityRatio, resources: [{name: cpu, weight: 1}, "
       "{name: memory, weight: 3}], requestedToCapacityRatio: {shape: [{utilization: 0, score: 0}, "
       "{utilization: 40, score: 7}, {utilization: 100, score: 10}]}}}"},
      {"NodeResourcesBalancedAllocation", ""},
      {"NodeResourcesBalancedAllocation",
       "{resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}, {name: nvidia.com/gpu, "
       "weight: 1}]}"},
  };
  for (const Case& cs : cases) {
    Scheduler sched(profile_from(single_score_plugin(cs.plugin, cs.args)));
    const bool balanced = std::string(cs.plugin) == "NodeResourcesBalancedAllocation";
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      CAPTURE(cs.args);
      CAPTURE(seed);
      auto c = random_cluster(seed, 60, 200, 25);
      KubeObjects objs;
      objs.nodes = c.nodes;
      objs.pods = c.bound;
      auto snap = ClusterState::build(objs);
      // The reference computes each node's usage from the pods directly.
      std::map<std::string, std::map<std::string, std::int64_t>> used, used_nz;
      for (const Pod& p : c.bound) {
        for (const auto& r : pod_requests(p, RequestDefaults::kAsWritten))
          used[p.node_name][r.name] += r.amount;
        for (const auto& r : pod_requests(p, RequestDefaults::kNonZero))
          used_nz[p.node_name][r.name] += r.amount;
      }
      ScoringContext ctx(seed);
      for (const Pod& pod : c.pending) {
        CompiledPod cp = compile_pod(pod, *snap);
        CycleResult res = sched.schedule(*snap, cp, ctx);
        auto ex = explain(sched, *snap, cp, ctx, res);
        std::map<std::string, std::int64_t> pod_req, pod_nz;
        for (const auto& r : pod_requests(pod, RequestDefaults::kAsWritten))
          pod_req[r.name] = r.amount;
        for (const auto& r : pod_requests(pod, RequestDefaults::kNonZero))
          pod_nz[r.name] = r.amount;
        for (const Node& node : c.nodes) {
          const NodeExplanation& ne = ex.nodes[*snap->find_node(node.name)];
          if (!ne.feasible) continue;
          std::map<std::string, std::int64_t> alloc;
          for (const auto& a : node.allocatable) alloc[a.name] = a.amount;
          // Resources and weights exactly as configured.
          std::vector<std::pair<std::string, std::int64_t>> res_w = {{"cpu", 1}, {"memory", 1}};
          std::string args = cs.args;
          if (args.find("MostAllocated") != std::string::npos)
            res_w = {{"cpu", 2}, {"memory", 1}, {"nvidia.com/gpu", 5}};
          if (args.find("RequestedToCapacityRatio") != std::string::npos)
            res_w = {{"cpu", 1}, {"memory", 3}};
          if (balanced && args.find("gpu") != std::string::npos)
            res_w = {{"cpu", 1}, {"memory", 1}, {"nvidia.com/gpu", 1}};
          std::vector<std::int64_t> req, al, w;
          for (const auto& [name, weight] : res_w) {
            const bool scalar = name == "nvidia.com/gpu";
            std::int64_t pr = balanced ? pod_req[name] : pod_nz[name];
            if (scalar && pr == 0) continue;
            std::int64_t node_used =
                (balanced || scalar) ? used[node.name][name] : used_nz[node.name][name];
            req.push_back(node_used + pr);
            al.push_back(alloc[name]);
            w.push_back(weight);
          }
          std::int64_t expected = 0;
          if (balanced) {
            expected = balanced_allocation_node_score(req, al);
          } else if (args.find("MostAllocated") != std::string::npos) {
            expected = most_allocated_node_score(req, al, w);
          } else if (args.find("RequestedToCapacityRatio") != std::string::npos) {
            const ShapePoint shape[] = {{0, 0}, {40, 70}, {100, 100}};
            expected = requested_to_capacity_ratio_node_score(shape, req, al, w);
          } else {
            expected = least_allocated_node_score(req, al, w);
          }
          if (ne.scores.empty()) {
            CHECK(balanced);  // BalancedAllocation skips pods that request nothing
            CHECK(pod_req["cpu"] + pod_req["memory"] +
                      (args.find("gpu") != std::string::npos ? pod_req["nvidia.com/gpu"] : 0) ==
                  0);
            continue;
          }
          CAPTURE(node.name);
          CHECK(ne.scores[0].second == expected);
        }
      }
    }
  }
}
