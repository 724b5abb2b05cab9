// Fuzz target: the small text parsers the loaders and profiles share:
// RFC 3339 timestamps (parse_timestamp, both forms), Go durations
// (parse_go_duration), intensity kinds, Katalyst QoS levels and Koordinator
// QoS classes. Oracles: throwing and non-throwing timestamp forms agree; a
// parsed time survives format -> parse; durations are finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "fuzz_common.hpp"

using namespace carbonkube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool assume_utc = (data[0] & 1) != 0;
  const std::string_view text = ck_fuzz::as_text(data + 1, size - 1);

  std::int64_t t = 0;
  std::string error;
  const bool ok = try_parse_timestamp(text, &t, &error, assume_utc);
  std::int64_t thrown = 0;
  const bool ok2 = ck_fuzz::expect_ok_or_error(
      [&] { thrown = parse_timestamp(text, assume_utc, ck_fuzz::kSource); });
  ck_fuzz::check(ok == ok2, "try_parse_timestamp and parse_timestamp disagree");
  // Year 0000 with a positive offset is a time before year 0, which
  // format_timestamp writes as a negative year no parser reads back
  // (docs/reliability.md); the round trip is checked from year 0 on.
  constexpr std::int64_t kYear0 = -62167219200;  // 0000-01-01T00:00:00Z
  if (ok) {
    ck_fuzz::check(t == thrown, "the two timestamp forms give different times");
  }
  if (ok && t >= kYear0) {
    const std::string formatted = format_timestamp(t);
    std::int64_t again = 0;
    ck_fuzz::check(try_parse_timestamp(formatted, &again, &error), "format_timestamp unparseable");
    ck_fuzz::check(again == t, "format_timestamp -> parse_timestamp changed the time");
  } else if (!ok) {
    ck_fuzz::check(!error.empty(), "try_parse_timestamp failed without a message");
  }

  double seconds = 0;
  if (ck_fuzz::expect_ok_or_error([&] { seconds = parse_go_duration(text); }, ""))
    ck_fuzz::check(std::isfinite(seconds), "parse_go_duration returned a non-finite value");

  if (auto kind = parse_intensity_kind(text))
    ck_fuzz::check(to_string(*kind) == text, "parse_intensity_kind accepted another spelling");
  if (auto level = parse_katalyst_qos_level(text))
    ck_fuzz::check(to_string(*level) == text, "parse_katalyst_qos_level accepted another spelling");
  if (auto cls = parse_koordinator_qos_class(text))
    ck_fuzz::check(to_string(*cls) == text,
                   "parse_koordinator_qos_class accepted another spelling");
  return 0;
}
