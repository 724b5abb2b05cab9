// QoS controller mode: each round reads the carbon intensity of every zone,
// lets the engine's QosReconciler decide the zone's profile (hysteresis and
// minimum dwell included) and PATCHes (merge patch) the zone's nodes exactly
// as planned_node_writes says, only where a node's current values differ.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "host_metrics.hpp"
#include "kube_client.hpp"

namespace carbonkube::host {

struct QosControllerOptions {
  const ZoneMap* zones = nullptr;
  /// The current carbon data (files, or the providers' latest); null or
  /// unset: carbon-neutral.
  std::function<std::shared_ptr<const CarbonSignals>()> signals;
  std::optional<std::int64_t> at;  // fixed evaluation time, else now
  QosReconcilerConfig reconciler;
  std::chrono::seconds interval{60};
};

class QosController {
 public:
  using Logger = std::function<void(const std::string& level, const std::string& message)>;
  QosController(QosControllerOptions options, Logger log);

  /// One round over `nodes` at `now`: the writes whose values differ from
  /// the node's current labels and annotations (nothing is written here).
  std::vector<NodeWrite> plan(std::int64_t now, std::span<const Node> nodes);

  /// Applies one round's writes with `client`; returns how many succeeded.
  std::size_t apply(KubeClient& client, std::span<const NodeWrite> writes, HostMetrics& metrics);

  /// Every interval while leading: plan over the current nodes and apply.
  void run(const std::atomic<bool>& stop, const std::function<bool()>& is_leader,
           const std::function<std::shared_ptr<const KubeObjects>()>& objects,
           const KubeCredentials& credentials, HostMetrics& metrics);

 private:
  QosControllerOptions options_;
  Logger log_;
  QosReconciler reconciler_;
};

}  // namespace carbonkube::host
