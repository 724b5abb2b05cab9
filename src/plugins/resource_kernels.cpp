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

CK_KERNEL void fit_checks(const std::int32_t* pods, const std::int64_t* max_pods,
                          std::uint32_t pods_bit, const FitCheck (&checks)[3], std::size_t m,
                          std::uint32_t* reasons) {
  // Locals, not the struct, in the loop: GCC vectorises only then.
  const std::int64_t *a0 = checks[0].allocatable, *u0 = checks[0].used;
  const std::int64_t *a1 = checks[1].allocatable, *u1 = checks[1].used;
  const std::int64_t *a2 = checks[2].allocatable, *u2 = checks[2].used;
  const std::int64_t r0 = checks[0].request, r1 = checks[1].request, r2 = checks[2].request;
  const std::uint32_t b0 = checks[0].bit, b1 = checks[1].bit, b2 = checks[2].bit;
  for (std::size_t j = 0; j < m; ++j) {
    std::uint32_t r = static_cast<std::int64_t>(pods[j]) + 1 > max_pods[j] ? pods_bit : 0u;
    r |= r0 > a0[j] - u0[j] ? b0 : 0u;
    r |= r1 > a1[j] - u1[j] ? b1 : 0u;
    r |= r2 > a2[j] - u2[j] ? b2 : 0u;
    reasons[j] = r;
  }
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

CK_KERNEL std::size_t count_gaps(const std::uint32_t* nodes, std::size_t m) {
  std::uint32_t gaps = 0;
  for (std::size_t j = 1; j < m; ++j) gaps += nodes[j] != nodes[j - 1] + 1 ? 1u : 0u;
  return gaps;
}

CK_KERNEL bool any_flag(const std::uint8_t* flags, const std::uint32_t* nodes, std::size_t m,
                        std::uint8_t mask) {
  if (m == 0) return false;
  // The scheduler's node lists ascend (but for one wrap): then no flag in
  // the range nodes[0]..nodes[m-1] means none on the nodes themselves, and
  // the range is read in place, vectorised, however sparse the list is.
  std::uint32_t descents = 0;
  for (std::size_t j = 1; j < m; ++j) descents += nodes[j] < nodes[j - 1] ? 1u : 0u;
  if (descents == 0) {
    const std::uint8_t* f = flags + nodes[0];
    const std::size_t span = std::size_t{nodes[m - 1]} - nodes[0] + 1;
    std::uint32_t hits = 0;
    for (std::size_t j = 0; j < span; ++j) hits += (f[j] & mask) != 0 ? 1u : 0u;
    if (hits == 0) return false;
  }
  for (std::size_t j = 0; j < m; ++j)
    if (flags[nodes[j]] & mask) return true;
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

// The fused terms. Each is computed in two passes over a block of nodes:
//
//  1. a vector pass, written once node by node with the term's resources
//     unrolled (N is a template parameter) and inlined into the
//     target_clones entry points below, so it reads each column once and
//     keeps every intermediate in registers. It replaces the divisions that
//     dominate its cost by multiplications with precomputed reciprocals and
//     marks every node whose result it cannot prove equal to Go's (score -1:
//     a separate mark array of another element width stops GCC vectorising);
//  2. a scalar pass that recomputes exactly (with Go's divisions) only the
//     marked nodes; then the weighted scores are added to the totals.
//
// Truncations go through int32 (every value is within 0..100 by then), which
// every vector width converts natively.

// A score the vector pass could not certify.
constexpr std::int64_t kUnsure = -1;

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
      inverse[r] = res[r].inverse + base;
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

// floor(x / c) for 0 <= x <= 100 c < 2^53 with inv = RN(1 / c): the truncated
// product is within one of the quotient, and the products (exact: below
// 2^53) correct it.
inline double corrected_quotient(double x, double c, double inv) {
  double q = truncated(x * inv);
  q -= q * c > x ? 1.0 : 0.0;
  q += (q + 1.0) * c <= x ? 1.0 : 0.0;
  return q;
}

// Per resource of LeastAllocated (kLeast) or MostAllocated: floor(x / cap)
// with x = (cap - req) * 100 (0 when req > cap) or min(req, cap) * 100,
// exact through the reciprocal column; resources the node lacks weigh 0.
template <bool kLeast>
inline double allocated_resource(double c, double u, double inv) {
  const double free = c - u;
  const double x = kLeast ? (free > 0.0 ? free : 0.0) * 100.0 : (u < c ? u : c) * 100.0;
  return corrected_quotient(x, c, inv);
}

// Pass 1 of Least/MostAllocated. The weighted mean floor(acc / wsum) uses
// the reciprocal of the full weight sum W: acc <= 100 W, W <= 400, so
// acc * RN(1/W) is within 3e-14 of acc / W while a non-integer acc / W is at
// least 1/W from the next integer; adding 2^-30 therefore truncates to
// exactly floor(acc / W). A node lacking a resource has another weight sum:
// marked.
template <bool kLeast, std::size_t N, bool kContiguous>
[[gnu::always_inline]] inline std::uint32_t allocated_pass(const TermResource* res,
                                                           const std::uint32_t* nodes,
                                                           std::size_t m,
                                                           std::int64_t* __restrict scores) {
  const Columns<N, kContiguous> col(res, nodes);
  double full_weight = 0.0;
  for (std::size_t r = 0; r < N; ++r) full_weight += col.weight[r];
  const double inv_full_weight = 1.0 / full_weight;
  std::uint32_t marked = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const std::size_t i = col.node(nodes, j);
    double acc = 0.0;
    double wsum = 0.0;
    for (std::size_t r = 0; r < N; ++r) {
      const double c = col.capacity[r][i];
      const double q =
          allocated_resource<kLeast>(c, col.used[r][i] + col.pod[r], col.inverse[r][i]);
      const double w = c > 0.0 ? col.weight[r] : 0.0;
      acc += q * w;
      wsum += w;
    }
    const bool other_sum = wsum != full_weight;
    const auto mean = static_cast<std::int32_t>(acc * inv_full_weight + 0x1p-30);
    scores[j] = other_sum ? kUnsure : mean;
    marked += other_sum ? 1u : 0u;
  }
  return marked;
}

// Pass 1 of BalancedAllocation over two resources, the configuration every
// default profile uses. With the reciprocal columns each fraction is within
// 2 ulp of Go's correctly rounded quotient, so the result (1 - |a - b| / 2) *
// 100 is within 1e-13 of Go's; its truncation is Go's unless the result lies
// within 1e-9 of an integer (a == b gives exactly 100, for one): marked.
template <bool kContiguous>
[[gnu::always_inline]] inline std::uint32_t balanced_two_pass(const TermResource* res,
                                                              const std::uint32_t* nodes,
                                                              std::size_t m,
                                                              std::int64_t* __restrict scores) {
  const Columns<2, kContiguous> col(res, nodes);
  std::uint32_t marked = 0;
  for (std::size_t j = 0; j < m; ++j) {
    const std::size_t i = col.node(nodes, j);
    const double c0 = col.capacity[0][i];
    const double c1 = col.capacity[1][i];
    const double v0 = (col.used[0][i] + col.pod[0]) * col.inverse[0][i];
    const double v1 = (col.used[1][i] + col.pod[1]) * col.inverse[1][i];
    const double f0 = v0 > 1.0 ? 1.0 : v0;
    const double f1 = v1 > 1.0 ? 1.0 : v1;
    // Bitwise & and | on the comparisons: && and || would branch, and a loop
    // with branches does not vectorise.
    const bool both = (c0 > 0.0) & (c1 > 0.0);
    const double half = std::fabs((f0 - f1) / 2);
    const double value = (1 - (both ? half : 0.0)) * 100.0;
    // Within 1e-9 of an integer: value - 1e-9 and value + 1e-9 truncate apart.
    const auto whole = static_cast<std::int32_t>(value);
    const auto low = static_cast<std::int32_t>(value - 1e-9);
    const auto high = static_cast<std::int32_t>(value + 1e-9);
    const bool unsure = both & (low != high);
    scores[j] = unsure ? kUnsure : whole;
    marked += unsure ? 1u : 0u;
  }
  return marked;
}

// BalancedAllocation exactly as Go computes it, for one node: fractions
// req / cap capped at 1 over the resources the node has, in order, then
// |a - b| / 2 for two of them or the population standard deviation for more.
inline std::int32_t balanced_exact(const TermResource* res, std::size_t n, std::size_t i) {
  double fractions[kMaxTermResources];
  std::size_t count = 0;
  double total = 0.0;
  for (std::size_t r = 0; r < n; ++r) {
    const double c = res[r].capacity[i];
    if (!(c > 0.0)) continue;
    const double v = (res[r].used[i] + res[r].pod_request) / c;
    const double f = v > 1.0 ? 1.0 : v;
    total += f;
    fractions[count++] = f;
  }
  double sd = 0.0;
  if (count == 2) {
    sd = std::fabs((fractions[0] - fractions[1]) / 2);
  } else if (count > 2) {
    const double mean = total / static_cast<double>(count);
    double sum = 0.0;
    for (std::size_t r = 0; r < count; ++r) sum += (fractions[r] - mean) * (fractions[r] - mean);
    sd = std::sqrt(sum / static_cast<double>(count));
  }
  return static_cast<std::int32_t>((1 - sd) * 100.0);
}

// Least/MostAllocated exactly as Go computes it, for one node.
template <bool kLeast>
std::int32_t allocated_exact(const TermResource* res, std::size_t n, std::size_t i) {
  double acc = 0.0;
  double wsum = 0.0;
  for (std::size_t r = 0; r < n; ++r) {
    const double c = res[r].capacity[i];
    if (!(c > 0.0)) continue;
    acc += allocated_resource<kLeast>(c, res[r].used[i] + res[r].pod_request, res[r].inverse[i]) *
           res[r].weight;
    wsum += res[r].weight;
  }
  // acc <= 40,000 and wsum <= 400: the double quotient truncates as Go's
  // int64 division.
  return wsum > 0.0 ? static_cast<std::int32_t>(acc / wsum) : 0;
}

template <TermKind kKind, bool kContiguous>
[[gnu::always_inline]] inline std::uint32_t vector_pass(const ResourceTerm& t,
                                                        const std::uint32_t* nodes, std::size_t m,
                                                        std::int64_t* scores) {
  auto allocated = [&]<std::size_t N>() {
    return allocated_pass<kKind == TermKind::kLeastAllocated, N, kContiguous>(t.resources, nodes, m,
                                                                              scores);
  };
  if constexpr (kKind == TermKind::kBalanced) {
    if (t.count == 2) return balanced_two_pass<kContiguous>(t.resources, nodes, m, scores);
    // Other counts are rare: every node takes the exact path.
    std::fill(scores, scores + m, kUnsure);
    return static_cast<std::uint32_t>(m);
  } else {
    switch (t.count) {
      case 1:
        return allocated.template operator()<1>();
      case 2:
        return allocated.template operator()<2>();
      case 3:
        return allocated.template operator()<3>();
      case 4:
        return allocated.template operator()<4>();
      default:
        std::fill(scores, scores + m, kUnsure);
        return static_cast<std::uint32_t>(m);
    }
  }
}

template <TermKind kKind, bool kContiguous>
[[gnu::always_inline]] inline void term_block(const ResourceTerm& t, const std::uint32_t* nodes,
                                              std::size_t m, std::int64_t weight,
                                              std::int64_t* __restrict scores,
                                              std::int64_t* __restrict totals) {
  if (vector_pass<kKind, kContiguous>(t, nodes, m, scores) != 0) {
    for (std::size_t j = 0; j < m; ++j) {
      if (scores[j] != kUnsure) continue;
      const std::size_t i = nodes[kContiguous ? 0 : j] + (kContiguous ? j : 0);
      if constexpr (kKind == TermKind::kBalanced) {
        scores[j] = balanced_exact(t.resources, t.count, i);
      } else {
        scores[j] = allocated_exact<kKind == TermKind::kLeastAllocated>(t.resources, t.count, i);
      }
    }
  }
  for (std::size_t j = 0; j < m; ++j) totals[j] += scores[j] * weight;
}

template <TermKind kKind, bool kContiguous>
[[gnu::always_inline]] inline void term_run(const ResourceTerm& t, const std::uint32_t* nodes,
                                            std::size_t m, std::int64_t weight,
                                            std::int64_t* scores, std::int64_t* totals) {
  term_block<kKind, kContiguous>(t, nodes, m, weight, scores, totals);
}

}  // namespace

// One entry point per kind and access pattern, each cloned per instruction set.
CK_KERNEL void least_term_run(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                              std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_run<TermKind::kLeastAllocated, true>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void least_term_gather(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                                 std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_run<TermKind::kLeastAllocated, false>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void most_term_run(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                             std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_run<TermKind::kMostAllocated, true>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void most_term_gather(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                                std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_run<TermKind::kMostAllocated, false>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void balanced_term_run(const ResourceTerm& t, const std::uint32_t* nodes, std::size_t m,
                                 std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  term_run<TermKind::kBalanced, true>(t, nodes, m, weight, scores, totals);
}
CK_KERNEL void balanced_term_gather(const ResourceTerm& t, const std::uint32_t* nodes,
                                    std::size_t m, std::int64_t weight, std::int64_t* scores,
                                    std::int64_t* totals) {
  term_run<TermKind::kBalanced, false>(t, nodes, m, weight, scores, totals);
}

void score_term(const ResourceTerm& term, const std::uint32_t* nodes, std::size_t m,
                bool contiguous, std::int64_t weight, std::int64_t* scores, std::int64_t* totals) {
  if (m == 0) return;
  if (term.count == 0) {  // no resource: every node scores 0 (Balanced: 100), as Go
    const std::int64_t s = term.kind == TermKind::kBalanced ? 100 : 0;
    for (std::size_t j = 0; j < m; ++j) {
      scores[j] = s;
      totals[j] += s * weight;
    }
    return;
  }
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
