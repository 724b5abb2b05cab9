// Vectors from kube-scheduler v1.34's own noderesources tests and from runs of
// its real code (sidecars, pod-level resources, overhead, fractional
// millicores), checked through the whole engine: snapshot, compiled pod,
// profile from a KubeSchedulerConfiguration, scheduling cycle.
#include <doctest/doctest.h>

#include <map>

#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/snapshot.hpp"

using namespace carbonkube;

namespace {

using Requests = std::vector<std::pair<std::string, std::string>>;

struct PodSpec {
  std::vector<Requests> containers = {};
  std::vector<std::pair<Requests, bool>> init = {};  // (requests, sidecar)
  Requests pod_level = {};
  Requests overhead = {};
};

struct NodeSpec {
  std::string name;
  Requests allocatable = {};  // quantities as text
};

Pod build_pod(const std::string& name, const PodSpec& spec, const std::string& node) {
  Pod p;
  p.name = name;
  p.node_name = node;
  p.phase = node.empty() ? PodPhase::kPending : PodPhase::kRunning;
  auto container = [](const Requests& r) {
    Container c;
    for (const auto& [k, v] : r) c.requests.emplace_back(k, parse_quantity(v));
    return c;
  };
  for (const auto& c : spec.containers) p.containers.push_back(container(c));
  for (const auto& [r, sidecar] : spec.init) {
    Container c = container(r);
    c.restartable_init = sidecar;
    p.init_containers.push_back(c);
  }
  for (const auto& [k, v] : spec.pod_level) p.pod_level_requests.emplace_back(k, parse_quantity(v));
  for (const auto& [k, v] : spec.overhead) p.overhead.emplace_back(k, parse_quantity(v));
  return p;
}

// Scores of `plugin` (configured with `args`) for each node, filters off, as
// kube-scheduler's plugin tests call Score directly.
std::vector<std::int64_t> scores(const std::vector<NodeSpec>& nodes,
                                 const std::vector<std::pair<std::string, PodSpec>>& existing,
                                 const PodSpec& incoming, const std::string& plugin,
                                 const std::string& args) {
  std::string yaml =
      "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
      "profiles:\n- percentageOfNodesToScore: 100\n  plugins:\n"
      "    multiPoint: {disabled: [{name: '*'}]}\n"
      "    score: {enabled: [{name: " +
      plugin + "}]}\n";
  if (!args.empty()) yaml += "  pluginConfig:\n  - name: " + plugin + "\n    args: " + args + "\n";
  Scheduler sched(compile_profile(parse_scheduler_config(yaml, "vectors.yaml")));
  ClusterState state;
  for (const auto& n : nodes) {
    Node node;
    node.name = n.name;
    for (const auto& [k, v] : n.allocatable) {
      Quantity q = parse_quantity(v);
      node.allocatable.push_back({k, k == "cpu" ? q.milli_value() : q.value()});
    }
    state.upsert_node(node);
  }
  int i = 0;
  for (const auto& [node, spec] : existing)
    state.upsert_pod(build_pod("existing-" + std::to_string(i++), spec, node));
  auto snap = state.publish();
  CompiledPod pod = compile_pod(build_pod("incoming", incoming, ""), *snap);
  ScoringContext ctx;
  CycleResult r = sched.schedule(*snap, pod, ctx);
  Explanation ex = explain(sched, *snap, pod, ctx, r);
  std::vector<std::int64_t> out;
  for (const auto& n : nodes) {
    const auto& ne = ex.nodes[*snap->find_node(n.name)];
    out.push_back(ne.scores.empty() ? -1 : ne.scores[0].second);  // -1: plugin skipped the pod
  }
  return out;
}

using V = std::vector<std::int64_t>;
const std::string kFit = "NodeResourcesFit";
const std::string kBalanced = "NodeResourcesBalancedAllocation";
const std::string kMost = "{scoringStrategy: {type: MostAllocated}}";
std::string rtcr(
    const std::string& shape,
    const std::string& resources = "[{name: cpu, weight: 1}, {name: memory, weight: 1}]") {
  return "{scoringStrategy: {type: RequestedToCapacityRatio, resources: " + resources +
         ", requestedToCapacityRatio: {shape: " + shape + "}}}";
}
NodeSpec node(const std::string& name, const std::string& cpu, const std::string& mem,
              Requests extra = {}) {
  NodeSpec n{name, {{"cpu", cpu}, {"memory", mem}}};
  for (auto& e : extra) n.allocatable.push_back(e);
  return n;
}
const PodSpec kNone{};  // no containers
const PodSpec kCpuAndMemory{
    {{{"cpu", "1000m"}, {"memory", "2000"}}, {{"cpu", "2000m"}, {"memory", "3000"}}}};
const PodSpec kCpuOnly{{{{"cpu", "1000m"}, {"memory", "0"}}, {{"cpu", "2000m"}, {"memory", "0"}}}};

}  // namespace

TEST_CASE("least_allocated_test.go") {
  auto n4_6 = std::vector<NodeSpec>{node("n1", "4000m", "10000"), node("n2", "6000m", "10000")};
  auto n10_10 = std::vector<NodeSpec>{node("n1", "10000m", "20000"), node("n2", "10000m", "20000")};
  CHECK(scores({node("n1", "4000m", "10000"), node("n2", "4000m", "10000")}, {}, kNone, kFit, "") ==
        V{100, 100});
  CHECK(scores(n4_6, {}, kCpuAndMemory, kFit, "") == V{37, 50});
  const PodSpec c3000_0{{{{"cpu", "3000m"}, {"memory", "0"}}}};
  const PodSpec c3000_5000{{{{"cpu", "3000m"}, {"memory", "5000"}}}};
  CHECK(scores(n10_10, {{"n1", c3000_0}, {"n1", c3000_0}, {"n2", c3000_0}, {"n2", c3000_5000}},
               kNone, kFit, "") == V{70, 57});
  CHECK(scores(n10_10, {{"n1", c3000_0}, {"n2", c3000_5000}}, kCpuAndMemory, kFit, "") ==
        V{57, 45});
  CHECK(scores({node("n1", "10000m", "20000"), node("n2", "10000m", "50000")},
               {{"n1", c3000_0}, {"n2", c3000_5000}}, kCpuAndMemory, kFit, "") == V{57, 60});
  CHECK(scores({node("n1", "4000m", "10000"), node("n2", "4000m", "10000")},
               {{"n1", c3000_0}, {"n2", c3000_5000}}, c3000_0, kFit, "") == V{50, 25});
  CHECK(scores(n4_6, {}, kCpuAndMemory, kFit,
               "{scoringStrategy: {type: LeastAllocated, resources: [{name: memory, weight: 2}, "
               "{name: cpu, weight: 1}]}}") == V{41, 50});
  const std::string ext =
      "{scoringStrategy: {type: LeastAllocated, resources: [{name: cpu, weight: 1}, {name: memory, "
      "weight: 1}, {name: abc.com/xyz, weight: 1}]}}";
  CHECK(scores({node("n1", "6000m", "10000"), node("n2", "6000m", "10000", {{"abc.com/xyz", "4"}})},
               {}, kCpuAndMemory, kFit, ext) == V{50, 50});
  const PodSpec with_xyz{{{{"cpu", "3000m"}, {"memory", "5000"}, {"abc.com/xyz", "2"}}}};
  CHECK(scores({node("n1", "6000m", "10000", {{"abc.com/xyz", "4"}}),
                node("n2", "6000m", "10000", {{"abc.com/xyz", "10"}})},
               {}, with_xyz, kFit, ext) == V{50, 60});
  CHECK(scores({node("n1", "6000m", "10000"), node("n2", "6000m", "10000", {{"abc.com/xyz", "4"}})},
               {}, PodSpec{{{{"cpu", "3000m"}, {"memory", "4000"}}}}, kFit,
               "{scoringStrategy: {type: LeastAllocated, resources: [{name: abc.com/xyz, weight: "
               "2}, {name: cpu, weight: 1}, {name: memory, weight: 1}]}}") == V{55, 55});
}

TEST_CASE("most_allocated_test.go") {
  auto n4_6 = std::vector<NodeSpec>{node("n1", "4000m", "10000"), node("n2", "6000m", "10000")};
  auto n10_10 = std::vector<NodeSpec>{node("n1", "10000m", "20000"), node("n2", "10000m", "20000")};
  const PodSpec c3000_0{{{{"cpu", "3000m"}, {"memory", "0"}}}};
  const PodSpec c3000_5000{{{{"cpu", "3000m"}, {"memory", "5000"}}}};
  CHECK(scores({node("n1", "4000m", "10000"), node("n2", "4000m", "10000")}, {}, kNone, kFit,
               kMost) == V{0, 0});
  CHECK(scores(n4_6, {}, kCpuAndMemory, kFit, kMost) == V{62, 50});
  CHECK(scores(n10_10, {{"n1", c3000_0}, {"n1", c3000_0}, {"n2", c3000_0}, {"n2", c3000_5000}},
               kNone, kFit, kMost) == V{30, 42});
  CHECK(scores(n10_10, {{"n1", c3000_0}, {"n2", c3000_5000}}, kCpuAndMemory, kFit, kMost) ==
        V{42, 55});
  CHECK(scores({node("n1", "5000m", "10000"), node("n2", "10000m", "9000")}, {},
               PodSpec{{{{"cpu", "2000m"}, {"memory", "4000"}},
                        {{"cpu", "3000m"}, {"memory", "5000"}}}},
               kFit, kMost) == V{95, 75});
  CHECK(scores(n4_6, {}, kCpuAndMemory, kFit,
               "{scoringStrategy: {type: MostAllocated, resources: [{name: memory, weight: 2}, "
               "{name: cpu, weight: 1}]}}") == V{58, 50});
  // Non-zero defaults and the clamp of requests to capacity.
  const PodSpec empty_container{{{}}};
  CHECK(scores({node("n1", "250m", "1000Mi"), node("n2", "250m", "1000Mi")},
               {{"n1", empty_container}, {"n1", empty_container}}, empty_container, kFit,
               kMost) == V{80, 30});
  const std::string ext =
      "{scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 1}, {name: memory, "
      "weight: 1}, {name: abc.com/xyz, weight: 1}]}}";
  CHECK(scores({node("n1", "6000m", "10000", {{"abc.com/xyz", "4"}}),
                node("n2", "6000m", "10000", {{"abc.com/xyz", "10"}})},
               {}, PodSpec{{{{"cpu", "3000m"}, {"memory", "5000"}, {"abc.com/xyz", "2"}}}}, kFit,
               ext) == V{50, 40});
}

TEST_CASE("requested_to_capacity_ratio_test.go") {
  auto n4_6 = std::vector<NodeSpec>{node("n1", "4000m", "10000"), node("n2", "6000m", "10000")};
  const std::string spread = rtcr("[{utilization: 0, score: 10}, {utilization: 100, score: 0}]");
  const std::string pack = rtcr("[{utilization: 0, score: 0}, {utilization: 100, score: 10}]");
  CHECK(scores({node("n1", "4000m", "10000"), node("n2", "4000m", "10000")},
               {{"n1", kNone}, {"n1", kNone}}, kNone, kFit, spread) == V{100, 100});
  CHECK(scores(n4_6, {{"n1", kNone}, {"n1", kNone}}, kCpuAndMemory, kFit, spread) == V{38, 50});
  const PodSpec c3000_5000{{{{"cpu", "3000m"}, {"memory", "5000"}}}};
  CHECK(scores(n4_6, {{"n1", c3000_5000}, {"n2", c3000_5000}}, kNone, kFit, spread) == V{38, 50});
  const PodSpec c2000_4000{{{{"cpu", "2000m"}, {"memory", "4000"}}}};
  const PodSpec c1000_2000{{{{"cpu", "1000m"}, {"memory", "2000"}}}};
  CHECK(scores(n4_6, {{"n1", c2000_4000}, {"n2", c1000_2000}}, c3000_5000, kFit, spread) ==
        V{10, 32});
  CHECK(scores(n4_6, {{"n1", c2000_4000}, {"n2", c1000_2000}}, c3000_5000, kFit, pack) ==
        V{95, 68});
  // Several extended resources with weights (TestResourceBinPackingMultipleExtended).
  const std::string foo_bar =
      rtcr("[{utilization: 0, score: 0}, {utilization: 100, score: 1}]",
           "[{name: intel.com/foo, weight: 3}, {name: intel.com/bar, weight: 5}]");
  auto fb_nodes = std::vector<NodeSpec>{
      node("n1", "4", "10000Mi", {{"intel.com/foo", "8"}, {"intel.com/bar", "4"}}),
      node("n2", "4", "10000Mi", {{"intel.com/foo", "4"}, {"intel.com/bar", "8"}})};
  const PodSpec foo2bar2{{{{"intel.com/foo", "2"}, {"intel.com/bar", "2"}}}};
  CHECK(scores(fb_nodes, {}, kNone, kFit, foo_bar) == V{0, 0});
  CHECK(scores(fb_nodes, {}, foo2bar2, kFit, foo_bar) == V{4, 3});
  CHECK(scores(fb_nodes, {{"n2", PodSpec{{{{"intel.com/foo", "4"}, {"intel.com/bar", "2"}}}}}},
               foo2bar2, kFit, foo_bar) == V{4, 7});
}

TEST_CASE("balanced_allocation_test.go") {
  CHECK(scores({node("n1", "4000m", "10000"), node("n2", "4000m", "10000")}, {}, kNone, kBalanced,
               "") == V{-1, -1});
  CHECK(scores({node("n1", "4000m", "10000"), node("n2", "6000m", "10000")}, {}, kCpuAndMemory,
               kBalanced, "") == V{87, 100});
  auto n10 = std::vector<NodeSpec>{node("n1", "10000m", "20000"), node("n2", "10000m", "20000")};
  CHECK(scores(n10, {{"n1", kCpuOnly}, {"n2", kCpuAndMemory}}, kCpuAndMemory, kBalanced, "") ==
        V{82, 95});
  CHECK(scores({node("n1", "10000m", "20000"), node("n2", "10000m", "50000")},
               {{"n1", kCpuOnly}, {"n2", kCpuAndMemory}}, kCpuAndMemory, kBalanced,
               "") == V{82, 80});
  CHECK(scores({node("n1", "6000m", "10000"), node("n2", "6000m", "10000")},
               {{"n1", kCpuOnly}, {"n2", kCpuAndMemory}}, kCpuOnly, kBalanced, "") == V{50, 75});
  const PodSpec with_gpu{{{{"cpu", "1000m"}, {"memory", "2000"}},
                          {{"cpu", "2000m"}, {"memory", "3000"}, {"nvidia.com/gpu", "3"}}}};
  const std::string three =
      "{resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}, {name: nvidia.com/gpu, "
      "weight: 1}]}";
  CHECK(scores({node("n1", "3500m", "40000", {{"nvidia.com/gpu", "8"}}),
                node("n2", "3500m", "40000", {{"nvidia.com/gpu", "8"}})},
               {{"n2", kCpuAndMemory}, {"n1", with_gpu}},
               PodSpec{{{{"memory", "0"}, {"nvidia.com/gpu", "1"}}}}, kBalanced,
               three) == V{70, 65});
  CHECK(scores(
            {node("n1", "3500m", "40000", {{"nvidia.com/gpu", "8"}}), node("n2", "3500m", "40000")},
            {}, kCpuAndMemory, kBalanced, three) == V{63, 63});
}

TEST_CASE("sidecars, pod-level resources and overhead (runs of kube-scheduler v1.34.4)") {
  auto nodes = std::vector<NodeSpec>{{"n1", {{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}}},
                                     {"n2", {{"cpu", "8"}, {"memory", "16Gi"}, {"pods", "110"}}},
                                     {"n3", {{"cpu", "2"}, {"memory", "4Gi"}, {"pods", "110"}}}};
  std::vector<std::pair<std::string, PodSpec>> existing = {
      {"n1", PodSpec{{{{"cpu", "1"}, {"memory", "2Gi"}}}}},
      {"n1", PodSpec{{{{"cpu", "500m"}, {"memory", "1Gi"}}}}},
      {"n2", PodSpec{{{}}}},
      {"n3", PodSpec{{{{"cpu", "1500m"}, {"memory", "3Gi"}}}}}};
  const PodSpec s1{{{{"cpu", "1"}, {"memory", "1Gi"}}}};
  CHECK(scores(nodes, existing, s1, kFit, "") == V{43, 89, 0});
  CHECK(scores(nodes, existing, s1, kFit, kMost) == V{56, 10, 100});
  CHECK(scores(nodes, existing, s1, kFit,
               rtcr("[{utilization: 0, score: 10}, {utilization: 100, score: 0}]")) ==
        V{44, 90, 0});
  CHECK(scores(nodes, existing, s1, kFit,
               rtcr("[{utilization: 0, score: 2}, {utilization: 40, score: 10}, {utilization: 100, "
                    "score: 0}]")) == V{74, 40, 0});
  CHECK(scores(nodes, existing, s1, kBalanced, "") == V{93, 96, 100});
  CHECK(scores(nodes, existing, PodSpec{{{}}}, kFit, "") == V{60, 97, 20});
  CHECK(scores(nodes, existing, kNone, kFit, "") == V{62, 98, 25});
  CHECK(scores(nodes, existing, PodSpec{{{{"cpu", "0"}}}}, kFit, "") == V{61, 97, 22});
  CHECK(scores(nodes, existing, PodSpec{{{{"cpu", "3"}, {"memory", "5Gi"}}}}, kFit, "") ==
        V{0, 64, 0});
  // S9: a sidecar between two regular init containers.
  const PodSpec s9{{{{"cpu", "500m"}, {"memory", "512Mi"}}},
                   {{{{"cpu", "2"}, {"memory", "256Mi"}}, false},
                    {{{"cpu", "250m"}, {"memory", "1Gi"}}, true},
                    {{{"cpu", "1"}, {"memory", "3Gi"}}, false}}};
  CHECK(scores(nodes, existing, s9, kFit, "") == V{12, 73, 0});
  CHECK(scores(nodes, existing, s9, kFit, kMost) == V{87, 26, 100});
  CHECK(scores(nodes, existing, s9, kBalanced, "") == V{100, 100, 100});
  // S11: pod-level requests; Fit's scoring ignores them (1.34), Balanced uses them.
  const PodSpec s11{{{}, {}}, {}, {{"cpu", "2"}, {"memory", "2Gi"}}};
  CHECK(scores(nodes, existing, s11, kFit, "") == V{57, 96, 15});
  CHECK(scores(nodes, existing, s11, kBalanced, "") == V{87, 93, 100});
  // S12: an existing pod with pod-level cpu only counts its default memory.
  auto existing12 = existing;
  existing12.push_back({"n2", PodSpec{{{}}, {}, {{"cpu", "3"}}}});
  CHECK(scores(nodes, existing12, s1, kFit, "") == V{43, 69, 0});
  CHECK(scores(nodes, existing12, s1, kBalanced, "") == V{93, 78, 100});
  // S13: overhead.
  const PodSpec s13{
      {{{"cpu", "1"}, {"memory", "1Gi"}}}, {}, {}, {{"cpu", "250m"}, {"memory", "120Mi"}}};
  CHECK(scores(nodes, existing, s13, kFit, "") == V{39, 87, 0});
  CHECK(scores(nodes, existing, s13, kBalanced, "") == V{91, 95, 100});
}

TEST_CASE("rounding of fractional millicores and zero allocatable") {
  auto nodes = std::vector<NodeSpec>{node("f1", "10m", "1000"), node("f2", "7m", "999")};
  const PodSpec half{{{{"cpu", "0.5m"}, {"memory", "0.5"}}}};
  const PodSpec incoming{
      {{{"cpu", "1.5m"}, {"memory", "100.5"}}, {{"cpu", "1.5m"}, {"memory", "100.5"}}}};
  std::vector<std::pair<std::string, PodSpec>> existing = {{"f1", half}, {"f1", half}};
  CHECK(scores(nodes, existing, incoming, kFit, "") == V{64, 68});
  CHECK(scores(nodes, existing, incoming, kFit, kMost) == V{35, 31});
  CHECK(scores(nodes, existing, incoming, kBalanced, "") == V{85, 88});
  auto zero = std::vector<NodeSpec>{
      {"z1", {{"memory", "4Gi"}}}, {"z2", {{"cpu", "0"}, {"memory", "4Gi"}}}, {"z3", {}}};
  const PodSpec s15{{{{"cpu", "1"}, {"memory", "1Gi"}}}};
  CHECK(scores(zero, {}, s15, kFit, "") == V{75, 75, 0});
  CHECK(scores(zero, {}, s15, kFit, kMost) == V{25, 25, 0});
  CHECK(scores(zero, {}, s15, kBalanced, "") == V{100, 100, 100});
}
