// The C ABI's carbon ledger, budgets, budget hook and SCI (carbonkube.h,
// "Carbon ledger, daily budgets and SCI") over ledger.hpp and energy.hpp.
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include "carbonkube.h"
#include "carbonkube/conditions.hpp"
#include "carbonkube/energy.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/ledger.hpp"
#include "carbonkube/planner.hpp"
#include "internal.hpp"

using namespace carbonkube::capi;

static_assert(static_cast<int>(carbonkube::LedgerScope::kZone) == CK_SCOPE_ZONE);
static_assert(static_cast<int>(carbonkube::LedgerScope::kTenant) == CK_SCOPE_TENANT);
static_assert(static_cast<int>(carbonkube::BudgetAction::kDefer) == CK_BUDGET_DEFER);
static_assert(static_cast<int>(carbonkube::BudgetAction::kPreferGreener) ==
              CK_BUDGET_PREFER_GREENER);
static_assert(static_cast<int>(carbonkube::IdleAttribution::kProportional) == CK_IDLE_PROPORTIONAL);

namespace carbonkube::capi {

void apply_ledger_budgets(ck::ClusterConditions& conditions, const ck_ledger& ledger) {
  conditions.set_budgets(ledger.ledger, ledger.profiles, ledger.warn_fraction);
}

}  // namespace carbonkube::capi

namespace {

ck::LedgerScope scope_arg(const ck_ledger_scope& scope) {
  const std::int32_t s = enum_arg(scope);
  if (s < CK_SCOPE_POD || s > CK_SCOPE_ZONE)
    fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("scope {} is not a ck_ledger_scope (0..3)", s));
  return static_cast<ck::LedgerScope>(s);
}

ck_carbon_totals totals_out(const ck::CarbonTotals& t) {
  return {t.energy_kwh, t.operational_g, t.embodied_g, t.total_g(), t.seconds};
}

ck::UsageRecord usage_arg(const ck_usage_record* usage) {
  require(usage, "usage");
  static const ck_usage_record kDefaults = CK_USAGE_RECORD_INIT;
  const ck_usage_record u =
      options_arg(usage, kDefaults, sizeof(ck_usage_record), "ck_usage_record");
  ck::UsageRecord r;
  r.pod = std::string(cstr_arg(u.pod, "usage->pod"));
  r.namespace_name = std::string(cstr_arg(u.namespace_name, "usage->namespace_name"));
  r.tenant = u.tenant ? u.tenant : "";
  r.zone = std::string(cstr_arg(u.zone, "usage->zone"));
  r.start = u.start;
  r.end = u.end;
  r.watts = u.watts;
  r.embodied_g_per_hour = u.embodied_g_per_hour;
  return r;
}

// The zone's history as a curve: resampled hourly, gaps filled, its kind.
ck::IntensityCurve history_curve(const ck::CarbonSignals& signals, std::string_view zone) {
  const ck::ZoneSeries* series = signals.find(zone);
  if (series == nullptr || series->points.empty())
    fail(CK_ERROR_NOT_FOUND, fmt::format("zone \"{}\" has no carbon data", zone));
  return ck::IntensityCurve::from_grid(ck::resample(*series));
}

}  // namespace

CK_API ck_status ck_ledger_create(ck_ledger** out, const ck_ledger_options* options) {
  return guard("ck_ledger_create", [&] {
    require(out, "out");
    static const ck_ledger_options kDefaults = CK_LEDGER_OPTIONS_INIT;
    const ck_ledger_options o =
        options_arg(options, kDefaults, sizeof(ck_ledger_options), "ck_ledger_options");
    if (o.idle_attribution != CK_IDLE_SEPARATE && o.idle_attribution != CK_IDLE_PROPORTIONAL)
      fail(CK_ERROR_INVALID_ARGUMENT,
           fmt::format("idle_attribution {} is not a ck_idle_attribution (0..1)",
                       o.idle_attribution));
    if (!std::isfinite(o.gpu_utilisation) || o.gpu_utilisation < 0 || o.gpu_utilisation > 1)
      fail(CK_ERROR_INVALID_INPUT,
           fmt::format("ck_ledger_options.gpu_utilisation {} must be in 0..1", o.gpu_utilisation));
    if (!std::isfinite(o.warn_fraction) || o.warn_fraction <= 0)
      fail(CK_ERROR_INVALID_INPUT,
           fmt::format("ck_ledger_options.warn_fraction {} must be finite and > 0",
                       o.warn_fraction));
    auto ledger = std::make_unique<ck_ledger>();
    ck::NodePowerModel& m = ledger->accounting.base;
    m.idle_watts_per_vcpu = o.base.idle_watts_per_vcpu;
    m.max_watts_per_vcpu = o.base.max_watts_per_vcpu;
    m.memory_watts_per_gb = o.base.memory_watts_per_gb;
    m.gpu_idle_watts = o.base.gpu_idle_watts;
    m.gpu_max_watts = o.base.gpu_max_watts;
    m.pue = o.base.pue;
    m.embodied_kg = o.base.embodied_kg;
    m.lifetime_years = o.base.lifetime_years;
    m.validate("ck_ledger_options.base");
    ledger->accounting.idle = static_cast<ck::IdleAttribution>(o.idle_attribution);
    ledger->accounting.book_idle = o.book_idle != 0;
    ledger->accounting.gpu_utilisation = o.gpu_utilisation;
    ledger->warn_fraction = o.warn_fraction;
    *out = ledger.release();
  });
}

CK_API void ck_ledger_free(ck_ledger* ledger) { delete ledger; }

CK_API ck_status ck_ledger_set_daily_limit(ck_ledger* ledger, const char* namespace_name,
                                           size_t namespace_len, double kg) {
  return guard("ck_ledger_set_daily_limit", [&] {
    require(ledger, "ledger");
    const std::string_view ns = text_arg(namespace_name, namespace_len, "namespace_name");
    if (ns.empty()) fail(CK_ERROR_INVALID_INPUT, "the namespace is empty");
    ledger->ledger.set_daily_limit(ns, kg);
  });
}

CK_API ck_status ck_ledger_set_profile(ck_ledger* ledger, const char* text, size_t text_len,
                                       const char* source) {
  return guard("ck_ledger_set_profile", [&] {
    require(ledger, "ledger");
    ck::CarbonProfile profile =
        ck::parse_carbon_profile(text_arg(text, text_len, "text"), source ? source : "profile");
    ledger->ledger.set_budget(profile);
    for (ck::CarbonProfile& p : ledger->profiles)
      if (p.namespace_name == profile.namespace_name) {
        p = std::move(profile);
        return;
      }
    ledger->profiles.push_back(std::move(profile));
  });
}

CK_API ck_status ck_ledger_record(ck_ledger* ledger, const ck_usage_record* usage,
                                  int64_t curve_start, int64_t step_seconds, const double* values,
                                  size_t count, int32_t kind) {
  return guard("ck_ledger_record", [&] {
    require(ledger, "ledger");
    if (count > 0) require(values, "values");
    if (kind < -1 || kind > CK_KIND_MARGINAL_LIFECYCLE)
      fail(CK_ERROR_INVALID_ARGUMENT,
           fmt::format("kind {} is not a ck_intensity_kind (0..3) or -1", kind));
    const ck::UsageRecord u = usage_arg(usage);
    ck::IntensityCurve curve(curve_start, step_seconds, std::vector<double>(values, values + count),
                             "ck_ledger_record curve");
    if (kind >= 0) curve.set_kind(static_cast<ck::IntensityKind>(kind));
    ledger->ledger.record(u, curve);
  });
}

CK_API ck_status ck_ledger_record_signals(ck_ledger* ledger, const ck_usage_record* usage,
                                          const ck_signals* signals) {
  return guard("ck_ledger_record_signals", [&] {
    require(ledger, "ledger");
    require(signals, "signals");
    const ck::UsageRecord u = usage_arg(usage);
    ledger->ledger.record(u, history_curve(*signals->current, u.zone));
  });
}

CK_API ck_status ck_ledger_account(ck_account_result* out, ck_ledger* ledger,
                                   const ck_engine* engine, const ck_signals* signals,
                                   const ck_cluster* cluster, const char* objects,
                                   size_t objects_len, const char* source, int64_t t0, int64_t t1) {
  return guard("ck_ledger_account", [&] {
    require(out, "out");
    require(ledger, "ledger");
    require(engine, "engine");
    require(signals, "signals");
    const ck::ZoneMap* zones = engine_zones(engine);
    if (zones == nullptr)
      fail(CK_ERROR_INVALID_ARGUMENT, "the engine has no zone map: nodes have no grid zone");
    const ck::KubeObjects parsed =
        ck::parse_kube_objects(text_arg(objects, objects_len, "objects"),
                               source ? source : "objects", cluster_limits(cluster));
    // A curve for every zone of the map that has data.
    std::vector<ck::IntensityCurve> curves;
    std::vector<ck::ZoneCurve> zone_curves;
    curves.reserve(zones->zones().size());
    for (const std::string& zone : zones->zones()) {
      const ck::ZoneSeries* series = signals->current->find(zone);
      if (series == nullptr || series->points.empty()) continue;
      curves.push_back(ck::IntensityCurve::from_grid(ck::resample(*series)));
    }
    std::size_t k = 0;
    for (const std::string& zone : zones->zones()) {
      const ck::ZoneSeries* series = signals->current->find(zone);
      if (series == nullptr || series->points.empty()) continue;
      zone_curves.push_back({zone, &curves[k++]});
    }
    const ck::AccountingResult r = ck::account_interval(
        ledger->ledger, parsed.nodes, parsed.pods, *zones, zone_curves, t0, t1, ledger->accounting);
    std::string skipped;
    for (const std::string& s : r.skipped) skipped += s + "\n";
    ledger->skipped = std::move(skipped);
    *out = {r.pods_booked, r.pods_skipped, r.node_watts};
  });
}

CK_API ck_status ck_ledger_skipped(size_t* out_len, char* buffer, size_t buffer_len,
                                   const ck_ledger* ledger) {
  return guard("ck_ledger_skipped", [&] {
    require(ledger, "ledger");
    copy_out_string(out_len, buffer, buffer_len, ledger->skipped);
  });
}

CK_API ck_status ck_ledger_day(ck_carbon_totals* out, const ck_ledger* ledger,
                               ck_ledger_scope scope, const char* name, size_t name_len,
                               int64_t t) {
  return guard("ck_ledger_day", [&] {
    require(out, "out");
    require(ledger, "ledger");
    *out = totals_out(ledger->ledger.day(scope_arg(scope), text_arg(name, name_len, "name"), t));
  });
}

CK_API ck_status ck_ledger_month(ck_carbon_totals* out, const ck_ledger* ledger,
                                 ck_ledger_scope scope, const char* name, size_t name_len,
                                 int32_t year, int32_t month) {
  return guard("ck_ledger_month", [&] {
    require(out, "out");
    require(ledger, "ledger");
    if (month < 1 || month > 12)
      fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("month {} is not 1..12", month));
    *out = totals_out(
        ledger->ledger.month(scope_arg(scope), text_arg(name, name_len, "name"), year, month));
  });
}

CK_API ck_status ck_ledger_total(ck_carbon_totals* out, const ck_ledger* ledger,
                                 ck_ledger_scope scope, const char* name, size_t name_len) {
  return guard("ck_ledger_total", [&] {
    require(out, "out");
    require(ledger, "ledger");
    *out = totals_out(ledger->ledger.total(scope_arg(scope), text_arg(name, name_len, "name")));
  });
}

CK_API ck_status ck_sci(double* out, const ck_carbon_totals* totals, double functional_units) {
  return guard("ck_sci", [&] {
    require(out, "out");
    require(totals, "totals");
    ck::CarbonTotals t;
    t.energy_kwh = totals->energy_kwh;
    t.operational_g = totals->operational_g;
    t.embodied_g = totals->embodied_g;
    t.seconds = totals->seconds;
    for (double v : {t.operational_g, t.embodied_g})
      if (!std::isfinite(v) || v < 0)
        fail(CK_ERROR_INVALID_INPUT,
             fmt::format("SCI: totals must be finite and >= 0 (got {} g)", v));
    *out = ck::sci(t, functional_units);
  });
}

CK_API ck_status ck_ledger_budget(ck_budget_status* out, const ck_ledger* ledger,
                                  const char* namespace_name, size_t namespace_len, int64_t t) {
  return guard("ck_ledger_budget", [&] {
    require(out, "out");
    require(ledger, "ledger");
    const ck::BudgetStatus b =
        ledger->ledger.budget(text_arg(namespace_name, namespace_len, "namespace_name"), t);
    *out = {b.day_start,
            b.limit_kg,
            b.used_kg,
            b.fraction,
            b.exceeded ? 1 : 0,
            b.exceeded_at ? 1 : 0,
            b.exceeded_at.value_or(0)};
  });
}

CK_API ck_status ck_snapshot_budget_advice(ck_budget_advice* out, size_t* out_reason_len,
                                           char* reason, size_t reason_len,
                                           const ck_snapshot* snapshot, const ck_pod* pod) {
  return guard("ck_snapshot_budget_advice", [&] {
    require(out, "out");
    require(snapshot, "snapshot");
    require(pod, "pod");
    const ck::ClusterConditions* conditions = snapshot_conditions(snapshot);
    const ck::Pod& p = pod_object(pod);
    ck::BudgetAdvice advice;
    ck::PodBudget budget;
    if (conditions) {
      budget = conditions->pod_budget(p);
      if (out_reason_len) advice = conditions->pod_budget_advice(p);
    } else if (out_reason_len) {
      advice.reason =
          fmt::format("namespace {} has no daily carbon limit in this snapshot", p.namespace_name);
    }
    if (out_reason_len) copy_out_string(out_reason_len, reason, reason_len, advice.reason);
    *out = {static_cast<std::int32_t>(budget.action), budget.max_intensity_g_per_kwh,
            budget.defer_until};
  });
}
