// carbonkube/conditions.hpp: what a scheduling cycle reads besides the
// snapshot: each node's grid zone and carbon intensity, each zone's carbon
// QoS profile, and the Katalyst topology. Built once per signal update (not
// per pod) so the carbon and topology plugins index per-node arrays. A cycle
// without conditions is carbon-neutral: those plugins give every node the
// same score and filter nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

class TopologyTable;

struct ClusterConditions {
  std::uint64_t snapshot_generation = 0;  // the snapshot these arrays describe
  std::int64_t now = 0;                   // unix seconds the intensities are for
  const ZoneMap* zones = nullptr;         // for per-pod forecast windows (may be null)
  const CarbonSignals* signals = nullptr;
  SignalPolicy policy;
  const QosProfileSet* profiles = &default_qos_profiles();
  std::vector<ZoneIndex> node_zone;  // per node; kUnknownZone when unmapped
  ZoneIntensities intensities;       // per zone index
  std::vector<int> zone_profile;     // per zone index: QoS profile index, -1 without data
  const TopologyTable* topology = nullptr;

  /// The intensity of node i's zone, if usable.
  bool node_intensity(NodeIndex i, double* out) const {
    return i < node_zone.size() && intensities.lookup(node_zone[i], out);
  }
  /// Node i's zone QoS profile index, or -1.
  int node_profile(NodeIndex i) const {
    if (i >= node_zone.size() || node_zone[i] >= zone_profile.size()) return -1;
    return zone_profile[node_zone[i]];
  }

  /// Builds the carbon part for `snapshot` at `now`. Zone profiles come from
  /// `reconciled` (zone id -> profile index, e.g. QosReconciler decisions)
  /// where given, else from the intensity alone (QosProfileSet::classify).
  /// The referenced objects must outlive the conditions.
  static ClusterConditions build(const ClusterSnapshot& snapshot, const ZoneMap& zones,
                                 const CarbonSignals& signals, std::int64_t now,
                                 const SignalPolicy& policy = {},
                                 const QosProfileSet& profiles = default_qos_profiles(),
                                 std::span<const ZoneDecision> reconciled = {});
};

CARBONKUBE_NAMESPACE_END
