// Workload-usage generator and the per-step throttling / OOM / latency /
// carbon model. See include/carbonkube/usage_model.hpp.
#include "carbonkube/usage_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

std::uint64_t splitmix(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double unit(std::uint64_t& state) noexcept {
  return (static_cast<double>(splitmix(state) >> 11) + 0.5) * 0x1.0p-53;
}
double pos(double v) { return std::isfinite(v) && v > 0.0 ? v : 0.0; }

}  // namespace

void WorkloadShape::validate() const {
  auto fail = [&](const char* field, double v, const char* want) {
    throw InvalidInput(fmt::format("workload \"{}\": {} must be {}, got {}", name, field, want, v));
  };
  auto nonneg = [&](double v, const char* field) {
    if (!std::isfinite(v) || v < 0.0) fail(field, v, "finite and >= 0");
  };
  auto unit_range = [&](double v, const char* field, double hi) {
    if (!std::isfinite(v) || v < 0.0 || v > hi) fail(field, v, "in range");
  };
  if (!std::isfinite(cpu_base_cores) || cpu_base_cores <= 0.0)
    fail("cpu_base_cores", cpu_base_cores, "finite and > 0");
  unit_range(cpu_diurnal_amplitude, "cpu_diurnal_amplitude", 0.95);
  if (!std::isfinite(peak_hour_utc)) fail("peak_hour_utc", peak_hour_utc, "finite");
  unit_range(cpu_weekend_dip, "cpu_weekend_dip", 0.95);
  nonneg(cpu_noise, "cpu_noise");
  unit_range(noise_autocorrelation, "noise_autocorrelation", 0.999);
  nonneg(burst_rate_per_day, "burst_rate_per_day");
  if (!std::isfinite(burst_multiplier) || burst_multiplier < 1.0)
    fail("burst_multiplier", burst_multiplier, "finite and >= 1");
  nonneg(burst_duration_seconds, "burst_duration_seconds");
  if (!std::isfinite(step_change_day)) fail("step_change_day", step_change_day, "finite");
  if (!std::isfinite(step_change_factor) || step_change_factor <= 0.0)
    fail("step_change_factor", step_change_factor, "finite and > 0");
  nonneg(memory_base_bytes, "memory_base_bytes");
  nonneg(memory_per_core_bytes, "memory_per_core_bytes");
  unit_range(memory_noise, "memory_noise", 0.5);
  nonneg(leak_bytes_per_hour, "leak_bytes_per_hour");
}

UsageGenerator::UsageGenerator(WorkloadShape shape, std::uint64_t seed,
                               std::int64_t start_unix_seconds, std::int64_t step_seconds)
    : shape_(std::move(shape)),
      rng_(seed),
      start_(start_unix_seconds),
      t_(start_unix_seconds),
      step_(step_seconds),
      last_restart_(start_unix_seconds) {
  shape_.validate();
  if (step_seconds <= 0)
    throw InvalidInput(fmt::format("workload \"{}\": step_seconds must be > 0, got {}", shape_.name,
                                   step_seconds));
}

double UsageGenerator::normal() noexcept {
  // Box-Muller; one value per call keeps the stream simple.
  const double u1 = unit(rng_);
  const double u2 = unit(rng_);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

UsageSample UsageGenerator::next() noexcept {
  const WorkloadShape& w = shape_;
  const double step = static_cast<double>(step_);
  const double hour = static_cast<double>(((t_ % 86400) + 86400) % 86400) / 3600.0;
  const double diurnal = 1.0 + w.cpu_diurnal_amplitude * std::cos(2.0 * std::numbers::pi *
                                                                  (hour - w.peak_hour_utc) / 24.0);
  // 1970-01-01 was a Thursday: (days + 4) % 7 is 0 on Sunday, 6 on Saturday.
  const std::int64_t weekday = ((t_ / 86400) % 7 + 4 + 7) % 7;
  const double weekly = (weekday == 0 || weekday == 6) ? 1.0 - w.cpu_weekend_dip : 1.0;
  const double phi = w.noise_autocorrelation;
  log_noise_ = phi * log_noise_ + std::sqrt(1.0 - phi * phi) * w.cpu_noise * normal();
  const double noise = std::exp(log_noise_ - 0.5 * w.cpu_noise * w.cpu_noise);
  const double p_burst = w.burst_rate_per_day * step / 86400.0;
  if (t_ >= burst_until_ && unit(rng_) < p_burst)
    burst_until_ = t_ + static_cast<std::int64_t>(w.burst_duration_seconds);
  const double burst = t_ < burst_until_ ? w.burst_multiplier : 1.0;
  const double days = static_cast<double>(t_ - start_) / 86400.0;
  const double level =
      (w.step_change_day >= 0.0 && days >= w.step_change_day) ? w.step_change_factor : 1.0;
  UsageSample s;
  s.unix_seconds = t_;
  s.cpu_cores = w.cpu_base_cores * diurnal * weekly * noise * burst * level;
  const double leak = w.leak_bytes_per_hour * static_cast<double>(t_ - last_restart_) / 3600.0;
  const double mem_noise = 1.0 + w.memory_noise * std::clamp(normal(), -3.0, 3.0);
  s.memory_bytes = std::max(
      0.0, (w.memory_base_bytes + w.memory_per_core_bytes * s.cpu_cores) * mem_noise + leak);
  t_ += step_;
  return s;
}

void UsageGenerator::restart() noexcept { last_restart_ = t_; }

std::vector<WorkloadShape> generate_fleet(int count, std::uint64_t seed,
                                          std::span<const std::string> zones) {
  if (count < 0) throw InvalidInput(fmt::format("fleet: count must be >= 0, got {}", count));
  if (zones.empty()) throw InvalidInput("fleet: at least one zone is needed");
  std::uint64_t rng = seed ^ 0x5DEECE66Dull;
  auto uni = [&](double lo, double hi) { return lo + (hi - lo) * unit(rng); };
  std::vector<WorkloadShape> fleet;
  fleet.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    WorkloadShape w;
    w.name = fmt::format("w{:03}", i);
    w.zone = zones[static_cast<std::size_t>(i) % zones.size()];
    w.tier = static_cast<SlaTier>(i % 3);
    w.cpu_base_cores = std::exp(uni(std::log(0.2), std::log(4.0)));
    w.cpu_diurnal_amplitude = uni(0.1, 0.7);
    w.peak_hour_utc = uni(0.0, 24.0);
    w.cpu_weekend_dip = uni(0.0, 0.4);
    w.cpu_noise = uni(0.05, 0.3);
    w.noise_autocorrelation = uni(0.6, 0.95);
    w.burst_rate_per_day = uni(0.0, 3.0);
    w.burst_multiplier = uni(1.3, 2.5);
    w.burst_duration_seconds = uni(600.0, 3600.0);
    const double kind = unit(rng);
    if (kind < 0.25) {
      w.step_change_day = uni(3.0, 10.0);
      w.step_change_factor = uni(0.6, 1.8);
    }
    w.memory_base_bytes = uni(0.25, 2.0) * kGiB;
    w.memory_per_core_bytes = uni(0.1, 1.0) * kGiB;
    w.memory_noise = uni(0.01, 0.05);
    if (kind >= 0.25 && kind < 0.5)
      w.leak_bytes_per_hour = uni(0.01, 0.03) * w.memory_base_bytes;  // +24..72 % a day
    fleet.push_back(std::move(w));
  }
  return fleet;
}

void OutcomeModelConfig::validate(std::string_view source) const {
  auto positive = [&](double v, const char* field) {
    if (!std::isfinite(v) || v <= 0.0)
      throw InvalidInput(fmt::format("{}: {} must be finite and > 0, got {}", source, field, v));
  };
  positive(cpu_limit_ratio, "cpu_limit_ratio");
  if (!std::isfinite(slo_utilization) || slo_utilization <= 0.0 || slo_utilization >= 1.0)
    throw InvalidInput(
        fmt::format("{}: slo_utilization must be in (0, 1), got {}", source, slo_utilization));
  positive(saturated_latency_ratio, "saturated_latency_ratio");
  positive(idle_watts_per_core, "idle_watts_per_core");
  positive(busy_watts_per_core, "busy_watts_per_core");
  positive(watts_per_gib, "watts_per_gib");
  if (!std::isfinite(pue) || pue < 1.0)
    throw InvalidInput(fmt::format("{}: pue must be >= 1, got {}", source, pue));
}

StepOutcome simulate_step(const UsageSample& usage, const ResourceAmounts& allocation,
                          double intensity, double seconds, const OutcomeModelConfig& m) noexcept {
  StepOutcome o;
  const double demand = pos(usage.cpu_cores);
  const double request = pos(allocation.cpu_cores);
  const double limit = request * m.cpu_limit_ratio;
  const double mem = pos(usage.memory_bytes);
  const double mem_request = pos(allocation.memory_bytes);
  o.served_cpu_cores = std::min(demand, limit);
  o.throttled_fraction = demand > 0.0 ? (demand - o.served_cpu_cores) / demand : 0.0;
  const double u = limit > 0.0 ? demand / limit : (demand > 0.0 ? 1.0 : 0.0);
  o.latency_ratio =
      u >= 1.0 ? m.saturated_latency_ratio
               : std::min((1.0 - m.slo_utilization) / (1.0 - u), m.saturated_latency_ratio);
  o.oom_killed = mem > mem_request;
  o.slo_violated = o.latency_ratio > 1.0 || o.oom_killed;
  o.cpu_slack_fraction =
      request > 0.0 ? std::max(0.0, request - o.served_cpu_cores) / request : 0.0;
  o.memory_slack_fraction =
      mem_request > 0.0 ? std::max(0.0, mem_request - std::min(mem, mem_request)) / mem_request
                        : 0.0;
  // Busy power on the demand, not on what was served: throttled work is
  // delayed, not dropped, so throttling must not look like a carbon saving.
  const double watts = m.idle_watts_per_core * request + m.busy_watts_per_core * demand +
                       m.watts_per_gib * mem_request / kGiB;
  o.energy_wh = watts * m.pue * pos(seconds) / 3600.0;
  if (std::isfinite(intensity) && intensity >= 0.0) o.gco2 = o.energy_wh / 1000.0 * intensity;
  return o;
}

CARBONKUBE_NAMESPACE_END
