// carbonkube/quantity.hpp: exact parsing of Kubernetes resource quantities
// ("100m", "1.5Gi", "1e3", "2k", "250u") as apimachinery's resource.Quantity does.
// Values are held as signed 128-bit counts of nano-units so that sums of
// container requests are exact before kube-scheduler's rounding to milli-units
// (CPU) or whole units (memory, storage, extended resources) is applied.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

// __extension__ keeps -Wpedantic quiet about the GNU 128-bit integer.
__extension__ typedef __int128 Int128;

/// The largest value, in base units (millicores for CPU, bytes or counts for
/// everything else), that a quantity may convert to. 2^53 keeps every value
/// exact in a double and leaves headroom for summing usage across pods.
inline constexpr std::int64_t kMaxQuantityBaseUnits = std::int64_t{1} << 53;

struct Quantity {
  Int128 nano = 0;  // value * 1e9, rounded up as apimachinery rounds sub-nano precision

  /// The value in milli-units, rounded up (resource.Quantity.MilliValue).
  std::int64_t milli_value() const;
  /// The value in whole units, rounded up (resource.Quantity.Value).
  std::int64_t value() const;
  bool is_negative() const { return nano < 0; }
  bool is_zero() const { return nano == 0; }

  friend Quantity operator+(Quantity a, Quantity b) { return Quantity{a.nano + b.nano}; }
  friend bool operator==(Quantity a, Quantity b) { return a.nano == b.nano; }
  friend bool operator<(Quantity a, Quantity b) { return a.nano < b.nano; }
};

/// Parses a Kubernetes quantity. Throws InvalidInput naming `text` and what is
/// wrong (empty, bad number, unknown suffix, too many digits, overflow).
Quantity parse_quantity(std::string_view text);

/// Non-throwing form for hot loaders: returns false and sets *error.
bool try_parse_quantity(std::string_view text, Quantity* out, std::string* error);

/// Formats nano-units back as a canonical decimal string (for messages).
std::string format_quantity(Quantity q);

CARBONKUBE_NAMESPACE_END
