// The allocator evaluation: per-seed replay of a generated fleet on real
// carbon data under each policy, then multi-seed summaries. See
// include/carbonkube/replay.hpp and docs/allocator.md.
#include "carbonkube/replay.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double carbon_ratio(double intensity, double threshold) {
  if (!std::isfinite(intensity) || intensity < 0.0) return 1.0;
  return std::min(std::max(intensity / threshold, 0.0), 3.0);
}

double rel_diff(double a, double b) {
  const double d = std::max(std::abs(a), std::abs(b));
  return d > 0.0 ? std::abs(a - b) / d : 0.0;
}

bool changed(const ResourceAmounts& a, const ResourceAmounts& b, double eps) {
  return rel_diff(a.cpu_cores, b.cpu_cores) > eps || rel_diff(a.memory_bytes, b.memory_bytes) > eps;
}

// One replay run: a policy, or a fixed multiplier on the carbon-adjusted
// target (the regret comparators).
struct Variant {
  PolicyKind kind = PolicyKind::kFixed;
  bool fixed_multiplier = false;
  double cpu_m = 1.0;
  double mem_m = 1.0;
};

struct RunTotals {
  double steps = 0, cpu_slack = 0, mem_slack = 0, throttled = 0, slo = 0, ooms = 0, gco2 = 0,
         adjustments = 0, cpu_cost = 0, mem_cost = 0;
  std::array<double, 3> band_ratio{}, band_steps{};  // dirty, neutral, green
};

// Usage statistics over the current decision interval.
struct IntervalStats {
  double n = 0, cpu_sum = 0, cpu_max = 0, mem_sum = 0, mem_max = 0, throttled = 0, latency = 0,
         slo = 0, ooms = 0, cpu_slack = 0, mem_slack = 0;
  void add(const StepOutcome& o, double mem) {
    n += 1;
    cpu_sum += o.served_cpu_cores;
    cpu_max = std::max(cpu_max, o.served_cpu_cores);
    mem_sum += mem;
    mem_max = std::max(mem_max, mem);
    throttled += o.throttled_fraction;
    latency += o.latency_ratio;
    slo += o.slo_violated ? 1.0 : 0.0;
    ooms += o.oom_killed ? 1.0 : 0.0;
    cpu_slack += o.cpu_slack_fraction;
    mem_slack += o.memory_slack_fraction;
  }
};

// Our reading of Autopilot's ML recommender for one resource (see replay.hpp).
class AutopilotMl {
 public:
  AutopilotMl(const HistogramOptions& options, double overrun_weight) : w_over_(overrun_weight) {
    const DecayingHistogram layout(options, 3600.0);
    for (int b = 1; b < layout.bucket_count(); ++b) limits_.push_back(layout.bucket_start(b));
    for (std::size_t m = 0; m < kDecays.size(); ++m) {
      over_[m].assign(limits_.size(), 0.0);
      under_[m].assign(limits_.size(), 0.0);
    }
  }

  void add(double usage) {
    const std::size_t n = limits_.size();
    for (std::size_t m = 0; m < kDecays.size(); ++m) {
      const double d = kDecays[m];
      // Each model's own cost, with the limit it recommends now.
      for (std::size_t k = 0; k < kMargins.size(); ++k) {
        const double lim = model_limit(m, k);
        const double c = lim > 0.0 ? (usage > lim ? w_over_ : 0.0) +
                                         kUnderWeight * std::max(0.0, lim - usage) / lim
                                   : 0.0;
        cost_[m][k] = (1.0 - d) * cost_[m][k] + d * c;
      }
      std::vector<double>& over = over_[m];
      std::vector<double>& under = under_[m];
      for (std::size_t j = 0; j < n; ++j) {
        const double l = limits_[j];
        over[j] = (1.0 - d) * over[j] + d * (usage > l ? 1.0 : 0.0);
        under[j] = (1.0 - d) * under[j] + d * std::max(0.0, l - usage) / l;
      }
      std::size_t best = choice_[m];
      double best_cost = std::numeric_limits<double>::infinity();
      for (std::size_t j = 0; j < n; ++j) {
        const double c =
            w_over_ * over[j] + kUnderWeight * under[j] + (j != choice_[m] ? kChangeWeight : 0.0);
        if (c < best_cost) {
          best_cost = c;
          best = j;
        }
      }
      choice_[m] = best;
    }
    seen_ = true;
  }

  /// The ensemble's limit: the model (decay, margin) with the least cost,
  /// plus a switching cost.
  double recommend() {
    if (!seen_) return 0.0;
    std::size_t bm = model_, bk = margin_;
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t m = 0; m < kDecays.size(); ++m)
      for (std::size_t k = 0; k < kMargins.size(); ++k) {
        const double c = cost_[m][k] + ((m != model_ || k != margin_) ? kSwitchWeight : 0.0);
        if (c < best) {
          best = c;
          bm = m;
          bk = k;
        }
      }
    model_ = bm;
    margin_ = bk;
    return model_limit(bm, bk);
  }

 private:
  static constexpr std::array<double, 3> kDecays{1.0 / 12.0, 1.0 / 72.0, 1.0 / 288.0};
  static constexpr std::array<double, 3> kMargins{0.0, 0.1, 0.2};
  static constexpr double kUnderWeight = 0.2;
  static constexpr double kChangeWeight = 0.1;
  static constexpr double kSwitchWeight = 0.1;

  double model_limit(std::size_t m, std::size_t k) const {
    return limits_[choice_[m]] * (1.0 + kMargins[k]);
  }

  double w_over_;
  std::vector<double> limits_;
  std::array<std::vector<double>, 3> over_;
  std::array<std::vector<double>, 3> under_;
  std::array<std::size_t, 3> choice_{0, 0, 0};
  std::array<std::array<double, 3>, 3> cost_{};
  std::size_t model_ = 0, margin_ = 0;
  bool seen_ = false;
};

struct ZoneTrack {
  std::vector<double> now;       // per step: usable intensity or NaN
  std::vector<double> forecast;  // per step: persistence forecast or NaN
};

struct Container {
  WorkloadShape shape;
  std::unique_ptr<UsageGenerator> gen;
  std::unique_ptr<ContainerRecommender> rec;
  std::unique_ptr<DecayingHistogram> autopilot_cpu;
  std::unique_ptr<AutopilotMl> ml_cpu, ml_mem;
  ResourceAmounts alloc;
  SlaRequirements sla;
  Recommendation last_rec;
  bool has_rec = false;
  std::vector<double> mem_ring;  // working set per step, last day
  std::vector<double> cpu_ring;  // CPU usage per step, last day
  std::size_t ring_pos = 0;
  IntervalStats iv;
  std::optional<AllocationDecision> last_decision;
  double prev_cpu_m = 1.0, prev_mem_m = 1.0;
  std::size_t zone = 0;
};

double ring_max(const Container& c, std::size_t steps) {
  const std::size_t n = std::min(steps, c.mem_ring.size());
  double m = 0.0;
  for (std::size_t k = 1; k <= n; ++k)
    m = std::max(m, c.mem_ring[(c.ring_pos + c.mem_ring.size() - k) % c.mem_ring.size()]);
  return m;
}

ResourceAmounts initial_requests(const WorkloadShape& w, const ReplayConfig& cfg) {
  const double peak = w.cpu_base_cores * (1.0 + w.cpu_diurnal_amplitude);
  return {peak * cfg.fixed_cpu_factor,
          w.memory_base_bytes * cfg.fixed_memory_factor + w.memory_per_core_bytes * peak};
}

RunTotals run_variant(const Variant& v, std::uint64_t seed, const std::vector<WorkloadShape>& fleet,
                      const std::vector<std::size_t>& zone_of, const std::vector<ZoneTrack>& zones,
                      std::int64_t start, const ReplayConfig& cfg) {
  const std::int64_t step = cfg.step_seconds;
  const std::int64_t steps = static_cast<std::int64_t>(cfg.days) * 86400 / step;
  const std::int64_t warmup = static_cast<std::int64_t>(cfg.warmup_days) * 86400 / step;
  const std::int64_t per_decision = std::max<std::int64_t>(cfg.decision_seconds / step, 1);
  const double k = static_cast<double>(per_decision);
  const auto ring_size = static_cast<std::size_t>(std::max<std::int64_t>(86400 / step, 1));
  const auto floor_steps =
      static_cast<std::size_t>(std::max<std::int64_t>(cfg.oom_floor_lookback_seconds / step, 1));
  const double threshold = cfg.carbon.threshold_g_per_kwh;

  std::vector<Container> cs(fleet.size());
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    Container& c = cs[i];
    c.shape = fleet[i];
    c.gen = std::make_unique<UsageGenerator>(fleet[i], seed * 1000003ull + i, start, step);
    c.rec = std::make_unique<ContainerRecommender>(cfg.recommender, fleet[i].name);
    c.autopilot_cpu = std::make_unique<DecayingHistogram>(HistogramOptions::cpu(), 12.0 * 3600.0);
    if (v.kind == PolicyKind::kAutopilotMl && !v.fixed_multiplier) {
      c.ml_cpu = std::make_unique<AutopilotMl>(HistogramOptions::cpu(), 5.0);
      c.ml_mem = std::make_unique<AutopilotMl>(HistogramOptions::memory(), 20.0);
    }
    c.alloc = initial_requests(fleet[i], cfg);
    c.sla.tier = fleet[i].tier;
    c.sla.resource_guarantee = fleet[i].tier == SlaTier::kCritical   ? 1.0
                               : fleet[i].tier == SlaTier::kStandard ? 0.8
                                                                     : 0.5;
    c.mem_ring.assign(ring_size, 0.0);
    c.cpu_ring.assign(ring_size, -1.0);
    c.zone = zone_of[i];
  }
  std::vector<RlOptimizer> rl;
  if (v.kind == PolicyKind::kRl && !v.fixed_multiplier) {
    for (std::uint64_t t = 0; t < 3; ++t) {
      RlConfig rc = cfg.rl;
      rc.seed = cfg.rl.seed ^ (seed * 0x9E3779B97F4A7C15ull) ^ (t + 1);
      rl.emplace_back(rc);
    }
  }

  RunTotals tot;
  for (std::int64_t s = 0; s < steps; ++s) {
    const std::int64_t t = start + s * step;
    const bool decide = s >= warmup && s % per_decision == 0;
    for (Container& c : cs) {
      const double intensity = zones[c.zone].now[static_cast<std::size_t>(s)];
      const RewardWeights& w = cfg.rl.weights[static_cast<std::size_t>(c.sla.tier)];
      const double cterm = carbon_ratio(intensity, threshold);
      if (decide) {
        const ResourceAmounts before = c.alloc;
        const Recommendation rec = c.rec->recommend();
        c.last_rec = rec;
        c.has_rec = true;
        const bool oom_recent = c.iv.ooms > 0.0;
        auto outside = [&](const ResourceAmounts& a) {
          return a.cpu_cores < rec.lower_bound.cpu_cores ||
                 a.cpu_cores > rec.upper_bound.cpu_cores ||
                 a.memory_bytes < rec.lower_bound.memory_bytes ||
                 a.memory_bytes > rec.upper_bound.memory_bytes;
        };
        if (v.fixed_multiplier) {
          const CarbonAdjusted adj = apply_carbon_adjustment(rec, intensity, c.sla, cfg.carbon);
          c.alloc = {adj.resources.cpu_cores * v.cpu_m, adj.resources.memory_bytes * v.mem_m};
        } else {
          switch (v.kind) {
            case PolicyKind::kFixed:
              break;
            case PolicyKind::kVpa:
            case PolicyKind::kVpaCarbon: {
              const ResourceAmounts target =
                  v.kind == PolicyKind::kVpa
                      ? rec.target
                      : apply_carbon_adjustment(rec, intensity, c.sla, cfg.carbon).resources;
              if (oom_recent || outside(c.alloc) ||
                  changed(c.alloc, target, cfg.vpa_update_threshold))
                c.alloc = target;
              break;
            }
            case PolicyKind::kAutopilotWindow: {
              ResourceAmounts target{
                  std::max(c.autopilot_cpu->percentile(0.95), cfg.recommender.pod_min_cpu_cores),
                  std::max(ring_max(c, ring_size) * 1.1, cfg.recommender.pod_min_memory_bytes)};
              if (oom_recent)
                target.memory_bytes = std::max(target.memory_bytes, c.alloc.memory_bytes * 1.2);
              if (oom_recent || changed(c.alloc, target, cfg.vpa_update_threshold))
                c.alloc = target;
              break;
            }
            case PolicyKind::kAutopilotMl: {
              ResourceAmounts target{
                  std::max(c.ml_cpu->recommend(), cfg.recommender.pod_min_cpu_cores),
                  std::max(c.ml_mem->recommend(), cfg.recommender.pod_min_memory_bytes)};
              if (oom_recent)
                target.memory_bytes = std::max(target.memory_bytes, c.alloc.memory_bytes * 1.2);
              if (oom_recent || changed(c.alloc, target, cfg.vpa_update_threshold))
                c.alloc = target;
              break;
            }
            case PolicyKind::kRl: {
              RlOptimizer& opt = rl[static_cast<std::size_t>(c.sla.tier)];
              if (c.last_decision && c.iv.n > 0) {
                AllocationOutcome o;
                o.cpu_slack_fraction = c.iv.cpu_slack / c.iv.n;
                o.memory_slack_fraction = c.iv.mem_slack / c.iv.n;
                o.throttled_fraction = c.iv.throttled / c.iv.n;
                o.oom_kills = c.iv.ooms;
                o.slo_violation_fraction = c.iv.slo / c.iv.n;
                opt.update(*c.last_decision, o);
              }
              const CarbonAdjusted adj = apply_carbon_adjustment(rec, intensity, c.sla, cfg.carbon);
              AllocationContext ctx;
              ctx.base = rec;
              ctx.adjusted = adj.resources;
              ctx.sla_floor = c.sla.floor(rec.target);
              ctx.tier = c.sla.tier;
              ctx.memory_peak_bytes = ring_max(c, floor_steps);
              ctx.previous_cpu_multiplier = c.prev_cpu_m;
              ctx.previous_memory_multiplier = c.prev_mem_m;
              RlObservation& ob = ctx.observation;
              const double n = std::max(c.iv.n, 1.0);
              const double tc = std::max(adj.resources.cpu_cores, 1e-9);
              const double tm = std::max(adj.resources.memory_bytes, 1.0);
              ob.cpu_usage_ratio = c.iv.cpu_sum / n / tc;
              ob.cpu_tail_ratio = c.iv.cpu_max / tc;
              ob.memory_usage_ratio = c.iv.mem_sum / n / tm;
              ob.memory_tail_ratio = c.iv.mem_max / tm;
              ob.throttled_fraction = c.iv.throttled / n;
              ob.oom_kills = c.iv.ooms;
              ob.slo_latency_ratio = c.iv.latency / n;
              {
                // One day ago, the next interval's steps: the ring slot
                // about to be overwritten is exactly one day old.
                double peak = -1.0;
                for (std::int64_t j = 0; j < per_decision; ++j)
                  peak = std::max(
                      peak,
                      c.cpu_ring[(c.ring_pos + static_cast<std::size_t>(j)) % c.cpu_ring.size()]);
                ob.cpu_forecast_ratio = peak >= 0.0 ? peak / tc : kNaN;
              }
              ob.intensity_g_per_kwh = intensity;
              ob.forecast_g_per_kwh = zones[c.zone].forecast[static_cast<std::size_t>(s)];
              ob.threshold_g_per_kwh = threshold;
              ob.unix_seconds = t;
              const AllocationDecision d = opt.decide(ctx);
              c.alloc = d.resources;
              c.prev_cpu_m = d.cpu_multiplier;
              c.prev_mem_m = d.memory_multiplier;
              c.last_decision = d;
              break;
            }
          }
        }
        if (changed(before, c.alloc, cfg.change_epsilon)) {
          tot.adjustments += 1.0;
          tot.cpu_cost += w.churn * std::abs(c.alloc.cpu_cores - before.cpu_cores) /
                          std::max(rec.target.cpu_cores, 1e-9);
          tot.mem_cost += w.churn * std::abs(c.alloc.memory_bytes - before.memory_bytes) /
                          std::max(rec.target.memory_bytes, 1.0);
        }
        c.iv = IntervalStats{};
      } else if (s % per_decision == 0) {
        c.iv = IntervalStats{};
      }

      const UsageSample u = c.gen->next();
      const StepOutcome o =
          simulate_step(u, c.alloc, intensity, static_cast<double>(step), cfg.model);
      const double ws = std::min(u.memory_bytes, c.alloc.memory_bytes);
      c.rec->add_cpu_sample(t, o.served_cpu_cores, c.alloc.cpu_cores);
      c.rec->add_memory_sample(t, ws);
      c.autopilot_cpu->add_sample(o.served_cpu_cores, 1.0, t);
      if (c.ml_cpu) {
        c.ml_cpu->add(o.served_cpu_cores);
        c.ml_mem->add(ws);
      }
      c.mem_ring[c.ring_pos] = ws;
      c.cpu_ring[c.ring_pos] = o.served_cpu_cores;
      c.ring_pos = (c.ring_pos + 1) % c.mem_ring.size();
      if (o.oom_killed) {
        c.rec->record_oom(t, c.alloc.memory_bytes);
        c.gen->restart();
      }
      c.iv.add(o, ws);
      if (s >= warmup) {
        tot.steps += 1.0;
        tot.cpu_slack += o.cpu_slack_fraction;
        tot.mem_slack += o.memory_slack_fraction;
        tot.throttled += o.throttled_fraction;
        tot.slo += o.slo_violated ? 1.0 : 0.0;
        tot.ooms += o.oom_killed ? 1.0 : 0.0;
        tot.gco2 += o.gco2;
        const Recommendation& r = c.last_rec;
        const double cpu_ratio = c.alloc.cpu_cores / std::max(r.target.cpu_cores, 1e-9);
        const CarbonBand band = cfg.carbon.band(intensity);
        if (band != CarbonBand::kUnknown) {
          const std::size_t b = band == CarbonBand::kDirty     ? 0
                                : band == CarbonBand::kNeutral ? 1
                                                               : 2;
          tot.band_ratio[b] += cpu_ratio;
          tot.band_steps[b] += 1.0;
        }
        const double mem_ratio = c.alloc.memory_bytes / std::max(r.target.memory_bytes, 1.0);
        tot.cpu_cost += (w.slack * o.cpu_slack_fraction + w.throttle * o.throttled_fraction +
                         w.slo * (o.slo_violated ? 1.0 : 0.0) + w.carbon * cterm * cpu_ratio) /
                        k;
        tot.mem_cost += (w.slack * o.memory_slack_fraction + w.carbon * cterm * mem_ratio) / k +
                        w.oom * (o.oom_killed ? 1.0 : 0.0);
      }
    }
  }
  return tot;
}

PolicyMetrics metrics_of(PolicyKind kind, const RunTotals& t, double container_days) {
  PolicyMetrics m;
  m.policy = kind;
  const double n = std::max(t.steps, 1.0);
  m.cpu_slack = t.cpu_slack / n;
  m.memory_slack = t.mem_slack / n;
  m.relative_slack = 0.5 * (m.cpu_slack + m.memory_slack);
  m.ooms_per_container_day = t.ooms / container_days;
  m.throttled_fraction = t.throttled / n;
  m.slo_violation_rate = t.slo / n;
  m.kg_co2 = t.gco2 / 1000.0;
  m.adjustments_per_day = t.adjustments / container_days;
  m.cost = (t.cpu_cost + t.mem_cost) / container_days;
  auto band = [&](std::size_t b) {
    return t.band_steps[b] > 0.0 ? t.band_ratio[b] / t.band_steps[b] : kNaN;
  };
  m.cpu_ratio_dirty = band(0);
  m.cpu_ratio_neutral = band(1);
  m.cpu_ratio_green = band(2);
  m.dirty_share = t.band_steps[0] / n;
  m.green_share = t.band_steps[2] / n;
  return m;
}

}  // namespace

std::string_view to_string(PolicyKind kind) noexcept {
  switch (kind) {
    case PolicyKind::kFixed:
      return "fixed";
    case PolicyKind::kVpa:
      return "vpa";
    case PolicyKind::kVpaCarbon:
      return "vpa-carbon";
    case PolicyKind::kAutopilotWindow:
      return "autopilot-window";
    case PolicyKind::kAutopilotMl:
      return "autopilot-ml";
    case PolicyKind::kRl:
      return "rl";
  }
  return "fixed";
}

PolicyKind parse_policy_kind(std::string_view text) {
  for (PolicyKind k : all_policies())
    if (to_string(k) == text) return k;
  throw InvalidInput(fmt::format(
      "policy \"{}\" is not one of fixed, vpa, vpa-carbon, autopilot-window, autopilot-ml, rl",
      text));
}

std::vector<PolicyKind> all_policies() {
  return {PolicyKind::kFixed,           PolicyKind::kVpa,         PolicyKind::kVpaCarbon,
          PolicyKind::kAutopilotWindow, PolicyKind::kAutopilotMl, PolicyKind::kRl};
}

void ReplayConfig::validate() const {
  auto fail = [](const std::string& what) { throw InvalidInput("replay config: " + what); };
  if (workloads < 1 || workloads > 100000)
    fail(fmt::format("workloads must be 1..100000, got {}", workloads));
  if (days < 1 || days > 366) fail(fmt::format("days must be 1..366, got {}", days));
  if (warmup_days < 0 || warmup_days >= days)
    fail(fmt::format("warmup_days must be 0..days-1, got {}", warmup_days));
  if (step_seconds <= 0 || 86400 % step_seconds != 0)
    fail(fmt::format("step_seconds must divide a day, got {}", step_seconds));
  if (decision_seconds < step_seconds || decision_seconds % step_seconds != 0)
    fail(fmt::format("decision_seconds must be a multiple of step_seconds, got {}",
                     decision_seconds));
  if (start_spread_days < 1) fail("start_spread_days must be >= 1");
  if (!(fixed_cpu_factor > 0.0) || !std::isfinite(fixed_cpu_factor) ||
      !(fixed_memory_factor > 0.0) || !std::isfinite(fixed_memory_factor))
    fail("fixed_cpu_factor and fixed_memory_factor must be finite and > 0");
  if (oom_floor_lookback_seconds < step_seconds)
    fail("oom_floor_lookback_seconds must be >= step_seconds");
  if (!std::isfinite(vpa_update_threshold) || vpa_update_threshold < 0.0)
    fail("vpa_update_threshold must be finite and >= 0");
  if (!std::isfinite(change_epsilon) || change_epsilon < 0.0)
    fail("change_epsilon must be finite and >= 0");
  recommender.validate("replay config: recommender");
  carbon.validate("replay config: carbon");
  rl.validate("replay config: rl");
  model.validate("replay config: model");
}

SeedResult replay_seed(std::uint64_t seed, const CarbonSignals& signals,
                       std::span<const std::string> zones, std::span<const PolicyKind> policies,
                       const ReplayConfig& config) {
  config.validate();
  if (zones.empty()) throw InvalidInput("replay: at least one zone is needed");
  SeedResult result;
  result.seed = seed;
  const std::int64_t start =
      config.first_start_unix_seconds +
      static_cast<std::int64_t>((seed * 37u) %
                                static_cast<std::uint64_t>(config.start_spread_days)) *
          86400;
  result.start_unix_seconds = start;
  const std::int64_t steps = static_cast<std::int64_t>(config.days) * 86400 / config.step_seconds;
  const std::int64_t end = start + static_cast<std::int64_t>(config.days) * 86400;

  std::vector<ZoneTrack> tracks(zones.size());
  for (std::size_t z = 0; z < zones.size(); ++z) {
    const ZoneSeries* series = signals.find(zones[z]);
    if (!series || series->points.empty())
      throw InvalidInput(fmt::format("replay: no carbon signal for zone \"{}\"", zones[z]));
    if (series->points.front().unix_seconds > start - 86400 ||
        series->points.back().unix_seconds + series->period_seconds < end)
      throw InvalidInput(fmt::format(
          "replay: the signal of zone \"{}\" ({} .. {}) does not cover the run {} .. {} (and the "
          "day before it, for the forecast)",
          zones[z], format_timestamp(series->points.front().unix_seconds),
          format_timestamp(series->points.back().unix_seconds), format_timestamp(start - 86400),
          format_timestamp(end)));
    ZoneTrack& tr = tracks[z];
    tr.now.resize(static_cast<std::size_t>(steps));
    tr.forecast.resize(static_cast<std::size_t>(steps));
    for (std::int64_t s = 0; s < steps; ++s) {
      const std::int64_t t = start + s * config.step_seconds;
      const ZoneReading r = evaluate(signals, zones[z], t, config.signal_policy);
      tr.now[static_cast<std::size_t>(s)] = r.usable ? r.g_per_kwh : kNaN;
      // Persistence forecast: the same three hours yesterday (no look-ahead).
      double sum = 0.0;
      int n = 0;
      for (int h = 0; h < 3; ++h) {
        const SignalPoint* p = series->at(t - 86400 + h * 3600);
        if (p && std::isfinite(p->g_per_kwh) && p->g_per_kwh >= 0.0) {
          sum += p->g_per_kwh;
          ++n;
        }
      }
      tr.forecast[static_cast<std::size_t>(s)] = n > 0 ? sum / n : kNaN;
    }
  }
  const std::vector<WorkloadShape> fleet = generate_fleet(config.workloads, seed, zones);
  std::vector<std::size_t> zone_of(fleet.size());
  for (std::size_t i = 0; i < fleet.size(); ++i) zone_of[i] = i % zones.size();
  const double container_days =
      static_cast<double>(fleet.size()) * static_cast<double>(config.days - config.warmup_days);

  // Fixed-multiplier comparators (regret): the RL's own action grids.
  const std::vector<double>& cm = config.rl.cpu_multipliers;
  const std::vector<double>& mm = config.rl.memory_multipliers;
  const std::size_t nk = std::max(cm.size(), mm.size());
  double best_cpu = std::numeric_limits<double>::infinity();
  double best_mem = std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < nk; ++k) {
    Variant v;
    v.fixed_multiplier = true;
    v.cpu_m = cm[std::min(k, cm.size() - 1)];
    v.mem_m = mm[std::min(k, mm.size() - 1)];
    const RunTotals t = run_variant(v, seed, fleet, zone_of, tracks, start, config);
    if (k < cm.size() && t.cpu_cost < best_cpu) {
      best_cpu = t.cpu_cost;
      result.best_fixed_cpu_multiplier = v.cpu_m;
    }
    if (k < mm.size() && t.mem_cost < best_mem) {
      best_mem = t.mem_cost;
      result.best_fixed_memory_multiplier = v.mem_m;
    }
  }
  result.best_fixed_cost = (best_cpu + best_mem) / container_days;
  for (PolicyKind kind : policies) {
    Variant v;
    v.kind = kind;
    const RunTotals t = run_variant(v, seed, fleet, zone_of, tracks, start, config);
    PolicyMetrics m = metrics_of(kind, t, container_days);
    m.regret = m.cost - result.best_fixed_cost;
    result.policies.push_back(m);
  }
  return result;
}

Interval confidence_interval(std::span<const double> values) {
  Interval out;
  if (values.empty()) return {kNaN, kNaN, kNaN};
  const double n = static_cast<double>(values.size());
  double sum = 0.0;
  for (double v : values) sum += v;
  out.mean = sum / n;
  if (values.size() < 2) {
    out.low = out.high = out.mean;
    return out;
  }
  double ss = 0.0;
  for (double v : values) ss += (v - out.mean) * (v - out.mean);
  const double sd = std::sqrt(ss / (n - 1.0));
  // Student t, 97.5 % quantile, for 1..30 degrees of freedom; 1.96 beyond.
  static constexpr std::array<double, 30> kT{
      12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
      2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
      2.080,  2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  const std::size_t df = values.size() - 1;
  const double tq = df <= kT.size() ? kT[df - 1] : 1.96;
  const double half = tq * sd / std::sqrt(n);
  out.low = out.mean - half;
  out.high = out.mean + half;
  return out;
}

Evaluation evaluate_allocators(const CarbonSignals& signals, std::span<const std::string> zones,
                               std::span<const PolicyKind> policies, std::uint64_t first_seed,
                               int seeds, const ReplayConfig& config) {
  if (seeds < 1) throw InvalidInput(fmt::format("evaluation: seeds must be >= 1, got {}", seeds));
  if (policies.empty()) throw InvalidInput("evaluation: no policy to evaluate");
  Evaluation ev;
  ev.config = config;
  ev.zones.assign(zones.begin(), zones.end());
  for (int i = 0; i < seeds; ++i)
    ev.seeds.push_back(
        replay_seed(first_seed + static_cast<std::uint64_t>(i), signals, zones, policies, config));
  for (std::size_t p = 0; p < policies.size(); ++p) {
    PolicySummary s;
    s.policy = policies[p];
    auto col = [&](double PolicyMetrics::*field) {
      std::vector<double> v;
      for (const SeedResult& r : ev.seeds)
        if (std::isfinite(r.policies[p].*field)) v.push_back(r.policies[p].*field);
      return confidence_interval(v);
    };
    s.relative_slack = col(&PolicyMetrics::relative_slack);
    s.cpu_slack = col(&PolicyMetrics::cpu_slack);
    s.memory_slack = col(&PolicyMetrics::memory_slack);
    s.ooms_per_container_day = col(&PolicyMetrics::ooms_per_container_day);
    s.throttled_fraction = col(&PolicyMetrics::throttled_fraction);
    s.slo_violation_rate = col(&PolicyMetrics::slo_violation_rate);
    s.kg_co2 = col(&PolicyMetrics::kg_co2);
    s.adjustments_per_day = col(&PolicyMetrics::adjustments_per_day);
    s.cost = col(&PolicyMetrics::cost);
    s.regret = col(&PolicyMetrics::regret);
    s.cpu_ratio_dirty = col(&PolicyMetrics::cpu_ratio_dirty);
    s.cpu_ratio_neutral = col(&PolicyMetrics::cpu_ratio_neutral);
    s.cpu_ratio_green = col(&PolicyMetrics::cpu_ratio_green);
    s.dirty_share = col(&PolicyMetrics::dirty_share);
    s.green_share = col(&PolicyMetrics::green_share);
    ev.summary.push_back(s);
  }
  const auto rl_it = std::find(policies.begin(), policies.end(), PolicyKind::kRl);
  if (rl_it != policies.end()) {
    const auto rl = static_cast<std::size_t>(rl_it - policies.begin());
    for (std::size_t p = 0; p < policies.size(); ++p) {
      if (p == rl) continue;
      PairedComparison c;
      c.baseline = policies[p];
      c.seeds = seeds;
      auto diff = [&](double PolicyMetrics::*field) {
        std::vector<double> v;
        for (const SeedResult& r : ev.seeds)
          v.push_back(r.policies[rl].*field - r.policies[p].*field);
        return confidence_interval(v);
      };
      c.relative_slack = diff(&PolicyMetrics::relative_slack);
      c.kg_co2 = diff(&PolicyMetrics::kg_co2);
      c.ooms_per_container_day = diff(&PolicyMetrics::ooms_per_container_day);
      c.slo_violation_rate = diff(&PolicyMetrics::slo_violation_rate);
      for (const SeedResult& r : ev.seeds) {
        const PolicyMetrics& a = r.policies[rl];
        const PolicyMetrics& b = r.policies[p];
        const bool slack = a.relative_slack < b.relative_slack;
        const bool carbon = a.kg_co2 < b.kg_co2;
        const bool oom = a.ooms_per_container_day <= b.ooms_per_container_day;
        const bool slo = a.slo_violation_rate <= b.slo_violation_rate;
        c.slack_lower += slack;
        c.carbon_lower += carbon;
        c.oom_no_higher += oom;
        c.slo_no_higher += slo;
        c.bar_met += slack && carbon && oom && slo;
      }
      ev.paired.push_back(c);
    }
  }
  return ev;
}

namespace {

std::string cell(const Interval& i, int precision, double scale = 1.0) {
  return fmt::format("{:.{}f} ±{:.{}f}", i.mean * scale, precision, (i.high - i.mean) * scale,
                     precision);
}

nlohmann::json interval_json(const Interval& i) {
  return {{"mean", i.mean}, {"low", i.low}, {"high", i.high}};
}

}  // namespace

std::string format_evaluation_table(const Evaluation& ev) {
  std::string out = fmt::format(
      "{} seeds x {} workloads x {} days ({} warm-up), zones: {}; mean ±95% CI half-width\n",
      ev.seeds.size(), ev.config.workloads, ev.config.days, ev.config.warmup_days,
      fmt::join(ev.zones, ","));
  out += fmt::format("{:<17}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}\n", "policy",
                     "rel.slack", "cpu slack", "mem slack", "OOM/ctr-day", "throttled %",
                     "SLO viol %", "kgCO2", "adjust/day", "regret");
  for (const PolicySummary& s : ev.summary) {
    out += fmt::format("{:<17}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}{:>15}\n",
                       to_string(s.policy), cell(s.relative_slack, 3), cell(s.cpu_slack, 3),
                       cell(s.memory_slack, 3), cell(s.ooms_per_container_day, 3),
                       cell(s.throttled_fraction, 2, 100.0), cell(s.slo_violation_rate, 2, 100.0),
                       cell(s.kg_co2, 2), cell(s.adjustments_per_day, 1), cell(s.regret, 2));
  }
  if (!ev.summary.empty())
    out += fmt::format(
        "carbon bands (the seed's rule): {:.1f}% of container-steps dirty, {:.1f}% green; mean "
        "CPU request / VPA target per band (mean over seeds that had such hours):\n",
        100.0 * ev.summary[0].dirty_share.mean, 100.0 * ev.summary[0].green_share.mean);
  out += fmt::format("{:<17}{:>15}{:>15}{:>15}\n", "policy", "dirty hours", "neutral hours",
                     "green hours");
  for (const PolicySummary& s : ev.summary)
    out +=
        fmt::format("{:<17}{:>15}{:>15}{:>15}\n", to_string(s.policy), cell(s.cpu_ratio_dirty, 3),
                    cell(s.cpu_ratio_neutral, 3), cell(s.cpu_ratio_green, 3));
  for (const PairedComparison& c : ev.paired) {
    out += fmt::format(
        "rl - {}: slack {} (lower on {}/{} seeds), kgCO2 {} (lower on {}/{}), OOM/ctr-day {} (no "
        "higher on {}/{}), SLO viol % {} (no higher on {}/{}); bar met on {}/{} seeds\n",
        to_string(c.baseline), cell(c.relative_slack, 3), c.slack_lower, c.seeds, cell(c.kg_co2, 2),
        c.carbon_lower, c.seeds, cell(c.ooms_per_container_day, 3), c.oom_no_higher, c.seeds,
        cell(c.slo_violation_rate, 2, 100.0), c.slo_no_higher, c.seeds, c.bar_met, c.seeds);
  }
  return out;
}

std::string evaluation_to_json(const Evaluation& ev) {
  using nlohmann::json;
  json seeds = json::array();
  for (const SeedResult& r : ev.seeds) {
    json ps = json::array();
    for (const PolicyMetrics& m : r.policies)
      ps.push_back({{"policy", to_string(m.policy)},
                    {"relativeSlack", m.relative_slack},
                    {"cpuSlack", m.cpu_slack},
                    {"memorySlack", m.memory_slack},
                    {"oomsPerContainerDay", m.ooms_per_container_day},
                    {"throttledFraction", m.throttled_fraction},
                    {"sloViolationRate", m.slo_violation_rate},
                    {"kgCO2", m.kg_co2},
                    {"adjustmentsPerDay", m.adjustments_per_day},
                    {"cost", m.cost},
                    {"regret", m.regret},
                    {"cpuRatioDirty", m.cpu_ratio_dirty},
                    {"cpuRatioNeutral", m.cpu_ratio_neutral},
                    {"cpuRatioGreen", m.cpu_ratio_green}});
    seeds.push_back({{"seed", r.seed},
                     {"start", format_timestamp(r.start_unix_seconds)},
                     {"bestFixedCost", r.best_fixed_cost},
                     {"bestFixedCpuMultiplier", r.best_fixed_cpu_multiplier},
                     {"bestFixedMemoryMultiplier", r.best_fixed_memory_multiplier},
                     {"policies", ps}});
  }
  json summary = json::array();
  for (const PolicySummary& s : ev.summary)
    summary.push_back({{"policy", to_string(s.policy)},
                       {"relativeSlack", interval_json(s.relative_slack)},
                       {"cpuSlack", interval_json(s.cpu_slack)},
                       {"memorySlack", interval_json(s.memory_slack)},
                       {"oomsPerContainerDay", interval_json(s.ooms_per_container_day)},
                       {"throttledFraction", interval_json(s.throttled_fraction)},
                       {"sloViolationRate", interval_json(s.slo_violation_rate)},
                       {"kgCO2", interval_json(s.kg_co2)},
                       {"adjustmentsPerDay", interval_json(s.adjustments_per_day)},
                       {"cost", interval_json(s.cost)},
                       {"regret", interval_json(s.regret)},
                       {"cpuRatioDirty", interval_json(s.cpu_ratio_dirty)},
                       {"cpuRatioNeutral", interval_json(s.cpu_ratio_neutral)},
                       {"cpuRatioGreen", interval_json(s.cpu_ratio_green)}});
  json paired = json::array();
  for (const PairedComparison& c : ev.paired)
    paired.push_back({{"baseline", to_string(c.baseline)},
                      {"relativeSlack", interval_json(c.relative_slack)},
                      {"kgCO2", interval_json(c.kg_co2)},
                      {"oomsPerContainerDay", interval_json(c.ooms_per_container_day)},
                      {"sloViolationRate", interval_json(c.slo_violation_rate)},
                      {"seeds", c.seeds},
                      {"slackLower", c.slack_lower},
                      {"carbonLower", c.carbon_lower},
                      {"oomNoHigher", c.oom_no_higher},
                      {"sloNoHigher", c.slo_no_higher},
                      {"barMet", c.bar_met}});
  json j{{"config",
          {{"workloads", ev.config.workloads},
           {"days", ev.config.days},
           {"warmupDays", ev.config.warmup_days},
           {"stepSeconds", ev.config.step_seconds},
           {"decisionSeconds", ev.config.decision_seconds},
           {"zones", ev.zones}}},
         {"seeds", seeds},
         {"summary", summary},
         {"paired", paired}};
  return j.dump(2);
}

std::string evaluation_to_csv(const Evaluation& ev) {
  std::string out =
      "seed,policy,relative_slack,cpu_slack,memory_slack,ooms_per_container_day,"
      "throttled_fraction,slo_violation_rate,kg_co2,adjustments_per_day,cost,regret,"
      "cpu_ratio_dirty,cpu_ratio_neutral,cpu_ratio_green\n";
  for (const SeedResult& r : ev.seeds)
    for (const PolicyMetrics& m : r.policies)
      out += fmt::format(
          "{},{},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:.6f},{:."
          "6f},{:.6f}\n",
          r.seed, to_string(m.policy), m.relative_slack, m.cpu_slack, m.memory_slack,
          m.ooms_per_container_day, m.throttled_fraction, m.slo_violation_rate, m.kg_co2,
          m.adjustments_per_day, m.cost, m.regret, m.cpu_ratio_dirty, m.cpu_ratio_neutral,
          m.cpu_ratio_green);
  return out;
}

CARBONKUBE_NAMESPACE_END
