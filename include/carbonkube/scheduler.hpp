// carbonkube/scheduler.hpp: one scheduling cycle with kube-scheduler's
// semantics: Filter (stopping after percentageOfNodesToScore feasible nodes,
// starting where the previous cycle stopped) -> Score -> NormalizeScore ->
// weighted sum -> select the highest total, ties broken uniformly at random
// under a seed.
//
// A Scheduler is immutable and shared by any number of threads. Each thread
// owns a ScoringContext: its scratch memory (grown once, then reused), its
// random state and the rotating start index. The cycle itself and the
// resource plugins allocate nothing; plugins that compile pod terms
// (tolerations, affinity, carbon annotations) do so once per cycle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "carbonkube/plugin.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// kube-scheduler: numFeasibleNodesToFind(percentage, numAllNodes).
std::uint32_t num_feasible_nodes_to_find(std::int32_t percentage, std::uint32_t num_all_nodes);

struct CycleResult {
  std::optional<NodeIndex> selected;  // nullopt: no feasible node
  std::int64_t total = 0;             // the selected node's weighted total
  std::uint32_t feasible = 0;         // feasible nodes found (and scored)
  std::uint32_t processed = 0;        // nodes examined by the filters
};

/// A node that failed a filter: which plugin, and its reason mask.
struct FilterFailure {
  NodeIndex node;
  std::uint16_t plugin;  // index into Profile::filters()
  std::uint32_t reasons;
};

class ScoringContext {
 public:
  explicit ScoringContext(std::uint64_t seed = 0) : rng_state_(seed) {}

  // Results of the last cycle (valid until the next one).
  std::span<const NodeIndex> feasible() const { return {feasible_.data(), feasible_count_}; }
  std::span<const FilterFailure> failures() const { return failures_; }
  /// Score of plugin p (index into Profile::scores()) for feasible()[k], after
  /// normalisation; scored_[p] false when the plugin skipped the pod.
  std::int64_t score(std::size_t p, std::size_t k) const { return scores_[p * stride_ + k]; }
  bool plugin_scored(std::size_t p) const { return scored_[p] != 0; }
  std::span<const std::int64_t> totals() const { return {totals_.data(), feasible_count_}; }
  /// First node index the next cycle examines.
  NodeIndex next_start_node() const { return next_start_; }

 private:
  friend class Scheduler;
  std::uint64_t next_random();
  void reserve(std::size_t nodes, std::size_t score_plugins);

  std::uint64_t rng_state_;
  NodeIndex next_start_ = 0;
  std::size_t feasible_count_ = 0;
  std::size_t stride_ = 0;
  std::vector<NodeIndex> feasible_;
  std::vector<NodeIndex> candidates_;
  std::vector<std::uint32_t> reasons_;
  std::vector<FilterFailure> failures_;
  std::vector<std::int64_t> scores_;
  std::vector<std::uint8_t> scored_;
  std::vector<std::int64_t> totals_;
};

class Scheduler {
 public:
  explicit Scheduler(Profile profile) : profile_(std::move(profile)) {}
  const Profile& profile() const { return profile_; }

  /// Runs one cycle. `conditions` (carbon, topology) must describe this
  /// snapshot, and `pod` must be compiled against it (else Error); null
  /// conditions make the cycle carbon-neutral. Throws InvalidInput for a pod
  /// whose carbon or Katalyst annotations are malformed.
  CycleResult schedule(const ClusterSnapshot& snapshot, const CompiledPod& pod, ScoringContext& ctx,
                       const ClusterConditions* conditions = nullptr) const;

 private:
  Profile profile_;
};

/// The explained outcome of the last cycle run in a context, for every node
/// of the snapshot (cold path: strings, allocation).
struct NodeExplanation {
  std::string name;
  bool evaluated = false;  // false: not examined (percentageOfNodesToScore reached)
  bool feasible = false;
  std::string failed_plugin;
  std::vector<std::string> reasons;
  std::vector<std::pair<std::string, std::int64_t>> scores;  // per score plugin, in profile order
  std::int64_t total = 0;
};

struct Explanation {
  std::string pod;
  std::optional<std::string> selected;
  std::vector<NodeExplanation> nodes;  // snapshot order
};

Explanation explain(const Scheduler& scheduler, const ClusterSnapshot& snapshot,
                    const CompiledPod& pod, const ScoringContext& ctx, const CycleResult& result,
                    const ClusterConditions* conditions = nullptr);

CARBONKUBE_NAMESPACE_END
