#include "carbonkube/conditions.hpp"

#include <fmt/format.h>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

ClusterConditions ClusterConditions::build(const ClusterSnapshot& snapshot, const ZoneMap& zones,
                                           const CarbonSignals& signals, std::int64_t now,
                                           const SignalPolicy& policy,
                                           const QosProfileSet& profiles,
                                           std::span<const ZoneDecision> reconciled) {
  ClusterConditions c;
  c.snapshot_generation = snapshot.generation();
  c.now = now;
  c.zones = &zones;
  c.signals = &signals;
  c.policy = policy;
  c.profiles = &profiles;
  c.node_zone = zones.node_zones(snapshot);
  c.intensities = ZoneIntensities::compute(zones, signals, now, policy);
  c.zone_profile.assign(zones.zones().size(), -1);
  for (std::size_t z = 0; z < zones.zones().size(); ++z) {
    double g = 0;
    if (c.intensities.lookup(static_cast<ZoneIndex>(z), &g))
      c.zone_profile[z] = profiles.classify(g);
  }
  for (const ZoneDecision& d : reconciled) {
    if (d.profile_index < -1 || d.profile_index >= profiles.size())
      throw InvalidInput(
          fmt::format("zone {}: reconciled profile index {} is not one of the {} profiles", d.zone,
                      d.profile_index, profiles.size()));
    if (auto z = zones.find_zone(d.zone)) c.zone_profile[*z] = d.profile_index;
  }
  return c;
}

CARBONKUBE_NAMESPACE_END
