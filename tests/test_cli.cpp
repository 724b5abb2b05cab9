// `carbonkube score` on the bundled example cluster and on bad input.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli.hpp"
#include "fixtures.hpp"

namespace {
struct Run {
  int code;
  std::string out;
  std::string err;
};
Run run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = carbonkube::cli::run(args, out, err);
  return {code, out.str(), err.str()};
}
const std::string kDir = std::string(CARBONKUBE_SOURCE_DIR) + "/examples/cluster/";
std::string temp_file(const std::string& name, const std::string& content) {
  std::string path = std::string("/tmp/carbonkube-test-") + name;
  std::ofstream(path) << content;
  return path;
}
using ck_test::contains;
}  // namespace

TEST_CASE("score the bundled example: every pending pod, explained") {
  Run r = run({"score", "--config", kDir + "scheduler.yaml", "--nodes", kDir + "nodes.json",
               "--pods", kDir + "pods.yaml", "--explain"});
  REQUIRE(r.code == 0);
  auto doc = nlohmann::json::parse(r.out);
  auto& results = doc["results"];
  REQUIRE(results.size() == 5);
  std::map<std::string, nlohmann::json> by_pod;
  for (auto& res : results) by_pod[res["pod"].get<std::string>()] = res;
  // MostAllocated (weight 3) packs the web pod onto the fuller Spanish node.
  CHECK(by_pod["shop/web-7d9f"]["selected"] == "es-1b");
  // Only the tainted GPU node has a GPU, and the pod tolerates the taint.
  CHECK(by_pod["ml/trainer-0"]["selected"] == "ca-1a");
  // Required affinity to the EU regions, preferred Norway.
  CHECK(by_pod["batch/etl-4411"]["selected"] == "no-1a");
  CHECK(by_pod["batch/huge-0"]["selected"].is_null());
  for (auto& n : by_pod["batch/huge-0"]["nodes"]) {
    CHECK(n["feasible"] == false);
    CHECK(!n["reasons"].empty());
    CHECK(n["total"].is_null());
  }
  // Totals are the weighted sums of the per-plugin scores.
  std::map<std::string, std::int64_t> weights;
  for (auto& s : doc["profile"]["scores"])
    weights[s["name"].get<std::string>()] = s["weight"].get<std::int64_t>();
  for (auto& res : results)
    for (auto& n : res["nodes"]) {
      if (!n["feasible"].get<bool>()) continue;
      std::int64_t sum = 0;
      for (auto it = n["scores"].begin(); it != n["scores"].end(); ++it) {
        CHECK(it.value().get<std::int64_t>() >= 0);
        CHECK(it.value().get<std::int64_t>() <= 100);
        sum += weights[it.key()] * it.value().get<std::int64_t>();
      }
      CHECK(n["total"].get<std::int64_t>() == sum);
    }
  CHECK(contains(r.err, "pod shop/web-7d9f: selected es-1b"));
  CHECK(contains(r.err, "node(s) were unschedulable"));
}

TEST_CASE("placed pods are assumed bound before the next pod is scored") {
  std::string nodes = temp_file(
      "nodes.yaml",
      "kind: NodeList\nitems:\n- metadata: {name: a}\n  status: {allocatable: {cpu: 1, memory: "
      "1Gi, pods: 10}}\n"
      "- metadata: {name: b}\n  status: {allocatable: {cpu: 1, memory: 1Gi, pods: 10}}\n");
  std::string pods = temp_file("pods.yaml",
                               "kind: PodList\nitems:\n- metadata: {name: p1}\n  spec: "
                               "{containers: [{name: c, resources: {requests: {cpu: 600m}}}]}\n"
                               "- metadata: {name: p2}\n  spec: {containers: [{name: c, resources: "
                               "{requests: {cpu: 600m}}}]}\n"
                               "- metadata: {name: p3}\n  spec: {containers: [{name: c, resources: "
                               "{requests: {cpu: 600m}}}]}\n");
  Run r = run({"score", "--nodes", nodes, "--pods", pods, "--seed", "7"});
  REQUIRE(r.code == 0);
  auto doc = nlohmann::json::parse(r.out);
  REQUIRE(doc["results"].size() == 3);
  std::set<std::string> placed = {doc["results"][0]["selected"].get<std::string>(),
                                  doc["results"][1]["selected"].get<std::string>()};
  CHECK(placed ==
        std::set<std::string>{"a", "b"});  // the second pod no longer fits where the first went
  CHECK(doc["results"][2]["selected"].is_null());
  // Same seed, same output.
  CHECK(run({"score", "--nodes", nodes, "--pods", pods, "--seed", "7"}).out == r.out);
}

TEST_CASE("bad input: exit code 2 and a message naming the problem") {
  Run r = run({"score", "--nodes", "/nonexistent/nodes.json"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "/nonexistent/nodes.json: cannot open file"));

  std::string bad = temp_file("bad.json", "{\"kind\": \"NodeList\", \"items\": [");
  r = run({"score", "--nodes", bad});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "malformed JSON"));

  std::string cfg =
      temp_file("cfg.yaml",
                "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                "profiles:\n- plugins: {score: {enabled: [{name: Carbonish}]}}\n");
  r = run({"score", "--config", cfg, "--nodes", kDir + "nodes.json"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "unknown plugin \"Carbonish\""));
  CHECK(r.out.empty());

  std::string no_nodes = temp_file("empty.yaml", "kind: PodList\nitems: []\n");
  r = run({"score", "--nodes", no_nodes});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "no Node objects"));

  CHECK(run({"score"}).code == 2);
  CHECK(run({"score", "--nodes"}).code == 2);
  CHECK(run({"score", "--nodes", kDir + "nodes.json", "--seed", "-1"}).code == 2);
  CHECK(run({"score", "--nodes", kDir + "nodes.json", "--frobnicate"}).code == 2);
  CHECK(run({"frobnicate"}).code == 2);
  CHECK(run({"version"}).code == 0);
  CHECK(contains(run({"help"}).out, "carbonkube score"));
}

TEST_CASE("score with carbon signals, zones and CNRs on the bundled data") {
  const std::string data = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/";
  const std::string cfg = std::string(CARBONKUBE_SOURCE_DIR) + "/examples/config/";
  std::vector<std::string> base = {"score",
                                   "--nodes",
                                   kDir + "nodes.json",
                                   "--pods",
                                   kDir + "pods.yaml",
                                   "--signals",
                                   data + "US-CAL-CISO_2023_hourly.csv",
                                   "--signals",
                                   data + "ES_2023_hourly.csv",
                                   "--signals",
                                   data + "NO_2023_hourly.csv",
                                   "--zones",
                                   cfg + "zones.yaml",
                                   "--cnrs",
                                   kDir + "cnrs.yaml"};
  auto with = [&](std::vector<std::string> extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  };
  Run r = with({"--at", "2023-07-15T18:00:00Z"});
  REQUIRE(r.code == 0);
  auto doc = nlohmann::json::parse(r.out);
  CHECK(doc["profile"]["schedulerName"] == "katalyst-carbon-scheduler");
  CHECK(doc["carbon"]["at"] == "2023-07-15T18:00:00Z");
  std::map<std::string, double> g;
  for (auto& z : doc["carbon"]["zones"])
    g[z["zone"].get<std::string>()] = z["gCO2PerKWh"].get<double>();
  CHECK(g["NO"] == doctest::Approx(25.51));  // the bundled file's lifecycle value at that hour
  CHECK(g["NO"] < g["ES"]);
  // The web pod (no affinity) goes to hydro-powered Norway.
  CHECK(doc["results"][0]["pod"] == "shop/web-7d9f");
  CHECK(doc["results"][0]["selected"] == "no-1a");
  for (auto& n : doc["results"][0]["nodes"])
    if (n["feasible"].get<bool>()) CHECK(n["scores"].contains("CarbonAwareScore"));
  // Unix seconds work as --at too, and the same inputs give the same output.
  CHECK(with({"--at", "1689444000"}).out == r.out);
  // The direct (operational) column differs from the lifecycle one.
  auto direct = nlohmann::json::parse(with({"--at", "1689444000", "--scope", "direct"}).out);
  CHECK(direct["carbon"]["zones"][0]["gCO2PerKWh"] != doc["carbon"]["zones"][0]["gCO2PerKWh"]);
  // Stale data: carbon-neutral, with the reason.
  auto stale = nlohmann::json::parse(with({"--at", "2025-01-01T00:00:00Z"}).out);
  for (auto& z : stale["carbon"]["zones"]) {
    CHECK(z["usable"] == false);
    CHECK(z["gCO2PerKWh"].is_null());
  }
}

TEST_CASE("carbon flags: bad combinations and bad files exit 2 with a message") {
  const std::string data = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/";
  Run r = run({"score", "--nodes", kDir + "nodes.json", "--signals", data + "NO_2023_hourly.csv"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--signals needs --zones"));
  r = run({"score", "--nodes", kDir + "nodes.json", "--zones", "z.yaml"});
  CHECK(r.code == 2);
  std::string zones =
      temp_file("zones.yaml", "unknownZone: neutral\nregions: {eu-north-1: \"NO\"}\n");
  r = run({"score", "--nodes", kDir + "nodes.json", "--signals", data + "NO_2023_hourly.csv",
           "--zones", zones, "--at", "yesterday"});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "--at"));
  std::string junk = temp_file("junk.json", "{\"hello\": 1}");
  r = run({"score", "--nodes", kDir + "nodes.json", "--signals", junk, "--zones", zones});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "cannot tell the carbon data format"));
  r = run({"score", "--nodes", kDir + "nodes.json", "--signals", junk, "--signals-format",
           "tea-leaves", "--zones", zones});
  CHECK(r.code == 2);
  std::string bad_zones = temp_file("badzones.yaml", "regions: {eu-north-1: \"NO\"}\n");
  r = run({"score", "--nodes", kDir + "nodes.json", "--signals", data + "NO_2023_hourly.csv",
           "--zones", bad_zones});
  CHECK(r.code == 2);
  CHECK(contains(r.err, "unknownZone"));
}
