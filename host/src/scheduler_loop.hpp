// The secondary scheduler: one decision thread owns the ClusterCache and the
// engine's Scheduler (decisions are single-threaded and allocation-light);
// a small pool of binder threads, each with its own KubeClient, POSTs the
// Bindings and Events. Informers and binders hand their results back through
// one queue. Only the leader binds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "cluster_cache.hpp"
#include "host_metrics.hpp"
#include "informer.hpp"
#include "kube_client.hpp"

namespace carbonkube::host {

struct SchedulerLoopOptions {
  std::string scheduler_name = "katalyst-carbon-scheduler";
  int binders = 4;
  std::chrono::seconds unschedulable_retry{60};
  std::chrono::milliseconds binding_retry{1000};
  /// Carbon inputs (null: none); `at` fixed evaluation time, else now.
  const ZoneMap* zones = nullptr;
  /// The current carbon data (files, or the providers' latest); null or
  /// unset: carbon-neutral.
  std::function<std::shared_ptr<const CarbonSignals>()> signals;
  std::optional<std::int64_t> at;
  /// false: keep the cache only (extender / QoS modes without the scheduler).
  bool schedule = true;
  /// Publish the cache as KubeObjects (for the extender and the QoS controller).
  bool publish_objects = false;
};

/// kube-scheduler's FailedScheduling message: "0/N nodes are available: "
/// then "COUNT REASON" per distinct reason, sorted, joined by ", ", ending ".".
std::string failed_scheduling_message(std::size_t node_count,
                                      const std::vector<std::string>& node_reasons);

class SchedulerLoop {
 public:
  using Logger = std::function<void(const std::string& level, const std::string& message)>;
  SchedulerLoop(SchedulerLoopOptions options, Scheduler scheduler, KubeCredentials credentials,
                HostMetrics& metrics, std::function<bool()> is_leader, Logger log);
  ~SchedulerLoop();

  /// Thread-safe: an informer's batch.
  void post(InformerEvent&& event);
  /// Runs the decision loop until `stop`. `synced` says when every informer
  /// listed once (no decision before).
  void run(const std::atomic<bool>& stop, const std::function<bool()>& synced);

  /// The latest published nodes and bound pods (null before the first
  /// publish; refreshed at most twice a second). Thread-safe.
  std::shared_ptr<const KubeObjects> objects() const;

 private:
  struct BindJob {
    Pod pod;
    std::string node;
  };
  struct BindResult {
    Pod pod;
    std::string node;
    enum class Outcome { kBound, kConflict, kError, kNotLeader } outcome;
  };
  struct EventJob {
    std::string namespace_name, pod_name, pod_uid, type, reason, message;
    int attempts = 0;
    std::chrono::steady_clock::time_point not_before{};
  };

  void binder(const std::atomic<bool>& stop);
  void schedule_pending(const SnapshotPtr& first);
  void emit_event(EventJob job);
  /// The API server's status for the Event POST (throws on transport errors).
  long post_event(KubeClient& client, const EventJob& job);
  /// post_event, retried later (up to 5 times) when the server did not answer.
  void deliver_event(KubeClient& client, EventJob job);

  SchedulerLoopOptions options_;
  Scheduler scheduler_;
  KubeCredentials credentials_;
  HostMetrics& metrics_;
  std::function<bool()> is_leader_;
  Logger log_;
  ClusterCache cache_;
  ScoringContext context_{1};

  std::mutex inbox_mutex_;
  std::condition_variable inbox_ready_;
  std::deque<InformerEvent> inbox_;
  std::deque<BindResult> results_;

  std::mutex work_mutex_;
  std::condition_variable work_ready_;
  std::deque<BindJob> bind_jobs_;
  std::deque<EventJob> event_jobs_;
  std::vector<std::thread> binders_;
  // Pods whose binding failed (not a conflict): queued again after a pause,
  // so an unreachable API server is not hammered.
  std::deque<std::pair<std::chrono::steady_clock::time_point, Pod>> retry_later_;

  mutable std::mutex objects_mutex_;
  std::shared_ptr<const KubeObjects> objects_;
};

}  // namespace carbonkube::host
