// carbonkube/conditions.hpp: what a scheduling cycle reads besides the
// snapshot: each node's grid zone and carbon intensity, each zone's carbon
// QoS profile, the Katalyst topology, and each namespace's carbon budget
// state (the ledger's budget hook). Built once per signal or ledger update
// (not per pod) so the carbon and topology plugins index per-node arrays. A
// cycle without conditions is carbon-neutral: those plugins give every node
// the same score and filter nothing.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/ledger.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

class TopologyTable;

/// One namespace's carbon budget for the conditions' day: the ledger's
/// status, the CarbonProfile's budget thresholds, and the advice for its
/// pods that are not deferrable (budget_advice with deferrable = false).
struct NamespaceBudgetState {
  std::string namespace_name;
  BudgetStatus status;
  CarbonBudget budget;
  BudgetAdvice advice;
};

/// The budget hook's verdict for one pod, computed once per pod and cycle
/// (ClusterConditions::pod_budget): what the carbon plugins apply.
struct PodBudget {
  BudgetAction action = BudgetAction::kNone;
  /// kPreferGreener: zones above this intensity score lowest; +inf otherwise.
  double max_intensity_g_per_kwh = std::numeric_limits<double>::infinity();
  /// kDefer: when the namespace's budget resets (the next UTC midnight).
  std::int64_t defer_until = 0;
  const NamespaceBudgetState* state = nullptr;  // null: the namespace has no budget
};

struct ClusterConditions {
  std::uint64_t snapshot_generation = 0;  // the snapshot these arrays describe
  std::int64_t now = 0;                   // unix seconds the intensities are for
  const ZoneMap* zones = nullptr;         // for per-pod forecast windows (may be null)
  const CarbonSignals* signals = nullptr;
  SignalPolicy policy;
  const QosProfileSet* profiles = &default_qos_profiles();
  std::vector<ZoneIndex> node_zone;  // per node; kUnknownZone when unmapped
  ZoneIntensities intensities;       // per zone index
  std::vector<int> zone_profile;     // per zone index: QoS profile index, -1 without data
  const TopologyTable* topology = nullptr;
  /// Per namespace, sorted by name (set_budget / set_budgets). Empty: no
  /// budget hook, and pod_budget() costs one size check.
  std::vector<NamespaceBudgetState> namespace_budgets;

  /// The intensity of node i's zone, if usable.
  bool node_intensity(NodeIndex i, double* out) const {
    return i < node_zone.size() && intensities.lookup(node_zone[i], out);
  }
  /// Node i's zone QoS profile index, or -1.
  int node_profile(NodeIndex i) const {
    if (i >= node_zone.size() || node_zone[i] >= zone_profile.size()) return -1;
    return zone_profile[node_zone[i]];
  }

  /// Adds (or replaces) a namespace's budget state. `status` should be the
  /// ledger's for the day containing `now`. Throws InvalidInput when the
  /// namespace is empty or warn_fraction is not finite and > 0.
  void set_budget(const BudgetStatus& status, const CarbonBudget& budget,
                  double warn_fraction = 0.8);
  /// set_budget for every namespace with a daily limit in `ledger`, at `now`;
  /// the thresholds come from the CarbonProfile of that namespace in
  /// `profiles` when there is one, else CarbonBudget's defaults. Replaces the
  /// whole table.
  void set_budgets(const Ledger& ledger, std::span<const CarbonProfile> carbon_profiles = {},
                   double warn_fraction = 0.8);
  /// The namespace's budget state, or null (binary search: once per pod).
  const NamespaceBudgetState* namespace_budget(std::string_view namespace_name) const;
  /// The budget hook for `pod` (its namespace's state at `now`): over or
  /// near budget, prefer zones at or under the budget's greenThreshold; over
  /// budget and deferrable (planner.hpp deferral_spec, arrival `now`) with a
  /// deadline that still allows starting at the next UTC midnight, defer.
  /// Throws InvalidInput on the pod's malformed deferral annotations.
  PodBudget pod_budget(const Pod& pod) const;
  /// pod_budget() as BudgetAdvice with its sentence (cold path: explain,
  /// admission webhooks, the C ABI).
  BudgetAdvice pod_budget_advice(const Pod& pod) const;

  /// Builds the carbon part for `snapshot` at `now`. Zone profiles come from
  /// `reconciled` (zone id -> profile index, e.g. QosReconciler decisions)
  /// where given, else from the intensity alone (QosProfileSet::classify).
  /// The referenced objects must outlive the conditions.
  static ClusterConditions build(const ClusterSnapshot& snapshot, const ZoneMap& zones,
                                 const CarbonSignals& signals, std::int64_t now,
                                 const SignalPolicy& policy = {},
                                 const QosProfileSet& profiles = default_qos_profiles(),
                                 std::span<const ZoneDecision> reconciled = {});
};

CARBONKUBE_NAMESPACE_END
