// The C ABI's migration advisor and Prometheus metrics (carbonkube.h,
// "Migration advisor" and "Metrics") over migration.hpp and metrics.hpp.
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "carbonkube.h"
#include "carbonkube/conditions.hpp"
#include "carbonkube/metrics.hpp"
#include "carbonkube/migration.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/qos.hpp"
#include "internal.hpp"

using namespace carbonkube::capi;

static_assert(static_cast<int>(carbonkube::MigrationPolicy::kDisabled) == CK_MIGRATION_DISABLED);
static_assert(static_cast<int>(carbonkube::MigrationPolicy::kConservative) ==
              CK_MIGRATION_CONSERVATIVE);
static_assert(static_cast<int>(carbonkube::MigrationReason::kFinished) == CK_MIGRATION_FINISHED);
static_assert(static_cast<int>(carbonkube::MigrationReason::kCooldown) == CK_MIGRATION_COOLDOWN);

struct ck_metrics {
  carbonkube::EngineMetrics metrics;
  std::optional<carbonkube::Ledger> ledger;  // a copy: the caller's may change or go
};

namespace {

ck_migration_advisor* make_advisor(ck::MigrationOptions options) {
  return new ck_migration_advisor{ck::MigrationAdvisor(std::move(options)), {}};
}

}  // namespace

CK_API ck_status ck_migration_advisor_create(ck_migration_advisor** out,
                                             const ck_migration_options* options) {
  return guard("ck_migration_advisor_create", [&] {
    require(out, "out");
    static const ck_migration_options kDefaults = CK_MIGRATION_OPTIONS_INIT;
    const ck_migration_options o =
        options_arg(options, kDefaults, sizeof(ck_migration_options), "ck_migration_options");
    ck::MigrationOptions m;
    m.settings.enabled = o.enabled != 0;
    m.settings.max_per_hour = o.max_per_hour;
    m.settings.cooldown_seconds = o.cooldown_seconds;
    m.horizon_seconds = o.horizon_seconds;
    m.aggressive_min_fraction = o.aggressive_min_fraction;
    m.conservative_min_fraction = o.conservative_min_fraction;
    m.min_saving_g = o.min_saving_g;
    *out = make_advisor(std::move(m));
  });
}

CK_API ck_status ck_migration_advisor_create_from_profile(ck_migration_advisor** out,
                                                          const char* text, size_t text_len,
                                                          const char* source) {
  return guard("ck_migration_advisor_create_from_profile", [&] {
    require(out, "out");
    const ck::CarbonProfile profile =
        ck::parse_carbon_profile(text_arg(text, text_len, "text"), source ? source : "profile");
    *out = make_advisor(ck::migration_options(profile));
  });
}

CK_API void ck_migration_advisor_free(ck_migration_advisor* advisor) { delete advisor; }

CK_API ck_status ck_migration_advise(ck_migration_recommendation* out, size_t out_len,
                                     ck_migration_advisor* advisor, int64_t now,
                                     const ck_migration_candidate* candidates, size_t count,
                                     const ck_zone_outlook* zones, size_t zone_count) {
  return guard("ck_migration_advise", [&] {
    require(advisor, "advisor");
    if (count > 0) require(candidates, "candidates");
    if (zone_count > 0) require(zones, "zones");
    if (count > 0) require(out, "out");
    check_capacity(out_len, count, "out");
    static const ck_migration_candidate kDefaults = CK_MIGRATION_CANDIDATE_INIT;
    std::vector<ck::MigrationCandidate> cs;
    cs.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const ck_migration_candidate c = options_arg(
          &candidates[i], kDefaults, sizeof(ck_migration_candidate), "ck_migration_candidate");
      if (c.policy < CK_MIGRATION_AGGRESSIVE || c.policy > CK_MIGRATION_DISABLED)
        fail(CK_ERROR_INVALID_ARGUMENT,
             fmt::format("candidates[{}].policy {} is not a ck_migration_policy (0..2)", i,
                         c.policy));
      ck::MigrationCandidate m;
      m.pod = std::string(cstr_arg(c.pod, "candidate pod"));
      m.zone = std::string(cstr_arg(c.zone, "candidate zone"));
      m.power_kw = c.power_kw;
      m.remaining_seconds = c.remaining_seconds;
      m.restart_seconds = c.restart_seconds;
      m.lost_work_seconds = c.lost_work_seconds;
      m.policy = static_cast<ck::MigrationPolicy>(c.policy);
      cs.push_back(std::move(m));
    }
    std::vector<ck::IntensityCurve> curves;
    curves.reserve(zone_count);
    std::vector<ck::ZoneOutlook> outlooks;
    for (std::size_t z = 0; z < zone_count; ++z) {
      const ck_zone_outlook& o = zones[z];
      const std::string_view name = cstr_arg(o.zone, "zone outlook's zone");
      if (o.count > 0) require(o.values, "zone outlook's values");
      curves.emplace_back(o.start, o.step_seconds,
                          std::vector<double>(o.values, o.values + o.count),
                          fmt::format("outlook of zone {}", name));
      outlooks.push_back({std::string(name), &curves.back()});
    }
    std::vector<ck::MigrationRecommendation> round = advisor->advisor.advise(now, cs, outlooks);
    for (std::size_t i = 0; i < round.size(); ++i) {
      const ck::MigrationRecommendation& r = round[i];
      std::int32_t to = -1;
      for (std::size_t z = 0; z < outlooks.size(); ++z)
        if (!r.to_zone.empty() && outlooks[z].zone == r.to_zone) to = static_cast<std::int32_t>(z);
      out[i] = {r.recommended ? 1 : 0,
                static_cast<std::int32_t>(r.reason),
                to,
                0,
                r.horizon_seconds,
                r.stay_g,
                r.move_g,
                r.move_cost_g,
                r.net_saving_g,
                r.saving_fraction};
    }
    advisor->last_round = std::move(round);
  });
}

CK_API ck_status ck_migration_detail(size_t* out_len, char* buffer, size_t buffer_len,
                                     const ck_migration_advisor* advisor, size_t i) {
  return guard("ck_migration_detail", [&] {
    require(advisor, "advisor");
    if (i >= advisor->last_round.size())
      fail(CK_ERROR_NOT_FOUND, fmt::format("the last round has {} recommendations, not {}",
                                           advisor->last_round.size(), i + 1));
    copy_out_string(out_len, buffer, buffer_len, advisor->last_round[i].detail);
  });
}

CK_API ck_status ck_migration_record(ck_migration_advisor* advisor, const char* pod, size_t pod_len,
                                     int64_t t) {
  return guard("ck_migration_record", [&] {
    require(advisor, "advisor");
    const std::string_view p = text_arg(pod, pod_len, "pod");
    if (p.empty()) fail(CK_ERROR_INVALID_INPUT, "the pod is empty");
    advisor->advisor.record_migration(p, t);
  });
}

CK_API int32_t ck_migration_count_last_hour(const ck_migration_advisor* advisor, int64_t now) {
  return advisor ? advisor->advisor.migrations_in_last_hour(now) : 0;
}

CK_API const char* ck_migration_reason_name(int32_t reason) {
  if (reason < CK_MIGRATION_RECOMMENDED || reason > CK_MIGRATION_FINISHED) return "unknown";
  // to_string gives views of string literals: NUL-terminated, static.
  return ck::to_string(static_cast<ck::MigrationReason>(reason)).data();
}

// ---------------------------------------------------------------------------
// Metrics

CK_API ck_status ck_metrics_create(ck_metrics** out) {
  return guard("ck_metrics_create", [&] {
    require(out, "out");
    *out = new ck_metrics();
  });
}

CK_API void ck_metrics_free(ck_metrics* metrics) { delete metrics; }

CK_API ck_status ck_metrics_set_snapshot(ck_metrics* metrics, const ck_snapshot* snapshot) {
  return guard("ck_metrics_set_snapshot", [&] {
    require(metrics, "metrics");
    require(snapshot, "snapshot");
    const ck::ZoneMap* zones = snapshot_zones(snapshot);
    const ck::ClusterConditions* conditions = snapshot_conditions(snapshot);
    if (zones == nullptr || conditions == nullptr || conditions->intensities.usable.empty())
      fail(CK_ERROR_INVALID_ARGUMENT,
           "the snapshot has no carbon data (publish it with signals and an engine zone map)");
    metrics->metrics.zones = ck::zone_intensity_metrics(*zones, conditions->intensities);
  });
}

CK_API ck_status ck_metrics_set_ledger(ck_metrics* metrics, const ck_ledger* ledger, int64_t now) {
  return guard("ck_metrics_set_ledger", [&] {
    require(metrics, "metrics");
    require(ledger, "ledger");
    metrics->ledger = ledger->ledger;
    metrics->metrics.ledger = &*metrics->ledger;
    metrics->metrics.budgets = ledger->ledger.budgets(now);
  });
}

CK_API ck_status ck_metrics_count_migrations(ck_metrics* metrics,
                                             const ck_migration_advisor* advisor) {
  return guard("ck_metrics_count_migrations", [&] {
    require(metrics, "metrics");
    require(advisor, "advisor");
    metrics->metrics.count_migrations(advisor->last_round);
  });
}

CK_API ck_status ck_metrics_count_decision(ck_metrics* metrics, const ck_snapshot* snapshot,
                                           const ck_pod* pod, int32_t scheduled) {
  return guard("ck_metrics_count_decision", [&] {
    require(metrics, "metrics");
    require(snapshot, "snapshot");
    require(pod, "pod");
    if (scheduled != 0 && scheduled != 1)
      fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("scheduled is {}; it must be 0 or 1", scheduled));
    const ck::QosProfileSet& profiles = snapshot_qos(snapshot);
    metrics->metrics.count_decision(ck::pod_carbon_qos(pod_object(pod), profiles), profiles,
                                    scheduled == 1);
  });
}

CK_API ck_status ck_metrics_set_qos_guarantee(ck_metrics* metrics, const char* namespace_name,
                                              const char* pod, const char* qos_class, int32_t met) {
  return guard("ck_metrics_set_qos_guarantee", [&] {
    require(metrics, "metrics");
    if (met != 0 && met != 1)
      fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("met is {}; it must be 0 or 1", met));
    ck::QosGuaranteeMetric m{std::string(cstr_arg(namespace_name, "namespace_name")),
                             std::string(cstr_arg(pod, "pod")),
                             std::string(cstr_arg(qos_class, "qos_class")), met == 1};
    for (ck::QosGuaranteeMetric& q : metrics->metrics.qos)
      if (q.namespace_name == m.namespace_name && q.pod == m.pod) {
        q = std::move(m);
        return;
      }
    metrics->metrics.qos.push_back(std::move(m));
  });
}

CK_API ck_status ck_metrics_render(size_t* out_len, char* buffer, size_t buffer_len,
                                   const ck_metrics* metrics) {
  return guard("ck_metrics_render", [&] {
    require(metrics, "metrics");
    copy_out_string(out_len, buffer, buffer_len, ck::render_prometheus(metrics->metrics));
  });
}
