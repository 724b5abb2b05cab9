// The QoS controller on the bundled 2023 Electricity Maps data: each zone's
// profile from the QosReconciler, written as planned_node_writes says, only to
// nodes whose values differ; PATCHes are JSON merge patches on /api/v1/nodes.
#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/signals.hpp"
#include "qos_controller.hpp"
#include "test_support.hpp"

using namespace carbonkube;
using namespace carbonkube::host;

namespace {

constexpr std::int64_t kAt = 1689444000;  // 2023-07-15 18:00 UTC

std::shared_ptr<const CarbonSignals> bundled_signals() {
  auto signals = std::make_shared<CarbonSignals>();
  for (const char* zone : {"US-CAL-CISO", "ES", "NO"}) {
    const std::string path = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/" +
                             zone + "_2023_hourly.csv";
    const std::string text = read_file(path);
    signals->add(
        load_signals(text, path, *detect_signal_format(text, path), IntensityScope::kLifecycle, {})
            .series);
  }
  return signals;
}

Node node_in(const std::string& name, const std::string& region) {
  Node n;
  n.name = name;
  n.labels = {{"topology.kubernetes.io/region", region}};
  return n;
}

void set_value(StringMap& map, const std::string& key, const std::string& value) {
  for (auto& [k, v] : map) {
    if (k == key) {
      v = value;
      return;
    }
  }
  map.emplace_back(key, value);
  std::sort(map.begin(), map.end());
}

}  // namespace

TEST_CASE("qos controller: writes every zoned node once, then only what differs") {
  const ZoneMap zones = ZoneMap::parse(
      read_file(std::string(CARBONKUBE_SOURCE_DIR) + "/examples/config/zones.yaml"), "zones.yaml");
  const auto signals = bundled_signals();
  QosControllerOptions options;
  options.zones = &zones;
  options.signals = [signals] { return signals; };
  QosController controller(options, [](const std::string&, const std::string&) {});

  std::vector<Node> nodes = {node_in("cal", "us-west-1"), node_in("es", "eu-south-2"),
                             node_in("no", "eu-north-1"), node_in("elsewhere", "mars-1")};
  std::vector<NodeWrite> writes = controller.plan(kAt, nodes);
  REQUIRE(writes.size() == 3);  // the node outside every zone is left alone
  for (const NodeWrite& w : writes) {
    CHECK(w.node != "elsewhere");
    const auto patch = nlohmann::json::parse(w.merge_patch);
    CHECK(patch["metadata"]["labels"].contains("carbon-kube.io/qos-profile"));
    CHECK(patch["metadata"]["annotations"].contains("carbon-kube.io/carbon-intensity"));
    CHECK(patch["metadata"]["annotations"].contains("carbon-kube.io/qos-updated"));
  }
  // Norway's hydro is the greenest: its profile differs from California's at 18:00.
  auto profile_of = [&](const std::string& name) {
    for (const auto& w : writes) {
      if (w.node == name) {
        for (const auto& [k, v] : w.labels) {
          if (k == "carbon-kube.io/qos-profile") return v;
        }
      }
    }
    return std::string();
  };
  CHECK(profile_of("no") == "green-guaranteed");
  CHECK(profile_of("no") != profile_of("cal"));

  // Apply the writes to the node objects, as the API server would: next round, nothing to do.
  for (const NodeWrite& w : writes) {
    for (Node& n : nodes) {
      if (n.name != w.node) continue;
      for (const auto& [k, v] : w.labels) set_value(n.labels, k, v);
      for (const auto& [k, v] : w.annotations) set_value(n.annotations, k, v);
    }
  }
  CHECK(controller.plan(kAt, nodes).empty());
  // Someone edits a node's label: only that node is written again.
  set_value(nodes[2].labels, "carbon-kube.io/qos-profile", "hand-edited");
  const auto again = controller.plan(kAt, nodes);
  REQUIRE(again.size() == 1);
  CHECK(again[0].node == "no");
}

TEST_CASE("qos controller: PATCH with application/merge-patch+json on the node") {
  httplib::Server server;
  std::mutex mutex;
  std::vector<std::string> seen;
  server.Patch(R"(/api/v1/nodes/([a-z0-9-]+))", [&](const httplib::Request& req,
                                                    httplib::Response& res) {
    std::lock_guard lock(mutex);
    seen.push_back(req.matches[1].str() + "|" + req.get_header_value("Content-Type") + "|" +
                   req.body);
    if (req.matches[1].str() == "gone") {
      res.status = 404;
      res.set_content(R"({"kind":"Status","code":404,"reason":"NotFound"})", "application/json");
      return;
    }
    res.set_content("{}", "application/json");
  });
  test::ServerThread running(server);
  KubeCredentials creds;
  creds.server = running.base_url();
  KubeClient client(creds);
  QosController controller({}, [](const std::string&, const std::string&) {});
  HostMetrics metrics;
  std::vector<NodeWrite> writes(2);
  writes[0].node = "n1";
  writes[0].merge_patch = R"({"metadata":{"labels":{"carbon-kube.io/qos-profile":"x"}}})";
  writes[1].node = "gone";
  writes[1].merge_patch = "{}";
  CHECK(controller.apply(client, writes, metrics) == 1);
  CHECK(metrics.qos_node_writes.load() == 1);
  REQUIRE(seen.size() == 2);
  CHECK(
      seen[0] ==
      R"(n1|application/merge-patch+json|{"metadata":{"labels":{"carbon-kube.io/qos-profile":"x"}}})");
}
