// The allocator part of carbonkube._core: the C++ allocator
// (carbonkube/allocator.hpp) bound directly, value in and value out as
// dicts, for bindings/python/carbonkube/allocator.py (the seed's
// CarbonAwareResourceAllocator). It is not in the C ABI yet, so this file
// binds the C++ API; its exceptions map to carbonkube's error classes
// through register_exception_translator in core.cpp.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "allocator_binding.hpp"
#include "carbonkube/allocator.hpp"
#include "carbonkube/carbon_adjustment.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/recommender.hpp"

namespace py = pybind11;
namespace ck = carbonkube;

namespace {

double get(const py::dict& d, const char* key, double fallback) {
  if (!d.contains(key) || d[key].is_none()) return fallback;
  return py::cast<double>(d[key]);
}

ck::ResourceAmounts amounts(const py::handle& v, const char* what) {
  if (v.is_none()) return {};
  auto d = py::cast<py::dict>(v);
  for (auto item : d) {
    auto key = py::cast<std::string>(item.first);
    if (key != "cpu" && key != "memory")
      throw py::value_error(std::string(what) + ": unknown resource \"" + key +
                            "\" (cpu in cores, memory in bytes)");
  }
  return {get(d, "cpu", 0.0), get(d, "memory", 0.0)};
}

py::dict amounts_dict(const ck::ResourceAmounts& a) {
  py::dict d;
  d["cpu"] = a.cpu_cores;
  d["memory"] = a.memory_bytes;
  return d;
}

// KVPA / ResourceRecommend field names.
ck::Recommendation recommendation(const py::dict& d) {
  ck::Recommendation r;
  if (!d.contains("target")) throw py::value_error("recommendation: \"target\" is required");
  r.target = amounts(d["target"], "recommendation.target");
  r.lower_bound =
      d.contains("lowerBound") ? amounts(d["lowerBound"], "recommendation.lowerBound") : r.target;
  r.upper_bound =
      d.contains("upperBound") ? amounts(d["upperBound"], "recommendation.upperBound") : r.target;
  r.uncapped_target = d.contains("uncappedTarget")
                          ? amounts(d["uncappedTarget"], "recommendation.uncappedTarget")
                          : r.target;
  r.has_data = true;
  for (double v : {r.target.cpu_cores, r.target.memory_bytes, r.lower_bound.cpu_cores,
                   r.lower_bound.memory_bytes, r.upper_bound.cpu_cores, r.upper_bound.memory_bytes})
    if (!std::isfinite(v) || v < 0)
      throw ck::InvalidInput("recommendation: every amount must be finite and >= 0");
  return r;
}

py::dict recommendation_dict(const ck::Recommendation& r) {
  py::dict d;
  d["target"] = amounts_dict(r.target);
  d["lowerBound"] = amounts_dict(r.lower_bound);
  d["upperBound"] = amounts_dict(r.upper_bound);
  d["uncappedTarget"] = amounts_dict(r.uncapped_target);
  d["confidenceDays"] = r.confidence_days;
  d["hasData"] = r.has_data;
  return d;
}

ck::SlaRequirements sla(const py::dict& d) {
  ck::SlaRequirements s;
  if (d.contains("tier")) s.tier = ck::parse_sla_tier(py::cast<std::string>(d["tier"]));
  s.resource_guarantee = get(d, "resource_guarantee", s.resource_guarantee);
  s.min_resources = {get(d, "min_cpu", 0.0), get(d, "min_memory", 0.0)};
  return s;
}

ck::CarbonAdjustmentConfig carbon_config(const py::dict& d) {
  ck::CarbonAdjustmentConfig c;
  c.threshold_g_per_kwh = get(d, "threshold", c.threshold_g_per_kwh);
  c.green_threshold_g_per_kwh = get(d, "green_threshold", c.green_threshold_g_per_kwh);
  c.dirty_cpu_scale = get(d, "dirty_cpu_scale", c.dirty_cpu_scale);
  c.dirty_memory_scale = get(d, "dirty_memory_scale", c.dirty_memory_scale);
  c.green_cpu_scale = get(d, "green_cpu_scale", c.green_cpu_scale);
  c.green_memory_scale = get(d, "green_memory_scale", c.green_memory_scale);
  c.validate("carbon_budget");
  return c;
}

py::dict adjusted_dict(const ck::CarbonAdjusted& a) {
  py::dict d;
  d["resources"] = amounts_dict(a.resources);
  d["band"] = std::string(ck::to_string(a.band));
  d["cpu_scale"] = a.cpu_scale;
  d["memory_scale"] = a.memory_scale;
  d["priority_boost"] = a.priority_boost;
  d["cpu_floored"] = a.cpu_floored;
  d["memory_floored"] = a.memory_floored;
  return d;
}

struct Allocator {
  // Every method holds the GIL throughout (none releases it), so the GIL
  // serialises Python threads; a mutex here could deadlock with it.
  ck::CarbonAwareResourceAllocator impl;
  // The last allocations that used the RL, by id, for learn().
  std::map<std::uint64_t, ck::ResourceAllocation> pending;
  std::uint64_t next_id = 1;

  explicit Allocator(ck::AllocatorConfig config) : impl(std::move(config)) {}

  void add_usage(const std::string& ns, const std::string& name, const std::string& container,
                 std::int64_t t, double cpu, double cpu_request, double memory) {
    impl.add_usage(ns, name, container, t, cpu, cpu_request, memory);
  }
  bool record_oom(const std::string& ns, const std::string& name, const std::string& container,
                  std::int64_t t, double memory_request) {
    return impl.record_oom(ns, name, container, t, memory_request);
  }

  py::dict allocate(const py::dict& w) {
    ck::WorkloadProfile p;
    p.namespace_name = py::cast<std::string>(w["namespace"]);
    p.name = py::cast<std::string>(w["name"]);
    if (w.contains("container")) p.container = py::cast<std::string>(w["container"]);
    if (w.contains("sla")) p.sla = sla(py::cast<py::dict>(w["sla"]));
    if (w.contains("carbon_budget") && !w["carbon_budget"].is_none())
      p.carbon_budget = carbon_config(py::cast<py::dict>(w["carbon_budget"]));
    const double nan = std::numeric_limits<double>::quiet_NaN();
    p.intensity_g_per_kwh = get(w, "intensity", nan);
    p.forecast_g_per_kwh = get(w, "forecast", nan);
    p.unix_seconds = w.contains("unix_seconds") ? py::cast<std::int64_t>(w["unix_seconds"]) : 0;
    if (w.contains("recommendation") && !w["recommendation"].is_none())
      p.external_recommendation = recommendation(py::cast<py::dict>(w["recommendation"]));
    p.mean_cpu_cores = get(w, "mean_cpu", nan);
    p.peak_cpu_cores = get(w, "peak_cpu", nan);
    p.mean_memory_bytes = get(w, "mean_memory", nan);
    p.peak_memory_bytes = get(w, "peak_memory", nan);
    p.throttled_fraction = get(w, "throttled_fraction", 0.0);
    p.oom_kills = get(w, "oom_kills", 0.0);
    p.slo_latency_ratio = get(w, "slo_latency_ratio", 0.0);

    ck::ResourceAllocation a = impl.calculate_optimal_allocation(p);
    py::dict d;
    d["requests"] = amounts_dict(a.requests);
    d["base"] = recommendation_dict(a.base);
    d["carbon"] = adjusted_dict(a.carbon);
    d["used_rl"] = a.used_rl;
    d["decision_id"] = py::none();
    if (a.used_rl) {
      py::dict dec;
      dec["cpu_multiplier"] = a.decision.cpu_multiplier;
      dec["memory_multiplier"] = a.decision.memory_multiplier;
      dec["cpu_propensity"] = a.decision.cpu_propensity;
      dec["memory_propensity"] = a.decision.memory_propensity;
      dec["explored"] = a.decision.explored;
      dec["cpu_clamped"] = a.decision.cpu_clamped;
      dec["memory_clamped"] = a.decision.memory_clamped;
      d["decision"] = dec;
      const std::uint64_t id = next_id++;
      pending.emplace(id, a);
      // Bounded: a caller that never learns does not grow memory.
      while (pending.size() > 4096) pending.erase(pending.begin());
      d["decision_id"] = id;
    }
    return d;
  }

  py::tuple learn(std::uint64_t decision_id, const py::dict& outcome) {
    auto it = pending.find(decision_id);
    if (it == pending.end())
      throw ck::Error(ck::ErrorKind::kNotFound,
                      "learn: no pending RL decision " + std::to_string(decision_id) +
                          " (each decision is learned once; the oldest of 4096 are dropped)");
    ck::AllocationOutcome o;
    o.cpu_slack_fraction = get(outcome, "cpu_slack_fraction", 0.0);
    o.memory_slack_fraction = get(outcome, "memory_slack_fraction", 0.0);
    o.throttled_fraction = get(outcome, "throttled_fraction", 0.0);
    o.oom_kills = get(outcome, "oom_kills", 0.0);
    o.slo_violation_fraction = get(outcome, "slo_violation_fraction", 0.0);
    const auto rewards = impl.learn(it->second, o);
    pending.erase(it);
    return py::make_tuple(rewards[0], rewards[1]);
  }

  std::string save() { return impl.save_optimizer(); }
  void restore(const std::string& text, const std::string& source) {
    impl.restore_optimizer(text, source);
  }
};

}  // namespace

void bind_allocator(py::module_& m) {
  py::class_<Allocator>(m, "Allocator")
      .def(py::init([](const py::dict& carbon_budget, bool use_rl, std::uint64_t seed) {
             ck::AllocatorConfig c;
             c.carbon = carbon_config(carbon_budget);
             c.use_rl = use_rl;
             c.rl.seed = seed;
             c.validate();
             return std::make_unique<Allocator>(std::move(c));
           }),
           py::arg("carbon_budget"), py::arg("use_rl"), py::arg("seed"))
      .def("add_usage", &Allocator::add_usage)
      .def("record_oom", &Allocator::record_oom)
      .def("allocate", &Allocator::allocate)
      .def("learn", &Allocator::learn)
      .def("save", &Allocator::save)
      .def("restore", &Allocator::restore);

  m.def("apply_carbon_adjustments", [](const py::dict& base, const py::dict& zones,
                                       const py::dict& sla_dict, const py::dict& budget) {
    ck::Recommendation r = recommendation(base);
    std::vector<ck::ZoneCarbon> zs;
    for (auto item : zones) {
      ck::ZoneCarbon z;
      z.zone = py::cast<std::string>(item.first);
      if (item.second.is_none()) {
        z.intensity_g_per_kwh = std::numeric_limits<double>::quiet_NaN();
        z.usable = false;
      } else {
        z.intensity_g_per_kwh = py::cast<double>(item.second);
      }
      zs.push_back(std::move(z));
    }
    py::dict out;
    for (const auto& za : ck::apply_carbon_adjustments(r, zs, sla(sla_dict), carbon_config(budget)))
      out[py::str(za.zone)] = adjusted_dict(za.adjusted);
    return out;
  });
}
