// fuzz/targets/fuzz_common.hpp: the oracle every fuzz target shares. A
// parser may reject any input, but only by throwing carbonkube::Error (with
// a message that names the input, never empty); anything else escaping it
// (std::out_of_range, nlohmann::json::type_error, a YAML::Exception, ...) or
// a sanitizer report is a bug, and libFuzzer saves the input that caused it.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "carbonkube/error.hpp"

namespace ck_fuzz {

/// The name given to parsers as `source`: every error message must contain it.
inline constexpr std::string_view kSource = "fuzz-input";

[[noreturn]] inline void bug(const char* what, const char* detail) {
  std::fprintf(stderr, "FUZZ ORACLE: %s: %s\n", what, detail);
  std::abort();
}

inline void check(bool ok, const char* what) {
  if (!ok) bug("invariant violated", what);
}

/// Runs `body`; returns true when it completed, false when it threw a
/// carbonkube::Error whose message names the input (`needle`, empty: any
/// non-empty message). Every other exception aborts.
template <typename Body>
bool expect_ok_or_error(Body&& body, std::string_view needle = kSource) {
  try {
    body();
    return true;
  } catch (const carbonkube::Error& e) {
    std::string_view msg = e.what();
    if (msg.empty()) bug("carbonkube::Error with an empty message", "");
    if (!needle.empty() && msg.find(needle) == std::string_view::npos)
      bug("error message does not name the input", e.what());
    return false;
  } catch (const std::exception& e) {
    bug("a parser let a non-carbonkube exception escape", e.what());
  } catch (...) {
    bug("a parser threw something that is not an exception", "");
  }
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ck_fuzz
