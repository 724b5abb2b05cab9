// The allocator around the recommender and the RL: the seed's carbon rule and
// its floors, the usage generator and the step model (throttling, latency,
// OOM, energy), the replay driver and its statistics, the
// CarbonAwareResourceAllocator pipeline, and `carbonkube evaluate-allocator`.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "carbonkube/allocator.hpp"
#include "carbonkube/carbon_adjustment.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/replay.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/usage_model.hpp"
#include "cli.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

using ck_test::contains;

using ck_test::error_of;

std::string source_path(const std::string& rel) {
  return std::string(CARBONKUBE_SOURCE_DIR) + "/" + rel;
}

Recommendation base_rec() {
  Recommendation r;
  r.target = {1.0, 2 * kGiB};
  r.lower_bound = {0.7, 1.5 * kGiB};
  r.upper_bound = {2.0, 3 * kGiB};
  r.uncapped_target = r.target;
  r.has_data = true;
  return r;
}

const CarbonSignals& bundled_signals() {
  static const CarbonSignals signals = [] {
    CarbonSignals s;
    for (const char* f : {"ES", "NO"}) {
      const std::string path =
          source_path(std::string("data/carbon/electricitymaps/") + f + "_2023_hourly.csv");
      s.add(load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle).series);
    }
    return s;
  }();
  return signals;
}

ReplayConfig small_config() {
  ReplayConfig c;
  c.workloads = 6;
  c.days = 4;
  c.warmup_days = 1;
  c.signal_policy.kind = IntensityKind::kAverageLifecycle;
  return c;
}

}  // namespace

TEST_CASE("allocator: the seed's carbon rule per band") {
  const CarbonAdjustmentConfig cfg;
  SlaRequirements sla;
  sla.resource_guarantee = 0.0;
  const Recommendation r = base_rec();
  const CarbonAdjusted dirty = apply_carbon_adjustment(r, 350.0, sla, cfg);
  CHECK(dirty.band == CarbonBand::kDirty);
  CHECK(dirty.resources.cpu_cores == doctest::Approx(0.8));
  CHECK(dirty.resources.memory_bytes == doctest::Approx(1.8 * kGiB));
  CHECK_FALSE(dirty.priority_boost);
  const CarbonAdjusted green = apply_carbon_adjustment(r, 50.0, sla, cfg);
  CHECK(green.band == CarbonBand::kGreen);
  CHECK(green.resources.cpu_cores == doctest::Approx(1.2));
  CHECK(green.resources.memory_bytes == doctest::Approx(2.2 * kGiB));
  CHECK(green.priority_boost);
  for (double neutral : {100.0, 200.0, 300.0}) {
    const CarbonAdjusted n = apply_carbon_adjustment(r, neutral, sla, cfg);
    CHECK(n.band == CarbonBand::kNeutral);
    CHECK(n.resources == r.target);
  }
  for (double unknown : {std::nan(""), -5.0, std::numeric_limits<double>::infinity()}) {
    const CarbonAdjusted u = apply_carbon_adjustment(r, unknown, sla, cfg);
    CHECK(u.band == CarbonBand::kUnknown);
    CHECK(u.resources == r.target);
  }
}

TEST_CASE("allocator: the carbon rule never goes below the lower bound or the SLA floor") {
  CarbonAdjustmentConfig cfg;
  cfg.dirty_cpu_scale = 0.5;
  cfg.dirty_memory_scale = 0.5;
  SlaRequirements sla;
  sla.resource_guarantee = 0.0;
  const Recommendation r = base_rec();
  const CarbonAdjusted a = apply_carbon_adjustment(r, 900.0, sla, cfg);
  CHECK(a.resources == r.lower_bound);
  CHECK(a.cpu_floored);
  CHECK(a.memory_floored);
  // A critical tier (green-guaranteed: guarantee 1.0) keeps the whole target.
  const SlaRequirements critical = SlaRequirements::from_profile(
      default_qos_profiles()[default_qos_profiles().find(kGreenGuaranteed)]);
  CHECK(critical.tier == SlaTier::kCritical);
  CHECK(apply_carbon_adjustment(r, 900.0, critical, cfg).resources == r.target);
  SlaRequirements abs;
  abs.resource_guarantee = 0.0;
  abs.min_resources = {0.95, 0.0};
  CHECK(apply_carbon_adjustment(r, 900.0, abs, cfg).resources.cpu_cores == doctest::Approx(0.95));
  CHECK(sla_tier_for(default_qos_profiles()[2]) == SlaTier::kBestEffort);
  CHECK(parse_sla_tier("best-effort") == SlaTier::kBestEffort);
  CHECK(contains(error_of([] { parse_sla_tier("gold"); }), "gold"));
}

TEST_CASE("allocator: thresholds come from the CarbonProfile; bad configs are named") {
  const CarbonProfile p = parse_carbon_profile(
      "apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\nmetadata: {name: p}\n"
      "spec:\n  carbonBudget: {threshold: 250, greenThreshold: 80}\n",
      "cp.yaml");
  const CarbonAdjustmentConfig c = CarbonAdjustmentConfig::from_profile(p);
  CHECK(c.threshold_g_per_kwh == 250.0);
  CHECK(c.green_threshold_g_per_kwh == 80.0);
  CHECK(c.band(260.0) == CarbonBand::kDirty);
  CHECK(c.band(79.0) == CarbonBand::kGreen);
  CarbonAdjustmentConfig bad;
  bad.green_threshold_g_per_kwh = 400.0;
  CHECK(contains(error_of([&] { bad.validate("cfg"); }), "greenThreshold (400) must be below"));
  bad = {};
  bad.dirty_cpu_scale = std::nan("");
  CHECK(contains(error_of([&] { bad.validate("cfg"); }), "dirty_cpu_scale"));

  const std::vector<ZoneCarbon> zones{{"ES", 350.0, true}, {"NO", 30.0, true}, {"X", 10.0, false}};
  const auto per_zone = apply_carbon_adjustments(base_rec(), zones, SlaRequirements{}, {});
  REQUIRE(per_zone.size() == 3);
  CHECK(per_zone[0].adjusted.band == CarbonBand::kDirty);
  CHECK(per_zone[1].adjusted.band == CarbonBand::kGreen);
  CHECK(per_zone[2].adjusted.band == CarbonBand::kUnknown);
  const std::vector<ZoneCarbon> dup{{"ES", 1.0, true}, {"ES", 2.0, true}};
  CHECK(contains(error_of([&] { apply_carbon_adjustments(base_rec(), dup, {}, {}); }),
                 "appears twice"));
}

TEST_CASE("allocator: the step model throttles, queues, kills and counts carbon") {
  OutcomeModelConfig m;
  UsageSample u;
  u.cpu_cores = 2.0;
  u.memory_bytes = 1 * kGiB;
  // Under-provisioned CPU: throttled, saturated latency, SLO violated.
  StepOutcome o = simulate_step(u, {1.0, 2 * kGiB}, 200.0, 3600.0, m);
  CHECK(o.served_cpu_cores == 1.0);
  CHECK(o.throttled_fraction == doctest::Approx(0.5));
  CHECK(o.latency_ratio == m.saturated_latency_ratio);
  CHECK(o.slo_violated);
  CHECK_FALSE(o.oom_killed);
  CHECK(o.cpu_slack_fraction == 0.0);
  CHECK(o.memory_slack_fraction == doctest::Approx(0.5));
  // Energy: idle share on the request, busy power on the demand, memory on
  // the request, times PUE; gCO2 = kWh x intensity.
  const double watts = 0.74 * 1.0 + (3.5 - 0.74) * 2.0 + 0.392 * 2.0;
  CHECK(o.energy_wh == doctest::Approx(watts * 1.135));
  CHECK(o.gco2 == doctest::Approx(watts * 1.135 / 1000.0 * 200.0));
  // At 80 % utilisation the latency ratio is (1 - 0.9) / (1 - 0.8) = 0.5.
  o = simulate_step(u, {2.5, 2 * kGiB}, std::nan(""), 300.0, m);
  CHECK(o.latency_ratio == doctest::Approx(0.5));
  CHECK_FALSE(o.slo_violated);
  CHECK(o.gco2 == 0.0);  // unknown intensity: no carbon counted
  CHECK(o.cpu_slack_fraction == doctest::Approx(0.2));
  // Working set above the memory request: OOM kill, which violates the SLO.
  o = simulate_step(u, {4.0, 0.5 * kGiB}, 100.0, 300.0, m);
  CHECK(o.oom_killed);
  CHECK(o.slo_violated);
  // Garbage in: zeros out, never NaN.
  UsageSample bad{0, std::nan(""), -1.0};
  o = simulate_step(bad, {std::nan(""), -1.0}, 100.0, 300.0, m);
  CHECK(o.throttled_fraction == 0.0);
  CHECK(std::isfinite(o.latency_ratio));
  CHECK(std::isfinite(o.gco2));
}

TEST_CASE("allocator: the usage generator is seeded, cyclic, bursty and leaks until restarted") {
  WorkloadShape w;
  w.cpu_diurnal_amplitude = 0.6;
  w.peak_hour_utc = 12.0;
  w.cpu_noise = 0.05;
  w.burst_rate_per_day = 0.0;
  w.cpu_weekend_dip = 0.0;
  w.leak_bytes_per_hour = 0.1 * kGiB;
  const std::int64_t start = 1672531200;
  UsageGenerator a(w, 5, start, 300), b(w, 5, start, 300), c(w, 6, start, 300);
  double noon = 0.0, midnight = 0.0;
  bool differs = false;
  for (int i = 0; i < 288 * 4; ++i) {
    const UsageSample x = a.next(), y = b.next(), z = c.next();
    CHECK(x.cpu_cores == y.cpu_cores);
    CHECK(x.memory_bytes == y.memory_bytes);
    differs |= x.cpu_cores != z.cpu_cores;
    const std::int64_t hour = (x.unix_seconds % 86400) / 3600;
    if (hour == 12) noon += x.cpu_cores;
    if (hour == 0) midnight += x.cpu_cores;
  }
  CHECK(differs);
  CHECK(noon > 2.0 * midnight);  // (1 + 0.6) / (1 - 0.6) = 4 in expectation
  const UsageSample before = a.next();
  a.restart();
  const UsageSample after = a.next();
  CHECK(before.memory_bytes - after.memory_bytes > 5 * kGiB);  // four days of leak cleared

  WorkloadShape burst = w;
  burst.burst_rate_per_day = 24.0;
  burst.burst_multiplier = 3.0;
  burst.cpu_diurnal_amplitude = 0.0;
  burst.cpu_noise = 0.0;
  UsageGenerator g(burst, 1, start, 300);
  int bursting = 0;
  for (int i = 0; i < 288; ++i) bursting += g.next().cpu_cores > 2.0;
  CHECK(bursting > 10);

  WorkloadShape bad = w;
  bad.cpu_base_cores = -1.0;
  CHECK(contains(error_of([&] { UsageGenerator x(bad, 1, start, 300); }), "cpu_base_cores"));
  CHECK(contains(error_of([&] { UsageGenerator x(w, 1, start, 0); }), "step_seconds"));
  const std::vector<std::string> zones{"A", "B"};
  const auto fleet = generate_fleet(9, 3, zones);
  REQUIRE(fleet.size() == 9);
  CHECK(fleet[1].zone == "B");
  CHECK(fleet[2].tier == SlaTier::kBestEffort);
  for (const auto& f : fleet) f.validate();
  CHECK(contains(error_of([] { generate_fleet(2, 1, {}); }), "zone"));
}

TEST_CASE("allocator: confidence intervals match a hand computation") {
  const std::vector<double> v{1.0, 2.0, 3.0, 4.0};
  const Interval i = confidence_interval(v);
  CHECK(i.mean == doctest::Approx(2.5));
  // sd = sqrt(5/3), t(3) = 3.182
  const double half = 3.182 * std::sqrt(5.0 / 3.0) / 2.0;
  CHECK(i.high - i.mean == doctest::Approx(half));
  CHECK(i.mean - i.low == doctest::Approx(half));
  const std::vector<double> one{7.0};
  CHECK(confidence_interval(one).low == 7.0);
  CHECK(std::isnan(confidence_interval({}).mean));
}

TEST_CASE("allocator: replay is deterministic, sane and measures what each policy does") {
  const std::vector<std::string> zones{"ES", "NO"};
  const std::vector<PolicyKind> policies = all_policies();
  const ReplayConfig cfg = small_config();
  const SeedResult a = replay_seed(3, bundled_signals(), zones, policies, cfg);
  const SeedResult b = replay_seed(3, bundled_signals(), zones, policies, cfg);
  REQUIRE(a.policies.size() == policies.size());
  for (std::size_t p = 0; p < policies.size(); ++p) {
    const PolicyMetrics& m = a.policies[p];
    CHECK(m.policy == policies[p]);
    CHECK(m.relative_slack == b.policies[p].relative_slack);
    CHECK(m.kg_co2 == b.policies[p].kg_co2);
    for (double v : {m.relative_slack, m.cpu_slack, m.memory_slack, m.throttled_fraction,
                     m.slo_violation_rate}) {
      CHECK(v >= 0.0);
      CHECK(v <= 1.0);
    }
    CHECK(m.kg_co2 > 0.0);
    CHECK(m.ooms_per_container_day >= 0.0);
    CHECK(std::isfinite(m.cost));
    CHECK(std::isfinite(m.regret));
  }
  // Fixed requests never change; the others do.
  CHECK(a.policies[0].adjustments_per_day == 0.0);
  CHECK(a.policies[5].policy == PolicyKind::kRl);
  CHECK(a.policies[5].adjustments_per_day > 0.0);
  CHECK(a.policies[4].policy == PolicyKind::kAutopilotMl);
  CHECK(std::isfinite(a.best_fixed_cost));

  const std::vector<std::string> unknown{"ES", "MARS"};
  CHECK(contains(error_of([&] { replay_seed(1, bundled_signals(), unknown, policies, cfg); }),
                 "MARS"));
  ReplayConfig late = cfg;
  late.first_start_unix_seconds = 1703980800;  // 2023-12-31: past the data
  CHECK(contains(error_of([&] { replay_seed(1, bundled_signals(), zones, policies, late); }),
                 "does not cover"));
  ReplayConfig bad = cfg;
  bad.warmup_days = 9;
  CHECK(contains(error_of([&] { bad.validate(); }), "warmup_days"));
  CHECK(parse_policy_kind("vpa-carbon") == PolicyKind::kVpaCarbon);
  CHECK(contains(error_of([] { parse_policy_kind("magic"); }), "magic"));
}

TEST_CASE("allocator: a multi-seed evaluation summarises and pairs by seed") {
  const std::vector<std::string> zones{"ES", "NO"};
  const std::vector<PolicyKind> policies{PolicyKind::kVpaCarbon, PolicyKind::kRl};
  const Evaluation ev =
      evaluate_allocators(bundled_signals(), zones, policies, 1, 3, small_config());
  REQUIRE(ev.seeds.size() == 3);
  REQUIRE(ev.summary.size() == 2);
  REQUIRE(ev.paired.size() == 1);
  double mean = 0.0;
  for (const SeedResult& s : ev.seeds) mean += s.policies[1].relative_slack;
  CHECK(ev.summary[1].relative_slack.mean == doctest::Approx(mean / 3.0));
  CHECK(ev.summary[1].relative_slack.low <= ev.summary[1].relative_slack.mean);
  CHECK(ev.paired[0].baseline == PolicyKind::kVpaCarbon);
  CHECK(ev.paired[0].bar_met <= ev.paired[0].slack_lower);
  const std::string table = format_evaluation_table(ev);
  CHECK(contains(table, "vpa-carbon"));
  CHECK(contains(table, "rl - vpa-carbon"));
  const auto j = nlohmann::json::parse(evaluation_to_json(ev));
  CHECK(j["seeds"].size() == 3);
  CHECK(j["summary"][1]["policy"] == "rl");
  const std::string csv = evaluation_to_csv(ev);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 3 * 2);
}

TEST_CASE("allocator: CarbonAwareResourceAllocator runs base -> carbon rule -> RL") {
  CarbonAwareResourceAllocator alloc;
  const std::int64_t t0 = 1672531200;
  for (int i = 0; i < 2 * 288; ++i)
    alloc.add_usage("prod", "web", "app", t0 + 300 * i, 0.5 + 0.3 * std::sin(i / 20.0), 1.0,
                    1 * kGiB);
  REQUIRE(alloc.recommender("prod", "web", "app") != nullptr);
  CHECK(alloc.recommender("prod", "web", "other") == nullptr);
  WorkloadProfile p;
  p.namespace_name = "prod";
  p.name = "web";
  p.container = "app";
  p.intensity_g_per_kwh = 450.0;
  p.unix_seconds = t0 + 2 * 86400;
  p.mean_cpu_cores = 0.5;
  p.peak_cpu_cores = 0.8;
  const ResourceAllocation r = alloc.calculate_optimal_allocation(p);
  CHECK(r.used_rl);
  CHECK(r.carbon.band == CarbonBand::kDirty);
  CHECK(r.requests.cpu_cores >= r.base.lower_bound.cpu_cores * (1 - 1e-9));
  CHECK(r.requests.cpu_cores <= r.base.upper_bound.cpu_cores * (1 + 1e-9));
  CHECK(r.requests.memory_bytes >= 1 * kGiB * 1.1 * (1 - 1e-9));  // the OOM floor
  const auto rewards = alloc.learn(r, AllocationOutcome{0.3, 0.2, 0.0, 0.0, 0.0});
  CHECK(std::isfinite(rewards[0]));
  CHECK(alloc.optimizer().decisions() == 1);

  // A recommendation from outside replaces the recommender's.
  WorkloadProfile ext = p;
  ext.external_recommendation = base_rec();
  ext.intensity_g_per_kwh = 200.0;
  const ResourceAllocation e = alloc.calculate_optimal_allocation(ext);
  CHECK(e.base.target == base_rec().target);

  // Without RL it is exactly the seed's rule.
  AllocatorConfig cfg;
  cfg.use_rl = false;
  CarbonAwareResourceAllocator plain(cfg);
  const ResourceAllocation q = plain.calculate_optimal_allocation(ext);
  CHECK_FALSE(q.used_rl);
  CHECK(q.requests == base_rec().target);  // neutral band

  // From signals: Spain at a given hour, the forecast over the next 3 h.
  const ResourceAllocation s =
      alloc.calculate_optimal_allocation(ext, bundled_signals(), "ES", SignalPolicy{});
  CHECK(s.carbon.band != CarbonBand::kUnknown);
  const ResourceAllocation m =
      alloc.calculate_optimal_allocation(ext, bundled_signals(), "MARS", SignalPolicy{});
  CHECK(m.carbon.band == CarbonBand::kUnknown);

  // The optimizer state survives a save/restore.
  const std::string saved = alloc.save_optimizer();
  alloc.restore_optimizer(saved, "rl.json");
  CHECK(alloc.save_optimizer() == saved);
  CHECK(contains(error_of([&] { alloc.add_usage("prod", "web", "app", t0, 1.0, 1.0, 1.0); }),
                 "prod/web/app"));
  WorkloadProfile nameless;
  CHECK(contains(error_of([&] { alloc.calculate_optimal_allocation(nameless); }), "name"));
}

TEST_CASE("allocator: a workload's own carbon budget replaces the allocator's thresholds") {
  AllocatorConfig cfg;
  cfg.use_rl = false;
  CarbonAwareResourceAllocator alloc(cfg);  // threshold 300, green 100
  WorkloadProfile p;
  p.name = "web";
  p.external_recommendation = base_rec();
  p.intensity_g_per_kwh = 200.0;  // neutral for the allocator's thresholds
  CHECK(alloc.calculate_optimal_allocation(p).carbon.band == CarbonBand::kNeutral);
  CarbonAdjustmentConfig strict;
  strict.threshold_g_per_kwh = 150.0;
  strict.green_threshold_g_per_kwh = 50.0;
  p.carbon_budget = strict;
  const ResourceAllocation r = alloc.calculate_optimal_allocation(p);
  CHECK(r.carbon.band == CarbonBand::kDirty);
  CHECK(r.carbon.cpu_scale == doctest::Approx(0.8));
  CarbonAdjustmentConfig bad = strict;
  bad.green_threshold_g_per_kwh = 400.0;  // above the threshold
  p.carbon_budget = bad;
  CHECK(contains(error_of([&] { alloc.calculate_optimal_allocation(p); }), "carbon_budget"));
}

TEST_CASE("allocator: carbonkube evaluate-allocator prints the table and JSON") {
  const std::string es = source_path("data/carbon/electricitymaps/ES_2023_hourly.csv");
  std::ostringstream out, err;
  const int rc = carbonkube::cli::run(
      {"evaluate-allocator", "--signals", es, "--seeds", "2", "--workloads", "3", "--days", "3",
       "--warmup-days", "1", "--policies", "vpa-carbon,rl", "--format", "json"},
      out, err);
  INFO(err.str());
  REQUIRE(rc == 0);
  const auto j = nlohmann::json::parse(out.str());
  CHECK(j["seeds"].size() == 2);
  CHECK(j["summary"][0]["policy"] == "vpa-carbon");
  std::ostringstream out2, err2;
  CHECK(carbonkube::cli::run({"evaluate-allocator", "--signals", es, "--seeds", "1", "--days", "3",
                              "--warmup-days", "1", "--workloads", "2"},
                             out2, err2) == 0);
  CHECK(contains(out2.str(), "autopilot-window"));
  CHECK(contains(out2.str(), "autopilot-ml"));
  std::ostringstream out3, err3;
  CHECK(carbonkube::cli::run({"evaluate-allocator", "--policies", "magic"}, out3, err3) == 2);
  CHECK(contains(err3.str(), "magic"));
  std::ostringstream out4, err4;
  CHECK(carbonkube::cli::run({"evaluate-allocator", "--seeds", "0"}, out4, err4) == 2);
}
