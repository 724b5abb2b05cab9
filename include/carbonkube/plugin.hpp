// carbonkube/plugin.hpp: the scheduling-framework plugin interface. A plugin
// works on a whole batch of nodes per call (one virtual call per pod and
// plugin, never per node), reading the snapshot's columns, and writes into
// caller-owned spans, so the hot path neither allocates nor parses.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/pod.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// kube-scheduler's score range (framework.MaxNodeScore).
inline constexpr std::int64_t kMaxNodeScore = 100;

struct ClusterConditions;
namespace detail::kernels {
struct ResourceTerm;  // src/plugins/resource_kernels.hpp
}

/// What one scheduling cycle reads. `conditions` is null for a
/// carbon-neutral cycle (no signals, no topology).
struct CycleInputs {
  const ClusterSnapshot& snapshot;
  const CompiledPod& pod;
  const ClusterConditions* conditions = nullptr;
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view name() const = 0;
  virtual bool has_filter() const { return false; }
  virtual bool has_score() const { return false; }

  /// Filter: writes, for each nodes[k], 0 if the pod fits or a plugin-defined
  /// non-zero reason mask into reasons[k]. Spans have equal length.
  virtual void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
                      std::span<std::uint32_t> reasons) const;
  /// Turns a reason mask into kube-scheduler's reason strings (cold path).
  virtual void explain_filter(const CycleInputs& in, NodeIndex node, std::uint32_t mask,
                              std::vector<std::string>& out) const;

  /// PreScore: false when the plugin skips this pod (its score is then left out).
  virtual bool scores_pod(const CycleInputs& in) const;
  /// Score: writes 0..kMaxNodeScore (before normalisation) for each nodes[k].
  virtual void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
                     std::span<std::int64_t> scores) const;
  /// NormalizeScore over the feasible nodes' scores, in place. Default: none.
  virtual void normalize(const CycleInputs& in, std::span<std::int64_t> scores) const;

  /// The fused form of score() (internal to the engine's own plugins): when
  /// this cycle's score is a pure function of the node's resource columns
  /// with no normalisation, describe it as data in `term` and return true;
  /// the scheduler then runs every such term of the profile in one pass per
  /// block of nodes instead of calling score(). Must give exactly the scores
  /// score() gives. Default: false (score() is called).
  virtual bool resource_term(const CycleInputs& in, detail::kernels::ResourceTerm& term) const;
};

using PluginPtr = std::unique_ptr<const Plugin>;

CARBONKUBE_NAMESPACE_END
