// carbonkube/version.hpp: the library's version and the versioned inline
// namespace every public symbol lives in. Two builds with different ABI
// versions then fail at link time instead of misbehaving at run time.
#pragma once

#define CARBONKUBE_VERSION_MAJOR 0
#define CARBONKUBE_VERSION_MINOR 1
#define CARBONKUBE_VERSION_PATCH 0
#define CARBONKUBE_VERSION_NUMBER \
  (CARBONKUBE_VERSION_MAJOR * 10000 + CARBONKUBE_VERSION_MINOR * 100 + CARBONKUBE_VERSION_PATCH)

// Bumped whenever the layout of a public type changes.
#define CARBONKUBE_ABI_NAMESPACE abi_v0

#define CARBONKUBE_NAMESPACE_BEGIN \
  namespace carbonkube {           \
  inline namespace CARBONKUBE_ABI_NAMESPACE {
#define CARBONKUBE_NAMESPACE_END \
  }                              \
  }

CARBONKUBE_NAMESPACE_BEGIN
/// Version of the library that was linked (compare with CARBONKUBE_VERSION_NUMBER).
int version_number() noexcept;
const char* version_string() noexcept;
CARBONKUBE_NAMESPACE_END
