// Kubernetes quantity parsing, following apimachinery's resource.Quantity
// grammar:  <quantity> ::= <signedNumber><suffix>,  <suffix> ::= binarySI
// (Ki..Ei) | decimalSI (n, u, m, "", k, M, G, T, P, E) | decimalExponent (e|E<int>).
#include "carbonkube/quantity.hpp"

#include <fmt/format.h>

#include <limits>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace {

constexpr int kMaxSignificantDigits = 36;
// Anything above this many nano-units (1e30, i.e. 1e21 whole units) is far
// past kMaxQuantityBaseUnits; refusing it early keeps every step in Int128.
constexpr Int128 kMaxNano = static_cast<Int128>(1'000'000'000'000'000LL) * 1'000'000'000'000'000LL;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Int128 pow10(int e) {
  Int128 r = 1;
  for (int i = 0; i < e; ++i) r *= 10;
  return r;
}

}  // namespace

bool try_parse_quantity(std::string_view text, Quantity* out, std::string* error) {
  auto fail = [&](std::string_view why) {
    if (error) *error = fmt::format("invalid quantity \"{}\": {}", text, why);
    return false;
  };
  if (text.empty()) return fail("empty");
  std::size_t pos = 0;
  bool negative = false;
  if (text[pos] == '+' || text[pos] == '-') {
    negative = text[pos] == '-';
    ++pos;
  }
  Int128 mantissa = 0;
  int significant = 0;
  int exponent10 = 0;  // value = mantissa * 10^exponent10
  int digits = 0;
  for (; pos < text.size() && is_digit(text[pos]); ++pos) {
    ++digits;
    if (mantissa == 0 && text[pos] == '0') continue;
    if (++significant > kMaxSignificantDigits) return fail("too many digits");
    mantissa = mantissa * 10 + (text[pos] - '0');
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    for (; pos < text.size() && is_digit(text[pos]); ++pos) {
      ++digits;
      --exponent10;
      if (mantissa == 0 && text[pos] == '0') continue;
      if (++significant > kMaxSignificantDigits) return fail("too many digits");
      mantissa = mantissa * 10 + (text[pos] - '0');
    }
  }
  if (digits == 0) return fail("no digits");

  std::string_view suffix = text.substr(pos);
  int binary_shift = 0;  // multiply by 2^binary_shift
  if (suffix.empty()) {
  } else if (suffix == "n") {
    exponent10 -= 9;
  } else if (suffix == "u") {
    exponent10 -= 6;
  } else if (suffix == "m") {
    exponent10 -= 3;
  } else if (suffix == "k") {
    exponent10 += 3;
  } else if (suffix == "M") {
    exponent10 += 6;
  } else if (suffix == "G") {
    exponent10 += 9;
  } else if (suffix == "T") {
    exponent10 += 12;
  } else if (suffix == "P") {
    exponent10 += 15;
  } else if (suffix == "E") {
    exponent10 += 18;
  } else if (suffix.size() == 2 && suffix[1] == 'i') {
    switch (suffix[0]) {
      case 'K':
        binary_shift = 10;
        break;
      case 'M':
        binary_shift = 20;
        break;
      case 'G':
        binary_shift = 30;
        break;
      case 'T':
        binary_shift = 40;
        break;
      case 'P':
        binary_shift = 50;
        break;
      case 'E':
        binary_shift = 60;
        break;
      default:
        return fail(fmt::format("unknown suffix \"{}\"", suffix));
    }
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::size_t p = 1;
    bool exp_negative = false;
    if (p < suffix.size() && (suffix[p] == '+' || suffix[p] == '-')) {
      exp_negative = suffix[p] == '-';
      ++p;
    }
    if (p == suffix.size()) return fail("exponent has no digits");
    int e = 0;
    for (; p < suffix.size(); ++p) {
      if (!is_digit(suffix[p])) return fail(fmt::format("unknown suffix \"{}\"", suffix));
      e = e * 10 + (suffix[p] - '0');
      if (e > 100) return fail("exponent out of range");
    }
    exponent10 += exp_negative ? -e : e;
  } else {
    return fail(fmt::format("unknown suffix \"{}\"", suffix));
  }

  // nano = mantissa * 10^(exponent10 + 9) * 2^binary_shift, rounded up at nano.
  Int128 nano = mantissa;
  int scale = exponent10 + 9;
  if (mantissa != 0) {
    if (scale > 0) {
      for (int i = 0; i < scale; ++i) {
        if (nano > kMaxNano / 10) return fail("too large");
        nano *= 10;
      }
    }
    for (int i = 0; i < binary_shift; ++i) {
      if (nano > kMaxNano / 2) return fail("too large");
      nano *= 2;
    }
    if (scale < 0) {
      // Sub-nano precision is rounded up, as apimachinery does.
      if (-scale > 38) {
        nano = 1;
      } else {
        Int128 divisor = pow10(-scale);
        nano = nano / divisor + (nano % divisor != 0 ? 1 : 0);
      }
    }
  }
  // Whatever the spelling: "1e21" and "1000000000000000000000.000000001" alike
  // (a value with nine or more decimals never went through the checks above).
  if (nano > kMaxNano) return fail("too large");
  out->nano = negative ? -nano : nano;
  return true;
}

Quantity parse_quantity(std::string_view text) {
  Quantity q;
  std::string error;
  if (!try_parse_quantity(text, &q, &error)) throw InvalidInput(error);
  return q;
}

namespace {
std::int64_t ceil_div_clamped(Int128 nano, Int128 divisor) {
  Int128 v = nano / divisor;
  if (nano % divisor != 0 && nano > 0) v += 1;
  if (v > std::numeric_limits<std::int64_t>::max()) return std::numeric_limits<std::int64_t>::max();
  if (v < std::numeric_limits<std::int64_t>::min()) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(v);
}
}  // namespace

std::int64_t Quantity::milli_value() const { return ceil_div_clamped(nano, 1'000'000); }
std::int64_t Quantity::value() const { return ceil_div_clamped(nano, 1'000'000'000); }

std::string format_quantity(Quantity q) {
  Int128 v = q.nano < 0 ? -q.nano : q.nano;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  while (digits.size() < 10) digits.insert(digits.begin(), '0');
  std::string whole = digits.substr(0, digits.size() - 9);
  std::string frac = digits.substr(digits.size() - 9);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string s = q.nano < 0 ? "-" : "";
  s += whole;
  if (!frac.empty()) s += "." + frac;
  return s;
}

CARBONKUBE_NAMESPACE_END
