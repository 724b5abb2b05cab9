#include "resource_kernels.hpp"

#include <algorithm>
#include <cmath>

CARBONKUBE_NAMESPACE_BEGIN
namespace detail::kernels {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define CK_KERNEL __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
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

// Both scans test a vector's worth of elements at a time and look at single
// elements only in the block that holds the hit.
constexpr std::uint32_t kScanBlock = 32;

CK_KERNEL std::size_t find_equal(const std::int64_t* values, std::size_t from, std::size_t m,
                                 std::int64_t target) {
  std::size_t k = from;
  for (; k + kScanBlock <= m; k += kScanBlock) {
    std::int64_t hits = 0;  // a count, not a bool: GCC vectorises the sum
    for (std::size_t j = 0; j < kScanBlock; ++j) hits += values[k + j] == target ? 1 : 0;
    if (hits != 0) break;
  }
  for (; k < m; ++k)
    if (values[k] == target) return k;
  return m;
}

CK_KERNEL std::size_t contiguous_prefix(const std::uint32_t* nodes, std::size_t m) {
  const std::uint32_t first = nodes[0];
  std::size_t k = 0;
  for (; k + kScanBlock <= m; k += kScanBlock) {
    std::uint32_t gaps = 0;
    for (std::uint32_t j = 0; j < kScanBlock; ++j)
      gaps += nodes[k + j] != first + static_cast<std::uint32_t>(k) + j ? 1u : 0u;
    if (gaps != 0) break;
  }
  while (k < m && nodes[k] == first + static_cast<std::uint32_t>(k)) ++k;
  return k;
}

CK_KERNEL bool any_flag(const std::uint8_t* flags, const std::uint32_t* nodes, std::size_t m,
                        std::uint8_t mask) {
  // Run by run of consecutive nodes, so that the flags are read in place.
  for (std::size_t k = 0; k < m;) {
    const std::size_t run = contiguous_prefix(nodes + k, m - k);
    const std::uint8_t* f = flags + nodes[k];
    std::uint32_t hits = 0;
    for (std::size_t j = 0; j < run; ++j) hits += (f[j] & mask) != 0 ? 1u : 0u;
    if (hits != 0) return true;
    k += run;
  }
  return false;
}

CK_KERNEL void rotated_indices(std::uint32_t first, std::uint32_t n, std::size_t m,
                               std::uint32_t* out) {
  const std::size_t before_wrap = std::min<std::size_t>(m, n - first);
  for (std::size_t j = 0; j < before_wrap; ++j) out[j] = first + static_cast<std::uint32_t>(j);
  for (std::size_t j = before_wrap; j < m; ++j)
    out[j] = static_cast<std::uint32_t>(j - before_wrap);
}

namespace {

// The fused terms. Each loop is written once, node by node with the term's
// resources unrolled (N is a template parameter), and inlined into the
// target_clones entry points below, so one pass over a block reads each
// column once and keeps every intermediate in vector registers. Truncations
// go through int32 (every value is within 0..100 by then), which every
// vector width converts natively.

// A term's columns copied into locals before the loop (read through a
// struct in the loop, they would have to be reloaded after every store, and
// GCC would not vectorise); for a contiguous block they start at its first node.
template <std::size_t N, bool kContiguous>
struct Columns {
  const double* capacity[N];
  const double* inverse[N];
  const double* used[N];
  double pod[N];
  double weight[N];
  Columns(const TermResource* res, const std::uint32_t* nodes) {
    const std::size_t base = kContiguous ? nodes[0] : 0;
    for (std::size_t r = 0; r < N; ++r) {
      capacity[r] = res[r].capacity + base;
      inverse[r] = res[r].inverse ? res[r].inverse + base : nullptr;
      used[r] = res[r].used + base;
      pod[r] = res[r].pod_request;
      weight[r] = res[r].weight;
    }
  }
  static std::size_t node(const std::uint32_t* nodes, std::size_t j) {
    if constexpr (kContiguous) {
      return j;
    } else {
      return nodes[j];
    }
  }
};

inline double truncated(double v) { return static_cast<double>(static_cast<std::int32_t>(v)); }

// LeastAllocated (kLeast) or MostAllocated: per resource floor(x / cap) with
// x = (cap - req) * 100 or min(req, cap) * 100, exact through the inverse and
// two integer-valued corrections (all products below 2^53); then the
// weighted mean over the resources the node has, truncated as Go's int64
// division (acc <= 40,000 and wsum <= 400, so the double quotient is exact
// enough to truncate).
template <bool kLeast, std::size_t N, bool kContiguous>
[[gnu::always_inline]] inline void allocated_term(const TermResource* res,
                                                  const std::uint32_t* nodes, std::size_t m,
                                                  std::int64_t weight,
                                                  std::int64_t* __restrict scores,
                                                  std::int64_t* __restrict totals) {
  const Columns<N, kContiguous> col(res, nodes);
  for (std::size_t j = 0; j < m; ++j) {
    const std::size_t i = col.node(nodes, j);
    double acc = 0.0;
    double wsum = 0.0;
    for (std::size_t r = 0; r < N; ++r) {
      const double c = col.capacity[r][i];
      const double u = col.used[r][i] + col.pod[r];
      // Every operation runs on every lane (selects, no branches), so the
      // loop vectorises: no trapping operation sits under a condition.
      const double free = c - u;
      const double x = kLeast ? (free > 0.0 ? free : 0.0) * 100.0 : (u < c ? u : c) * 100.0;
      double q = truncated(x * col.inverse[r][i]);
      q -= q * c > x ? 1.0 : 0.0;
      q += (q + 1.0) * c <= x ? 1.0 : 0.0;
      const double w = c > 0.0 ? col.weight[r] : 0.0;  // a resource the node lacks is left out
      acc += q * w;
      wsum += w;
    }
    const double mean = acc / (wsum > 0.0 ? wsum : 1.0);
    const auto s = static_cast<std::int32_t>(wsum > 0.0 ? mean : 0.0);
    scores[j] = s;
    totals[j] += static_cast<std::int64_t>(s) * weight;
  }
}

// BalancedAllocation with Go's float operations in Go's order: fractions
// req / cap capped at 1 for the resources the node has, then |a - b| / 2 for
// two of them or the population standard deviation for more.
template <std::size_t N, bool kContiguous>
[[gnu::always_inline]] inline void balanced_term(const TermResource* res,
                                                 const std::uint32_t* nodes, std::size_t m,
                                                 std::int64_t weight,
                                                 std::int64_t* __restrict scores,
                                                 std::int64_t* __restrict totals) {
  const Columns<N, kContiguous> col(res, nodes);
  for (std::size_t j = 0; j < m; ++j) {
    const std::size_t i = col.node(nodes, j);
    double f[N];
    bool present[N];
    for (std::size_t r = 0; r < N; ++r) {
      const double c = col.capacity[r][i];
      const double v = (col.used[r][i] + col.pod[r]) / (c > 0.0 ? c : 1.0);
      f[r] = v > 1.0 ? 1.0 : v;
      present[r] = c > 0.0;
    }
    double sd = 0.0;
    if constexpr (N == 2) {
      const double half = std::fabs((f[0] - f[1]) / 2);
      sd = present[0] && present[1] ? half : 0.0;
    } else if constexpr (N > 2) {
      // The first two present fractions (for exactly two) and the sums over
      // all present ones; adding +0.0 for an absent one changes no sum.
      double count = 0.0, first = 0.0, second = 0.0, total = 0.0;
      for (std::size_t r = 0; r < N; ++r) {
        second = present[r] && count == 1.0 ? f[r] : second;
        first = present[r] && count == 0.0 ? f[r] : first;
        count += present[r] ? 1.0 : 0.0;
        total += present[r] ? f[r] : 0.0;
      }
      const double mean = total / (count > 0.0 ? count : 1.0);
      double sum = 0.0;
      for (std::size_t r = 0; r < N; ++r) {
        const double d = (f[r] - mean) * (f[r] - mean);
        sum += present[r] ? d : 0.0;
      }
      const double spread = __builtin_sqrt(sum / (count > 0.0 ? count : 1.0));
      const double half = std::fabs((first - second) / 2);
      sd = count == 2.0 ? half : count > 2.0 ? spread : 0.0;
    }
    const auto s = static_cast<std::int32_t>((1 - sd) * 100.0);
    scores[j] = s;
    totals[j] += static_cast<std::int64_t>(s) * weight;
  }
}

template <TermKind kKind, bool kContiguous>
[[gnu::always_inline]] inline void term_dispatch(const ResourceTerm& t, const std::uint32_t* nodes,
                                                 std::size_t m, std::int64_t weight,
                                                 std::int64_t* scores, std::int64_t* totals) {
  auto run = [&]<std::size_t N>() {
    if constexpr (kKind == TermKind::kBalanced) {
      balanced_term<N, kContiguous>(t.resources, nodes, m, weight, scores, totals);
    } else {
      allocated_term<kKind == TermKind::kLeastAllocated, N, kContiguous>(t.resources, nodes, m,
                                                                         weight, scores, totals);
    }
  };
  switch (t.count) {
    case 1:
      return run.template operator()<1>();
    case 2:
      return run.template operator()<2>();
    case 3:
      return run.template operator()<3>();
    case 4:
      return run.template operator()<4>();
    default:  // no resource: every node scores 0 (Balanced: 100)
      for (std::size_t j = 0; j < m; ++j) {
        const std::int64_t s = kKind == TermKind::kBalanced ? 100 : 0;
        scores[j] = s;
        totals[j] += s * weight;
      }
  }
}

}  // namespace

// One entry point per kind and access pattern, each cloned per instruction set.
CK_KERNEL void least_term_run(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                              std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_dispatch<TermKind::kLeastAllocated, true>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void least_term_gather(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                                 std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_dispatch<TermKind::kLeastAllocated, false>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void most_term_run(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                             std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_dispatch<TermKind::kMostAllocated, true>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void most_term_gather(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                                std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_dispatch<TermKind::kMostAllocated, false>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void balanced_term_run(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                                 std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_dispatch<TermKind::kBalanced, true>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void balanced_term_gather(const ResourceTerm& t, const std::uint32_t* nodes,
                                    std::size_t m, std::int64_t weight, std::int64_t* scores,
                                    std::int64_t* totals) {
  term_dispatch<TermKind::kBalanced, false>(t, nodes, m, weight, scores, totals);
}

void score_term(const ResourceTerm& term, const std::uint32_t* nodes, std::size_t m,
                bool contiguous, std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  if (m == 0) return;
  switch (term.kind) {
    case TermKind::kLeastAllocated:
      return contiguous ? least_term_run(term, nodes, m, weight, scores, totals)
                        : least_term_gather(term, nodes, m, weight, scores, totals);
    case TermKind::kMostAllocated:
      return contiguous ? most_term_run(term, nodes, m, weight, scores, totals)
                        : most_term_gather(term, nodes, m, weight, scores, totals);
    case TermKind::kBalanced:
      return contiguous ? balanced_term_run(term, nodes, m, weight, scores, totals)
                        : balanced_term_gather(term, nodes, m, weight, scores, totals);
  }
}

}  // namespace detail::kernels
CARBONKUBE_NAMESPACE_END
