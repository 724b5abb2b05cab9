// The C ABI's allocator (carbonkube.h, "Allocator") over allocator.hpp.
#include <cmath>
#include <limits>
#include <map>

#include "carbonkube.h"
#include "carbonkube/allocator.hpp"
#include "internal.hpp"

using namespace carbonkube::capi;

static_assert(static_cast<int>(carbonkube::CarbonBand::kUnknown) == CK_BAND_UNKNOWN);
static_assert(static_cast<int>(carbonkube::CarbonBand::kDirty) == CK_BAND_DIRTY);
static_assert(static_cast<int>(carbonkube::SlaTier::kBestEffort) == CK_SLA_BEST_EFFORT);

struct ck_allocator {
  carbonkube::CarbonAwareResourceAllocator impl;
  // Decisions not learned yet, by id (bounded: the oldest are dropped).
  std::map<std::uint64_t, carbonkube::ResourceAllocation> pending;
  std::uint64_t next_id = 1;

  explicit ck_allocator(carbonkube::AllocatorConfig config) : impl(std::move(config)) {}
};

namespace {

constexpr std::size_t kMaxPending = 4096;

double unknown_if_negative(double v) {
  return v < 0 ? std::numeric_limits<double>::quiet_NaN() : v;
}

ck::ResourceAmounts amounts(const ck_resources& r) { return {r.cpu_cores, r.memory_bytes}; }
ck_resources resources(const ck::ResourceAmounts& r) { return {r.cpu_cores, r.memory_bytes}; }

ck::Recommendation recommendation(const ck_recommendation& r) {
  ck::Recommendation out;
  out.target = amounts(r.target);
  out.lower_bound = amounts(r.lower_bound);
  out.upper_bound = amounts(r.upper_bound);
  out.uncapped_target = amounts(r.uncapped_target);
  out.confidence_days = r.confidence_days;
  out.has_data = r.has_data != 0;
  for (double v : {r.target.cpu_cores, r.target.memory_bytes, r.lower_bound.cpu_cores,
                   r.lower_bound.memory_bytes, r.upper_bound.cpu_cores, r.upper_bound.memory_bytes})
    if (!std::isfinite(v) || v < 0)
      fail(CK_ERROR_INVALID_INPUT, "external recommendation: every amount must be finite and >= 0");
  return out;
}

std::string_view name_or(const char* p, std::string_view fallback) {
  return p ? std::string_view(p) : fallback;
}

}  // namespace

CK_API ck_status ck_allocator_create(ck_allocator** out, const ck_allocator_options* options) {
  return guard("ck_allocator_create", [&] {
    require(out, "out");
    static const ck_allocator_options kDefaults = CK_ALLOCATOR_OPTIONS_INIT;
    const ck_allocator_options o =
        options_arg(options, kDefaults, sizeof(ck_allocator_options), "ck_allocator_options");
    ck::AllocatorConfig config;
    config.carbon.threshold_g_per_kwh = o.threshold_g_per_kwh;
    config.carbon.green_threshold_g_per_kwh = o.green_threshold_g_per_kwh;
    config.use_rl = o.use_rl != 0;
    config.rl.seed = o.seed;
    config.carbon.validate("ck_allocator_options");
    config.validate();
    *out = new ck_allocator(std::move(config));
  });
}

CK_API void ck_allocator_free(ck_allocator* allocator) { delete allocator; }

CK_API ck_status ck_allocator_add_usage(ck_allocator* allocator, const char* namespace_name,
                                        const char* name, const char* container,
                                        int64_t unix_seconds, double cpu_cores,
                                        double cpu_request_cores, double memory_bytes) {
  return guard("ck_allocator_add_usage", [&] {
    require(allocator, "allocator");
    allocator->impl.add_usage(name_or(namespace_name, "default"), cstr_arg(name, "name"),
                              name_or(container, "main"), unix_seconds, cpu_cores,
                              cpu_request_cores, memory_bytes);
  });
}

CK_API ck_status ck_allocator_record_oom(int32_t* out_counted, ck_allocator* allocator,
                                         const char* namespace_name, const char* name,
                                         const char* container, int64_t unix_seconds,
                                         double memory_request_bytes) {
  return guard("ck_allocator_record_oom", [&] {
    require(allocator, "allocator");
    const bool counted =
        allocator->impl.record_oom(name_or(namespace_name, "default"), cstr_arg(name, "name"),
                                   name_or(container, "main"), unix_seconds, memory_request_bytes);
    if (out_counted) *out_counted = counted ? 1 : 0;
  });
}

CK_API ck_status ck_allocator_allocate(ck_allocation* out, ck_allocator* allocator,
                                       const ck_workload* workload) {
  return guard("ck_allocator_allocate", [&] {
    require(out, "out");
    require(allocator, "allocator");
    require(workload, "workload");
    static const ck_workload kDefaults = CK_WORKLOAD_INIT;
    const ck_workload w = options_arg(workload, kDefaults, sizeof(ck_workload), "ck_workload");
    if (w.sla_tier < CK_SLA_CRITICAL || w.sla_tier > CK_SLA_BEST_EFFORT)
      fail(CK_ERROR_INVALID_ARGUMENT,
           fmt::format("sla_tier {} is not a ck_sla_tier (0..2)", w.sla_tier));
    ck::WorkloadProfile p;
    p.namespace_name = std::string(name_or(w.namespace_name, "default"));
    p.name = std::string(cstr_arg(w.name, "workload->name"));
    p.container = std::string(name_or(w.container, "main"));
    p.sla.tier = static_cast<ck::SlaTier>(w.sla_tier);
    p.sla.resource_guarantee = w.resource_guarantee;
    p.sla.min_resources = amounts(w.min_resources);
    p.intensity_g_per_kwh = unknown_if_negative(w.intensity_g_per_kwh);
    p.forecast_g_per_kwh = unknown_if_negative(w.forecast_g_per_kwh);
    p.unix_seconds = w.unix_seconds;
    if (w.external) p.external_recommendation = recommendation(*w.external);
    p.mean_cpu_cores = unknown_if_negative(w.mean_cpu_cores);
    p.peak_cpu_cores = unknown_if_negative(w.peak_cpu_cores);
    p.mean_memory_bytes = unknown_if_negative(w.mean_memory_bytes);
    p.peak_memory_bytes = unknown_if_negative(w.peak_memory_bytes);
    p.throttled_fraction = w.throttled_fraction;
    p.oom_kills = w.oom_kills;
    p.slo_latency_ratio = w.slo_latency_ratio;

    ck::ResourceAllocation a = allocator->impl.calculate_optimal_allocation(p);
    ck_allocation r{};
    r.requests = resources(a.requests);
    r.base.target = resources(a.base.target);
    r.base.lower_bound = resources(a.base.lower_bound);
    r.base.upper_bound = resources(a.base.upper_bound);
    r.base.uncapped_target = resources(a.base.uncapped_target);
    r.base.confidence_days = a.base.confidence_days;
    r.base.has_data = a.base.has_data ? 1 : 0;
    r.carbon_band = static_cast<int32_t>(a.carbon.band);
    r.priority_boost = a.carbon.priority_boost ? 1 : 0;
    r.cpu_scale = a.carbon.cpu_scale;
    r.memory_scale = a.carbon.memory_scale;
    r.used_rl = a.used_rl ? 1 : 0;
    r.cpu_multiplier = 1.0;
    r.memory_multiplier = 1.0;
    r.cpu_propensity = 1.0;
    r.memory_propensity = 1.0;
    if (a.used_rl) {
      r.explored = a.decision.explored ? 1 : 0;
      r.cpu_multiplier = a.decision.cpu_multiplier;
      r.memory_multiplier = a.decision.memory_multiplier;
      r.cpu_propensity = a.decision.cpu_propensity;
      r.memory_propensity = a.decision.memory_propensity;
      r.decision_id = allocator->next_id++;
      allocator->pending.emplace(r.decision_id, std::move(a));
      while (allocator->pending.size() > kMaxPending)
        allocator->pending.erase(allocator->pending.begin());
    }
    *out = r;
  });
}

CK_API ck_status ck_allocator_learn(double* out_rewards, ck_allocator* allocator,
                                    uint64_t decision_id, const ck_allocation_outcome* outcome) {
  return guard("ck_allocator_learn", [&] {
    require(allocator, "allocator");
    require(outcome, "outcome");
    static const ck_allocation_outcome kDefaults = CK_ALLOCATION_OUTCOME_INIT;
    const ck_allocation_outcome o =
        options_arg(outcome, kDefaults, sizeof(ck_allocation_outcome), "ck_allocation_outcome");
    auto it = allocator->pending.find(decision_id);
    if (it == allocator->pending.end())
      fail(CK_ERROR_NOT_FOUND,
           fmt::format("no pending decision {} (each is learned once; the oldest of {} are "
                       "dropped)",
                       decision_id, kMaxPending));
    const auto rewards = allocator->impl.learn(
        it->second,
        ck::AllocationOutcome{o.cpu_slack_fraction, o.memory_slack_fraction, o.throttled_fraction,
                              o.oom_kills, o.slo_violation_fraction});
    allocator->pending.erase(it);
    if (out_rewards) {
      out_rewards[0] = rewards[0];
      out_rewards[1] = rewards[1];
    }
  });
}

CK_API ck_status ck_allocator_save(size_t* out_len, char* buffer, size_t buffer_len,
                                   const ck_allocator* allocator) {
  return guard("ck_allocator_save", [&] {
    require(allocator, "allocator");
    copy_out_string(out_len, buffer, buffer_len, allocator->impl.save_optimizer());
  });
}

CK_API ck_status ck_allocator_restore(ck_allocator* allocator, const char* text, size_t text_len) {
  return guard("ck_allocator_restore", [&] {
    require(allocator, "allocator");
    allocator->impl.restore_optimizer(text_arg(text, text_len, "text"), "ck_allocator_restore");
  });
}
