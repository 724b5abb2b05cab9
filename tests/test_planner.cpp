// The temporal planner: exact best start against a brute-force reference,
// interruptible slots, power profiles, forecast vs perfect knowledge on the
// bundled 2023 data, bad jobs, deferrable-pod annotations and the gate.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/signals.hpp"
#include "cli.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

constexpr std::int64_t kH = 3600;
constexpr std::int64_t kD = 86400;
constexpr std::int64_t k2023 = 1672531200;  // 2023-01-01T00:00:00Z
constexpr std::int64_t kMinute = 60;

// Reference: emissions of a run by summing minute by minute.
double minute_cost(const std::vector<double>& cells, std::int64_t start, std::int64_t s,
                   std::int64_t e, double kw) {
  double g = 0;
  for (std::int64_t t = s; t < e; t += kMinute)
    g += cells[static_cast<std::size_t>((t - start) / kH)] * kw / 60.0;
  return g;
}

HourlyGrid bundled_grid(const std::string& zone) {
  const std::string path = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/" +
                           zone + "_2023_hourly.csv";
  SignalLoad load = load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle);
  return resample(load.series.at(0));
}

}  // namespace

TEST_CASE("planner: the curve integrates exactly") {
  IntensityCurve c(1000, 100, {1, 2, 4});
  CHECK(c.end() == 1300);
  CHECK(c.integral(1000, 1300) == 700);
  CHECK(c.integral(1050, 1150) == 50 + 100);
  CHECK(c.integral(1250, 1300) == 200);
  CHECK(c.at(1299) == 4);
  CHECK_THROWS_AS(IntensityCurve(0, 100, {1, std::nan("")}), InvalidInput);
  CHECK_THROWS_AS(IntensityCurve(0, 100, {1, -2}), InvalidInput);
  CHECK_THROWS_AS(IntensityCurve(0, 0, {1}), InvalidInput);
  CHECK_THROWS_AS(IntensityCurve(0, 100, {}), InvalidInput);
}

TEST_CASE("planner: best start equals a minute-by-minute brute force (property)") {
  std::mt19937_64 rng(7);
  auto pick = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  Planner planner;
  Plan plan;
  for (int trial = 0; trial < 300; ++trial) {
    std::vector<double> cells(48);
    for (double& v : cells) v = static_cast<double>(pick(0, 20) * 25);  // ties happen
    const std::int64_t start = k2023;
    IntensityCurve curve(start, kH, cells);
    PlannedJob job;
    job.arrival = start + pick(0, 20 * 60) * kMinute;
    job.duration_seconds = pick(1, 10 * 60) * kMinute;
    job.deadline =
        std::min(curve.end(), job.arrival + job.duration_seconds + pick(0, 20 * 60) * kMinute);
    if (job.deadline - job.arrival < job.duration_seconds) continue;
    job.power_kw = 0.5;
    job.interruptible = trial % 2 == 1;
    planner.plan(curve, job, plan);
    CAPTURE(trial);
    double best = std::numeric_limits<double>::infinity();
    if (!job.interruptible) {
      for (std::int64_t s = job.arrival; s + job.duration_seconds <= job.deadline; s += kMinute)
        best = std::min(best, minute_cost(cells, start, s, s + job.duration_seconds, 0.5));
    } else {
      std::vector<double> minutes;
      for (std::int64_t t = job.arrival; t < job.deadline; t += kMinute)
        minutes.push_back(cells[static_cast<std::size_t>((t - start) / kH)] * 0.5 / 60.0);
      std::sort(minutes.begin(), minutes.end());
      best = 0;
      for (std::int64_t m = 0; m < job.duration_seconds / kMinute; ++m)
        best += minutes[static_cast<std::size_t>(m)];
    }
    CHECK(plan.expected_g == doctest::Approx(best).epsilon(1e-9));
    CHECK(plan.expected_g <= plan.immediate_g + 1e-9);
    CHECK(plan.immediate_g ==
          doctest::Approx(
              minute_cost(cells, start, job.arrival, job.arrival + job.duration_seconds, 0.5)));
    // The runs are inside the window, ordered, disjoint and sum to the duration.
    std::int64_t total = 0;
    for (std::size_t i = 0; i < plan.runs.size(); ++i) {
      CHECK(plan.runs[i].start >= job.arrival);
      CHECK(plan.runs[i].end <= job.deadline);
      CHECK(plan.runs[i].start < plan.runs[i].end);
      if (i > 0) CHECK(plan.runs[i - 1].end < plan.runs[i].start);
      total += plan.runs[i].end - plan.runs[i].start;
    }
    CHECK(total == job.duration_seconds);
    CHECK(plan.start == plan.runs.front().start);
    if (!job.interruptible) CHECK(plan.runs.size() == 1);
    CHECK(emissions_g(curve, job, plan.runs) == doctest::Approx(plan.expected_g));
  }
}

TEST_CASE("planner: ties go to the earliest start; no window runs now") {
  IntensityCurve flat(k2023, kH, std::vector<double>(24, 100.0));
  Planner planner;
  PlannedJob job{k2023 + 1800, 2 * kH, k2023 + 20 * kH, false, 1.0, {}};
  Plan p = planner.plan(flat, job);
  CHECK(p.start == job.arrival);
  CHECK(p.status == PlanStatus::kOk);
  CHECK(p.expected_g == doctest::Approx(200.0));
  job.deadline = job.arrival + job.duration_seconds;
  p = planner.plan(flat, job);
  CHECK(p.status == PlanStatus::kImmediate);
  CHECK(p.start == job.arrival);
  CHECK(p.saving_g() == 0);
}

TEST_CASE("planner: a worked example (docs/carbon-accounting.md)") {
  // 6 hours: 300, 250, 120, 80, 90, 400 g/kWh; a 2 h, 0.4 kW job arriving at
  // 00:00 with a 6 h deadline starts at 03:00 (80, 90): 68 g instead of 220.
  IntensityCurve c(k2023, kH, {300, 250, 120, 80, 90, 400});
  Planner planner;
  Plan p = planner.plan(c, PlannedJob{k2023, 2 * kH, k2023 + 6 * kH, false, 0.4, {}});
  CHECK(p.start == k2023 + 3 * kH);
  CHECK(p.expected_g == doctest::Approx(0.4 * (80 + 90)));
  CHECK(p.immediate_g == doctest::Approx(0.4 * (300 + 250)));
  // Interruptible: hours 03:00 and 04:00 too (adjacent: one run).
  p = planner.plan(c, PlannedJob{k2023, 2 * kH, k2023 + 6 * kH, true, 0.4, {}});
  REQUIRE(p.runs.size() == 1);
  CHECK(p.runs[0] == Run{k2023 + 3 * kH, k2023 + 5 * kH});
  // 3 hours interruptible: 02:00..05:00 contiguous (120, 80, 90).
  p = planner.plan(c, PlannedJob{k2023, 3 * kH, k2023 + 6 * kH, true, 0.4, {}});
  CHECK(p.runs.size() == 1);
  CHECK(p.expected_g == doctest::Approx(0.4 * 290));
  // Split runs: cells 100, 500, 100.
  IntensityCurve split(k2023, kH, {100, 500, 100});
  p = planner.plan(split, PlannedJob{k2023, 2 * kH, k2023 + 3 * kH, true, 1.0, {}});
  CHECK(p.runs.size() == 2);
  CHECK(p.expected_g == doctest::Approx(200));
  p = planner.plan(split, PlannedJob{k2023, 2 * kH, k2023 + 3 * kH, false, 1.0, {}});
  CHECK(p.expected_g == doctest::Approx(600));
}

TEST_CASE("planner: power profiles are exact against a brute force") {
  std::mt19937_64 rng(11);
  Planner planner;
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<double> cells(30);
    for (double& v : cells) v = std::uniform_real_distribution<double>(0, 500)(rng);
    IntensityCurve curve(k2023, kH, cells);
    std::vector<double> profile = {2.0, 0.5, 1.0};  // kW in run hours 0, 1, 2+
    PlannedJob job;
    job.arrival = k2023 + std::uniform_int_distribution<std::int64_t>(0, 300)(rng) * kMinute;
    job.duration_seconds = std::uniform_int_distribution<std::int64_t>(30, 300)(rng) * kMinute;
    job.deadline = job.arrival + job.duration_seconds + 8 * kH;
    job.power_profile_kw = profile;
    Plan p = planner.plan(curve, job);
    double best = std::numeric_limits<double>::infinity();
    for (std::int64_t s = job.arrival; s + job.duration_seconds <= job.deadline; s += kMinute) {
      double g = 0;
      for (std::int64_t t = s; t < s + job.duration_seconds; t += kMinute) {
        const auto phase = std::min<std::size_t>(static_cast<std::size_t>((t - s) / kH), 2);
        g += cells[static_cast<std::size_t>((t - k2023) / kH)] * profile[phase] / 60.0;
      }
      best = std::min(best, g);
    }
    CAPTURE(trial);
    CHECK(p.expected_g == doctest::Approx(best).epsilon(1e-9));
  }
}

TEST_CASE("planner: malformed jobs are refused with the field named") {
  IntensityCurve c(k2023, kH, std::vector<double>(24, 100.0));
  Planner planner;
  Plan p;
  CHECK_THROWS_WITH_AS(planner.plan(c, PlannedJob{k2023, 0, k2023 + kH, false, 1, {}}, p),
                       doctest::Contains("duration_seconds"), InvalidInput);
  CHECK_THROWS_WITH_AS(planner.plan(c, PlannedJob{k2023, 2 * kH, k2023 + kH, false, 1, {}}, p),
                       doctest::Contains("deadline"), InvalidInput);
  CHECK_THROWS_WITH_AS(
      planner.plan(c, PlannedJob{k2023, kH, k2023 + 2 * kH, false, std::nan(""), {}}, p),
      doctest::Contains("power_kw"), InvalidInput);
  CHECK_THROWS_WITH_AS(planner.plan(c, PlannedJob{k2023, kH, k2023 + 30 * kH, false, 1, {}}, p),
                       doctest::Contains("not inside"), InvalidInput);
  std::vector<double> prof = {1.0};
  CHECK_THROWS_AS(planner.plan(c, PlannedJob{k2023, kH, k2023 + 3 * kH, true, 1, prof}, p),
                  InvalidInput);
  std::vector<double> bad = {1.0, -1.0};
  CHECK_THROWS_AS(planner.plan(c, PlannedJob{k2023, kH, k2023 + 3 * kH, false, 1, bad}, p),
                  InvalidInput);
  Run outside{k2023 - kH, k2023};
  CHECK_THROWS_AS(emissions_g(c, PlannedJob{}, std::span<const Run>(&outside, 1)), InvalidInput);
}

TEST_CASE(
    "planner: on the bundled 2023 data, forecast plans save carbon and perfect knowledge bounds "
    "them") {
  for (const char* zone : {"US-CAL-CISO", "ES"}) {
    const std::string zone_name = zone;
    CAPTURE(zone_name);
    HourlyGrid g = bundled_grid(zone);
    IntensityCurve actual = IntensityCurve::from_grid(g);
    RidgeForecaster ridge;
    Planner planner;
    double immediate = 0, forecast_plan = 0, perfect = 0;
    std::vector<double> fc(24);
    for (int day = 70; day < 360; day += 3) {
      const std::int64_t issue = k2023 + day * kD;
      ridge.forecast(g, issue, fc);
      IntensityCurve known = IntensityCurve::with_forecast(g, issue, fc);
      // A 4 h, 1 kW batch job arriving at midnight with a 24 h deadline.
      PlannedJob job{issue, 4 * kH, issue + 24 * kH, false, 1.0, {}};
      Plan pf = planner.plan(known, job);
      Plan pp = planner.plan(actual, job);
      immediate += pp.immediate_g;
      perfect += pp.expected_g;
      forecast_plan += emissions_g(actual, job, pf.runs);
      CHECK(pp.expected_g <= emissions_g(actual, job, pf.runs) + 1e-6);
    }
    MESSAGE(std::string(zone) << ": immediate " << immediate << " g, forecast plan "
                              << forecast_plan << " g, perfect " << perfect << " g");
    CHECK(perfect < forecast_plan);
    CHECK(forecast_plan < 0.9 * immediate);
  }
}

TEST_CASE("planner: deferrable pod annotations") {
  Pod pod = ck_test::make_pod("batch", {{"cpu", "1"}});
  const std::int64_t now = k2023 + 10 * kH;
  CHECK_FALSE(deferral_spec(pod, now).has_value());
  pod.annotations = {{"carbon-kube.io/max-delay", "6h"}};
  CHECK_THROWS_WITH_AS(deferral_spec(pod, now), doctest::Contains("expected-duration"),
                       InvalidInput);
  pod.annotations = {{"carbon-kube.io/expected-duration", "2h"},
                     {"carbon-kube.io/max-delay", "6h"}};
  auto spec = deferral_spec(pod, now);
  REQUIRE(spec.has_value());
  CHECK(spec->duration_seconds == 2 * kH);
  CHECK(spec->deadline == now + 8 * kH);
  CHECK_FALSE(spec->interruptible);
  // Deadline and max-delay: the earlier wins.
  pod.annotations = {{"carbon-kube.io/deadline", "2023-01-01T15:00:00Z"},
                     {"carbon-kube.io/expected-duration", "90m"},
                     {"carbon-kube.io/interruptible", "true"},
                     {"carbon-kube.io/max-delay", "6h"}};
  spec = deferral_spec(pod, now);
  CHECK(spec->deadline == k2023 + 15 * kH);
  CHECK(spec->duration_seconds == 90 * 60);
  CHECK(spec->interruptible);
  // A deadline already missed: run now.
  pod.annotations = {{"carbon-kube.io/deadline", "2023-01-01T05:00:00Z"},
                     {"carbon-kube.io/expected-duration", "1h"}};
  CHECK(deferral_spec(pod, now)->deadline == now + kH);
  pod.annotations = {{"carbon-kube.io/deadline", "tomorrow"},
                     {"carbon-kube.io/expected-duration", "1h"}};
  CHECK_THROWS_WITH_AS(deferral_spec(pod, now), doctest::Contains("carbon-kube.io/deadline"),
                       InvalidInput);
  pod.annotations = {{"carbon-kube.io/expected-duration", "1h"}, {"carbon-kube.io/max-delay", "x"}};
  CHECK_THROWS_WITH_AS(deferral_spec(pod, now), doctest::Contains("carbon-kube.io/max-delay"),
                       InvalidInput);
  pod.annotations = {{"carbon-kube.io/expected-duration", "0s"},
                     {"carbon-kube.io/max-delay", "1h"}};
  CHECK_THROWS_AS(deferral_spec(pod, now), InvalidInput);
  pod.annotations = {{"carbon-kube.io/expected-duration", "1h"},
                     {"carbon-kube.io/interruptible", "yes"},
                     {"carbon-kube.io/max-delay", "1h"}};
  CHECK_THROWS_WITH_AS(deferral_spec(pod, now), doctest::Contains("interruptible"), InvalidInput);
}

TEST_CASE("planner: the scheduling gate lifts at the planned start") {
  Pod pod = ck_test::make_pod("batch", {{"cpu", "1"}});
  Plan plan;
  plan.start = k2023 + 5 * kH;
  GateDecision d = gate_decision(pod, plan, k2023 + 6 * kH);
  CHECK_FALSE(d.gated);
  CHECK_FALSE(d.lift);
  pod.scheduling_gates = {"other.io/gate", "carbon-kube.io/carbon-window"};
  d = gate_decision(pod, plan, k2023 + 4 * kH);
  CHECK(d.gated);
  CHECK_FALSE(d.lift);
  CHECK(d.lift_at == k2023 + 5 * kH);
  CHECK(gate_decision(pod, plan, k2023 + 5 * kH).lift);
}

TEST_CASE("planner: rolling forecasts replay what was known at each arrival") {
  HourlyGrid g = bundled_grid("US-CAL-CISO");
  const std::int64_t first = k2023 + 64 * kD;
  RollingForecast perfect(g, ForecastModel::kPerfect, first, kD, 48);
  RollingForecast ridge(g, ForecastModel::kRidge, first, kD, 48);
  RollingForecast naive(g, ForecastModel::kSeasonalNaive, first, kD, 48);
  CHECK(perfect.issues() == 365 - 64);
  CHECK(ridge.issues() == perfect.issues());
  // An arrival at 13:30 reads the forecast issued at midnight.
  const std::int64_t t = k2023 + 100 * kD + 13 * kH + 1800;
  const IntensityCurve& c = ridge.curve_at(t);
  CHECK(c.start() == k2023 + 100 * kD);
  CHECK(c.end() == c.start() + 48 * kH);
  CHECK(perfect.curve_at(t).values()[5] == g.g_per_kwh[100 * 24 + 5]);
  std::vector<double> direct(48);
  RidgeForecaster().forecast(g, k2023 + 100 * kD, direct);
  CHECK(std::equal(direct.begin(), direct.end(), c.values().begin()));
  // The last issue's horizon is cut at the grid's end.
  CHECK(perfect.curve_at(g.end() - 1).end() == g.end());
  CHECK_THROWS_AS(ridge.curve_at(first - 1), InvalidInput);
  CHECK_THROWS_AS(RollingForecast(g, ForecastModel::kRidge, k2023 + kD), InvalidInput);
  CHECK_THROWS_AS(RollingForecast(g, ForecastModel::kPerfect, first, 1800), InvalidInput);
  CHECK_THROWS_AS(RollingForecast(g, ForecastModel::kPerfect, first, kD, 0), InvalidInput);
  CHECK(parse_forecast_model("ridge") == ForecastModel::kRidge);
  CHECK_FALSE(parse_forecast_model("oracle").has_value());

  // Jobs on the three: perfect <= ridge-planned and naive-planned (scored on
  // the actual grid), all <= running at arrival in total.
  IntensityCurve actual = IntensityCurve::from_grid(g);
  Planner planner;
  double now_g = 0, perfect_g = 0, ridge_g = 0, naive_g = 0;
  for (int i = 0; i < 600; ++i) {
    PlannedJob job;
    job.arrival = first + i * 11 * kH + (i % 7) * 600;
    if (job.arrival + 30 * kH > g.end()) break;
    job.duration_seconds = (1 + i % 6) * kH;
    job.deadline = job.arrival + job.duration_seconds + 12 * kH;
    job.interruptible = i % 3 == 0;
    double job_g[3] = {0, 0, 0};
    const RollingForecast* fcs[] = {&perfect, &ridge, &naive};
    for (int k = 0; k < 3; ++k) {
      const IntensityCurve& curve = fcs[k]->curve_at(job.arrival);
      Plan p = planner.plan(curve, within_curve(curve, job));
      job_g[k] = emissions_g(actual, job, p.runs);
    }
    // The perfect forecast is the actual grid over the job's window.
    CHECK(job_g[0] == doctest::Approx(planner.plan(actual, job).expected_g));
    CHECK(job_g[0] <= job_g[1] + 1e-6);
    CHECK(job_g[0] <= job_g[2] + 1e-6);
    perfect_g += job_g[0];
    ridge_g += job_g[1];
    naive_g += job_g[2];
    const Run now_run{job.arrival, job.arrival + job.duration_seconds};
    now_g += emissions_g(actual, job, std::span<const Run>(&now_run, 1));
  }
  MESSAGE("CAISO: run now " << now_g << " g, seasonal-naive plans " << naive_g << " g, ridge plans "
                            << ridge_g << " g, perfect " << perfect_g << " g");
  CHECK(perfect_g <= ridge_g);
  CHECK(perfect_g <= naive_g);
  CHECK(ridge_g < now_g);
  CHECK(naive_g < now_g);
  // within_curve trims, and refuses a job the curve cannot hold.
  PlannedJob late{c.end() - kH, 2 * kH, c.end() + kH, false, 1.0, {}};
  CHECK_THROWS_AS(within_curve(c, late), InvalidInput);
  late.arrival = c.end() - 3 * kH;
  CHECK(within_curve(c, late).deadline == c.end());
}

TEST_CASE("planner: the carbonkube plan command, one job and a trace") {
  const std::string csv =
      std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/ES_2023_hourly.csv";
  std::ostringstream out, err;
  int rc = cli::run({"plan", "--signals", csv, "--arrival", "2023-06-01T06:00:00Z", "--duration",
                     "4h", "--max-delay", "24h", "--model", "perfect"},
                    out, err);
  REQUIRE_MESSAGE(rc == 0, err.str());
  auto j = nlohmann::json::parse(out.str());
  CHECK(j["zone"] == "ES");
  CHECK(j["gateLiftAt"] == j["start"]);
  // Perfect knowledge: the plan's expectation is what it actually emits.
  CHECK(j["expectedG"].get<double>() == doctest::Approx(j["actualG"].get<double>()));
  CHECK(j["actualG"].get<double>() <= j["actualImmediateG"].get<double>());
  // A small trace, written here in the Azure trace's format.
  const std::string trace = "/tmp/carbonkube_test_plan_trace.csv";
  {
    std::ofstream f(trace);
    f << "arrival_time,length,cpus\n";
    for (int i = 0; i < 200; ++i)
      f << 200 + i * 7.5 << "," << 1 + i % 5 << "," << 2 + i % 8 << "\n";
  }
  for (const char* model : {"ridge", "seasonal-naive"}) {
    std::ostringstream o, e;
    REQUIRE_MESSAGE(
        cli::run({"plan", "--signals", csv, "--trace", trace, "--model", model}, o, e) == 0,
        e.str());
    auto t = nlohmann::json::parse(o.str());
    CHECK(t["jobs"] == 200);
    CHECK(t["plannedKg"].get<double>() < t["runAtArrivalKg"].get<double>());
    CHECK(t["perfectKg"].get<double>() <= t["plannedKg"].get<double>());
  }
  {
    std::ostringstream o, e;
    REQUIRE(cli::run({"plan", "--signals", csv, "--trace", trace, "--model", "seasonal-naive",
                      "--issue-every", "1h", "--interruptible"},
                     o, e) == 0);
    auto t = nlohmann::json::parse(o.str());
    CHECK(t["issueEveryHours"] == 1.0);
    CHECK(t["interruptible"] == true);
    CHECK(t["perfectKg"].get<double>() <= t["plannedKg"].get<double>());
    CHECK(cli::run({"plan", "--signals", csv, "--trace", trace, "--issue-every", "30m"}, o, e) ==
          2);
  }
  {
    std::ofstream f(trace);
    f << "arrival_time,length,cpus\n300,abc,4\n";
  }
  std::ostringstream o, e;
  CHECK(cli::run({"plan", "--signals", csv, "--trace", trace}, o, e) == 2);
  CHECK(e.str().find("line 2: length") != std::string::npos);
  CHECK(cli::run({"plan", "--signals", csv, "--arrival", "2023-06-01T06:00:00Z"}, o, e) == 2);
  CHECK(cli::run({"plan", "--signals", csv, "--arrival", "2023-01-02T00:00:00Z", "--duration", "1h",
                  "--max-delay", "2h"},
                 o, e) == 2);  // before the first forecast
  CHECK(cli::run({"plan", "--signals", csv, "--model", "oracle"}, o, e) == 2);
  std::remove(trace.c_str());
}

TEST_CASE("planner: where and when across zones") {
  IntensityCurve a(k2023, kH, {300, 300, 300, 300, 300, 300});
  IntensityCurve b(k2023, kH, {400, 400, 50, 60, 400, 400});
  IntensityCurve shortc(k2023, kH, {10});  // one hour: never covers a 2 h job
  const IntensityCurve* curves[] = {&a, nullptr, &shortc, &b};
  Planner planner;
  Plan p;
  PlannedJob job{k2023, 2 * kH, k2023 + 6 * kH, false, 1.0, {}};
  CHECK(planner.plan_across(curves, job, p) == 3);
  CHECK(p.start == k2023 + 2 * kH);
  CHECK(p.expected_g == doctest::Approx(110));
  // With no slack, zone a wins (600 g against 800 g).
  job.deadline = job.arrival + job.duration_seconds;
  CHECK(planner.plan_across(curves, job, p) == 0);
  CHECK(p.expected_g == doctest::Approx(600));
  const IntensityCurve* none[] = {&shortc};
  job.deadline = k2023 + 6 * kH;
  CHECK(planner.plan_across(none, job, p) == -1);
}
