// Carbon signals: the bundled Electricity Maps 2023 data, every loader on
// hand-written samples of the real wire formats and on bad input, timestamps,
// staleness and validation, the node-to-zone map and the per-cycle zone
// intensities.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

std::string fixture(const std::string& name) {
  return read_file(std::string(CARBONKUBE_SOURCE_DIR) + "/tests/fixtures/signals/" + name);
}

const std::string& bundled_text(const std::string& zone) {
  static std::map<std::string, std::string> cache;
  auto it = cache.find(zone);
  if (it == cache.end())
    it = cache
             .emplace(zone, read_file(std::string(CARBONKUBE_SOURCE_DIR) +
                                      "/data/carbon/electricitymaps/" + zone + "_2023_hourly.csv"))
             .first;
  return it->second;
}

const ZoneSeries& bundled(const std::string& zone, IntensityScope scope) {
  static std::map<std::pair<std::string, IntensityScope>, ZoneSeries> cache;
  auto key = std::make_pair(zone, scope);
  auto it = cache.find(key);
  if (it == cache.end()) {
    SignalLoad load =
        load_electricitymaps_csv(bundled_text(zone), zone + "_2023_hourly.csv", scope);
    REQUIRE(load.series.size() == 1);
    it = cache.emplace(key, std::move(load.series[0])).first;
  }
  return it->second;
}

using ck_test::error_of;

using ck_test::contains;

std::int64_t ts(std::string_view text) { return parse_timestamp(text); }

double mean(const ZoneSeries& s) {
  double sum = 0;
  for (const SignalPoint& p : s.points) sum += p.g_per_kwh;
  return sum / static_cast<double>(s.points.size());
}

std::size_t estimated_count(const ZoneSeries& s) {
  std::size_t n = 0;
  for (const SignalPoint& p : s.points) n += p.estimated ? 1 : 0;
  return n;
}

ZoneSeries one_series(const SignalLoad& load) {
  REQUIRE(load.series.size() == 1);
  return load.series[0];
}

const char* kCsvHeader =
    "Datetime (UTC),Country,Zone Name,Zone Id,Carbon Intensity gCO\xe2\x82\x82"
    "eq/kWh (direct),Carbon Intensity gCO\xe2\x82\x82"
    "eq/kWh (LCA),Low Carbon Percentage,Renewable Percentage,Data Source,Data Estimated,Data "
    "Estimation Method\n";

std::string csv_row(const std::string& time, const std::string& direct,
                    const std::string& lca = "50", const std::string& estimated = "false",
                    const std::string& zone = "NO") {
  return time + ",Norway,Norway," + zone + "," + direct + "," + lca + ",94.16,87.66,entsoe.eu," +
         estimated + ",\n";
}

}  // namespace

// ---------------------------------------------------------------------------
// Timestamps

TEST_CASE("signals: ISO 8601 / RFC 3339 timestamps") {
  CHECK(ts("2023-01-01T00:00:00Z") == 1672531200);
  CHECK(ts("2024-05-21T14:00:00Z") == 1716300000);
  CHECK(ts("2024-05-21T14:00:00+00:00") == 1716300000);
  CHECK(ts("2024-05-21T16:00:00+02:00") == 1716300000);
  CHECK(ts("2024-05-21T09:30:00-04:30") == 1716300000);
  CHECK(ts("2024-05-21T16:00:00+0200") == 1716300000);
  CHECK(ts("2024-05-21t14:00:00z") == 1716300000);
  CHECK(ts("2024-05-21T14:00:00.981Z") == 1716300000);  // fractions truncate
  CHECK(ts("2022-05-17T20:45:11.5092741+00:00") == ts("2022-05-17T20:45:11Z"));
  CHECK(ts("2024-05-21T14:00Z") == 1716300000);  // UK Carbon Intensity API: no seconds
  CHECK(ts("2024-05-21T14:00:00+02") == 1716300000 - 7200);
  CHECK(ts("2024-02-29T23:59:59Z") == 1709251199);
  CHECK(ts("2000-03-01T00:00:00Z") == 951868800);
  CHECK(ts("1969-12-31T23:59:59Z") == -1);
  CHECK(parse_timestamp("2023-01-01 00:00:00", /*assume_utc=*/true) == 1672531200);
  CHECK(format_timestamp(1716300000) == "2024-05-21T14:00:00Z");
  CHECK(format_timestamp(-1) == "1969-12-31T23:59:59Z");
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{951782400}, std::int64_t{4102444799}})
    CHECK(ts(format_timestamp(t)) == t);
}

TEST_CASE("signals: garbage timestamps are rejected with a clear error") {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c :
       {Case{"yesterday", "expected YYYY-MM-DD"}, Case{"", "expected YYYY-MM-DD"},
        Case{"2023-01-01", "expected a time"}, Case{"2023-13-01T00:00:00Z", "month 13"},
        Case{"2023-02-29T00:00:00Z", "day 29"}, Case{"2023-04-31T00:00:00Z", "day 31"},
        Case{"2023-01-01T24:00:00Z", "hour 24"}, Case{"2023-01-01T00:60:00Z", "minute 60"},
        Case{"2023-01-01T00:00:00+25:00", "offset"}, Case{"2023-01-01T00:00:00Zjunk", "junk"},
        Case{"2023-01-01T00:00:00.Z", "decimal point"},
        Case{"2023-01-01 00:00:00", "no UTC offset"}, Case{"2023-01-01X00:00:00Z", "'T'"},
        Case{"1672531200", "expected YYYY-MM-DD"}}) {
    CAPTURE(c.text);
    std::string err = error_of([&] { parse_timestamp(c.text); });
    CHECK(contains(err, "invalid timestamp"));
    CHECK(contains(err, std::string("\"") + c.text + "\""));
    CHECK(contains(err, c.says));
  }
  CHECK(contains(error_of([] { parse_timestamp("nope", false, "f.json: data[0].point_time"); }),
                 "f.json: data[0].point_time: invalid timestamp"));
  std::int64_t out = 0;
  std::string err;
  CHECK_FALSE(try_parse_timestamp("2023-01-01T00:00:00", &out, &err));
  CHECK(contains(err, "no UTC offset"));
}

// ---------------------------------------------------------------------------
// The bundled Electricity Maps 2023 data

TEST_CASE("signals: bundled Electricity Maps CSVs load 8760 hourly points per zone") {
  const std::int64_t first = ts("2023-01-01T00:00:00Z");
  for (const char* zone : {"US-CAL-CISO", "ES", "NO", "BR"}) {
    CAPTURE(zone);
    for (IntensityScope scope : {IntensityScope::kDirect, IntensityScope::kLifecycle}) {
      SignalLoad load = load_electricitymaps_csv(bundled_text(zone), "f.csv", scope);
      CHECK(load.skipped == 0);
      CHECK(load.warnings.empty());
      const ZoneSeries& s = one_series(load);
      CHECK(s.zone == zone);
      CHECK(s.kind == make_intensity_kind(IntensityBasis::kAverage, scope));
      CHECK(s.points.size() == 8760);
      CHECK(s.period_seconds == 3600);
      CHECK(s.forecast.empty());
      CHECK(s.points.front().unix_seconds == first);
      CHECK(s.points.back().unix_seconds == first + 8759 * 3600);
      bool hourly = true;
      for (std::size_t i = 1; i < s.points.size(); ++i)
        hourly = hourly && s.points[i].unix_seconds - s.points[i - 1].unix_seconds == 3600;
      CHECK(hourly);
    }
  }
}

TEST_CASE("signals: bundled carbon data has the values of the CSV at known hours") {
  const ZoneSeries& no_direct = bundled("NO", IntensityScope::kDirect);
  const ZoneSeries& no_lca = bundled("NO", IntensityScope::kLifecycle);
  // 2023-01-01 00:00:00,Norway,Norway,NO,37.86,66.23,...
  CHECK(no_direct.at(ts("2023-01-01T00:00:00Z"))->g_per_kwh == 37.86);
  CHECK(no_lca.at(ts("2023-01-01T00:00:00Z"))->g_per_kwh == 66.23);
  // 2023-07-15 12:00:00 ... NO 20.25 / 47.52
  CHECK(no_direct.at(ts("2023-07-15T12:00:00Z"))->g_per_kwh == 20.25);
  CHECK(no_lca.at(ts("2023-07-15T12:00:00Z"))->g_per_kwh == 47.52);
  // The hour containing t: 20:59:59 still reads the 20:00 row.
  const ZoneSeries& ciso = bundled("US-CAL-CISO", IntensityScope::kDirect);
  CHECK(ciso.at(ts("2023-07-15T20:00:00Z"))->g_per_kwh == 164.07);
  CHECK(ciso.at(ts("2023-07-15T20:59:59Z"))->g_per_kwh == 164.07);
  CHECK(ciso.at(ts("2023-07-15T21:00:00Z"))->g_per_kwh != 164.07);
  CHECK(ciso.at(ts("2023-07-15T13:00:00-07:00"))->g_per_kwh == 164.07);  // 13:00 PDT
  CHECK(ciso.at(ts("2022-12-31T23:59:59Z")) == nullptr);
  // 2023-12-31 23:00:00: the last row of each file.
  CHECK(bundled("ES", IntensityScope::kDirect).at(ts("2023-12-31T23:30:00Z"))->g_per_kwh == 99.34);
  CHECK(bundled("BR", IntensityScope::kLifecycle).points.back().g_per_kwh == 101.51);
  // US-CAL-CISO 2023-03-12 09:00:00 is flagged estimated.
  CHECK(ciso.at(ts("2023-03-12T09:00:00Z"))->estimated);
  CHECK(ciso.at(ts("2023-03-12T09:00:00Z"))->g_per_kwh == 236.13);
  CHECK_FALSE(ciso.at(ts("2023-03-12T10:00:00Z"))->estimated);
}

TEST_CASE("signals: Norway's hydro grid is cleaner than California's on average (carbon)") {
  const double no_direct = mean(bundled("NO", IntensityScope::kDirect));
  const double ciso_direct = mean(bundled("US-CAL-CISO", IntensityScope::kDirect));
  CHECK(no_direct == doctest::Approx(9.2796).epsilon(1e-4));
  CHECK(ciso_direct == doctest::Approx(193.4606).epsilon(1e-4));
  CHECK(no_direct < ciso_direct);
  CHECK(mean(bundled("NO", IntensityScope::kLifecycle)) <
        mean(bundled("US-CAL-CISO", IntensityScope::kLifecycle)));
  // Life-cycle includes the direct part: higher in every zone.
  for (const char* zone : {"US-CAL-CISO", "ES", "NO", "BR"})
    CHECK(mean(bundled(zone, IntensityScope::kLifecycle)) >
          mean(bundled(zone, IntensityScope::kDirect)));
}

TEST_CASE("signals: estimated hours in the bundled carbon data are flagged") {
  CHECK(estimated_count(bundled("BR", IntensityScope::kDirect)) == 241);
  CHECK(estimated_count(bundled("ES", IntensityScope::kDirect)) == 14);
  CHECK(estimated_count(bundled("NO", IntensityScope::kDirect)) == 4);
  CHECK(estimated_count(bundled("US-CAL-CISO", IntensityScope::kLifecycle)) == 3);
  const ZoneSeries& br = bundled("BR", IntensityScope::kDirect);
  // 2023-01-02 08:00:00,Brazil,Brazil,BR,39.24,67.51,...,true,ESTIMATED_TIME_SLICER_AVERAGE
  const SignalPoint* p = br.at(ts("2023-01-02T08:00:00Z"));
  REQUIRE(p);
  CHECK(p->estimated);
  CHECK(p->g_per_kwh == 39.24);
}

TEST_CASE("signals: direct and life-cycle carbon series never mix") {
  CarbonSignals signals;
  signals.add(bundled("NO", IntensityScope::kDirect));
  signals.add(bundled("US-CAL-CISO", IntensityScope::kDirect));
  CHECK(signals.common_kind() == IntensityKind::kAverageDirect);
  std::string err = error_of([&] { signals.add(bundled("NO", IntensityScope::kLifecycle)); });
  CHECK(contains(err, "zone \"NO\""));
  CHECK(contains(err, "average/lifecycle"));
  CHECK(contains(err, "average/direct"));
  CHECK(contains(err, "never mixes"));
  // The failed add changed nothing.
  CHECK(signals.find("NO")->kind == IntensityKind::kAverageDirect);
  CHECK(signals.value_at("NO", ts("2023-01-01T00:30:00Z"))->g_per_kwh == 37.86);
  signals.add(bundled("ES", IntensityScope::kLifecycle));  // another zone may differ
  CHECK_FALSE(signals.common_kind().has_value());
}

TEST_CASE("signals: a day's window average over the bundled carbon data") {
  CarbonSignals signals;
  signals.add(bundled("US-CAL-CISO", IntensityScope::kDirect));
  WindowAverage w = signals.window_average("US-CAL-CISO", ts("2023-07-15T00:00:00Z"), 86400);
  CHECK(w.covered_seconds == 86400);
  CHECK(w.g_per_kwh == doctest::Approx(212.115));
  CHECK_FALSE(w.from_forecast);
  // Half hours weigh half: [20:30, 21:30) is the mean of the 20:00 and 21:00 rows.
  const ZoneSeries& s = *signals.find("US-CAL-CISO");
  const double h20 = s.at(ts("2023-07-15T20:00:00Z"))->g_per_kwh;
  const double h21 = s.at(ts("2023-07-15T21:00:00Z"))->g_per_kwh;
  w = s.window_average(ts("2023-07-15T20:30:00Z"), 3600);
  CHECK(w.g_per_kwh == doctest::Approx((h20 + h21) / 2));
  CHECK(w.min_g_per_kwh == std::min(h20, h21));
  // Past the end of the data only the last hour counts.
  w = s.window_average(ts("2023-12-31T23:00:00Z"), 4 * 3600);
  CHECK(w.covered_seconds == 3600);
  CHECK(signals.window_average("XX", 0, 3600).covered_seconds == 0);
}

// ---------------------------------------------------------------------------
// Electricity Maps portal CSV: format details and errors

TEST_CASE("signals: portal CSV with BOM, quotes, CRLF and an empty carbon value") {
  const std::string text = fixture("electricitymaps_portal_sample.csv");
  SignalLoad direct = load_electricitymaps_csv(text, "sample.csv", IntensityScope::kDirect);
  const ZoneSeries d = one_series(direct);
  CHECK(d.zone == "NO");
  REQUIRE(d.points.size() == 2);  // the 01:00 row has no direct value
  CHECK(direct.skipped == 1);
  REQUIRE(direct.warnings.size() == 1);
  CHECK(contains(direct.warnings[0], "sample.csv: line 3"));
  CHECK(contains(direct.warnings[0], "empty"));
  CHECK(contains(direct.warnings[0], "2023-01-01T01:00:00Z"));
  CHECK(d.points[1].g_per_kwh == 43.56);
  CHECK(d.points[1].estimated);
  CHECK(d.at(ts("2023-01-01T01:30:00Z"))->g_per_kwh == 37.86);  // held, never a 0
  SignalLoad lca = load_electricitymaps_csv(text, "sample.csv", IntensityScope::kLifecycle);
  CHECK(lca.skipped == 0);
  CHECK(one_series(lca).points.size() == 3);
  CHECK(one_series(lca).points[1].g_per_kwh == 69.88);
  CHECK(one_series(lca).kind == IntensityKind::kAverageLifecycle);
}

TEST_CASE("signals: portal CSV with LF endings, multi-line quotes, several zones, unsorted") {
  std::string text = std::string(kCsvHeader) + csv_row("2023-01-01 02:00:00", "3") +
                     "2023-01-01 00:00:00,Norway,\"Nor\nway\",NO,1,50,94,87,x,false,\n" +
                     csv_row("2023-01-01 01:00:00", "2") +
                     csv_row("2023-01-01 01:00:00", "2") +  // exact repeat: dropped
                     csv_row("2023-01-01 00:00:00", "7", "9", "true", "SE") + "\n";
  SignalLoad load = load_electricitymaps_csv(text, "x.csv", IntensityScope::kDirect);
  REQUIRE(load.series.size() == 2);
  const ZoneSeries& no = load.series[0];
  CHECK(no.zone == "NO");
  REQUIRE(no.points.size() == 3);
  CHECK(no.points[0].g_per_kwh == 1);
  CHECK(no.points[1].g_per_kwh == 2);
  CHECK(no.points[2].g_per_kwh == 3);
  CHECK(load.series[1].zone == "SE");
  CHECK(load.series[1].points[0].estimated);
  CHECK(load.series[1].period_seconds == 3600);  // single point: hourly by default
}

TEST_CASE("signals: portal CSV errors name the source, line and column") {
  auto load = [](const std::string& text, SignalLoadOptions options = {}) {
    return load_electricitymaps_csv(text, "em.csv", IntensityScope::kDirect, options);
  };
  const std::string h = kCsvHeader;
  std::string err;

  err = error_of([&] { load(""); });
  CHECK(contains(err, "em.csv: empty file"));
  err = error_of([&] { load("Datetime (UTC),Country\n2023-01-01 00:00:00,NO\n"); });
  CHECK(contains(err, "em.csv: line 1: no \"Zone Id\" column"));
  err = error_of([&] {
    load("Datetime (UTC),Zone Id,Carbon Intensity gCO2eq/kWh (LCA)\n2023-01-01 00:00:00,NO,1\n");
  });
  CHECK(contains(err, "(direct)"));

  err = error_of([&] { load(h + csv_row("2023-01-01T00:00", "1") + csv_row("yesterday", "1")); });
  CHECK(contains(err, "em.csv: line 3: Datetime (UTC): invalid timestamp \"yesterday\""));

  err = error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "NaN")); });
  CHECK(contains(err, "em.csv: line 2: Carbon Intensity"));
  CHECK(contains(err, "NaN"));
  err = error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "-3.5")); });
  CHECK(contains(err, "line 2"));
  CHECK(contains(err, "-3.5 is negative"));
  err = error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "inf")); });
  CHECK(contains(err, "not a finite"));
  err = error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "12 g")); });
  CHECK(contains(err, "\"12 g\" is not a number"));
  SignalLoadOptions lenient;
  lenient.lenient = true;
  CHECK(contains(error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "lots"), lenient); }),
                 "not a number"));

  err = error_of([&] { load(h + "2023-01-01 00:00:00,NO,1\n"); });
  CHECK(contains(err, "em.csv: line 2: 3 fields, the header has 11"));
  err = error_of([&] { load(h + "2023-01-01 00:00:00,\"Norway,NO,1\n"); });
  CHECK(contains(err, "unterminated quoted field"));
  err = error_of([&] { load(h + "2023-01-01 00:00:00,\"Norway\"x,NO\n"); });
  CHECK(contains(err, "text after a closing quote"));
  err = error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "1", "2", "maybe")); });
  CHECK(contains(err, "line 2: Data Estimated: expected true or false, got \"maybe\""));
  err = error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "1", "2", "false", "")); });
  CHECK(contains(err, "line 2: Zone Id: empty"));

  // Two values for one hour: rejected, naming both lines.
  err = error_of([&] {
    load(h + csv_row("2023-01-01 00:00:00", "1") + csv_row("2023-01-01 01:00:00", "2") +
         csv_row("2023-01-01 00:00:00", "5"));
  });
  CHECK(contains(err, "em.csv: zone \"NO\": line 2 and line 4 give different values"));
  CHECK(contains(err, "2023-01-01T00:00:00Z"));

  SignalLoadOptions wrong_kind;
  wrong_kind.kind = IntensityKind::kAverageLifecycle;
  err = error_of([&] { load(h + csv_row("2023-01-01 00:00:00", "1"), wrong_kind); });
  CHECK(contains(err, "average/direct, but average/lifecycle was asked for"));
}

TEST_CASE("signals: lenient CSV keeps NaN and negative carbon values for evaluate() to refuse") {
  SignalLoadOptions lenient;
  lenient.lenient = true;
  std::string text = std::string(kCsvHeader) + csv_row("2023-01-01 00:00:00", "nan") +
                     csv_row("2023-01-01 01:00:00", "-4") + csv_row("2023-01-01 02:00:00", "3000") +
                     csv_row("2023-01-01 03:00:00", "25");
  CarbonSignals signals;
  signals.add(
      one_series(load_electricitymaps_csv(text, "x.csv", IntensityScope::kDirect, lenient)));
  struct Case {
    const char* at;
    ReadingStatus reason;
  };
  for (const Case& c : {Case{"2023-01-01T00:10:00Z", ReadingStatus::kNotFinite},
                        Case{"2023-01-01T01:10:00Z", ReadingStatus::kNegative},
                        Case{"2023-01-01T02:10:00Z", ReadingStatus::kAboveMax},
                        Case{"2023-01-01T03:10:00Z", ReadingStatus::kOk}}) {
    CAPTURE(c.at);
    ZoneReading r = evaluate(signals, "NO", ts(c.at));
    CHECK(r.reason == c.reason);
    CHECK(r.usable == (c.reason == ReadingStatus::kOk));
    if (!r.usable) CHECK(std::isnan(r.g_per_kwh));  // never a 0 that ranks best
  }
  // A bad value inside a run-time window spoils the window.
  ZoneReading w = evaluate_window(signals, "NO", ts("2023-01-01T03:00:00Z") - 1800, 3600);
  CHECK(w.reason == ReadingStatus::kAboveMax);
}

// ---------------------------------------------------------------------------
// Electricity Maps API JSON

TEST_CASE("signals: Electricity Maps latest carbon intensity") {
  SignalLoad load = load_electricitymaps_json(fixture("electricitymaps_latest.json"), "latest");
  const ZoneSeries s = one_series(load);
  CHECK(s.zone == "DE");
  CHECK(s.kind == IntensityKind::kAverageLifecycle);
  REQUIRE(s.points.size() == 1);
  CHECK(s.points[0].unix_seconds == ts("2024-05-21T14:00:00Z"));
  CHECK(s.points[0].g_per_kwh == 302);
  CHECK(s.points[0].estimated);
  CHECK(s.period_seconds == 3600);
}

TEST_CASE("signals: Electricity Maps history, direct, with a null carbon value") {
  SignalLoad load = load_electricitymaps_json(fixture("electricitymaps_history.json"), "hist");
  const ZoneSeries s = one_series(load);
  CHECK(s.zone == "FR");
  CHECK(s.kind == IntensityKind::kAverageDirect);
  REQUIRE(s.points.size() == 3);
  CHECK(load.skipped == 1);
  REQUIRE(load.warnings.size() == 1);
  CHECK(contains(load.warnings[0], "hist: history[2]"));
  CHECK(contains(load.warnings[0], "null"));
  CHECK(s.points[2].g_per_kwh == 34);
  CHECK(s.points[2].estimated);
  CHECK_FALSE(s.points[0].estimated);
  CHECK(s.period_seconds == 3600);
}

TEST_CASE("signals: Electricity Maps forecast carbon intensity") {
  const std::string text = fixture("electricitymaps_forecast.json");
  const ZoneSeries s = one_series(load_electricitymaps_json(text, "fc"));
  CHECK(s.zone == "DK-DK1");
  CHECK(s.kind == IntensityKind::kAverageLifecycle);  // the API's default
  CHECK(s.points.empty());
  REQUIRE(s.forecast.size() == 4);
  CHECK(s.forecast_issued_at == ts("2024-05-21T13:37:12Z"));
  CHECK(s.forecast_period_seconds == 3600);
  for (const SignalPoint& p : s.forecast) CHECK(p.estimated);
  SignalLoadOptions direct;
  direct.kind = IntensityKind::kAverageDirect;
  CHECK(one_series(load_electricitymaps_json(text, "fc", direct)).kind ==
        IntensityKind::kAverageDirect);

  CarbonSignals signals;
  signals.add(s);
  ZoneReading r = evaluate(signals, "DK-DK1", ts("2024-05-21T14:30:00Z"));
  CHECK(r.usable);
  CHECK(r.from_forecast);
  CHECK(r.estimated);
  CHECK(r.g_per_kwh == 136);
  CHECK(r.age_seconds == ts("2024-05-21T14:30:00Z") - ts("2024-05-21T13:37:12Z"));
  // Expected mean over a two-hour run from the forecast.
  ZoneReading w = evaluate_window(signals, "DK-DK1", ts("2024-05-21T14:00:00Z"), 7200);
  CHECK(w.usable);
  CHECK(w.g_per_kwh == doctest::Approx(139));
  CHECK(w.from_forecast);
}

TEST_CASE("signals: Electricity Maps JSON errors name the field") {
  auto load = [](const std::string& text, SignalLoadOptions options = {}) {
    return load_electricitymaps_json(text, "em.json", options);
  };
  std::string err;
  err = error_of([&] { load(R"({"zone": "DE", "carbonIntensity": 302,)"); });
  CHECK(contains(err, "em.json: malformed JSON"));
  err = error_of([&] { load(R"({"zone": "DE", "carbonIntensity": 302})"); });
  CHECK(contains(err, "em.json: datetime: required"));
  err = error_of([&] { load(R"({"carbonIntensity": 302, "datetime": "2024-05-21T14:00:00Z"})"); });
  CHECK(contains(err, "em.json: zone: required"));
  err = error_of([&] {
    load(R"({"zone": "DE", "carbonIntensity": "302", "datetime": "2024-05-21T14:00:00Z"})");
  });
  CHECK(contains(err, "em.json: carbonIntensity: expected a number, got 302"));
  err = error_of(
      [&] { load(R"({"zone": "DE", "carbonIntensity": 302, "datetime": "2024-05-21 14:00"})"); });
  CHECK(contains(err, "em.json: datetime: invalid timestamp"));
  err = error_of([&] {
    load(R"({"zone": "FR", "history": [
      {"carbonIntensity": 31, "datetime": "2024-05-21T10:00:00.000Z"},
      {"carbonIntensity": -2, "datetime": "2024-05-21T11:00:00.000Z"}]})");
  });
  CHECK(contains(err, "em.json: history[1].carbonIntensity: -2 is negative"));
  err = error_of([&] {
    load(R"({"zone": "FR", "history": [
      {"carbonIntensity": 31, "datetime": "2024-05-21T10:00:00Z", "emissionFactorType": "direct"},
      {"carbonIntensity": 30, "datetime": "2024-05-21T11:00:00Z", "emissionFactorType": "lifecycle"}]})");
  });
  CHECK(contains(err,
                 "history[1].emissionFactorType: average/lifecycle differs from average/direct "
                 "at em.json: history[0].emissionFactorType"));
  err = error_of([&] {
    load(
        R"({"zone": "FR", "history": [{"zone": "DE", "carbonIntensity": 1, "datetime": "2024-05-21T10:00:00Z"}]})");
  });
  CHECK(contains(err, "history[0].zone: \"DE\" differs from the response's zone \"FR\""));
  err = error_of([&] {
    load(
        R"({"zone": "DE", "carbonIntensity": 1, "datetime": "2024-05-21T10:00:00Z", "emissionFactorType": "marginal"})");
  });
  CHECK(contains(err, "emissionFactorType: expected lifecycle or direct, got \"marginal\""));
  err = error_of([&] { load(R"({"error": "Zone 'XX' does not exist."})"); });
  CHECK(contains(err, "not an Electricity Maps carbon-intensity response"));
  CHECK(contains(err, "Zone 'XX' does not exist."));
  err = error_of([&] { load(R"([1, 2])"); });
  CHECK(contains(err, "got a array"));
  SignalLoadOptions marginal;
  marginal.kind = IntensityKind::kMarginalDirect;
  err = error_of([&] { load(fixture("electricitymaps_latest.json"), marginal); });
  CHECK(contains(err, "is an average, not marginal/direct"));
  // Duplicates: sorted and repeats dropped; two values for one hour rejected.
  SignalLoad ok = load(R"({"zone": "FR", "history": [
      {"carbonIntensity": 30, "datetime": "2024-05-21T11:00:00Z"},
      {"carbonIntensity": 31, "datetime": "2024-05-21T10:00:00Z"},
      {"carbonIntensity": 30, "datetime": "2024-05-21T11:00:00Z"}]})");
  REQUIRE(one_series(ok).points.size() == 2);
  CHECK(one_series(ok).points[0].g_per_kwh == 31);
  err = error_of([&] {
    load(R"({"zone": "FR", "history": [
      {"carbonIntensity": 30, "datetime": "2024-05-21T11:00:00Z"},
      {"carbonIntensity": 31, "datetime": "2024-05-21T10:00:00Z"},
      {"carbonIntensity": 33, "datetime": "2024-05-21T13:00:00+02:00"}]})");
  });
  CHECK(contains(err,
                 "em.json: zone \"FR\": em.json: history[0] and em.json: history[2] give "
                 "different values for 2024-05-21T11:00:00Z (30 and 33)"));
}

TEST_CASE("signals: NaN and infinite carbon values in JSON/YAML are rejected unless lenient") {
  const std::string nan_doc = "zone: DE\ncarbonIntensity: .nan\ndatetime: '2024-05-21T14:00:00Z'\n";
  std::string err = error_of([&] { load_electricitymaps_json(nan_doc, "em.yaml"); });
  CHECK(contains(err, "em.yaml: carbonIntensity: NaN is not a carbon intensity"));
  err = error_of([&] {
    load_electricitymaps_json("zone: DE\ncarbonIntensity: .inf\ndatetime: '2024-05-21T14:00:00Z'\n",
                              "em.yaml");
  });
  CHECK(contains(err, "not a finite"));
  // JSON has no NaN; a number beyond double's range is malformed input.
  err = error_of([&] {
    load_electricitymaps_json(
        R"({"zone": "DE", "carbonIntensity": 1e999, "datetime": "2024-05-21T14:00:00Z"})",
        "em.json");
  });
  CHECK(contains(err, "em.json: malformed JSON"));
  CHECK(contains(err, "1e999"));
  SignalLoadOptions lenient;
  lenient.lenient = true;
  CarbonSignals signals;
  signals.add(one_series(load_electricitymaps_json(nan_doc, "em.yaml", lenient)));
  ZoneReading r = evaluate(signals, "DE", ts("2024-05-21T14:10:00Z"));
  CHECK_FALSE(r.usable);
  CHECK(r.reason == ReadingStatus::kNotFinite);
  CHECK(std::isnan(r.g_per_kwh));
}

// ---------------------------------------------------------------------------
// WattTime v3

TEST_CASE("signals: WattTime v3 forecast is marginal and converted from lbs/MWh") {
  SignalLoad load = load_watttime_json(fixture("watttime_forecast.json"), "wt-forecast.json");
  const ZoneSeries s = one_series(load);
  CHECK(s.zone == "CAISO_NORTH");
  CHECK(s.kind == IntensityKind::kMarginalDirect);
  CHECK(s.points.empty());
  REQUIRE(s.forecast.size() == 6);
  CHECK(s.forecast_issued_at == ts("2024-05-21T14:00:00Z"));
  CHECK(s.forecast_period_seconds == 300);
  // 1000 lbs/MWh = 453.59237 g/kWh (1 lb = 453.59237 g, 1 MWh = 1000 kWh).
  CHECK(s.forecast[0].g_per_kwh == doctest::Approx(453.59237).epsilon(1e-12));
  CHECK(s.forecast[1].g_per_kwh == doctest::Approx(870.0 * 0.45359237).epsilon(1e-12));
  CHECK(s.forecast[1].unix_seconds == ts("2024-05-21T14:05:00Z"));
  CHECK(s.forecast[1].estimated);
}

TEST_CASE("signals: WattTime v3 historical, merged with the forecast") {
  const ZoneSeries h =
      one_series(load_watttime_json(fixture("watttime_historical.json"), "wt-hist.json"));
  CHECK(h.kind == IntensityKind::kMarginalDirect);
  REQUIRE(h.points.size() == 3);
  CHECK(h.forecast.empty());
  CHECK(h.period_seconds == 300);
  CHECK(h.points[2].g_per_kwh == doctest::Approx(453.59237));
  CHECK_FALSE(h.points[2].estimated);

  CarbonSignals signals;
  signals.add(load_watttime_json(fixture("watttime_historical.json"), "h").series);
  signals.add(load_watttime_json(fixture("watttime_forecast.json"), "f").series);
  // 13:57: the 13:55 history point holds.
  ZoneReading r = evaluate(signals, "CAISO_NORTH", ts("2024-05-21T13:57:00Z"));
  CHECK(r.usable);
  CHECK_FALSE(r.from_forecast);
  CHECK(r.age_seconds == 120);
  CHECK(r.g_per_kwh == doctest::Approx(453.59237));
  // 14:07: history expired (5-minute data); the fresh forecast's 14:05 point.
  r = evaluate(signals, "CAISO_NORTH", ts("2024-05-21T14:07:00Z"));
  CHECK(r.usable);
  CHECK(r.from_forecast);
  CHECK(r.g_per_kwh == doctest::Approx(870.0 * 0.45359237));
  CHECK(r.age_seconds == 420);
  // Mean over [13:58, 14:18): the 13:55 history point until 14:00, then the forecast.
  ZoneReading w = evaluate_window(signals, "CAISO_NORTH", ts("2024-05-21T13:58:00Z"), 1200);
  CHECK(w.usable);
  CHECK(w.g_per_kwh ==
        doctest::Approx((1000.0 * 120 + 1000.0 * 300 + 870.0 * 300 + 865.2 * 300 + 612.4 * 180) /
                        1200 * 0.45359237));
  CHECK(w.from_forecast);
  // At 13:50 the forecast (issued 14:00) does not exist yet: no look-ahead.
  SignalPolicy quarter;
  quarter.min_window_coverage = 0.25;
  w = evaluate_window(signals, "CAISO_NORTH", ts("2024-05-21T13:50:00Z"), 1200, quarter);
  CHECK(w.usable);
  CHECK_FALSE(w.from_forecast);
  CHECK(w.g_per_kwh == doctest::Approx((918.0 + 1000.0) / 2 * 0.45359237));
}

TEST_CASE("signals: WattTime co2_aoer is an average carbon signal; errors name the field") {
  const std::string aoer = R"({"data": [{"point_time": "2024-05-21T14:00:00+00:00", "value": 800}],
    "meta": {"region": "PJM_DC", "signal_type": "co2_aoer", "units": "lbs_co2_per_mwh"}})";
  const ZoneSeries s = one_series(load_watttime_json(aoer, "aoer.json"));
  CHECK(s.kind == IntensityKind::kAverageDirect);
  CHECK(s.points[0].g_per_kwh == doctest::Approx(362.873896));

  auto load = [](const std::string& text) { return load_watttime_json(text, "wt.json"); };
  std::string err;
  err = error_of([&] {
    load(
        R"({"data": [], "meta": {"region": "X", "signal_type": "co2_moer", "units": "percentile"}})");
  });
  CHECK(contains(err, "wt.json: meta.units: expected lbs_co2_per_mwh, got \"percentile\""));
  err = error_of([&] {
    load(
        R"({"data": [], "meta": {"region": "X", "signal_type": "health_damage", "units": "lbs_co2_per_mwh"}})");
  });
  CHECK(contains(err, "meta.signal_type: \"health_damage\" is not a carbon intensity"));
  err = error_of([&] { load(R"({"data": []})"); });
  CHECK(contains(err, "wt.json: meta: required"));
  err = error_of([&] {
    load(R"({"data": [], "meta": {"signal_type": "co2_moer", "units": "lbs_co2_per_mwh"}})");
  });
  CHECK(contains(err, "meta.region: required"));
  err = error_of([&] { load(R"({"error": "Invalid token", "message": "Unauthorized"})"); });
  CHECK(contains(err, "not a WattTime v3 response"));
  CHECK(contains(err, "Invalid token"));
  const std::string meta =
      R"("meta": {"region": "CAISO_NORTH", "signal_type": "co2_moer", "units": "lbs_co2_per_mwh"})";
  err = error_of(
      [&] { load(R"({"data": [{"point_time": "21 May 2024", "value": 1}], )" + meta + "}"); });
  CHECK(contains(err, "wt.json: data[0].point_time: invalid timestamp \"21 May 2024\""));
  err = error_of([&] {
    load(R"({"data": [{"point_time": "2024-05-21T14:00:00+00:00", "value": 1},
                      {"point_time": "2024-05-21T14:05:00+00:00", "value": -870}], )" +
         meta + "}");
  });
  CHECK(contains(err, "wt.json: data[1].value: "));
  CHECK(contains(err, "is negative"));
  err = error_of(
      [&] { load(R"({"data": [{"point_time": "2024-05-21T14:00:00+00:00"}], )" + meta + "}"); });
  CHECK(contains(err, "data[0].value: required"));
  err = error_of([&] {
    load(R"({"data": [{"point_time": "2024-05-21T14:00:00+00:00", "value": true}], )" + meta + "}");
  });
  CHECK(contains(err, "data[0].value: expected a number, got true"));
}

// ---------------------------------------------------------------------------
// UK Carbon Intensity API

TEST_CASE("signals: UK Carbon Intensity national: actual, else forecast marked estimated") {
  SignalLoad load = load_uk_carbon_intensity_json(fixture("uk_national.json"), "uk.json");
  const ZoneSeries s = one_series(load);
  CHECK(s.zone == "GB");
  CHECK(s.kind == IntensityKind::kAverageDirect);
  CHECK(s.period_seconds == 1800);
  REQUIRE(s.points.size() == 4);
  CHECK(s.points[0].g_per_kwh == 118);  // actual wins over forecast 120
  CHECK_FALSE(s.points[0].estimated);
  CHECK(s.points[1].g_per_kwh == 124);
  CHECK(s.points[2].g_per_kwh == 125);  // forecast, actual null
  CHECK(s.points[2].estimated);
  CHECK(s.points[3].unix_seconds == ts("2024-05-21T13:30:00Z"));
  SignalLoadOptions named;
  named.zone = "UK-national";
  CHECK(one_series(load_uk_carbon_intensity_json(fixture("uk_national.json"), "uk.json", named))
            .zone == "UK-national");
}

TEST_CASE("signals: UK Carbon Intensity regional shapes") {
  const ZoneSeries london =
      one_series(load_uk_carbon_intensity_json(fixture("uk_regional.json"), "r.json"));
  CHECK(london.zone == "UKCI-13");
  REQUIRE(london.points.size() == 2);
  CHECK(london.points[0].g_per_kwh == 143);
  CHECK(london.points[0].estimated);  // regional data is forecast only

  SignalLoad all = load_uk_carbon_intensity_json(fixture("uk_regional_all.json"), "all.json");
  REQUIRE(all.series.size() == 3);
  CHECK(all.series[0].zone == "UKCI-1");
  CHECK(all.series[0].points[0].g_per_kwh == 0);  // 0 is a real value (wind and hydro)
  CHECK(all.series[1].zone == "UKCI-13");
  CHECK(all.series[2].zone == "UKCI-18");

  CarbonSignals signals;
  signals.add(london);
  signals.add(all.series);
  const ZoneSeries& merged = *signals.find("UKCI-13");
  REQUIRE(merged.points.size() == 3);
  CHECK(merged.points[2].g_per_kwh == 151);
  ZoneReading r = evaluate(signals, "UKCI-1", ts("2024-05-21T13:45:00Z"));
  CHECK(r.usable);
  CHECK(r.g_per_kwh == 0);
  CHECK(r.estimated);

  // "data" as a single object (per-region forecast endpoints).
  SignalLoad single = load_uk_carbon_intensity_json(
      R"({"data": {"regionid": 3, "shortname": "North West England", "data": [
          {"from": "2024-05-21T12:00Z", "to": "2024-05-21T12:30Z", "intensity": {"forecast": 200, "index": "moderate"}}]}})",
      "nw.json");
  CHECK(one_series(single).zone == "UKCI-3");
}

TEST_CASE("signals: UK Carbon Intensity errors") {
  auto load = [](const std::string& text, SignalLoadOptions options = {}) {
    return load_uk_carbon_intensity_json(text, "uk.json", options);
  };
  std::string err;
  err = error_of([&] {
    load(
        R"({"data": [{"from": "2024-05-21T12:30Z", "to": "2024-05-21T12:00Z", "intensity": {"actual": 1}}]})");
  });
  CHECK(contains(err, "uk.json: data[0].to: 2024-05-21T12:00:00Z is not after from"));
  err = error_of(
      [&] { load(R"({"data": [{"from": "2024-05-21T12:00Z", "to": "2024-05-21T12:30Z"}]})"); });
  CHECK(contains(err, "data[0].intensity: required"));
  err = error_of([&] {
    load(
        R"({"data": [{"from": "2024-05-21T12:00Z", "to": "2024-05-21T12:30Z", "intensity": {"max": 1, "average": 1}}]})");
  });
  CHECK(contains(err, "data[0].intensity: has neither actual nor forecast"));
  err = error_of([&] {
    load(R"({"data": [{"from": "noon", "to": "2024-05-21T12:30Z", "intensity": {"actual": 1}}]})");
  });
  CHECK(contains(err, "data[0].from: invalid timestamp \"noon\""));
  err = error_of([&] {
    load(
        R"({"data": [{"regionid": 13, "data": [{"from": "2024-05-21T12:00Z", "to": "2024-05-21T12:30Z", "intensity": {"forecast": -1}}]}]})");
  });
  CHECK(contains(err, "data[0].data[0].intensity.forecast: -1 is negative"));
  err = error_of([&] {
    load(
        R"({"data": [{"regions": [{"intensity": {"forecast": 1}}], "from": "2024-05-21T12:00Z", "to": "2024-05-21T12:30Z"}]})");
  });
  CHECK(contains(err, "data[0].regions[0].regionid: required"));
  err = error_of([&] { load(R"({"data": [{"postcode": "RG10"}]})"); });
  CHECK(contains(err, "data[0]: expected {from, to, intensity}"));
  err = error_of([&] {
    load(R"({"error": {"code": "400 Bad Request", "message": "Please enter a valid date"}})");
  });
  CHECK(contains(err, "Please enter a valid date"));
  SignalLoadOptions lca;
  lca.kind = IntensityKind::kAverageLifecycle;
  err = error_of([&] { load(fixture("uk_national.json"), lca); });
  CHECK(contains(err, "the data is average/direct, but average/lifecycle was asked for"));
  SignalLoad skipped = load(R"({"data": [
      {"from": "2024-05-21T12:00Z", "to": "2024-05-21T12:30Z", "intensity": {"forecast": null, "actual": null, "index": null}},
      {"from": "2024-05-21T12:30Z", "to": "2024-05-21T13:00Z", "intensity": {"forecast": 99, "actual": null}}]})");
  CHECK(skipped.skipped == 1);
  CHECK(one_series(skipped).points.size() == 1);
}

// ---------------------------------------------------------------------------
// Carbon Aware SDK WebAPI

TEST_CASE("signals: Carbon Aware SDK emissions by location") {
  SignalLoad load = load_carbon_aware_sdk_json(fixture("carbonaware_bylocation.json"), "sdk.json");
  REQUIRE(load.series.size() == 2);
  const ZoneSeries& east = load.series[0];
  CHECK(east.zone == "eastus");
  CHECK(east.kind == IntensityKind::kAverageLifecycle);  // documented default
  CHECK(east.period_seconds == 3600);                    // "duration": "01:00:00"
  REQUIRE(east.points.size() == 2);
  CHECK(east.points[1].g_per_kwh == 498.7);
  CHECK(load.series[1].zone == "westus");
  SignalLoadOptions marginal;
  marginal.kind = IntensityKind::kMarginalDirect;  // an SDK backed by WattTime
  CHECK(load_carbon_aware_sdk_json(fixture("carbonaware_bylocation.json"), "sdk.json", marginal)
            .series[0]
            .kind == IntensityKind::kMarginalDirect);
}

TEST_CASE("signals: Carbon Aware SDK current forecast") {
  const ZoneSeries s =
      one_series(load_carbon_aware_sdk_json(fixture("carbonaware_forecast.json"), "fc.json"));
  CHECK(s.zone == "northeurope");
  REQUIRE(s.forecast.size() == 4);
  CHECK(s.forecast_issued_at == ts("2024-05-21T14:00:00Z"));
  CHECK(s.forecast_period_seconds == 300);  // "duration": 5 (minutes)
  CHECK(s.forecast[2].g_per_kwh == 448.4451043375);
  CHECK(s.forecast[2].estimated);
  // Two forecasts for one location: the newest is kept, the other counted.
  const std::string two = R"([
    {"location": "westus", "generatedAt": "2024-05-21T13:00:00+00:00",
     "forecastData": [{"timestamp": "2024-05-21T13:00:00+00:00", "duration": 60, "value": 300}]},
    {"location": "westus", "generatedAt": "2024-05-21T14:00:00+00:00",
     "forecastData": [{"timestamp": "2024-05-21T14:00:00+00:00", "duration": "01:00:00", "value": 250}]}])";
  SignalLoad load = load_carbon_aware_sdk_json(two, "two.json");
  const ZoneSeries w = one_series(load);
  CHECK(load.skipped == 1);
  REQUIRE(w.forecast.size() == 1);
  CHECK(w.forecast[0].g_per_kwh == 250);
  CHECK(w.forecast_issued_at == ts("2024-05-21T14:00:00Z"));
  CHECK(w.forecast_period_seconds == 3600);
}

TEST_CASE("signals: Carbon Aware SDK errors") {
  auto load = [](const std::string& text) { return load_carbon_aware_sdk_json(text, "sdk.json"); };
  std::string err;
  err = error_of([&] { load(R"([{"time": "2024-05-21T13:00:00+00:00", "rating": 5}])"); });
  CHECK(contains(err, "sdk.json: [0].location: required"));
  err = error_of([&] {
    load(
        R"([{"location": "eastus", "time": "2024-05-21T13:00:00+00:00", "rating": 5, "duration": "soon"}])");
  });
  CHECK(contains(err, "duration: invalid duration \"soon\""));
  err = error_of([&] {
    load(
        R"([{"location": "eastus", "time": "2024-05-21T13:00:00+00:00", "rating": 5, "duration": 0}])");
  });
  CHECK(contains(err, "duration: 0 is not a positive number of minutes"));
  err = error_of(
      [&] { load(R"([{"location": "eastus", "time": "2024-05-21T13:00:00", "rating": 5}])"); });
  CHECK(contains(err, "time: invalid timestamp"));
  CHECK(contains(err, "no UTC offset"));
  err = error_of([&] { load(R"([{"location": "eastus", "value": 5}])"); });
  CHECK(contains(err, "no rating or forecastData"));
  err = error_of([&] {
    load(
        R"({"title": "One or more validation errors occurred.", "status": 400, "detail": "location is required"})");
  });
  CHECK(contains(err, "not a Carbon Aware SDK response"));
  CHECK(contains(err, "location is required"));
  err = error_of([&] {
    load(R"([{"location": "eastus", "time": "2024-05-21T13:00:00+00:00", "rating": "high"}])");
  });
  CHECK(contains(err, "rating: expected a number, got high"));
}

// ---------------------------------------------------------------------------
// CarbonSignals merge rules

TEST_CASE("signals: merging carbon series: later points win, newest forecast wins") {
  ZoneSeries a;
  a.zone = "Z";
  a.kind = IntensityKind::kAverageDirect;
  a.source = std::string("a");
  a.points = {{0, 10, false}, {3600, 11, false}};
  a.forecast = {{7200, 50, true}};
  a.forecast_issued_at = 3600;
  ZoneSeries b = a;
  b.source = std::string("b");
  b.points = {{3600, 12, false}, {7200, 13, true}};
  b.forecast = {{7200, 60, true}};
  b.forecast_issued_at = 1800;  // older than a's: ignored
  CarbonSignals signals;
  signals.add(a);
  signals.add(b);
  const ZoneSeries& z = *signals.find("Z");
  REQUIRE(z.points.size() == 3);
  CHECK(z.points[1].g_per_kwh == 12);
  CHECK(z.forecast[0].g_per_kwh == 50);
  CHECK(z.source == "a, b");
  ZoneSeries c = a;
  c.forecast = {{7200, 70, true}};
  c.forecast_issued_at = 7000;
  c.points.clear();
  signals.add(c);
  CHECK(signals.find("Z")->forecast[0].g_per_kwh == 70);
  ZoneSeries nameless;
  CHECK(contains(error_of([&] { signals.add(nameless); }), "no zone id"));
}

// ---------------------------------------------------------------------------
// Staleness and validation

TEST_CASE("signals: evaluate() carbon staleness, future data and missing zones") {
  CarbonSignals signals;
  signals.add(bundled("US-CAL-CISO", IntensityScope::kDirect));
  signals.add(bundled("BR", IntensityScope::kDirect));

  ZoneReading ok = evaluate(signals, "US-CAL-CISO", ts("2023-07-15T20:45:00Z"));
  CHECK(ok.usable);
  CHECK(ok.reason == ReadingStatus::kOk);
  CHECK(ok.g_per_kwh == 164.07);
  CHECK(ok.age_seconds == 2700);
  CHECK(ok.kind == IntensityKind::kAverageDirect);

  // Six hours after the last point: stale.
  ZoneReading stale = evaluate(signals, "US-CAL-CISO", ts("2024-01-01T05:00:00Z"));
  CHECK_FALSE(stale.usable);
  CHECK(stale.reason == ReadingStatus::kStale);
  CHECK(stale.age_seconds == 6 * 3600);
  CHECK(std::isnan(stale.g_per_kwh));
  CHECK(contains(stale.reason_text, "21600 s old"));
  // Two hours is the default limit, inclusive; a looser policy accepts more.
  CHECK(evaluate(signals, "US-CAL-CISO", ts("2024-01-01T01:00:00Z")).usable);
  CHECK_FALSE(evaluate(signals, "US-CAL-CISO", ts("2024-01-01T01:00:01Z")).usable);
  SignalPolicy loose;
  loose.max_age_seconds = 7 * 3600;
  CHECK(evaluate(signals, "US-CAL-CISO", ts("2024-01-01T05:00:00Z"), loose).usable);

  // Before the data begins: future beyond the tolerance, accepted within it.
  ZoneReading future = evaluate(signals, "US-CAL-CISO", ts("2022-12-31T22:00:00Z"));
  CHECK(future.reason == ReadingStatus::kFuture);
  CHECK(std::isnan(future.g_per_kwh));
  ZoneReading skew = evaluate(signals, "US-CAL-CISO", ts("2022-12-31T23:58:00Z"));
  CHECK(skew.usable);
  CHECK(skew.age_seconds == -120);
  CHECK(skew.g_per_kwh == 218.3);

  ZoneReading missing = evaluate(signals, "DE", ts("2023-07-15T20:45:00Z"));
  CHECK(missing.reason == ReadingStatus::kMissingZone);
  CHECK(contains(missing.reason_text, "\"DE\""));
  CHECK(std::isnan(missing.g_per_kwh));

  SignalPolicy lifecycle;
  lifecycle.kind = IntensityKind::kAverageLifecycle;
  CHECK(evaluate(signals, "BR", ts("2023-07-15T20:45:00Z"), lifecycle).reason ==
        ReadingStatus::kWrongKind);

  SignalPolicy no_estimates;
  no_estimates.accept_estimated = false;
  ZoneReading est = evaluate(signals, "BR", ts("2023-01-02T08:30:00Z"), no_estimates);
  CHECK(est.reason == ReadingStatus::kEstimatedRejected);
  CHECK(evaluate(signals, "BR", ts("2023-01-02T08:30:00Z")).estimated);

  SignalPolicy floor;
  floor.min_g_per_kwh = 100;
  CHECK(evaluate(signals, "BR", ts("2023-07-15T12:00:00Z"), floor).reason ==
        ReadingStatus::kBelowMin);
  SignalPolicy ceiling;
  ceiling.max_g_per_kwh = 100;
  CHECK(evaluate(signals, "US-CAL-CISO", ts("2023-07-15T12:00:00Z"), ceiling).reason ==
        ReadingStatus::kAboveMax);
}

TEST_CASE("signals: evaluate() with carbon forecasts only") {
  ZoneSeries s;
  s.zone = "F";
  s.kind = IntensityKind::kMarginalDirect;
  s.forecast = {{ts("2024-05-21T14:00:00Z"), 400, true}, {ts("2024-05-21T15:00:00Z"), 300, true}};
  s.forecast_period_seconds = 3600;
  s.forecast_issued_at = ts("2024-05-21T14:30:00Z");
  CarbonSignals signals;
  signals.add(s);
  CHECK(evaluate(signals, "F", ts("2024-05-21T15:30:00Z")).g_per_kwh == 300);
  CHECK(evaluate(signals, "F", ts("2024-05-21T15:30:00Z")).age_seconds == 3600);
  // Past the forecast's horizon.
  CHECK(evaluate(signals, "F", ts("2024-05-21T16:00:00Z")).reason == ReadingStatus::kNoData);
  // A forecast issued long ago is stale.
  SignalPolicy tight;
  tight.max_age_seconds = 1800;
  CHECK(evaluate(signals, "F", ts("2024-05-21T15:30:00Z"), tight).reason == ReadingStatus::kStale);
  // Replaying before the forecast was issued: no look-ahead.
  CHECK(evaluate(signals, "F", ts("2024-05-21T14:10:00Z")).reason == ReadingStatus::kFuture);
  CHECK(evaluate(signals, "F", ts("2024-05-21T13:00:00Z")).reason == ReadingStatus::kFuture);
  // A zone whose every value was skipped has no data.
  SignalLoad empty =
      load_electricitymaps_csv(std::string(kCsvHeader) + csv_row("2023-01-01 00:00:00", ""),
                               "e.csv", IntensityScope::kDirect);
  signals.add(empty.series);
  CHECK(evaluate(signals, "NO", 0).reason == ReadingStatus::kNoData);
}

TEST_CASE("signals: evaluate_window() for a job's expected carbon over its run time") {
  CarbonSignals signals;
  signals.add(bundled("US-CAL-CISO", IntensityScope::kDirect));
  ZoneReading day = evaluate_window(signals, "US-CAL-CISO", ts("2023-07-15T00:00:00Z"), 86400);
  CHECK(day.usable);
  CHECK(day.g_per_kwh == doctest::Approx(212.115));
  CHECK(evaluate_window(signals, "US-CAL-CISO", ts("2023-07-15T20:10:00Z"), 0).g_per_kwh == 164.07);
  // Only 4 of 24 hours have data: less than the default half.
  ZoneReading tail = evaluate_window(signals, "US-CAL-CISO", ts("2023-12-31T20:00:00Z"), 86400);
  CHECK(tail.reason == ReadingStatus::kIncompleteWindow);
  CHECK(std::isnan(tail.g_per_kwh));
  SignalPolicy any;
  any.min_window_coverage = 0.1;
  CHECK(evaluate_window(signals, "US-CAL-CISO", ts("2023-12-31T20:00:00Z"), 86400, any).usable);
  // The start must be evaluable.
  CHECK(evaluate_window(signals, "US-CAL-CISO", ts("2024-02-01T00:00:00Z"), 3600).reason ==
        ReadingStatus::kStale);
  // History then forecast: the forecast fills the time after the history.
  ZoneSeries s;
  s.zone = "H";
  s.kind = IntensityKind::kAverageDirect;
  s.points = {{0, 100, false}, {3600, 200, false}};
  s.forecast = {{3600, 999, true}, {7200, 300, true}};
  s.forecast_issued_at = 3000;
  signals.add(s);
  ZoneReading mixed = evaluate_window(signals, "H", 3600, 7200);
  CHECK(mixed.usable);
  CHECK(mixed.g_per_kwh == doctest::Approx(250));
  CHECK(mixed.from_forecast);
  CHECK(mixed.estimated);
}

// ---------------------------------------------------------------------------
// Nodes to grid zones

TEST_CASE("signals: ZoneMap maps node labels to carbon grid zones") {
  ZoneMap map = ZoneMap::parse(fixture("zonemap.yaml"), "zonemap.yaml");
  CHECK(map.unknown_zone() == UnknownZoneRule::kNeutral);
  REQUIRE(map.zones().size() == 4);
  CHECK(map.zones()[0] == "ES");  // rules, then zones, then regions (sorted)
  CHECK(map.zones()[1] == "US-CAL-CISO");
  CHECK(map.zones()[2] == "NO");
  CHECK(map.zones()[3] == "BR");
  CHECK(map.find_zone("NO") == ZoneIndex{2});
  CHECK_FALSE(map.find_zone("DE").has_value());

  CHECK(map.zone_for({{"topology.kubernetes.io/region", "us-west-1"}}) == "US-CAL-CISO");
  CHECK(map.zone_for({{"topology.kubernetes.io/region", "eu-north-1"}}) == "NO");
  // A rule wins over the region; a zone label wins over the region.
  CHECK(map.zone_for({{"example.com/datacenter", "madrid-1"},
                      {"topology.kubernetes.io/region", "eu-north-1"}}) == "ES");
  CHECK(map.zone_for({{"topology.kubernetes.io/region", "eu-north-1"},
                      {"topology.kubernetes.io/zone", "us-west-1c"}}) == "US-CAL-CISO");
  CHECK(map.zone_for({{"topology.kubernetes.io/region", "mars-1"}}).empty());
  CHECK(map.zone_index_for({}) == kUnknownZone);

  ZoneMap json = ZoneMap::parse(
      R"({"unknownZone": "error", "regions": {"us-west-1": "US-CAL-CISO"}})", "zm.json");
  CHECK(json.unknown_zone() == UnknownZoneRule::kError);
  CHECK(json.zones().size() == 1);
}

TEST_CASE("signals: ZoneMap per-node carbon zone indices from a snapshot") {
  using ck_test::make_node;
  KubeObjects objs;
  auto node = [&](const std::string& name, StringMap labels) {
    Node n = make_node(name, 4000, std::int64_t{8} << 30);
    std::sort(labels.begin(), labels.end());
    n.labels = labels;
    objs.nodes.push_back(n);
  };
  node("ca-1", {{"topology.kubernetes.io/region", "us-west-1"}});
  node("no-1", {{"topology.kubernetes.io/region", "eu-north-1"}});
  node("es-1", {{"example.com/datacenter", "madrid-1"}, {"topology.kubernetes.io/region", "x"}});
  node("mars-1", {{"topology.kubernetes.io/region", "mars-1"}});
  node("bare", {});
  SnapshotPtr snap = ClusterState::build(objs);

  ZoneMap map = ZoneMap::parse(fixture("zonemap.yaml"), "zonemap.yaml");
  std::vector<ZoneIndex> zones = map.node_zones(*snap);
  REQUIRE(zones.size() == 5);
  auto zone_of = [&](const std::string& name) { return zones[*snap->find_node(name)]; };
  CHECK(zone_of("ca-1") == *map.find_zone("US-CAL-CISO"));
  CHECK(zone_of("no-1") == *map.find_zone("NO"));
  CHECK(zone_of("es-1") == *map.find_zone("ES"));
  CHECK(zone_of("mars-1") == kUnknownZone);
  CHECK(zone_of("bare") == kUnknownZone);
  // Same answers as the label-map form.
  for (const Node& n : objs.nodes) CHECK(zone_of(n.name) == map.zone_index_for(n.labels));

  ZoneMap strict = ZoneMap::parse(
      "unknownZone: error\nregions: {us-west-1: US-CAL-CISO, eu-north-1: NO}\n"
      "rules: [{matchLabels: {example.com/datacenter: madrid-1}, zone: ES}]\n",
      "strict.yaml");
  try {
    strict.node_zones(*snap);
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kNotFound);
    CHECK(contains(e.what(), "strict.yaml: node \"mars-1\""));
    CHECK(contains(e.what(), "topology.kubernetes.io/region=\"mars-1\""));
    CHECK(contains(e.what(), "unknownZone is error"));
  }
}

TEST_CASE("signals: ZoneMap configuration errors") {
  auto parse = [](const std::string& text) { return ZoneMap::parse(text, "zm.yaml"); };
  CHECK(contains(error_of([&] { parse("regions: {a: B}\n"); }), "zm.yaml: unknownZone: required"));
  CHECK(contains(error_of([&] { parse("unknownZone: ignore\n"); }),
                 "unknownZone: expected neutral or error, got \"ignore\""));
  CHECK(contains(error_of([&] { parse("unknownZone: neutral\nregion: {a: B}\n"); }),
                 "zm.yaml: region: unknown field"));
  CHECK(contains(error_of([&] { parse("unknownZone: neutral\nrules: [{zone: ES}]\n"); }),
                 "rules[0].matchLabels: required"));
  CHECK(contains(
      error_of([&] { parse("unknownZone: neutral\nrules: [{matchLabels: {a: b}, zone: ''}]\n"); }),
      "rules[0].zone: the grid zone id is empty"));
  CHECK(contains(
      error_of([&] { parse("unknownZone: neutral\nrules: [{matchLabels: {a: b}, zon: ES}]\n"); }),
      "rules[0].zon: unknown field"));
  CHECK(contains(error_of([&] { parse("unknownZone: neutral\nregions: {us-west-1: US CAL}\n"); }),
                 "regions.us-west-1: grid zone id \"US CAL\" contains whitespace"));
  CHECK(contains(error_of([&] { parse("kind: ConfigMap\nunknownZone: neutral\n"); }),
                 "kind: expected ZoneMap"));
  CHECK(contains(error_of([&] { parse("- unknownZone: neutral\n"); }), "expected a mapping"));
}

// ---------------------------------------------------------------------------
// The per-cycle zone intensities

TEST_CASE("signals: ZoneIntensities gives each carbon zone a value and a usable flag") {
  CarbonSignals signals;
  for (const char* zone : {"US-CAL-CISO", "ES", "NO", "BR"})
    signals.add(bundled(zone, IntensityScope::kDirect));
  ZoneMap map = ZoneMap::parse(fixture("zonemap.yaml"), "zonemap.yaml");
  map.add_region_label("eu-central-1", "DE");  // a zone without data
  const std::int64_t t = ts("2023-07-15T12:30:00Z");
  ZoneIntensities zi = ZoneIntensities::compute(map, signals, t);
  CHECK(zi.at == t);
  CHECK(zi.kind == IntensityKind::kAverageDirect);
  REQUIRE(zi.g_per_kwh.size() == 5);
  double v = 0;
  REQUIRE(zi.lookup(*map.find_zone("ES"), &v));
  CHECK(v == 39.07);
  REQUIRE(zi.lookup(*map.find_zone("US-CAL-CISO"), &v));
  CHECK(v == 250.74);
  REQUIRE(zi.lookup(*map.find_zone("NO"), &v));
  CHECK(v == 20.25);
  REQUIRE(zi.lookup(*map.find_zone("BR"), &v));
  CHECK(v == 69.7);
  const ZoneIndex de = *map.find_zone("DE");
  CHECK_FALSE(zi.lookup(de, &v));
  CHECK_FALSE(zi.usable[de]);
  CHECK(std::isnan(zi.g_per_kwh[de]));
  CHECK(zi.readings[de].reason == ReadingStatus::kMissingZone);
  CHECK_FALSE(zi.lookup(kUnknownZone, &v));

  // The "expected run time" option: a 24-hour mean per zone.
  ZoneIntensities day =
      ZoneIntensities::compute(map, signals, ts("2023-07-15T00:00:00Z"), {}, 86400);
  REQUIRE(day.lookup(*map.find_zone("US-CAL-CISO"), &v));
  CHECK(v == doctest::Approx(212.115));
  CHECK(day.window_seconds == 86400);

  // Stale everywhere a year later: nothing usable, nothing ranks as 0.
  ZoneIntensities later = ZoneIntensities::compute(map, signals, ts("2024-07-15T00:00:00Z"));
  for (std::size_t z = 0; z < later.usable.size(); ++z) {
    CHECK_FALSE(later.usable[z]);
    CHECK(std::isnan(later.g_per_kwh[z]));
  }
}

TEST_CASE("signals: ZoneIntensities refuses to compare mixed carbon kinds") {
  CarbonSignals signals;
  signals.add(bundled("NO", IntensityScope::kDirect));
  signals.add(bundled("ES", IntensityScope::kLifecycle));
  ZoneMap map;
  map.add_region_label("eu-north-1", "NO");
  map.add_region_label("eu-south-2", "ES");
  const std::int64_t t = ts("2023-07-15T12:30:00Z");
  std::string err = error_of([&] { ZoneIntensities::compute(map, signals, t); });
  CHECK(contains(err, "mix intensity kinds"));
  CHECK(contains(err, "SignalPolicy::kind"));
  SignalPolicy direct;
  direct.kind = IntensityKind::kAverageDirect;
  ZoneIntensities zi = ZoneIntensities::compute(map, signals, t, direct);
  CHECK(zi.usable[*map.find_zone("NO")]);
  CHECK_FALSE(zi.usable[*map.find_zone("ES")]);
  CHECK(zi.readings[*map.find_zone("ES")].reason == ReadingStatus::kWrongKind);
}

TEST_CASE("signals: intensity kinds compose and print") {
  for (IntensityBasis b : {IntensityBasis::kAverage, IntensityBasis::kMarginal})
    for (IntensityScope s : {IntensityScope::kDirect, IntensityScope::kLifecycle}) {
      IntensityKind k = make_intensity_kind(b, s);
      CHECK(basis_of(k) == b);
      CHECK(scope_of(k) == s);
      CHECK(parse_intensity_kind(to_string(k)) == k);
    }
  CHECK(to_string(IntensityKind::kMarginalDirect) == "marginal/direct");
  CHECK_FALSE(parse_intensity_kind("moer").has_value());
  CHECK(to_string(ReadingStatus::kStale) == "stale");
}

TEST_CASE("signals: a batch of carbon series with a mixed kind adds nothing") {
  CarbonSignals signals;
  ZoneSeries a;
  a.zone = std::string(1, 'A');
  a.kind = IntensityKind::kAverageDirect;
  a.points = {{0, 1, false}};
  ZoneSeries b = a;
  b.zone = std::string(1, 'B');  // (GCC 12 -Wrestrict false positive on = "B")
  ZoneSeries a2 = a;
  a2.kind = IntensityKind::kMarginalDirect;
  std::string err = error_of([&] { signals.add(std::vector<ZoneSeries>{a, b, a2}); });
  CHECK(contains(err, "zone \"A\""));
  CHECK(signals.empty());
  signals.add(std::vector<ZoneSeries>{a, b});
  CHECK(signals.size() == 2);
}
