// The kube-scheduler extender (k8s.io/kube-scheduler/extender/v1) answered by
// the engine: `filter` and `prioritize` take the JSON body kube-scheduler
// POSTs (ExtenderArgs) and return the JSON it expects (ExtenderFilterResult,
// HostPriorityList). Pure functions over the engine: no HTTP, no clock, no
// global state, so the HTTP server, tests and benchmarks call them alike.
//
// Wire format (Go field names, no json tags, so the keys are capitalised):
//   ExtenderArgs          {"Pod": v1.Pod, "Nodes": v1.NodeList | null,
//                          "NodeNames": [string] | null}
//   ExtenderFilterResult  {"Nodes": v1.NodeList | null, "NodeNames": [..] | null,
//                          "FailedNodes": {name: reason},
//                          "FailedAndUnresolvableNodes": {name: reason}, "Error": ""}
//   HostPriorityList      [{"Host": name, "Score": 0..10}]   (MaxExtenderPriority = 10)
// Go's decoder matches keys case-insensitively, so the request is read the same way.
#pragma once

#include <carbonkube/conditions.hpp>
#include <carbonkube/kube.hpp>
#include <carbonkube/profile.hpp>
#include <carbonkube/qos.hpp>
#include <carbonkube/scheduler.hpp>
#include <carbonkube/signals.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace carbonkube::host {

/// k8s.io/kube-scheduler/extender/v1 MaxExtenderPriority.
inline constexpr std::int64_t kMaxExtenderPriority = 10;

/// What one extender call reads. Every pointer must outlive the call; the
/// signals, zones and cache may be swapped between calls by the host.
struct ExtenderInputs {
  const Scheduler* scheduler = nullptr;  // from make_extender_scheduler()
  const ZoneMap* zones = nullptr;        // null: carbon-neutral
  const CarbonSignals* signals = nullptr;
  SignalPolicy policy;
  const QosProfileSet* qos_profiles = &default_qos_profiles();
  std::int64_t now = 0;  // unix seconds the carbon data is evaluated at
  /// The host's informer cache (nodes and pods). With nodeCacheCapable the
  /// request's NodeNames are looked up here (an unknown name goes to
  /// FailedNodes with the reason); with full Nodes, the cache's bound pods
  /// count as usage on those nodes. Null: no cache (NodeNames all fail).
  const KubeObjects* cache = nullptr;
  ParseLimits limits;  // for the request's Pod and NodeList
};

/// The HTTP status and JSON body of one answer. `status` is 200 for every
/// answer kube-scheduler should read (a filter that fails for a pod-level
/// reason still answers 200 with "Error" set, as the API expects) and 400
/// when the body is not a valid ExtenderArgs (the body is then a JSON
/// {"Error": "..."} naming the problem).
struct ExtenderReply {
  int status = 200;
  std::string body;
};

/// The scheduler an extender should use: the profile `scheduler_name` of
/// `config` (the first when empty) with percentageOfNodesToScore forced to
/// 100, since kube-scheduler has already chosen the candidate nodes and
/// every one of them needs an answer. Throws InvalidInput like compile_profile.
Scheduler make_extender_scheduler(SchedulerConfig config, std::string_view scheduler_name = {});

/// POST /filter. Runs the profile's filters (and the carbon filter) for the
/// pod over the candidate nodes. Feasible nodes come back in the same form
/// they were sent (the original Node objects or their names); every other
/// node is in FailedNodes with "<plugin>: <reasons>".
ExtenderReply extender_filter(std::string_view body, const ExtenderInputs& inputs);

/// POST /prioritize. Scores the candidate nodes with the profile and maps
/// the weighted totals linearly onto 0..kMaxExtenderPriority (the best node
/// 10, the worst feasible 0; all equal: all 0; infeasible: 0), in request
/// order. The node Scheduler::schedule would select always has the highest
/// score. Never NaN: an unusable carbon signal makes that zone carbon-neutral.
ExtenderReply extender_prioritize(std::string_view body, const ExtenderInputs& inputs);

}  // namespace carbonkube::host
