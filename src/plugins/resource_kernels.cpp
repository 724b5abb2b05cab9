#include "resource_kernels.hpp"

#include <cmath>

CARBONKUBE_NAMESPACE_BEGIN
namespace detail::kernels {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CK_KERNEL __attribute__((target_clones("avx2", "default")))
#else
#define CK_KERNEL
#endif

namespace {
// floor(x / c) for 0 <= x < 2^53, given inv ~ 1 / c: the truncated product is
// within one of the quotient; the exact products correct it.
inline double exact_quotient(double x, double c, double inv) {
  double q = std::trunc(x * inv);
  q -= (q * c > x) ? 1.0 : 0.0;
  q += ((q + 1.0) * c <= x) ? 1.0 : 0.0;
  return q;
}
}  // namespace

CK_KERNEL void least_allocated(const double* cap, const double* inv, const double* used, double pod,
                               double w, std::size_t m, double* acc, double* wsum) {
  for (std::size_t j = 0; j < m; ++j) {
    const double c = cap[j];
    const double r = used[j] + pod;
    const double q = exact_quotient((c - r) * 100.0, c, inv[j]);
    const double s = r > c ? 0.0 : q;
    const bool valid = c > 0.0;
    acc[j] += valid ? s * w : 0.0;
    wsum[j] += valid ? w : 0.0;
  }
}

CK_KERNEL void most_allocated(const double* cap, const double* inv, const double* used, double pod,
                              double w, std::size_t m, double* acc, double* wsum) {
  for (std::size_t j = 0; j < m; ++j) {
    const double c = cap[j];
    const double r0 = used[j] + pod;
    const double r = r0 > c ? c : r0;
    const double s = exact_quotient(r * 100.0, c, inv[j]);
    const bool valid = c > 0.0;
    acc[j] += valid ? s * w : 0.0;
    wsum[j] += valid ? w : 0.0;
  }
}

CK_KERNEL void weighted_mean(const double* acc, const double* wsum, std::size_t m,
                             std::int64_t* out) {
  for (std::size_t j = 0; j < m; ++j) {
    // acc <= 100 * wsum <= 160000: the double quotient truncates exactly.
    const double d = wsum[j] > 0.0 ? wsum[j] : 1.0;
    const double q = wsum[j] > 0.0 ? std::trunc(acc[j] / d) : 0.0;
    out[j] = static_cast<std::int32_t>(q);
  }
}

CK_KERNEL void fractions(const double* cap, const double* used, double pod, std::size_t m,
                         double* f) {
  for (std::size_t j = 0; j < m; ++j) {
    const double c = cap[j];
    const double v = (used[j] + pod) / (c > 0.0 ? c : 1.0);
    f[j] = c > 0.0 ? (v > 1.0 ? 1.0 : v) : -1.0;
  }
}

CK_KERNEL void balanced_two(const double* f0, const double* f1, std::size_t m, std::int64_t* out) {
  for (std::size_t j = 0; j < m; ++j) {
    const double a = f0[j];
    const double b = f1[j];
    // One fraction (or none) has no deviation; two: |a - b| / 2, as Go computes it.
    const double sd = (a >= 0.0 && b >= 0.0) ? std::fabs((a - b) / 2) : 0.0;
    out[j] = static_cast<std::int32_t>((1 - sd) * 100.0);
  }
}

CK_KERNEL void insufficient(const std::int64_t* allocatable, const std::int64_t* used,
                            std::int64_t request, std::uint32_t bit, std::size_t m,
                            std::uint32_t* reasons) {
  for (std::size_t j = 0; j < m; ++j) reasons[j] |= request > allocatable[j] - used[j] ? bit : 0u;
}

CK_KERNEL void too_many_pods(const std::int32_t* pods, const std::int64_t* max_pods,
                             std::uint32_t bit, std::size_t m, std::uint32_t* reasons) {
  for (std::size_t j = 0; j < m; ++j)
    reasons[j] = static_cast<std::int64_t>(pods[j]) + 1 > max_pods[j] ? bit : 0u;
}

CK_KERNEL bool any_nonzero(const std::uint32_t* reasons, std::size_t m) {
  std::uint32_t any = 0;
  for (std::size_t j = 0; j < m; ++j) any |= reasons[j];
  return any != 0;
}

CK_KERNEL void weighted_add(const std::int64_t* scores, std::int64_t weight, std::size_t m,
                            std::int64_t* totals) {
  for (std::size_t j = 0; j < m; ++j) totals[j] += scores[j] * weight;
}

CK_KERNEL std::int64_t max_value(const std::int64_t* values, std::size_t m) {
  std::int64_t best = values[0];
  for (std::size_t j = 1; j < m; ++j) best = values[j] > best ? values[j] : best;
  return best;
}

}  // namespace detail::kernels
CARBONKUBE_NAMESPACE_END
