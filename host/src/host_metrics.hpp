// The host's own counters and gauges (atomics: written by the scheduler,
// binders, informers and elector threads, read by /metrics), rendered in the
// Prometheus text format together with the engine's metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace carbonkube::host {

struct HostMetrics {
  std::atomic<std::uint64_t> pods_bound{0};
  std::atomic<std::uint64_t> attempts_scheduled{0};
  std::atomic<std::uint64_t> attempts_unschedulable{0};
  std::atomic<std::uint64_t> attempts_error{0};
  std::atomic<std::uint64_t> binding_conflicts{0};
  std::atomic<std::uint64_t> binding_errors{0};
  std::atomic<std::uint64_t> events_failed{0};
  std::atomic<std::uint64_t> relists_nodes{0};
  std::atomic<std::uint64_t> relists_pods{0};
  std::atomic<std::uint64_t> qos_node_writes{0};
  std::atomic<int> leader{0};
  std::atomic<std::uint64_t> pending_pods{0};
  std::atomic<std::uint64_t> unschedulable_pods{0};
  std::atomic<std::uint64_t> cache_nodes{0};
  std::atomic<std::uint64_t> cache_pods{0};
  std::atomic<std::uint64_t> scheduling_seconds_micros{0};  // total decision time

  /// The host's families in Prometheus text (HELP/TYPE lines included).
  std::string prometheus_text() const;
};

}  // namespace carbonkube::host
