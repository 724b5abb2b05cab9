// KubeSchedulerConfiguration: kube-scheduler's defaults, merge rules,
// multiPoint expansion, weights and the errors for bad configurations.
#include <doctest/doctest.h>

#include <algorithm>

#include "carbonkube/error.hpp"
#include "carbonkube/profile.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {
const std::string kHead =
    "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
Profile compile(const std::string& body) {
  return compile_profile(parse_scheduler_config(kHead + body, "cfg.yaml"));
}
std::vector<std::string> filter_names(const Profile& p) {
  std::vector<std::string> out;
  for (const Plugin* f : p.filters()) out.emplace_back(f->name());
  return out;
}
std::vector<std::pair<std::string, std::int64_t>> score_names(const Profile& p) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& s : p.scores()) out.emplace_back(std::string(s.plugin->name()), s.weight);
  return out;
}
std::string error_of(const std::string& body) {
  try {
    compile(body);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
using ck_test::contains;
using Scores = std::vector<std::pair<std::string, std::int64_t>>;
using Names = std::vector<std::string>;
}  // namespace

TEST_CASE("the default profile: kube-scheduler's plugins, order and weights") {
  Profile p = default_profile();
  CHECK(p.scheduler_name() == "default-scheduler");
  CHECK(filter_names(p) ==
        Names{"NodeUnschedulable", "TaintToleration", "NodeAffinity", "NodeResourcesFit"});
  CHECK(score_names(p) == Scores{{"TaintToleration", 3},
                                 {"NodeAffinity", 2},
                                 {"NodeResourcesFit", 1},
                                 {"NodeResourcesBalancedAllocation", 1}});
  CHECK(p.percentage_of_nodes_to_score() == 0);
  CHECK(std::find(p.inactive_plugins().begin(), p.inactive_plugins().end(), "PodTopologySpread") !=
        p.inactive_plugins().end());
}

TEST_CASE("a default plugin re-enabled in multiPoint keeps its place and takes the new weight") {
  Profile p = compile(
      "profiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: NodeResourcesFit, weight: "
      "5}]\n");
  CHECK(score_names(p) == Scores{{"TaintToleration", 3},
                                 {"NodeAffinity", 2},
                                 {"NodeResourcesFit", 5},
                                 {"NodeResourcesBalancedAllocation", 1}});
  // Without a weight the override's weight is 0, which means 1 (not the default 3).
  p = compile("profiles:\n- plugins:\n    multiPoint:\n      enabled: [{name: TaintToleration}]\n");
  CHECK(score_names(p)[0] == std::pair<std::string, std::int64_t>{"TaintToleration", 1});
}

TEST_CASE("disabled '*' and by name, per extension point") {
  Profile p = compile("profiles:\n- plugins:\n    score:\n      disabled: [{name: '*'}]\n");
  CHECK(p.scores().empty());
  CHECK(filter_names(p).size() == 4);
  p = compile(
      "profiles:\n- plugins:\n    multiPoint:\n      disabled: [{name: NodeAffinity}, {name: "
      "TaintToleration}]\n");
  CHECK(filter_names(p) == Names{"NodeUnschedulable", "NodeResourcesFit"});
  p = compile("profiles:\n- plugins:\n    filter:\n      disabled: [{name: NodeResourcesFit}]\n");
  CHECK(filter_names(p) == Names{"NodeUnschedulable", "TaintToleration", "NodeAffinity"});
  CHECK(score_names(p).size() == 4);  // still scores
}

TEST_CASE("score weights: an explicit score entry wins over multiPoint; overrides run first") {
  Profile p = compile(
      "profiles:\n- plugins:\n    multiPoint:\n      disabled: [{name: '*'}]\n"
      "      enabled: [{name: NodeResourcesBalancedAllocation, weight: 4}, {name: "
      "NodeResourcesFit, weight: 2}]\n"
      "    score:\n      enabled: [{name: TaintToleration, weight: 7}, {name: NodeResourcesFit, "
      "weight: 9}]\n");
  CHECK(score_names(p) == Scores{{"NodeResourcesFit", 9},
                                 {"NodeResourcesBalancedAllocation", 4},
                                 {"TaintToleration", 7}});
}

TEST_CASE("percentageOfNodesToScore: profile over global") {
  CHECK(compile("percentageOfNodesToScore: 30\n").percentage_of_nodes_to_score() == 30);
  CHECK(compile("percentageOfNodesToScore: 30\nprofiles:\n- percentageOfNodesToScore: 70\n")
            .percentage_of_nodes_to_score() == 70);
}

TEST_CASE("several profiles are selected by schedulerName") {
  auto cfg = parse_scheduler_config(
      kHead + "profiles:\n- schedulerName: a\n- schedulerName: b\n  percentageOfNodesToScore: 9\n",
      "cfg.yaml");
  CHECK(compile_profile(cfg, "b").percentage_of_nodes_to_score() == 9);
  CHECK_THROWS_WITH_AS(compile_profile(cfg, "c"),
                       doctest::Contains("no profile with schedulerName \"c\""), Error);
}

TEST_CASE("plugin args are validated with the field named") {
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: "
                          "{scoringStrategy: {type: Cheapest}}\n"),
                 "unknown scoring strategy \"Cheapest\""));
  CHECK(contains(
      error_of(
          "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: "
          "{type: LeastAllocated, resources: [{name: cpu, weight: 101}]}}\n"),
      "resources[0].weight"));
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: "
                          "{scoringStrategy: {type: RequestedToCapacityRatio}}\n"),
                 "requestedToCapacityRatio is required"));
  CHECK(contains(
      error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: "
               "{scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: "
               "{shape: [{utilization: 50, score: 1}, {utilization: 40, score: 2}]}}}\n"),
      "sorted in increasing order"));
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: "
                          "{scoringStrategy: {type: RequestedToCapacityRatio, "
                          "requestedToCapacityRatio: {shape: [{utilization: 50, score: 11}]}}}\n"),
                 "shape[0].score"));
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: "
                          "{scoringStrategy: {}}\n"),
                 "unknown scoring strategy \"\""));
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: "
                          "{scoringStrategi: {}}\n"),
                 "scoringStrategi: unknown field"));
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesBalancedAllocation\n "
                          "   args: {resources: [{name: cpu, weight: 2}]}\n"),
                 "must be 1"));
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: "
                          "{ignoredResourceGroups: [a/b]}\n"),
                 "must not contain '/'"));
}

TEST_CASE("bad configurations: a clear error naming the field, nothing half-applied") {
  CHECK(contains(
      error_of("profiles:\n- plugins:\n    score:\n      enabled: [{name: NodeResourcesFitt}]\n"),
      "unknown plugin \"NodeResourcesFitt\""));
  CHECK(contains(error_of("profiles:\n- plugins:\n    score:\n      enabled: [{name: "
                          "NodeResourcesFit, weight: -1}]\n"),
                 "weight"));
  CHECK(contains(error_of("profiles:\n- plugins:\n    score:\n      enabled: [{name: "
                          "NodeResourcesFit}, {name: NodeResourcesFit}]\n"),
                 "enabled twice"));
  CHECK(contains(error_of("profiles:\n- plugins:\n    scores: {}\n"),
                 "plugins.scores: unknown field"));
  CHECK(contains(error_of("percentageOfNodesToScore: 101\n"), "out of range"));
  CHECK(contains(error_of("profiles:\n- schedulerName: a\n- schedulerName: a\n"),
                 "duplicate schedulerName"));
  CHECK(contains(error_of("profiles:\n- pluginConfig:\n  - name: Nope\n"),
                 "unknown plugin \"Nope\""));
  CHECK(contains(error_of("profiles:\n- plugins:\n    filter:\n      enabled: [{name: '*'}]\n"),
                 "only valid in disabled"));
  CHECK_THROWS_WITH_AS(parse_scheduler_config("apiVersion: v1\nkind: Pod\n", "x.yaml"),
                       doctest::Contains("expected KubeSchedulerConfiguration"), InvalidInput);
  CHECK_THROWS_WITH_AS(
      parse_scheduler_config(
          "apiVersion: kubescheduler.config.k8s.io/v1alpha1\nkind: KubeSchedulerConfiguration\n",
          "x.yaml"),
      doctest::Contains("unsupported"), InvalidInput);
  CHECK_THROWS_WITH_AS(parse_scheduler_config("profiles: [", "x.yaml"),
                       doctest::Contains("malformed YAML"), InvalidInput);
}

TEST_CASE(
    "the seed's v1beta3 configuration is read; its carbon plugins arrive with the carbon issue") {
  std::string seed =
      "apiVersion: kubescheduler.config.k8s.io/v1beta3\nkind: KubeSchedulerConfiguration\n"
      "profiles:\n- schedulerName: katalyst-carbon-scheduler\n  plugins:\n    score:\n"
      "      enabled: [{name: NodeResourcesFit, weight: 15}, {name: NodeAffinity, weight: 10}]\n";
  Profile p = compile_profile(parse_scheduler_config(seed, "seed.yaml"));
  CHECK(p.scheduler_name() == "katalyst-carbon-scheduler");
  // Entries named at the score point override multiPoint and run first, in their order.
  CHECK(score_names(p) == Scores{{"NodeResourcesFit", 15},
                                 {"NodeAffinity", 10},
                                 {"TaintToleration", 3},
                                 {"NodeResourcesBalancedAllocation", 1}});
}
