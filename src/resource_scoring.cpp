// kube-scheduler's resource scoring formulas on one node (the reference).
#include "carbonkube/resource_scoring.hpp"

#include <cmath>

#include "carbonkube/plugin.hpp"

CARBONKUBE_NAMESPACE_BEGIN

std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity) {
  if (capacity == 0 || requested > capacity) return 0;
  return ((capacity - requested) * kMaxNodeScore) / capacity;
}

std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity) {
  if (capacity == 0) return 0;
  if (requested > capacity) requested = capacity;  // a pod over capacity would not fit anyway
  return (requested * kMaxNodeScore) / capacity;
}

std::int64_t broken_linear(std::span<const ShapePoint> shape, std::int64_t p) {
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (p <= shape[i].utilization) {
      if (i == 0) return shape[0].score;
      return shape[i - 1].score + (shape[i].score - shape[i - 1].score) *
                                      (p - shape[i - 1].utilization) /
                                      (shape[i].utilization - shape[i - 1].utilization);
    }
  }
  return shape.back().score;
}

namespace {
template <class F>
std::int64_t weighted(std::span<const std::int64_t> requested,
                      std::span<const std::int64_t> allocatable,
                      std::span<const std::int64_t> weights, F per_resource) {
  std::int64_t node_score = 0;
  std::int64_t weight_sum = 0;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    if (allocatable[i] == 0) continue;
    node_score += per_resource(requested[i], allocatable[i]) * weights[i];
    weight_sum += weights[i];
  }
  return weight_sum == 0 ? 0 : node_score / weight_sum;
}
}  // namespace

std::int64_t least_allocated_node_score(std::span<const std::int64_t> requested,
                                        std::span<const std::int64_t> allocatable,
                                        std::span<const std::int64_t> weights) {
  return weighted(requested, allocatable, weights, least_requested_score);
}

std::int64_t most_allocated_node_score(std::span<const std::int64_t> requested,
                                       std::span<const std::int64_t> allocatable,
                                       std::span<const std::int64_t> weights) {
  return weighted(requested, allocatable, weights, most_requested_score);
}

std::int64_t requested_to_capacity_ratio_node_score(std::span<const ShapePoint> shape,
                                                    std::span<const std::int64_t> requested,
                                                    std::span<const std::int64_t> allocatable,
                                                    std::span<const std::int64_t> weights) {
  std::int64_t node_score = 0;
  std::int64_t weight_sum = 0;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    if (allocatable[i] == 0) continue;
    std::int64_t s = (requested[i] > allocatable[i])
                         ? broken_linear(shape, kMaxUtilization)
                         : broken_linear(shape, requested[i] * kMaxUtilization / allocatable[i]);
    // kube-scheduler leaves zero-scoring resources out of the average.
    if (s > 0) {
      node_score += s * weights[i];
      weight_sum += weights[i];
    }
  }
  if (weight_sum == 0) return 0;
  return static_cast<std::int64_t>(
      std::round(static_cast<double>(node_score) / static_cast<double>(weight_sum)));
}

std::int64_t balanced_allocation_node_score(std::span<const std::int64_t> requested,
                                            std::span<const std::int64_t> allocatable) {
  double fractions[64];
  std::size_t n = 0;
  double total = 0;
  for (std::size_t i = 0; i < requested.size() && n < 64; ++i) {
    if (allocatable[i] == 0) continue;
    double f = static_cast<double>(requested[i]) / static_cast<double>(allocatable[i]);
    if (f > 1) f = 1;
    total += f;
    fractions[n++] = f;
  }
  double std_dev = 0;
  if (n == 2) {
    std_dev = std::fabs((fractions[0] - fractions[1]) / 2);
  } else if (n > 2) {
    double mean = total / static_cast<double>(n);
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += (fractions[i] - mean) * (fractions[i] - mean);
    std_dev = std::sqrt(sum / static_cast<double>(n));
  }
  return static_cast<std::int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
}

CARBONKUBE_NAMESPACE_END
