// carbonkube/kube.hpp: the Kubernetes objects carbonkube reads (v1.Node,
// v1.Pod), parsed once from the JSON or YAML that `kubectl get -o json|yaml`
// prints (a single object, a NodeList / PodList / List, or a stream of YAML
// documents). These are cold-path values with strings; a ClusterSnapshot and a
// CompiledPod turn them into the integer columns the scoring hot path reads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "carbonkube/quantity.hpp"
#include "carbonkube/resources.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

using StringMap = std::vector<std::pair<std::string, std::string>>;  // sorted by key

enum class TaintEffect : std::uint8_t { kNoSchedule, kPreferNoSchedule, kNoExecute };

struct Taint {
  std::string key;
  std::string value;
  TaintEffect effect = TaintEffect::kNoSchedule;
};

struct Toleration {
  std::string key;         // empty with kExists tolerates every taint
  bool op_exists = false;  // operator Exists (true) or Equal (false, the default)
  std::string value;
  std::optional<TaintEffect> effect;  // unset: matches every effect
};

enum class SelectorOp : std::uint8_t { kIn, kNotIn, kExists, kDoesNotExist, kGt, kLt };

struct NodeSelectorRequirement {
  std::string key;
  SelectorOp op = SelectorOp::kIn;
  std::vector<std::string> values;
};

/// A NodeSelectorTerm: its matchExpressions and matchFields (metadata.name
/// only, as in Kubernetes) are ANDed.
struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> match_expressions;
  std::vector<NodeSelectorRequirement> match_fields;
};

struct PreferredSchedulingTerm {
  std::int32_t weight = 0;  // 1..100
  NodeSelectorTerm preference;
};

struct NodeAffinity {
  // requiredDuringSchedulingIgnoredDuringExecution: terms are ORed; nullopt = no requirement.
  std::optional<std::vector<NodeSelectorTerm>> required;
  std::vector<PreferredSchedulingTerm> preferred;
};

struct Node {
  std::string name;
  std::string uid;
  StringMap labels;
  StringMap annotations;
  /// status.allocatable, or status.capacity where allocatable is absent, in
  /// base units (millicores for cpu).
  ResourceList allocatable;
  std::vector<Taint> taints;
  bool unschedulable = false;  // spec.unschedulable
  std::optional<bool> ready;   // condition Ready: True / False / (Unknown or absent)
};

struct Container {
  std::string name;
  StringMap requests_text;  // as written, for messages
  std::vector<std::pair<std::string, Quantity>> requests;
  bool restartable_init = false;  // init container with restartPolicy: Always (a sidecar)
};

enum class PodPhase : std::uint8_t { kPending, kRunning, kSucceeded, kFailed, kUnknown };

struct Pod {
  std::string namespace_name = "default";
  std::string name;
  std::string uid;
  std::string node_name;       // spec.nodeName: bound when set
  std::string scheduler_name;  // spec.schedulerName ("default-scheduler" when unset)
  PodPhase phase = PodPhase::kPending;
  bool deleting = false;  // metadata.deletionTimestamp set
  std::int32_t priority = 0;
  StringMap labels;
  StringMap annotations;
  std::vector<Container> containers;
  std::vector<Container> init_containers;
  std::vector<std::pair<std::string, Quantity>> overhead;
  /// spec.resources.requests (pod-level resources, beta and on by default in
  /// Kubernetes 1.34): overrides the containers' sum for cpu, memory, hugepages-*.
  std::vector<std::pair<std::string, Quantity>> pod_level_requests;
  StringMap node_selector;
  NodeAffinity node_affinity;
  std::vector<Toleration> tolerations;
  std::vector<std::string> scheduling_gates;

  std::string key() const { return namespace_name + "/" + name; }
  bool is_terminal() const { return phase == PodPhase::kSucceeded || phase == PodPhase::kFailed; }
  /// Bound and not terminal: counts as usage on its node.
  bool counts_as_usage() const { return !node_name.empty() && !is_terminal(); }
  /// Not bound and not terminal: a pod to place.
  bool is_pending() const { return node_name.empty() && !is_terminal(); }
};

/// How a pod's effective request is aggregated (component-helpers PodRequests).
enum class RequestDefaults : std::uint8_t {
  /// Requests as written, pod-level resources honoured (NodeResourcesFit
  /// filter, BalancedAllocation, NodeInfo.Requested).
  kAsWritten,
  /// A container missing a cpu / memory request counts 100m / 200Mi, unless a
  /// pod-level request sets it (NodeInfo.NonZeroRequested).
  kNonZero,
  /// Like kNonZero but ignoring pod-level resources, as NodeResourcesFit's
  /// scoring does for the incoming pod in Kubernetes 1.34.
  kNonZeroContainersOnly,
};

/// The pod's effective request as kube-scheduler computes it: max(sum of
/// regular and restartable init containers, each init container plus the
/// restartable init containers before it) plus spec.overhead, in base units
/// (CPU rounded up to millicores, the rest to whole units). Sorted by name.
ResourceList pod_requests(const Pod& pod, RequestDefaults defaults);

/// Everything parsed from one or more documents.
struct KubeObjects {
  std::vector<Node> nodes;
  std::vector<Pod> pods;
  /// kinds that were present but are not read by this version, e.g. "ConfigMap"
  std::vector<std::string> skipped_kinds;
};

/// Limits against hostile or accidental oversized input.
struct ParseLimits {
  std::size_t max_bytes = std::size_t{1} << 30;  // 1 GiB of text
  std::size_t max_objects = 1'000'000;           // items across all documents
  std::size_t max_depth = 128;                   // nesting of maps and lists
};

/// Parses Nodes and Pods from JSON or YAML text. `source` names the input in
/// error messages ("nodes.json"). Throws InvalidInput naming the document,
/// item index, object name and field of the first problem; nothing is
/// returned half-parsed.
KubeObjects parse_kube_objects(std::string_view text, std::string_view source,
                               const ParseLimits& limits = {});

/// Reads a whole file; throws Error(kIo) naming the path, and
/// Error(kLimitExceeded) naming limits.max_bytes for a larger file (checked
/// while reading, so a hostile file is never held whole in memory).
std::string read_file(const std::string& path, const ParseLimits& limits = {});

CARBONKUBE_NAMESPACE_END
