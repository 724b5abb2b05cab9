// carbonkube._core: the private extension module under the Python package.
// It wraps the stable C ABI (capi/carbonkube.h) one handle per class, so
// Python has exactly the semantics of the C and Go hosts. The pure-Python
// API in bindings/python/carbonkube/ sits on top; users never import this.
//
// Conventions:
// - Every ck_status other than CK_OK becomes a Python exception of the class
//   registered for it (carbonkube.errors) with ck_last_error()'s message.
// - Scoring writes straight into NumPy arrays allocated here (structured
//   dtypes that mirror ck_pod_result / ck_node_result), with the GIL
//   released: no copy of per-node data, and other Python threads run.
// - Handles the C ABI allows on one thread at a time (cluster, signals,
//   context, reconciler) carry a mutex, so Python threads that share one
//   are serialised instead of racing.
#include <pybind11/gil_safe_call_once.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "allocator_binding.hpp"
#include "carbonkube.h"
#include "carbonkube/error.hpp"
#include "carbonkube/simulator.hpp"
#include "carbonkube/workload_trace.hpp"
#include "internal.hpp"
#include "ledger_binding.hpp"

namespace py = pybind11;

namespace {

// The exception classes, set by the Python package at import
// (_core._set_error_classes), indexed by ck_status. Deliberately leaked:
// destroying Python objects after the interpreter has finalised would crash.
py::object* const g_error_classes = new py::object[16];

[[noreturn]] void raise_status(ck_status status) {
  std::string message = ck_last_error();
  if (message.empty()) message = ck_status_name(status);
  auto index = static_cast<std::size_t>(status);
  if (index < 16 && g_error_classes[index]) {
    PyErr_SetString(g_error_classes[index].ptr(), message.c_str());
    throw py::error_already_set();
  }
  throw std::runtime_error(message);
}

void check(ck_status status) {
  if (status != CK_OK) raise_status(status);
}

// Bytes or str → a view valid while the py::object lives.
struct Text {
  std::string storage;
  const char* data = nullptr;
  std::size_t size = 0;
};

Text text_of(const py::handle& value, const char* what) {
  Text t;
  if (py::isinstance<py::bytes>(value)) {
    char* p = nullptr;
    Py_ssize_t n = 0;
    if (PyBytes_AsStringAndSize(value.ptr(), &p, &n) != 0) throw py::error_already_set();
    t.storage.assign(p, static_cast<std::size_t>(n));
  } else if (py::isinstance<py::str>(value)) {
    t.storage = value.cast<std::string>();
  } else {
    throw py::type_error(std::string(what) + ": expected str or bytes, got " +
                         std::string(py::str(py::type::of(value).attr("__name__"))));
  }
  t.data = t.storage.data();
  t.size = t.storage.size();
  return t;
}

template <typename T, void (*Free)(T*)>
struct HandleDeleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using EnginePtr = std::unique_ptr<ck_engine, HandleDeleter<ck_engine, ck_engine_free>>;
using SignalsPtr = std::unique_ptr<ck_signals, HandleDeleter<ck_signals, ck_signals_free>>;
using ClusterPtr = std::unique_ptr<ck_cluster, HandleDeleter<ck_cluster, ck_cluster_free>>;
using SnapshotPtr = std::unique_ptr<ck_snapshot, HandleDeleter<ck_snapshot, ck_snapshot_free>>;
using PodPtr = std::unique_ptr<ck_pod, HandleDeleter<ck_pod, ck_pod_free>>;
using PodListPtr = std::unique_ptr<ck_pod_list, HandleDeleter<ck_pod_list, ck_pod_list_free>>;
using ContextPtr = std::unique_ptr<ck_context, HandleDeleter<ck_context, ck_context_free>>;
using ReconcilerPtr =
    std::unique_ptr<ck_reconciler, HandleDeleter<ck_reconciler, ck_reconciler_free>>;

// ---------------------------------------------------------------------------
// Engine: immutable.

struct Engine {
  EnginePtr handle;

  Engine(const py::object& scheduler_config, const py::object& qos_profiles,
         const py::object& zone_map, std::int64_t max_signal_age_seconds, double max_g_per_kwh) {
    std::optional<Text> sched, qos, zones;
    ck_engine_options o = CK_ENGINE_OPTIONS_INIT;
    if (!scheduler_config.is_none()) {
      sched = text_of(scheduler_config, "scheduler_config");
      o.scheduler_config = sched->data;
      o.scheduler_config_len = sched->size;
    }
    if (!qos_profiles.is_none()) {
      qos = text_of(qos_profiles, "qos_profiles");
      o.qos_profiles = qos->data;
      o.qos_profiles_len = qos->size;
    }
    if (!zone_map.is_none()) {
      zones = text_of(zone_map, "zone_map");
      o.zone_map = zones->data;
      o.zone_map_len = zones->size;
    }
    o.max_signal_age_seconds = max_signal_age_seconds;
    o.max_g_per_kwh = max_g_per_kwh;
    ck_engine* e = nullptr;
    check(ck_engine_create(&e, &o));
    handle.reset(e);
  }

  std::vector<std::string> profile_names() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < ck_engine_profile_count(handle.get()); ++i)
      out.emplace_back(ck_engine_profile_name(handle.get(), i));
    return out;
  }
  std::vector<std::pair<std::string, std::int64_t>> score_plugins(std::size_t profile) const {
    check_profile(profile);
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (std::size_t i = 0; i < ck_engine_score_plugin_count(handle.get(), profile); ++i)
      out.emplace_back(ck_engine_score_plugin_name(handle.get(), profile, i),
                       ck_engine_score_plugin_weight(handle.get(), profile, i));
    return out;
  }
  std::vector<std::string> filter_plugins(std::size_t profile) const {
    check_profile(profile);
    std::vector<std::string> out;
    for (std::size_t i = 0; i < ck_engine_filter_plugin_count(handle.get(), profile); ++i)
      out.emplace_back(ck_engine_filter_plugin_name(handle.get(), profile, i));
    return out;
  }
  std::vector<std::pair<std::string, double>> qos_profiles() const {
    std::vector<std::pair<std::string, double>> out;
    for (std::size_t i = 0; i < ck_engine_qos_profile_count(handle.get()); ++i)
      out.emplace_back(ck_engine_qos_profile_name(handle.get(), i),
                       ck_engine_qos_profile_threshold(handle.get(), i));
    return out;
  }
  std::vector<std::string> zones() const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < ck_engine_zone_count(handle.get()); ++i)
      out.emplace_back(ck_engine_zone_name(handle.get(), i));
    return out;
  }
  std::size_t max_score_plugins() const {
    std::size_t widest = 0;
    for (std::size_t p = 0; p < ck_engine_profile_count(handle.get()); ++p)
      widest = std::max(widest, ck_engine_score_plugin_count(handle.get(), p));
    return widest;
  }
  void check_profile(std::size_t profile) const {
    if (profile >= ck_engine_profile_count(handle.get()))
      throw py::index_error("profile " + std::to_string(profile) + " out of range (" +
                            std::to_string(ck_engine_profile_count(handle.get())) + " profiles)");
  }
};

py::dict reading_dict(const ck_zone_reading& r) {
  py::dict d;
  d["usable"] = r.usable != 0;
  d["status"] = r.status;
  d["g_per_kwh"] = r.g_per_kwh;
  d["age_seconds"] = r.age_seconds;
  d["estimated"] = r.estimated != 0;
  d["from_forecast"] = r.from_forecast != 0;
  d["kind"] = r.kind;
  return d;
}

// ---------------------------------------------------------------------------
// Signals: one writer at a time.

struct Signals {
  SignalsPtr handle;
  std::mutex mutex;

  Signals() {
    ck_signals* s = nullptr;
    check(ck_signals_create(&s));
    handle.reset(s);
  }
  std::size_t load(const py::object& text, int format, const std::string& source, int kind) {
    Text t = text_of(text, "text");
    std::size_t skipped = 0;
    ck_status status;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex);
      status = ck_signals_load(&skipped, handle.get(), static_cast<ck_signal_format>(format),
                               t.data, t.size, source.c_str(), kind);
    }
    check(status);
    return skipped;
  }
  void add_points(const std::string& zone, int kind,
                  const py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>& times,
                  const py::array_t<double, py::array::c_style | py::array::forcecast>& values,
                  const py::object& estimated) {
    if (times.ndim() != 1 || values.ndim() != 1 || times.size() != values.size())
      throw py::value_error("add_points: times and values must be 1-D arrays of one length (" +
                            std::to_string(times.size()) + " times, " +
                            std::to_string(values.size()) + " values)");
    std::vector<ck_signal_point> points(static_cast<std::size_t>(times.size()));
    std::optional<py::array_t<bool, py::array::c_style | py::array::forcecast>> est;
    if (!estimated.is_none()) {
      est = estimated.cast<py::array_t<bool, py::array::c_style | py::array::forcecast>>();
      if (est->ndim() != 1 || est->size() != times.size())
        throw py::value_error("add_points: estimated must have one entry per point");
    }
    auto t = times.unchecked<1>();
    auto v = values.unchecked<1>();
    for (py::ssize_t i = 0; i < times.size(); ++i) {
      auto& p = points[static_cast<std::size_t>(i)];
      p.unix_seconds = t(i);
      p.g_per_kwh = v(i);
      p.estimated = est ? (est->at(i) ? 1 : 0) : 0;
    }
    std::lock_guard lock(mutex);
    check(ck_signals_add_points(handle.get(), zone.data(), zone.size(),
                                static_cast<ck_intensity_kind>(kind), points.data(),
                                points.size()));
  }
  std::size_t zone_count() {
    std::lock_guard lock(mutex);
    return ck_signals_zone_count(handle.get());
  }
  std::int64_t newest_time() {
    std::lock_guard lock(mutex);
    return ck_signals_newest_time(handle.get());
  }
  py::array_t<double> forecast(const std::string& zone, std::int64_t issue_time, std::size_t hours,
                               int model) {
    if (hours == 0 || hours > 168)
      throw py::value_error("forecast: hours is " + std::to_string(hours) + "; it must be 1..168");
    py::array_t<double> out(static_cast<py::ssize_t>(hours));
    double* data = out.mutable_data();
    ck_status status;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex);
      status = ck_signals_forecast(data, hours, handle.get(), zone.data(), zone.size(), issue_time,
                                   static_cast<ck_forecast_model>(model));
    }
    check(status);
    return out;
  }
  py::dict evaluate(const Engine& engine, const std::string& zone, std::int64_t at) {
    ck_zone_reading r{};
    ck_status status;
    {
      std::lock_guard lock(mutex);
      status =
          ck_signals_evaluate(&r, handle.get(), engine.handle.get(), zone.data(), zone.size(), at);
    }
    check(status);
    return reading_dict(r);
  }
};

// ---------------------------------------------------------------------------
// Snapshot, pods: immutable.

struct Snapshot {
  SnapshotPtr handle;
  std::size_t node_count() const { return ck_snapshot_node_count(handle.get()); }
  std::vector<std::string> node_names() const {
    std::vector<std::string> out;
    out.reserve(node_count());
    for (std::size_t i = 0; i < node_count(); ++i)
      out.emplace_back(ck_snapshot_node_name(handle.get(), i));
    return out;
  }
  std::size_t find_node(const std::string& name) const {
    std::size_t i = 0;
    check(ck_snapshot_find_node(&i, handle.get(), name.data(), name.size()));
    return i;
  }
  py::array_t<std::int32_t> node_zones() const {
    py::array_t<std::int32_t> out(static_cast<py::ssize_t>(node_count()));
    auto o = out.mutable_unchecked<1>();
    for (std::size_t i = 0; i < node_count(); ++i)
      o(static_cast<py::ssize_t>(i)) = ck_snapshot_node_zone(handle.get(), i);
    return out;
  }
  py::dict zone_reading(std::size_t zone) const {
    ck_zone_reading r{};
    check(ck_snapshot_zone_reading(&r, handle.get(), zone));
    return reading_dict(r);
  }
  std::int64_t time() const { return ck_snapshot_time(handle.get()); }
};

struct Pod {
  PodPtr owned;                  // set for a pod made by Snapshot.pod
  std::shared_ptr<void> parent;  // keeps a PodList alive for a pod borrowed from it
  const ck_pod* pod = nullptr;
  std::string key() const { return ck_pod_key(pod); }
};

struct PodList {
  std::shared_ptr<ck_pod_list> handle;
  std::size_t size() const { return ck_pod_list_count(handle.get()); }
  Pod get(py::ssize_t i) const {
    auto n = static_cast<py::ssize_t>(size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) throw py::index_error("pod index out of range");
    Pod p;
    p.parent = handle;
    p.pod = ck_pod_list_get(handle.get(), static_cast<std::size_t>(i));
    return p;
  }
};

Pod make_pod(const Snapshot& snap, const py::object& text) {
  Text t = text_of(text, "pod");
  ck_pod* p = nullptr;
  check(ck_pod_create(&p, snap.handle.get(), t.data, t.size));
  Pod out;
  out.owned.reset(p);
  out.pod = p;
  return out;
}

PodList make_pod_list(const Snapshot& snap, const py::object& text, const std::string& source) {
  Text t = text_of(text, "pods");
  ck_pod_list* l = nullptr;
  ck_status status;
  {
    py::gil_scoped_release release;
    status = ck_pod_list_create(&l, snap.handle.get(), t.data, t.size, source.c_str());
  }
  check(status);
  PodList out;
  out.handle.reset(l, ck_pod_list_free);
  return out;
}

// ---------------------------------------------------------------------------
// Cluster: one writer at a time.

struct Cluster {
  ClusterPtr handle;
  std::mutex mutex;

  Cluster() {
    ck_cluster* c = nullptr;
    check(ck_cluster_create(&c));
    handle.reset(c);
  }
  py::dict apply(const py::object& text, const std::string& source) {
    Text t = text_of(text, "objects");
    ck_apply_counts counts{};
    ck_status status;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex);
      status = ck_cluster_apply(&counts, handle.get(), t.data, t.size, source.c_str());
    }
    check(status);
    py::dict d;
    d["nodes"] = counts.nodes;
    d["pods"] = counts.pods;
    d["topology"] = counts.topology;
    d["skipped"] = counts.skipped;
    return d;
  }

  using Int64Array = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

  // Resource columns from a dict name -> 1-D int64 array of `count` values.
  struct Columns {
    std::vector<std::string> names;
    std::vector<const char*> name_ptrs;
    std::vector<Int64Array> arrays;
    std::vector<const std::int64_t*> ptrs;
  };
  static Columns columns(const py::dict& resources, std::size_t count, const char* what) {
    Columns c;
    for (auto item : resources) {
      c.names.push_back(py::cast<std::string>(item.first));
      Int64Array a = py::cast<Int64Array>(item.second);
      if (a.ndim() != 1 || static_cast<std::size_t>(a.size()) != count)
        throw py::value_error(std::string(what) + "[\"" + c.names.back() +
                              "\"]: expected a 1-D array of " + std::to_string(count) +
                              " values, got shape of size " + std::to_string(a.size()));
      c.arrays.push_back(std::move(a));
    }
    for (std::size_t i = 0; i < c.names.size(); ++i) {
      c.name_ptrs.push_back(c.names[i].c_str());
      c.ptrs.push_back(c.arrays[i].data());
    }
    return c;
  }
  static std::vector<const char*> c_strings(const std::vector<std::string>& v) {
    std::vector<const char*> out;
    out.reserve(v.size());
    for (const auto& s : v) out.push_back(s.c_str());
    return out;
  }

  void apply_node_arrays(const std::vector<std::string>& names,
                         const std::optional<std::vector<std::string>>& labels,
                         const py::dict& allocatable) {
    if (labels && labels->size() != names.size())
      throw py::value_error("labels: expected one entry per node name");
    Columns c = columns(allocatable, names.size(), "allocatable");
    std::vector<const char*> name_ptrs = c_strings(names);
    std::vector<const char*> label_ptrs;
    if (labels) label_ptrs = c_strings(*labels);
    ck_node_arrays a = CK_NODE_ARRAYS_INIT;
    a.count = names.size();
    a.names = name_ptrs.data();
    a.labels = labels ? label_ptrs.data() : nullptr;
    a.resource_count = c.names.size();
    a.resource_names = c.name_ptrs.data();
    a.allocatable = c.ptrs.data();
    std::lock_guard lock(mutex);
    check(ck_cluster_apply_node_arrays(handle.get(), &a));
  }

  void apply_pod_arrays(const std::vector<std::string>& namespaces,
                        const std::vector<std::string>& names,
                        const std::vector<std::string>& node_names, const py::dict& requests) {
    if (namespaces.size() != names.size() || node_names.size() != names.size())
      throw py::value_error("namespaces, names and node_names must have one entry per pod");
    Columns c = columns(requests, names.size(), "requests");
    std::vector<const char*> ns = c_strings(namespaces), nm = c_strings(names),
                             nodes = c_strings(node_names);
    ck_pod_arrays a = CK_POD_ARRAYS_INIT;
    a.count = names.size();
    a.namespaces = ns.data();
    a.names = nm.data();
    a.node_names = nodes.data();
    a.resource_count = c.names.size();
    a.resource_names = c.name_ptrs.data();
    a.requests = c.ptrs.data();
    std::lock_guard lock(mutex);
    check(ck_cluster_apply_pod_arrays(handle.get(), &a));
  }

  void remove_node(const std::string& name) {
    std::lock_guard lock(mutex);
    check(ck_cluster_remove_node(handle.get(), name.data(), name.size()));
  }
  void remove_pod(const std::string& key) {
    std::lock_guard lock(mutex);
    check(ck_cluster_remove_pod(handle.get(), key.data(), key.size()));
  }
  std::size_t node_count() {
    std::lock_guard lock(mutex);
    return ck_cluster_node_count(handle.get());
  }
  std::size_t pod_count() {
    std::lock_guard lock(mutex);
    return ck_cluster_pod_count(handle.get());
  }
  void assume(const Snapshot& snap, const Pod& pod, std::size_t node) {
    std::lock_guard lock(mutex);
    check(ck_cluster_assume(handle.get(), snap.handle.get(), pod.pod, node));
  }
  Snapshot publish(const Engine& engine, Signals* signals, std::int64_t at,
                   const py::object& ledger) {
    ck_snapshot_options o = CK_SNAPSHOT_OPTIONS_INIT;
    o.at = at;
    ck_snapshot* s = nullptr;
    ck_status status;
    std::mutex* ledger_mutex = nullptr;
    if (!ledger.is_none()) o.ledger = ledger_handle(ledger, &ledger_mutex);
    {
      py::gil_scoped_release release;
      // Locks in the order cluster, signals, ledger (ledger.cpp too).
      std::lock_guard lock(mutex);
      std::unique_lock<std::mutex> signals_lock;
      if (signals) {
        signals_lock = std::unique_lock(signals->mutex);
        o.signals = signals->handle.get();
      }
      std::unique_lock<std::mutex> ledger_lock;
      if (ledger_mutex) ledger_lock = std::unique_lock(*ledger_mutex);
      status = ck_snapshot_publish(&s, handle.get(), engine.handle.get(), &o);
    }
    check(status);
    Snapshot out;
    out.handle.reset(s);
    return out;
  }
};

// ---------------------------------------------------------------------------
// Scoring.

// NumPy dtypes that mirror the C structs, so the C ABI writes into arrays.
// Built once (building a dtype costs microseconds) and deliberately leaked,
// like the error classes.
py::dtype make_node_result_dtype() {
  static_assert(sizeof(ck_node_result) == 24);
  py::list names, formats, offsets;
  names.append("total");
  formats.append("<i8");
  offsets.append(offsetof(ck_node_result, total));
  names.append("state");
  formats.append("<i4");
  offsets.append(offsetof(ck_node_result, state));
  names.append("failed_filter");
  formats.append("<i4");
  offsets.append(offsetof(ck_node_result, failed_filter));
  names.append("reasons");
  formats.append("<u4");
  offsets.append(offsetof(ck_node_result, reasons));
  py::dict spec;
  spec["names"] = names;
  spec["formats"] = formats;
  spec["offsets"] = offsets;
  spec["itemsize"] = sizeof(ck_node_result);
  return py::dtype::from_args(spec);
}

py::dtype make_pod_result_dtype() {
  py::list names, formats, offsets;
  auto field = [&](const char* n, const char* f, std::size_t off) {
    names.append(n);
    formats.append(f);
    offsets.append(off);
  };
  field("selected", "<i8", offsetof(ck_pod_result, selected));
  field("total", "<i8", offsetof(ck_pod_result, total));
  field("feasible", "<u4", offsetof(ck_pod_result, feasible));
  field("processed", "<u4", offsetof(ck_pod_result, processed));
  field("status", "<i4", offsetof(ck_pod_result, status));
  field("profile", "<u4", offsetof(ck_pod_result, profile));
  py::dict spec;
  spec["names"] = names;
  spec["formats"] = formats;
  spec["offsets"] = offsets;
  spec["itemsize"] = sizeof(ck_pod_result);
  return py::dtype::from_args(spec);
}

// Built under pybind11's GIL-safe once (a plain function-local static would
// run Python code under the static-initialisation guard: a known deadlock).
const py::dtype& node_result_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::dtype> storage;
  return storage.call_once_and_store_result([] { return make_node_result_dtype(); }).get_stored();
}
const py::dtype& pod_result_dtype() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::dtype> storage;
  return storage.call_once_and_store_result([] { return make_pod_result_dtype(); }).get_stored();
}

struct Context {
  ContextPtr handle;
  std::mutex mutex;

  explicit Context(std::uint64_t seed) {
    ck_context* c = nullptr;
    check(ck_context_create(&c, seed));
    handle.reset(c);
  }

  // Returns (pod_result: ck_pod_result record, nodes: ck_node_result array,
  // scores: int64 (nodes, plugins of the profile that scored) or None).
  py::tuple score_pod(const Engine& engine, const Snapshot& snap, const Pod& pod,
                      std::size_t profile, bool with_scores) {
    const std::size_t n = snap.node_count();
    const std::size_t width = engine.max_score_plugins();
    py::array pod_out(pod_result_dtype(), 1);
    py::array nodes(node_result_dtype(), static_cast<py::ssize_t>(n));
    py::array_t<std::int64_t> scores;
    if (with_scores)
      scores = py::array_t<std::int64_t>(
          {static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(std::max<std::size_t>(width, 1))});
    ck_score_options o = CK_SCORE_OPTIONS_INIT;
    o.profile = profile;
    auto* out = static_cast<ck_pod_result*>(pod_out.mutable_data());
    auto* out_nodes = static_cast<ck_node_result*>(nodes.mutable_data());
    std::int64_t* out_scores = with_scores ? scores.mutable_data() : nullptr;
    std::size_t scores_len = with_scores ? n * std::max<std::size_t>(width, 1) : 0;
    ck_status status;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex);
      status = ck_score_pod(out, out_nodes, n, out_scores, scores_len, engine.handle.get(),
                            snap.handle.get(), pod.pod, handle.get(), &o);
    }
    check(status);
    py::object score_obj = py::none();
    if (with_scores) {
      // The C ABI packs node-major rows of the scoring profile's width.
      std::size_t plugins = ck_engine_score_plugin_count(engine.handle.get(), out->profile);
      py::array_t<std::int64_t> packed(
          {static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(plugins)});
      std::copy(out_scores, out_scores + n * plugins, packed.mutable_data());
      score_obj = packed;
    }
    return py::make_tuple(pod_out[py::int_(0)], nodes, score_obj);
  }

  // Selection only, for the lowest per-call cost: (selected, total, feasible)
  // with selected -1 when no node is feasible. No arrays are made.
  py::tuple select(const Engine& engine, const Snapshot& snap, const Pod& pod,
                   std::size_t profile) {
    ck_pod_result out{};
    ck_score_options o = CK_SCORE_OPTIONS_INIT;
    o.profile = profile;
    ck_status status;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex);
      status = ck_score_pod(&out, nullptr, 0, nullptr, 0, engine.handle.get(), snap.handle.get(),
                            pod.pod, handle.get(), &o);
    }
    check(status);
    return py::make_tuple(out.selected, out.total, out.feasible);
  }

  // Returns (results: ck_pod_result array, totals: int64 (pods, nodes) or None).
  py::tuple score_batch(const Engine& engine, const Snapshot& snap, const std::vector<Pod*>& pods,
                        std::size_t profile, bool with_totals) {
    const std::size_t n = snap.node_count();
    std::vector<const ck_pod*> ptrs;
    ptrs.reserve(pods.size());
    for (const Pod* p : pods) {
      if (!p) throw py::type_error("score_batch: None in pods");
      ptrs.push_back(p->pod);
    }
    py::array results(pod_result_dtype(), static_cast<py::ssize_t>(pods.size()));
    std::memset(results.mutable_data(), 0, pods.size() * sizeof(ck_pod_result));
    py::array_t<std::int64_t> totals;
    if (with_totals)
      totals = py::array_t<std::int64_t>(
          {static_cast<py::ssize_t>(pods.size()), static_cast<py::ssize_t>(n)});
    ck_score_options o = CK_SCORE_OPTIONS_INIT;
    o.profile = profile;
    auto* out = static_cast<ck_pod_result*>(results.mutable_data());
    std::int64_t* out_totals = with_totals ? totals.mutable_data() : nullptr;
    ck_status status;
    {
      py::gil_scoped_release release;
      std::lock_guard lock(mutex);
      status = ck_score_batch(out, pods.size(), out_totals, with_totals ? pods.size() * n : 0,
                              engine.handle.get(), snap.handle.get(), ptrs.data(), ptrs.size(),
                              handle.get(), &o);
    }
    // A bad pod does not stop the others: its status is in its record. Only
    // errors that concern the whole call are raised.
    bool per_pod = false;
    for (std::size_t i = 0; i < pods.size(); ++i) per_pod = per_pod || out[i].status != CK_OK;
    if (status != CK_OK && !per_pod) raise_status(status);
    return py::make_tuple(results, with_totals ? py::object(totals) : py::object(py::none()),
                          std::string(status == CK_OK ? "" : ck_last_error()));
  }

  std::string explain() {
    std::lock_guard lock(mutex);
    std::size_t len = 0;
    ck_status status = ck_context_explain(&len, nullptr, 0, handle.get());
    if (status != CK_ERROR_BUFFER_TOO_SMALL) check(status);
    std::string buffer(len + 1, '\0');
    check(ck_context_explain(&len, buffer.data(), buffer.size(), handle.get()));
    buffer.resize(len);
    return buffer;
  }
  std::string node_reasons(std::size_t node) {
    std::lock_guard lock(mutex);
    std::size_t len = 0;
    ck_status status = ck_context_node_reasons(&len, nullptr, 0, handle.get(), node);
    if (status != CK_ERROR_BUFFER_TOO_SMALL) check(status);
    std::string buffer(len + 1, '\0');
    check(ck_context_node_reasons(&len, buffer.data(), buffer.size(), handle.get(), node));
    buffer.resize(len);
    return buffer;
  }
};

// ---------------------------------------------------------------------------
// QoS reconciler: one controller loop.

struct Reconciler {
  ReconcilerPtr handle;
  std::mutex mutex;

  Reconciler(const Engine& engine, double hysteresis_g_per_kwh, double hysteresis_fraction,
             std::int64_t min_dwell_seconds) {
    ck_reconciler_options o = CK_RECONCILER_OPTIONS_INIT;
    o.hysteresis_g_per_kwh = hysteresis_g_per_kwh;
    o.hysteresis_fraction = hysteresis_fraction;
    o.min_dwell_seconds = min_dwell_seconds;
    ck_reconciler* r = nullptr;
    check(ck_reconciler_create(&r, engine.handle.get(), &o));
    handle.reset(r);
  }

  py::list reconcile(std::int64_t now,
                     const std::vector<std::tuple<std::string, double, bool>>& zones) {
    std::vector<ck_zone_input> in(zones.size());
    for (std::size_t i = 0; i < zones.size(); ++i) {
      in[i].zone = std::get<0>(zones[i]).c_str();
      in[i].g_per_kwh = std::get<1>(zones[i]);
      in[i].usable = std::get<2>(zones[i]) ? 1 : 0;
    }
    std::vector<ck_zone_decision> out(std::max<std::size_t>(zones.size(), 1));
    {
      std::lock_guard lock(mutex);
      check(
          ck_reconciler_reconcile(out.data(), out.size(), handle.get(), now, in.data(), in.size()));
    }
    py::list result;
    for (std::size_t i = 0; i < zones.size(); ++i) {
      py::dict d;
      d["zone"] = std::get<0>(zones[i]);
      d["profile"] = out[i].profile;
      d["previous"] = out[i].previous;
      d["changed"] = out[i].changed != 0;
      d["reason"] = std::string(ck_decision_reason_name(out[i].reason));
      d["since"] = out[i].since_unix_seconds;
      result.append(d);
    }
    return result;
  }
};

// The temporal planner: (start, expected_g, immediate_g, immediate, runs as
// an int64 (n, 2) array).
py::tuple plan_job(std::int64_t curve_start, std::int64_t step_seconds,
                   const py::array_t<double, py::array::c_style | py::array::forcecast>& values,
                   std::int64_t arrival, std::int64_t duration_seconds, std::int64_t deadline,
                   bool interruptible, double power_kw) {
  if (values.ndim() != 1) throw py::value_error("plan: the curve must be a 1-D array");
  ck_job job = CK_JOB_INIT;
  job.arrival = arrival;
  job.duration_seconds = duration_seconds;
  job.deadline = deadline;
  job.interruptible = interruptible ? 1 : 0;
  job.power_kw = power_kw;
  // count + 1 runs always suffice (runs are disjoint and non-adjacent).
  std::vector<ck_run> runs(static_cast<std::size_t>(values.size()) + 1);
  ck_plan plan{};
  check(ck_plan_job(&plan, runs.data(), runs.size(), curve_start, step_seconds, values.data(),
                    static_cast<std::size_t>(values.size()), &job));
  py::array_t<std::int64_t> out({static_cast<py::ssize_t>(plan.run_count), py::ssize_t{2}});
  auto o = out.mutable_unchecked<2>();
  for (std::size_t i = 0; i < plan.run_count; ++i) {
    o(static_cast<py::ssize_t>(i), 0) = runs[i].start;
    o(static_cast<py::ssize_t>(i), 1) = runs[i].end;
  }
  return py::make_tuple(plan.start, plan.expected_g, plan.immediate_g, plan.immediate != 0, out);
}

// The trace-driven simulator on the signals' series (simulator.hpp): one
// result dict per policy, in the order given. The GIL is released while it
// runs (a year of the bundled trace takes seconds).
py::list simulate(
    Signals& signals, const std::vector<std::pair<std::string, std::size_t>>& zones,
    const py::array_t<double, py::array::c_style | py::array::forcecast>& arrival_hours,
    const py::array_t<double, py::array::c_style | py::array::forcecast>& length_hours,
    const py::array_t<double, py::array::c_style | py::array::forcecast>& cpus,
    const std::vector<std::string>& policy_names, double slack_hours, std::uint64_t seed,
    const std::string& model_name) {
  namespace ck = carbonkube;
  if (arrival_hours.ndim() != 1 || length_hours.size() != arrival_hours.size() ||
      cpus.size() != arrival_hours.size())
    throw py::value_error(
        "simulate: arrival_hours, length_hours and cpus must be 1-D arrays of "
        "one length");
  const std::optional<ck::ForecastModel> model = ck::parse_forecast_model(model_name);
  if (!model) throw py::value_error("simulate: unknown forecast model \"" + model_name + "\"");
  std::vector<ck::SimPolicy> policies;
  for (const std::string& name : policy_names) {
    std::optional<ck::SimPolicy> p = ck::parse_policy(name, *model);
    if (!p) throw py::value_error("simulate: unknown policy \"" + name + "\"");
    policies.push_back(*p);
  }
  std::vector<ck::TraceJob> trace(static_cast<std::size_t>(arrival_hours.size()));
  for (std::size_t i = 0; i < trace.size(); ++i)
    trace[i] = {arrival_hours.data()[i], length_hours.data()[i], cpus.data()[i]};
  std::vector<ck::ClusterZone> cluster;
  for (const auto& [zone, nodes] : zones) {
    ck::ClusterZone z;
    z.zone = zone;
    z.nodes = nodes;
    cluster.push_back(z);
  }
  ck::SimOptions options;
  options.slack_hours = slack_hours;
  options.seed = seed;
  std::shared_ptr<const ck::CarbonSignals> series;
  {
    std::lock_guard lock(signals.mutex);
    series = signals.handle->current;
  }
  std::vector<ck::PolicyResult> results;
  {
    py::gil_scoped_release release;
    ck::Simulator sim(*series, std::move(cluster), std::move(trace), options);
    for (const ck::SimPolicy& p : policies) results.push_back(sim.run(p));
  }
  py::list out;
  for (const ck::PolicyResult& r : results) {
    py::dict d;
    d["policy"] = r.policy.name;
    d["slack_hours"] = r.slack_hours;
    d["jobs"] = r.jobs;
    d["excluded"] = r.excluded;
    d["kg"] = r.kg;
    d["energy_kwh"] = r.energy_kwh;
    d["idle_kg"] = r.idle_kg;
    d["idle_kwh"] = r.idle_kwh;
    d["deadline_misses"] = r.deadline_misses;
    d["mean_wait_hours"] = r.mean_wait_hours;
    d["p95_wait_hours"] = r.p95_wait_hours;
    d["max_wait_hours"] = r.max_wait_hours;
    d["utilisation"] = r.utilisation;
    py::dict zones_out;
    for (const ck::ZoneResult& z : r.zones) {
      py::dict zd;
      zd["jobs"] = z.jobs;
      zd["kg"] = z.kg;
      zd["energy_kwh"] = z.energy_kwh;
      zd["utilisation"] = z.utilisation;
      zones_out[py::str(z.zone)] = zd;
    }
    d["zones"] = zones_out;
    py::list months;
    for (const ck::MonthResult& mo : r.months)
      months.append(py::make_tuple(mo.year, mo.month, mo.jobs, mo.kg, mo.energy_kwh));
    d["months"] = months;
    out.append(d);
  }
  return out;
}

py::tuple load_trace(const std::string& path) {
  std::vector<carbonkube::TraceJob> jobs = carbonkube::load_workload_csv(path);
  py::array_t<double> a(static_cast<py::ssize_t>(jobs.size())), l(a.size()), c(a.size());
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    a.mutable_data()[i] = jobs[i].arrival_hours;
    l.mutable_data()[i] = jobs[i].length_hours;
    c.mutable_data()[i] = jobs[i].cpus;
  }
  return py::make_tuple(a, l, c);
}

}  // namespace

// The handles ledger.cpp reads (ledger_binding.hpp).
void ck_python_check(ck_status status) { check(status); }
const ck_engine* engine_handle(const py::handle& engine) {
  return engine.cast<const Engine&>().handle.get();
}
const ck_signals* signals_handle(const py::handle& signals, std::mutex** mutex) {
  auto& s = signals.cast<Signals&>();
  *mutex = &s.mutex;
  return s.handle.get();
}
const ck_snapshot* snapshot_handle(const py::handle& snapshot) {
  return snapshot.cast<const Snapshot&>().handle.get();
}
const ck_pod* pod_handle(const py::handle& pod) { return pod.cast<const Pod&>().pod; }

PYBIND11_MODULE(_core, m) {
  m.doc() = "carbonkube's compiled core (private: use the carbonkube package)";
  m.attr("version") = std::string(ck_version_string());
  m.attr("version_number") = ck_version_number();

  m.def("_set_error_classes", [](const py::dict& classes) {
    for (auto item : classes) {
      auto status = py::cast<std::size_t>(item.first);
      if (status < 16) g_error_classes[status] = py::reinterpret_borrow<py::object>(item.second);
    }
  });

  py::class_<Engine>(m, "Engine")
      .def(
          py::init<const py::object&, const py::object&, const py::object&, std::int64_t, double>(),
          py::arg("scheduler_config"), py::arg("qos_profiles"), py::arg("zone_map"),
          py::arg("max_signal_age_seconds"), py::arg("max_g_per_kwh"))
      .def("profile_names", &Engine::profile_names)
      .def("score_plugins", &Engine::score_plugins)
      .def("filter_plugins", &Engine::filter_plugins)
      .def("qos_profiles", &Engine::qos_profiles)
      .def("zones", &Engine::zones);

  py::class_<Signals>(m, "Signals")
      .def(py::init<>())
      .def("load", &Signals::load)
      .def("add_points", &Signals::add_points)
      .def("zone_count", &Signals::zone_count)
      .def("newest_time", &Signals::newest_time)
      .def("forecast", &Signals::forecast)
      .def("evaluate", &Signals::evaluate);

  py::class_<Snapshot>(m, "Snapshot")
      .def("node_count", &Snapshot::node_count)
      .def("node_names", &Snapshot::node_names)
      .def("find_node", &Snapshot::find_node)
      .def("node_zones", &Snapshot::node_zones)
      .def("zone_reading", &Snapshot::zone_reading)
      .def("time", &Snapshot::time)
      .def("pod", &make_pod)
      .def("pending_pods", &make_pod_list);

  py::class_<Pod>(m, "Pod").def("key", &Pod::key);
  py::class_<PodList>(m, "PodList").def("__len__", &PodList::size).def("get", &PodList::get);

  py::class_<Cluster>(m, "Cluster")
      .def(py::init<>())
      .def("apply", &Cluster::apply)
      .def("apply_node_arrays", &Cluster::apply_node_arrays)
      .def("apply_pod_arrays", &Cluster::apply_pod_arrays)
      .def("remove_node", &Cluster::remove_node)
      .def("remove_pod", &Cluster::remove_pod)
      .def("node_count", &Cluster::node_count)
      .def("pod_count", &Cluster::pod_count)
      .def("assume", &Cluster::assume)
      .def("publish", &Cluster::publish, py::arg("engine"), py::arg("signals").none(true),
           py::arg("at"), py::arg("ledger") = py::none());

  py::class_<Context>(m, "Context")
      .def(py::init<std::uint64_t>())
      .def("score_pod", &Context::score_pod)
      .def("score_batch", &Context::score_batch)
      .def("select", &Context::select)
      .def("explain", &Context::explain)
      .def("node_reasons", &Context::node_reasons);

  py::class_<Reconciler>(m, "Reconciler")
      .def(py::init<const Engine&, double, double, std::int64_t>())
      .def("reconcile", &Reconciler::reconcile);

  m.def("detect_signal_format", [](const py::bytes& text, const std::string& name) {
    const std::string t = text;
    ck_signal_format f = CK_SIGNALS_AUTO;
    check(ck_signals_detect_format(&f, t.data(), t.size(), name.c_str()));
    return static_cast<int>(f);
  });
  m.def("plan_job", &plan_job);
  m.def("simulate", &simulate);
  m.def("load_trace", &load_trace);

  // C++ exceptions from the parts bound without the C ABI (allocator.cpp)
  // become the same classes as the C ABI's statuses.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const carbonkube::Error& e) {
      ck_status status = CK_ERROR_INVALID_INPUT;
      if (e.kind() == carbonkube::ErrorKind::kLimitExceeded) status = CK_ERROR_LIMIT_EXCEEDED;
      if (e.kind() == carbonkube::ErrorKind::kNotFound) status = CK_ERROR_NOT_FOUND;
      auto index = static_cast<std::size_t>(status);
      if (g_error_classes[index]) {
        PyErr_SetString(g_error_classes[index].ptr(), e.what());
        return;
      }
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  bind_allocator(m);
  bind_ledger(m);
  m.attr("PROFILE_BY_SCHEDULER_NAME") = py::int_(static_cast<std::size_t>(SIZE_MAX));
}
