// The ledger: integration against intensity, UTC day and month boundaries,
// scopes, gaps, budgets crossing mid-interval, the budget hook and SCI.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/ledger.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

constexpr std::int64_t kH = 3600;
constexpr std::int64_t kD = 86400;
constexpr std::int64_t k2023 = 1672531200;  // 2023-01-01T00:00:00Z

UsageRecord usage(std::string pod, std::string ns, std::int64_t s, std::int64_t e, double watts,
                  double embodied = 0) {
  UsageRecord u;
  u.pod = ns + "/" + pod;
  u.namespace_name = ns;
  u.tenant = "team-a";
  u.zone = "ES";
  u.start = s;
  u.end = e;
  u.watts = watts;
  u.embodied_g_per_hour = embodied;
  return u;
}

}  // namespace

TEST_CASE("ledger: power × intensity, split at UTC midnight") {
  std::vector<double> cells(48, 200.0);
  cells[23] = 400;  // 2023-01-01 23:00
  cells[24] = 100;  // 2023-01-02 00:00
  IntensityCurve c(k2023, kH, cells);
  Ledger l;
  l.record(usage("p", "ns", k2023 + 23 * kH, k2023 + 25 * kH, 1000, 10), c);
  CarbonTotals d1 = l.day(LedgerScope::kPod, "ns/p", k2023 + 5 * kH);
  CarbonTotals d2 = l.day(LedgerScope::kPod, "ns/p", k2023 + 30 * kH);
  CHECK(d1.energy_kwh == doctest::Approx(1));
  CHECK(d1.operational_g == doctest::Approx(400));
  CHECK(d1.embodied_g == doctest::Approx(10));
  CHECK(d1.seconds == kH);
  CHECK(d2.operational_g == doctest::Approx(100));
  CHECK(l.day(LedgerScope::kNamespace, "ns", k2023).total_g() == doctest::Approx(410));
  CHECK(l.day(LedgerScope::kTenant, "team-a", k2023 + kD).total_g() == doctest::Approx(110));
  CHECK(l.day(LedgerScope::kZone, "ES", k2023).operational_g == doctest::Approx(400));
  CHECK(l.total(LedgerScope::kPod, "ns/p").total_g() == doctest::Approx(520));
  CHECK(l.total(LedgerScope::kPod, "other").total_g() == 0);
  CHECK(l.names(LedgerScope::kNamespace) == std::vector<std::string>{"ns"});
  // A second and a half-hour interval: exact integration inside a cell.
  l.record(usage("q", "ns", k2023 + 23 * kH + 1800, k2023 + 24 * kH, 2000), c);
  CHECK(l.day(LedgerScope::kPod, "ns/q", k2023).operational_g == doctest::Approx(400));
  // An empty interval records nothing.
  l.record(usage("r", "ns", k2023, k2023, 5), c);
  CHECK(l.names(LedgerScope::kPod).size() == 2);
}

TEST_CASE("ledger: a year on the bundled data sums by day and by month") {
  const std::string path =
      std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/ES_2023_hourly.csv";
  SignalLoad load = load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle);
  HourlyGrid g = resample(load.series.at(0));
  IntensityCurve c = IntensityCurve::from_grid(g);
  Ledger l;
  l.record(usage("web", "shop", c.start(), c.end(), 1000), c);  // 1 kW all year
  const double year_g = std::accumulate(g.g_per_kwh.begin(), g.g_per_kwh.end(), 0.0);
  CHECK(l.total(LedgerScope::kPod, "shop/web").operational_g == doctest::Approx(year_g));
  CHECK(l.total(LedgerScope::kPod, "shop/web").energy_kwh == doctest::Approx(8760));
  const double jan = std::accumulate(g.g_per_kwh.begin(), g.g_per_kwh.begin() + 744, 0.0);
  CHECK(l.month(LedgerScope::kNamespace, "shop", 2023, 1).operational_g == doctest::Approx(jan));
  const double feb =
      std::accumulate(g.g_per_kwh.begin() + 744, g.g_per_kwh.begin() + 744 + 672, 0.0);
  CHECK(l.month(LedgerScope::kNamespace, "shop", 2023, 2).operational_g == doctest::Approx(feb));
  CHECK(l.month(LedgerScope::kNamespace, "shop", 2024, 1).operational_g == 0);
  double months = 0;
  for (int m = 1; m <= 12; ++m)
    months += l.month(LedgerScope::kNamespace, "shop", 2023, m).total_g();
  CHECK(months == doctest::Approx(year_g));
  CHECK_THROWS_AS(l.month(LedgerScope::kNamespace, "shop", 2023, 13), InvalidInput);
  // One day: the 24 cells of 2023-07-15.
  const std::size_t d = 195 * 24;
  const double day_g =
      std::accumulate(g.g_per_kwh.begin() + static_cast<std::ptrdiff_t>(d),
                      g.g_per_kwh.begin() + static_cast<std::ptrdiff_t>(d + 24), 0.0);
  CHECK(l.day(LedgerScope::kPod, "shop/web", k2023 + 195 * kD + 7 * kH).operational_g ==
        doctest::Approx(day_g));
}

TEST_CASE("ledger: gaps in the data are filled, never NaN") {
  ZoneSeries s;
  s.zone = "X";
  s.source = "gappy";
  for (int h = 0; h < 48; ++h)
    if (h < 10 || h > 13) s.points.push_back({k2023 + h * kH, 100.0 + h, false});
  s.period_seconds = kH;
  IntensityCurve c = IntensityCurve::from_grid(resample(s));
  Ledger l;
  l.record(usage("p", "ns", k2023 + 9 * kH, k2023 + 15 * kH, 1000), c);
  const double g = l.total(LedgerScope::kPod, "ns/p").operational_g;
  CHECK(std::isfinite(g));
  // 109, then 110..113 interpolated between 109 and 114, then 114.
  CHECK(g == doctest::Approx(109 + 110 + 111 + 112 + 113 + 114));
}

TEST_CASE("ledger: a budget crossed in the middle of an interval") {
  // 250 g/kWh, then 500 from 12:00; 1 kW; limit 1 kg.
  std::vector<double> cells(48, 250.0);
  for (int h = 12; h < 24; ++h) cells[static_cast<std::size_t>(h)] = 500;
  IntensityCurve c(k2023, kH, cells);
  Ledger l;
  l.set_daily_limit("ns", 1.0);
  // 08:00..18:00: 4 h × 250 = 1000 g at 12:00 exactly, then 500 g/h.
  l.record(usage("p", "ns", k2023 + 8 * kH, k2023 + 18 * kH, 1000), c);
  BudgetStatus b = l.budget("ns", k2023 + 20 * kH);
  CHECK(b.exceeded);
  CHECK(b.used_kg == doctest::Approx(1.0 + 3.0));
  CHECK(b.fraction == doctest::Approx(4.0));
  REQUIRE(b.exceeded_at.has_value());
  CHECK(*b.exceeded_at == k2023 + 12 * kH);
  // The next UTC day starts fresh.
  BudgetStatus next = l.budget("ns", k2023 + kD + kH);
  CHECK_FALSE(next.exceeded);
  CHECK(next.used_kg == 0);
  CHECK_FALSE(next.exceeded_at.has_value());
  // Crossing inside a cell: limit 0.3 kg from 00:00 at 250 g/h: 1 h 12 min.
  Ledger l2;
  l2.set_daily_limit("ns", 0.3);
  l2.record(usage("p", "ns", k2023, k2023 + 2 * kH, 1000), c);
  CHECK(*l2.budget("ns", k2023).exceeded_at == k2023 + kH + 12 * 60);
  // Crossing in a later record of the same day, with embodied emissions.
  Ledger l3;
  l3.set_daily_limit("ns", 0.5);
  l3.record(usage("p", "ns", k2023, k2023 + kH, 1000, 50), c);  // 300 g
  CHECK_FALSE(l3.budget("ns", k2023).exceeded);
  l3.record(usage("q", "ns", k2023 + kH, k2023 + 3 * kH, 1000, 50), c);  // 300 g/h
  CHECK(*l3.budget("ns", k2023).exceeded_at == k2023 + kH + 40 * 60);
  // A namespace without a limit.
  BudgetStatus none = l3.budget("other", k2023);
  CHECK(std::isinf(none.limit_kg));
  CHECK(none.fraction == 0);
  CHECK(l3.budgets(k2023).size() == 1);
}

TEST_CASE("ledger: budgets from a CarbonProfile and the scheduling hook") {
  CarbonProfile p = parse_carbon_profile(R"(apiVersion: carbon.katalyst.io/v1alpha1
kind: CarbonProfile
metadata: {name: batch, namespace: ml}
spec:
  carbonBudget: {dailyLimit: 2.0, threshold: 300, greenThreshold: 80}
)",
                                         "cp.yaml");
  Ledger l;
  l.set_budget(p);
  CHECK(l.daily_limit("ml") == 2.0);
  IntensityCurve c(k2023, kH, std::vector<double>(24, 400.0));
  l.record(usage("train", "ml", k2023, k2023 + 4 * kH, 1000), c);  // 1.6 kg
  BudgetStatus b = l.budget("ml", k2023);
  BudgetAdvice a = budget_advice(b, p.budget, true);
  CHECK(a.action == BudgetAction::kPreferGreener);  // 80 % reached
  CHECK(a.max_intensity_g_per_kwh == 80);
  CHECK(a.reason.find("ml used 1.600 of 2.000 kg") != std::string::npos);
  l.record(usage("train", "ml", k2023 + 4 * kH, k2023 + 6 * kH, 1000), c);  // 2.4 kg
  b = l.budget("ml", k2023);
  CHECK(budget_advice(b, p.budget, true).action == BudgetAction::kDefer);
  CHECK(budget_advice(b, p.budget, false).action == BudgetAction::kPreferGreener);
  CHECK(budget_advice(l.budget("ml", k2023 + kD), p.budget, true).action == BudgetAction::kNone);
  CHECK(budget_advice(l.budget("free", k2023), p.budget, true).action == BudgetAction::kNone);
  CHECK_THROWS_AS(budget_advice(b, p.budget, true, std::nan("")), InvalidInput);
}

TEST_CASE("ledger: SCI per functional unit") {
  CarbonTotals t;
  t.operational_g = 900;
  t.embodied_g = 100;
  CHECK(sci(t, 10000) == doctest::Approx(0.1));
  CHECK_THROWS_AS(sci(t, 0), InvalidInput);
  CHECK_THROWS_AS(sci(t, std::nan("")), InvalidInput);
}

TEST_CASE("ledger: bad records are refused and record nothing") {
  IntensityCurve c(k2023, kH, std::vector<double>(24, 100.0));
  Ledger l;
  CHECK_THROWS_WITH_AS(l.record(usage("p", "ns", k2023, k2023 + kH, std::nan("")), c),
                       doctest::Contains("pod ns/p: watts"), InvalidInput);
  CHECK_THROWS_AS(l.record(usage("p", "ns", k2023, k2023 + kH, -1), c), InvalidInput);
  CHECK_THROWS_AS(l.record(usage("p", "ns", k2023, k2023 + kH, 1, INFINITY), c), InvalidInput);
  CHECK_THROWS_WITH_AS(l.record(usage("p", "ns", k2023 + kH, k2023, 1), c),
                       doctest::Contains("before start"), InvalidInput);
  CHECK_THROWS_WITH_AS(l.record(usage("p", "ns", k2023, k2023 + 30 * kH, 1), c),
                       doctest::Contains("outside"), InvalidInput);
  UsageRecord u = usage("p", "ns", k2023, k2023 + kH, 1);
  u.namespace_name.clear();
  CHECK_THROWS_AS(l.record(u, c), InvalidInput);
  CHECK(l.names(LedgerScope::kPod).empty());
  CHECK_THROWS_AS(l.set_daily_limit("ns", 0), InvalidInput);
  CHECK_THROWS_AS(l.set_daily_limit("ns", std::nan("")), InvalidInput);
  CHECK_THROWS_AS(l.set_daily_limit("", 1), InvalidInput);
}

TEST_CASE("ledger: never mixes intensity kinds") {
  HourlyGrid g;
  g.zone = "A";
  g.kind = IntensityKind::kAverageLifecycle;
  g.start = k2023;
  g.g_per_kwh.assign(24, 100.0);
  g.observed.assign(24, 1);
  IntensityCurve lifecycle = IntensityCurve::from_grid(g);
  g.kind = IntensityKind::kAverageDirect;
  IntensityCurve direct = IntensityCurve::from_grid(g);
  IntensityCurve unknown(k2023, kH, std::vector<double>(24, 100.0));
  Ledger l;
  CHECK_FALSE(l.kind().has_value());
  l.record(usage("p", "ns", k2023, k2023 + kH, 1000), unknown);
  l.record(usage("p", "ns", k2023 + kH, k2023 + 2 * kH, 1000), lifecycle);
  CHECK(l.kind() == IntensityKind::kAverageLifecycle);
  CHECK_THROWS_WITH_AS(l.record(usage("p", "ns", k2023 + 2 * kH, k2023 + 3 * kH, 1000), direct),
                       doctest::Contains("never mixes"), InvalidInput);
  CHECK(l.total(LedgerScope::kPod, "ns/p").seconds == 2 * kH);
}

TEST_CASE("ledger: a deferrable job over budget waits for the next UTC day") {
  BudgetAdvice defer;
  defer.action = BudgetAction::kDefer;
  PlannedJob job{k2023 + 15 * kH, 2 * kH, k2023 + 40 * kH, false, 1.0, {}};
  CHECK(defer_for_budget(job, defer).arrival == k2023 + kD);
  job.deadline = k2023 + kD + kH;  // the next day is too late for a 2 h run
  CHECK(defer_for_budget(job, defer).arrival == job.arrival);
  BudgetAdvice greener;
  greener.action = BudgetAction::kPreferGreener;
  job.deadline = k2023 + 40 * kH;
  CHECK(defer_for_budget(job, greener).arrival == job.arrival);
}

TEST_CASE("ledger: splitting a record anywhere changes nothing (property)") {
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<std::int64_t> when(0, 3 * kD);
  std::vector<double> cells(4 * 24 * 12);  // 4 days of 5-minute data
  for (double& v : cells) v = std::uniform_real_distribution<double>(0, 600)(rng);
  IntensityCurve c(k2023, 300, cells);
  for (int trial = 0; trial < 200; ++trial) {
    std::int64_t a = k2023 + when(rng), b = k2023 + when(rng);
    if (a > b) std::swap(a, b);
    const std::int64_t mid = a + (b - a) / 3;
    Ledger whole, parts;
    whole.record(usage("p", "ns", a, b, 750, 3), c);
    parts.record(usage("p", "ns", a, mid, 750, 3), c);
    parts.record(usage("p", "ns", mid, b, 750, 3), c);
    CAPTURE(trial);
    for (std::int64_t d = 0; d < 4; ++d) {
      const CarbonTotals x = whole.day(LedgerScope::kPod, "ns/p", k2023 + d * kD);
      const CarbonTotals y = parts.day(LedgerScope::kPod, "ns/p", k2023 + d * kD);
      CHECK(x.operational_g == doctest::Approx(y.operational_g));
      CHECK(x.embodied_g == doctest::Approx(y.embodied_g));
      CHECK(x.seconds == y.seconds);
    }
    // Reference: second-free sum over the 5-minute cells.
    double ref = 0;
    for (std::int64_t t = a; t < b;) {
      const std::int64_t cell_end = std::min(b, k2023 + ((t - k2023) / 300 + 1) * 300);
      ref += cells[static_cast<std::size_t>((t - k2023) / 300)] * 0.75 *
             static_cast<double>(cell_end - t) / 3600.0;
      t = cell_end;
    }
    CHECK(whole.total(LedgerScope::kPod, "ns/p").operational_g == doctest::Approx(ref));
  }
}

TEST_CASE("ledger: days before 1970 are still UTC days") {
  const std::int64_t t = -kD - 1800;  // 1969-12-30T23:30:00Z
  CHECK(utc_day_start(t) == -2 * kD);
  IntensityCurve c(-3 * kD, kH, std::vector<double>(72, 100.0));
  Ledger l;
  l.record(usage("p", "ns", t, t + kH, 1000), c);
  CHECK(l.day(LedgerScope::kPod, "ns/p", -2 * kD).operational_g == doctest::Approx(50));
  CHECK(l.day(LedgerScope::kPod, "ns/p", -kD).operational_g == doctest::Approx(50));
  CHECK(l.month(LedgerScope::kPod, "ns/p", 1969, 12).operational_g == doctest::Approx(100));
}

TEST_CASE("ledger: booking a cluster interval from nodes, pods and zones") {
  auto grid = [](const std::string& zone) {
    const std::string path = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/" +
                             zone + "_2023_hourly.csv";
    return resample(
        load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle).series.at(0));
  };
  IntensityCurve es = IntensityCurve::from_grid(grid("ES"));
  IntensityCurve no = IntensityCurve::from_grid(grid("NO"));
  std::vector<Node> nodes = {ck_test::make_node("es-1", 16000, 64'000'000'000),
                             ck_test::make_node("no-1", 8000, 32'000'000'000),
                             ck_test::make_node("xx-1", 8000, 32'000'000'000)};
  nodes[0].labels = {{"topology.kubernetes.io/zone", "es-a"}};
  nodes[1].labels = {{"topology.kubernetes.io/zone", "no-a"}};
  nodes[1].annotations = {{"carbon-kube.io/pue", "1.05"}};
  ZoneMap map;
  map.add_zone_label("es-a", "ES");
  map.add_zone_label("no-a", "NO");
  std::vector<Pod> pods = {
      ck_test::make_pod("web", {{"cpu", "4"}, {"memory", "8G"}}, "es-1"),
      ck_test::make_pod("batch", {{"cpu", "2"}, {"memory", "16G"}}, "es-1"),
      ck_test::make_pod("etl", {{"cpu", "4"}, {"memory", "4G"}}, "no-1"),
      ck_test::make_pod("lost", {{"cpu", "1"}}, "xx-1"),     // node without a zone
      ck_test::make_pod("ghost", {{"cpu", "1"}}, "gone-1"),  // unknown node
      ck_test::make_pod("pending", {{"cpu", "1"}})};         // not bound: not booked
  pods[0].namespace_name = "shop";
  pods[0].labels = {{"carbon-kube.io/tenant", "retail"}};
  pods[1].namespace_name = "ml";
  pods[2].namespace_name = "ml";
  std::vector<ZoneCurve> curves = {{"ES", &es}, {"NO", &no}};
  const std::int64_t t0 = k2023 + 151 * kD + 10 * kH + 1800;  // 2023-06-01 10:30
  Ledger l;
  AccountingResult r = account_interval(l, nodes, pods, map, curves, t0, t0 + 3 * kH);
  CHECK(r.pods_booked == 3);
  CHECK(r.pods_skipped == 2);
  REQUIRE(r.skipped.size() == 2);
  CHECK(r.skipped[0] == "default/lost: node xx-1 has no grid zone");
  CHECK(r.skipped[1] == "default/ghost: node gone-1 is unknown");
  // The worked example of docs/carbon-accounting.md: web on es-1.
  const CarbonTotals web = l.total(LedgerScope::kPod, "shop/web");
  CHECK(web.energy_kwh == doctest::Approx(0.0583482).epsilon(1e-5));
  CHECK(web.operational_g == doctest::Approx(9.7559).epsilon(1e-4));
  CHECK(l.total(LedgerScope::kTenant, "retail").total_g() == doctest::Approx(web.total_g()));
  // Conservation: pods + idle = the nodes' facility power over 3 h.
  double kwh = 0;
  for (const char* ns : {"shop", "ml", "_idle"})
    kwh += l.total(LedgerScope::kNamespace, ns).energy_kwh;
  CHECK(kwh == doctest::Approx(r.node_watts * 3 / 1000));
  CHECK(l.total(LedgerScope::kPod, "_idle/no-1").energy_kwh > 0);
  // Measured usage instead of requests for web.
  std::map<std::string, PodUsage, std::less<>> measured = {{"shop/web", {1.0, 2.0, 0, 0}}};
  Ledger m;
  account_interval(m, nodes, pods, map, curves, t0, t0 + 3 * kH, {}, &measured);
  CHECK(m.total(LedgerScope::kPod, "shop/web").energy_kwh < web.energy_kwh);
  CHECK(m.total(LedgerScope::kPod, "ml/batch").energy_kwh ==
        doctest::Approx(l.total(LedgerScope::kPod, "ml/batch").energy_kwh));
  // Bad input.
  CHECK_THROWS_AS(account_interval(l, nodes, pods, map, curves, t0, t0 - 1), InvalidInput);
  std::vector<ZoneCurve> dup = {{"ES", &es}, {"ES", &es}};
  CHECK_THROWS_AS(account_interval(l, nodes, pods, map, dup, t0, t0 + kH), InvalidInput);
  std::vector<Node> twice = {nodes[0], nodes[0]};
  CHECK_THROWS_AS(account_interval(l, twice, pods, map, curves, t0, t0 + kH), InvalidInput);
}
