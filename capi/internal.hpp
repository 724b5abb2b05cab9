// capi/internal.hpp: what every translation unit of the C ABI shares (not
// installed, not part of the ABI): the thread's last error, the mapping of
// C++ exceptions to ck_status (guard), argument checks, and the structs
// behind handles that more than one file reads. Each capi/*.cpp implements
// one part of carbonkube.h on top of it.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube.h"
#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/ledger.hpp"
#include "carbonkube/migration.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/version.hpp"

struct ck_signals {
  // Copy-on-write: loading replaces the pointer, so snapshots published
  // earlier keep reading the series they were built with.
  std::shared_ptr<const carbonkube::CarbonSignals> current =
      std::make_shared<carbonkube::CarbonSignals>();
  carbonkube::ParseLimits limits;  // ck_signals_set_limits
};

struct ck_ledger {
  carbonkube::Ledger ledger;
  carbonkube::AccountingOptions accounting;
  double warn_fraction = 0.8;
  // CarbonProfiles set with ck_ledger_set_profile (budget thresholds), by namespace.
  std::vector<carbonkube::CarbonProfile> profiles;
  std::string skipped;  // the last ck_ledger_account's skipped pods
};

struct ck_migration_advisor {
  carbonkube::MigrationAdvisor advisor;
  // The last round, for ck_migration_detail and ck_metrics_count_migrations.
  std::vector<carbonkube::MigrationRecommendation> last_round;
};

namespace carbonkube::capi {

namespace ck = carbonkube;

// ---------------------------------------------------------------------------
// Errors

inline thread_local std::string t_last_error;

// A C-ABI failure with its status (argument checks, buffers, mismatches).
struct Failure {
  ck_status status;
  std::string message;
};

[[noreturn]] inline void fail(ck_status status, std::string message) {
  throw Failure{status, std::move(message)};
}

inline ck_status status_of(ck::ErrorKind kind) {
  switch (kind) {
    case ck::ErrorKind::kInvalidInput:
      return CK_ERROR_INVALID_INPUT;
    case ck::ErrorKind::kLimitExceeded:
      return CK_ERROR_LIMIT_EXCEEDED;
    case ck::ErrorKind::kNotFound:
      return CK_ERROR_NOT_FOUND;
    case ck::ErrorKind::kIo:
      return CK_ERROR_INVALID_INPUT;
  }
  return CK_ERROR_INTERNAL;
}

// Runs `body` and maps whatever it throws to a status; sets the thread's
// last error either way ("" on success).
template <typename Body>
ck_status guard(const char* function, Body&& body) noexcept {
  try {
    body();
    t_last_error.clear();
    return CK_OK;
  } catch (const Failure& f) {
    try {
      t_last_error = fmt::format("{}: {}", function, f.message);
    } catch (...) {
      t_last_error.clear();
    }
    return f.status;
  } catch (const ck::Error& e) {
    try {
      t_last_error = fmt::format("{}: {}", function, e.what());
    } catch (...) {
      t_last_error.clear();
    }
    return status_of(e.kind());
  } catch (const YAML::Exception& e) {
    try {
      t_last_error = fmt::format("{}: YAML: {}", function, e.what());
    } catch (...) {
      t_last_error.clear();
    }
    return CK_ERROR_INVALID_INPUT;
  } catch (const std::bad_alloc&) {
    t_last_error.clear();  // no memory to format a message with
    return CK_ERROR_OUT_OF_MEMORY;
  } catch (const std::exception& e) {
    try {
      t_last_error = fmt::format("{}: internal error: {}", function, e.what());
    } catch (...) {
      t_last_error.clear();
    }
    return CK_ERROR_INTERNAL;
  } catch (...) {
    t_last_error.clear();
    return CK_ERROR_INTERNAL;
  }
}

template <typename T>
void require(const T* p, const char* what) {
  if (p == nullptr) fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("{} is NULL", what));
}

// (pointer, length) text; NULL only with length 0.
inline std::string_view text_arg(const char* p, std::size_t len, const char* what) {
  if (p == nullptr && len != 0)
    fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("{} is NULL but its length is {}", what, len));
  return p ? std::string_view(p, len) : std::string_view();
}

// An options struct: NULL for defaults, else struct_size must cover at least
// the first version's fields and at most this version's (a newer caller's
// struct is accepted when its extra fields are zero: it asks for nothing we
// do not know).
template <typename T>
T options_arg(const T* options, const T& defaults, std::size_t first_version_size,
              const char* what) {
  if (options == nullptr) return defaults;
  if (options->struct_size < first_version_size)
    fail(CK_ERROR_INVALID_ARGUMENT,
         fmt::format("{}.struct_size is {}, smaller than any version of the struct ({}); "
                     "initialise it with its _INIT macro",
                     what, options->struct_size, first_version_size));
  T out = defaults;
  std::memcpy(&out, options, std::min(options->struct_size, sizeof(T)));
  if (options->struct_size > sizeof(T)) {
    const auto* extra = reinterpret_cast<const unsigned char*>(options) + sizeof(T);
    for (std::size_t i = 0; i < options->struct_size - sizeof(T); ++i)
      if (extra[i] != 0)
        fail(CK_ERROR_INVALID_ARGUMENT,
             fmt::format("{} sets fields this library version ({}) does not know", what,
                         ck::version_string()));
  }
  out.struct_size = sizeof(T);
  return out;
}

inline void check_capacity(std::size_t have, std::size_t need, const char* what) {
  if (have < need)
    fail(CK_ERROR_BUFFER_TOO_SMALL,
         fmt::format("{} holds {} values; {} are needed", what, have, need));
}

// The two-call string protocol: *out_len gets the length without the NUL;
// a buffer too small (or NULL with length 0) gets nothing and
// CK_ERROR_BUFFER_TOO_SMALL.
inline void copy_out_string(std::size_t* out_len, char* buffer, std::size_t buffer_len,
                            const std::string& s) {
  require(out_len, "out_len");
  if (buffer == nullptr && buffer_len != 0)
    fail(CK_ERROR_INVALID_ARGUMENT, "buffer is NULL but buffer_len is not 0");
  *out_len = s.size();
  if (buffer_len < s.size() + 1)
    fail(CK_ERROR_BUFFER_TOO_SMALL,
         fmt::format("the buffer holds {} bytes; {} are needed (with the NUL)", buffer_len,
                     s.size() + 1));
  std::memcpy(buffer, s.c_str(), s.size() + 1);
}

// The integer a C caller passed for an enum parameter. A C caller may pass
// any int; reading it through the C++ enum type would be undefined for
// values outside the enum's range (UBSan flags it), so the bytes are copied.
template <typename Enum>
std::int32_t enum_arg(const Enum& value) {
  static_assert(sizeof(Enum) == sizeof(std::int32_t), "C enums are int-sized here");
  std::int32_t v = 0;
  std::memcpy(&v, &value, sizeof v);
  return v;
}

// A required C string argument.
inline std::string_view cstr_arg(const char* p, const char* what) {
  require(p, what);
  return std::string_view(p);
}

// ck_limits as ParseLimits: NULL or a 0 field keeps the default.
inline ck::ParseLimits limits_arg(const ck_limits* limits) {
  static const ck_limits kDefaults = CK_LIMITS_INIT;
  const ck_limits l = options_arg(limits, kDefaults, sizeof(ck_limits), "ck_limits");
  ck::ParseLimits out;
  if (l.max_bytes != 0) out.max_bytes = l.max_bytes;
  if (l.max_objects != 0) out.max_objects = l.max_objects;
  if (l.max_depth != 0) out.max_depth = l.max_depth;
  return out;
}

inline void limits_out(ck_limits* out, const ck::ParseLimits& limits) {
  if (out) *out = {sizeof(ck_limits), limits.max_bytes, limits.max_objects, limits.max_depth};
}

// What the other parts read from the handles of carbonkube_capi.cpp (defined there).
const ck::ClusterConditions* snapshot_conditions(const ck_snapshot* snapshot);  // may be null
const ck::ZoneMap* snapshot_zones(const ck_snapshot* snapshot);                 // may be null
const ck::QosProfileSet& snapshot_qos(const ck_snapshot* snapshot);
const ck::ZoneMap* engine_zones(const ck_engine* engine);  // may be null
const ck::Pod& pod_object(const ck_pod* pod);
ck::ParseLimits cluster_limits(const ck_cluster* cluster);  // the defaults for NULL
// Defined in carbonkube_capi_ledger.cpp: the ledger's budget states into a
// snapshot's conditions (ck_snapshot_options::ledger).
void apply_ledger_budgets(ck::ClusterConditions& conditions, const ck_ledger& ledger);

}  // namespace carbonkube::capi
