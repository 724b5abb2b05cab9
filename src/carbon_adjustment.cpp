// The seed's fixed carbon rule with its floors. See
// include/carbonkube/carbon_adjustment.hpp.
#include "carbonkube/carbon_adjustment.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

std::string_view to_string(SlaTier tier) noexcept {
  switch (tier) {
    case SlaTier::kCritical:
      return "critical";
    case SlaTier::kStandard:
      return "standard";
    case SlaTier::kBestEffort:
      return "best-effort";
  }
  return "standard";
}

SlaTier parse_sla_tier(std::string_view text) {
  if (text == "critical") return SlaTier::kCritical;
  if (text == "standard") return SlaTier::kStandard;
  if (text == "best-effort") return SlaTier::kBestEffort;
  throw InvalidInput(
      fmt::format("SLA tier \"{}\" is not one of critical, standard, best-effort", text));
}

SlaTier sla_tier_for(const QosProfile& profile) noexcept {
  if (profile.name == kGreenGuaranteed) return SlaTier::kCritical;
  if (profile.name == kMixedBurstable) return SlaTier::kStandard;
  if (profile.name == kDirtyBestEffort) return SlaTier::kBestEffort;
  if (profile.resource_guarantee >= 1.0) return SlaTier::kCritical;
  if (profile.resource_guarantee >= 0.75) return SlaTier::kStandard;
  return SlaTier::kBestEffort;
}

ResourceAmounts SlaRequirements::floor(const ResourceAmounts& target) const {
  const double g =
      std::isfinite(resource_guarantee) ? std::clamp(resource_guarantee, 0.0, 1.0) : 1.0;
  auto ok = [](double v) { return std::isfinite(v) && v > 0.0 ? v : 0.0; };
  return {std::max(g * target.cpu_cores, ok(min_resources.cpu_cores)),
          std::max(g * target.memory_bytes, ok(min_resources.memory_bytes))};
}

SlaRequirements SlaRequirements::from_profile(const QosProfile& profile) {
  SlaRequirements s;
  s.tier = sla_tier_for(profile);
  s.resource_guarantee = profile.resource_guarantee;
  return s;
}

std::string_view to_string(CarbonBand band) noexcept {
  switch (band) {
    case CarbonBand::kGreen:
      return "green";
    case CarbonBand::kNeutral:
      return "neutral";
    case CarbonBand::kDirty:
      return "dirty";
    case CarbonBand::kUnknown:
      return "unknown";
  }
  return "unknown";
}

CarbonAdjustmentConfig CarbonAdjustmentConfig::from_profile(const CarbonProfile& profile) {
  CarbonAdjustmentConfig c;
  c.threshold_g_per_kwh = profile.budget.threshold_g_per_kwh;
  c.green_threshold_g_per_kwh = profile.budget.green_threshold_g_per_kwh;
  c.validate(
      fmt::format("CarbonProfile {}/{}: spec.carbonBudget", profile.namespace_name, profile.name));
  return c;
}

void CarbonAdjustmentConfig::validate(std::string_view source) const {
  auto pos = [&](double v, const char* field) {
    if (!std::isfinite(v) || v <= 0.0)
      throw InvalidInput(fmt::format("{}: {} must be finite and > 0, got {}", source, field, v));
  };
  pos(threshold_g_per_kwh, "threshold");
  pos(green_threshold_g_per_kwh, "greenThreshold");
  if (green_threshold_g_per_kwh >= threshold_g_per_kwh)
    throw InvalidInput(fmt::format("{}: greenThreshold ({}) must be below threshold ({})", source,
                                   green_threshold_g_per_kwh, threshold_g_per_kwh));
  pos(dirty_cpu_scale, "dirty_cpu_scale");
  pos(dirty_memory_scale, "dirty_memory_scale");
  pos(green_cpu_scale, "green_cpu_scale");
  pos(green_memory_scale, "green_memory_scale");
}

CarbonBand CarbonAdjustmentConfig::band(double intensity) const noexcept {
  if (!std::isfinite(intensity) || intensity < 0.0) return CarbonBand::kUnknown;
  if (intensity > threshold_g_per_kwh) return CarbonBand::kDirty;
  if (intensity < green_threshold_g_per_kwh) return CarbonBand::kGreen;
  return CarbonBand::kNeutral;
}

CarbonAdjusted apply_carbon_adjustment(const Recommendation& base, double intensity,
                                       const SlaRequirements& sla,
                                       const CarbonAdjustmentConfig& config) noexcept {
  CarbonAdjusted out;
  out.band = config.band(intensity);
  if (out.band == CarbonBand::kDirty) {
    out.cpu_scale = config.dirty_cpu_scale;
    out.memory_scale = config.dirty_memory_scale;
  } else if (out.band == CarbonBand::kGreen) {
    out.cpu_scale = config.green_cpu_scale;
    out.memory_scale = config.green_memory_scale;
    out.priority_boost = true;
  }
  const ResourceAmounts sla_floor = sla.floor(base.target);
  const double cpu_floor = std::max(base.lower_bound.cpu_cores, sla_floor.cpu_cores);
  const double mem_floor = std::max(base.lower_bound.memory_bytes, sla_floor.memory_bytes);
  const double cpu = base.target.cpu_cores * out.cpu_scale;
  const double mem = base.target.memory_bytes * out.memory_scale;
  out.cpu_floored = cpu < cpu_floor;
  out.memory_floored = mem < mem_floor;
  out.resources = {std::max(cpu, cpu_floor), std::max(mem, mem_floor)};
  return out;
}

std::vector<ZoneAdjusted> apply_carbon_adjustments(const Recommendation& base,
                                                   std::span<const ZoneCarbon> zones,
                                                   const SlaRequirements& sla,
                                                   const CarbonAdjustmentConfig& config) {
  config.validate();
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].zone.empty())
      throw InvalidInput(fmt::format("carbon adjustment: zones[{}]: empty zone id", i));
    if (!seen.insert(zones[i].zone).second)
      throw InvalidInput(
          fmt::format("carbon adjustment: zones[{}]: zone \"{}\" appears twice", i, zones[i].zone));
  }
  std::vector<ZoneAdjusted> out;
  out.reserve(zones.size());
  for (const ZoneCarbon& z : zones) {
    const double intensity =
        z.usable ? z.intensity_g_per_kwh : std::numeric_limits<double>::quiet_NaN();
    out.push_back({z.zone, apply_carbon_adjustment(base, intensity, sla, config)});
  }
  return out;
}

CARBONKUBE_NAMESPACE_END
