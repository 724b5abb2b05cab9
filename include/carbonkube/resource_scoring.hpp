// carbonkube/resource_scoring.hpp: kube-scheduler's resource scoring formulas
// (noderesources: LeastAllocated, MostAllocated, RequestedToCapacityRatio,
// BalancedAllocation) as plain functions on one node's numbers. The plugins
// run the same arithmetic over columns; these are the reference the tests
// compare them with, and what a user calls to check one node by hand.
// Integer arithmetic, truncation and rounding are kube-scheduler's (v1.34).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

inline constexpr std::int64_t kMaxUtilization = 100;         // percent
inline constexpr std::int64_t kMaxCustomPriorityScore = 10;  // shape scores are 0..10

/// One point of RequestedToCapacityRatio's shape: utilization 0..100, score 0..10.
struct ShapePoint {
  std::int64_t utilization = 0;
  std::int64_t score = 0;
};

/// ((capacity - requested) * 100) / capacity; 0 when capacity is 0 or requested > capacity.
std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity);
/// requested * 100 / capacity with requested clamped to capacity; 0 when capacity is 0.
std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity);
/// helper.BuildBrokenLinearFunction evaluated at p, for shape scores already
/// scaled to 0..100.
std::int64_t broken_linear(std::span<const ShapePoint> scaled_shape, std::int64_t p);

/// Weighted node scores over resources whose allocatable is non-zero (the
/// others are skipped, as kube-scheduler skips them). Spans have equal length.
std::int64_t least_allocated_node_score(std::span<const std::int64_t> requested,
                                        std::span<const std::int64_t> allocatable,
                                        std::span<const std::int64_t> weights);
std::int64_t most_allocated_node_score(std::span<const std::int64_t> requested,
                                       std::span<const std::int64_t> allocatable,
                                       std::span<const std::int64_t> weights);
/// `scaled_shape` has scores multiplied by 10 (kMaxNodeScore / kMaxCustomPriorityScore).
std::int64_t requested_to_capacity_ratio_node_score(std::span<const ShapePoint> scaled_shape,
                                                    std::span<const std::int64_t> requested,
                                                    std::span<const std::int64_t> allocatable,
                                                    std::span<const std::int64_t> weights);
/// (1 - standard deviation of requested/allocatable fractions, each capped at 1) * 100, truncated.
std::int64_t balanced_allocation_node_score(std::span<const std::int64_t> requested,
                                            std::span<const std::int64_t> allocatable);

CARBONKUBE_NAMESPACE_END
