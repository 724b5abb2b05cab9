// src/plugins/resource_kernels.hpp (private): the vectorised inner loops of
// NodeResourcesFit and NodeResourcesBalancedAllocation over contiguous
// double columns, and the fused resource-term kernel the scheduler runs for
// every score plugin that describes itself as a ResourceTerm. Each is
// compiled for AVX-512 (x86-64-v4), AVX2 and baseline x86-64 and picked at
// load time (GCC target_clones).
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

/// The most resources one fused term reads (more: the plugin's own score()).
inline constexpr std::size_t kMaxTermResources = 4;

/// What a fused term computes per node.
enum class TermKind : std::uint8_t {
  kLeastAllocated,  // NodeResourcesFit LeastAllocated: weighted mean of (cap - req) * 100 / cap
  kMostAllocated,   // NodeResourcesFit MostAllocated: weighted mean of min(req, cap) * 100 / cap
  kBalanced,        // NodeResourcesBalancedAllocation: (1 - std dev of req / cap) * 100
};

/// One resource of a term, as double columns indexed by node (exact: every
/// capacity and the pod request are <= kMaxExactAllocatable).
struct TermResource {
  const double* capacity;
  const double* inverse;  // 1 / capacity, 0 where capacity is 0 (allocated kinds only)
  const double* used;     // what the node's bound pods request
  double pod_request;
  double weight;
};

/// A score plugin's per-node score described as data: a pure function of the
/// node's resource columns and the pod's requests, resolved for one cycle.
/// The scheduler fuses all terms of a profile: one pass per term over a block
/// of nodes, scores and weighted totals written together, no normalisation.
struct ResourceTerm {
  TermKind kind = TermKind::kLeastAllocated;
  std::size_t count = 0;  // resources used, <= kMaxTermResources
  TermResource resources[kMaxTermResources] = {};
};

/// For each nodes[k] (k < m): scores[k] = the term's score, totals[k] +=
/// weight * scores[k]. `contiguous`: nodes[k] == nodes[0] + k (columns read
/// in place, no gather).
void score_term(const ResourceTerm& term, const std::uint32_t* nodes, std::size_t m,
                bool contiguous, std::int64_t weight, std::int64_t* scores, std::int64_t* totals);

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
/// One "request > allocatable - used" check of NodeResourcesFit's filter.
struct FitCheck {
  const std::int64_t* allocatable;
  const std::int64_t* used;
  std::int64_t request;  // INT64_MIN: the check is off (never fails)
  std::uint32_t bit;
};
/// NodeResourcesFit's pod-count and three resource checks in one pass over
/// m consecutive nodes (columns start at the first): reasons = the failed bits.
void fit_checks(const std::int32_t* pods, const std::int64_t* max_pods, std::uint32_t pods_bit,
                const FitCheck (&checks)[3], std::size_t m, std::uint32_t* reasons);
/// True when any reason is non-zero.
bool any_nonzero(const std::uint32_t* reasons, std::size_t m);
/// totals += weight * scores.
void weighted_add(const std::int64_t* scores, std::int64_t weight, std::size_t m,
                  std::int64_t* totals);
/// The largest value (m > 0).
std::int64_t max_value(const std::int64_t* values, std::size_t m);
/// The first k >= from with values[k] == target, or m.
std::size_t find_equal(const std::int64_t* values, std::size_t from, std::size_t m,
                       std::int64_t target);
/// How many leading nodes[k] equal nodes[0] + k (m > 0).
std::size_t contiguous_prefix(const std::uint32_t* nodes, std::size_t m);
/// True when flags[nodes[k]] & mask is non-zero for some k < m.
bool any_flag(const std::uint8_t* flags, const std::uint32_t* nodes, std::size_t m,
              std::uint8_t mask);
/// How many k < m - 1 have nodes[k + 1] != nodes[k] + 1.
std::size_t count_gaps(const std::uint32_t* nodes, std::size_t m);
/// out[j] = first + j for j < m, wrapping to 0 at n (first < n).
void rotated_indices(std::uint32_t first, std::uint32_t n, std::size_t m, std::uint32_t* out);

}  // namespace detail::kernels
CARBONKUBE_NAMESPACE_END
