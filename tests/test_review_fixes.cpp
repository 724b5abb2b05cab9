// Regression tests for defects found in review: each names the input that
// used to be mishandled.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/topology.hpp"
#include "cli.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

namespace {
const std::string kHead =
    "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
Profile compile(const std::string& body) {
  return compile_profile(parse_scheduler_config(kHead + body, "cfg.yaml"));
}
}  // namespace

TEST_CASE(
    "review: a kube-scheduler plugin carbonkube does not run is accepted at any point, listed "
    "inactive") {
  Profile p = compile(
      "profiles:\n- plugins:\n    filter: {enabled: [{name: PodTopologySpread}]}\n"
      "    score: {enabled: [{name: ImageLocality, weight: 3}]}\n");
  const auto& inactive = p.inactive_plugins();
  CHECK(std::find(inactive.begin(), inactive.end(), "PodTopologySpread") != inactive.end());
  CHECK(std::find(inactive.begin(), inactive.end(), "ImageLocality") != inactive.end());
  CHECK(p.score_index("ImageLocality") == -1);
}

TEST_CASE("review: a plugin enabled at a point it does not implement is an error") {
  CHECK_THROWS_WITH_AS(
      compile("profiles:\n- plugins:\n    filter: {enabled: [{name: CarbonAwareScore}]}\n"),
      doctest::Contains("does not extend"), InvalidInput);
  CHECK_THROWS_WITH_AS(
      compile(
          "profiles:\n- plugins:\n    score: {enabled: [{name: NodeUnschedulable, weight: 5}]}\n"),
      doctest::Contains("does not extend"), InvalidInput);
}

TEST_CASE("review: a plugin listed twice in multiPoint is an error, not the last weight") {
  CHECK_THROWS_WITH_AS(
      compile("profiles:\n- plugins:\n    multiPoint: {enabled: [{name: TaintToleration, weight: "
              "5}, {name: TaintToleration, weight: 7}]}\n"),
      doctest::Contains("TaintToleration"), InvalidInput);
}

TEST_CASE("review: a compiled pod is refused on a snapshot with other resources") {
  ClusterState state;
  state.upsert_node(make_node("a", 4000, 1LL << 30));
  auto s1 = state.publish();
  CompiledPod pod = compile_pod(make_pod("p", {{"example.com/fpga", "1"}}), *s1);
  state.upsert_node(make_node("b", 4000, 1LL << 30, 110, {{"example.com/fpga", 2}}));
  auto s2 = state.publish();
  Scheduler sched(default_profile());
  ScoringContext ctx;
  CHECK_THROWS_WITH_AS(sched.schedule(*s2, pod, ctx), doctest::Contains("compile it again"), Error);
  CompiledPod again = compile_pod(make_pod("p", {{"example.com/fpga", "1"}}), *s2);
  CycleResult r = sched.schedule(*s2, again, ctx);
  REQUIRE(r.selected.has_value());
  CHECK(s2->node_name(*r.selected) == "b");
}

TEST_CASE("review: a topology table from another snapshot is refused") {
  ClusterState state;
  state.upsert_node(make_node("a", 4000, 1LL << 30));
  auto s1 = state.publish();
  TopologyTable old = TopologyTable::build(*s1, {});
  state.upsert_node(make_node("b", 4000, 1LL << 30));
  auto s2 = state.publish();
  ClusterConditions cond;
  cond.snapshot_generation = s2->generation();
  cond.topology = &old;
  Scheduler sched(seed_profile());
  ScoringContext ctx;
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "1"}}), *s2);
  CHECK_THROWS_WITH_AS(sched.schedule(*s2, pod, ctx, &cond), doctest::Contains("TopologyTable"),
                       Error);
}

TEST_CASE("review: ignoredResources never ignores hugepages") {
  KubeObjects objs;
  objs.nodes = {make_node("a", 4000, 1LL << 30)};
  auto snap = ClusterState::build(objs);
  Profile p = compile(
      "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {ignoredResources: "
      "[hugepages-2Mi, example.com/fpga]}\n");
  Scheduler sched(std::move(p));
  ScoringContext ctx;
  CHECK(!sched.schedule(*snap, compile_pod(make_pod("h", {{"hugepages-2Mi", "1Gi"}}), *snap), ctx)
             .selected);
  CHECK(sched.schedule(*snap, compile_pod(make_pod("f", {{"example.com/fpga", "1"}}), *snap), ctx)
            .selected);
}

TEST_CASE("review: a summed request over the limit is an error naming the pod") {
  Pod p = make_pod("big", {{"cpu", "5000000000000"}});
  p.containers.push_back(p.containers[0]);
  CHECK_THROWS_WITH_AS(pod_requests(p, RequestDefaults::kAsWritten),
                       doctest::Contains("default/big"), InvalidInput);
}

TEST_CASE("review: reconciled profile indexes outside the profile set are refused") {
  KubeObjects objs;
  objs.nodes = {make_node("a", 4000, 1LL << 30)};
  auto snap = ClusterState::build(objs);
  ZoneMap zones = ZoneMap::parse("unknownZone: neutral\nregions: {r: Z}\n", "z.yaml");
  CarbonSignals signals;
  ZoneDecision d;
  d.zone = "Z";
  d.profile_index = 3;
  CHECK_THROWS_WITH_AS(
      ClusterConditions::build(*snap, zones, signals, 0, SignalPolicy{}, default_qos_profiles(),
                               std::span<const ZoneDecision>(&d, 1)),
      doctest::Contains("reconciled profile index 3"), InvalidInput);
}

TEST_CASE(
    "review: the CLI reports a pod with a bad carbon annotation and still scores the others") {
  std::string nodes = "/tmp/carbonkube-review-nodes.yaml",
              pods = "/tmp/carbonkube-review-pods.yaml";
  std::ofstream(nodes) << "kind: NodeList\nitems:\n- metadata: {name: a}\n  status: {allocatable: "
                          "{cpu: 4, memory: 8Gi, pods: 10}}\n";
  std::ofstream(pods) << "kind: PodList\nitems:\n"
                         "- metadata: {name: bad, annotations: {carbon-kube.io/qos-profile: "
                         "gold}}\n  spec: {containers: [{name: c}]}\n"
                         "- metadata: {name: good}\n  spec: {containers: [{name: c, resources: "
                         "{requests: {cpu: 1}}}]}\n";
  std::ostringstream out, err;
  int code = carbonkube::cli::run({"score", "--nodes", nodes, "--pods", pods}, out, err);
  CHECK(code == 2);
  auto doc = nlohmann::json::parse(out.str());
  REQUIRE(doc["results"].size() == 2);
  CHECK(doc["results"][0]["error"].get<std::string>().find("gold") != std::string::npos);
  CHECK(doc["results"][1]["selected"] == "a");
  std::ostringstream out2, err2;
  CHECK(carbonkube::cli::run({"score", "--nodes", nodes, "--signals", "x.csv", "--zones", "z.yaml",
                              "--at", "99999999999999999999"},
                             out2, err2) == 2);
}

TEST_CASE("review: each pod is scored by the profile its schedulerName names") {
  std::string nodes = "/tmp/carbonkube-review-nodes2.yaml",
              pods = "/tmp/carbonkube-review-pods2.yaml", cfg = "/tmp/carbonkube-review-cfg.yaml";
  std::ofstream(nodes) << "kind: NodeList\nitems:\n- metadata: {name: a}\n  status: {allocatable: "
                          "{cpu: 4, memory: 8Gi, pods: 10}}\n";
  std::ofstream(pods)
      << "kind: PodList\nitems:\n"
         "- metadata: {name: x}\n  spec: {schedulerName: packer, containers: [{name: c}]}\n"
         "- metadata: {name: y}\n  spec: {containers: [{name: c}]}\n";
  std::ofstream(cfg) << kHead
                     << "profiles:\n- schedulerName: default-scheduler\n- schedulerName: packer\n";
  std::ostringstream out, err;
  REQUIRE(carbonkube::cli::run({"score", "--nodes", nodes, "--pods", pods, "--config", cfg}, out,
                               err) == 0);
  auto doc = nlohmann::json::parse(out.str());
  CHECK(doc["results"][0]["profile"] == "packer");
  CHECK(doc["results"][1]["profile"] == "default-scheduler");
}
