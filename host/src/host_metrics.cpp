// HostMetrics rendering (host_metrics.hpp), through the engine's PrometheusText.
#include "host_metrics.hpp"

#include "carbonkube/metrics.hpp"

namespace carbonkube::host {

std::string HostMetrics::prometheus_text() const {
  PrometheusText out;
  auto value = [](const std::atomic<std::uint64_t>& v) { return static_cast<double>(v.load()); };
  out.family("carbonkube_host_pods_bound_total", "Pods this host bound.", MetricType::kCounter);
  out.sample({}, value(pods_bound));
  out.family("carbonkube_host_scheduling_attempts_total",
             "Scheduling attempts by result (scheduled, unschedulable, error).",
             MetricType::kCounter);
  out.sample({{"result", "scheduled"}}, value(attempts_scheduled));
  out.sample({{"result", "unschedulable"}}, value(attempts_unschedulable));
  out.sample({{"result", "error"}}, value(attempts_error));
  out.family("carbonkube_host_binding_conflicts_total",
             "Bindings answered 409 Conflict (the pod was bound elsewhere).", MetricType::kCounter);
  out.sample({}, value(binding_conflicts));
  out.family("carbonkube_host_binding_errors_total",
             "Bindings that failed otherwise (the pod is retried).", MetricType::kCounter);
  out.sample({}, value(binding_errors));
  out.family("carbonkube_host_event_errors_total", "Events the API server did not accept.",
             MetricType::kCounter);
  out.sample({}, value(events_failed));
  out.family("carbonkube_host_leader", "1 while this replica holds the Lease.", MetricType::kGauge);
  out.sample({}, static_cast<double>(leader.load()));
  out.family("carbonkube_host_informer_relists_total",
             "LISTs after the first one (410 Gone, or a watch that could not resume).",
             MetricType::kCounter);
  out.sample({{"resource", "nodes"}}, value(relists_nodes));
  out.sample({{"resource", "pods"}}, value(relists_pods));
  out.family("carbonkube_host_qos_node_writes_total", "Node PATCHes by the QoS controller.",
             MetricType::kCounter);
  out.sample({}, value(qos_node_writes));
  out.family("carbonkube_host_pending_pods", "Pods waiting in the active queue.",
             MetricType::kGauge);
  out.sample({}, value(pending_pods));
  out.family("carbonkube_host_unschedulable_pods", "Pods parked until the cluster changes.",
             MetricType::kGauge);
  out.sample({}, value(unschedulable_pods));
  out.family("carbonkube_host_cache_nodes", "Nodes in the cluster cache.", MetricType::kGauge);
  out.sample({}, value(cache_nodes));
  out.family("carbonkube_host_cache_pods", "Bound, non-terminal pods in the cluster cache.",
             MetricType::kGauge);
  out.sample({}, value(cache_pods));
  out.family("carbonkube_host_scheduling_seconds_total",
             "Time spent deciding placements (engine cycles, not bindings).", MetricType::kCounter);
  out.sample({}, static_cast<double>(scheduling_seconds_micros.load()) / 1e6);
  return out.text();
}

}  // namespace carbonkube::host
