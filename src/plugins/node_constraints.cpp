// NodeUnschedulable, TaintToleration and NodeAffinity, as kube-scheduler runs
// them. The pod's tolerations and selectors are compiled once per cycle into
// interned string ids, so the loop over nodes compares integers.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>

#include "registry.hpp"
#include "resource_kernels.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {
namespace {

struct CompiledToleration {
  StringId key;  // kNoString with an empty key: any key
  bool any_key;
  bool op_exists;
  StringId value;
  bool any_effect;
  TaintEffect effect;
};

// Tolerations whose key or value no node uses still matter: an empty key with
// Exists tolerates everything; an unknown key tolerates nothing.
std::optional<CompiledToleration> compile_toleration(const Toleration& t, const StringPool& pool) {
  CompiledToleration c{};
  c.any_key = t.key.empty();
  c.key = c.any_key ? kNoString : pool.find(t.key);
  c.op_exists = t.op_exists;
  c.value = pool.find(t.value);
  c.any_effect = !t.effect.has_value();
  c.effect = t.effect.value_or(TaintEffect::kNoSchedule);
  if (!c.any_key && c.key == kNoString) return std::nullopt;  // tolerates no taint here
  if (!c.op_exists && c.value == kNoString) return std::nullopt;
  return c;
}

// A pod's tolerations compiled once per call, on the stack for the usual few
// (so the filter and score allocate nothing), on the heap beyond that.
class CompiledTolerations {
 public:
  // `keep` selects which tolerations count (e.g. only PreferNoSchedule ones).
  template <class Keep>
  CompiledTolerations(const Pod& pod, const StringPool& pool, Keep keep) {
    for (const auto& t : pod.tolerations) {
      auto c = compile_toleration(t, pool);
      if (!c || !keep(*c)) continue;
      if (count_ < inline_.size()) {
        inline_[count_++] = *c;
      } else {
        overflow_.push_back(*c);
      }
    }
  }
  CompiledTolerations(const Pod& pod, const StringPool& pool)
      : CompiledTolerations(pod, pool, [](const CompiledToleration&) { return true; }) {}

  bool tolerates(const TaintRef& taint) const {
    auto match = [&](const CompiledToleration& t) {
      if (!t.any_effect && t.effect != taint.effect) return false;
      if (!t.any_key && t.key != taint.key) return false;
      return t.op_exists || t.value == taint.value;
    };
    for (std::size_t i = 0; i < count_; ++i)
      if (match(inline_[i])) return true;
    for (const auto& t : overflow_)
      if (match(t)) return true;
    return false;
  }

 private:
  std::array<CompiledToleration, 16> inline_{};
  std::size_t count_ = 0;
  std::vector<CompiledToleration> overflow_;
};

class NodeUnschedulable final : public Plugin {
 public:
  std::string_view name() const override { return "NodeUnschedulable"; }
  bool has_filter() const override { return true; }

  void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
              std::span<std::uint32_t> reasons) const override {
    // The pod may tolerate node.kubernetes.io/unschedulable:NoSchedule.
    bool tolerated = false;
    for (const auto& t : in.pod.pod->tolerations) {
      bool effect_ok = !t.effect || *t.effect == TaintEffect::kNoSchedule;
      bool key_ok = t.key.empty() || t.key == "node.kubernetes.io/unschedulable";
      if (effect_ok && key_ok && (t.op_exists || t.value.empty())) tolerated = true;
    }
    const std::uint8_t* flags = in.snapshot.flags().data();
    std::fill(reasons.begin(), reasons.end(), 0u);
    if (tolerated || !kernels::any_flag(flags, nodes.data(), nodes.size(), kNodeUnschedulable))
      return;
    for (std::size_t k = 0; k < nodes.size(); ++k)
      reasons[k] = (flags[nodes[k]] & kNodeUnschedulable) != 0 ? 1u : 0u;
  }
  void explain_filter(const CycleInputs&, NodeIndex, std::uint32_t,
                      std::vector<std::string>& out) const override {
    out.emplace_back("node(s) were unschedulable");
  }
};

class TaintToleration final : public Plugin {
 public:
  std::string_view name() const override { return "TaintToleration"; }
  bool has_filter() const override { return true; }
  bool has_score() const override { return true; }

  // Nodes without NoSchedule / NoExecute taints (the snapshot's flag) pass
  // without reading their taints; the pod's tolerations are compiled only
  // when a block has a tainted node.
  void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
              std::span<std::uint32_t> reasons) const override {
    const std::uint8_t* flags = in.snapshot.flags().data();
    std::fill(reasons.begin(), reasons.end(), 0u);
    if (!kernels::any_flag(flags, nodes.data(), nodes.size(), kNodeHardTaints)) return;
    const CompiledTolerations tols(*in.pod.pod, in.snapshot.strings());
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      if ((flags[nodes[k]] & kNodeHardTaints) == 0) continue;
      std::uint32_t r = 0;
      for (const TaintRef& t : in.snapshot.taints(nodes[k])) {
        if (t.effect == TaintEffect::kPreferNoSchedule) continue;
        if (!tols.tolerates(t)) {
          r = 1;
          break;
        }
      }
      reasons[k] = r;
    }
  }
  void explain_filter(const CycleInputs& in, NodeIndex node, std::uint32_t,
                      std::vector<std::string>& out) const override {
    const CompiledTolerations tols(*in.pod.pod, in.snapshot.strings());
    for (const TaintRef& t : in.snapshot.taints(node)) {
      if (t.effect == TaintEffect::kPreferNoSchedule || tols.tolerates(t)) continue;
      out.push_back(fmt::format("node(s) had untolerated taint {{{}: {}}}",
                                in.snapshot.strings().str(t.key),
                                in.snapshot.strings().str(t.value)));
      return;
    }
  }

  // Score: the number of PreferNoSchedule taints the pod does not tolerate
  // (tolerations with effect PreferNoSchedule or none), normalised reversed.
  // Nodes without such taints (the snapshot's flag) count 0 unread.
  void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
             std::span<std::int64_t> scores) const override {
    const std::uint8_t* flags = in.snapshot.flags().data();
    std::fill(scores.begin(), scores.end(), 0);
    if (!kernels::any_flag(flags, nodes.data(), nodes.size(), kNodePreferTaints)) return;
    const CompiledTolerations tols(
        *in.pod.pod, in.snapshot.strings(), [](const CompiledToleration& t) {
          return t.any_effect || t.effect == TaintEffect::kPreferNoSchedule;
        });
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      if ((flags[nodes[k]] & kNodePreferTaints) == 0) continue;
      std::int64_t count = 0;
      for (const TaintRef& t : in.snapshot.taints(nodes[k]))
        if (t.effect == TaintEffect::kPreferNoSchedule && !tols.tolerates(t)) ++count;
      scores[k] = count;
    }
  }
  void normalize(const CycleInputs&, std::span<std::int64_t> scores) const override {
    default_normalize(scores, /*reverse=*/true);
  }

  static void default_normalize(std::span<std::int64_t> scores, bool reverse) {
    const std::int64_t max_count =
        scores.empty()
            ? 0
            : std::max<std::int64_t>(0, kernels::max_value(scores.data(), scores.size()));
    if (max_count == 0) {
      if (reverse) std::fill(scores.begin(), scores.end(), kMaxNodeScore);
      return;
    }
    for (auto& s : scores) {
      s = kMaxNodeScore * s / max_count;
      if (reverse) s = kMaxNodeScore - s;
    }
  }
};

// A NodeSelectorRequirement over interned ids.
struct CompiledRequirement {
  StringId key;
  SelectorOp op;
  bool on_name;                    // matchFields metadata.name
  std::vector<StringId> values;    // sorted; unknown values dropped (they match no node)
  std::vector<std::string> names;  // for matchFields
  std::int64_t bound = 0;          // Gt / Lt
  bool bound_ok = false;
};

struct CompiledTerm {
  std::vector<CompiledRequirement> reqs;
  bool empty = false;  // a term with no requirements matches nothing
};

CompiledTerm compile_term(const NodeSelectorTerm& term, const StringPool& pool) {
  CompiledTerm out;
  out.empty = term.match_expressions.empty() && term.match_fields.empty();
  auto add = [&](const NodeSelectorRequirement& r, bool on_name) {
    CompiledRequirement c;
    c.key = pool.find(r.key);
    c.op = r.op;
    c.on_name = on_name;
    for (const auto& v : r.values) {
      if (on_name) c.names.push_back(v);
      StringId id = pool.find(v);
      if (id != kNoString) c.values.push_back(id);
    }
    std::sort(c.values.begin(), c.values.end());
    if ((r.op == SelectorOp::kGt || r.op == SelectorOp::kLt) && r.values.size() == 1) {
      StringPool tmp;
      StringId t = tmp.intern(r.values[0]);
      if (auto v = tmp.as_integer(t)) {
        c.bound = *v;
        c.bound_ok = true;
      }
    }
    out.reqs.push_back(std::move(c));
  };
  for (const auto& r : term.match_expressions) add(r, false);
  for (const auto& r : term.match_fields) add(r, true);
  return out;
}

bool matches(const CompiledRequirement& r, const ClusterSnapshot& snap, NodeIndex i) {
  if (r.on_name) {
    bool in = std::find(r.names.begin(), r.names.end(), snap.node_name(i)) != r.names.end();
    return r.op == SelectorOp::kIn ? in : r.op == SelectorOp::kNotIn ? !in : false;
  }
  const StringId v = r.key == kNoString ? kNoString : snap.label(i, r.key);
  const bool present = v != kNoString;
  switch (r.op) {
    case SelectorOp::kIn:
      return present && std::binary_search(r.values.begin(), r.values.end(), v);
    case SelectorOp::kNotIn:
      return !present || !std::binary_search(r.values.begin(), r.values.end(), v);
    case SelectorOp::kExists:
      return present;
    case SelectorOp::kDoesNotExist:
      return !present;
    case SelectorOp::kGt:
    case SelectorOp::kLt: {
      if (!present || !r.bound_ok) return false;
      auto n = snap.strings().as_integer(v);
      if (!n) return false;
      return r.op == SelectorOp::kGt ? *n > r.bound : *n < r.bound;
    }
  }
  return false;
}

bool matches(const CompiledTerm& t, const ClusterSnapshot& snap, NodeIndex i) {
  if (t.empty) return false;
  for (const auto& r : t.reqs)
    if (!matches(r, snap, i)) return false;
  return true;
}

class NodeAffinityPlugin final : public Plugin {
 public:
  std::string_view name() const override { return "NodeAffinity"; }
  bool has_filter() const override { return true; }
  bool has_score() const override { return true; }

  struct Required {
    std::vector<std::pair<StringId, StringId>> selector;  // nodeSelector: key == value
    bool selector_impossible = false;                     // names a key or value no node has
    bool has_terms = false;
    std::vector<CompiledTerm> terms;  // ORed
  };

  static Required compile_required(const Pod& pod, const StringPool& pool) {
    Required r;
    for (const auto& [k, v] : pod.node_selector) {
      StringId kid = pool.find(k), vid = pool.find(v);
      if (kid == kNoString || vid == kNoString) r.selector_impossible = true;
      r.selector.emplace_back(kid, vid);
    }
    if (pod.node_affinity.required) {
      r.has_terms = true;
      for (const auto& t : *pod.node_affinity.required) r.terms.push_back(compile_term(t, pool));
    }
    return r;
  }

  static bool fits(const Required& r, const ClusterSnapshot& snap, NodeIndex i) {
    if (r.selector_impossible) return false;
    for (const auto& [k, v] : r.selector)
      if (snap.label(i, k) != v) return false;
    if (!r.has_terms) return true;
    for (const auto& t : r.terms)
      if (matches(t, snap, i)) return true;
    return false;
  }

  void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
              std::span<std::uint32_t> reasons) const override {
    Required r = compile_required(*in.pod.pod, in.snapshot.strings());
    if (r.selector.empty() && !r.has_terms) {
      std::fill(reasons.begin(), reasons.end(), 0u);
      return;
    }
    for (std::size_t k = 0; k < nodes.size(); ++k)
      reasons[k] = fits(r, in.snapshot, nodes[k]) ? 0u : 1u;
  }
  void explain_filter(const CycleInputs&, NodeIndex, std::uint32_t,
                      std::vector<std::string>& out) const override {
    out.emplace_back("node(s) didn't match Pod's node affinity/selector");
  }

  // PreScore skips pods without preferred terms.
  bool scores_pod(const CycleInputs& in) const override {
    return !in.pod.pod->node_affinity.preferred.empty();
  }
  void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
             std::span<std::int64_t> scores) const override {
    std::vector<std::pair<CompiledTerm, std::int64_t>> prefs;
    for (const auto& p : in.pod.pod->node_affinity.preferred)
      prefs.emplace_back(compile_term(p.preference, in.snapshot.strings()), p.weight);
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      std::int64_t s = 0;
      for (const auto& [term, weight] : prefs)
        if (matches(term, in.snapshot, nodes[k])) s += weight;
      scores[k] = s;
    }
  }
  void normalize(const CycleInputs&, std::span<std::int64_t> scores) const override {
    TaintToleration::default_normalize(scores, /*reverse=*/false);
  }
};

}  // namespace

PluginPtr make_node_unschedulable(const Json&, const Where&) {
  return std::make_unique<NodeUnschedulable>();
}
PluginPtr make_taint_toleration(const Json&, const Where&) {
  return std::make_unique<TaintToleration>();
}
PluginPtr make_node_affinity(const Json& args, const Where& where) {
  if (args.is_object() && member(args, "addedAffinity"))
    (where / "addedAffinity").fail("not supported yet by carbonkube");
  return std::make_unique<NodeAffinityPlugin>();
}

}  // namespace detail
CARBONKUBE_NAMESPACE_END
