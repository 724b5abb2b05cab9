// carbonkube/snapshot.hpp: the immutable, structure-of-arrays picture of a
// cluster that every scoring call reads, and ClusterState, the single-writer
// builder that keeps it current from Node and Pod events.
//
// A ClusterSnapshot is never modified after it is published: readers on any
// number of threads share it through shared_ptr<const ClusterSnapshot> without
// locks. ClusterState::publish() makes the next snapshot by copying only the
// columns that changed since the previous one (copy-on-write); the others are
// shared, so an update costs O(changed columns), not a rebuild.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/resources.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

using NodeIndex = std::uint32_t;
using StringId = std::uint32_t;
inline constexpr StringId kNoString = 0xFFFFFFFFu;

/// Node flag bits (ClusterSnapshot::flags()).
inline constexpr std::uint8_t kNodeUnschedulable = 1u << 0;
inline constexpr std::uint8_t kNodeNotReady = 1u << 1;
/// The node has a NoSchedule or NoExecute taint: TaintToleration's filter
/// reads the taints only of nodes with this bit.
inline constexpr std::uint8_t kNodeHardTaints = 1u << 2;
/// The node has a PreferNoSchedule taint (read only by TaintToleration's score).
inline constexpr std::uint8_t kNodePreferTaints = 1u << 3;

/// Interned label and taint strings. Append-only, so ids stay valid in every
/// later snapshot.
class StringPool {
 public:
  StringId intern(std::string_view s);
  StringId find(std::string_view s) const;
  const std::string& str(StringId id) const { return strings_[id]; }
  std::size_t size() const { return strings_.size(); }
  /// The string parsed as an integer (for NodeAffinity Gt / Lt), if it is one.
  std::optional<std::int64_t> as_integer(StringId id) const;

 private:
  std::vector<std::string> strings_;
  std::unordered_map<std::string, StringId> ids_;
};

struct LabelRef {
  StringId key;
  StringId value;
};

struct TaintRef {
  StringId key;
  StringId value;
  TaintEffect effect;
};

class ClusterState;

class ClusterSnapshot {
 public:
  NodeIndex node_count() const { return node_count_; }
  std::uint64_t generation() const { return generation_; }

  const std::string& node_name(NodeIndex i) const { return (*names_)[i]; }
  std::optional<NodeIndex> find_node(std::string_view name) const;

  const ResourceTable& resources() const { return *resources_; }
  const StringPool& strings() const { return *strings_; }

  /// allocatable[i] of resource r in base units; zeros for a resource a node lacks.
  std::span<const std::int64_t> allocatable(ResourceId r) const { return column(allocatable_, r); }
  /// 1.0 / allocatable[i] (0 where allocatable is 0): lets the scoring loops
  /// replace integer divisions by a multiply and an exact correction.
  std::span<const double> allocatable_inverse(ResourceId r) const {
    if (r < allocatable_inverse_.size() && allocatable_inverse_[r])
      return {*allocatable_inverse_[r]};
    return {zeros_double_->data(), node_count_};
  }
  /// Sum of bound pods' requests as written (NodeInfo.Requested).
  std::span<const std::int64_t> requested(ResourceId r) const { return column(requested_, r); }
  /// Like requested, with 100m / 200Mi for containers that set no cpu /
  /// memory request (NodeInfo.NonZeroRequested). Same as requested for other resources.
  std::span<const std::int64_t> nonzero_requested(ResourceId r) const {
    return r == kCpu || r == kMemory ? column(nonzero_requested_, r) : column(requested_, r);
  }
  /// The same three columns as doubles (exact: every value below 2^53 is an
  /// integer a double holds exactly), for the vectorised scoring kernels.
  std::span<const double> allocatable_f64(ResourceId r) const {
    return column(allocatable_f64_, r);
  }
  std::span<const double> requested_f64(ResourceId r) const { return column(requested_f64_, r); }
  std::span<const double> nonzero_requested_f64(ResourceId r) const {
    return r == kCpu || r == kMemory ? column(nonzero_requested_f64_, r)
                                     : column(requested_f64_, r);
  }
  /// The largest allocatable of resource r on any node (0 for none).
  std::int64_t allocatable_max(ResourceId r) const {
    return r < allocatable_max_.size() ? allocatable_max_[r] : 0;
  }
  /// Number of pods bound to each node.
  std::span<const std::int32_t> pod_count() const { return {*pod_count_}; }
  std::span<const std::uint8_t> flags() const { return {*flags_}; }

  std::span<const LabelRef> labels(NodeIndex i) const {
    return std::span<const LabelRef>(labels_->pairs)
        .subspan(labels_->offsets[i], labels_->offsets[i + 1] - labels_->offsets[i]);
  }
  std::span<const TaintRef> taints(NodeIndex i) const {
    return std::span<const TaintRef>(taints_->items)
        .subspan(taints_->offsets[i], taints_->offsets[i + 1] - taints_->offsets[i]);
  }
  /// The value id of label `key` on node i, or kNoString.
  StringId label(NodeIndex i, StringId key) const;

  /// Bytes held by this snapshot's columns (shared columns counted in full).
  std::size_t memory_bytes() const;

  // Internal representation, exposed for the builder; not part of the API.
  using Column = std::vector<std::int64_t>;
  struct FlatLabels {
    std::vector<std::uint32_t> offsets{0};
    std::vector<LabelRef> pairs;  // per node, sorted by key id
  };
  struct FlatTaints {
    std::vector<std::uint32_t> offsets{0};
    std::vector<TaintRef> items;
  };

 private:
  friend class ClusterState;
  ClusterSnapshot() = default;
  std::span<const std::int64_t> column(const std::vector<std::shared_ptr<const Column>>& cols,
                                       ResourceId r) const {
    if (r < cols.size() && cols[r]) return {*cols[r]};
    return {zeros_->data(), node_count_};
  }
  std::span<const double> column(
      const std::vector<std::shared_ptr<const std::vector<double>>>& cols, ResourceId r) const {
    if (r < cols.size() && cols[r]) return {*cols[r]};
    return {zeros_double_->data(), node_count_};
  }

  NodeIndex node_count_ = 0;
  std::uint64_t generation_ = 0;
  std::shared_ptr<const std::vector<std::string>> names_;
  std::shared_ptr<const std::unordered_map<std::string, NodeIndex>> index_;
  std::shared_ptr<const ResourceTable> resources_;
  std::shared_ptr<const StringPool> strings_;
  std::vector<std::shared_ptr<const Column>> allocatable_;
  std::vector<std::shared_ptr<const std::vector<double>>> allocatable_inverse_;
  std::vector<std::shared_ptr<const Column>> requested_;
  std::vector<std::shared_ptr<const Column>> nonzero_requested_;
  std::vector<std::shared_ptr<const std::vector<double>>> allocatable_f64_;
  std::vector<std::shared_ptr<const std::vector<double>>> requested_f64_;
  std::vector<std::shared_ptr<const std::vector<double>>> nonzero_requested_f64_;
  std::vector<std::int64_t> allocatable_max_;
  std::shared_ptr<const std::vector<std::int32_t>> pod_count_;
  std::shared_ptr<const std::vector<std::uint8_t>> flags_;
  std::shared_ptr<const FlatLabels> labels_;
  std::shared_ptr<const FlatTaints> taints_;
  std::shared_ptr<const Column> zeros_;
  std::shared_ptr<const std::vector<double>> zeros_double_;
};

using SnapshotPtr = std::shared_ptr<const ClusterSnapshot>;

/// Single-writer builder of snapshots. Not thread-safe: one thread applies
/// events and publishes; any number of threads read the published snapshots.
class ClusterState {
 public:
  ClusterState();
  ~ClusterState();
  ClusterState(const ClusterState&) = delete;
  ClusterState& operator=(const ClusterState&) = delete;

  /// Adds or replaces a node (matched by name). Usage of pods already bound to
  /// it is kept.
  void upsert_node(const Node& node);
  /// Removes a node; its pods stay registered and count again if it returns.
  bool remove_node(std::string_view name);
  /// Adds or replaces a pod (matched by namespace/name). A bound, non-terminal
  /// pod counts as usage on its node; a terminal or pending one does not.
  void upsert_pod(const Pod& pod);
  bool remove_pod(std::string_view namespaced_name);
  /// Records that `pod` was placed on `node` (kube-scheduler's "assume").
  void assume_pod(const Pod& pod, std::string_view node);

  /// Makes an immutable snapshot of the current state. Columns untouched since
  /// the last publish are shared with the previous snapshot.
  SnapshotPtr publish();

  /// Builds a snapshot from parsed objects: nodes, and every pod that counts
  /// as usage.
  static SnapshotPtr build(const KubeObjects& objects);

  std::size_t node_count() const;
  std::size_t pod_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

CARBONKUBE_NAMESPACE_END
