// ClusterSnapshot accessors and ClusterState, the copy-on-write builder.
#include "carbonkube/snapshot.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <limits>
#include <unordered_set>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

StringId StringPool::intern(std::string_view s) {
  auto it = ids_.find(std::string(s));
  if (it != ids_.end()) return it->second;
  auto id = static_cast<StringId>(strings_.size());
  strings_.emplace_back(s);
  ids_.emplace(std::string(s), id);
  return id;
}

StringId StringPool::find(std::string_view s) const {
  auto it = ids_.find(std::string(s));
  return it == ids_.end() ? kNoString : it->second;
}

std::optional<std::int64_t> StringPool::as_integer(StringId id) const {
  if (id >= strings_.size()) return std::nullopt;
  const std::string& s = strings_[id];
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<NodeIndex> ClusterSnapshot::find_node(std::string_view name) const {
  auto it = index_->find(std::string(name));
  if (it == index_->end()) return std::nullopt;
  return it->second;
}

StringId ClusterSnapshot::label(NodeIndex i, StringId key) const {
  for (const LabelRef& l : labels(i))
    if (l.key == key) return l.value;
  return kNoString;
}

std::size_t ClusterSnapshot::memory_bytes() const {
  std::size_t bytes = 0;
  auto cols = [&](const std::vector<std::shared_ptr<const Column>>& v) {
    for (const auto& c : v)
      if (c) bytes += c->capacity() * sizeof(std::int64_t);
  };
  cols(allocatable_);
  cols(requested_);
  cols(nonzero_requested_);
  bytes += pod_count_->capacity() * sizeof(std::int32_t) + flags_->capacity();
  bytes += labels_->offsets.capacity() * 4 + labels_->pairs.capacity() * sizeof(LabelRef);
  bytes += taints_->offsets.capacity() * 4 + taints_->items.capacity() * sizeof(TaintRef);
  for (const auto& n : *names_) bytes += sizeof(std::string) + (n.size() > 15 ? n.capacity() : 0);
  return bytes;
}

namespace {

// Copy-on-write: clone the pointee if a published snapshot still shares it.
template <class T>
T& mut(std::shared_ptr<T>& p) {
  if (!p) {
    p = std::make_shared<T>();
  } else if (p.use_count() > 1) {
    p = std::make_shared<T>(*p);
  } else {
    // Sole owner: the reader that dropped the last other reference must be
    // done with it before we write (use_count() is a relaxed load). TSan
    // cannot model fences (GCC refuses them under -fsanitize=thread).
#if !defined(__SANITIZE_THREAD__)
    std::atomic_thread_fence(std::memory_order_acquire);
#endif
  }
  return *p;
}

// Usage sums are clamped to +-2^62 so that adding one more pod's request
// (at most 2^53) can never overflow in the scoring arithmetic.
constexpr std::int64_t kUsageLimit = std::int64_t{1} << 62;
std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = a + b;  // |a| <= 2^62 and |b| <= 2^53: no overflow
  return std::clamp(r, -kUsageLimit, kUsageLimit);
}

// An int64 column with its double mirror, changed together (copy-on-write).
struct DualColumn {
  std::shared_ptr<std::vector<std::int64_t>> ints;
  std::shared_ptr<std::vector<double>> reals;
  explicit DualColumn(std::size_t n)
      : ints(std::make_shared<std::vector<std::int64_t>>(n, 0)),
        reals(std::make_shared<std::vector<double>>(n, 0.0)) {}
  std::int64_t operator[](std::size_t i) const { return (*ints)[i]; }
  void set(std::size_t i, std::int64_t v) {
    if ((*ints)[i] == v) return;
    mut(ints)[i] = v;
    mut(reals)[i] = static_cast<double>(v);
  }
  void push(std::int64_t v) {
    mut(ints).push_back(v);
    mut(reals).push_back(static_cast<double>(v));
  }
  void move_last_to(std::size_t i) {
    auto& a = mut(ints);
    auto& b = mut(reals);
    a[i] = a.back();
    a.pop_back();
    b[i] = b.back();
    b.pop_back();
  }
};

struct PodUsage {
  std::string node;
  std::vector<std::pair<ResourceId, std::int64_t>> requests;  // as written, > 0
  std::int64_t nonzero_cpu = 0;
  std::int64_t nonzero_memory = 0;
};

}  // namespace

struct ClusterState::Impl {
  using Column = ClusterSnapshot::Column;
  std::uint64_t generation = 0;
  std::shared_ptr<std::vector<std::string>> names = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<std::unordered_map<std::string, NodeIndex>> index =
      std::make_shared<std::unordered_map<std::string, NodeIndex>>();
  std::shared_ptr<ResourceTable> resources = std::make_shared<ResourceTable>();
  std::shared_ptr<StringPool> strings = std::make_shared<StringPool>();
  std::vector<DualColumn> allocatable;
  std::vector<DualColumn> requested;
  std::vector<DualColumn> nonzero;  // cpu and memory only
  std::vector<std::int64_t> allocatable_max;
  std::shared_ptr<std::vector<std::int32_t>> pod_count =
      std::make_shared<std::vector<std::int32_t>>();
  std::shared_ptr<std::vector<std::uint8_t>> flags = std::make_shared<std::vector<std::uint8_t>>();
  std::vector<std::vector<LabelRef>> node_labels;
  std::vector<std::vector<TaintRef>> node_taints;
  bool labels_dirty = true;
  bool taints_dirty = true;
  std::shared_ptr<const ClusterSnapshot::FlatLabels> flat_labels;
  std::shared_ptr<const ClusterSnapshot::FlatTaints> flat_taints;
  std::shared_ptr<const Column> zeros;
  std::shared_ptr<const std::vector<double>> zeros_double;
  std::vector<std::shared_ptr<const std::vector<double>>> inverse;
  bool allocatable_dirty = true;

  std::unordered_map<std::string, PodUsage> pods;  // pods counting as usage, by namespace/name
  std::unordered_map<std::string, std::unordered_set<std::string>> pods_by_node;

  std::size_t n() const { return names->size(); }

  ResourceId resource(std::string_view name) {
    ResourceId id = resources->find(name);
    if (id != kUnknownResource) return id;
    id = mut(resources).intern(name);
    return id;
  }

  void ensure_columns(std::size_t count) {
    while (allocatable.size() < count) allocatable.emplace_back(n());
    while (requested.size() < count) requested.emplace_back(n());
    while (nonzero.size() < 2) nonzero.emplace_back(n());
  }

  void apply_usage(NodeIndex i, const PodUsage& u, int sign) {
    for (const auto& [r, v] : u.requests)
      requested[r].set(i, saturating_add(requested[r][i], sign * v));
    nonzero[kCpu].set(i, saturating_add(nonzero[kCpu][i], sign * u.nonzero_cpu));
    nonzero[kMemory].set(i, saturating_add(nonzero[kMemory][i], sign * u.nonzero_memory));
    auto& pc = mut(pod_count);
    pc[i] += sign;
  }

  NodeIndex add_node_slot(const std::string& name) {
    auto i = static_cast<NodeIndex>(n());
    mut(names).push_back(name);
    mut(index).emplace(name, i);
    for (auto& c : allocatable) c.push(0);
    allocatable_dirty = true;
    for (auto& c : requested) c.push(0);
    for (auto& c : nonzero) c.push(0);
    mut(pod_count).push_back(0);
    mut(flags).push_back(0);
    node_labels.emplace_back();
    node_taints.emplace_back();
    return i;
  }

  void set_node_fields(NodeIndex i, const Node& node) {
    for (const auto& ra : node.allocatable) resource(ra.name);
    ensure_columns(resources->size());
    for (auto& c : allocatable) c.set(i, 0);
    for (const auto& ra : node.allocatable) allocatable[resources->find(ra.name)].set(i, ra.amount);
    allocatable_dirty = true;
    std::uint8_t f = 0;
    if (node.unschedulable) f |= kNodeUnschedulable;
    if (node.ready.has_value() && !*node.ready) f |= kNodeNotReady;
    for (const auto& t : node.taints)
      f |= t.effect == TaintEffect::kPreferNoSchedule ? kNodePreferTaints : kNodeHardTaints;
    mut(flags)[i] = f;
    auto& pool = mut(strings);
    std::vector<LabelRef> labels;
    labels.reserve(node.labels.size());
    for (const auto& [k, v] : node.labels) labels.push_back({pool.intern(k), pool.intern(v)});
    std::sort(labels.begin(), labels.end(), [](LabelRef a, LabelRef b) { return a.key < b.key; });
    node_labels[i] = std::move(labels);
    std::vector<TaintRef> taints;
    for (const auto& t : node.taints)
      taints.push_back({pool.intern(t.key), pool.intern(t.value), t.effect});
    node_taints[i] = std::move(taints);
    labels_dirty = taints_dirty = true;
  }

  void recount_node(NodeIndex i) {
    for (auto& c : requested) c.set(i, 0);
    for (auto& c : nonzero) c.set(i, 0);
    if ((*pod_count)[i] != 0) mut(pod_count)[i] = 0;
    auto it = pods_by_node.find((*names)[i]);
    if (it == pods_by_node.end()) return;
    for (const auto& key : it->second) apply_usage(i, pods.at(key), +1);
  }

  void add_pod_usage(const std::string& key, PodUsage usage) {
    pods_by_node[usage.node].insert(key);
    auto it = index->find(usage.node);
    if (it != index->end()) apply_usage(it->second, usage, +1);
    pods[key] = std::move(usage);
  }

  void remove_pod_usage(const std::string& key) {
    auto it = pods.find(key);
    if (it == pods.end()) return;
    auto ni = index->find(it->second.node);
    if (ni != index->end()) apply_usage(ni->second, it->second, -1);
    auto bn = pods_by_node.find(it->second.node);
    if (bn != pods_by_node.end()) {
      bn->second.erase(key);
      if (bn->second.empty()) pods_by_node.erase(bn);
    }
    pods.erase(it);
  }

  PodUsage usage_of(const Pod& pod, std::string_view node) {
    PodUsage u;
    u.node = std::string(node);
    for (const auto& ra : pod_requests(pod, RequestDefaults::kAsWritten)) {
      if (ra.amount <= 0) continue;
      ResourceId r = resource(ra.name);
      u.requests.emplace_back(r, ra.amount);
    }
    ensure_columns(resources->size());
    for (const auto& ra : pod_requests(pod, RequestDefaults::kNonZero)) {
      if (ra.name == "cpu") u.nonzero_cpu = ra.amount;
      if (ra.name == "memory") u.nonzero_memory = ra.amount;
    }
    return u;
  }
};

ClusterState::ClusterState() : impl_(std::make_unique<Impl>()) {
  impl_->ensure_columns(kFirstScalarResource);
}
ClusterState::~ClusterState() = default;

std::size_t ClusterState::node_count() const { return impl_->n(); }
std::size_t ClusterState::pod_count() const { return impl_->pods.size(); }

void ClusterState::upsert_node(const Node& node) {
  Impl& s = *impl_;
  auto it = s.index->find(node.name);
  if (it != s.index->end()) {
    s.set_node_fields(it->second, node);
    return;
  }
  if (s.n() >= std::numeric_limits<NodeIndex>::max() - 1)
    throw Error(ErrorKind::kLimitExceeded, "too many nodes");
  NodeIndex i = s.add_node_slot(node.name);
  s.set_node_fields(i, node);
  s.recount_node(i);
}

bool ClusterState::remove_node(std::string_view name) {
  Impl& s = *impl_;
  auto it = s.index->find(std::string(name));
  if (it == s.index->end()) return false;
  // Swap-remove: the last node takes the removed node's index, so removal is
  // O(columns) rather than O(nodes x columns).
  NodeIndex i = it->second;
  auto last = static_cast<NodeIndex>(s.n() - 1);
  auto move_last = [&](auto& vec_ptr) {
    auto& v = mut(vec_ptr);
    v[i] = v[last];
    v.pop_back();
  };
  auto& names = mut(s.names);
  auto& index = mut(s.index);
  index.erase(names[i]);
  if (i != last) index[names[last]] = i;
  names[i] = std::move(names[last]);
  names.pop_back();
  for (auto& c : s.allocatable) c.move_last_to(i);
  s.allocatable_dirty = true;
  for (auto& c : s.requested) c.move_last_to(i);
  for (auto& c : s.nonzero) c.move_last_to(i);
  move_last(s.pod_count);
  move_last(s.flags);
  s.node_labels[i] = std::move(s.node_labels[last]);
  s.node_labels.pop_back();
  s.node_taints[i] = std::move(s.node_taints[last]);
  s.node_taints.pop_back();
  s.labels_dirty = s.taints_dirty = true;
  return true;
}

void ClusterState::upsert_pod(const Pod& pod) {
  Impl& s = *impl_;
  std::string key = pod.key();
  s.remove_pod_usage(key);
  if (pod.counts_as_usage()) s.add_pod_usage(key, s.usage_of(pod, pod.node_name));
}

void ClusterState::assume_pod(const Pod& pod, std::string_view node) {
  Impl& s = *impl_;
  std::string key = pod.key();
  s.remove_pod_usage(key);
  s.add_pod_usage(key, s.usage_of(pod, node));
}

bool ClusterState::remove_pod(std::string_view namespaced_name) {
  Impl& s = *impl_;
  std::string key(namespaced_name);
  if (s.pods.find(key) == s.pods.end()) return false;
  s.remove_pod_usage(key);
  return true;
}

SnapshotPtr ClusterState::publish() {
  Impl& s = *impl_;
  s.ensure_columns(s.resources->size());
  auto snap = std::shared_ptr<ClusterSnapshot>(new ClusterSnapshot());
  snap->node_count_ = static_cast<NodeIndex>(s.n());
  snap->generation_ = ++s.generation;
  snap->names_ = s.names;
  snap->index_ = s.index;
  snap->resources_ = s.resources;
  snap->strings_ = s.strings;
  if (s.allocatable_dirty || s.inverse.size() != s.allocatable.size()) {
    s.inverse.clear();
    s.allocatable_max.clear();
    for (const auto& col : s.allocatable) {
      const auto& ints = *col.ints;
      auto inv = std::make_shared<std::vector<double>>(ints.size());
      std::int64_t max = 0;
      for (std::size_t i = 0; i < ints.size(); ++i) {
        (*inv)[i] = ints[i] > 0 ? 1.0 / static_cast<double>(ints[i]) : 0.0;
        max = std::max(max, ints[i]);
      }
      s.inverse.push_back(std::move(inv));
      s.allocatable_max.push_back(max);
    }
    s.allocatable_dirty = false;
  }
  snap->allocatable_inverse_ = s.inverse;
  snap->allocatable_max_ = s.allocatable_max;
  for (const auto& c : s.allocatable) {
    snap->allocatable_.push_back(c.ints);
    snap->allocatable_f64_.push_back(c.reals);
  }
  for (const auto& c : s.requested) {
    snap->requested_.push_back(c.ints);
    snap->requested_f64_.push_back(c.reals);
  }
  for (const auto& c : s.nonzero) {
    snap->nonzero_requested_.push_back(c.ints);
    snap->nonzero_requested_f64_.push_back(c.reals);
  }
  snap->pod_count_ = s.pod_count;
  snap->flags_ = s.flags;
  if (s.labels_dirty || !s.flat_labels) {
    auto flat = std::make_shared<ClusterSnapshot::FlatLabels>();
    flat->offsets.reserve(s.n() + 1);
    for (const auto& l : s.node_labels) {
      flat->pairs.insert(flat->pairs.end(), l.begin(), l.end());
      flat->offsets.push_back(static_cast<std::uint32_t>(flat->pairs.size()));
    }
    s.flat_labels = std::move(flat);
    s.labels_dirty = false;
  }
  if (s.taints_dirty || !s.flat_taints) {
    auto flat = std::make_shared<ClusterSnapshot::FlatTaints>();
    flat->offsets.reserve(s.n() + 1);
    for (const auto& t : s.node_taints) {
      flat->items.insert(flat->items.end(), t.begin(), t.end());
      flat->offsets.push_back(static_cast<std::uint32_t>(flat->items.size()));
    }
    s.flat_taints = std::move(flat);
    s.taints_dirty = false;
  }
  snap->labels_ = s.flat_labels;
  snap->taints_ = s.flat_taints;
  if (!s.zeros || s.zeros->size() != s.n()) {
    s.zeros = std::make_shared<const Impl::Column>(s.n(), 0);
    s.zeros_double = std::make_shared<const std::vector<double>>(s.n(), 0.0);
  }
  snap->zeros_ = s.zeros;
  snap->zeros_double_ = s.zeros_double;
  return snap;
}

SnapshotPtr ClusterState::build(const KubeObjects& objects) {
  ClusterState state;
  std::unordered_set<std::string> seen;
  for (const Node& n : objects.nodes) {
    if (!seen.insert(n.name).second)
      throw InvalidInput(fmt::format("node \"{}\" appears more than once", n.name));
    state.upsert_node(n);
  }
  for (const Pod& p : objects.pods)
    if (p.counts_as_usage()) state.upsert_pod(p);
  return state.publish();
}

CARBONKUBE_NAMESPACE_END
