// Fuzz target: every carbon-signal loader (Electricity Maps portal CSV, both
// scopes, and API JSON; WattTime v3; UK Carbon Intensity; Carbon Aware SDK).
// The first byte picks the loader (6 and 7: detect_signal_format, then
// load_signals, as the CLI's and Python's "auto" do), strict or lenient, and
// an expected kind; the rest is the text. The series then go through CarbonSignals::add and
// evaluate / evaluate_window at and around their points.
// Oracles: series sorted with unique timestamps; strict loads hold only
// finite values >= 0; adding the same load twice changes nothing; a usable
// reading is finite and within the policy, an unusable one is NaN.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "carbonkube/signals.hpp"
#include "fuzz_common.hpp"

using namespace carbonkube;

namespace {

void check_series(const ZoneSeries& s, bool lenient) {
  ck_fuzz::check(s.period_seconds > 0, "period <= 0");
  ck_fuzz::check(s.forecast_period_seconds > 0, "forecast period <= 0");
  for (const auto* points : {&s.points, &s.forecast}) {
    for (std::size_t i = 0; i < points->size(); ++i) {
      const SignalPoint& p = (*points)[i];
      if (i > 0)
        ck_fuzz::check((*points)[i - 1].unix_seconds < p.unix_seconds, "unsorted or duplicate");
      if (!lenient)
        ck_fuzz::check(std::isfinite(p.g_per_kwh) && p.g_per_kwh >= 0,
                       "strict load kept a bad value");
    }
  }
}

void check_reading(const ZoneReading& r, const SignalPolicy& policy) {
  if (r.usable) {
    ck_fuzz::check(std::isfinite(r.g_per_kwh), "usable reading not finite");
    ck_fuzz::check(r.g_per_kwh >= policy.min_g_per_kwh && r.g_per_kwh <= policy.max_g_per_kwh,
                   "usable reading outside the policy");
    ck_fuzz::check(r.reason == ReadingStatus::kOk, "usable reading with a reason");
  } else {
    ck_fuzz::check(std::isnan(r.g_per_kwh), "unusable reading is not NaN");
    ck_fuzz::check(!r.reason_text.empty(), "unusable reading without a reason text");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t sel = data[0];
  const std::string_view text = ck_fuzz::as_text(data + 1, size - 1);
  SignalLoadOptions options;
  options.lenient = (sel & 0x08) != 0;
  if ((sel & 0x40) != 0) options.kind = static_cast<IntensityKind>((sel >> 4) & 0x3);
  options.limits.max_objects = 100'000;

  SignalLoad load;
  const bool ok = ck_fuzz::expect_ok_or_error([&] {
    switch (sel & 0x07) {
      case 0:
        load = load_electricitymaps_csv(text, ck_fuzz::kSource, IntensityScope::kDirect, options);
        break;
      case 1:
        load =
            load_electricitymaps_csv(text, ck_fuzz::kSource, IntensityScope::kLifecycle, options);
        break;
      case 2:
        load = load_electricitymaps_json(text, ck_fuzz::kSource, options);
        break;
      case 3:
        load = load_watttime_json(text, ck_fuzz::kSource, options);
        break;
      case 4:
        load = load_uk_carbon_intensity_json(text, ck_fuzz::kSource, options);
        break;
      case 5:
        load = load_carbon_aware_sdk_json(text, ck_fuzz::kSource, options);
        break;
      default: {
        // What every front end does with format "auto": detect, then load.
        const std::optional<SignalFormat> format = detect_signal_format(text, "");
        if (!format) return;
        load = load_signals(
            text, ck_fuzz::kSource, *format,
            (sel & 0x07) == 6 ? IntensityScope::kDirect : IntensityScope::kLifecycle, options);
        break;
      }
    }
  });
  if (!ok) return 0;
  ck_fuzz::check(load.warnings.size() <= load.skipped || load.warnings.size() <= 101,
                 "more warnings than skipped points");
  for (const ZoneSeries& s : load.series) check_series(s, options.lenient);

  CarbonSignals signals;
  if (!ck_fuzz::expect_ok_or_error([&] { signals.add(load.series); }, "")) return 0;
  CarbonSignals twice = signals;
  ck_fuzz::expect_ok_or_error([&] { twice.add(load.series); }, "");
  ck_fuzz::check(twice.size() == signals.size(), "re-adding a load changed the zone count");
  for (const auto& [zone, s] : signals.all()) {
    check_series(s, options.lenient);
    const ZoneSeries* again = twice.find(zone);
    ck_fuzz::check(again && again->points == s.points, "re-adding a load changed the points");
  }

  SignalPolicy policy;
  std::size_t evaluations = 0;
  for (const auto& [zone, s] : signals.all()) {
    for (const auto* points : {&s.points, &s.forecast}) {
      for (const SignalPoint& p : *points) {
        if (++evaluations > 64) return 0;
        for (std::int64_t dt :
             {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1799}, std::int64_t{7201}}) {
          // Saturating: fuzzed timestamps reach the ends of int64.
          std::int64_t t = 0;
          if (__builtin_add_overflow(p.unix_seconds, dt, &t)) continue;
          check_reading(evaluate(signals, zone, t, policy), policy);
          check_reading(evaluate_window(signals, zone, t, 3 * 3600, policy), policy);
        }
      }
    }
  }
  return 0;
}
