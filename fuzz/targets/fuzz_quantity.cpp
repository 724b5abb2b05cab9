// Fuzz target: Kubernetes quantities (parse_quantity, try_parse_quantity,
// format_quantity). Oracles: the throwing and non-throwing forms agree; a
// parsed value survives format -> parse unchanged; milli_value() and value()
// are the rounded-up divisions they claim to be.
#include <cstddef>
#include <cstdint>
#include <string>

#include "carbonkube/quantity.hpp"
#include "fuzz_common.hpp"

using namespace carbonkube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ck_fuzz::as_text(data, size);
  Quantity q;
  std::string error;
  const bool ok = try_parse_quantity(text, &q, &error);
  Quantity thrown;
  const bool ok2 =
      ck_fuzz::expect_ok_or_error([&] { thrown = parse_quantity(text); }, "invalid quantity");
  ck_fuzz::check(ok == ok2, "try_parse_quantity and parse_quantity disagree");
  if (!ok) {
    ck_fuzz::check(!error.empty(), "try_parse_quantity failed without a message");
    return 0;
  }
  ck_fuzz::check(q == thrown, "try_parse_quantity and parse_quantity give different values");

  const std::string canonical = format_quantity(q);
  Quantity again;
  ck_fuzz::check(try_parse_quantity(canonical, &again, &error), "format_quantity is not parseable");
  ck_fuzz::check(again == q, "format_quantity -> parse_quantity changed the value");

  // Rounded up toward +inf, clamped to int64 (resource.Quantity.MilliValue / Value).
  const Int128 milli = q.nano / 1'000'000 + ((q.nano % 1'000'000 != 0 && q.nano > 0) ? 1 : 0);
  const Int128 whole =
      q.nano / 1'000'000'000 + ((q.nano % 1'000'000'000 != 0 && q.nano > 0) ? 1 : 0);
  const Int128 lo = INT64_MIN, hi = INT64_MAX;
  ck_fuzz::check(q.milli_value() == static_cast<std::int64_t>(milli < lo   ? lo
                                                              : milli > hi ? hi
                                                                           : milli),
                 "milli_value is not the clamped ceiling");
  ck_fuzz::check(q.value() == static_cast<std::int64_t>(whole < lo   ? lo
                                                        : whole > hi ? hi
                                                                     : whole),
                 "value is not the clamped ceiling");
  return 0;
}
