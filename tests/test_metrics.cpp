// Prometheus text exposition: the writer's escaping and checks, and the
// engine's families from real objects (zone intensities on the bundled data,
// a ledger with a budget, an advisor round).
#include <doctest/doctest.h>

#include <cmath>
// GCC 12 warns falsely inside libstdc++'s <regex> (-Wmaybe-uninitialized,
// GCC bug 105562) in the sanitizer builds' optimised code; nothing of ours.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/ledger.hpp"
#include "carbonkube/metrics.hpp"
#include "carbonkube/migration.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"

using namespace carbonkube;

namespace {
constexpr std::int64_t kH = 3600;
constexpr std::int64_t k2023 = 1672531200;
}  // namespace

TEST_CASE("metrics: the writer escapes, checks names and skips non-finite values") {
  PrometheusText p;
  CHECK_THROWS_AS(p.sample({}, 1), InvalidInput);  // no family yet
  p.family("x_total", "Help with a \\ backslash\nand a newline.", MetricType::kCounter);
  p.sample({{"a", "q\"uote\\back\nline"}}, 2);
  p.sample({}, 0.25);
  p.sample({{"a", "nan"}}, std::nan(""));
  p.sample({{"a", "inf"}}, INFINITY);
  CHECK(p.skipped() == 2);
  CHECK(p.text() ==
        "# HELP x_total Help with a \\\\ backslash\\nand a newline.\n"
        "# TYPE x_total counter\n"
        "x_total{a=\"q\\\"uote\\\\back\\nline\"} 2\n"
        "x_total 0.25\n");
  CHECK_THROWS_AS(p.family("x_total", "again", MetricType::kCounter), InvalidInput);
  CHECK_THROWS_AS(p.family("1bad", "", MetricType::kGauge), InvalidInput);
  CHECK_THROWS_AS(p.family("bad-name", "", MetricType::kGauge), InvalidInput);
  p.family("ok:recorded", "colons are allowed in metric names", MetricType::kGauge);
  CHECK_THROWS_AS(p.sample({{"bad:label", "v"}}, 1), InvalidInput);
  CHECK_THROWS_AS(p.sample({{"__reserved", "v"}}, 1), InvalidInput);
}

TEST_CASE("metrics: the engine's families from real objects") {
  // Zone intensities at 2023-03-01 12:00 UTC from the bundled data; a zone
  // without data is carbon-neutral (usable 0, no intensity sample).
  CarbonSignals signals;
  for (const char* zone : {"ES", "NO"}) {
    const std::string path = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/" +
                             zone + "_2023_hourly.csv";
    signals.add(load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle).series);
  }
  ZoneMap map;
  map.add_zone_label("es-1", "ES");
  map.add_zone_label("no-1", "NO");
  map.add_zone_label("xx-1", "XX");
  const std::int64_t t = k2023 + 59 * 86400 + 12 * kH;
  ZoneIntensities zi = ZoneIntensities::compute(map, signals, t);
  EngineMetrics m;
  m.zones = zone_intensity_metrics(map, zi);
  REQUIRE(m.zones.size() == 3);
  CHECK(m.zones[0].usable);
  CHECK_FALSE(m.zones[2].usable);
  m.qos = {{"shop", "web-1", "green-guaranteed", true}, {"ml", "train", "dirty-besteffort", false}};
  Ledger ledger;
  ledger.set_daily_limit("ml", 2.0);
  IntensityCurve c(k2023, kH, std::vector<double>(24, 400.0));
  UsageRecord u{"ml/train", "ml", "research", "ES", k2023, k2023 + 3 * kH, 1000, 20};
  ledger.record(u, c);
  m.budgets = ledger.budgets(k2023);
  m.ledger = &ledger;
  std::vector<MigrationRecommendation> round(3);
  for (auto& r : round) {
    r.from_zone.assign("ES");
    r.to_zone.assign("NO");
    r.recommended = true;
  }
  round[2].recommended = false;  // not counted
  m.count_migrations(round);
  PodCarbonQos green;
  green.profile_index = default_qos_profiles().find("green-guaranteed");
  for (int i = 0; i < 7; ++i) m.count_decision(green, default_qos_profiles(), true);
  m.count_decision(PodCarbonQos{}, default_qos_profiles(), false);
  CHECK(m.decisions.at({"none", "unschedulable"}) == 1);
  const std::string text = render_prometheus(m);

  CHECK(text.find("carbon_intensity_gco2_kwh{zone=\"ES\",kind=\"average/lifecycle\"} ") !=
        std::string::npos);
  CHECK(text.find("zone=\"XX\",kind") == std::string::npos);
  CHECK(text.find("carbonkube_carbon_signal_usable{zone=\"XX\"} 0\n") != std::string::npos);
  CHECK(text.find("katalyst_qos_guarantee_met{namespace=\"shop\",pod=\"web-1\",qos_class=\"green-"
                  "guaranteed\"} 1\n") != std::string::npos);
  CHECK(text.find("katalyst_daily_carbon_consumption_kg{namespace=\"ml\"} 1.26\n") !=
        std::string::npos);
  CHECK(text.find("katalyst_daily_carbon_budget_kg{namespace=\"ml\"} 2\n") != std::string::npos);
  CHECK(text.find("katalyst_daily_carbon_budget_ratio{namespace=\"ml\"} 0.63\n") !=
        std::string::npos);
  CHECK(text.find("carbonkube_migrations_recommended_total{from_zone=\"ES\",to_zone=\"NO\"} 2\n") !=
        std::string::npos);
  CHECK(text.find("carbonkube_scheduling_decisions_total{qos_class=\"green-guaranteed\",result="
                  "\"scheduled\"} 7\n") != std::string::npos);
  CHECK(text.find("carbonkube_energy_kwh_total{namespace=\"ml\"} 3\n") != std::string::npos);
  CHECK(text.find(
            "carbonkube_emissions_gco2_total{namespace=\"ml\",source=\"operational\"} 1200\n") !=
        std::string::npos);
  CHECK(text.find("carbonkube_emissions_gco2_total{namespace=\"ml\",source=\"embodied\"} 60\n") !=
        std::string::npos);

  // Every line is a comment or a well-formed sample of a family announced
  // by HELP and TYPE before it.
  std::istringstream in(text);
  std::string line;
  std::set<std::string> typed;
  const std::regex sample_re(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? (-?[0-9.e+-]+)$)");
  const std::regex type_re(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$)");
  int samples = 0;
  while (std::getline(in, line)) {
    std::smatch mt;
    if (line.starts_with("# HELP ")) continue;
    if (std::regex_match(line, mt, type_re)) {
      typed.insert(mt[1]);
      continue;
    }
    REQUIRE_MESSAGE(std::regex_match(line, mt, sample_re), line);
    CHECK(typed.count(mt[1]) == 1);
    ++samples;
  }
  CHECK(typed.size() == 10);
  CHECK(samples > 10);
}
