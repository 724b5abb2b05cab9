// carbonkube/ledger.hpp: the carbon ledger, daily budgets and the SCI.
// A feeder (a controller sampling pods, or the simulator) records each pod's
// facility power (energy.hpp) over an interval; the ledger integrates power ×
// grid intensity over time (planner.hpp IntensityCurve of the pod's zone),
// splits at UTC midnights, adds the pod's share of embodied emissions, and
// keeps totals per pod, namespace, tenant and zone for each UTC day (months
// and all-time by summing days). Budgets come from CarbonProfile's
// spec.carbonBudget.dailyLimit (kg per namespace per UTC day): the ledger
// reports each namespace's status, when within a record it crossed its
// limit, and budget_advice() turns a status into the scheduling hook (place
// on greener nodes first, or defer deferrable work). sci() is the Green
// Software Foundation's Software Carbon Intensity, (E·I + M) per R.
//
// Cold path (strings, maps). Not thread-safe: one feeder owns a ledger.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "carbonkube/energy.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// A pod's use over [start, end) in one zone.
struct UsageRecord {
  std::string pod;             // "namespace/name"
  std::string namespace_name;  // its namespace
  std::string tenant;          // optional: a team or customer label ("" = none)
  std::string zone;            // grid zone the node is in
  std::int64_t start = 0;      // unix seconds
  std::int64_t end = 0;
  double watts = 0;                // facility power attributed to the pod (Attribution::pod_watts)
  double embodied_g_per_hour = 0;  // Attribution::pod_embodied_g_per_hour
};

struct CarbonTotals {
  double energy_kwh = 0;
  double operational_g = 0;  // ∫ power × intensity
  double embodied_g = 0;
  std::int64_t seconds = 0;  // pod-seconds recorded
  double total_g() const { return operational_g + embodied_g; }
  CarbonTotals& operator+=(const CarbonTotals& o);
};

enum class LedgerScope : std::uint8_t { kPod, kNamespace, kTenant, kZone };

/// A namespace's budget for one UTC day.
struct BudgetStatus {
  std::string namespace_name;
  std::int64_t day_start = 0;  // UTC midnight, unix seconds
  double limit_kg = std::numeric_limits<double>::infinity();
  double used_kg = 0;   // operational + embodied
  double fraction = 0;  // used / limit (0 without a limit)
  bool exceeded = false;
  /// When the namespace crossed its limit that day (exact within the record
  /// that crossed it, when a namespace's records arrive in time order).
  std::optional<std::int64_t> exceeded_at;
};

class Ledger {
 public:
  /// Sets a namespace's daily limit in kg (finite, > 0); replaces any earlier.
  void set_daily_limit(std::string_view namespace_name, double kg);
  /// set_daily_limit(profile.namespace_name, profile.budget.daily_limit_kg).
  void set_budget(const CarbonProfile& profile);
  std::optional<double> daily_limit(std::string_view namespace_name) const;

  /// Integrates `usage` against `curve` (the zone's intensity; history for
  /// accounting) and adds it to the pod, namespace, tenant and zone of each
  /// UTC day it touches. An empty interval records nothing. Throws
  /// InvalidInput naming the pod and field when the pod or namespace is
  /// empty, end < start, watts or embodied are NaN, infinite or negative,
  /// or the interval is outside the curve; nothing is recorded then.
  /// The first curve that states a kind fixes the ledger's kind; a curve of
  /// another kind is refused (an account never mixes direct and life-cycle,
  /// nor average and marginal). Curves without a kind are the caller's
  /// responsibility.
  void record(const UsageRecord& usage, const IntensityCurve& curve);
  std::optional<IntensityKind> kind() const { return kind_; }

  /// Totals of one UTC day (the day containing `t`), of one calendar month
  /// (UTC), and of everything recorded. Zero totals for unknown names.
  CarbonTotals day(LedgerScope scope, std::string_view name, std::int64_t t) const;
  CarbonTotals month(LedgerScope scope, std::string_view name, int year, int month) const;
  CarbonTotals total(LedgerScope scope, std::string_view name) const;
  /// Every name recorded under `scope`, sorted.
  std::vector<std::string> names(LedgerScope scope) const;

  /// The budget of a namespace for the UTC day containing t (limit +inf and
  /// fraction 0 when it has none).
  BudgetStatus budget(std::string_view namespace_name, std::int64_t t) const;
  /// budget() of every namespace with a limit, sorted by namespace.
  std::vector<BudgetStatus> budgets(std::int64_t t) const;

 private:
  using Key = std::tuple<LedgerScope, std::string, std::int64_t>;  // day index
  void add(LedgerScope scope, const std::string& name, std::int64_t day, const CarbonTotals& t);
  std::map<Key, CarbonTotals> days_;
  std::map<std::string, double, std::less<>> limits_;
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> exceeded_at_;
  std::optional<IntensityKind> kind_;
};

// ---------------------------------------------------------------------------
// Feeding the ledger from a cluster

/// The namespace the nodes' unattributed (idle) power is booked to, as pod
/// "_idle/<node>". Not a valid Kubernetes namespace, so it never collides.
inline constexpr std::string_view kIdleNamespace = "_idle";

struct ZoneCurve {
  std::string zone;
  const IntensityCurve* curve = nullptr;  // not owned
};

struct AccountingOptions {
  IdleAttribution idle = IdleAttribution::kSeparate;
  NodePowerModel base;           // coefficients before each node's overrides
  bool book_idle = true;         // book idle power and embodied share to kIdleNamespace
  double gpu_utilisation = 1.0;  // for pods attributed by request
};

struct AccountingResult {
  std::size_t pods_booked = 0;
  std::size_t pods_skipped = 0;      // on an unknown node, or a node without a zone or curve
  std::vector<std::string> skipped;  // "<pod>: <why>", the first 100
  double node_watts = 0;             // facility power of the nodes booked
};

/// Books [t0, t1) for every bound, non-terminal pod of `pods`: its node's
/// power model (node_power_model with options.base), attribution among the
/// node's pods by request (requested_usage) or by `measured` usage when the
/// pod's key ("namespace/name") is in it, the node's grid zone (`zones`, by
/// labels) and that zone's curve. Tenants come from tenant_of(pod). Pods on
/// nodes that are unknown or have no zone or curve are skipped and reported.
/// Throws InvalidInput on t1 < t0, a malformed node override or usage, or a
/// zone given twice; nothing is booked then for the node concerned.
AccountingResult account_interval(
    Ledger& ledger, std::span<const Node> nodes, std::span<const Pod> pods, const ZoneMap& zones,
    std::span<const ZoneCurve> curves, std::int64_t t0, std::int64_t t1,
    const AccountingOptions& options = {},
    const std::map<std::string, PodUsage, std::less<>>* measured = nullptr);

/// The UTC midnight at or before t.
std::int64_t utc_day_start(std::int64_t t);

enum class BudgetAction : std::uint8_t {
  kNone,           // within budget
  kPreferGreener,  // near or over budget: only the greener zones first
  kDefer,          // over budget and the work is deferrable: hold it
};
std::string_view to_string(BudgetAction action) noexcept;

struct BudgetAdvice {
  BudgetAction action = BudgetAction::kNone;
  /// The scheduler should place the pod first on nodes whose zone is at or
  /// under this intensity (the profile's greenThreshold when near or over
  /// budget; +inf otherwise). A preference: when no such node fits, any does.
  double max_intensity_g_per_kwh = std::numeric_limits<double>::infinity();
  std::string reason;  // one sentence with the numbers
};

/// The admission / scoring hook: at or above warn_fraction of the limit,
/// prefer nodes under budget.green_threshold; over the limit, defer the pod
/// when it is deferrable (planner.hpp deferral_spec), else prefer greener.
BudgetAdvice budget_advice(const BudgetStatus& status, const CarbonBudget& budget, bool deferrable,
                           double warn_fraction = 0.8);

/// For BudgetAction::kDefer: the job's arrival moved to the next UTC
/// midnight after it (when the namespace's budget resets) when its deadline
/// still allows the whole run; otherwise, and for other actions, the job
/// unchanged (it must run to meet its deadline). Plan the result as usual.
PlannedJob defer_for_budget(PlannedJob job, const BudgetAdvice& advice);

/// Software Carbon Intensity (GSF SCI specification): (E·I + M) / R in gCO2e
/// per functional unit, from totals (E·I = operational_g, M = embodied_g).
/// Throws InvalidInput unless functional_units is finite and > 0.
double sci(const CarbonTotals& totals, double functional_units);

CARBONKUBE_NAMESPACE_END
