// carbonkube_capi.cpp: the C ABI (carbonkube.h) over the C++ API. Every
// exported function is a thin shell: check arguments, call the C++ API inside
// guard() (which turns every exception into a status and a thread-local
// message), copy results into caller memory. Handles wrap shared, immutable
// C++ objects so that a snapshot or context may outlive the handle it came
// from.
#include "carbonkube.h"
#include "internal.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"
#include "carbonkube/version.hpp"

namespace ck = carbonkube;

// The C enums pin the C++ enums' values.
static_assert(static_cast<int>(ck::IntensityKind::kMarginalLifecycle) ==
              CK_KIND_MARGINAL_LIFECYCLE);
static_assert(static_cast<int>(ck::ReadingStatus::kIncompleteWindow) ==
              CK_READING_INCOMPLETE_WINDOW);
static_assert(static_cast<int>(ck::ReadingStatus::kStale) == CK_READING_STALE);
static_assert(static_cast<int>(ck::QosDecisionReason::kNoDataUnassigned) ==
              CK_DECISION_NO_DATA_UNASSIGNED);
static_assert(static_cast<int>(ck::QosDecisionReason::kMovedDirtier) == CK_DECISION_MOVED_DIRTIER);
static_assert(static_cast<int>(ck::SignalFormat::kElectricityMapsCsv) ==
              CK_SIGNALS_ELECTRICITYMAPS_CSV);
static_assert(static_cast<int>(ck::SignalFormat::kCarbonAwareSdkJson) ==
              CK_SIGNALS_CARBON_AWARE_SDK_JSON);

using namespace carbonkube::capi;

namespace {

// ---------------------------------------------------------------------------
// Shared state behind the handles

struct EngineState {
  std::vector<ck::Scheduler> schedulers;  // one per profile, configuration order
  ck::QosProfileSet qos = ck::QosProfileSet::defaults();
  std::optional<ck::ZoneMap> zones;
  ck::SignalPolicy policy;
  ck::ParseLimits limits;  // ck_engine_options.limits: the Pods parsed for it

  std::size_t profile_for(const ck::Pod& pod, std::size_t requested) const {
    if (requested != CK_PROFILE_BY_SCHEDULER_NAME) return requested;
    for (std::size_t i = 0; i < schedulers.size(); ++i)
      if (schedulers[i].profile().scheduler_name() == pod.scheduler_name) return i;
    return 0;
  }
};

struct SnapshotState {
  std::shared_ptr<const EngineState> engine;
  ck::SnapshotPtr snapshot;
  std::shared_ptr<const ck::CarbonSignals> signals;  // kept alive for conditions
  std::optional<ck::TopologyTable> topology;
  ck::ClusterConditions conditions;
  bool carbon = false;   // conditions hold carbon data
  bool budgets = false;  // conditions hold namespace budget states
  std::int64_t at = 0;

  const ck::ClusterConditions* conditions_ptr() const {
    return carbon || topology || budgets ? &conditions : nullptr;
  }
};

}  // namespace

struct ck_engine {
  std::shared_ptr<const EngineState> state;
};

struct ck_cluster {
  ck::ClusterState state;
  std::map<std::string, ck::NodeTopology, std::less<>> topologies;  // by node name
  ck::ParseLimits limits;                                           // ck_cluster_set_limits
};

struct ck_snapshot {
  std::shared_ptr<const SnapshotState> state;
};

struct ck_pod {
  std::shared_ptr<const ck::CompiledPod> compiled;
};

struct ck_pod_list {
  std::vector<ck_pod> pods;
  std::vector<const ck_pod*> pointers;  // into pods, for ck_score_batch
};

struct ck_context {
  ck::ScoringContext scoring;
  // The last ck_score_pod, for explanations (cold path).
  std::shared_ptr<const SnapshotState> last_snapshot;
  std::shared_ptr<const ck::CompiledPod> last_pod;
  std::size_t last_profile = 0;
  ck::CycleResult last_result;
  mutable std::optional<ck::Explanation> explanation;

  explicit ck_context(std::uint64_t seed) : scoring(seed) {}
};

struct ck_reconciler {
  std::shared_ptr<const EngineState> engine;
  ck::QosReconciler reconciler;
};

namespace {

// ---------------------------------------------------------------------------
// Helpers

ck::QosProfileSet parse_qos_profiles(std::string_view text, const ck::ParseLimits& limits) {
  if (text.size() > limits.max_bytes)
    fail(CK_ERROR_LIMIT_EXCEEDED,
         fmt::format("qos_profiles: input is {} bytes, over the limit of {} bytes (max_bytes)",
                     text.size(), limits.max_bytes));
  // A CarbonProfile object says its kind; anything else is Helm values.
  YAML::Node doc = YAML::Load(std::string(text));
  if (doc.IsMap() && doc["kind"] && doc["kind"].IsScalar() &&
      doc["kind"].as<std::string>() == "CarbonProfile")
    return ck::parse_carbon_profile(text, "qos_profiles", limits).profiles;
  return ck::parse_helm_qos_profiles(text, "qos_profiles", limits);
}

// The ck_signal_format of a text (ck::detect_signal_format, the one rule).
std::int32_t detected_format(std::string_view text, const char* name) {
  const std::optional<ck::SignalFormat> f = ck::detect_signal_format(text, name ? name : "");
  if (!f)
    fail(CK_ERROR_INVALID_INPUT,
         fmt::format("{}: cannot tell the carbon data format (an Electricity Maps CSV, or "
                     "Electricity Maps, WattTime, UK Carbon Intensity or Carbon Aware SDK "
                     "JSON); name it",
                     name ? name : "signals"));
  return static_cast<std::int32_t>(*f);
}

ck::Quantity quantity_from_base(std::string_view resource, std::int64_t amount, const char* what) {
  if (amount < 0 || amount > ck::kMaxQuantityBaseUnits)
    fail(CK_ERROR_INVALID_INPUT,
         fmt::format("{} {}: {} is outside 0..2^53", what, resource, amount));
  const ck::Int128 scale = ck::is_milli_resource(resource) ? 1'000'000 : 1'000'000'000;
  return ck::Quantity{ck::Int128{amount} * scale};
}

ck::StringMap parse_label_list(std::string_view text, std::string_view node) {
  ck::StringMap labels;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      fail(CK_ERROR_INVALID_INPUT,
           fmt::format("node \"{}\": label \"{}\" is not key=value", node, item));
    labels.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  std::sort(labels.begin(), labels.end());
  for (std::size_t i = 1; i < labels.size(); ++i)
    if (labels[i].first == labels[i - 1].first)
      fail(CK_ERROR_INVALID_INPUT,
           fmt::format("node \"{}\": label \"{}\" appears twice", node, labels[i].first));
  return labels;
}

const char* c_string_arg(const char* const* array, std::size_t i, const char* what) {
  if (array == nullptr || array[i] == nullptr)
    fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("{}[{}] is NULL", what, i));
  return array[i];
}

void check_resource_columns(std::size_t resource_count, const char* const* names,
                            const std::int64_t* const* columns, const char* what) {
  if (resource_count == 0) return;
  require(names, fmt::format("{}.resource_names", what).c_str());
  require(columns, fmt::format("{} columns", what).c_str());
  for (std::size_t r = 0; r < resource_count; ++r) {
    if (names[r] == nullptr || names[r][0] == '\0')
      fail(CK_ERROR_INVALID_INPUT, fmt::format("{}.resource_names[{}] is empty", what, r));
    if (columns[r] == nullptr)
      fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("{} column {} ({}) is NULL", what, r, names[r]));
  }
}

void write_reading(ck_zone_reading* out, const ck::ZoneReading& r) {
  out->usable = r.usable ? 1 : 0;
  out->status = static_cast<std::int32_t>(r.reason);
  out->g_per_kwh = r.usable ? r.g_per_kwh : std::numeric_limits<double>::quiet_NaN();
  out->age_seconds = r.age_seconds;
  out->estimated = r.estimated ? 1 : 0;
  out->from_forecast = r.from_forecast ? 1 : 0;
  out->kind = static_cast<std::int32_t>(r.kind);
}

std::optional<ck::IntensityKind> kind_arg(std::int32_t kind) {
  if (kind == -1) return std::nullopt;
  if (kind < 0 || kind > 3)
    fail(CK_ERROR_INVALID_ARGUMENT,
         fmt::format("kind {} is not a ck_intensity_kind (0..3) or -1", kind));
  return static_cast<ck::IntensityKind>(kind);
}

const ck::Explanation& explanation_of(const ck_context* c) {
  if (!c->last_pod) fail(CK_ERROR_NOT_FOUND, "the context has scored no pod with ck_score_pod");
  if (!c->explanation) {
    const SnapshotState& s = *c->last_snapshot;
    c->explanation = ck::explain(s.engine->schedulers[c->last_profile], *s.snapshot, *c->last_pod,
                                 c->scoring, c->last_result, s.conditions_ptr());
  }
  return *c->explanation;
}

// Checks that engine, snapshot and pod belong together; returns the profile.
std::size_t check_cycle(const ck_engine* engine, const ck_snapshot* snapshot, const ck_pod* pod,
                        std::size_t requested_profile) {
  if (snapshot->state->engine != engine->state)
    fail(CK_ERROR_MISMATCH, "the snapshot was published for another engine");
  const ck::CompiledPod& cp = *pod->compiled;
  if (cp.resource_table_size != snapshot->state->snapshot->resources().size())
    fail(CK_ERROR_MISMATCH,
         fmt::format("pod {} was compiled against a snapshot with other resources; create it "
                     "again with ck_pod_create",
                     cp.key));
  const std::size_t profile = engine->state->profile_for(*cp.pod, requested_profile);
  if (profile >= engine->state->schedulers.size())
    fail(CK_ERROR_NOT_FOUND, fmt::format("profile {} does not exist (the engine has {})", profile,
                                         engine->state->schedulers.size()));
  return profile;
}

const ck::Profile* profile_at(const ck_engine* engine, std::size_t profile) {
  if (engine == nullptr || profile >= engine->state->schedulers.size()) return nullptr;
  return &engine->state->schedulers[profile].profile();
}

}  // namespace

// ---------------------------------------------------------------------------
// Version and errors

namespace carbonkube::capi {

const ck::ClusterConditions* snapshot_conditions(const ck_snapshot* snapshot) {
  return snapshot->state->conditions_ptr();
}
const ck::ZoneMap* snapshot_zones(const ck_snapshot* snapshot) {
  const auto& zones = snapshot->state->engine->zones;
  return zones ? &*zones : nullptr;
}
const ck::QosProfileSet& snapshot_qos(const ck_snapshot* snapshot) {
  return snapshot->state->engine->qos;
}
const ck::ZoneMap* engine_zones(const ck_engine* engine) {
  const auto& zones = engine->state->zones;
  return zones ? &*zones : nullptr;
}
const ck::Pod& pod_object(const ck_pod* pod) { return *pod->compiled->pod; }
ck::ParseLimits cluster_limits(const ck_cluster* cluster) {
  return cluster ? cluster->limits : ck::ParseLimits{};
}

}  // namespace carbonkube::capi

extern "C" {

CK_API uint32_t ck_version_number(void) { return static_cast<uint32_t>(ck::version_number()); }

CK_API const char* ck_version_string(void) { return ck::version_string(); }

CK_API const char* ck_last_error(void) { return t_last_error.c_str(); }

CK_API const char* ck_status_name(ck_status status) {
  switch (status) {
    case CK_OK:
      return "CK_OK";
    case CK_ERROR_INVALID_ARGUMENT:
      return "CK_ERROR_INVALID_ARGUMENT";
    case CK_ERROR_INVALID_INPUT:
      return "CK_ERROR_INVALID_INPUT";
    case CK_ERROR_LIMIT_EXCEEDED:
      return "CK_ERROR_LIMIT_EXCEEDED";
    case CK_ERROR_NOT_FOUND:
      return "CK_ERROR_NOT_FOUND";
    case CK_ERROR_BUFFER_TOO_SMALL:
      return "CK_ERROR_BUFFER_TOO_SMALL";
    case CK_ERROR_MISMATCH:
      return "CK_ERROR_MISMATCH";
    case CK_ERROR_OUT_OF_MEMORY:
      return "CK_ERROR_OUT_OF_MEMORY";
    case CK_ERROR_INTERNAL:
      return "CK_ERROR_INTERNAL";
  }
  return "CK_UNKNOWN_STATUS";
}

// ---------------------------------------------------------------------------
// Engine

CK_API ck_status ck_engine_create(ck_engine** out, const ck_engine_options* options) {
  return guard("ck_engine_create", [&] {
    require(out, "out");
    static const ck_engine_options kDefaults = CK_ENGINE_OPTIONS_INIT;
    const ck_engine_options o =
        // The first version ended before `limits`.
        options_arg(options, kDefaults, offsetof(ck_engine_options, limits), "ck_engine_options");
    auto state = std::make_shared<EngineState>();
    state->limits = limits_arg(o.limits);
    const std::string_view config =
        text_arg(o.scheduler_config, o.scheduler_config_len, "scheduler_config");
    const ck::SchedulerConfig parsed =
        o.scheduler_config == nullptr
            ? ck::parse_scheduler_config(ck::seed_profile_yaml(), "seed profile")
            : ck::parse_scheduler_config(config, "scheduler_config", state->limits);
    for (const auto& p : parsed.profiles)
      state->schedulers.emplace_back(ck::compile_profile(parsed, p.scheduler_name));
    if (o.qos_profiles != nullptr)
      state->qos = parse_qos_profiles(text_arg(o.qos_profiles, o.qos_profiles_len, "qos_profiles"),
                                      state->limits);
    if (o.zone_map != nullptr)
      state->zones = ck::ZoneMap::parse(text_arg(o.zone_map, o.zone_map_len, "zone_map"),
                                        "zone_map", state->limits);
    if (o.max_signal_age_seconds < 0)
      fail(CK_ERROR_INVALID_ARGUMENT,
           fmt::format("max_signal_age_seconds is {}; it must be >= 0", o.max_signal_age_seconds));
    if (o.max_signal_age_seconds > 0) state->policy.max_age_seconds = o.max_signal_age_seconds;
    if (!(o.max_g_per_kwh >= 0) || !std::isfinite(o.max_g_per_kwh))
      fail(CK_ERROR_INVALID_ARGUMENT,
           fmt::format("max_g_per_kwh is {}; it must be finite and >= 0", o.max_g_per_kwh));
    if (o.max_g_per_kwh > 0) state->policy.max_g_per_kwh = o.max_g_per_kwh;
    *out = new ck_engine{std::move(state)};
  });
}

CK_API void ck_engine_free(ck_engine* engine) { delete engine; }

CK_API size_t ck_engine_profile_count(const ck_engine* engine) {
  return engine ? engine->state->schedulers.size() : 0;
}

CK_API const char* ck_engine_profile_name(const ck_engine* engine, size_t profile) {
  const ck::Profile* p = profile_at(engine, profile);
  return p ? p->scheduler_name().c_str() : nullptr;
}

CK_API ck_status ck_engine_find_profile(size_t* out, const ck_engine* engine,
                                        const char* scheduler_name, size_t scheduler_name_len) {
  return guard("ck_engine_find_profile", [&] {
    require(out, "out");
    require(engine, "engine");
    const std::string_view name = text_arg(scheduler_name, scheduler_name_len, "scheduler_name");
    const auto& s = engine->state->schedulers;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (s[i].profile().scheduler_name() == name) {
        *out = i;
        return;
      }
    fail(CK_ERROR_NOT_FOUND, fmt::format("no profile has schedulerName \"{}\"", name));
  });
}

CK_API size_t ck_engine_score_plugin_count(const ck_engine* engine, size_t profile) {
  const ck::Profile* p = profile_at(engine, profile);
  return p ? p->scores().size() : 0;
}

CK_API const char* ck_engine_score_plugin_name(const ck_engine* engine, size_t profile,
                                               size_t plugin) {
  const ck::Profile* p = profile_at(engine, profile);
  if (!p || plugin >= p->scores().size()) return nullptr;
  // Plugin names are string literals in the registry: NUL-terminated.
  return p->scores()[plugin].plugin->name().data();
}

CK_API int64_t ck_engine_score_plugin_weight(const ck_engine* engine, size_t profile,
                                             size_t plugin) {
  const ck::Profile* p = profile_at(engine, profile);
  if (!p || plugin >= p->scores().size()) return 0;
  return p->scores()[plugin].weight;
}

CK_API size_t ck_engine_filter_plugin_count(const ck_engine* engine, size_t profile) {
  const ck::Profile* p = profile_at(engine, profile);
  return p ? p->filters().size() : 0;
}

CK_API const char* ck_engine_filter_plugin_name(const ck_engine* engine, size_t profile,
                                                size_t plugin) {
  const ck::Profile* p = profile_at(engine, profile);
  if (!p || plugin >= p->filters().size()) return nullptr;
  return p->filters()[plugin]->name().data();
}

CK_API size_t ck_engine_qos_profile_count(const ck_engine* engine) {
  return engine ? static_cast<std::size_t>(engine->state->qos.size()) : 0;
}

CK_API const char* ck_engine_qos_profile_name(const ck_engine* engine, size_t qos_profile) {
  if (!engine || qos_profile >= static_cast<std::size_t>(engine->state->qos.size())) return nullptr;
  return engine->state->qos[static_cast<int>(qos_profile)].name.c_str();
}

CK_API double ck_engine_qos_profile_threshold(const ck_engine* engine, size_t qos_profile) {
  if (!engine || qos_profile >= static_cast<std::size_t>(engine->state->qos.size()))
    return std::numeric_limits<double>::quiet_NaN();
  return engine->state->qos[static_cast<int>(qos_profile)].carbon_threshold_g_per_kwh;
}

CK_API size_t ck_engine_zone_count(const ck_engine* engine) {
  return engine && engine->state->zones ? engine->state->zones->zones().size() : 0;
}

CK_API const char* ck_engine_zone_name(const ck_engine* engine, size_t zone) {
  if (!engine || !engine->state->zones || zone >= engine->state->zones->zones().size())
    return nullptr;
  return engine->state->zones->zones()[zone].c_str();
}

// ---------------------------------------------------------------------------
// Signals

CK_API ck_status ck_signals_create(ck_signals** out) {
  return guard("ck_signals_create", [&] {
    require(out, "out");
    *out = new ck_signals;
  });
}

CK_API void ck_signals_free(ck_signals* signals) { delete signals; }

CK_API ck_status ck_signals_load(size_t* out_skipped, ck_signals* signals, ck_signal_format format,
                                 const char* text, size_t text_len, const char* source,
                                 int32_t kind) {
  return guard("ck_signals_load", [&] {
    require(signals, "signals");
    const std::string_view body = text_arg(text, text_len, "text");
    const std::string src = source ? source : "signals";
    ck::SignalLoadOptions options;
    options.limits = signals->limits;
    ck::SignalLoad load;
    std::int32_t f = enum_arg(format);
    if (f == CK_SIGNALS_AUTO) f = detected_format(body, source);
    switch (f) {
      case CK_SIGNALS_ELECTRICITYMAPS_CSV: {
        const std::optional<ck::IntensityKind> k = kind_arg(kind);
        ck::IntensityScope scope = ck::IntensityScope::kLifecycle;
        if (k) {
          if (ck::basis_of(*k) != ck::IntensityBasis::kAverage)
            fail(CK_ERROR_INVALID_ARGUMENT,
                 "the Electricity Maps CSV holds average intensities; kind must be "
                 "CK_KIND_AVERAGE_DIRECT or CK_KIND_AVERAGE_LIFECYCLE");
          scope = ck::scope_of(*k);
        }
        load = ck::load_electricitymaps_csv(body, src, scope, options);
        break;
      }
      case CK_SIGNALS_ELECTRICITYMAPS_JSON:
        options.kind = kind_arg(kind);
        load = ck::load_electricitymaps_json(body, src, options);
        break;
      case CK_SIGNALS_WATTTIME_JSON:
        options.kind = kind_arg(kind);
        load = ck::load_watttime_json(body, src, options);
        break;
      case CK_SIGNALS_UK_CARBON_INTENSITY_JSON:
        options.kind = kind_arg(kind);
        load = ck::load_uk_carbon_intensity_json(body, src, options);
        break;
      case CK_SIGNALS_CARBON_AWARE_SDK_JSON:
        options.kind = kind_arg(kind);
        load = ck::load_carbon_aware_sdk_json(body, src, options);
        break;
      default:
        fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("format {} is not a ck_signal_format", f));
    }
    auto next = std::make_shared<ck::CarbonSignals>(*signals->current);
    next->add(std::move(load.series));
    signals->current = std::move(next);
    if (out_skipped) *out_skipped = load.skipped;
  });
}

CK_API ck_status ck_signals_detect_format(ck_signal_format* out, const char* text, size_t text_len,
                                          const char* name) {
  return guard("ck_signals_detect_format", [&] {
    require(out, "out");
    *out = static_cast<ck_signal_format>(detected_format(text_arg(text, text_len, "text"), name));
  });
}

CK_API ck_status ck_signals_add_points(ck_signals* signals, const char* zone, size_t zone_len,
                                       ck_intensity_kind kind, const ck_signal_point* points,
                                       size_t count) {
  return guard("ck_signals_add_points", [&] {
    require(signals, "signals");
    const std::string_view z = text_arg(zone, zone_len, "zone");
    if (z.empty()) fail(CK_ERROR_INVALID_ARGUMENT, "zone is empty");
    const std::optional<ck::IntensityKind> k = kind_arg(enum_arg(kind));
    if (!k) fail(CK_ERROR_INVALID_ARGUMENT, "kind -1 is not allowed here");
    if (count > 0) require(points, "points");
    ck::ZoneSeries series;
    series.zone = std::string(z);
    series.kind = *k;
    series.source = "ck_signals_add_points";
    series.points.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const double v = points[i].g_per_kwh;
      if (!std::isfinite(v) || v < 0)
        fail(CK_ERROR_INVALID_INPUT,
             fmt::format("zone {}: point {} (unix {}) has intensity {}; it must be finite and "
                         ">= 0",
                         z, i, points[i].unix_seconds, v));
      series.points.push_back({points[i].unix_seconds, v, points[i].estimated != 0});
    }
    auto next = std::make_shared<ck::CarbonSignals>(*signals->current);
    next->add(std::move(series));
    signals->current = std::move(next);
  });
}

CK_API size_t ck_signals_zone_count(const ck_signals* signals) {
  return signals ? signals->current->size() : 0;
}

CK_API int64_t ck_signals_newest_time(const ck_signals* signals) {
  std::int64_t newest = 0;
  if (signals)
    for (const auto& [zone, series] : signals->current->all())
      if (!series.points.empty()) newest = std::max(newest, series.points.back().unix_seconds);
  return newest;
}

CK_API ck_status ck_signals_evaluate(ck_zone_reading* out, const ck_signals* signals,
                                     const ck_engine* engine, const char* zone, size_t zone_len,
                                     int64_t at) {
  return guard("ck_signals_evaluate", [&] {
    require(out, "out");
    require(signals, "signals");
    require(engine, "engine");
    const std::string_view z = text_arg(zone, zone_len, "zone");
    write_reading(out, ck::evaluate(*signals->current, z, at, engine->state->policy));
  });
}

// ---------------------------------------------------------------------------
// Cluster

CK_API ck_status ck_cluster_create(ck_cluster** out) {
  return guard("ck_cluster_create", [&] {
    require(out, "out");
    *out = new ck_cluster;
  });
}

CK_API void ck_cluster_free(ck_cluster* cluster) { delete cluster; }

CK_API ck_status ck_cluster_apply(ck_apply_counts* out, ck_cluster* cluster, const char* text,
                                  size_t text_len, const char* source) {
  return guard("ck_cluster_apply", [&] {
    require(cluster, "cluster");
    const std::string_view body = text_arg(text, text_len, "text");
    const std::string src = source ? source : "input";
    // Parse everything first: an error applies nothing.
    ck::KubeObjects objects = ck::parse_kube_objects(body, src, cluster->limits);
    ck::TopologyObjects topologies = ck::parse_topologies(body, src, cluster->limits);
    std::size_t skipped = 0;
    for (const auto& kind : objects.skipped_kinds)
      if (kind != "CustomNodeResource") ++skipped;
    for (const auto& n : objects.nodes) cluster->state.upsert_node(n);
    for (const auto& p : objects.pods) cluster->state.upsert_pod(p);
    for (auto& t : topologies.nodes) {
      std::string name = t.node_name;
      cluster->topologies.insert_or_assign(std::move(name), std::move(t));
    }
    if (out) *out = {objects.nodes.size(), objects.pods.size(), topologies.nodes.size(), skipped};
  });
}

CK_API ck_status ck_cluster_remove_node(ck_cluster* cluster, const char* name, size_t name_len) {
  return guard("ck_cluster_remove_node", [&] {
    require(cluster, "cluster");
    const std::string_view n = text_arg(name, name_len, "name");
    if (!cluster->state.remove_node(n)) fail(CK_ERROR_NOT_FOUND, fmt::format("no node \"{}\"", n));
  });
}

CK_API ck_status ck_cluster_remove_pod(ck_cluster* cluster, const char* key, size_t key_len) {
  return guard("ck_cluster_remove_pod", [&] {
    require(cluster, "cluster");
    const std::string_view k = text_arg(key, key_len, "key");
    if (!cluster->state.remove_pod(k))
      fail(CK_ERROR_NOT_FOUND, fmt::format("no pod \"{}\" (keys are namespace/name)", k));
  });
}

CK_API ck_status ck_cluster_apply_node_arrays(ck_cluster* cluster, const ck_node_arrays* nodes) {
  return guard("ck_cluster_apply_node_arrays", [&] {
    require(cluster, "cluster");
    require(nodes, "nodes");
    static const ck_node_arrays kDefaults = CK_NODE_ARRAYS_INIT;
    const ck_node_arrays a =
        options_arg(nodes, kDefaults, sizeof(ck_node_arrays), "ck_node_arrays");
    if (a.count > 0) require(a.names, "nodes.names");
    check_resource_columns(a.resource_count, a.resource_names, a.allocatable, "nodes");
    std::vector<ck::Node> built(a.count);
    std::map<std::string_view, std::size_t> seen;
    for (std::size_t i = 0; i < a.count; ++i) {
      ck::Node& n = built[i];
      n.name = c_string_arg(a.names, i, "nodes.names");
      if (n.name.empty()) fail(CK_ERROR_INVALID_INPUT, fmt::format("nodes.names[{}] is empty", i));
      if (!seen.emplace(a.names[i], i).second)
        fail(CK_ERROR_INVALID_INPUT, fmt::format("node \"{}\" appears twice", n.name));
      if (a.labels && a.labels[i]) n.labels = parse_label_list(a.labels[i], n.name);
      n.ready = true;
      for (std::size_t r = 0; r < a.resource_count; ++r) {
        const std::string_view res = a.resource_names[r];
        const std::int64_t v = a.allocatable[r][i];
        quantity_from_base(res, v, fmt::format("node \"{}\" allocatable", n.name).c_str());
        n.allocatable.push_back({std::string(res), v});
      }
      std::sort(n.allocatable.begin(), n.allocatable.end(),
                [](const auto& x, const auto& y) { return x.name < y.name; });
    }
    for (const auto& n : built) cluster->state.upsert_node(n);
  });
}

CK_API ck_status ck_cluster_apply_pod_arrays(ck_cluster* cluster, const ck_pod_arrays* pods) {
  return guard("ck_cluster_apply_pod_arrays", [&] {
    require(cluster, "cluster");
    require(pods, "pods");
    static const ck_pod_arrays kDefaults = CK_POD_ARRAYS_INIT;
    const ck_pod_arrays a = options_arg(pods, kDefaults, sizeof(ck_pod_arrays), "ck_pod_arrays");
    if (a.count > 0) require(a.names, "pods.names");
    check_resource_columns(a.resource_count, a.resource_names, a.requests, "pods");
    std::vector<ck::Pod> built(a.count);
    for (std::size_t i = 0; i < a.count; ++i) {
      ck::Pod& p = built[i];
      p.name = c_string_arg(a.names, i, "pods.names");
      if (p.name.empty()) fail(CK_ERROR_INVALID_INPUT, fmt::format("pods.names[{}] is empty", i));
      if (a.namespaces && a.namespaces[i] && a.namespaces[i][0] != '\0')
        p.namespace_name = a.namespaces[i];
      if (a.node_names && a.node_names[i]) p.node_name = a.node_names[i];
      p.phase = p.node_name.empty() ? ck::PodPhase::kPending : ck::PodPhase::kRunning;
      p.scheduler_name = "default-scheduler";
      ck::Container c;
      c.name = "main";
      for (std::size_t r = 0; r < a.resource_count; ++r) {
        const std::string_view res = a.resource_names[r];
        const std::int64_t v = a.requests[r][i];
        const ck::Quantity q =
            quantity_from_base(res, v, fmt::format("pod \"{}\" request", p.key()).c_str());
        if (v == 0) continue;
        c.requests.emplace_back(std::string(res), q);
        c.requests_text.emplace_back(std::string(res), ck::format_quantity(q));
      }
      p.containers.push_back(std::move(c));
    }
    for (const auto& p : built) cluster->state.upsert_pod(p);
  });
}

CK_API size_t ck_cluster_node_count(const ck_cluster* cluster) {
  return cluster ? cluster->state.node_count() : 0;
}

CK_API size_t ck_cluster_pod_count(const ck_cluster* cluster) {
  return cluster ? cluster->state.pod_count() : 0;
}

CK_API ck_status ck_cluster_assume(ck_cluster* cluster, const ck_snapshot* snapshot,
                                   const ck_pod* pod, size_t node) {
  return guard("ck_cluster_assume", [&] {
    require(cluster, "cluster");
    require(snapshot, "snapshot");
    require(pod, "pod");
    const ck::ClusterSnapshot& s = *snapshot->state->snapshot;
    if (node >= s.node_count())
      fail(CK_ERROR_NOT_FOUND,
           fmt::format("node index {} is out of range (the snapshot has {} nodes)", node,
                       s.node_count()));
    cluster->state.assume_pod(*pod->compiled->pod, s.node_name(static_cast<ck::NodeIndex>(node)));
  });
}

// ---------------------------------------------------------------------------
// Snapshot

CK_API ck_status ck_snapshot_publish(ck_snapshot** out, ck_cluster* cluster,
                                     const ck_engine* engine, const ck_snapshot_options* options) {
  return guard("ck_snapshot_publish", [&] {
    require(out, "out");
    require(cluster, "cluster");
    require(engine, "engine");
    static const ck_snapshot_options kDefaults = CK_SNAPSHOT_OPTIONS_INIT;
    const ck_snapshot_options o =
        // The first version ended before `ledger`.
        options_arg(options, kDefaults, offsetof(ck_snapshot_options, ledger),
                    "ck_snapshot_options");
    auto state = std::make_shared<SnapshotState>();
    state->engine = engine->state;
    state->snapshot = cluster->state.publish();
    const EngineState& e = *engine->state;
    if (o.signals)
      state->signals = o.signals->current;
    else
      state->signals = std::make_shared<ck::CarbonSignals>();
    state->at = o.at != 0 ? o.at : ck_signals_newest_time(o.signals);
    if (e.zones) {
      state->conditions = ck::ClusterConditions::build(*state->snapshot, *e.zones, *state->signals,
                                                       state->at, e.policy, e.qos);
      state->carbon = true;
    }
    state->conditions.snapshot_generation = state->snapshot->generation();
    if (o.ledger) {
      state->conditions.now = state->at;
      apply_ledger_budgets(state->conditions, *o.ledger);
      state->budgets = !state->conditions.namespace_budgets.empty();
    }
    if (!cluster->topologies.empty()) {
      std::vector<ck::NodeTopology> topologies;
      topologies.reserve(cluster->topologies.size());
      for (const auto& [name, t] : cluster->topologies) topologies.push_back(t);
      state->topology = ck::TopologyTable::build(*state->snapshot, topologies);
      state->conditions.topology = &*state->topology;
    }
    *out = new ck_snapshot{std::move(state)};
  });
}

CK_API void ck_snapshot_free(ck_snapshot* snapshot) { delete snapshot; }

CK_API ck_status ck_cluster_set_limits(ck_limits* out, ck_cluster* cluster,
                                       const ck_limits* limits) {
  return guard("ck_cluster_set_limits", [&] {
    require(cluster, "cluster");
    cluster->limits = limits_arg(limits);
    limits_out(out, cluster->limits);
  });
}

CK_API ck_status ck_signals_set_limits(ck_limits* out, ck_signals* signals,
                                       const ck_limits* limits) {
  return guard("ck_signals_set_limits", [&] {
    require(signals, "signals");
    signals->limits = limits_arg(limits);
    limits_out(out, signals->limits);
  });
}

CK_API size_t ck_snapshot_node_count(const ck_snapshot* snapshot) {
  return snapshot ? snapshot->state->snapshot->node_count() : 0;
}

CK_API const char* ck_snapshot_node_name(const ck_snapshot* snapshot, size_t node) {
  if (!snapshot || node >= snapshot->state->snapshot->node_count()) return nullptr;
  return snapshot->state->snapshot->node_name(static_cast<ck::NodeIndex>(node)).c_str();
}

CK_API ck_status ck_snapshot_find_node(size_t* out, const ck_snapshot* snapshot, const char* name,
                                       size_t name_len) {
  return guard("ck_snapshot_find_node", [&] {
    require(out, "out");
    require(snapshot, "snapshot");
    const std::string_view n = text_arg(name, name_len, "name");
    const auto i = snapshot->state->snapshot->find_node(n);
    if (!i) fail(CK_ERROR_NOT_FOUND, fmt::format("no node \"{}\" in the snapshot", n));
    *out = *i;
  });
}

CK_API int32_t ck_snapshot_node_zone(const ck_snapshot* snapshot, size_t node) {
  if (!snapshot || !snapshot->state->carbon) return -1;
  const auto& zones = snapshot->state->conditions.node_zone;
  if (node >= zones.size() || zones[node] == ck::kUnknownZone) return -1;
  return zones[node];
}

CK_API ck_status ck_snapshot_zone_reading(ck_zone_reading* out, const ck_snapshot* snapshot,
                                          size_t zone) {
  return guard("ck_snapshot_zone_reading", [&] {
    require(out, "out");
    require(snapshot, "snapshot");
    const SnapshotState& s = *snapshot->state;
    const std::size_t zones = s.carbon ? s.conditions.intensities.readings.size() : 0;
    if (zone >= zones)
      fail(CK_ERROR_NOT_FOUND,
           fmt::format("zone index {} is out of range (the engine has {} zones)", zone, zones));
    write_reading(out, s.conditions.intensities.readings[zone]);
  });
}

CK_API int64_t ck_snapshot_time(const ck_snapshot* snapshot) {
  return snapshot ? snapshot->state->at : 0;
}

// ---------------------------------------------------------------------------
// Pods

CK_API ck_status ck_pod_create(ck_pod** out, const ck_snapshot* snapshot, const char* text,
                               size_t text_len) {
  return guard("ck_pod_create", [&] {
    require(out, "out");
    require(snapshot, "snapshot");
    const std::string_view body = text_arg(text, text_len, "text");
    ck::KubeObjects objects = ck::parse_kube_objects(body, "pod", snapshot->state->engine->limits);
    if (objects.pods.size() != 1 || !objects.nodes.empty())
      fail(CK_ERROR_INVALID_INPUT, fmt::format("expected exactly one Pod, got {} pods and {} nodes",
                                               objects.pods.size(), objects.nodes.size()));
    auto pod = std::make_shared<const ck::Pod>(std::move(objects.pods.front()));
    auto compiled = std::make_shared<const ck::CompiledPod>(
        ck::compile_pod(std::move(pod), *snapshot->state->snapshot));
    *out = new ck_pod{std::move(compiled)};
  });
}

CK_API void ck_pod_free(ck_pod* pod) { delete pod; }

CK_API const char* ck_pod_key(const ck_pod* pod) {
  return pod ? pod->compiled->key.c_str() : nullptr;
}

CK_API ck_status ck_pod_list_create(ck_pod_list** out, const ck_snapshot* snapshot,
                                    const char* text, size_t text_len, const char* source) {
  return guard("ck_pod_list_create", [&] {
    require(out, "out");
    require(snapshot, "snapshot");
    const std::string_view body = text_arg(text, text_len, "text");
    ck::KubeObjects objects =
        ck::parse_kube_objects(body, source ? source : "pods", snapshot->state->engine->limits);
    auto list = std::make_unique<ck_pod_list>();
    for (ck::Pod& p : objects.pods) {
      if (!p.is_pending()) continue;
      auto pod = std::make_shared<const ck::Pod>(std::move(p));
      list->pods.push_back(ck_pod{std::make_shared<const ck::CompiledPod>(
          ck::compile_pod(std::move(pod), *snapshot->state->snapshot))});
    }
    list->pointers.reserve(list->pods.size());
    for (const ck_pod& p : list->pods) list->pointers.push_back(&p);
    *out = list.release();
  });
}

CK_API void ck_pod_list_free(ck_pod_list* list) { delete list; }

CK_API size_t ck_pod_list_count(const ck_pod_list* list) { return list ? list->pods.size() : 0; }

CK_API const ck_pod* ck_pod_list_get(const ck_pod_list* list, size_t i) {
  return list && i < list->pods.size() ? &list->pods[i] : nullptr;
}

CK_API const ck_pod* const* ck_pod_list_pods(const ck_pod_list* list) {
  return list ? list->pointers.data() : nullptr;
}

// ---------------------------------------------------------------------------
// Scoring

CK_API ck_status ck_context_create(ck_context** out, uint64_t seed) {
  return guard("ck_context_create", [&] {
    require(out, "out");
    *out = new ck_context(seed);
  });
}

CK_API void ck_context_free(ck_context* context) { delete context; }

CK_API ck_status ck_score_pod(ck_pod_result* out, ck_node_result* out_nodes, size_t nodes_len,
                              int64_t* out_scores, size_t scores_len, const ck_engine* engine,
                              const ck_snapshot* snapshot, const ck_pod* pod, ck_context* context,
                              const ck_score_options* options) {
  return guard("ck_score_pod", [&] {
    require(out, "out");
    require(engine, "engine");
    require(snapshot, "snapshot");
    require(pod, "pod");
    require(context, "context");
    static const ck_score_options kDefaults = CK_SCORE_OPTIONS_INIT;
    const ck_score_options o =
        options_arg(options, kDefaults, sizeof(ck_score_options), "ck_score_options");
    const std::size_t profile = check_cycle(engine, snapshot, pod, o.profile);
    const SnapshotState& s = *snapshot->state;
    const ck::Scheduler& scheduler = engine->state->schedulers[profile];
    const std::size_t n = s.snapshot->node_count();
    const std::size_t plugins = scheduler.profile().scores().size();
    if (out_nodes) check_capacity(nodes_len, n, "out_nodes");
    if (out_scores) check_capacity(scores_len, n * plugins, "out_scores");

    context->last_pod.reset();
    context->explanation.reset();
    const ck::CycleResult r =
        scheduler.schedule(*s.snapshot, *pod->compiled, context->scoring, s.conditions_ptr());
    context->last_snapshot = snapshot->state;
    context->last_pod = pod->compiled;
    context->last_profile = profile;
    context->last_result = r;

    *out = {r.selected ? static_cast<int64_t>(*r.selected) : -1,
            r.total,
            r.feasible,
            r.processed,
            CK_OK,
            static_cast<std::uint32_t>(profile)};
    const ck::ScoringContext& ctx = context->scoring;
    if (out_nodes) {
      for (std::size_t i = 0; i < n; ++i) out_nodes[i] = {0, CK_NODE_NOT_EVALUATED, -1, 0, 0};
      for (const ck::FilterFailure& f : ctx.failures())
        out_nodes[f.node] = {0, CK_NODE_INFEASIBLE, f.plugin, f.reasons, 0};
      const auto feasible = ctx.feasible();
      const auto totals = ctx.totals();
      for (std::size_t k = 0; k < feasible.size(); ++k)
        out_nodes[feasible[k]] = {totals[k], CK_NODE_FEASIBLE, -1, 0, 0};
    }
    if (out_scores) {
      std::fill(out_scores, out_scores + n * plugins, -1);
      const auto feasible = ctx.feasible();
      for (std::size_t p = 0; p < plugins; ++p) {
        if (!ctx.plugin_scored(p)) continue;
        for (std::size_t k = 0; k < feasible.size(); ++k)
          out_scores[static_cast<std::size_t>(feasible[k]) * plugins + p] = ctx.score(p, k);
      }
    }
  });
}

CK_API ck_status ck_score_batch(ck_pod_result* out, size_t out_len, int64_t* out_totals,
                                size_t totals_len, const ck_engine* engine,
                                const ck_snapshot* snapshot, const ck_pod* const* pods,
                                size_t count, ck_context* context,
                                const ck_score_options* options) {
  ck_status first = CK_OK;
  std::string first_message;
  const ck_status setup = guard("ck_score_batch", [&] {
    require(out, "out");
    require(engine, "engine");
    require(snapshot, "snapshot");
    require(context, "context");
    if (count > 0) require(pods, "pods");
    check_capacity(out_len, count, "out");
    const std::size_t n = snapshot->state->snapshot->node_count();
    if (out_totals) {
      if (n != 0 && count > std::numeric_limits<std::size_t>::max() / n)
        fail(CK_ERROR_LIMIT_EXCEEDED, "count * node_count overflows size_t");
      check_capacity(totals_len, count * n, "out_totals");
    }
    for (std::size_t i = 0; i < count; ++i)
      if (pods[i] == nullptr) fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("pods[{}] is NULL", i));
    static const ck_score_options kDefaults = CK_SCORE_OPTIONS_INIT;
    const ck_score_options o =
        options_arg(options, kDefaults, sizeof(ck_score_options), "ck_score_options");
    if (snapshot->state->engine != engine->state)
      fail(CK_ERROR_MISMATCH, "the snapshot was published for another engine");
    context->last_pod.reset();
    context->explanation.reset();
    const SnapshotState& s = *snapshot->state;
    const ck::ClusterConditions* cond = s.conditions_ptr();
    for (std::size_t i = 0; i < count; ++i) {
      ck_pod_result& res = out[i];
      res = {-1, 0, 0, 0, CK_OK, 0};
      std::int64_t* row = out_totals ? out_totals + i * n : nullptr;
      if (row) std::fill(row, row + n, -1);
      const ck_status st = guard("ck_score_batch", [&] {
        const std::size_t profile = check_cycle(engine, snapshot, pods[i], o.profile);
        res.profile = static_cast<std::uint32_t>(profile);
        const ck::CycleResult r = engine->state->schedulers[profile].schedule(
            *s.snapshot, *pods[i]->compiled, context->scoring, cond);
        res.selected = r.selected ? static_cast<int64_t>(*r.selected) : -1;
        res.total = r.total;
        res.feasible = r.feasible;
        res.processed = r.processed;
        if (row) {
          const auto feasible = context->scoring.feasible();
          const auto totals = context->scoring.totals();
          for (std::size_t k = 0; k < feasible.size(); ++k) row[feasible[k]] = totals[k];
        }
      });
      res.status = st;
      if (st != CK_OK && first == CK_OK) {
        first = st;
        first_message = fmt::format("pods[{}]: {}", i, t_last_error);
      }
    }
  });
  if (setup != CK_OK) return setup;
  if (first != CK_OK) t_last_error = std::move(first_message);
  return first;
}

CK_API ck_status ck_context_explain(size_t* out_len, char* buffer, size_t buffer_len,
                                    const ck_context* context) {
  return guard("ck_context_explain", [&] {
    require(out_len, "out_len");
    require(context, "context");
    const ck::Explanation& ex = explanation_of(context);
    nlohmann::ordered_json doc;
    doc["pod"] = ex.pod;
    doc["selected"] =
        ex.selected ? nlohmann::ordered_json(*ex.selected) : nlohmann::ordered_json(nullptr);
    doc["nodes"] = nlohmann::ordered_json::array();
    for (const auto& n : ex.nodes) {
      nlohmann::ordered_json nj;
      nj["name"] = n.name;
      nj["evaluated"] = n.evaluated;
      nj["feasible"] = n.feasible;
      nj["failedPlugin"] = n.failed_plugin;
      nj["reasons"] = n.reasons;
      nlohmann::ordered_json scores = nlohmann::ordered_json::object();
      for (const auto& [name, v] : n.scores) scores[name] = v;
      nj["scores"] = scores;
      nj["total"] = n.total;
      doc["nodes"].push_back(std::move(nj));
    }
    // Names from plain arrays (ck_cluster_apply_node_arrays) may be any
    // bytes: invalid UTF-8 is replaced (U+FFFD) rather than failing.
    copy_out_string(out_len, buffer, buffer_len,
                    doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  });
}

CK_API ck_status ck_context_node_reasons(size_t* out_len, char* buffer, size_t buffer_len,
                                         const ck_context* context, size_t node) {
  return guard("ck_context_node_reasons", [&] {
    require(out_len, "out_len");
    require(context, "context");
    const ck::Explanation& ex = explanation_of(context);
    if (node >= ex.nodes.size())
      fail(CK_ERROR_NOT_FOUND, fmt::format("node index {} is out of range (the snapshot has {})",
                                           node, ex.nodes.size()));
    const ck::NodeExplanation& n = ex.nodes[node];
    std::string text;
    if (n.evaluated && !n.feasible) {
      text = n.failed_plugin + ":";
      for (std::size_t i = 0; i < n.reasons.size(); ++i) text += (i ? "; " : " ") + n.reasons[i];
    }
    copy_out_string(out_len, buffer, buffer_len, text);
  });
}

// ---------------------------------------------------------------------------
// QoS reconciler

CK_API ck_status ck_reconciler_create(ck_reconciler** out, const ck_engine* engine,
                                      const ck_reconciler_options* options) {
  return guard("ck_reconciler_create", [&] {
    require(out, "out");
    require(engine, "engine");
    static const ck_reconciler_options kDefaults = CK_RECONCILER_OPTIONS_INIT;
    const ck_reconciler_options o =
        options_arg(options, kDefaults, sizeof(ck_reconciler_options), "ck_reconciler_options");
    ck::QosReconcilerConfig config;
    config.profiles = engine->state->qos;
    config.hysteresis_g_per_kwh = o.hysteresis_g_per_kwh;
    config.hysteresis_fraction = o.hysteresis_fraction;
    config.min_dwell_seconds = o.min_dwell_seconds;
    *out = new ck_reconciler{engine->state, ck::QosReconciler(std::move(config))};
  });
}

CK_API void ck_reconciler_free(ck_reconciler* reconciler) { delete reconciler; }

CK_API ck_status ck_reconciler_reconcile(ck_zone_decision* out, size_t out_len,
                                         ck_reconciler* reconciler, int64_t now,
                                         const ck_zone_input* zones, size_t count) {
  return guard("ck_reconciler_reconcile", [&] {
    require(out, "out");
    require(reconciler, "reconciler");
    if (count > 0) require(zones, "zones");
    check_capacity(out_len, count, "out");
    std::vector<ck::ZoneQosInput> inputs(count);
    for (std::size_t i = 0; i < count; ++i) {
      if (zones[i].zone == nullptr)
        fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("zones[{}].zone is NULL", i));
      inputs[i] = {zones[i].zone, zones[i].g_per_kwh, zones[i].usable != 0};
    }
    const std::vector<ck::ZoneDecision> d = reconciler->reconciler.reconcile(now, inputs);
    for (std::size_t i = 0; i < count; ++i)
      out[i] = {d[i].profile_index, d[i].previous_index, d[i].changed ? 1 : 0,
                static_cast<std::int32_t>(d[i].reason), d[i].since_unix_seconds};
  });
}

CK_API const char* ck_decision_reason_name(int32_t reason) {
  if (reason < 0 || reason > CK_DECISION_NO_DATA_UNASSIGNED) return "unknown";
  // to_string returns views of string literals: NUL-terminated.
  return ck::to_string(static_cast<ck::QosDecisionReason>(reason)).data();
}

}  // extern "C"
