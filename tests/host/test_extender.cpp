// The kube-scheduler extender over the engine: recorded ExtenderArgs in,
// ExtenderFilterResult / HostPriorityList out, checked against a direct
// Scheduler::schedule on the same nodes, pods and carbon data.
#include <doctest/doctest.h>

#include <carbonkube/error.hpp>
#include <carbonkube/pod.hpp>
#include <carbonkube/snapshot.hpp>

#include <cmath>
#include <nlohmann/json.hpp>
#include <set>

#include "extender.hpp"
#include "test_support.hpp"

namespace ck = carbonkube;
using carbonkube::host::ExtenderInputs;
using nlohmann::json;

namespace {

const std::string kSource = CARBONKUBE_SOURCE_DIR;
constexpr std::int64_t kNoonJune2023 = 1685620800;  // 2023-06-01T12:00:00Z

struct World {
  ck::Scheduler scheduler;
  ck::ZoneMap zones;
  ck::CarbonSignals signals;
  ck::KubeObjects cache;

  World()
      : scheduler(ck::host::make_extender_scheduler(
            ck::parse_scheduler_config(
                ck::read_file(kSource + "/examples/config/katalyst-carbon-scheduler.yaml"),
                "katalyst-carbon-scheduler.yaml"),
            "katalyst-carbon-scheduler")),
        zones(ck::ZoneMap::parse(ck::read_file(kSource + "/examples/config/zones.yaml"),
                                 "zones.yaml")) {
    for (const char* zone : {"ES", "NO", "US-CAL-CISO"}) {
      const std::string path =
          kSource + "/data/carbon/electricitymaps/" + zone + "_2023_hourly.csv";
      signals.add(
          ck::load_electricitymaps_csv(ck::read_file(path), path, ck::IntensityScope::kLifecycle)
              .series);
    }
    cache = ck::parse_kube_objects(ck::read_file(kSource + "/examples/cluster/nodes.json"),
                                   "nodes.json");
    cache.pods =
        ck::parse_kube_objects(ck::read_file(kSource + "/examples/cluster/pods.yaml"), "pods.yaml")
            .pods;
  }

  ExtenderInputs inputs(bool with_cache = true) const {
    ExtenderInputs in;
    in.scheduler = &scheduler;
    in.zones = &zones;
    in.signals = &signals;
    in.now = kNoonJune2023;
    in.cache = with_cache ? &cache : nullptr;
    return in;
  }
};

std::string fixture(const std::string& name) {
  return ck::host::test::read_text(kSource + "/tests/host/fixtures/extender/" + name);
}

// The node Scheduler::schedule selects for the fixture's pod over `nodes`
// with the cache's bound pods: the reference the extender must agree with.
std::string reference_choice(const World& w, const json& args) {
  json list = {{"kind", "NodeList"}, {"apiVersion", "v1"}, {"items", args["Nodes"]["items"]}};
  ck::KubeObjects nodes = ck::parse_kube_objects(list.dump(), "reference");
  json pod_json = args["Pod"];
  pod_json["kind"] = "Pod";
  pod_json["apiVersion"] = "v1";
  ck::Pod pod = ck::parse_kube_objects(pod_json.dump(), "reference pod").pods.at(0);
  ck::ClusterState state;
  for (const auto& n : nodes.nodes) state.upsert_node(n);
  for (const auto& p : w.cache.pods) state.upsert_pod(p);
  auto snapshot = state.publish();
  auto conditions = ck::ClusterConditions::build(*snapshot, w.zones, w.signals, kNoonJune2023);
  ck::ScoringContext ctx(0);
  auto result = w.scheduler.schedule(*snapshot, ck::compile_pod(pod, *snapshot), ctx, &conditions);
  REQUIRE(result.selected.has_value());
  return snapshot->node_name(*result.selected);
}

}  // namespace

TEST_CASE("extender filter: feasible nodes returned as sent, failures with plugin and reason") {
  const World w;
  const std::string body = fixture("args_nodes.json");
  const auto reply = ck::host::extender_filter(body, w.inputs());
  REQUIRE(reply.status == 200);
  const json out = json::parse(reply.body);
  CHECK(out["Error"] == "");
  CHECK(out["NodeNames"].is_null());
  std::set<std::string> feasible;
  const json sent = json::parse(body);
  for (const auto& item : out["Nodes"]["items"]) {
    feasible.insert(item["metadata"]["name"].get<std::string>());
    // The original object, byte for byte as JSON.
    bool found = false;
    for (const auto& s : sent["Nodes"]["items"]) found = found || s == item;
    CHECK(found);
  }
  CHECK(out["Nodes"]["metadata"]["resourceVersion"] == "48213");
  // cpu 5: es-1b holds db-0 (3500m of 7910m), no-1a is a 3920m node.
  CHECK(feasible == std::set<std::string>{"es-1a", "ca-1b", "br-1a"});
  CHECK(out["FailedNodes"].size() == 2);
  CHECK(out["FailedNodes"]["es-1b"].get<std::string>().find("NodeResourcesFit") == 0);
  CHECK(out["FailedNodes"]["es-1b"].get<std::string>().find("cpu") != std::string::npos);
  CHECK(out["FailedNodes"]["no-1a"].get<std::string>().find("NodeResourcesFit") == 0);
  // Preemption cannot fix a cordoned or tainted node.
  CHECK(out["FailedAndUnresolvableNodes"].size() == 2);
  CHECK(out["FailedAndUnresolvableNodes"]["no-1b"].get<std::string>().find("NodeUnschedulable") ==
        0);
  CHECK(out["FailedAndUnresolvableNodes"]["ca-1a"].get<std::string>().find("TaintToleration") == 0);
}

TEST_CASE("extender filter: without the cache's pods the nodes are empty") {
  const World w;
  const auto reply = ck::host::extender_filter(fixture("args_nodes.json"), w.inputs(false));
  const json out = json::parse(reply.body);
  std::set<std::string> feasible;
  for (const auto& item : out["Nodes"]["items"]) feasible.insert(item["metadata"]["name"]);
  CHECK(feasible == std::set<std::string>{"es-1a", "es-1b", "ca-1b", "br-1a"});
}

TEST_CASE("extender prioritize: 0..10, the engine's choice scores highest, request order") {
  const World w;
  const std::string body = fixture("args_nodes.json");
  const json args = json::parse(body);
  const auto reply = ck::host::extender_prioritize(body, w.inputs());
  REQUIRE(reply.status == 200);
  const json out = json::parse(reply.body);
  REQUIRE(out.is_array());
  REQUIRE(out.size() == args["Nodes"]["items"].size());
  std::int64_t best = -1;
  std::string best_host;
  for (std::size_t i = 0; i < out.size(); ++i) {
    CHECK(out[i]["Host"] == args["Nodes"]["items"][i]["metadata"]["name"]);
    REQUIRE(out[i]["Score"].is_number_integer());
    const auto score = out[i]["Score"].get<std::int64_t>();
    CHECK(score >= 0);
    CHECK(score <= ck::host::kMaxExtenderPriority);
    if (score > best) best = score, best_host = out[i]["Host"];
  }
  CHECK(best == ck::host::kMaxExtenderPriority);
  const std::string chosen = reference_choice(w, args);
  for (const auto& e : out)
    if (e["Host"] == chosen) CHECK(e["Score"] == ck::host::kMaxExtenderPriority);
  // Infeasible nodes score 0; some feasible node scores below the best.
  for (const auto& e : out)
    if (e["Host"] == "no-1b" || e["Host"] == "ca-1a" || e["Host"] == "es-1b")
      CHECK(e["Score"] == 0);
}

TEST_CASE("extender: nodeCacheCapable NodeNames resolve through the cache; unknown names fail") {
  const World w;
  const auto filter =
      json::parse(ck::host::extender_filter(fixture("args_node_names.json"), w.inputs()).body);
  CHECK(filter["Nodes"].is_null());
  // br-1a is in the request's node list but not in examples/cluster/nodes.json.
  CHECK(filter["NodeNames"] == json::array({"es-1a", "ca-1b"}));
  CHECK(filter["FailedNodes"].size() == 4);
  CHECK(filter["FailedNodes"].contains("br-1a"));
  REQUIRE(filter["FailedNodes"].contains("gone-node"));
  CHECK(filter["FailedNodes"]["gone-node"].get<std::string>().find("not in carbonkube-host's node "
                                                                   "cache") != std::string::npos);
  const auto scores =
      json::parse(ck::host::extender_prioritize(fixture("args_node_names.json"), w.inputs()).body);
  REQUIRE(scores.size() == 8);
  CHECK(scores[7]["Host"] == "gone-node");
  CHECK(scores[7]["Score"] == 0);
  // Without a cache every name is unknown.
  const auto none =
      json::parse(ck::host::extender_filter(fixture("args_node_names.json"), w.inputs(false)).body);
  CHECK(none["NodeNames"].empty());
  CHECK(none["FailedNodes"].size() == 8);
}

TEST_CASE("extender: an unmapped zone is carbon-neutral, never NaN") {
  const World w;
  const auto reply = ck::host::extender_prioritize(fixture("args_nodes.json"), w.inputs());
  CHECK(reply.body.find("NaN") == std::string::npos);
  CHECK(reply.body.find("null") == std::string::npos);
  const json out = json::parse(reply.body);
  bool br_seen = false;
  for (const auto& e : out)
    if (e["Host"] == "br-1a") br_seen = e["Score"].is_number_integer();
  CHECK(br_seen);
  // With no carbon data at all the extender still answers (carbon-neutral).
  ExtenderInputs neutral = w.inputs();
  neutral.signals = nullptr;
  CHECK(ck::host::extender_prioritize(fixture("args_nodes.json"), neutral).status == 200);
}

TEST_CASE("extender: bad requests answer 400 with an Error naming the problem") {
  const World w;
  auto error_of = [&](const std::string& body) {
    const auto reply = ck::host::extender_filter(body, w.inputs());
    CHECK(reply.status == 400);
    return json::parse(reply.body)["Error"].get<std::string>();
  };
  CHECK(error_of("{\"Pod\": ").find("not valid JSON") != std::string::npos);
  CHECK(error_of("[]").find("expected a JSON object") != std::string::npos);
  CHECK(error_of("{\"NodeNames\": []}").find("Pod is missing") != std::string::npos);
  CHECK(error_of(R"({"Pod": {"metadata": {"name": "p"}, "spec": {"containers": []}}})")
            .find("neither Nodes nor NodeNames") != std::string::npos);
  CHECK(error_of(R"({"Pod": {"metadata": {"name": "p"}, "spec": {}}, "NodeNames": [3]})")
            .find("NodeNames[0]") != std::string::npos);
  CHECK(error_of(R"({"Pod": {"metadata": {"name": "p"}, "spec": {}}, "Nodes": {"items": 7}})")
            .find("Nodes") != std::string::npos);
  const std::string bad_cpu =
      R"({"Pod": {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c",
          "resources": {"requests": {"cpu": "lots"}}}]}}, "NodeNames": ["es-1a"]})";
  CHECK(error_of(bad_cpu).find("lots") != std::string::npos);
  // Keys are matched as Go's decoder does: case-insensitively.
  json lower = json::parse(fixture("args_node_names.json"));
  lower["pod"] = lower["Pod"];
  lower.erase("Pod");
  lower["nodenames"] = lower["NodeNames"];
  lower.erase("NodeNames");
  CHECK(ck::host::extender_filter(lower.dump(), w.inputs()).status == 200);
  // prioritize refuses the same way.
  CHECK(ck::host::extender_prioritize("nope", w.inputs()).status == 400);
}
