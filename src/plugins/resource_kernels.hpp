// src/plugins/resource_kernels.hpp (private): the vectorised inner loops of
// NodeResourcesFit and NodeResourcesBalancedAllocation over contiguous
// double columns. Each is compiled for AVX2 and for baseline x86-64 and
// picked at load time (GCC target_clones).
//
// Exactness: every input is an integer held exactly in a double. With
// allocatable <= kMaxExactAllocatable, products such as (capacity - requested)
// * 100 stay below 2^53, so the truncations and corrections below give the
// same integers as kube-scheduler's int64 arithmetic, and the fractions are
// the same IEEE divisions Go performs. Larger capacities take the scalar
// int64 path in the plugins.
#pragma once

#include <cstddef>
#include <cstdint>

#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail::kernels {

inline constexpr std::int64_t kMaxExactAllocatable = std::int64_t{1} << 46;

/// For nodes with cap > 0: acc += w * LeastAllocated score, wsum += w.
void least_allocated(const double* cap, const double* inv, const double* used, double pod, double w,
                     std::size_t m, double* acc, double* wsum);
/// For nodes with cap > 0: acc += w * MostAllocated score, wsum += w.
void most_allocated(const double* cap, const double* inv, const double* used, double pod, double w,
                    std::size_t m, double* acc, double* wsum);
/// out = floor(acc / wsum), 0 where wsum is 0.
void weighted_mean(const double* acc, const double* wsum, std::size_t m, std::int64_t* out);
/// f = min((used + pod) / cap, 1), or -1 where cap is 0 (the resource is left out).
void fractions(const double* cap, const double* used, double pod, std::size_t m, double* f);
/// BalancedAllocation over two fraction columns (-1 = absent).
void balanced_two(const double* f0, const double* f1, std::size_t m, std::int64_t* out);

/// reasons |= bit where request > allocatable - used (int64 columns).
void insufficient(const std::int64_t* allocatable, const std::int64_t* used, std::int64_t request,
                  std::uint32_t bit, std::size_t m, std::uint32_t* reasons);
/// reasons = bit where pods + 1 > max_pods, else 0 (the first check of a node).
void too_many_pods(const std::int32_t* pods, const std::int64_t* max_pods, std::uint32_t bit,
                   std::size_t m, std::uint32_t* reasons);
/// True when any reason is non-zero.
bool any_nonzero(const std::uint32_t* reasons, std::size_t m);
/// totals += weight * scores.
void weighted_add(const std::int64_t* scores, std::int64_t weight, std::size_t m,
                  std::int64_t* totals);
/// The largest value (m > 0).
std::int64_t max_value(const std::int64_t* values, std::size_t m);

}  // namespace detail::kernels
CARBONKUBE_NAMESPACE_END
