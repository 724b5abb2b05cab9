// QoS controller (qos_controller.hpp).
#include "qos_controller.hpp"

#include <algorithm>
#include <ctime>
#include <thread>

#include "carbonkube/error.hpp"

namespace carbonkube::host {
namespace {

const std::string* find_value(const StringMap& map, const std::string& key) {
  for (const auto& [k, v] : map) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool all_present(const StringMap& current, const StringMap& wanted) {
  for (const auto& [key, value] : wanted) {
    const std::string* have = find_value(current, key);
    if (have == nullptr || *have != value) return false;
  }
  return true;
}

}  // namespace

QosController::QosController(QosControllerOptions options, Logger log)
    : options_(std::move(options)), log_(std::move(log)), reconciler_(options_.reconciler) {}

std::vector<NodeWrite> QosController::plan(std::int64_t now, std::span<const Node> nodes) {
  const std::shared_ptr<const CarbonSignals> signals =
      options_.signals ? options_.signals() : nullptr;
  if (options_.zones == nullptr || signals == nullptr) return {};
  const ZoneIntensities intensities = ZoneIntensities::compute(*options_.zones, *signals, now);
  std::vector<ZoneQosInput> inputs;
  const auto zone_names = options_.zones->zones();
  for (std::size_t z = 0; z < zone_names.size(); ++z) {
    ZoneQosInput in;
    in.zone = zone_names[z];
    in.usable = z < intensities.usable.size() && intensities.usable[z] != 0;
    in.intensity_g_per_kwh = in.usable ? intensities.g_per_kwh[z] : 0.0;
    inputs.push_back(std::move(in));
  }
  const std::vector<ZoneDecision> decisions = reconciler_.reconcile(now, inputs);
  for (const auto& d : decisions) {
    if (d.changed) log_("info", "qos: zone " + d.zone + ": " + d.detail);
  }
  std::vector<NodeZone> node_zones;
  for (const Node& node : nodes) {
    const std::string_view zone = options_.zones->zone_for(node.labels);
    if (!zone.empty()) node_zones.push_back({node.name, std::string(zone)});
  }
  std::vector<NodeWrite> writes =
      planned_node_writes(decisions, node_zones, reconciler_.profiles());
  std::vector<NodeWrite> differing;
  for (auto& write : writes) {
    const auto node = std::find_if(nodes.begin(), nodes.end(),
                                   [&](const Node& n) { return n.name == write.node; });
    if (node == nodes.end()) continue;
    if (all_present(node->labels, write.labels) &&
        all_present(node->annotations, write.annotations)) {
      continue;
    }
    differing.push_back(std::move(write));
  }
  return differing;
}

std::size_t QosController::apply(KubeClient& client, std::span<const NodeWrite> writes,
                                 HostMetrics& metrics) {
  std::size_t done = 0;
  for (const NodeWrite& write : writes) {
    try {
      client.call("PATCH", "/api/v1/nodes/" + write.node, write.merge_patch,
                  "application/merge-patch+json");
      metrics.qos_node_writes.fetch_add(1);
      ++done;
    } catch (const std::exception& e) {
      log_("warn", std::string("qos: ") + e.what());
    }
  }
  return done;
}

void QosController::run(const std::atomic<bool>& stop, const std::function<bool()>& is_leader,
                        const std::function<std::shared_ptr<const KubeObjects>()>& objects,
                        const KubeCredentials& credentials, HostMetrics& metrics) {
  KubeClient client(credentials);
  auto next = std::chrono::steady_clock::now();
  while (!stop.load()) {
    if (std::chrono::steady_clock::now() >= next) {
      const auto current = objects();
      if (current && is_leader()) {
        try {
          const std::int64_t now =
              options_.at.value_or(static_cast<std::int64_t>(std::time(nullptr)));
          const auto writes = plan(now, current->nodes);
          const std::size_t done = apply(client, writes, metrics);
          if (!writes.empty()) {
            log_("info", "qos: wrote " + std::to_string(done) + " of " +
                             std::to_string(writes.size()) + " nodes");
          }
          next = std::chrono::steady_clock::now() + options_.interval;
        } catch (const std::exception& e) {
          log_("warn", std::string("qos: ") + e.what());
          next = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        }
      } else {
        next = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace carbonkube::host
