// carbonkube/carbon_adjustment.hpp: the seed design's fixed carbon rule,
// made configurable: a base recommendation (recommender.hpp) is scaled per
// resource by one factor where the grid is dirty (intensity above the
// CarbonProfile's carbonBudget.threshold: CPU x0.8, memory x0.9) and another
// where it is green (below greenThreshold: CPU x1.2, memory x1.1), unchanged
// in the neutral band between, per zone. The result never goes below the
// recommendation's lowerBound nor the workload's SLA floor. Unusable carbon
// data (NaN, negative, infinite, a stale zone) means the neutral band: no
// adjustment, never a crash.
//
// This is the baseline the RL optimizer (rl.hpp) is measured against, and the
// step before it in the allocator (allocator.hpp). Allocation-free and
// string-free: safe on a hot path. See docs/allocator.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/qos.hpp"
#include "carbonkube/recommender.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// How much a workload's service level matters. Drives the SLA floor, the RL
/// reward weights and the safety shield (critical: never below 1.0x).
enum class SlaTier : std::uint8_t { kCritical, kStandard, kBestEffort };
/// "critical", "standard", "best-effort".
std::string_view to_string(SlaTier tier) noexcept;
/// Parses the names above; throws InvalidInput quoting the text otherwise.
SlaTier parse_sla_tier(std::string_view text);
/// The seed's QoS profiles: green-guaranteed -> critical, mixed-burstable ->
/// standard, dirty-besteffort -> best-effort; any other profile by its
/// resource guarantee (>= 1 critical, >= 0.75 standard, else best-effort).
SlaTier sla_tier_for(const QosProfile& profile) noexcept;

/// What the workload must keep, whatever the carbon.
struct SlaRequirements {
  SlaTier tier = SlaTier::kStandard;
  /// Fraction of the base target that is guaranteed (QosProfile::
  /// resource_guarantee: 1.0 for green-guaranteed, 0.8 mixed-burstable, 0.5
  /// dirty-besteffort). 0..1.
  double resource_guarantee = 0.8;
  /// Absolute floors (cores, bytes), e.g. from an SLO.
  ResourceAmounts min_resources{0.0, 0.0};

  /// max(resource_guarantee x target, min_resources), per resource.
  ResourceAmounts floor(const ResourceAmounts& target) const;
  /// From a QoS profile (tier and guarantee).
  static SlaRequirements from_profile(const QosProfile& profile);
};

enum class CarbonBand : std::uint8_t { kGreen, kNeutral, kDirty, kUnknown };
/// "green", "neutral", "dirty", "unknown".
std::string_view to_string(CarbonBand band) noexcept;

struct CarbonAdjustmentConfig {
  /// Above this (gCO2/kWh) the zone is dirty: CarbonProfile carbonBudget.threshold.
  double threshold_g_per_kwh = 300.0;
  /// Below this it is green: carbonBudget.greenThreshold.
  double green_threshold_g_per_kwh = 100.0;
  double dirty_cpu_scale = 0.8;
  double dirty_memory_scale = 0.9;
  double green_cpu_scale = 1.2;
  double green_memory_scale = 1.1;

  /// Thresholds from the profile's carbonBudget; the seed's factors.
  static CarbonAdjustmentConfig from_profile(const CarbonProfile& profile);
  /// Throws InvalidInput naming the field: thresholds finite, > 0, green <
  /// threshold; scales finite and > 0.
  void validate(std::string_view source = "CarbonAdjustmentConfig") const;
  /// The band of an intensity; kUnknown for NaN, infinite or negative values.
  CarbonBand band(double intensity_g_per_kwh) const noexcept;
};

struct CarbonAdjusted {
  ResourceAmounts resources;  // the adjusted allocation (requests)
  CarbonBand band = CarbonBand::kUnknown;
  double cpu_scale = 1.0;  // the factors applied
  double memory_scale = 1.0;
  /// The seed's priority_boost: true in a green zone.
  bool priority_boost = false;
  /// The floor max(lowerBound, SLA floor) raised a resource.
  bool cpu_floored = false;
  bool memory_floored = false;
};

/// The seed's rule for one zone's intensity. base.target is scaled; the
/// result is at least max(base.lower_bound, sla.floor(base.target)).
/// Assumes a validated config. Never throws, never allocates.
CarbonAdjusted apply_carbon_adjustment(const Recommendation& base, double intensity_g_per_kwh,
                                       const SlaRequirements& sla,
                                       const CarbonAdjustmentConfig& config) noexcept;

struct ZoneCarbon {
  std::string zone;
  double intensity_g_per_kwh = 0.0;  // NaN or usable=false: unknown
  bool usable = true;
};

struct ZoneAdjusted {
  std::string zone;
  CarbonAdjusted adjusted;
};

/// The rule for every zone (the seed's `adjustments[zone]`), in input order.
/// Validates the config; throws InvalidInput on an empty or duplicate zone.
std::vector<ZoneAdjusted> apply_carbon_adjustments(const Recommendation& base,
                                                   std::span<const ZoneCarbon> zones,
                                                   const SlaRequirements& sla,
                                                   const CarbonAdjustmentConfig& config);

CARBONKUBE_NAMESPACE_END
