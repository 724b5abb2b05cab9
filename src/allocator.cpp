// The allocator pipeline: recommender -> carbon rule -> RL. See
// include/carbonkube/allocator.hpp.
#include "carbonkube/allocator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <utility>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

AllocatorConfig AllocatorConfig::from_profile(const CarbonProfile& profile) {
  AllocatorConfig c;
  c.carbon = CarbonAdjustmentConfig::from_profile(profile);
  return c;
}

void AllocatorConfig::validate() const {
  recommender.validate("allocator config: recommender");
  carbon.validate("allocator config: carbon");
  rl.validate("allocator config: rl");
  if (oom_floor_lookback_seconds <= 0)
    throw InvalidInput("allocator config: oom_floor_lookback_seconds must be > 0");
}

namespace {

struct Workload {
  ContainerRecommender rec;
  // (time, working set) over the OOM-floor lookback, for the shield.
  std::deque<std::pair<std::int64_t, double>> memory;
  double cpu_multiplier = 1.0;
  double memory_multiplier = 1.0;
};

std::string key_of(std::string_view ns, std::string_view name, std::string_view container) {
  return fmt::format("{}/{}/{}", ns, name, container);
}

}  // namespace

struct CarbonAwareResourceAllocator::State {
  AllocatorConfig config;
  RlOptimizer rl;
  std::map<std::string, Workload, std::less<>> workloads;
  explicit State(AllocatorConfig c) : config((c.validate(), std::move(c))), rl(config.rl) {}

  Workload& workload(std::string_view ns, std::string_view name, std::string_view container) {
    if (name.empty()) throw InvalidInput("allocator: workload name is empty");
    const std::string key = key_of(ns, name, container);
    auto it = workloads.find(key);
    if (it == workloads.end())
      it = workloads
               .emplace(key, Workload{ContainerRecommender(config.recommender, key), {}, 1.0, 1.0})
               .first;
    return it->second;
  }
};

CarbonAwareResourceAllocator::CarbonAwareResourceAllocator(AllocatorConfig config)
    : s_(std::make_unique<State>(std::move(config))) {}
CarbonAwareResourceAllocator::~CarbonAwareResourceAllocator() = default;
CarbonAwareResourceAllocator::CarbonAwareResourceAllocator(
    CarbonAwareResourceAllocator&&) noexcept = default;
CarbonAwareResourceAllocator& CarbonAwareResourceAllocator::operator=(
    CarbonAwareResourceAllocator&&) noexcept = default;

const AllocatorConfig& CarbonAwareResourceAllocator::config() const { return s_->config; }
const RlOptimizer& CarbonAwareResourceAllocator::optimizer() const { return s_->rl; }

void CarbonAwareResourceAllocator::add_usage(std::string_view ns, std::string_view name,
                                             std::string_view container, std::int64_t t,
                                             double cpu_cores, double cpu_request_cores,
                                             double memory_bytes) {
  Workload& w = s_->workload(ns, name, container);
  w.rec.add_cpu_sample(t, cpu_cores, cpu_request_cores);
  w.rec.add_memory_sample(t, memory_bytes);
  w.memory.emplace_back(t, memory_bytes);
  while (!w.memory.empty() && w.memory.front().first < t - s_->config.oom_floor_lookback_seconds)
    w.memory.pop_front();
}

bool CarbonAwareResourceAllocator::record_oom(std::string_view ns, std::string_view name,
                                              std::string_view container, std::int64_t t,
                                              double memory_request_bytes) {
  return s_->workload(ns, name, container).rec.record_oom(t, memory_request_bytes);
}

ResourceAllocation CarbonAwareResourceAllocator::calculate_optimal_allocation(
    const WorkloadProfile& p) {
  State& s = *s_;
  Workload& w = s.workload(p.namespace_name, p.name, p.container);
  ResourceAllocation out;
  out.base = p.external_recommendation ? *p.external_recommendation : w.rec.recommend();
  if (p.carbon_budget) p.carbon_budget->validate("WorkloadProfile.carbon_budget");
  const CarbonAdjustmentConfig& carbon = p.carbon_budget ? *p.carbon_budget : s.config.carbon;
  out.carbon = apply_carbon_adjustment(out.base, p.intensity_g_per_kwh, p.sla, carbon);
  out.requests = out.carbon.resources;
  if (!s.config.use_rl || !out.base.has_data) return out;

  AllocationContext ctx;
  ctx.base = out.base;
  ctx.adjusted = out.carbon.resources;
  ctx.sla_floor = p.sla.floor(out.base.target);
  ctx.tier = p.sla.tier;
  double peak = 0.0;
  for (const auto& [t, m] : w.memory) peak = std::max(peak, m);
  if (std::isfinite(p.peak_memory_bytes)) peak = std::max(peak, p.peak_memory_bytes);
  ctx.memory_peak_bytes = peak;
  ctx.previous_cpu_multiplier = w.cpu_multiplier;
  ctx.previous_memory_multiplier = w.memory_multiplier;
  RlObservation& o = ctx.observation;
  auto ratio = [](double v, double target) {
    return std::isfinite(v) && target > 0.0 ? v / target : std::numeric_limits<double>::quiet_NaN();
  };
  o.cpu_usage_ratio = ratio(p.mean_cpu_cores, ctx.adjusted.cpu_cores);
  o.cpu_tail_ratio = ratio(p.peak_cpu_cores, ctx.adjusted.cpu_cores);
  o.memory_usage_ratio = ratio(p.mean_memory_bytes, ctx.adjusted.memory_bytes);
  o.memory_tail_ratio = ratio(p.peak_memory_bytes, ctx.adjusted.memory_bytes);
  o.throttled_fraction = p.throttled_fraction;
  o.oom_kills = p.oom_kills;
  o.slo_latency_ratio = p.slo_latency_ratio;
  o.cpu_forecast_ratio = ratio(p.forecast_peak_cpu_cores, ctx.adjusted.cpu_cores);
  o.intensity_g_per_kwh = p.intensity_g_per_kwh;
  o.forecast_g_per_kwh = p.forecast_g_per_kwh;
  o.threshold_g_per_kwh = carbon.threshold_g_per_kwh;
  o.unix_seconds = p.unix_seconds;
  out.decision = s.rl.decide(ctx);
  out.used_rl = true;
  out.requests = out.decision.resources;
  w.cpu_multiplier = out.decision.cpu_multiplier;
  w.memory_multiplier = out.decision.memory_multiplier;
  return out;
}

ResourceAllocation CarbonAwareResourceAllocator::calculate_optimal_allocation(
    const WorkloadProfile& profile, const CarbonSignals& signals, std::string_view zone,
    const SignalPolicy& policy) {
  WorkloadProfile p = profile;
  const ZoneReading now = evaluate(signals, zone, p.unix_seconds, policy);
  p.intensity_g_per_kwh = now.usable ? now.g_per_kwh : std::numeric_limits<double>::quiet_NaN();
  const ZoneReading ahead = evaluate_window(signals, zone, p.unix_seconds, 3 * 3600, policy);
  p.forecast_g_per_kwh = ahead.usable ? ahead.g_per_kwh : std::numeric_limits<double>::quiet_NaN();
  return calculate_optimal_allocation(p);
}

std::array<double, 2> CarbonAwareResourceAllocator::learn(const ResourceAllocation& allocation,
                                                          const AllocationOutcome& outcome) {
  if (!allocation.used_rl) return {0.0, 0.0};
  return s_->rl.update(allocation.decision, outcome);
}

const ContainerRecommender* CarbonAwareResourceAllocator::recommender(
    std::string_view ns, std::string_view name, std::string_view container) const {
  const auto it = s_->workloads.find(key_of(ns, name, container));
  return it == s_->workloads.end() ? nullptr : &it->second.rec;
}

std::string CarbonAwareResourceAllocator::save_optimizer() const { return s_->rl.save(); }

void CarbonAwareResourceAllocator::restore_optimizer(std::string_view text, std::string_view source,
                                                     const ParseLimits& limits) {
  s_->rl = RlOptimizer::restore(text, source, limits);
}

CARBONKUBE_NAMESPACE_END
