// One scheduling cycle, kube-scheduler's schedulePod: findNodesThatFitPod ->
// prioritizeNodes -> selectHost.
#include "carbonkube/scheduler.hpp"

#include <algorithm>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/topology.hpp"
#include "plugins/resource_kernels.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace {
__extension__ typedef unsigned __int128 UInt128;
// kube-scheduler constants (pkg/scheduler/schedule_one.go).
constexpr std::uint32_t kMinFeasibleNodesToFind = 100;
constexpr std::int64_t kMinFeasibleNodesPercentageToFind = 5;
// Filters run over blocks of this many nodes, so that a cycle stops soon
// after enough feasible nodes are found without a virtual call per node.
constexpr std::size_t kFilterBlock = 512;
// Fused resource terms score blocks of this many feasible nodes (their
// columns, scores and totals stay in L1/L2 across the terms).
constexpr std::size_t kScoreBlock = 512;
// At most this many score plugins of a profile run fused; more run unfused.
constexpr std::size_t kMaxFusedTerms = 8;
// A block of feasible nodes with at most this many gaps (infeasible nodes
// between them) is scored run by run in place; more, and it is gathered.
constexpr std::size_t kMaxGapsForRuns = 4;
}  // namespace

std::uint32_t num_feasible_nodes_to_find(std::int32_t percentage, std::uint32_t num_all_nodes) {
  if (num_all_nodes < kMinFeasibleNodesToFind || percentage >= 100) return num_all_nodes;
  std::int64_t pct = percentage;
  if (pct <= 0) {
    pct = 50 - static_cast<std::int64_t>(num_all_nodes) / 125;
    if (pct < kMinFeasibleNodesPercentageToFind) pct = kMinFeasibleNodesPercentageToFind;
  }
  auto num = static_cast<std::uint32_t>(static_cast<std::int64_t>(num_all_nodes) * pct / 100);
  return num < kMinFeasibleNodesToFind ? kMinFeasibleNodesToFind : num;
}

std::uint64_t ScoringContext::next_random() {
  // splitmix64: small, fast, and good enough for tie-breaking.
  std::uint64_t z = (rng_state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void ScoringContext::reserve(std::size_t nodes, std::size_t score_plugins) {
  if (feasible_.size() < nodes) {
    feasible_.resize(nodes);
    totals_.resize(nodes);
    failures_.reserve(nodes);
  }
  if (candidates_.size() < kFilterBlock) {
    candidates_.resize(kFilterBlock);
    reasons_.resize(kFilterBlock);
  }
  if (stride_ < nodes || scored_.size() < score_plugins) {
    stride_ = std::max(stride_, nodes);
    scores_.resize(stride_ * std::max(score_plugins, scored_.size()));
    scored_.resize(std::max(score_plugins, scored_.size()));
  }
}

CycleResult Scheduler::schedule(const ClusterSnapshot& snapshot, const CompiledPod& pod,
                                ScoringContext& ctx, const ClusterConditions* conditions) const {
  const NodeIndex n = snapshot.node_count();
  const auto filters = profile_.filters();
  const auto scores = profile_.scores();
  ctx.reserve(n, scores.size());
  ctx.failures_.clear();
  ctx.feasible_count_ = 0;
  CycleResult result;
  if (n == 0) return result;

  if (conditions && conditions->snapshot_generation != snapshot.generation())
    throw Error(ErrorKind::kInvalidInput,
                "ClusterConditions were built for another snapshot generation; rebuild them");
  if (conditions && conditions->topology &&
      conditions->topology->snapshot_generation() != snapshot.generation())
    throw Error(ErrorKind::kInvalidInput,
                "the TopologyTable was built for another snapshot generation; rebuild it");
  if (pod.resource_table_size != snapshot.resources().size())
    throw Error(ErrorKind::kInvalidInput,
                "pod " + pod.key +
                    " was compiled against a snapshot with other resources; compile it again");
  const CycleInputs in{snapshot, pod, conditions};
  // With nothing to score, the first feasible node is as good as any.
  const std::uint32_t need =
      scores.empty() ? 1u : num_feasible_nodes_to_find(profile_.percentage_of_nodes_to_score(), n);
  const NodeIndex start = ctx.next_start_ % n;
  std::size_t found = 0;
  std::uint32_t processed = 0;
  for (std::uint32_t pos = 0; pos < n && found < need; pos += kFilterBlock) {
    const auto block = static_cast<std::uint32_t>(std::min<std::size_t>(kFilterBlock, n - pos));
    NodeIndex* cand = ctx.candidates_.data();
    const std::uint32_t first = start + pos >= n ? start + pos - n : start + pos;
    detail::kernels::rotated_indices(first, n, block, cand);
    std::size_t count = block;
    const std::size_t failures_before = ctx.failures_.size();
    for (std::size_t f = 0; f < filters.size() && count > 0; ++f) {
      filters[f]->filter(in, {cand, count}, {ctx.reasons_.data(), count});
      if (!detail::kernels::any_nonzero(ctx.reasons_.data(), count)) continue;  // all pass
      std::size_t kept = 0;
      for (std::size_t j = 0; j < count; ++j) {
        // Branch-free keep (most nodes pass); failures are the rare branch.
        const std::uint32_t reason = ctx.reasons_[j];
        cand[kept] = cand[j];
        kept += reason == 0 ? 1 : 0;
        if (reason != 0) ctx.failures_.push_back({cand[j], static_cast<std::uint16_t>(f), reason});
      }
      count = kept;
    }
    const std::size_t take = std::min<std::size_t>(count, need - found);
    std::copy(cand, cand + take, ctx.feasible_.data() + found);
    found += take;
    if (take < count || found == need) {
      // Stop right after the node that completed the set, as kube-scheduler
      // does; failures past it were not "processed".
      const NodeIndex last = ctx.feasible_[found - 1];
      const std::uint32_t last_pos = last >= start ? last - start : last + n - start;
      auto beyond = [&](const FilterFailure& fl) {
        std::uint32_t p = fl.node >= start ? fl.node - start : fl.node + n - start;
        return p > last_pos;
      };
      ctx.failures_.erase(
          std::remove_if(ctx.failures_.begin() + static_cast<std::ptrdiff_t>(failures_before),
                         ctx.failures_.end(), beyond),
          ctx.failures_.end());
      processed = last_pos + 1;
      break;
    }
    processed = pos + block;
  }
  ctx.feasible_count_ = found;
  ctx.next_start_ = static_cast<NodeIndex>((start + processed) % n);
  result.processed = processed;
  result.feasible = static_cast<std::uint32_t>(found);
  if (found == 0) return result;

  const std::span<const NodeIndex> feasible{ctx.feasible_.data(), found};
  std::int64_t* totals = ctx.totals_.data();
  std::fill(totals, totals + found, 0);
  // Score plugins that describe themselves as resource terms run fused: per
  // block of feasible nodes, every term in turn, each one pass that writes
  // its scores and adds its weighted score to the totals while the block is
  // in cache. The others score all feasible nodes, then normalise.
  detail::kernels::ResourceTerm terms[kMaxFusedTerms];
  std::size_t term_plugin[kMaxFusedTerms];
  std::size_t fused = 0;
  for (std::size_t p = 0; p < scores.size(); ++p) {
    const Plugin& plugin = *scores[p].plugin;
    ctx.scored_[p] = plugin.scores_pod(in) ? 1 : 0;
    if (!ctx.scored_[p]) continue;
    if (fused < kMaxFusedTerms && plugin.resource_term(in, terms[fused])) {
      term_plugin[fused++] = p;
      continue;
    }
    std::span<std::int64_t> s{ctx.scores_.data() + p * ctx.stride_, found};
    plugin.score(in, feasible, s);
    plugin.normalize(in, s);
    detail::kernels::weighted_add(s.data(), scores[p].weight, found, totals);
  }
  for (std::size_t base = 0, m = 0; base < found && fused > 0; base += m) {
    // Blocks follow runs of consecutive nodes (columns read in place).
    const NodeIndex* nodes = feasible.data() + base;
    m = std::min(kScoreBlock, found - base);
    const std::size_t run_length = detail::kernels::contiguous_prefix(nodes, m);
    // A block with few gaps is scored run by run (few calls); a fragmented
    // one is gathered whole.
    const bool run = run_length == m || detail::kernels::count_gaps(nodes, m) <= kMaxGapsForRuns;
    if (run) m = run_length;
    for (std::size_t t = 0; t < fused; ++t) {
      const std::size_t p = term_plugin[t];
      detail::kernels::score_term(terms[t], nodes, m, run, scores[p].weight,
                                  ctx.scores_.data() + p * ctx.stride_ + base, totals + base);
    }
  }

  // selectHost: the highest total; ties broken by reservoir sampling, so each
  // tied node is equally likely.
  const std::int64_t max_total = detail::kernels::max_value(totals, found);
  std::size_t best = 0;
  std::uint64_t ties = 0;
  for (std::size_t k = detail::kernels::find_equal(totals, 0, found, max_total); k < found;
       k = detail::kernels::find_equal(totals, k + 1, found, max_total)) {
    if (++ties == 1) {
      best = k;
      continue;
    }
    // Replace the pick with probability 1/ties: uniform over the tied nodes.
    const auto r =
        static_cast<std::uint64_t>((static_cast<UInt128>(ctx.next_random()) * ties) >> 64);
    if (r == 0) best = k;
  }
  result.selected = feasible[best];
  result.total = totals[best];
  return result;
}

Explanation explain(const Scheduler& scheduler, const ClusterSnapshot& snapshot,
                    const CompiledPod& pod, const ScoringContext& ctx, const CycleResult& result,
                    const ClusterConditions* conditions) {
  const Profile& profile = scheduler.profile();
  const CycleInputs in{snapshot, pod, conditions};
  Explanation ex;
  ex.pod = pod.key;
  if (result.selected) ex.selected = snapshot.node_name(*result.selected);
  const NodeIndex n = snapshot.node_count();
  ex.nodes.resize(n);
  for (NodeIndex i = 0; i < n; ++i) ex.nodes[i].name = snapshot.node_name(i);
  for (const FilterFailure& f : ctx.failures()) {
    NodeExplanation& ne = ex.nodes[f.node];
    ne.evaluated = true;
    ne.feasible = false;
    const Plugin& plugin = *profile.filters()[f.plugin];
    ne.failed_plugin = std::string(plugin.name());
    plugin.explain_filter(in, f.node, f.reasons, ne.reasons);
  }
  const auto feasible = ctx.feasible();
  for (std::size_t k = 0; k < feasible.size(); ++k) {
    NodeExplanation& ne = ex.nodes[feasible[k]];
    ne.evaluated = true;
    ne.feasible = true;
    for (std::size_t p = 0; p < profile.scores().size(); ++p) {
      if (!ctx.plugin_scored(p)) continue;
      ne.scores.emplace_back(std::string(profile.scores()[p].plugin->name()), ctx.score(p, k));
    }
    ne.total = ctx.totals()[k];
  }
  return ex;
}

CARBONKUBE_NAMESPACE_END
