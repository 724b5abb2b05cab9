// The host's picture of the cluster: applies informer events to the engine's
// ClusterState (one writer thread), keeps the queue of pods this scheduler
// must place, and publishes a new immutable snapshot per batch of events.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"
#include "informer.hpp"

namespace carbonkube::host {

/// What a batch changed, for the scheduler's retry rule: unschedulable pods
/// get another chance when a node changed or a pod stopped using room.
struct CacheChanges {
  bool nodes_changed = false;
  bool room_freed = false;
  std::size_t pending_added = 0;
};

class ClusterCache {
 public:
  explicit ClusterCache(std::string scheduler_name);

  /// Applies one informer event. Objects that fail to parse are skipped and
  /// reported through `errors` (one line each), never applied half-way.
  void apply(const InformerEvent& event, CacheChanges& changes, std::vector<std::string>& errors);

  /// Records a placement before the watch reports it (kube-scheduler's assume).
  void assume(const Pod& pod, const std::string& node);
  /// Undoes assume() after a failed binding.
  void forget(const Pod& pod);

  /// The snapshot with every change so far (the previous one when nothing changed).
  SnapshotPtr snapshot();

  /// Pods to place, in arrival order; a key is in at most one of the two queues.
  bool next_pending(Pod& out);
  void mark_unschedulable(Pod pod);
  /// Moves every unschedulable pod back to the active queue.
  std::size_t retry_unschedulable();
  /// Puts a pod back at the end of the active queue (a binding error).
  void requeue(Pod pod);

  std::size_t node_count() const { return nodes_.size(); }
  std::size_t pod_count() const { return usage_pods_.size(); }
  std::size_t pending_count() const { return active_.size(); }
  std::size_t unschedulable_count() const { return unschedulable_.size(); }
  bool is_queued(const std::string& key) const { return queued_.count(key) != 0; }

  /// Katalyst CustomNodeResources seen (resource "customnoderesources"), for
  /// the topology plugins; empty when the CRD is absent.
  const std::vector<NodeTopology>& topologies();

  /// Nodes and bound, non-terminal pods as objects (the extender's node
  /// cache, the QoS controller's nodes); rebuilt only when something changed
  /// since the last call.
  std::shared_ptr<const KubeObjects> objects();

 private:
  void upsert_node(const Node& node, CacheChanges& changes);
  void delete_node(const std::string& name, CacheChanges& changes);
  void upsert_pod(const Pod& pod, CacheChanges& changes);
  void delete_pod(const std::string& key, CacheChanges& changes);
  bool wants(const Pod& pod) const;
  void apply_topologies(const InformerEvent& event, std::vector<std::string>& errors);
  void drop_queued(const std::string& key);

  std::string scheduler_name_;
  ClusterState state_;
  SnapshotPtr snapshot_;
  bool dirty_ = true;
  std::unordered_map<std::string, Node> nodes_;
  std::unordered_map<std::string, Pod> usage_pods_;  // applied to state_ as usage (or assumed)
  std::shared_ptr<const KubeObjects> objects_;
  std::unordered_map<std::string, NodeTopology> topology_by_node_;
  std::vector<NodeTopology> topologies_;
  bool topologies_dirty_ = false;
  bool objects_dirty_ = true;
  // Pending pods of this scheduler: active FIFO (keys, lazily skipped when
  // dropped) and the unschedulable set; queued_ holds the current object.
  std::deque<std::string> active_;
  std::unordered_map<std::string, Pod> queued_;
  std::unordered_map<std::string, Pod> unschedulable_;
  std::unordered_set<std::string> in_flight_;  // assumed, binding not yet seen by the watch
  std::unordered_set<std::string> all_pods_;   // every pod key present (for relists)
};

}  // namespace carbonkube::host
