#include "carbonkube/version.hpp"

#define CK_STR2(x) #x
#define CK_STR(x) CK_STR2(x)

CARBONKUBE_NAMESPACE_BEGIN
int version_number() noexcept { return CARBONKUBE_VERSION_NUMBER; }
const char* version_string() noexcept {
  return CK_STR(CARBONKUBE_VERSION_MAJOR) "." CK_STR(CARBONKUBE_VERSION_MINOR) "." CK_STR(
      CARBONKUBE_VERSION_PATCH);
}
CARBONKUBE_NAMESPACE_END
