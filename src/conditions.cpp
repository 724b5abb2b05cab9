#include "carbonkube/conditions.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "carbonkube/error.hpp"
#include "carbonkube/planner.hpp"

CARBONKUBE_NAMESPACE_BEGIN

ClusterConditions ClusterConditions::build(const ClusterSnapshot& snapshot, const ZoneMap& zones,
                                           const CarbonSignals& signals, std::int64_t now,
                                           const SignalPolicy& policy,
                                           const QosProfileSet& profiles,
                                           std::span<const ZoneDecision> reconciled) {
  ClusterConditions c;
  c.snapshot_generation = snapshot.generation();
  c.now = now;
  c.zones = &zones;
  c.signals = &signals;
  c.policy = policy;
  c.profiles = &profiles;
  c.node_zone = zones.node_zones(snapshot);
  c.intensities = ZoneIntensities::compute(zones, signals, now, policy);
  c.zone_profile.assign(zones.zones().size(), -1);
  for (std::size_t z = 0; z < zones.zones().size(); ++z) {
    double g = 0;
    if (c.intensities.lookup(static_cast<ZoneIndex>(z), &g))
      c.zone_profile[z] = profiles.classify(g);
  }
  for (const ZoneDecision& d : reconciled) {
    if (d.profile_index < -1 || d.profile_index >= profiles.size())
      throw InvalidInput(
          fmt::format("zone {}: reconciled profile index {} is not one of the {} profiles", d.zone,
                      d.profile_index, profiles.size()));
    if (auto z = zones.find_zone(d.zone)) c.zone_profile[*z] = d.profile_index;
  }
  return c;
}

namespace {

constexpr std::int64_t kSecondsPerDay = 86400;

bool by_namespace(const NamespaceBudgetState& a, std::string_view b) {
  return a.namespace_name < b;
}

}  // namespace

void ClusterConditions::set_budget(const BudgetStatus& status, const CarbonBudget& budget,
                                   double warn_fraction) {
  if (status.namespace_name.empty()) throw InvalidInput("budget state: the namespace is empty");
  NamespaceBudgetState state{status.namespace_name, status, budget,
                             budget_advice(status, budget, false, warn_fraction)};
  auto it = std::lower_bound(namespace_budgets.begin(), namespace_budgets.end(),
                             std::string_view(status.namespace_name), by_namespace);
  if (it != namespace_budgets.end() && it->namespace_name == status.namespace_name)
    *it = std::move(state);
  else
    namespace_budgets.insert(it, std::move(state));
}

void ClusterConditions::set_budgets(const Ledger& ledger,
                                    std::span<const CarbonProfile> carbon_profiles,
                                    double warn_fraction) {
  std::vector<NamespaceBudgetState> previous;
  previous.swap(namespace_budgets);
  try {
    for (const BudgetStatus& status : ledger.budgets(now)) {
      CarbonBudget budget;
      for (const CarbonProfile& p : carbon_profiles)
        if (p.namespace_name == status.namespace_name) budget = p.budget;
      set_budget(status, budget, warn_fraction);
    }
  } catch (...) {
    namespace_budgets.swap(previous);  // all or nothing
    throw;
  }
}

const NamespaceBudgetState* ClusterConditions::namespace_budget(
    std::string_view namespace_name) const {
  if (namespace_budgets.empty()) return nullptr;
  auto it = std::lower_bound(namespace_budgets.begin(), namespace_budgets.end(), namespace_name,
                             by_namespace);
  return it != namespace_budgets.end() && it->namespace_name == namespace_name ? &*it : nullptr;
}

PodBudget ClusterConditions::pod_budget(const Pod& pod) const {
  PodBudget b;
  b.state = namespace_budget(pod.namespace_name);
  if (!b.state || b.state->advice.action == BudgetAction::kNone) return b;
  b.action = b.state->advice.action;
  b.max_intensity_g_per_kwh = b.state->advice.max_intensity_g_per_kwh;
  if (!b.state->status.exceeded) return b;
  // Over budget: deferrable work waits for the budget to reset when its
  // deadline still allows the whole run from then (defer_for_budget's rule).
  if (std::optional<DeferralSpec> spec = deferral_spec(pod, now)) {
    const std::int64_t reset = utc_day_start(now) + kSecondsPerDay;
    if (reset + spec->duration_seconds <= spec->deadline) {
      b.action = BudgetAction::kDefer;
      b.defer_until = reset;
    }
  }
  return b;
}

BudgetAdvice ClusterConditions::pod_budget_advice(const Pod& pod) const {
  const PodBudget b = pod_budget(pod);
  if (!b.state) {
    BudgetAdvice a;
    a.reason = fmt::format("namespace {} has no daily carbon limit", pod.namespace_name);
    return a;
  }
  BudgetAdvice a =
      budget_advice(b.state->status, b.state->budget, b.action == BudgetAction::kDefer);
  if (b.action == BudgetAction::kDefer)
    a.reason += fmt::format(" (deferred until {})", format_timestamp(b.defer_until));
  else if (b.state->status.exceeded && a.action == BudgetAction::kPreferGreener)
    a.reason += "; not deferred: not deferrable, or its deadline does not allow waiting";
  return a;
}

CARBONKUBE_NAMESPACE_END
