// The one carbon-signal format detection every front end shares
// (detect_signal_format): each bundled real file is recognised as the format
// its loader reads, and loads through load_signals; unknown text is refused.
#include <doctest/doctest.h>

#include <string>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/signals.hpp"

using namespace carbonkube;

namespace {

std::string fixture(const std::string& name) {
  return read_file(std::string(CARBONKUBE_SOURCE_DIR) + "/tests/fixtures/signals/" + name);
}

}  // namespace

TEST_CASE("detect_signal_format: every real sample is its loader's format and loads") {
  struct Sample {
    const char* file;
    SignalFormat format;
  };
  const Sample samples[] = {
      {"electricitymaps_portal_sample.csv", SignalFormat::kElectricityMapsCsv},
      {"electricitymaps_latest.json", SignalFormat::kElectricityMapsJson},
      {"electricitymaps_history.json", SignalFormat::kElectricityMapsJson},
      {"electricitymaps_forecast.json", SignalFormat::kElectricityMapsJson},
      {"watttime_forecast.json", SignalFormat::kWattTimeJson},
      {"watttime_historical.json", SignalFormat::kWattTimeJson},
      {"uk_national.json", SignalFormat::kUkCarbonIntensityJson},
      {"uk_regional.json", SignalFormat::kUkCarbonIntensityJson},
      {"uk_regional_all.json", SignalFormat::kUkCarbonIntensityJson},
      {"carbonaware_bylocation.json", SignalFormat::kCarbonAwareSdkJson},
      {"carbonaware_forecast.json", SignalFormat::kCarbonAwareSdkJson},
  };
  for (const Sample& s : samples) {
    CAPTURE(std::string(s.file));
    const std::string text = fixture(s.file);
    const auto detected = detect_signal_format(text, s.file);
    REQUIRE(detected.has_value());
    CHECK(*detected == s.format);
    const SignalLoad load = load_signals(text, s.file, *detected);
    CHECK_FALSE(load.series.empty());
  }
}

TEST_CASE("detect_signal_format: the portal CSV by content when the name says nothing") {
  const std::string csv = fixture("electricitymaps_portal_sample.csv");
  CHECK(detect_signal_format(csv, "") == SignalFormat::kElectricityMapsCsv);
  REQUIRE(csv.starts_with("\xEF\xBB\xBF\"Datetime (UTC)\""));  // as the portal writes it
  CHECK(detect_signal_format(csv.substr(3), "body") == SignalFormat::kElectricityMapsCsv);
  CHECK(detect_signal_format("Datetime (UTC),Zone Id\n", "x.txt") ==
        SignalFormat::kElectricityMapsCsv);
}

TEST_CASE("detect_signal_format: text with none of the formats' keys is not guessed") {
  CHECK_FALSE(detect_signal_format("", "").has_value());
  CHECK_FALSE(detect_signal_format("{\"data\": []}", "x.json").has_value());
  CHECK_FALSE(detect_signal_format("kind: Node\n", "nodes.yaml").has_value());
  // a key's name without its quotes is not the key
  CHECK_FALSE(detect_signal_format("{\"note\": \"point_time intensity\"}", "n.json").has_value());
}

TEST_CASE("signal format names round-trip and match the C ABI's numbering") {
  for (int v = 0; v <= 4; ++v) {
    const auto f = static_cast<SignalFormat>(v);
    const std::string_view name = signal_format_name(f);
    CAPTURE(name);
    CHECK(parse_signal_format(name) == f);
  }
  CHECK(signal_format_name(SignalFormat::kWattTimeJson) == "watttime");
  CHECK(signal_format_name(SignalFormat::kCarbonAwareSdkJson) == "carbon-aware-sdk");
  CHECK_FALSE(parse_signal_format("auto").has_value());
  CHECK_FALSE(parse_signal_format("WattTime").has_value());
}

TEST_CASE("load_signals passes the scope to the CSV and the limits to every loader") {
  const std::string csv = fixture("electricitymaps_portal_sample.csv");
  const SignalLoad direct =
      load_signals(csv, "em.csv", SignalFormat::kElectricityMapsCsv, IntensityScope::kDirect);
  REQUIRE_FALSE(direct.series.empty());
  CHECK(direct.series[0].kind == IntensityKind::kAverageDirect);
  SignalLoadOptions tiny;
  tiny.limits.max_bytes = 10;
  for (int v = 0; v <= 4; ++v) {
    CAPTURE(v);
    CHECK_THROWS_WITH_AS(
        load_signals(csv, "s", static_cast<SignalFormat>(v), IntensityScope::kLifecycle, tiny),
        doctest::Contains("over the limit of 10 bytes (max_bytes)"), Error);
  }
}
