// Fuzz target: the C ABI (capi/carbonkube.h) driven by a fuzzed byte stream.
// The stream builds an engine (seed defaults, the bundled zone map, or fuzzed
// scheduler / QoS / zone-map documents), then runs a sequence of operations
// on one cluster, one signals handle, snapshots, pods and a context:
// applying fuzzed or bundled objects, loading fuzzed signal texts and points
// (NaN, inf, negative, any time), publishing, compiling fuzzed pods, scoring
// into caller buffers of fuzzed sizes (exactly sized, so ASan sees any write
// past them), explaining, assuming, removing, and reconciling zones.
// Oracles: statuses are known values and never CK_ERROR_INTERNAL; an error
// leaves a message, a success none; a failed apply changes no counts; results
// stay in range (selected node, scores 0..100 or -1).
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "carbonkube.h"
#include "carbonkube/kube.hpp"
#include "fuzz_common.hpp"

namespace {

struct Bundled {
  std::string nodes, pods, cnrs, zones, csv, profile, helm, sched;
  static const Bundled& get() {
    static const Bundled b = [] {
      const std::string root = CARBONKUBE_SOURCE_DIR;
      auto rd = [&](const char* rel) { return carbonkube::read_file(root + rel); };
      Bundled x;
      x.nodes = rd("/examples/cluster/nodes.json");
      x.pods = rd("/examples/cluster/pods.yaml");
      x.cnrs = rd("/examples/cluster/cnrs.yaml");
      x.zones = rd("/examples/config/zones.yaml");
      x.csv = rd("/tests/fixtures/signals/electricitymaps_portal_sample.csv");
      x.profile = rd("/examples/config/carbon-profile.yaml");
      x.helm = rd("/examples/config/helm-values.yaml");
      x.sched = rd("/examples/cluster/scheduler.yaml");
      return x;
    }();
    return b;
  }
};

// Every call's status: a known value, never INTERNAL, with a message exactly
// when it failed (OUT_OF_MEMORY may have none: no memory to format it).
ck_status checked(ck_status s, const char* call) {
  if (static_cast<int>(s) < CK_OK || static_cast<int>(s) > CK_ERROR_INTERNAL)
    ck_fuzz::bug("unknown status from", call);
  if (s == CK_ERROR_INTERNAL) ck_fuzz::bug(call, ck_last_error());
  const char* msg = ck_last_error();
  if (msg == nullptr) ck_fuzz::bug("ck_last_error() is NULL after", call);
  if (s == CK_OK && msg[0] != '\0') ck_fuzz::bug("a message after success of", call);
  if (s != CK_OK && s != CK_ERROR_OUT_OF_MEMORY && msg[0] == '\0')
    ck_fuzz::bug("no message after failure of", call);
  if (std::strcmp(ck_status_name(s), "CK_UNKNOWN_STATUS") == 0)
    ck_fuzz::bug("unnamed status", call);
  return s;
}

double fuzzed_double(FuzzedDataProvider& in) {
  switch (in.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      return std::numeric_limits<double>::quiet_NaN();
    case 1:
      return std::numeric_limits<double>::infinity();
    case 2:
      return -std::numeric_limits<double>::infinity();
    case 3:
      return -in.ConsumeFloatingPointInRange<double>(0, 1000);
    case 4:
      return in.ConsumeFloatingPoint<double>();
    default:
      return in.ConsumeFloatingPointInRange<double>(0, 1000);
  }
}

std::string text(FuzzedDataProvider& in) { return in.ConsumeRandomLengthString(4096); }

struct Session {
  ck_engine* engine = nullptr;
  ck_cluster* cluster = nullptr;
  ck_signals* signals = nullptr;
  ck_context* context = nullptr;
  ck_reconciler* reconciler = nullptr;
  std::vector<ck_snapshot*> snapshots;
  std::vector<ck_pod*> pods;
  std::vector<ck_pod_list*> lists;

  ~Session() {
    for (ck_pod_list* l : lists) ck_pod_list_free(l);
    for (ck_pod* p : pods) ck_pod_free(p);
    for (ck_snapshot* s : snapshots) ck_snapshot_free(s);
    ck_reconciler_free(reconciler);
    ck_context_free(context);
    ck_signals_free(signals);
    ck_cluster_free(cluster);
    ck_engine_free(engine);
  }
  ck_snapshot* snapshot(FuzzedDataProvider& in) const {
    if (snapshots.empty()) return nullptr;
    return snapshots[in.ConsumeIntegralInRange<std::size_t>(0, snapshots.size() - 1)];
  }
  const ck_pod* pod(FuzzedDataProvider& in) const {
    if (in.ConsumeBool() && !lists.empty()) {
      const ck_pod_list* l = lists[in.ConsumeIntegralInRange<std::size_t>(0, lists.size() - 1)];
      return ck_pod_list_get(l, in.ConsumeIntegralInRange<std::size_t>(0, 4));
    }
    if (pods.empty()) return nullptr;
    return pods[in.ConsumeIntegralInRange<std::size_t>(0, pods.size() - 1)];
  }
};

constexpr std::size_t kMaxHandles = 4;

void make_engine(Session& s, FuzzedDataProvider& in) {
  const Bundled& b = Bundled::get();
  ck_engine_options opt = CK_ENGINE_OPTIONS_INIT;
  std::string sched, qos, zones;
  switch (in.ConsumeIntegralInRange<int>(0, 3)) {
    case 0:
      break;  // the seed profile, no zones
    case 1:
      zones = b.zones;
      break;
    case 2:
      sched = b.sched;
      qos = in.ConsumeBool() ? b.profile : b.helm;
      zones = b.zones;
      break;
    default:
      if (in.ConsumeBool()) sched = text(in);
      if (in.ConsumeBool()) qos = text(in);
      zones = in.ConsumeBool() ? text(in) : b.zones;
      break;
  }
  if (!sched.empty()) opt.scheduler_config = sched.data(), opt.scheduler_config_len = sched.size();
  if (!qos.empty()) opt.qos_profiles = qos.data(), opt.qos_profiles_len = qos.size();
  if (!zones.empty()) opt.zone_map = zones.data(), opt.zone_map_len = zones.size();
  if (in.ConsumeBool()) {
    opt.max_signal_age_seconds = in.ConsumeIntegral<std::int64_t>();
    opt.max_g_per_kwh = fuzzed_double(in);
  }
  // Another version's struct: struct_size says how many bytes the caller
  // has, so the bytes really exist (a newer caller's extra fields follow,
  // zero or not; an older caller's struct is cut short).
  std::vector<unsigned char> raw(sizeof opt);
  std::memcpy(raw.data(), &opt, sizeof opt);
  if (in.ConsumeIntegralInRange<int>(0, 15) == 0) {
    const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, 2 * sizeof opt);
    raw.resize(std::max(n, sizeof opt));
    for (std::size_t i = sizeof opt; i < n; ++i)
      raw[i] = in.ConsumeBool() ? 0 : in.ConsumeIntegral<unsigned char>();
    std::memcpy(raw.data(), &n, sizeof n);  // struct_size is the first field
  }
  ck_engine_options* sized = reinterpret_cast<ck_engine_options*>(raw.data());
  if (checked(ck_engine_create(&s.engine, sized), "ck_engine_create") != CK_OK) {
    ck_fuzz::check(s.engine == nullptr, "a failed ck_engine_create left a handle");
    checked(ck_engine_create(&s.engine, nullptr), "ck_engine_create(NULL)");
  }
  ck_fuzz::check(s.engine != nullptr, "no engine from the defaults");
  // Accessors with any index: NULL / 0 when out of range, never a crash.
  const std::size_t profiles = ck_engine_profile_count(s.engine);
  const std::size_t pi = in.ConsumeIntegralInRange<std::size_t>(0, profiles + 1);
  (void)ck_engine_profile_name(s.engine, pi);
  const std::size_t plugins = ck_engine_score_plugin_count(s.engine, pi);
  for (std::size_t p = 0; p <= plugins; ++p) {
    const char* name = ck_engine_score_plugin_name(s.engine, pi, p);
    ck_fuzz::check((name != nullptr) == (p < plugins && pi < profiles), "plugin name range");
    (void)ck_engine_score_plugin_weight(s.engine, pi, p);
  }
  (void)ck_engine_filter_plugin_name(s.engine, pi, in.ConsumeIntegral<std::size_t>());
  (void)ck_engine_qos_profile_name(s.engine, in.ConsumeIntegralInRange<std::size_t>(0, 8));
  (void)ck_engine_qos_profile_threshold(s.engine, in.ConsumeIntegralInRange<std::size_t>(0, 8));
  (void)ck_engine_zone_name(s.engine, in.ConsumeIntegralInRange<std::size_t>(0, 8));
}

void apply(Session& s, const std::string& t, const char* source) {
  const std::size_t nodes = ck_cluster_node_count(s.cluster);
  const std::size_t pods = ck_cluster_pod_count(s.cluster);
  ck_apply_counts counts{};
  if (checked(ck_cluster_apply(&counts, s.cluster, t.data(), t.size(), source),
              "ck_cluster_apply") != CK_OK) {
    ck_fuzz::check(ck_cluster_node_count(s.cluster) == nodes, "failed apply changed the nodes");
    ck_fuzz::check(ck_cluster_pod_count(s.cluster) == pods, "failed apply changed the pods");
  }
}

void score(Session& s, FuzzedDataProvider& in) {
  ck_snapshot* snap = s.snapshot(in);
  const ck_pod* pod = s.pod(in);
  if (snap == nullptr || pod == nullptr) return;
  const std::size_t n = ck_snapshot_node_count(snap);
  std::size_t width = 0;
  for (std::size_t p = 0; p < ck_engine_profile_count(s.engine); ++p)
    width = std::max(width, ck_engine_score_plugin_count(s.engine, p));
  // Sometimes the documented size, sometimes anything up to it.
  const std::size_t nodes_len =
      in.ConsumeBool() ? n : in.ConsumeIntegralInRange<std::size_t>(0, n + 1);
  const std::size_t scores_len =
      in.ConsumeBool() ? n * width : in.ConsumeIntegralInRange<std::size_t>(0, n * width + 1);
  std::vector<ck_node_result> nodes(nodes_len);
  std::vector<std::int64_t> scores(scores_len);
  ck_score_options opt = CK_SCORE_OPTIONS_INIT;
  if (in.ConsumeBool()) opt.profile = in.ConsumeIntegralInRange<std::size_t>(0, 3);
  ck_pod_result r{};
  const ck_status st =
      checked(ck_score_pod(&r, in.ConsumeBool() ? nodes.data() : nullptr, nodes_len,
                           in.ConsumeBool() ? scores.data() : nullptr, scores_len, s.engine, snap,
                           pod, s.context, in.ConsumeBool() ? &opt : nullptr),
              "ck_score_pod");
  if (st == CK_OK) {
    ck_fuzz::check(r.selected >= -1 && r.selected < static_cast<std::int64_t>(n), "selected range");
    ck_fuzz::check(r.feasible <= n && r.processed <= n, "feasible / processed range");
    if (r.selected >= 0) ck_fuzz::check(r.total >= 0, "negative total");
    for (std::int64_t v : scores) ck_fuzz::check(v >= -1 && v <= 100, "score outside -1..100");
  }
}

void batch(Session& s, FuzzedDataProvider& in) {
  ck_snapshot* snap = s.snapshot(in);
  if (snap == nullptr || s.lists.empty()) return;
  const ck_pod_list* list = s.lists[in.ConsumeIntegralInRange<std::size_t>(0, s.lists.size() - 1)];
  const std::size_t count = ck_pod_list_count(list);
  const std::size_t n = ck_snapshot_node_count(snap);
  const std::size_t out_len =
      in.ConsumeBool() ? count : in.ConsumeIntegralInRange<std::size_t>(0, count + 1);
  const std::size_t totals_len =
      in.ConsumeBool() ? count * n : in.ConsumeIntegralInRange<std::size_t>(0, count * n + 1);
  std::vector<ck_pod_result> out(out_len);
  std::vector<std::int64_t> totals(totals_len);
  const ck_status st = checked(
      ck_score_batch(out.data(), out_len, in.ConsumeBool() ? totals.data() : nullptr, totals_len,
                     s.engine, snap, ck_pod_list_pods(list), count, s.context, nullptr),
      "ck_score_batch");
  if (st == CK_OK)
    for (std::size_t i = 0; i < count; ++i)
      ck_fuzz::check(out[i].selected >= -1 && out[i].selected < static_cast<std::int64_t>(n),
                     "batch selected range");
}

void explain(Session& s, FuzzedDataProvider& in) {
  const std::size_t len = in.ConsumeIntegralInRange<std::size_t>(0, 1 << 16);
  std::vector<char> buf(len);
  std::size_t out_len = 0;
  const ck_status st =
      in.ConsumeBool()
          ? checked(ck_context_explain(&out_len, len ? buf.data() : nullptr, len, s.context),
                    "ck_context_explain")
          : checked(ck_context_node_reasons(&out_len, len ? buf.data() : nullptr, len, s.context,
                                            in.ConsumeIntegralInRange<std::size_t>(0, 64)),
                    "ck_context_node_reasons");
  if (st == CK_OK) {
    ck_fuzz::check(out_len < len, "explanation longer than its buffer");
    ck_fuzz::check(buf[out_len] == '\0' && std::strlen(buf.data()) == out_len,
                   "not NUL-terminated");
  }
}

void add_points(Session& s, FuzzedDataProvider& in) {
  std::vector<ck_signal_point> points(in.ConsumeIntegralInRange<std::size_t>(0, 16));
  for (auto& p : points) {
    p.unix_seconds = in.ConsumeBool()
                         ? 1689444000 + in.ConsumeIntegralInRange<std::int64_t>(-7200, 7200)
                         : in.ConsumeIntegral<std::int64_t>();
    p.g_per_kwh = fuzzed_double(in);
    p.estimated = in.ConsumeIntegralInRange<std::int32_t>(-1, 2);
  }
  const std::string zone = in.ConsumeBool() ? std::string("ES") : in.ConsumeRandomLengthString(16);
  // Only the enum's own values: a C caller may pass any int, but in this C++
  // harness an out-of-range enum is itself undefined (see docs/reliability.md).
  const auto kind = static_cast<ck_intensity_kind>(in.ConsumeIntegralInRange<int>(0, 3));
  const std::size_t zones = ck_signals_zone_count(s.signals);
  if (checked(ck_signals_add_points(s.signals, zone.data(), zone.size(), kind,
                                    points.empty() ? nullptr : points.data(), points.size()),
              "ck_signals_add_points") != CK_OK)
    ck_fuzz::check(ck_signals_zone_count(s.signals) == zones, "failed add_points added a zone");
}

void load_signals(Session& s, FuzzedDataProvider& in) {
  const auto format = static_cast<ck_signal_format>(in.ConsumeIntegralInRange<int>(0, 4));
  const std::int32_t kind = in.ConsumeIntegralInRange<std::int32_t>(-2, 4);
  const std::string t = in.ConsumeBool() ? Bundled::get().csv : text(in);
  const std::size_t zones = ck_signals_zone_count(s.signals);
  const std::int64_t newest = ck_signals_newest_time(s.signals);
  std::size_t skipped = 0;
  if (checked(
          ck_signals_load(&skipped, s.signals, format, t.data(), t.size(), "fuzz-signals", kind),
          "ck_signals_load") != CK_OK) {
    ck_fuzz::check(ck_signals_zone_count(s.signals) == zones, "failed load added a zone");
    ck_fuzz::check(ck_signals_newest_time(s.signals) == newest, "failed load changed the data");
  }
}

void evaluate(Session& s, FuzzedDataProvider& in) {
  const std::string zone = in.ConsumeBool() ? std::string("ES") : in.ConsumeRandomLengthString(16);
  ck_zone_reading r{};
  const std::int64_t at =
      in.ConsumeBool() ? ck_signals_newest_time(s.signals) : in.ConsumeIntegral<std::int64_t>();
  if (checked(ck_signals_evaluate(&r, s.signals, s.engine, zone.data(), zone.size(), at),
              "ck_signals_evaluate") == CK_OK) {
    if (r.usable)
      ck_fuzz::check(std::isfinite(r.g_per_kwh) && r.g_per_kwh >= 0, "usable reading");
    else
      ck_fuzz::check(std::isnan(r.g_per_kwh), "unusable reading is not NaN");
  }
}

void reconcile(Session& s, FuzzedDataProvider& in) {
  if (s.reconciler == nullptr) {
    ck_reconciler_options opt = CK_RECONCILER_OPTIONS_INIT;
    if (in.ConsumeBool()) {
      opt.hysteresis_g_per_kwh = fuzzed_double(in);
      opt.hysteresis_fraction = fuzzed_double(in);
      opt.min_dwell_seconds = in.ConsumeIntegral<std::int64_t>();
    }
    if (checked(ck_reconciler_create(&s.reconciler, s.engine, &opt), "ck_reconciler_create") !=
        CK_OK)
      s.reconciler = nullptr;
    return;
  }
  std::vector<std::string> names(in.ConsumeIntegralInRange<std::size_t>(0, 6));
  std::vector<ck_zone_input> zones(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    names[i] = in.ConsumeBool() ? std::string(1, static_cast<char>('A' + i % 3))
                                : in.ConsumeRandomLengthString(8);
    zones[i] = {names[i].c_str(), fuzzed_double(in),
                in.ConsumeIntegralInRange<std::int32_t>(-1, 2)};
  }
  const std::size_t out_len =
      in.ConsumeBool() ? zones.size() : in.ConsumeIntegralInRange<std::size_t>(0, 7);
  std::vector<ck_zone_decision> out(out_len);
  const std::int64_t now = in.ConsumeIntegral<std::int64_t>();
  if (checked(ck_reconciler_reconcile(out.data(), out_len, s.reconciler, now,
                                      zones.empty() ? nullptr : zones.data(), zones.size()),
              "ck_reconciler_reconcile") == CK_OK) {
    const auto n = static_cast<std::int32_t>(ck_engine_qos_profile_count(s.engine));
    for (std::size_t i = 0; i < zones.size(); ++i) {
      ck_fuzz::check(out[i].profile >= -1 && out[i].profile < n, "decision profile range");
      ck_fuzz::check(std::strcmp(ck_decision_reason_name(out[i].reason), "unknown") != 0,
                     "unknown decision reason");
    }
  }
}

void node_arrays(Session& s, FuzzedDataProvider& in) {
  const std::size_t count = in.ConsumeIntegralInRange<std::size_t>(0, 4);
  std::vector<std::string> names(count), labels(count);
  std::vector<const char*> name_ptrs(count), label_ptrs(count);
  const char* res_names[] = {"cpu", "memory", "pods", "nvidia.com/gpu"};
  const std::size_t rc = in.ConsumeIntegralInRange<std::size_t>(0, 4);
  std::vector<std::vector<std::int64_t>> values(rc, std::vector<std::int64_t>(count));
  std::vector<const std::int64_t*> value_ptrs(rc);
  for (std::size_t i = 0; i < count; ++i) {
    names[i] = in.ConsumeRandomLengthString(12);
    labels[i] = in.ConsumeRandomLengthString(40);
    name_ptrs[i] = names[i].c_str();
    label_ptrs[i] = in.ConsumeBool() ? labels[i].c_str() : nullptr;
  }
  for (std::size_t r = 0; r < rc; ++r) {
    for (auto& v : values[r])
      v = in.ConsumeBool() ? in.ConsumeIntegral<std::int64_t>()
                           : in.ConsumeIntegralInRange<std::int64_t>(0, 1 << 20);
    value_ptrs[r] = values[r].data();
  }
  const std::size_t nodes_before = ck_cluster_node_count(s.cluster);
  if (in.ConsumeBool()) {
    ck_node_arrays a = CK_NODE_ARRAYS_INIT;
    a.count = count;
    a.names = name_ptrs.data();
    a.labels = label_ptrs.data();
    a.resource_count = rc;
    a.resource_names = res_names;
    a.allocatable = value_ptrs.data();
    if (checked(ck_cluster_apply_node_arrays(s.cluster, &a), "ck_cluster_apply_node_arrays") !=
        CK_OK)
      ck_fuzz::check(ck_cluster_node_count(s.cluster) == nodes_before,
                     "failed node arrays changed nodes");
  } else {
    ck_pod_arrays a = CK_POD_ARRAYS_INIT;
    a.count = count;
    a.names = name_ptrs.data();
    a.node_names = label_ptrs.data();
    a.resource_count = rc;
    a.resource_names = res_names;
    a.requests = value_ptrs.data();
    const std::size_t pods_before = ck_cluster_pod_count(s.cluster);
    if (checked(ck_cluster_apply_pod_arrays(s.cluster, &a), "ck_cluster_apply_pod_arrays") != CK_OK)
      ck_fuzz::check(ck_cluster_pod_count(s.cluster) == pods_before,
                     "failed pod arrays changed pods");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  const Bundled& b = Bundled::get();
  Session s;
  make_engine(s, in);
  checked(ck_cluster_create(&s.cluster), "ck_cluster_create");
  checked(ck_signals_create(&s.signals), "ck_signals_create");
  checked(ck_context_create(&s.context, in.ConsumeIntegral<std::uint64_t>()), "ck_context_create");

  for (int step = 0; step < 24 && in.remaining_bytes() > 0; ++step) {
    switch (in.ConsumeIntegralInRange<int>(0, 17)) {
      case 0:
        apply(s, text(in), "fuzz-objects");
        break;
      case 1:
        apply(s, in.ConsumeBool() ? b.nodes : (in.ConsumeBool() ? b.pods : b.cnrs), nullptr);
        break;
      case 2:
        load_signals(s, in);
        break;
      case 3:
        add_points(s, in);
        break;
      case 4: {
        if (s.snapshots.size() == kMaxHandles) break;
        ck_snapshot_options opt = CK_SNAPSHOT_OPTIONS_INIT;
        opt.signals = in.ConsumeBool() ? s.signals : nullptr;
        opt.at = in.ConsumeBool() ? 0 : in.ConsumeIntegral<std::int64_t>();
        ck_snapshot* snap = nullptr;
        if (checked(ck_snapshot_publish(&snap, s.cluster, s.engine, &opt), "ck_snapshot_publish") ==
            CK_OK) {
          ck_fuzz::check(ck_snapshot_node_count(snap) == ck_cluster_node_count(s.cluster),
                         "snapshot node count");
          s.snapshots.push_back(snap);
        }
        break;
      }
      case 5: {
        ck_snapshot* snap = s.snapshot(in);
        if (snap == nullptr || s.pods.size() == kMaxHandles) break;
        const std::string t = text(in);
        ck_pod* pod = nullptr;
        if (checked(ck_pod_create(&pod, snap, t.data(), t.size()), "ck_pod_create") == CK_OK)
          s.pods.push_back(pod);
        break;
      }
      case 6: {
        ck_snapshot* snap = s.snapshot(in);
        if (snap == nullptr || s.lists.size() == kMaxHandles) break;
        const std::string t = in.ConsumeBool() ? b.pods : text(in);
        ck_pod_list* list = nullptr;
        if (checked(ck_pod_list_create(&list, snap, t.data(), t.size(), "fuzz-pods"),
                    "ck_pod_list_create") == CK_OK)
          s.lists.push_back(list);
        break;
      }
      case 7:
      case 8:
        score(s, in);
        break;
      case 9:
        batch(s, in);
        break;
      case 10:
        explain(s, in);
        break;
      case 11: {
        ck_snapshot* snap = s.snapshot(in);
        const ck_pod* pod = s.pod(in);
        if (snap && pod)
          checked(ck_cluster_assume(s.cluster, snap, pod,
                                    in.ConsumeIntegralInRange<std::size_t>(0, 16)),
                  "ck_cluster_assume");
        break;
      }
      case 12: {
        const std::string name = in.ConsumeRandomLengthString(32);
        if (in.ConsumeBool())
          checked(ck_cluster_remove_node(s.cluster, name.data(), name.size()),
                  "ck_cluster_remove_node");
        else
          checked(ck_cluster_remove_pod(s.cluster, name.data(), name.size()),
                  "ck_cluster_remove_pod");
        break;
      }
      case 13:
        evaluate(s, in);
        break;
      case 14:
        reconcile(s, in);
        break;
      case 15:
        node_arrays(s, in);
        break;
      case 16: {
        ck_snapshot* snap = s.snapshot(in);
        if (snap == nullptr) break;
        const std::size_t n = ck_snapshot_node_count(snap);
        const std::size_t i = in.ConsumeIntegralInRange<std::size_t>(0, n + 1);
        const char* name = ck_snapshot_node_name(snap, i);
        ck_fuzz::check((name != nullptr) == (i < n), "node name range");
        const std::int32_t zone = ck_snapshot_node_zone(snap, i);
        ck_fuzz::check(
            zone >= -1 && zone < static_cast<std::int32_t>(ck_engine_zone_count(s.engine)),
            "node zone range");
        ck_zone_reading r{};
        checked(ck_snapshot_zone_reading(&r, snap, in.ConsumeIntegralInRange<std::size_t>(0, 8)),
                "ck_snapshot_zone_reading");
        if (name) {
          std::size_t found = 0;
          checked(ck_snapshot_find_node(&found, snap, name, std::strlen(name)),
                  "ck_snapshot_find_node");
        }
        break;
      }
      default: {
        // Freeing in any order: a snapshot or pod outlives its parents' handles.
        if (!s.snapshots.empty() && in.ConsumeBool()) {
          ck_snapshot_free(s.snapshots.back());
          s.snapshots.pop_back();
        } else if (!s.pods.empty()) {
          ck_pod_free(s.pods.back());
          s.pods.pop_back();
        }
        break;
      }
    }
  }
  return 0;
}
