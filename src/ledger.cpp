// The carbon ledger: integration of power × intensity split at UTC days,
// totals per scope, daily budgets with the crossing time, the budget hook
// and the SCI.
#include "carbonkube/ledger.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr std::int64_t kDay = 86400;
constexpr double kSecondsPerHour = 3600.0;
constexpr double kGramsPerKg = 1000.0;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, std::int64_t m, std::int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void check_finite(double v, const UsageRecord& u, std::string_view field) {
  if (!std::isfinite(v) || v < 0)
    throw InvalidInput(
        fmt::format("usage of pod {}: {} is {}: must be finite and >= 0", u.pod, field, v));
}

}  // namespace

CarbonTotals& CarbonTotals::operator+=(const CarbonTotals& o) {
  energy_kwh += o.energy_kwh;
  operational_g += o.operational_g;
  embodied_g += o.embodied_g;
  seconds += o.seconds;
  return *this;
}

std::int64_t utc_day_start(std::int64_t t) { return floor_div(t, kDay) * kDay; }

void Ledger::set_daily_limit(std::string_view namespace_name, double kg) {
  if (namespace_name.empty()) throw InvalidInput("daily carbon limit: the namespace is empty");
  if (!std::isfinite(kg) || kg <= 0)
    throw InvalidInput(
        fmt::format("namespace {}: carbonBudget.dailyLimit is {} kg: must be a finite number > 0",
                    namespace_name, kg));
  limits_.insert_or_assign(std::string(namespace_name), kg);
}

void Ledger::set_budget(const CarbonProfile& profile) {
  set_daily_limit(profile.namespace_name, profile.budget.daily_limit_kg);
}

std::optional<double> Ledger::daily_limit(std::string_view namespace_name) const {
  auto it = limits_.find(namespace_name);
  if (it == limits_.end()) return std::nullopt;
  return it->second;
}

void Ledger::add(LedgerScope scope, const std::string& name, std::int64_t day,
                 const CarbonTotals& t) {
  if (name.empty()) return;
  days_[Key{scope, name, day}] += t;
}

void Ledger::record(const UsageRecord& u, const IntensityCurve& curve) {
  if (u.pod.empty() || u.namespace_name.empty())
    throw InvalidInput(
        fmt::format("usage record \"{}\": the pod and its namespace are required", u.pod));
  if (u.end < u.start)
    throw InvalidInput(fmt::format("usage of pod {}: end {} is before start {}", u.pod,
                                   format_timestamp(u.end), format_timestamp(u.start)));
  check_finite(u.watts, u, "watts");
  check_finite(u.embodied_g_per_hour, u, "embodied_g_per_hour");
  if (u.start == u.end) return;
  if (u.start < curve.start() || u.end > curve.end())
    throw InvalidInput(fmt::format("usage of pod {}: [{}, {}) is outside {} [{}, {})", u.pod,
                                   format_timestamp(u.start), format_timestamp(u.end),
                                   curve.source(), format_timestamp(curve.start()),
                                   format_timestamp(curve.end())));
  if (curve.kind() && kind_ && *curve.kind() != *kind_)
    throw InvalidInput(fmt::format(
        "usage of pod {}: {} is {} intensity but the ledger holds {}: an account never mixes "
        "kinds",
        u.pod, curve.source(), to_string(*curve.kind()), to_string(*kind_)));
  if (curve.kind()) kind_ = curve.kind();
  auto limit = limits_.find(u.namespace_name);
  for (std::int64_t a = u.start; a < u.end;) {
    const std::int64_t day = floor_div(a, kDay);
    const std::int64_t b = std::min(u.end, (day + 1) * kDay);
    CarbonTotals t;
    t.seconds = b - a;
    const double hours = static_cast<double>(b - a) / kSecondsPerHour;
    t.energy_kwh = u.watts / 1000.0 * hours;
    t.operational_g = u.watts / 1000.0 * curve.integral(a, b) / kSecondsPerHour;
    t.embodied_g = u.embodied_g_per_hour * hours;

    if (limit != limits_.end()) {
      const auto key = std::make_pair(u.namespace_name, day);
      const double limit_g = limit->second * kGramsPerKg;
      const auto found = days_.find(Key{LedgerScope::kNamespace, u.namespace_name, day});
      const double before = found == days_.end() ? 0.0 : found->second.total_g();
      if (!exceeded_at_.count(key) && before + t.total_g() > limit_g) {
        // Walk the curve's cells to the second the total reached the limit.
        double used = before;
        const std::int64_t step = curve.step_seconds();
        for (std::int64_t c = a; c < b;) {
          const std::int64_t cell_end =
              std::min(b, curve.start() + (floor_div(c - curve.start(), step) + 1) * step);
          const double rate =
              (u.watts / 1000.0 * curve.at(c) + u.embodied_g_per_hour) / kSecondsPerHour;  // g/s
          const double g = rate * static_cast<double>(cell_end - c);
          if (used + g > limit_g && rate > 0) {
            const double secs = (limit_g - used) / rate;
            exceeded_at_[key] =
                std::min(cell_end, c + static_cast<std::int64_t>(std::ceil(std::max(0.0, secs))));
            break;
          }
          used += g;
          c = cell_end;
        }
        if (!exceeded_at_.count(key)) exceeded_at_[key] = b;  // rounding at the very end
      }
    }
    add(LedgerScope::kPod, u.pod, day, t);
    add(LedgerScope::kNamespace, u.namespace_name, day, t);
    add(LedgerScope::kTenant, u.tenant, day, t);
    add(LedgerScope::kZone, u.zone, day, t);
    a = b;
  }
}

CarbonTotals Ledger::day(LedgerScope scope, std::string_view name, std::int64_t t) const {
  auto it = days_.find(Key{scope, std::string(name), floor_div(t, kDay)});
  return it == days_.end() ? CarbonTotals{} : it->second;
}

CarbonTotals Ledger::month(LedgerScope scope, std::string_view name, int year, int month) const {
  if (month < 1 || month > 12)
    throw InvalidInput(fmt::format("ledger: month {} is not 1..12", month));
  const std::int64_t first = days_from_civil(year, month, 1);
  const std::int64_t next =
      month == 12 ? days_from_civil(year + 1, 1, 1) : days_from_civil(year, month + 1, 1);
  CarbonTotals sum;
  const std::string n(name);
  for (auto it = days_.lower_bound(Key{scope, n, first});
       it != days_.end() && std::get<0>(it->first) == scope && std::get<1>(it->first) == n &&
       std::get<2>(it->first) < next;
       ++it)
    sum += it->second;
  return sum;
}

CarbonTotals Ledger::total(LedgerScope scope, std::string_view name) const {
  CarbonTotals sum;
  const std::string n(name);
  for (auto it = days_.lower_bound(Key{scope, n, std::numeric_limits<std::int64_t>::min()});
       it != days_.end() && std::get<0>(it->first) == scope && std::get<1>(it->first) == n; ++it)
    sum += it->second;
  return sum;
}

std::vector<std::string> Ledger::names(LedgerScope scope) const {
  std::vector<std::string> out;
  for (const auto& [key, totals] : days_)
    if (std::get<0>(key) == scope && (out.empty() || out.back() != std::get<1>(key)))
      out.push_back(std::get<1>(key));
  return out;
}

BudgetStatus Ledger::budget(std::string_view namespace_name, std::int64_t t) const {
  BudgetStatus s;
  s.namespace_name = std::string(namespace_name);
  s.day_start = utc_day_start(t);
  s.used_kg = day(LedgerScope::kNamespace, namespace_name, t).total_g() / kGramsPerKg;
  if (auto limit = daily_limit(namespace_name)) {
    s.limit_kg = *limit;
    s.fraction = s.used_kg / s.limit_kg;
    s.exceeded = s.used_kg > s.limit_kg;
    auto it = exceeded_at_.find(std::make_pair(s.namespace_name, floor_div(t, kDay)));
    if (it != exceeded_at_.end()) s.exceeded_at = it->second;
  }
  return s;
}

std::vector<BudgetStatus> Ledger::budgets(std::int64_t t) const {
  std::vector<BudgetStatus> out;
  for (const auto& [ns, kg] : limits_) out.push_back(budget(ns, t));
  return out;
}

AccountingResult account_interval(Ledger& ledger, std::span<const Node> nodes,
                                  std::span<const Pod> pods, const ZoneMap& zones,
                                  std::span<const ZoneCurve> curves, std::int64_t t0,
                                  std::int64_t t1, const AccountingOptions& options,
                                  const std::map<std::string, PodUsage, std::less<>>* measured) {
  constexpr std::size_t kMaxSkipped = 100;
  if (t1 < t0)
    throw InvalidInput(fmt::format("accounting interval: end {} is before start {}",
                                   format_timestamp(t1), format_timestamp(t0)));
  std::map<std::string_view, const IntensityCurve*> by_zone;
  for (const ZoneCurve& z : curves)
    if (!by_zone.emplace(z.zone, z.curve).second)
      throw InvalidInput(fmt::format("accounting: zone \"{}\" given twice", z.zone));
  std::map<std::string_view, std::vector<const Pod*>> by_node;
  AccountingResult result;
  auto skip = [&](const Pod& p, const std::string& why) {
    ++result.pods_skipped;
    if (result.skipped.size() < kMaxSkipped) result.skipped.push_back(p.key() + ": " + why);
  };
  for (const Pod& p : pods)
    if (p.counts_as_usage()) by_node[p.node_name].push_back(&p);
  std::vector<PodUsage> usage;
  Attribution a;
  std::set<std::string_view> seen;
  for (const Node& node : nodes)
    if (!seen.insert(node.name).second)
      throw InvalidInput(fmt::format("accounting: node {} given twice", node.name));
  for (const Node& node : nodes) {
    auto it = by_node.find(node.name);
    const std::vector<const Pod*> none;
    const std::vector<const Pod*>& on_node = it == by_node.end() ? none : it->second;
    const std::string zone(zones.zone_for(node.labels));
    auto curve = zone.empty() ? by_zone.end() : by_zone.find(zone);
    if (curve == by_zone.end() || !curve->second) {
      for (const Pod* p : on_node)
        skip(*p, zone.empty() ? fmt::format("node {} has no grid zone", node.name)
                              : fmt::format("zone {} of node {} has no curve", zone, node.name));
      if (it != by_node.end()) by_node.erase(it);
      continue;
    }
    const NodePowerModel model = node_power_model(node, options.base);
    usage.clear();
    for (const Pod* p : on_node) {
      const PodUsage* m = nullptr;
      if (measured) {
        auto found = measured->find(p->key());
        if (found != measured->end()) m = &found->second;
      }
      usage.push_back(m ? *m : requested_usage(*p, options.gpu_utilisation));
    }
    attribute(model, usage, options.idle, a);
    for (std::size_t i = 0; i < on_node.size(); ++i) {
      const Pod& p = *on_node[i];
      ledger.record({p.key(), p.namespace_name, tenant_of(p), zone, t0, t1, a.pod_watts[i],
                     a.pod_embodied_g_per_hour[i]},
                    *curve->second);
      ++result.pods_booked;
    }
    if (options.book_idle && (a.idle_watts > 0 || a.idle_embodied_g_per_hour > 0)) {
      const std::string ns(kIdleNamespace);
      ledger.record(
          {ns + "/" + node.name, ns, "", zone, t0, t1, a.idle_watts, a.idle_embodied_g_per_hour},
          *curve->second);
    }
    result.node_watts += a.node_watts;
    if (it != by_node.end()) by_node.erase(it);
  }
  for (const auto& [node, on_node] : by_node)
    for (const Pod* p : on_node) skip(*p, fmt::format("node {} is unknown", node));
  return result;
}

std::string_view to_string(BudgetAction action) noexcept {
  switch (action) {
    case BudgetAction::kNone:
      return "none";
    case BudgetAction::kPreferGreener:
      return "prefer-greener";
    case BudgetAction::kDefer:
      return "defer";
  }
  return "unknown";
}

BudgetAdvice budget_advice(const BudgetStatus& status, const CarbonBudget& budget, bool deferrable,
                           double warn_fraction) {
  if (!std::isfinite(warn_fraction) || warn_fraction <= 0)
    throw InvalidInput(fmt::format("budget advice: warn_fraction {} must be > 0", warn_fraction));
  BudgetAdvice a;
  if (!std::isfinite(status.limit_kg)) {
    a.reason = fmt::format("namespace {} has no daily carbon limit", status.namespace_name);
    return a;
  }
  const std::string used =
      fmt::format("namespace {} used {:.3f} of {:.3f} kg today ({:.0f}%)", status.namespace_name,
                  status.used_kg, status.limit_kg, 100.0 * status.fraction);
  if (status.exceeded && deferrable) {
    a.action = BudgetAction::kDefer;
    a.max_intensity_g_per_kwh = budget.green_threshold_g_per_kwh;
    a.reason =
        used + ": over budget, deferrable work waits for tomorrow's budget or a greener hour";
  } else if (status.exceeded || status.fraction >= warn_fraction) {
    a.action = BudgetAction::kPreferGreener;
    a.max_intensity_g_per_kwh = budget.green_threshold_g_per_kwh;
    a.reason =
        used + fmt::format(": {} budget, prefer zones at or under {} g/kWh",
                           status.exceeded ? "over" : "near", budget.green_threshold_g_per_kwh);
  } else {
    a.reason = used + ": within budget";
  }
  return a;
}

PlannedJob defer_for_budget(PlannedJob job, const BudgetAdvice& advice) {
  if (advice.action != BudgetAction::kDefer) return job;
  const std::int64_t next_day = utc_day_start(job.arrival) + kDay;
  if (next_day + job.duration_seconds <= job.deadline) job.arrival = next_day;
  return job;
}

double sci(const CarbonTotals& totals, double functional_units) {
  if (!std::isfinite(functional_units) || functional_units <= 0)
    throw InvalidInput(
        fmt::format("SCI: functional units {} must be a finite number > 0", functional_units));
  return totals.total_g() / functional_units;
}

CARBONKUBE_NAMESPACE_END
