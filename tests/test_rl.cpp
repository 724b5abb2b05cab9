// The RL optimizer: feature sanitising, the safety shield against a plain
// reference, decisions always inside the safe range, propensities, seeded
// determinism, save/restore continuing bit-identically, LinUCB learning a
// context-dependent best arm, the decision log and an IPS estimate.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <bit>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/rl.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

using ck_test::contains;

using ck_test::error_of;

AllocationContext random_context(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  AllocationContext c;
  const double cpu = 0.1 + 4.0 * u(rng);
  const double mem = (0.2 + 4.0 * u(rng)) * kGiB;
  c.base.target = {cpu, mem};
  c.base.lower_bound = {cpu * (0.4 + 0.6 * u(rng)), mem * (0.4 + 0.6 * u(rng))};
  c.base.upper_bound = {cpu * (1.0 + u(rng)), mem * (1.0 + u(rng))};
  c.base.has_data = true;
  c.adjusted = {cpu * (0.8 + 0.4 * u(rng)), mem * (0.9 + 0.2 * u(rng))};
  c.sla_floor = {cpu * 0.5 * u(rng), mem * 0.5 * u(rng)};
  c.tier = static_cast<SlaTier>(rng() % 3);
  c.memory_peak_bytes = mem * 1.2 * u(rng);
  c.previous_cpu_multiplier = 0.6 + 0.9 * u(rng);
  c.previous_memory_multiplier = 0.7 + 0.55 * u(rng);
  c.observation.cpu_usage_ratio = 1.5 * u(rng);
  c.observation.cpu_tail_ratio = 2.0 * u(rng);
  c.observation.memory_usage_ratio = u(rng);
  c.observation.memory_tail_ratio = 1.2 * u(rng);
  c.observation.throttled_fraction = 0.1 * u(rng);
  c.observation.intensity_g_per_kwh = 600 * u(rng);
  c.observation.forecast_g_per_kwh = 600 * u(rng);
  c.observation.unix_seconds = 1672531200 + static_cast<std::int64_t>(rng() % 8640000);
  return c;
}

AllocationOutcome outcome_for(const AllocationDecision& d, const AllocationContext& c) {
  // Usage at the observed ratio of the adjusted target: throttled when above.
  const double use = c.observation.cpu_usage_ratio * c.adjusted.cpu_cores;
  AllocationOutcome o;
  o.cpu_slack_fraction = std::max(0.0, d.resources.cpu_cores - use) / d.resources.cpu_cores;
  o.throttled_fraction = use > d.resources.cpu_cores ? 1.0 - d.resources.cpu_cores / use : 0.0;
  o.slo_violation_fraction = use > 0.9 * d.resources.cpu_cores ? 1.0 : 0.0;
  o.memory_slack_fraction = 0.2;
  return o;
}

}  // namespace

TEST_CASE("rl: features are clipped and unknown values are neutral") {
  RlObservation o;
  o.cpu_usage_ratio = std::nan("");
  o.cpu_tail_ratio = 99.0;
  o.throttled_fraction = -1.0;
  o.oom_kills = 7.0;
  o.slo_latency_ratio = INFINITY;
  o.intensity_g_per_kwh = std::nan("");
  o.forecast_g_per_kwh = 150.0;
  o.threshold_g_per_kwh = 300.0;
  o.unix_seconds = 1672531200 + 6 * 3600;  // 06:00 UTC
  const RlFeatures x = rl_features(o);
  CHECK(x[0] == 1.0);
  CHECK(x[1] == 1.0);  // NaN -> 1
  CHECK(x[2] == 3.0);  // clipped
  CHECK(x[5] == 0.0);
  CHECK(x[6] == 1.0);
  CHECK(x[7] == 0.0);  // inf -> neutral 0
  CHECK(x[8] == 1.0);  // unknown intensity: at the threshold
  CHECK(x[9] == doctest::Approx(0.5));
  CHECK(x[10] == doctest::Approx(1.0));  // sin(pi/2)
  CHECK(x[11] == doctest::Approx(0.0).epsilon(1e-12));
  CHECK(x[12] == 3.0);  // no seasonal forecast: the (clipped) tail ratio
  o.cpu_forecast_ratio = 0.7;
  CHECK(rl_features(o)[12] == doctest::Approx(0.7));
  for (double v : x) CHECK(std::isfinite(v));
  CHECK(rl_feature_names().size() == x.size());
}

TEST_CASE("rl: the shield matches a plain reference on random inputs") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const std::vector<double> m{0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5};
  const double* md = m.data();
  ShieldConfig sh;
  for (int i = 0; i < 5000; ++i) {
    const double base = 0.1 + 3 * u(rng);
    const double floor = base * 1.2 * u(rng);
    const double upper = floor + base * u(rng);
    const double prev = 0.5 + 1.1 * u(rng);
    const bool critical = rng() % 2;
    const std::uint32_t mask = RlOptimizer::shield_mask(m, base, floor, upper, prev, critical, sh);
    // Reference: value in range, tier minimum, step bound unless the nearest
    // neighbour of prev on that side.
    int below = -1, above = -1;
    for (int a = 0; a < 8; ++a) {
      if (md[a] < prev - 1e-9) below = a;
      if (md[a] > prev + 1e-9 && above < 0) above = a;
    }
    for (int a = 0; a < 8; ++a) {
      const double v = md[a] * base;
      bool ok = v >= floor * (1 - 1e-9) && v <= upper * (1 + 1e-9);
      if (critical && md[a] < 1.0 - 1e-9) ok = false;
      if (a != above && md[a] - prev > sh.max_step_up + 1e-9) ok = false;
      if (a != below && prev - md[a] > sh.max_step_down + 1e-9) ok = false;
      CHECK(((mask >> a) & 1u) == (ok ? 1u : 0u));
    }
  }
  CHECK(RlOptimizer::shield_mask(m, 0.0, 0.0, 1.0, 1.0, false, sh) == 0u);
  CHECK(RlOptimizer::shield_mask(m, std::nan(""), 0.0, 1.0, 1.0, false, sh) == 0u);
}

TEST_CASE("rl: every decision stays inside the safe range") {
  std::mt19937_64 rng(11);
  RlConfig cfg;
  cfg.epsilon = 0.2;
  RlOptimizer opt(cfg);
  for (int i = 0; i < 3000; ++i) {
    const AllocationContext c = random_context(rng);
    const AllocationDecision d = opt.decide(c);
    const double cpu_floor = std::max(c.base.lower_bound.cpu_cores, c.sla_floor.cpu_cores);
    const double mem_floor = std::max({c.base.lower_bound.memory_bytes, c.sla_floor.memory_bytes,
                                       c.memory_peak_bytes * cfg.shield.memory_oom_headroom});
    CHECK(d.resources.cpu_cores >= cpu_floor * (1 - 1e-9));
    CHECK(d.resources.cpu_cores <= std::max(c.base.upper_bound.cpu_cores, cpu_floor) * (1 + 1e-9));
    CHECK(d.resources.memory_bytes >= mem_floor * (1 - 1e-9));
    CHECK(d.resources.memory_bytes <=
          std::max(c.base.upper_bound.memory_bytes, mem_floor) * (1 + 1e-9));
    if (c.tier == SlaTier::kCritical && d.cpu_action >= 0) CHECK(d.cpu_multiplier >= 1.0);
    if (d.cpu_action >= 0) {
      CHECK(((d.cpu_safe_mask >> d.cpu_action) & 1u) == 1u);
      const int safe = std::popcount(d.cpu_safe_mask);
      CHECK(d.cpu_propensity >= cfg.epsilon / safe - 1e-12);
      CHECK(d.cpu_propensity <= 1.0);
    } else {
      CHECK(d.cpu_clamped);
      CHECK(d.cpu_safe_mask == 0u);
    }
    opt.update(d, outcome_for(d, c));
  }
}

TEST_CASE("rl: propensities for epsilon 0 and 1") {
  std::mt19937_64 rng(5);
  RlConfig greedy;
  greedy.epsilon = 0.0;
  RlOptimizer g(greedy);
  RlConfig uniform;
  uniform.epsilon = 1.0;
  RlOptimizer u(uniform);
  for (int i = 0; i < 200; ++i) {
    const AllocationContext c = random_context(rng);
    const AllocationDecision a = g.decide(c);
    if (a.cpu_action >= 0) CHECK(a.cpu_propensity == 1.0);
    const AllocationDecision b = u.decide(c);
    if (b.cpu_action >= 0)
      CHECK(b.cpu_propensity == doctest::Approx(1.0 / std::popcount(b.cpu_safe_mask)));
  }
}

TEST_CASE("rl: deterministic under a seed; save and restore continue identically") {
  std::mt19937_64 rng(21);
  std::vector<AllocationContext> ctx;
  for (int i = 0; i < 400; ++i) ctx.push_back(random_context(rng));
  RlConfig cfg;
  cfg.epsilon = 0.1;
  cfg.seed = 42;
  RlOptimizer a(cfg), b(cfg);
  std::string saved;
  RlOptimizer* restored = nullptr;
  std::optional<RlOptimizer> holder;
  for (std::size_t i = 0; i < ctx.size(); ++i) {
    if (i == 200) {
      saved = a.save();
      holder = RlOptimizer::restore(saved, "state.json");
      restored = &*holder;
    }
    const AllocationDecision da = a.decide(ctx[i]);
    const AllocationDecision db = b.decide(ctx[i]);
    CHECK(da.cpu_action == db.cpu_action);
    CHECK(da.memory_action == db.memory_action);
    CHECK(da.resources == db.resources);
    a.update(da, outcome_for(da, ctx[i]));
    b.update(db, outcome_for(db, ctx[i]));
    if (restored) {
      const AllocationDecision dr = restored->decide(ctx[i]);
      CHECK(dr.cpu_action == da.cpu_action);
      CHECK(dr.memory_action == da.memory_action);
      CHECK(dr.resources == da.resources);
      CHECK(dr.cpu_propensity == da.cpu_propensity);
      restored->update(dr, outcome_for(dr, ctx[i]));
    }
  }
  CHECK(a.save() == restored->save());
  // Another seed explores differently.
  cfg.seed = 43;
  RlOptimizer c(cfg);
  cfg.seed = 42;
  RlOptimizer d(cfg);
  int differ = 0;
  for (std::size_t i = 0; i < ctx.size(); ++i) {
    const AllocationDecision dc = c.decide(ctx[i]);
    const AllocationDecision dd = d.decide(ctx[i]);
    differ += dc.cpu_action != dd.cpu_action;
    c.update(dc, outcome_for(dc, ctx[i]));
    d.update(dd, outcome_for(dd, ctx[i]));
  }
  CHECK(differ > 0);
}

TEST_CASE("rl: restore rejects other formats, versions and corrupt state") {
  RlOptimizer opt;
  const std::string good = opt.save();
  auto with = [&](const std::string& key, nlohmann::json v) {
    auto j = nlohmann::json::parse(good);
    j[key] = v;
    return j.dump();
  };
  CHECK(contains(error_of([&] { RlOptimizer::restore(with("format", "x"), "s.json"); }),
                 "s.json: format"));
  CHECK(contains(error_of([&] { RlOptimizer::restore(with("version", 2), "s.json"); }),
                 "unsupported version 2"));
  CHECK(contains(error_of([&] { RlOptimizer::restore(with("feature_count", 3), "s.json"); }),
                 "feature_count"));
  auto j = nlohmann::json::parse(good);
  j["bandits"]["cpu"]["A"][0] = -1.0;
  CHECK(contains(error_of([&] { RlOptimizer::restore(j.dump(), "s.json"); }), "positive definite"));
  j = nlohmann::json::parse(good);
  j["bandits"]["memory"]["b"].erase(0);
  CHECK(contains(error_of([&] { RlOptimizer::restore(j.dump(), "s.json"); }), "bandits.memory"));
  j = nlohmann::json::parse(good);
  j["config"]["discount"] = 0.0;
  CHECK(contains(error_of([&] { RlOptimizer::restore(j.dump(), "s.json"); }), "discount"));
  CHECK(!error_of([&] { RlOptimizer::restore("{", "s.json"); }).empty());
}

TEST_CASE("rl: config validation names the field") {
  RlConfig c;
  c.cpu_multipliers = {1.0, 0.9};
  CHECK(contains(error_of([&] { RlOptimizer o(c); }), "strictly increasing"));
  c = {};
  c.memory_multipliers = {};
  CHECK(contains(error_of([&] { RlOptimizer o(c); }), "memory_multipliers"));
  c = {};
  c.epsilon = 2.0;
  CHECK(contains(error_of([&] { RlOptimizer o(c); }), "epsilon"));
  c = {};
  c.weights[1].slo = -1.0;
  CHECK(contains(error_of([&] { RlOptimizer o(c); }), "weights[standard].slo"));
  c = {};
  c.shield.memory_oom_headroom = 0.5;
  CHECK(contains(error_of([&] { RlOptimizer o(c); }), "memory_oom_headroom"));
}

TEST_CASE("rl: LinUCB learns a context-dependent best arm") {
  // Arm 0 pays x1, arm 1 pays 1 - x1, arm 2 pays 0.4: the best arm flips
  // with x1. After training, the greedy choice is right almost always.
  LinUcbBandit bandit(3, 1.0, 1.0);
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> noise(0.0, 0.05);
  auto pay = [](int a, double x1) { return a == 0 ? x1 : a == 1 ? 1.0 - x1 : 0.4; };
  for (int i = 0; i < 3000; ++i) {
    RlFeatures x{};
    x[0] = 1.0;
    x[1] = u(rng);
    const int a = bandit.best(x, 0.5, 0b111u);
    bandit.update(a, x, pay(a, x[1]) + noise(rng));
  }
  int right = 0;
  const int trials = 1000;
  for (int i = 0; i < trials; ++i) {
    RlFeatures x{};
    x[0] = 1.0;
    x[1] = u(rng);
    const int a = bandit.best(x, 0.0, 0b111u);
    int best = 0;
    for (int k = 1; k < 3; ++k)
      if (pay(k, x[1]) > pay(best, x[1])) best = k;
    right += pay(a, x[1]) >= pay(best, x[1]) - 0.05;
  }
  CHECK(right > 950);
  CHECK(bandit.best(RlFeatures{}, 0.5, 0u) == -1);
}

TEST_CASE("rl: the decision log holds propensities and rewards; IPS recovers a policy's value") {
  RlConfig cfg;
  cfg.epsilon = 1.0;  // uniform logging policy
  cfg.log_capacity = 100000;
  RlOptimizer opt(cfg);
  std::mt19937_64 rng(13);
  double direct_sum = 0.0;
  int direct_n = 0;
  for (int i = 0; i < 20000; ++i) {
    AllocationContext c = random_context(rng);
    c.tier = SlaTier::kStandard;
    c.previous_cpu_multiplier = 1.0;  // shield mask the same every time
    c.base.lower_bound.cpu_cores = 0.0;
    c.sla_floor.cpu_cores = 0.0;
    c.base.upper_bound.cpu_cores = 1e9;
    const AllocationDecision d = opt.decide(c);
    const auto r = opt.update(d, outcome_for(d, c));
    // The value of "always multiplier 1.0" (action 4), computed directly.
    AllocationDecision alt = d;
    alt.cpu_multiplier = 1.0;
    alt.resources.cpu_cores = c.adjusted.cpu_cores;
    alt.cpu_change = 0.0;
    alt.cpu_target_ratio = c.adjusted.cpu_cores / c.base.target.cpu_cores;
    direct_sum += opt.rewards(alt, outcome_for(alt, c))[0];
    ++direct_n;
    (void)r;
  }
  const std::vector<DecisionLogEntry> log = opt.decision_log();
  CHECK(log.size() == 40000);
  CHECK(log.front().id == 0);
  CHECK(log.back().head == 1);
  for (const DecisionLogEntry& e : log) {
    CHECK(std::isfinite(e.reward));
    CHECK(e.propensity > 0.0);
  }
  const double ips = ips_estimate(log, 0, [](const RlFeatures&, std::uint32_t) { return 4; });
  const double direct = direct_sum / direct_n;
  CHECK(ips == doctest::Approx(direct).epsilon(0.1));
}
