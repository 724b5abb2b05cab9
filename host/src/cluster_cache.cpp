// ClusterCache (cluster_cache.hpp).
#include "cluster_cache.hpp"

#include "carbonkube/error.hpp"

namespace carbonkube::host {

ClusterCache::ClusterCache(std::string scheduler_name)
    : scheduler_name_(std::move(scheduler_name)) {}

bool ClusterCache::wants(const Pod& pod) const {
  return pod.is_pending() && !pod.deleting && pod.scheduler_name == scheduler_name_ &&
         pod.scheduling_gates.empty();
}

void ClusterCache::drop_queued(const std::string& key) {
  queued_.erase(key);  // its key in active_ is skipped lazily
  unschedulable_.erase(key);
}

namespace {

// Whether a node update can make an unschedulable pod fit (a status
// heartbeat cannot): room, labels, taints, cordon, readiness.
bool scheduling_relevant_change(const Node& before, const Node& after) {
  auto same_taints = [](const std::vector<Taint>& a, const std::vector<Taint>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].key != b[i].key || a[i].value != b[i].value || a[i].effect != b[i].effect) {
        return false;
      }
    }
    return true;
  };
  auto same_resources = [](const ResourceList& a, const ResourceList& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i].name != b[i].name || a[i].amount != b[i].amount) return false;
    }
    return true;
  };
  return before.labels != after.labels || before.unschedulable != after.unschedulable ||
         before.ready != after.ready || !same_taints(before.taints, after.taints) ||
         !same_resources(before.allocatable, after.allocatable);
}

}  // namespace

void ClusterCache::upsert_node(const Node& node, CacheChanges& changes) {
  auto it = nodes_.find(node.name);
  if (it == nodes_.end() || scheduling_relevant_change(it->second, node)) {
    changes.nodes_changed = true;
  }
  state_.upsert_node(node);
  nodes_.insert_or_assign(node.name, node);
  dirty_ = true;
  objects_dirty_ = true;
}

void ClusterCache::delete_node(const std::string& name, CacheChanges& changes) {
  if (state_.remove_node(name)) dirty_ = true;
  nodes_.erase(name);
  objects_dirty_ = true;
  changes.nodes_changed = true;
}

void ClusterCache::upsert_pod(const Pod& pod, CacheChanges& changes) {
  const std::string key = pod.key();
  all_pods_.insert(key);
  if (pod.counts_as_usage()) {
    state_.upsert_pod(pod);
    usage_pods_.insert_or_assign(key, pod);
    objects_dirty_ = true;
    in_flight_.erase(key);
    drop_queued(key);
    dirty_ = true;
    return;
  }
  // Our binding is on its way and the object still shows the pod pending (a
  // relist, a label change): keep the assumed usage until the watch shows the
  // pod bound or deleted, or the binding fails (forget).
  if (pod.is_pending() && in_flight_.count(key) != 0) return;
  if (usage_pods_.erase(key) != 0) {  // finished (terminal) or otherwise no longer using room
    state_.remove_pod(key);
    dirty_ = true;
    objects_dirty_ = true;
    changes.room_freed = true;
  }
  if (!wants(pod)) {
    drop_queued(key);
    return;
  }
  if (in_flight_.count(key) != 0) return;  // our binding is on its way
  if (auto it = unschedulable_.find(key); it != unschedulable_.end()) {
    it->second = pod;  // stays parked until the cluster changes
    return;
  }
  auto [it, inserted] = queued_.insert_or_assign(key, pod);
  if (inserted) {
    active_.push_back(key);
    ++changes.pending_added;
  }
}

void ClusterCache::delete_pod(const std::string& key, CacheChanges& changes) {
  all_pods_.erase(key);
  in_flight_.erase(key);
  drop_queued(key);
  if (usage_pods_.erase(key) != 0) {
    state_.remove_pod(key);
    dirty_ = true;
    objects_dirty_ = true;
    changes.room_freed = true;
  }
}

void ClusterCache::apply(const InformerEvent& event, CacheChanges& changes,
                         std::vector<std::string>& errors) {
  if (event.resource == "customnoderesources") {
    apply_topologies(event, errors);
    return;
  }
  const bool nodes = event.resource == "nodes";
  if (!nodes && event.resource != "pods") return;
  std::unordered_set<std::string> listed;
  for (const std::string& json : event.objects) {
    KubeObjects objects;
    try {
      objects = parse_kube_objects(json, event.resource);
    } catch (const Error& e) {
      errors.emplace_back(e.what());
      continue;
    }
    if (nodes) {
      for (const Node& node : objects.nodes) {
        if (event.kind == InformerEvent::Kind::kDelete) {
          delete_node(node.name, changes);
        } else {
          upsert_node(node, changes);
          listed.insert(node.name);
        }
      }
    } else {
      for (const Pod& pod : objects.pods) {
        if (event.kind == InformerEvent::Kind::kDelete) {
          delete_pod(pod.key(), changes);
        } else {
          upsert_pod(pod, changes);
          listed.insert(pod.key());
        }
      }
    }
  }
  if (event.kind != InformerEvent::Kind::kReplace) return;
  // A relist: whatever we knew that the list no longer has was deleted while
  // we were not watching.
  std::vector<std::string> gone;
  if (nodes) {
    for (const auto& [name, node] : nodes_) {
      if (listed.count(name) == 0) gone.push_back(name);
    }
  } else {
    for (const std::string& key : all_pods_) {
      if (listed.count(key) == 0) gone.push_back(key);
    }
  }
  for (const std::string& key : gone) {
    if (nodes) {
      delete_node(key, changes);
    } else {
      delete_pod(key, changes);
    }
  }
}

void ClusterCache::apply_topologies(const InformerEvent& event, std::vector<std::string>& errors) {
  if (event.kind == InformerEvent::Kind::kReplace) topology_by_node_.clear();
  for (const std::string& json : event.objects) {
    try {
      TopologyObjects parsed = parse_topologies(json, event.resource);
      for (auto& topology : parsed.nodes) {
        if (event.kind == InformerEvent::Kind::kDelete) {
          topology_by_node_.erase(topology.node_name);
        } else {
          std::string name = topology.node_name;
          topology_by_node_.insert_or_assign(std::move(name), std::move(topology));
        }
      }
    } catch (const Error& e) {
      errors.emplace_back(e.what());
    }
  }
  topologies_dirty_ = true;
}

const std::vector<NodeTopology>& ClusterCache::topologies() {
  if (topologies_dirty_) {
    topologies_.clear();
    for (const auto& [name, topology] : topology_by_node_) topologies_.push_back(topology);
    topologies_dirty_ = false;
  }
  return topologies_;
}

void ClusterCache::assume(const Pod& pod, const std::string& node) {
  state_.assume_pod(pod, node);
  const std::string key = pod.key();
  Pod bound = pod;
  bound.node_name = node;
  usage_pods_.insert_or_assign(key, std::move(bound));
  objects_dirty_ = true;
  in_flight_.insert(key);
  drop_queued(key);
  dirty_ = true;
}

void ClusterCache::forget(const Pod& pod) {
  const std::string key = pod.key();
  // Only while the watch has not reported the pod: then its object is the truth.
  if (in_flight_.count(key) != 0 && usage_pods_.erase(key) != 0) {
    state_.remove_pod(key);
    dirty_ = true;
    objects_dirty_ = true;
  }
  in_flight_.erase(key);
}

SnapshotPtr ClusterCache::snapshot() {
  if (dirty_ || !snapshot_) {
    snapshot_ = state_.publish();
    dirty_ = false;
  }
  return snapshot_;
}

std::shared_ptr<const KubeObjects> ClusterCache::objects() {
  if (objects_dirty_ || !objects_) {
    auto objects = std::make_shared<KubeObjects>();
    objects->nodes.reserve(nodes_.size());
    for (const auto& [name, node] : nodes_) objects->nodes.push_back(node);
    objects->pods.reserve(usage_pods_.size());
    for (const auto& [key, pod] : usage_pods_) objects->pods.push_back(pod);
    objects_ = std::move(objects);
    objects_dirty_ = false;
  }
  return objects_;
}

bool ClusterCache::next_pending(Pod& out) {
  while (!active_.empty()) {
    std::string key = std::move(active_.front());
    active_.pop_front();
    auto it = queued_.find(key);
    if (it == queued_.end()) continue;  // dropped since it was queued
    out = std::move(it->second);
    queued_.erase(it);
    return true;
  }
  return false;
}

void ClusterCache::mark_unschedulable(Pod pod) {
  std::string key = pod.key();
  if (all_pods_.count(key) == 0) return;  // deleted meanwhile
  unschedulable_.insert_or_assign(std::move(key), std::move(pod));
}

std::size_t ClusterCache::retry_unschedulable() {
  const std::size_t moved = unschedulable_.size();
  for (auto& [key, pod] : unschedulable_) {
    if (queued_.insert_or_assign(key, std::move(pod)).second) active_.push_back(key);
  }
  unschedulable_.clear();
  return moved;
}

void ClusterCache::requeue(Pod pod) {
  std::string key = pod.key();
  // Deleted, or bound meanwhile (the watch said so): nothing to place.
  if (all_pods_.count(key) == 0 || usage_pods_.count(key) != 0) return;
  if (queued_.insert_or_assign(key, std::move(pod)).second) active_.push_back(key);
}

}  // namespace carbonkube::host
