// Kubernetes quantity parsing: every suffix, exponents, rounding, errors.
#include <doctest/doctest.h>

#include "carbonkube/error.hpp"
#include "carbonkube/quantity.hpp"

using namespace carbonkube;

namespace {
std::int64_t milli(const char* s) { return parse_quantity(s).milli_value(); }
std::int64_t units(const char* s) { return parse_quantity(s).value(); }
}  // namespace

TEST_CASE("decimal SI suffixes") {
  CHECK(milli("100m") == 100);
  CHECK(milli("1") == 1000);
  CHECK(milli("2.5") == 2500);
  CHECK(units("1k") == 1000);
  CHECK(units("1M") == 1000000);
  CHECK(units("1G") == 1000000000);
  CHECK(units("1T") == 1000000000000);
  CHECK(units("1P") == 1000000000000000);
  CHECK(units("2E") == units("2e18"));
  CHECK(milli("0.5m") == 1);
  CHECK(milli("250u") == 1);
  CHECK(parse_quantity("250u").nano == 250000);
  CHECK(parse_quantity("7n").nano == 7);  // sub-milli rounds up, as MilliValue does
}

TEST_CASE("binary SI suffixes") {
  CHECK(units("1Ki") == 1024);
  CHECK(units("1Mi") == 1048576);
  CHECK(units("1.5Gi") == 1610612736);
  CHECK(units("1Ti") == 1099511627776);
  CHECK(units("1Pi") == 1125899906842624);
  CHECK(units("0.5Ki") == 512);
  CHECK(units("0.001Ki") == 2);  // 1.024 bytes rounds up to 2
}

TEST_CASE("decimal exponents") {
  CHECK(units("1e3") == 1000);
  CHECK(units("1E3") == 1000);
  CHECK(milli("1e-3") == 1);
  CHECK(units("12e+2") == 1200);
  CHECK(units("1.5e1") == 15);
}

TEST_CASE("signs, dots and zero") {
  CHECK(units("+5") == 5);
  CHECK(parse_quantity("-5").is_negative());
  CHECK(milli(".5") == 500);
  CHECK(milli("5.") == 5000);
  CHECK(parse_quantity("0").is_zero());
  CHECK(parse_quantity("0Gi").is_zero());
  CHECK(parse_quantity("1n").nano == 1);
  CHECK(parse_quantity("1e-12").nano == 1);  // below nano rounds up to 1n
}

TEST_CASE("exact sums before rounding") {
  // Two containers of 0.5m sum to exactly 1m, which apimachinery reports as 1.
  Quantity a = parse_quantity("0.5m");
  CHECK((a + a).milli_value() == 1);
  CHECK(a.milli_value() + a.milli_value() == 2);
}

TEST_CASE("garbage is rejected with the text and the reason") {
  for (const char* bad : {"", "abc", "1.2.3", "1Gb", "1 Gi", "Gi", "--1", "1e", "1e+", "1ee3",
                          "1Ki3", "1.5.Mi", ".", "+", "1m2", " 1"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_quantity(bad), InvalidInput);
  }
  try {
    parse_quantity("12Gb");
    FAIL("expected a throw");
  } catch (const InvalidInput& e) {
    CHECK(std::string(e.what()).find("\"12Gb\"") != std::string::npos);
    CHECK(std::string(e.what()).find("unknown suffix") != std::string::npos);
  }
}

TEST_CASE("overflow is rejected, not wrapped") {
  CHECK_THROWS_AS(parse_quantity("1e40"), InvalidInput);
  CHECK_THROWS_AS(parse_quantity("99999999999999999999999Ei"), InvalidInput);
  CHECK_THROWS_AS(parse_quantity("1234567890123456789012345678901234567"), InvalidInput);
  CHECK_THROWS_AS(parse_quantity("1e999"), InvalidInput);
  // Large but representable values stay exact.
  CHECK(units("4Ei") == std::int64_t{4} << 60);
}

TEST_CASE("format round trip") {
  CHECK(format_quantity(parse_quantity("1.5")) == "1.5");
  CHECK(format_quantity(parse_quantity("100m")) == "0.1");
  CHECK(format_quantity(parse_quantity("1Ki")) == "1024");
  CHECK(format_quantity(parse_quantity("-2")) == "-2");
}
