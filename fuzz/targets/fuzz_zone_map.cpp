// Fuzz target: the ZoneMap from node labels to grid zones (ZoneMap::parse),
// then the zone of every example node and the per-cycle zone intensities.
// Oracles: every zone index is kUnknownZone or a valid index; zone_for and
// zone_index_for agree; usable intensities are finite and >= 0.
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "fuzz_common.hpp"
#include "fuzz_world.hpp"

using namespace carbonkube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ck_fuzz::World& world = ck_fuzz::World::get();
  ParseLimits limits;
  limits.max_objects = 4096;
  std::optional<ZoneMap> map;
  if (!ck_fuzz::expect_ok_or_error([&] {
        map.emplace(ZoneMap::parse(ck_fuzz::as_text(data, size), ck_fuzz::kSource, limits));
      }))
    return 0;
  for (const Node& n : world.objects.nodes) {
    const ZoneIndex z = map->zone_index_for(n.labels);
    const std::string_view id = map->zone_for(n.labels);
    if (z == kUnknownZone) {
      ck_fuzz::check(id.empty(), "zone_for names a zone zone_index_for does not know");
    } else {
      ck_fuzz::check(z < map->zones().size(), "zone index out of range");
      ck_fuzz::check(map->zones()[z] == id, "zone_for and zone_index_for disagree");
    }
  }
  std::vector<ZoneIndex> node_zones;
  if (!ck_fuzz::expect_ok_or_error([&] { node_zones = map->node_zones(*world.snapshot); }, ""))
    return 0;
  ZoneIntensities zi;
  if (!ck_fuzz::expect_ok_or_error(
          [&] { zi = ZoneIntensities::compute(*map, world.signals, world.at); }, ""))
    return 0;
  for (std::size_t z = 0; z < zi.usable.size(); ++z) {
    double v = 0;
    if (zi.lookup(static_cast<ZoneIndex>(z), &v))
      ck_fuzz::check(std::isfinite(v) && v >= 0, "usable intensity not finite and >= 0");
    else
      ck_fuzz::check(std::isnan(zi.g_per_kwh[z]), "unusable zone without NaN");
  }
  return 0;
}
