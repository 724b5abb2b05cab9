// Forecasts: resampling and gap filling, seasonal-naive, the ridge model
// (exact on a noiseless pattern, no look-ahead) and day-ahead accuracy on the
// bundled Electricity Maps 2023 data.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/signals.hpp"
#include "cli.hpp"

using namespace carbonkube;

namespace {

constexpr std::int64_t kH = 3600;
constexpr std::int64_t kD = 86400;
constexpr std::int64_t k2023 = 1672531200;  // 2023-01-01T00:00:00Z

const ZoneSeries& bundled_zone(const std::string& zone) {
  static std::map<std::string, ZoneSeries> cache;
  auto it = cache.find(zone);
  if (it == cache.end()) {
    const std::string path = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/" +
                             zone + "_2023_hourly.csv";
    SignalLoad load = load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle);
    REQUIRE(load.series.size() == 1);
    it = cache.emplace(zone, std::move(load.series[0])).first;
  }
  return it->second;
}

ZoneSeries synthetic(std::int64_t start, std::size_t hours, double (*f)(std::int64_t)) {
  ZoneSeries s;
  s.zone = "TEST";
  s.source = "synthetic";
  for (std::size_t i = 0; i < hours; ++i) {
    const std::int64_t t = start + static_cast<std::int64_t>(i) * kH;
    s.points.push_back({t, f(t), false});
  }
  return s;
}

double daily_weekly(std::int64_t t) {
  const double hour = static_cast<double>((t / kH) % 24);
  const double day = static_cast<double>((t / kD + 3) % 7);  // 0 = Monday
  return 200 + 80 * std::sin(hour / 24.0 * 2 * M_PI) + (day >= 5 ? -40.0 : 0.0);
}

}  // namespace

TEST_CASE("forecast: resample the bundled year onto an hourly grid") {
  for (const char* zone : {"US-CAL-CISO", "ES", "NO", "BR"}) {
    const std::string zone_name = zone;
    CAPTURE(zone_name);
    const ZoneSeries& s = bundled_zone(zone);
    HourlyGrid g = resample(s);
    CHECK(g.start == k2023);
    CHECK(g.size() == 8760);
    CHECK(g.filled() == 0);
    // Every cell is the point of its hour.
    for (std::size_t i : {std::size_t{0}, std::size_t{4000}, std::size_t{8759}})
      CHECK(g.g_per_kwh[i] == s.points[i].g_per_kwh);
  }
}

TEST_CASE("forecast: gaps are interpolated when short, seasonal when long") {
  ZoneSeries s = synthetic(k2023, 24 * 5, daily_weekly);
  // A 3-hour gap at hours 30..32 and a 30-hour gap at hours 60..89.
  std::vector<SignalPoint> kept;
  for (const SignalPoint& p : s.points) {
    const std::int64_t h = (p.unix_seconds - k2023) / kH;
    if ((h >= 30 && h < 33) || (h >= 60 && h < 90)) continue;
    kept.push_back(p);
  }
  s.points = kept;
  s.period_seconds = kH;
  HourlyGrid g = resample(s, k2023, k2023 + 5 * kD);
  CHECK(g.filled() == 33);
  const double a = daily_weekly(k2023 + 29 * kH);
  const double b = daily_weekly(k2023 + 33 * kH);
  CHECK(g.g_per_kwh[30] == doctest::Approx(a + (b - a) / 4));
  CHECK(g.g_per_kwh[32] == doctest::Approx(a + 3 * (b - a) / 4));
  CHECK(g.observed[31] == 0);
  // Long gap: the same hour a day earlier (hour 60 from hour 36; hour 85
  // from hour 61, itself filled from hour 37).
  CHECK(g.g_per_kwh[60] == g.g_per_kwh[36]);
  CHECK(g.g_per_kwh[85] == g.g_per_kwh[37]);
  for (double v : g.g_per_kwh) CHECK(std::isfinite(v));
}

TEST_CASE("forecast: a gap at the start takes the first observed value") {
  ZoneSeries s = synthetic(k2023 + 5 * kH, 48, daily_weekly);
  HourlyGrid g = resample(s, k2023, k2023 + 2 * kD);
  CHECK(g.filled() == 5);
  CHECK(g.g_per_kwh[0] == s.points[0].g_per_kwh);
}

TEST_CASE("forecast: bad input is refused with the source named") {
  ZoneSeries s = synthetic(k2023, 48, daily_weekly);
  s.points[3].g_per_kwh = std::nan("");
  CHECK_THROWS_WITH_AS(resample(s), doctest::Contains("synthetic: zone \"TEST\""), InvalidInput);
  s.points[3].g_per_kwh = -1;
  CHECK_THROWS_AS(resample(s), InvalidInput);
  ZoneSeries ok = synthetic(k2023, 48, daily_weekly);
  CHECK_THROWS_AS(resample(ok, k2023 + 1, k2023 + kD), InvalidInput);             // misaligned
  CHECK_THROWS_AS(resample(ok, k2023 + 10 * kD, k2023 + 11 * kD), InvalidInput);  // no data
  ZoneSeries empty;
  CHECK_THROWS_AS(resample(empty), InvalidInput);
  CHECK_THROWS_AS(RidgeForecaster(RidgeOptions{std::nan(""), 56, 14}), InvalidInput);
  CHECK_THROWS_AS(RidgeForecaster(RidgeOptions{1.0, 10, 14}), InvalidInput);
}

TEST_CASE("forecast: seasonal-naive repeats the latest known day") {
  HourlyGrid g = resample(bundled_zone("ES"));
  const std::int64_t issue = k2023 + 100 * kD + 7 * kH;  // not at midnight
  std::vector<double> out(50);
  seasonal_naive(g, issue, out);
  const std::size_t i0 = 100 * 24 + 7;
  for (std::size_t h = 0; h < 24; ++h) CHECK(out[h] == g.g_per_kwh[i0 + h - 24]);
  for (std::size_t h = 24; h < 48; ++h) CHECK(out[h] == g.g_per_kwh[i0 + h - 48]);
  CHECK_THROWS_AS(seasonal_naive(g, k2023 + 3 * kH, out), InvalidInput);  // too little history
  CHECK_THROWS_AS(seasonal_naive(g, issue + 1, out), InvalidInput);       // not a boundary
}

TEST_CASE("forecast: ridge recovers a noiseless daily and weekly pattern") {
  ZoneSeries s = synthetic(k2023, 24 * 120, daily_weekly);
  HourlyGrid g = resample(s);
  RidgeForecaster ridge(RidgeOptions{1e-6, 56, 14});
  const std::int64_t issue = k2023 + 97 * kD;  // Saturday 2023-04-08
  std::vector<double> out(48);
  CHECK(ridge.forecast(g, issue, out) == 0);
  std::vector<double> naive(48);
  seasonal_naive(g, issue, naive);
  double err_ridge = 0, err_naive = 0;
  for (std::size_t h = 0; h < out.size(); ++h) {
    const double actual = daily_weekly(issue + static_cast<std::int64_t>(h) * kH);
    err_ridge += std::abs(out[h] - actual);
    err_naive += std::abs(naive[h] - actual);
  }
  // Seasonal-naive misses the weekend step; ridge learns it from the weekday.
  CHECK(err_ridge / 48 < 1.0);
  CHECK(err_naive / 48 > 5.0);
}

TEST_CASE("forecast: ridge never reads cells at or after its issue time") {
  HourlyGrid g = resample(bundled_zone("US-CAL-CISO"));
  RidgeForecaster ridge;
  const std::int64_t issue = k2023 + 200 * kD;
  std::vector<double> before(24), after(24);
  ridge.forecast(g, issue, before);
  HourlyGrid changed = g;
  for (std::size_t i = 200 * 24; i < changed.size(); ++i) changed.g_per_kwh[i] = 1e4;
  ridge.forecast(changed, issue, after);
  CHECK(before == after);
  for (double v : before) CHECK((std::isfinite(v) && v >= 0));
  // Too little history, too long a horizon.
  std::vector<double> day(24), long_h(200);
  CHECK_THROWS_AS(ridge.forecast(g, k2023 + 5 * kD, day), InvalidInput);
  CHECK_THROWS_AS(ridge.forecast(g, issue, long_h), InvalidInput);
}

TEST_CASE("forecast: with little history the ridge falls back to seasonal-naive") {
  HourlyGrid g = resample(bundled_zone("NO"));
  RidgeForecaster ridge(RidgeOptions{3.0, 56, 14});
  const std::int64_t issue = k2023 + 12 * kD;  // 4 training days after the 8-day lags
  std::vector<double> out(24), naive(24);
  CHECK(ridge.forecast(g, issue, out) == 24);
  seasonal_naive(g, issue, naive);
  CHECK(out == naive);
}

TEST_CASE("forecast: day-ahead MAPE on the bundled 2023 data, ridge beats seasonal-naive") {
  for (const char* zone : {"US-CAL-CISO", "ES", "NO", "BR"}) {
    const std::string zone_name = zone;
    CAPTURE(zone_name);
    ForecastAccuracy acc = evaluate_day_ahead(resample(bundled_zone(zone)));
    MESSAGE(std::string(zone) << ": day-ahead MAPE seasonal-naive " << acc.mape_seasonal_naive
                              << "% ridge " << acc.mape_ridge << "% over " << acc.issues
                              << " days");
    CHECK(acc.issues == 365 - 64);
    CHECK(acc.hours == acc.issues * 24);
    CHECK(acc.mape_seasonal_naive > 0);
    CHECK(acc.mape_ridge < acc.mape_seasonal_naive);
    CHECK(acc.mae_ridge < acc.mae_seasonal_naive);
  }
}

TEST_CASE("forecast: the carbonkube forecast command") {
  const std::string dir = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/";
  std::ostringstream out, err;
  int rc = cli::run({"forecast", "--signals", dir + "NO_2023_hourly.csv", "--signals",
                     dir + "BR_2023_hourly.csv", "--json"},
                    out, err);
  REQUIRE_MESSAGE(rc == 0, err.str());
  auto j = nlohmann::json::parse(out.str());
  REQUIRE(j["zones"].size() == 2);
  CHECK(j["zones"][0]["zone"] == "NO");
  CHECK(j["zones"][1]["zone"] == "BR");
  CHECK(j["zones"][1]["issues"] == 301);
  CHECK(j["zones"][1]["mapeRidge"].get<double>() <
        j["zones"][1]["mapeSeasonalNaive"].get<double>());
  std::ostringstream table, e2;
  CHECK(cli::run({"forecast", "--signals", dir + "BR_2023_hourly.csv"}, table, e2) == 0);
  CHECK(table.str().find("MAPE ridge") != std::string::npos);
  std::ostringstream o3, e3;
  CHECK(cli::run({"forecast"}, o3, e3) == 2);
  CHECK(cli::run({"forecast", "--signals", dir + "BR_2023_hourly.csv", "--scope", "x"}, o3, e3) ==
        2);
  CHECK(cli::run({"forecast", "--signals", dir + "missing.csv"}, o3, e3) == 2);
}

TEST_CASE("forecast: an attached forecast feeds the signals' run-time window") {
  const ZoneSeries& full = bundled_zone("ES");
  ZoneSeries s = full;
  const std::int64_t issue = k2023 + 150 * kD;
  s.points.resize(150 * 24);  // history up to the issue time
  HourlyGrid g = resample(s);
  std::vector<double> fc(24);
  RidgeForecaster().forecast(g, issue, fc);
  attach_forecast(s, issue, fc);
  CarbonSignals signals;
  signals.add(s);
  // A 6 h job starting at the issue: the mean of the first six forecast hours.
  ZoneReading r = evaluate_window(signals, "ES", issue, 6 * kH);
  REQUIRE(r.usable);
  CHECK(r.from_forecast);
  CHECK(r.g_per_kwh == doctest::Approx((fc[0] + fc[1] + fc[2] + fc[3] + fc[4] + fc[5]) / 6));
  std::vector<double> bad = {1.0, std::nan("")};
  CHECK_THROWS_AS(attach_forecast(s, issue, bad), InvalidInput);
  CHECK_THROWS_AS(attach_forecast(s, issue, std::span<const double>{}), InvalidInput);
}
