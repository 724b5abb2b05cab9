// The secondary scheduler's decision loop and binders (scheduler_loop.hpp).
#include "scheduler_loop.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <map>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/topology.hpp"
#include "leader_election.hpp"

namespace carbonkube::host {
namespace {

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace

std::string failed_scheduling_message(std::size_t node_count,
                                      const std::vector<std::string>& node_reasons) {
  std::map<std::string, std::size_t> counts;  // sorted, as kube-scheduler sorts its reasons
  for (const auto& reason : node_reasons) ++counts[reason];
  std::string message = "0/" + std::to_string(node_count) + " nodes are available";
  bool first = true;
  for (const auto& [reason, count] : counts) {
    message += first ? ": " : ", ";
    message += std::to_string(count) + " " + reason;
    first = false;
  }
  return message + ".";
}

SchedulerLoop::SchedulerLoop(SchedulerLoopOptions options, Scheduler scheduler,
                             KubeCredentials credentials, HostMetrics& metrics,
                             std::function<bool()> is_leader, Logger log)
    : options_(std::move(options)),
      scheduler_(std::move(scheduler)),
      credentials_(std::move(credentials)),
      metrics_(metrics),
      is_leader_(std::move(is_leader)),
      log_(std::move(log)),
      cache_(options_.scheduler_name) {}

SchedulerLoop::~SchedulerLoop() {
  work_ready_.notify_all();
  for (auto& thread : binders_) {
    if (thread.joinable()) thread.join();
  }
}

void SchedulerLoop::post(InformerEvent&& event) {
  {
    std::lock_guard lock(inbox_mutex_);
    inbox_.push_back(std::move(event));
  }
  inbox_ready_.notify_one();
}

void SchedulerLoop::emit_event(EventJob job) {
  {
    std::lock_guard lock(work_mutex_);
    event_jobs_.push_back(std::move(job));
  }
  work_ready_.notify_one();
}

long SchedulerLoop::post_event(KubeClient& client, const EventJob& job) {
  const std::string now = format_micro_time(unix_now() * 1'000'000);
  const std::string seconds_now = now.substr(0, 19) + "Z";
  nlohmann::json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", job.pod_name + "."}, {"namespace", job.namespace_name}}},
      {"involvedObject",
       {{"apiVersion", "v1"},
        {"kind", "Pod"},
        {"name", job.pod_name},
        {"namespace", job.namespace_name},
        {"uid", job.pod_uid}}},
      {"reason", job.reason},
      {"message", job.message},
      {"type", job.type},
      {"action", job.reason == "Scheduled" ? "Binding" : "Scheduling"},
      {"source", {{"component", options_.scheduler_name}}},
      {"reportingComponent", options_.scheduler_name},
      {"reportingInstance", options_.scheduler_name},
      {"firstTimestamp", seconds_now},
      {"lastTimestamp", seconds_now},
      {"count", 1}};
  const HttpResponse response =
      client.request("POST", "/api/v1/namespaces/" + job.namespace_name + "/events", event.dump());
  return response.status;
}

void SchedulerLoop::deliver_event(KubeClient& client, EventJob job) {
  long status = 0;  // 0: no answer (transport error)
  try {
    status = post_event(client, job);
  } catch (const std::exception&) {
    status = 0;
  }
  if (status >= 200 && status < 300) return;
  // The API server was unreachable or overloaded: try again a little later
  // (a restart must not lose the event). A refusal (4xx) is final.
  if ((status == 0 || status == 429 || status >= 500) && job.attempts < 5) {
    ++job.attempts;
    job.not_before = std::chrono::steady_clock::now() + std::chrono::seconds(job.attempts);
    std::lock_guard lock(work_mutex_);
    event_jobs_.push_back(std::move(job));
    return;
  }
  metrics_.events_failed.fetch_add(1);
}

void SchedulerLoop::binder(const std::atomic<bool>& stop) {
  KubeClient client(credentials_);
  for (;;) {
    std::optional<BindJob> bind;
    std::optional<EventJob> event;
    {
      std::unique_lock lock(work_mutex_);
      const auto due_event = [&] {
        const auto now = std::chrono::steady_clock::now();
        return std::find_if(event_jobs_.begin(), event_jobs_.end(),
                            [&](const EventJob& job) { return job.not_before <= now; });
      };
      work_ready_.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return stop.load() || !bind_jobs_.empty() || due_event() != event_jobs_.end();
      });
      if (!bind_jobs_.empty()) {  // bindings first: events can wait
        bind = std::move(bind_jobs_.front());
        bind_jobs_.pop_front();
      } else if (auto it = due_event(); it != event_jobs_.end()) {
        event = std::move(*it);
        event_jobs_.erase(it);
      } else if (stop.load()) {
        return;
      }
    }
    if (event) {
      deliver_event(client, std::move(*event));
      continue;
    }
    if (!bind) continue;
    BindResult result{std::move(bind->pod), std::move(bind->node), BindResult::Outcome::kError};
    if (!is_leader_() || stop.load()) {
      result.outcome = BindResult::Outcome::kNotLeader;  // lost the Lease: never write
    } else {
      const Pod& pod = result.pod;
      nlohmann::json binding = {
          {"apiVersion", "v1"},
          {"kind", "Binding"},
          {"metadata", {{"name", pod.name}, {"namespace", pod.namespace_name}, {"uid", pod.uid}}},
          {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", result.node}}}};
      const std::string path =
          "/api/v1/namespaces/" + pod.namespace_name + "/pods/" + pod.name + "/binding";
      try {
        const HttpResponse response = client.request("POST", path, binding.dump());
        if (response.status >= 200 && response.status < 300) {
          result.outcome = BindResult::Outcome::kBound;
          metrics_.pods_bound.fetch_add(1);
          EventJob scheduled{pod.namespace_name,
                             pod.name,
                             pod.uid,
                             "Normal",
                             "Scheduled",
                             "Successfully assigned " + pod.namespace_name + "/" + pod.name +
                                 " to " + result.node};
          deliver_event(client, std::move(scheduled));
        } else if (response.status == 409) {
          result.outcome = BindResult::Outcome::kConflict;
          metrics_.binding_conflicts.fetch_add(1);
        } else {
          metrics_.binding_errors.fetch_add(1);
          log_("warn", api_error("POST", path, response).what());
        }
      } catch (const std::exception& e) {
        metrics_.binding_errors.fetch_add(1);
        log_("warn", e.what());
      }
    }
    {
      std::lock_guard lock(inbox_mutex_);
      results_.push_back(std::move(result));
    }
    inbox_ready_.notify_one();
  }
}

void SchedulerLoop::schedule_pending(const SnapshotPtr& first) {
  SnapshotPtr snapshot = first;
  std::optional<ClusterConditions> conditions;
  std::optional<TopologyTable> topology;
  const std::int64_t now = options_.at.value_or(unix_now());
  // Held for the whole batch: the conditions point into it.
  const std::shared_ptr<const CarbonSignals> signals =
      options_.signals ? options_.signals() : nullptr;
  const std::vector<NodeTopology>& topologies = cache_.topologies();
  const bool carbon = options_.zones != nullptr && signals != nullptr;
  auto refresh = [&] {
    if (!carbon && topologies.empty()) return;
    conditions = carbon ? ClusterConditions::build(*snapshot, *options_.zones, *signals, now)
                        : ClusterConditions{};
    conditions->snapshot_generation = snapshot->generation();
    if (!topologies.empty()) {
      topology = TopologyTable::build(*snapshot, topologies);
      conditions->topology = &*topology;
    }
  };
  refresh();
  Pod pod;
  // A bounded batch, so informer events are applied between batches.
  for (int handled = 0; handled < 512 && is_leader_() && cache_.next_pending(pod); ++handled) {
    const auto started = std::chrono::steady_clock::now();
    if (snapshot->generation() != cache_.snapshot()->generation()) {
      // Only assumed pods changed since the batch began (no events are
      // applied inside it): nodes, zones and intensities are the same, so
      // the carbon conditions carry over; the topology table follows usage.
      snapshot = cache_.snapshot();
      if (conditions) conditions->snapshot_generation = snapshot->generation();
      if (topology) {
        topology = TopologyTable::build(*snapshot, topologies);
        conditions->topology = &*topology;
      }
    }
    const ClusterConditions* cond = conditions ? &*conditions : nullptr;
    try {
      CompiledPod compiled = compile_pod(pod, *snapshot);
      const CycleResult result = scheduler_.schedule(*snapshot, compiled, context_, cond);
      if (result.selected) {
        std::string node = snapshot->node_name(*result.selected);
        metrics_.attempts_scheduled.fetch_add(1);
        cache_.assume(pod, node);
        {
          std::lock_guard lock(work_mutex_);
          bind_jobs_.push_back(BindJob{std::move(pod), std::move(node)});
        }
        work_ready_.notify_one();
      } else {
        metrics_.attempts_unschedulable.fetch_add(1);
        const Explanation why = explain(scheduler_, *snapshot, compiled, context_, result, cond);
        std::vector<std::string> reasons;
        for (const auto& node : why.nodes) {
          if (!node.evaluated || node.feasible) continue;
          if (node.reasons.empty()) {
            reasons.push_back("node(s) were rejected by " + node.failed_plugin);
          } else {
            reasons.push_back(node.reasons.front());
          }
        }
        emit_event({pod.namespace_name, pod.name, pod.uid, "Warning", "FailedScheduling",
                    failed_scheduling_message(snapshot->node_count(), reasons)});
        cache_.mark_unschedulable(std::move(pod));
      }
    } catch (const Error& e) {
      metrics_.attempts_error.fetch_add(1);
      log_("warn", "pod " + pod.key() + ": " + e.what());
      emit_event({pod.namespace_name, pod.name, pod.uid, "Warning", "FailedScheduling",
                  std::string(e.what())});
      cache_.mark_unschedulable(std::move(pod));
    }
    metrics_.scheduling_seconds_micros.fetch_add(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                       std::chrono::steady_clock::now() - started)
                                       .count()));
  }
}

std::shared_ptr<const KubeObjects> SchedulerLoop::objects() const {
  std::lock_guard lock(objects_mutex_);
  return objects_;
}

void SchedulerLoop::run(const std::atomic<bool>& stop, const std::function<bool()>& synced) {
  if (options_.schedule) {
    for (int i = 0; i < std::max(1, options_.binders); ++i) {
      binders_.emplace_back([this, &stop] { binder(stop); });
    }
  }
  auto last_retry = std::chrono::steady_clock::now();
  auto last_objects = std::chrono::steady_clock::time_point{};
  std::vector<std::string> errors;
  while (!stop.load()) {
    std::deque<InformerEvent> events;
    std::deque<BindResult> results;
    {
      std::unique_lock lock(inbox_mutex_);
      const bool has_pending =
          options_.schedule && cache_.pending_count() > 0 && is_leader_() && synced();
      inbox_ready_.wait_for(lock, std::chrono::milliseconds(has_pending ? 0 : 200),
                            [&] { return stop.load() || !inbox_.empty() || !results_.empty(); });
      events.swap(inbox_);
      results.swap(results_);
    }
    CacheChanges changes;
    for (const auto& event : events) {
      errors.clear();
      cache_.apply(event, changes, errors);
      for (const auto& error : errors) log_("warn", "skipped an object: " + error);
    }
    for (auto& result : results) {
      switch (result.outcome) {
        case BindResult::Outcome::kBound:
          break;  // the watch confirms it
        case BindResult::Outcome::kConflict:
          cache_.forget(result.pod);  // bound elsewhere: the watch says where; never retried
          break;
        case BindResult::Outcome::kError:
          cache_.forget(result.pod);
          retry_later_.emplace_back(std::chrono::steady_clock::now() + options_.binding_retry,
                                    std::move(result.pod));
          break;
        case BindResult::Outcome::kNotLeader:
          cache_.forget(result.pod);
          cache_.requeue(std::move(result.pod));
          break;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    while (!retry_later_.empty() && retry_later_.front().first <= now) {
      cache_.requeue(std::move(retry_later_.front().second));
      retry_later_.pop_front();
    }
    if (changes.nodes_changed || changes.room_freed ||
        now - last_retry >= options_.unschedulable_retry) {
      if (cache_.unschedulable_count() > 0) cache_.retry_unschedulable();
      last_retry = now;
    }
    if (options_.publish_objects && synced() &&
        now - last_objects >= std::chrono::milliseconds(500)) {
      auto published = cache_.objects();
      std::lock_guard lock(objects_mutex_);
      objects_ = std::move(published);
      last_objects = now;
    }
    if (options_.schedule && synced() && is_leader_() && cache_.pending_count() > 0) {
      schedule_pending(cache_.snapshot());
    }
    metrics_.pending_pods.store(cache_.pending_count());
    metrics_.unschedulable_pods.store(cache_.unschedulable_count());
    metrics_.cache_nodes.store(cache_.node_count());
    metrics_.cache_pods.store(cache_.pod_count());
  }
  work_ready_.notify_all();
  for (auto& thread : binders_) thread.join();
  binders_.clear();
}

}  // namespace carbonkube::host
