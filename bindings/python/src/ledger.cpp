// carbonkube._core: the carbon ledger, the budget hook, the migration
// advisor and the metrics, over the C ABI (capi/carbonkube.h) like the rest
// of the module: one handle per class, every status other than CK_OK raised
// as the package's exception class, a mutex per handle the C ABI allows on
// one thread at a time.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "carbonkube.h"
#include "ledger_binding.hpp"

namespace py = pybind11;

namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

std::string two_call(const std::function<ck_status(std::size_t*, char*, std::size_t)>& call) {
  std::size_t need = 0;
  ck_status st = call(&need, nullptr, 0);
  if (st == CK_OK) return {};
  if (st != CK_ERROR_BUFFER_TOO_SMALL) ck_python_check(st);
  std::string out(need + 1, '\0');
  ck_python_check(call(&need, out.data(), out.size()));
  out.resize(need);
  return out;
}

py::dict totals_dict(const ck_carbon_totals& t) {
  py::dict d;
  d["energy_kwh"] = t.energy_kwh;
  d["operational_g"] = t.operational_g;
  d["embodied_g"] = t.embodied_g;
  d["total_g"] = t.total_g;
  d["seconds"] = t.seconds;
  return d;
}

ck_carbon_totals totals_of(const py::dict& d) {
  ck_carbon_totals t{};
  t.energy_kwh = d["energy_kwh"].cast<double>();
  t.operational_g = d["operational_g"].cast<double>();
  t.embodied_g = d["embodied_g"].cast<double>();
  t.total_g = d["total_g"].cast<double>();
  t.seconds = d["seconds"].cast<std::int64_t>();
  return t;
}

struct Ledger {
  std::unique_ptr<ck_ledger, Deleter<ck_ledger, ck_ledger_free>> handle;
  std::mutex mutex;

  Ledger(const py::dict& base, int idle_attribution, bool book_idle, double gpu_utilisation,
         double warn_fraction) {
    ck_ledger_options o = CK_LEDGER_OPTIONS_INIT;
    auto field = [&](const char* key, double& into) {
      if (base.contains(key)) into = base[key].cast<double>();
    };
    field("idle_watts_per_vcpu", o.base.idle_watts_per_vcpu);
    field("max_watts_per_vcpu", o.base.max_watts_per_vcpu);
    field("memory_watts_per_gb", o.base.memory_watts_per_gb);
    field("gpu_idle_watts", o.base.gpu_idle_watts);
    field("gpu_max_watts", o.base.gpu_max_watts);
    field("pue", o.base.pue);
    field("embodied_kg", o.base.embodied_kg);
    field("lifetime_years", o.base.lifetime_years);
    for (auto item : base) {
      const auto key = item.first.cast<std::string>();
      if (key != "idle_watts_per_vcpu" && key != "max_watts_per_vcpu" &&
          key != "memory_watts_per_gb" && key != "gpu_idle_watts" && key != "gpu_max_watts" &&
          key != "pue" && key != "embodied_kg" && key != "lifetime_years")
        throw py::value_error("power model: unknown field " + key);
    }
    o.idle_attribution = idle_attribution;
    o.book_idle = book_idle ? 1 : 0;
    o.gpu_utilisation = gpu_utilisation;
    o.warn_fraction = warn_fraction;
    ck_ledger* l = nullptr;
    ck_python_check(ck_ledger_create(&l, &o));
    handle.reset(l);
  }

  void set_daily_limit(const std::string& ns, double kg) {
    std::lock_guard lock(mutex);
    ck_python_check(ck_ledger_set_daily_limit(handle.get(), ns.data(), ns.size(), kg));
  }
  void set_profile(const py::bytes& text, const std::string& source) {
    const std::string t = text;
    std::lock_guard lock(mutex);
    ck_python_check(ck_ledger_set_profile(handle.get(), t.data(), t.size(), source.c_str()));
  }
  static ck_usage_record usage(const std::string& pod, const std::string& ns,
                               const std::string& tenant, const std::string& zone,
                               std::int64_t start, std::int64_t end, double watts,
                               double embodied) {
    ck_usage_record u = CK_USAGE_RECORD_INIT;
    u.pod = pod.c_str();
    u.namespace_name = ns.c_str();
    u.tenant = tenant.c_str();
    u.zone = zone.c_str();
    u.start = start;
    u.end = end;
    u.watts = watts;
    u.embodied_g_per_hour = embodied;
    return u;
  }
  void record(const std::string& pod, const std::string& ns, const std::string& tenant,
              const std::string& zone, std::int64_t start, std::int64_t end, double watts,
              double embodied, std::int64_t curve_start, std::int64_t step,
              const py::array_t<double, py::array::c_style | py::array::forcecast>& values,
              int kind) {
    const ck_usage_record u = usage(pod, ns, tenant, zone, start, end, watts, embodied);
    std::lock_guard lock(mutex);
    ck_python_check(ck_ledger_record(handle.get(), &u, curve_start, step, values.data(),
                                     static_cast<std::size_t>(values.size()), kind));
  }
  void record_signals(const std::string& pod, const std::string& ns, const std::string& tenant,
                      const std::string& zone, std::int64_t start, std::int64_t end, double watts,
                      double embodied, const py::object& signals) {
    const ck_usage_record u = usage(pod, ns, tenant, zone, start, end, watts, embodied);
    std::mutex* signals_mutex = nullptr;
    const ck_signals* s = signals_handle(signals, &signals_mutex);
    ck_status st;
    {
      py::gil_scoped_release release;
      std::scoped_lock lock(*signals_mutex, mutex);  // signals before ledger, as everywhere
      st = ck_ledger_record_signals(handle.get(), &u, s);
    }
    ck_python_check(st);
  }
  py::dict account(const py::object& engine, const py::object& signals, const py::bytes& objects,
                   const std::string& source, std::int64_t t0, std::int64_t t1) {
    const std::string text = objects;
    const ck_engine* e = engine_handle(engine);
    ck_account_result r{};
    ck_status st;
    std::mutex* signals_mutex = nullptr;
    const ck_signals* s = signals_handle(signals, &signals_mutex);
    {
      py::gil_scoped_release release;
      std::scoped_lock lock(*signals_mutex, mutex);  // signals before ledger, as everywhere
      st = ck_ledger_account(&r, handle.get(), e, s, nullptr, text.data(), text.size(),
                             source.c_str(), t0, t1);
    }
    ck_python_check(st);
    py::dict d;
    d["pods_booked"] = r.pods_booked;
    d["pods_skipped"] = r.pods_skipped;
    d["node_watts"] = r.node_watts;
    std::lock_guard lock(mutex);
    d["skipped"] = two_call([&](std::size_t* n, char* b, std::size_t len) {
      return ck_ledger_skipped(n, b, len, handle.get());
    });
    return d;
  }
  py::dict day(int scope, const std::string& name, std::int64_t t) {
    ck_carbon_totals out{};
    std::lock_guard lock(mutex);
    ck_python_check(ck_ledger_day(&out, handle.get(), static_cast<ck_ledger_scope>(scope),
                                  name.data(), name.size(), t));
    return totals_dict(out);
  }
  py::dict month(int scope, const std::string& name, int year, int month_of_year) {
    ck_carbon_totals out{};
    std::lock_guard lock(mutex);
    ck_python_check(ck_ledger_month(&out, handle.get(), static_cast<ck_ledger_scope>(scope),
                                    name.data(), name.size(), year, month_of_year));
    return totals_dict(out);
  }
  py::dict total(int scope, const std::string& name) {
    ck_carbon_totals out{};
    std::lock_guard lock(mutex);
    ck_python_check(ck_ledger_total(&out, handle.get(), static_cast<ck_ledger_scope>(scope),
                                    name.data(), name.size()));
    return totals_dict(out);
  }
  py::dict budget(const std::string& ns, std::int64_t t) {
    ck_budget_status b{};
    std::lock_guard lock(mutex);
    ck_python_check(ck_ledger_budget(&b, handle.get(), ns.data(), ns.size(), t));
    py::dict d;
    d["namespace"] = ns;
    d["day_start"] = b.day_start;
    d["limit_kg"] = b.limit_kg;
    d["used_kg"] = b.used_kg;
    d["fraction"] = b.fraction;
    d["exceeded"] = b.exceeded != 0;
    d["exceeded_at"] = b.has_exceeded_at ? py::object(py::int_(b.exceeded_at)) : py::none();
    return d;
  }
};

double sci(const py::dict& totals, double functional_units) {
  const ck_carbon_totals t = totals_of(totals);
  double out = 0;
  ck_python_check(ck_sci(&out, &t, functional_units));
  return out;
}

py::dict budget_advice(const py::object& snapshot, const py::object& pod) {
  ck_budget_advice a{};
  const ck_snapshot* s = snapshot_handle(snapshot);
  const ck_pod* p = pod_handle(pod);
  std::string reason = two_call([&](std::size_t* n, char* b, std::size_t len) {
    return ck_snapshot_budget_advice(&a, n, b, len, s, p);
  });
  py::dict d;
  d["action"] = a.action;
  d["max_intensity_g_per_kwh"] = a.max_intensity_g_per_kwh;
  d["defer_until"] = a.defer_until;
  d["reason"] = reason;
  return d;
}

struct MigrationAdvisor {
  std::unique_ptr<ck_migration_advisor, Deleter<ck_migration_advisor, ck_migration_advisor_free>>
      handle;
  std::mutex mutex;

  MigrationAdvisor(bool enabled, int max_per_hour, double cooldown_seconds,
                   std::int64_t horizon_seconds, double aggressive, double conservative,
                   double min_saving_g) {
    ck_migration_options o = CK_MIGRATION_OPTIONS_INIT;
    o.enabled = enabled ? 1 : 0;
    o.max_per_hour = max_per_hour;
    o.cooldown_seconds = cooldown_seconds;
    o.horizon_seconds = horizon_seconds;
    o.aggressive_min_fraction = aggressive;
    o.conservative_min_fraction = conservative;
    o.min_saving_g = min_saving_g;
    ck_migration_advisor* a = nullptr;
    ck_python_check(ck_migration_advisor_create(&a, &o));
    handle.reset(a);
  }
  explicit MigrationAdvisor(const py::bytes& profile, const std::string& source) {
    const std::string t = profile;
    ck_migration_advisor* a = nullptr;
    ck_python_check(
        ck_migration_advisor_create_from_profile(&a, t.data(), t.size(), source.c_str()));
    handle.reset(a);
  }

  // candidates: (pod, zone, power_kw, remaining, restart, lost_work, policy);
  // zones: (zone, start, step, values).
  py::list advise(std::int64_t now, const py::list& candidates, const py::list& zones) {
    std::vector<std::string> strings;
    strings.reserve(2 * candidates.size() + zones.size());
    std::vector<ck_migration_candidate> cs;
    for (auto item : candidates) {
      auto t = item.cast<py::tuple>();
      ck_migration_candidate c = CK_MIGRATION_CANDIDATE_INIT;
      strings.push_back(t[0].cast<std::string>());
      c.pod = strings.back().c_str();
      strings.push_back(t[1].cast<std::string>());
      c.zone = strings.back().c_str();
      c.power_kw = t[2].cast<double>();
      c.remaining_seconds = t[3].cast<std::int64_t>();
      c.restart_seconds = t[4].cast<std::int64_t>();
      c.lost_work_seconds = t[5].cast<std::int64_t>();
      c.policy = t[6].cast<std::int32_t>();
      cs.push_back(c);
    }
    std::vector<py::array_t<double, py::array::c_style | py::array::forcecast>> arrays;
    arrays.reserve(zones.size());
    std::vector<ck_zone_outlook> zs;
    std::vector<std::string> zone_names;
    for (auto item : zones) {
      auto t = item.cast<py::tuple>();
      strings.push_back(t[0].cast<std::string>());
      zone_names.push_back(strings.back());
      arrays.push_back(t[3].cast<py::array_t<double, py::array::c_style | py::array::forcecast>>());
      zs.push_back({strings.back().c_str(), t[1].cast<std::int64_t>(), t[2].cast<std::int64_t>(),
                    arrays.back().data(), static_cast<std::size_t>(arrays.back().size())});
    }
    std::vector<ck_migration_recommendation> out(cs.size());
    std::lock_guard lock(mutex);
    ck_python_check(ck_migration_advise(out.data(), out.size(), handle.get(), now, cs.data(),
                                        cs.size(), zs.data(), zs.size()));
    py::list result;
    for (std::size_t i = 0; i < out.size(); ++i) {
      const ck_migration_recommendation& r = out[i];
      py::dict d;
      d["pod"] = py::str(cs[i].pod);
      d["from_zone"] = py::str(cs[i].zone);
      d["to_zone"] = r.to_zone >= 0
                         ? py::object(py::str(zone_names[static_cast<std::size_t>(r.to_zone)]))
                         : py::object(py::none());
      d["recommended"] = r.recommended != 0;
      d["reason"] = std::string(ck_migration_reason_name(r.reason));
      d["horizon_seconds"] = r.horizon_seconds;
      d["stay_g"] = r.stay_g;
      d["move_g"] = r.move_g;
      d["move_cost_g"] = r.move_cost_g;
      d["net_saving_g"] = r.net_saving_g;
      d["saving_fraction"] = r.saving_fraction;
      d["detail"] = two_call([&](std::size_t* n, char* b, std::size_t len) {
        return ck_migration_detail(n, b, len, handle.get(), i);
      });
      result.append(d);
    }
    return result;
  }
  void record(const std::string& pod, std::int64_t t) {
    std::lock_guard lock(mutex);
    ck_python_check(ck_migration_record(handle.get(), pod.data(), pod.size(), t));
  }
  int count_last_hour(std::int64_t now) {
    std::lock_guard lock(mutex);
    return ck_migration_count_last_hour(handle.get(), now);
  }
};

struct Metrics {
  std::unique_ptr<ck_metrics, Deleter<ck_metrics, ck_metrics_free>> handle;
  std::mutex mutex;

  Metrics() {
    ck_metrics* m = nullptr;
    ck_python_check(ck_metrics_create(&m));
    handle.reset(m);
  }
  void set_snapshot(const py::object& snapshot) {
    const ck_snapshot* s = snapshot_handle(snapshot);
    std::lock_guard lock(mutex);
    ck_python_check(ck_metrics_set_snapshot(handle.get(), s));
  }
  void set_ledger(Ledger& ledger, std::int64_t now) {
    std::scoped_lock lock(mutex, ledger.mutex);
    ck_python_check(ck_metrics_set_ledger(handle.get(), ledger.handle.get(), now));
  }
  void count_migrations(MigrationAdvisor& advisor) {
    std::scoped_lock lock(mutex, advisor.mutex);
    ck_python_check(ck_metrics_count_migrations(handle.get(), advisor.handle.get()));
  }
  void count_decision(const py::object& snapshot, const py::object& pod, bool scheduled) {
    const ck_snapshot* s = snapshot_handle(snapshot);
    const ck_pod* p = pod_handle(pod);
    std::lock_guard lock(mutex);
    ck_python_check(ck_metrics_count_decision(handle.get(), s, p, scheduled ? 1 : 0));
  }
  void set_qos_guarantee(const std::string& ns, const std::string& pod, const std::string& cls,
                         bool met) {
    std::lock_guard lock(mutex);
    ck_python_check(ck_metrics_set_qos_guarantee(handle.get(), ns.c_str(), pod.c_str(), cls.c_str(),
                                                 met ? 1 : 0));
  }
  std::string render() {
    std::lock_guard lock(mutex);
    return two_call([&](std::size_t* n, char* b, std::size_t len) {
      return ck_metrics_render(n, b, len, handle.get());
    });
  }
};

}  // namespace

const ck_ledger* ledger_handle(const py::handle& ledger, std::mutex** mutex) {
  auto& l = ledger.cast<Ledger&>();
  *mutex = &l.mutex;
  return l.handle.get();
}

void bind_ledger(py::module_& m) {
  py::class_<Ledger>(m, "Ledger")
      .def(py::init<const py::dict&, int, bool, double, double>(), py::arg("base"),
           py::arg("idle_attribution"), py::arg("book_idle"), py::arg("gpu_utilisation"),
           py::arg("warn_fraction"))
      .def("set_daily_limit", &Ledger::set_daily_limit)
      .def("set_profile", &Ledger::set_profile)
      .def("record", &Ledger::record)
      .def("record_signals", &Ledger::record_signals)
      .def("account", &Ledger::account)
      .def("day", &Ledger::day)
      .def("month", &Ledger::month)
      .def("total", &Ledger::total)
      .def("budget", &Ledger::budget);
  m.def("sci", &sci);
  m.def("budget_advice", &budget_advice);
  py::class_<MigrationAdvisor>(m, "MigrationAdvisor")
      .def(py::init<bool, int, double, std::int64_t, double, double, double>())
      .def(py::init<const py::bytes&, const std::string&>())
      .def("advise", &MigrationAdvisor::advise)
      .def("record", &MigrationAdvisor::record)
      .def("count_last_hour", &MigrationAdvisor::count_last_hour);
  py::class_<Metrics>(m, "Metrics")
      .def(py::init<>())
      .def("set_snapshot", &Metrics::set_snapshot)
      .def("set_ledger", &Metrics::set_ledger)
      .def("count_migrations", &Metrics::count_migrations)
      .def("count_decision", &Metrics::count_decision)
      .def("set_qos_guarantee", &Metrics::set_qos_guarantee)
      .def("render", &Metrics::render);
}
