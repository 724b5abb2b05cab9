// Katalyst CustomNodeResource parsing, the per-cluster TopologyTable, a pod's
// NUMA request from its Katalyst annotations, and the NUMA alignment checks
// and score. Semantics and sources: docs/topology.md.
#include "carbonkube/topology.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "carbonkube/error.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace {

using detail::Json;
using detail::Where;

constexpr std::string_view kCnrGroup = "node.katalyst.kubewharf.io/";
constexpr std::string_view kCnrKind = "CustomNodeResource";

bool is_gpu_resource(std::string_view name) { return name.ends_with("/gpu"); }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  return a > std::numeric_limits<std::int64_t>::max() - b ? std::numeric_limits<std::int64_t>::max()
                                                          : a + b;
}

/// The resources of one ResourceList that carbonkube reads, in base units.
/// Every entry is validated as a quantity, known or not.
struct Amounts {
  bool present = false;  // the list exists
  std::int64_t cpu = 0;  // millicores
  std::int64_t memory = 0;
  std::int64_t gpus = 0;  // Σ */gpu
  std::int64_t bandwidth = 0;
  std::int64_t reclaimed_cpu = 0;
  std::int64_t reclaimed_memory = 0;
  std::int64_t legacy_reclaimed_cpu = 0;
  std::int64_t legacy_reclaimed_memory = 0;
  bool has_gpu = false;
  bool has_reclaimed_cpu = false;
  bool has_reclaimed_memory = false;
  bool has_legacy_reclaimed_cpu = false;
  bool has_legacy_reclaimed_memory = false;
};

Amounts read_amounts(const Json& obj, std::string_view key, const Where& where) {
  Amounts a;
  a.present = detail::read_object(obj, key, where) != nullptr;
  for (const auto& [name, q] : detail::read_quantity_list(obj, key, where)) {
    const std::int64_t v = detail::to_base_units(name, q, where / key / name);
    if (name == "cpu") {
      a.cpu = v;
    } else if (name == "memory") {
      a.memory = v;
    } else if (name == kNetBandwidth) {
      a.bandwidth = v;
    } else if (name == kReclaimedMilliCpu) {
      a.reclaimed_cpu = v;
      a.has_reclaimed_cpu = true;
    } else if (name == kReclaimedMemory) {
      a.reclaimed_memory = v;
      a.has_reclaimed_memory = true;
    } else if (name == kLegacyReclaimedMilliCpu) {
      a.legacy_reclaimed_cpu = v;
      a.has_legacy_reclaimed_cpu = true;
    } else if (name == kLegacyReclaimedMemory) {
      a.legacy_reclaimed_memory = v;
      a.has_legacy_reclaimed_memory = true;
    } else if (is_gpu_resource(name)) {
      a.gpus = saturating_add(a.gpus, v);
      a.has_gpu = true;
    }
  }
  return a;
}

/// Sum of allocations[].requests, and the consumers holding cpu or memory.
struct AllocationSum {
  Amounts total;
  std::vector<std::string> consumers;  // with cpu or memory > 0
};

AllocationSum read_allocations(const Json& zone, const Where& where) {
  AllocationSum sum;
  const Json* arr = detail::read_array(zone, "allocations", where);
  if (!arr) return sum;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const Json& alloc = (*arr)[i];
    Where w = (where / "allocations")[i];
    if (!alloc.is_object()) w.fail(fmt::format("expected an object, got {}", alloc.type_name()));
    std::string consumer = detail::read_string(alloc, "consumer", w);
    Amounts r = read_amounts(alloc, "requests", w);
    sum.total.cpu = saturating_add(sum.total.cpu, r.cpu);
    sum.total.memory = saturating_add(sum.total.memory, r.memory);
    sum.total.gpus = saturating_add(sum.total.gpus, r.gpus);
    sum.total.bandwidth = saturating_add(sum.total.bandwidth, r.bandwidth);
    if (r.cpu > 0 || r.memory > 0) sum.consumers.push_back(std::move(consumer));
  }
  return sum;
}

std::int32_t parse_numa_id(std::string_view text, const Where& where) {
  int v = -1;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < 0 ||
      static_cast<std::size_t>(v) >= kMaxNumaZones)
    where.fail(
        fmt::format("NUMA zone name \"{}\" is not a NUMA id 0..{}", text, kMaxNumaZones - 1));
  return v;
}

/// "0" or "0,1": NUMA ids given by an attribute.
std::uint64_t parse_numa_list(std::string_view text, const Where& where) {
  std::uint64_t mask = 0;
  while (!text.empty()) {
    std::size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    while (!part.empty() && part.back() == ' ') part.remove_suffix(1);
    mask |= std::uint64_t{1} << parse_numa_id(part, where);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return mask;
}

class CnrParser {
 public:
  explicit CnrParser(NodeTopology& out) : out_(out) {}

  void zone(const Json& z, const Where& w, std::int32_t socket, std::int32_t numa) {
    if (!z.is_object()) w.fail(fmt::format("expected an object, got {}", z.type_name()));
    std::string type = detail::read_string(z, "type", w);
    std::string name = detail::read_string(z, "name", w);
    if (type.empty()) w.fail("missing type");
    if (name.empty()) w.fail("missing name");
    const Json* res = detail::read_object(z, "resources", w);
    static const Json kEmpty = Json::object();
    const Json& resources = res ? *res : kEmpty;
    Amounts allocatable = read_amounts(resources, "allocatable", w / "resources");
    Amounts capacity = read_amounts(resources, "capacity", w / "resources");
    if (!allocatable.present) allocatable = capacity;
    if (!capacity.present) capacity = allocatable;
    AllocationSum allocations = read_allocations(z, w);
    std::uint64_t attr_numa = read_numa_attribute(z, w);

    // A device's NUMA ids: its parent NUMA zone, else its attribute.
    const std::uint64_t device_numa = numa >= 0 ? std::uint64_t{1} << numa : attr_numa;
    std::int32_t child_socket = socket;
    std::int32_t child_numa = numa;
    if (iequals(type, "Socket")) {
      child_socket = socket_index(name, w / "name");
    } else if (iequals(type, "Numa")) {
      std::int32_t id = parse_numa_id(name, w / "name");
      add_numa(id, socket, allocatable, capacity, std::move(allocations), w / "name");
      child_numa = id;
    } else if (iequals(type, "GPU")) {
      if (GpuZone* g = add_device(out_.gpus, name, device_numa, socket)) {
        g->allocatable = allocatable.has_gpu ? allocatable.gpus : 1;
        g->allocated = allocations.total.gpus;
      }
    } else if (iequals(type, "NIC")) {
      if (NicZone* n = add_device(out_.nics, name, device_numa, socket)) {
        n->allocatable_bandwidth = allocatable.bandwidth;
        n->allocated_bandwidth = allocations.total.bandwidth;
      }
    } else {
      out_.other.push_back({type, name});
    }
    if (const Json* children = detail::read_array(z, "children", w))
      for (std::size_t i = 0; i < children->size(); ++i)
        zone((*children)[i], (w / "children")[i], child_socket, child_numa);
  }

  /// The pre-May-2023 status.topologyStatus.sockets[].numas[] shape.
  void legacy_topology(const Json& ts, const Where& w) {
    const Json* sockets = detail::read_array(ts, "sockets", w);
    if (!sockets) return;
    for (std::size_t i = 0; i < sockets->size(); ++i) {
      const Json& s = (*sockets)[i];
      Where sw = (w / "sockets")[i];
      if (!s.is_object()) sw.fail(fmt::format("expected an object, got {}", s.type_name()));
      std::int64_t sid = detail::read_int(s, "socketID", sw, 0, 0, 1 << 20);
      std::int32_t socket = socket_index(std::to_string(sid), sw / "socketID");
      const Json* numas = detail::read_array(s, "numas", sw);
      if (!numas) continue;
      for (std::size_t j = 0; j < numas->size(); ++j) {
        const Json& n = (*numas)[j];
        Where nw = (sw / "numas")[j];
        if (!n.is_object()) nw.fail(fmt::format("expected an object, got {}", n.type_name()));
        auto id = static_cast<std::int32_t>(
            detail::read_int(n, "numaID", nw, -1, 0, static_cast<std::int64_t>(kMaxNumaZones) - 1));
        if (id < 0) nw.fail("missing numaID");
        Amounts allocatable = read_amounts(n, "allocatable", nw);
        Amounts capacity = read_amounts(n, "capacity", nw);
        if (!allocatable.present) allocatable = capacity;
        if (!capacity.present) capacity = allocatable;
        add_numa(id, socket, allocatable, capacity, read_allocations(n, nw), nw / "numaID");
      }
    }
  }

 private:
  std::int32_t socket_index(const std::string& name, const Where& w) {
    auto it = std::find(out_.sockets.begin(), out_.sockets.end(), name);
    if (it != out_.sockets.end()) return static_cast<std::int32_t>(it - out_.sockets.begin());
    if (out_.sockets.size() >= kMaxSockets)
      w.fail(fmt::format("more than {} sockets", kMaxSockets));
    out_.sockets.push_back(name);
    return static_cast<std::int32_t>(out_.sockets.size() - 1);
  }

  /// A new device zone `name` for the caller to fill, or nullptr when it was
  /// listed before: Katalyst lists a device attached to two NUMA nodes under
  /// both, so a second listing only adds its NUMA ids (and a socket when the
  /// first had none).
  template <class Zone>
  static Zone* add_device(std::vector<Zone>& zones, const std::string& name, std::uint64_t numa_ids,
                          std::int32_t socket) {
    auto it =
        std::find_if(zones.begin(), zones.end(), [&](const Zone& z) { return z.name == name; });
    if (it != zones.end()) {
      it->numa_ids |= numa_ids;
      if (it->socket < 0) it->socket = socket;
      return nullptr;
    }
    Zone& z = zones.emplace_back();
    z.name = name;
    z.numa_ids = numa_ids;
    z.socket = socket;
    return &z;
  }

  void add_numa(std::int32_t id, std::int32_t socket, const Amounts& allocatable,
                const Amounts& capacity, AllocationSum allocations, const Where& w) {
    for (const auto& z : out_.numa)
      if (z.id == id) w.fail(fmt::format("duplicate NUMA zone {}", id));
    NumaZone z;
    z.id = id;
    z.socket = socket;
    z.allocatable_milli_cpu = allocatable.cpu;
    z.allocatable_memory = allocatable.memory;
    z.capacity_milli_cpu = capacity.cpu;
    z.capacity_memory = capacity.memory;
    z.allocated_milli_cpu = allocations.total.cpu;
    z.allocated_memory = allocations.total.memory;
    z.consumers = std::move(allocations.consumers);
    out_.numa.push_back(std::move(z));
  }

  static std::uint64_t read_numa_attribute(const Json& z, const Where& w) {
    const Json* attrs = detail::read_array(z, "attributes", w);
    if (!attrs) return 0;
    std::uint64_t mask = 0;
    for (std::size_t i = 0; i < attrs->size(); ++i) {
      Where aw = (w / "attributes")[i];
      const Json& a = (*attrs)[i];
      if (!a.is_object()) aw.fail(fmt::format("expected an object, got {}", a.type_name()));
      std::string name = detail::read_string(a, "name", aw);
      std::string value = detail::read_string(a, "value", aw);
      if (name == "numa_node" || name == "numa_id" || name == "numa")
        mask |= parse_numa_list(value, aw / "value");
    }
    return mask;
  }

  NodeTopology& out_;
};

double read_pue(const Json& prop, const Where& w) {
  Quantity q;
  Where at = w / "propertyQuantity";
  if (const Json* pq = detail::member(prop, "propertyQuantity")) {
    q = detail::read_quantity(*pq, at);
  } else {
    const Json* vals = detail::read_array(prop, "propertyValues", w);
    if (!vals || vals->empty()) w.fail("needs propertyQuantity or propertyValues[0]");
    at = (w / "propertyValues")[0];
    q = detail::read_quantity((*vals)[0], at);
  }
  double pue = static_cast<double>(q.nano) / 1e9;
  if (!(pue >= kMinPue && pue <= kMaxPue))
    at.fail(fmt::format("PUE {} is outside [{}, {}]", pue, kMinPue, kMaxPue));
  return pue;
}

void read_properties(const Json& spec, const Where& w, NodeTopology& out) {
  const Json* props = detail::read_array(spec, "nodeResourceProperties", w);
  if (!props) return;
  for (std::size_t i = 0; i < props->size(); ++i) {
    Where pw = (w / "nodeResourceProperties")[i];
    const Json& p = (*props)[i];
    if (!p.is_object()) pw.fail(fmt::format("expected an object, got {}", p.type_name()));
    std::string name = detail::read_string(p, "propertyName", pw);
    if (name == kPowerZoneKey) {
      const Json* vals = detail::read_array(p, "propertyValues", pw);
      if (!vals || vals->empty() || !(*vals)[0].is_string() ||
          (*vals)[0].get<std::string>().empty())
        (pw / "propertyValues").fail("the power zone needs a non-empty string propertyValues[0]");
      out.power_zone = (*vals)[0].get<std::string>();
    } else if (name == kPueKey) {
      out.pue = read_pue(p, pw);
    }
  }
}

void read_reclaimed(const Json& status, const Where& w, NodeTopology& out) {
  Amounts alloc, cap;
  if (const Json* res = detail::read_object(status, "resources", w)) {
    alloc = read_amounts(*res, "allocatable", w / "resources");
    cap = read_amounts(*res, "capacity", w / "resources");
  }
  // katalyst-api before May 2023: status.resourceAllocatable / resourceCapacity.
  if (!alloc.present) alloc = read_amounts(status, "resourceAllocatable", w);
  if (!cap.present) cap = read_amounts(status, "resourceCapacity", w);
  if (!alloc.present) alloc = cap;
  if (!cap.present) cap = alloc;
  auto pick = [](bool has, std::int64_t v, bool has_legacy, std::int64_t legacy) {
    return has ? v : has_legacy ? legacy : 0;
  };
  out.reclaimed_reported = alloc.has_reclaimed_cpu || alloc.has_reclaimed_memory ||
                           alloc.has_legacy_reclaimed_cpu || alloc.has_legacy_reclaimed_memory;
  out.reclaimed_allocatable_milli_cpu =
      pick(alloc.has_reclaimed_cpu, alloc.reclaimed_cpu, alloc.has_legacy_reclaimed_cpu,
           alloc.legacy_reclaimed_cpu);
  out.reclaimed_allocatable_memory =
      pick(alloc.has_reclaimed_memory, alloc.reclaimed_memory, alloc.has_legacy_reclaimed_memory,
           alloc.legacy_reclaimed_memory);
  out.reclaimed_capacity_milli_cpu = pick(cap.has_reclaimed_cpu, cap.reclaimed_cpu,
                                          cap.has_legacy_reclaimed_cpu, cap.legacy_reclaimed_cpu);
  out.reclaimed_capacity_memory =
      pick(cap.has_reclaimed_memory, cap.reclaimed_memory, cap.has_legacy_reclaimed_memory,
           cap.legacy_reclaimed_memory);
}

NodeTopology parse_cnr(const Json& obj, const Where& at) {
  NodeTopology out;
  std::string api = detail::read_string(obj, "apiVersion", at);
  if (!api.empty() && !api.starts_with(kCnrGroup))
    (at / "apiVersion")
        .fail(fmt::format("CustomNodeResource of \"{}\"; expected {}v1alpha1", api, kCnrGroup));
  const Json* meta = detail::read_object(obj, "metadata", at);
  if (!meta) at.fail("missing metadata");
  out.node_name = detail::read_string(*meta, "name", at / "metadata");
  if (out.node_name.empty()) at.fail("missing metadata.name");
  Where where(at.str() + fmt::format(" (CustomNodeResource \"{}\")", out.node_name), "");
  if (const Json* spec = detail::read_object(obj, "spec", where))
    read_properties(*spec, where / "spec", out);
  if (const Json* status = detail::read_object(obj, "status", where)) {
    Where sw = where / "status";
    read_reclaimed(*status, sw, out);
    out.topology_policy = detail::read_string(*status, "topologyPolicy", sw);
    CnrParser parser(out);
    if (const Json* zones = detail::read_array(*status, "topologyZone", sw)) {
      for (std::size_t i = 0; i < zones->size(); ++i)
        parser.zone((*zones)[i], (sw / "topologyZone")[i], -1, -1);
    } else if (const Json* legacy = detail::read_object(*status, "topologyStatus", sw)) {
      parser.legacy_topology(*legacy, sw / "topologyStatus");
    }
  }
  std::sort(out.numa.begin(), out.numa.end(),
            [](const NumaZone& a, const NumaZone& b) { return a.id < b.id; });
  return out;
}

}  // namespace

TopologyObjects parse_topologies(std::string_view text, std::string_view source,
                                 const ParseLimits& limits) {
  TopologyObjects out;
  detail::read_objects(
      text, source, limits, {kCnrKind}, out.skipped_kinds,
      [&](const Json& obj, const Where& where, std::string_view) {
        NodeTopology t = parse_cnr(obj, where);
        for (const auto& other : out.nodes)
          if (other.node_name == t.node_name)
            (where / "metadata" / "name")
                .fail(fmt::format("duplicate CustomNodeResource \"{}\"", t.node_name));
        out.nodes.push_back(std::move(t));
      });
  return out;
}

// ---------------------------------------------------------------------------
// TopologyTable

namespace {

std::int32_t clamp_i32(std::int64_t v) {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, 0, 0x7FFFFFFF));
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

std::int64_t column_at(std::span<const std::int64_t> col, NodeIndex i) {
  return i < col.size() ? col[i] : 0;
}

std::int64_t requested_of(const ClusterSnapshot& snap, std::string_view name, NodeIndex i) {
  ResourceId r = snap.resources().find(name);
  return r == kUnknownResource ? 0 : column_at(snap.requested(r), i);
}

bool pue_from_text(const std::string& text, double* pue, std::string* error) {
  Quantity q;
  if (!try_parse_quantity(text, &q, error)) return false;
  *pue = static_cast<double>(q.nano) / 1e9;
  if (!(*pue >= kMinPue && *pue <= kMaxPue)) {
    *error = fmt::format("PUE {} is outside [{}, {}]", text, kMinPue, kMaxPue);
    return false;
  }
  return true;
}

}  // namespace

TopologyTable TopologyTable::build(const ClusterSnapshot& snapshot,
                                   std::span<const NodeTopology> topologies) {
  TopologyTable t;
  const NodeIndex n = snapshot.node_count();
  t.node_count_ = n;
  t.generation_ = snapshot.generation();
  std::vector<const NodeTopology*> by_node(n, nullptr);
  for (const NodeTopology& topo : topologies) {
    if (auto i = snapshot.find_node(topo.node_name)) {
      by_node[*i] = &topo;  // a later CNR for the same node replaces an earlier one
    } else {
      t.unmatched_.push_back(topo.node_name);
    }
  }
  t.flags_.assign(n, 0);
  t.numa_per_socket_.assign(n, 0);
  t.numa_size_milli_cpu_.assign(n, 0);
  t.numa_size_memory_.assign(n, 0);
  t.gpus_free_.assign(n, 0);
  t.gpus_total_.assign(n, 0);
  t.pue_.assign(n, 1.0);
  t.power_score_.assign(n, 50);
  t.power_zone_.assign(n, kNoPowerZone);
  t.reclaimed_free_cpu_.assign(n, 0);
  t.reclaimed_free_memory_.assign(n, 0);
  t.nic_socket_mask_.assign(n, 0);
  t.numa_offset_.assign(1, 0);
  t.gpu_offset_.assign(1, 0);

  const StringPool& strings = snapshot.strings();
  const StringId zone_key = strings.find(kPowerZoneKey);
  const StringId pue_key = strings.find(kPueKey);
  std::unordered_map<std::string, std::uint32_t> zone_ids;
  auto intern_zone = [&](const std::string& name) {
    auto [it, inserted] = zone_ids.emplace(name, static_cast<std::uint32_t>(t.power_zones_.size()));
    if (inserted) t.power_zones_.push_back(name);
    return it->second;
  };
  std::vector<ResourceId> gpu_resources;
  for (std::size_t r = 0; r < snapshot.resources().size(); ++r)
    if (is_gpu_resource(snapshot.resources().name(static_cast<ResourceId>(r))))
      gpu_resources.push_back(static_cast<ResourceId>(r));

  for (NodeIndex i = 0; i < n; ++i) {
    const NodeTopology* topo = by_node[i];
    std::uint8_t flags = topo ? 0 : kTopoNone;

    // Power zone and PUE: the CNR's properties, else the node's labels.
    std::string power_zone = topo ? topo->power_zone : std::string();
    bool pue_known = topo && topo->pue.has_value();
    double pue = pue_known ? topo->pue.value() : 1.0;
    if (power_zone.empty() && zone_key != kNoString) {
      StringId v = snapshot.label(i, zone_key);
      if (v != kNoString) power_zone = strings.str(v);
    }
    if (!pue_known && pue_key != kNoString) {
      StringId v = snapshot.label(i, pue_key);
      if (v != kNoString) {
        std::string error;
        pue_known = pue_from_text(strings.str(v), &pue, &error);
        if (!pue_known)
          throw InvalidInput(fmt::format("Node \"{}\": metadata.labels.{}: {}",
                                         snapshot.node_name(i), kPueKey, error));
      }
    }
    if (!power_zone.empty()) t.power_zone_[i] = intern_zone(power_zone);
    if (pue_known) {
      t.pue_[i] = pue;
      flags |= kTopoPueKnown;
      const double power = std::clamp((2.0 - pue) * 100.0, 0.0, 100.0);
      t.power_score_[i] = static_cast<std::uint8_t>(std::floor(power + 0.5));
    }

    // Reclaimed: allocatable from the CNR minus what bound pods request.
    if (topo && topo->reclaimed_reported) {
      flags |= kTopoReclaimed;
      std::int64_t used_cpu = saturating_add(requested_of(snapshot, kReclaimedMilliCpu, i),
                                             requested_of(snapshot, kLegacyReclaimedMilliCpu, i));
      std::int64_t used_mem = saturating_add(requested_of(snapshot, kReclaimedMemory, i),
                                             requested_of(snapshot, kLegacyReclaimedMemory, i));
      t.reclaimed_free_cpu_[i] =
          std::max<std::int64_t>(0, topo->reclaimed_allocatable_milli_cpu - used_cpu);
      t.reclaimed_free_memory_[i] =
          std::max<std::int64_t>(0, topo->reclaimed_allocatable_memory - used_mem);
    }

    // NUMA zones, in id order; positions index the per-node bit masks.
    std::array<std::int32_t, kMaxNumaZones> position_of_id{};
    position_of_id.fill(-1);
    std::uint64_t nic_socket_mask = 0;
    std::uint64_t nic_numa_ids = 0;
    if (topo) {
      for (const NicZone& nic : topo->nics) {
        if (nic.socket >= 0) nic_socket_mask |= std::uint64_t{1} << nic.socket;
        nic_numa_ids |= nic.numa_ids;
      }
      std::array<std::uint8_t, 256> per_socket{};
      std::int64_t cap_cpu = 0, cap_mem = 0;
      for (std::size_t k = 0; k < topo->numa.size(); ++k) {
        const NumaZone& z = topo->numa[k];
        position_of_id[static_cast<std::size_t>(z.id)] = static_cast<std::int32_t>(k);
        std::uint8_t socket = z.socket >= 0 ? static_cast<std::uint8_t>(z.socket) : 0xFF;
        ++per_socket[socket];
        cap_cpu = saturating_add(cap_cpu, z.capacity_milli_cpu);
        cap_mem = saturating_add(cap_mem, z.capacity_memory);
        std::uint8_t nflags = z.idle() ? kNumaIdle : 0;
        bool nic_local = ((nic_numa_ids >> z.id) & 1u) != 0 ||
                         (z.socket >= 0 && ((nic_socket_mask >> z.socket) & 1u) != 0);
        if (nic_local) nflags |= kNumaNicLocal;
        if (nic_local) flags |= kTopoNicKnown;
        t.numa_free_cpu_.push_back(z.free_milli_cpu());
        t.numa_free_memory_.push_back(z.free_memory());
        t.numa_socket_.push_back(socket);
        t.numa_flags_.push_back(nflags);
        t.numa_id_.push_back(z.id);
      }
      if (!topo->numa.empty()) {
        auto count = static_cast<std::int64_t>(topo->numa.size());
        t.numa_size_milli_cpu_[i] = ceil_div(cap_cpu, count);
        t.numa_size_memory_[i] = ceil_div(cap_mem, count);
        t.numa_per_socket_[i] = *std::max_element(per_socket.begin(), per_socket.end());
      }
    }
    t.numa_offset_.push_back(static_cast<std::uint32_t>(t.numa_free_cpu_.size()));
    t.nic_socket_mask_[i] = nic_socket_mask;
    if (nic_socket_mask != 0) flags |= kTopoNicKnown;

    // GPUs: CNR GPU zones, else the node's */gpu allocatable minus requests.
    std::int64_t free_gpus = 0, total_gpus = 0;
    if (topo && !topo->gpus.empty()) {
      for (const GpuZone& g : topo->gpus) {
        std::uint64_t numa_mask = 0, socket_mask = 0;
        for (std::size_t id = 0; id < kMaxNumaZones; ++id) {
          if (((g.numa_ids >> id) & 1u) == 0) continue;
          std::int32_t pos = position_of_id[id];
          if (pos < 0) continue;
          numa_mask |= std::uint64_t{1} << pos;
          std::int32_t s = topo->numa[static_cast<std::size_t>(pos)].socket;
          if (s >= 0) socket_mask |= std::uint64_t{1} << s;
        }
        if (g.socket >= 0) socket_mask |= std::uint64_t{1} << g.socket;
        t.gpu_free_.push_back(clamp_i32(g.free()));
        t.gpu_numa_mask_.push_back(numa_mask);
        t.gpu_socket_mask_.push_back(socket_mask);
        free_gpus = saturating_add(free_gpus, g.free());
        total_gpus = saturating_add(total_gpus, g.allocatable);
      }
    } else {
      if (topo) flags |= kTopoGpusFromNode;
      for (ResourceId r : gpu_resources) {
        std::int64_t alloc = column_at(snapshot.allocatable(r), i);
        total_gpus = saturating_add(total_gpus, alloc);
        free_gpus = saturating_add(
            free_gpus, std::max<std::int64_t>(0, alloc - column_at(snapshot.requested(r), i)));
      }
    }
    t.gpu_offset_.push_back(static_cast<std::uint32_t>(t.gpu_free_.size()));
    t.gpus_free_[i] = clamp_i32(free_gpus);
    t.gpus_total_[i] = clamp_i32(total_gpus);
    t.flags_[i] = flags;
  }
  return t;
}

// ---------------------------------------------------------------------------
// Pod request

PodTopologyRequest pod_topology_request(const Pod& pod) {
  PodTopologyRequest req;
  const KatalystQosLevel level = katalyst_qos_level(pod);
  // Katalyst's default level is shared_cores (pkg/config/generic/qos.go).
  req.qos = level == KatalystQosLevel::kNone ? KatalystQosLevel::kSharedCores : level;
  req.reclaimed = req.qos == KatalystQosLevel::kReclaimedCores;
  const KatalystMemoryEnhancement mem = katalyst_memory_enhancement(pod);
  req.numa_binding = mem.numa_binding;
  // Katalyst's IsPodNumaExclusive: binding, exclusive and dedicated_cores.
  req.numa_exclusive =
      mem.numa_binding && mem.numa_exclusive && req.qos == KatalystQosLevel::kDedicatedCores;
  req.numa_number = mem.numa_number.value_or(0);

  bool has_rcpu = false, has_rmem = false;
  std::int64_t rcpu = 0, rmem = 0;
  for (const ResourceAmount& r : pod_requests(pod, RequestDefaults::kAsWritten)) {
    if (r.name == "cpu") {
      req.milli_cpu = r.amount;
    } else if (r.name == "memory") {
      req.memory = r.amount;
    } else if (r.name == kReclaimedMilliCpu || r.name == kLegacyReclaimedMilliCpu) {
      rcpu = saturating_add(rcpu, r.amount);
      has_rcpu = true;
    } else if (r.name == kReclaimedMemory || r.name == kLegacyReclaimedMemory) {
      rmem = saturating_add(rmem, r.amount);
      has_rmem = true;
    } else if (is_gpu_resource(r.name)) {
      req.gpus = saturating_add(req.gpus, r.amount);
    }
  }
  // Katalyst's webhook rewrites a reclaimed_cores pod's cpu / memory into the
  // reclaimed resources; a pod not rewritten yet asks for the same amounts.
  if (req.reclaimed) {
    if (has_rcpu) req.milli_cpu = rcpu;
    if (has_rmem) req.memory = rmem;
  }
  return req;
}

// ---------------------------------------------------------------------------
// Alignment

std::string_view topology_reason_text(TopologyReason reason) {
  switch (reason) {
    case TopologyReason::kFits:
      return "fits";
    case TopologyReason::kNoTopology:
      return "no topology (no CustomNodeResource)";
    case TopologyReason::kInsufficientReclaimed:
      return "insufficient reclaimed resources";
    case TopologyReason::kInsufficientGpu:
      return "insufficient free GPUs";
    case TopologyReason::kNoNumaZones:
      return "numa_binding on a node without NUMA zones";
    case TopologyReason::kNumaNumberTooLarge:
      return "numa_number exceeds the node's NUMA zones";
    case TopologyReason::kExceedsOneNuma:
      return "numa_binding without numa_exclusive needs more than one NUMA zone";
    case TopologyReason::kNumaInsufficient:
      return "insufficient NUMA resources";
    case TopologyReason::kNumaExclusiveBusy:
      return "no idle NUMA zones for numa_exclusive";
  }
  return "unknown";
}

namespace {

// Exhaustive search over NUMA subsets up to this many zones per node (the
// kubelet Topology Manager's and Katalyst's maxAllowableNUMANodes); a
// greedy choice per socket beyond.
constexpr std::uint32_t kExhaustiveNumaLimit = 8;

/// The node's view for one search, read from the table.
struct NodeView {
  std::uint32_t count;
  std::uint32_t per_socket;
  const std::int64_t* free_cpu;
  const std::int64_t* free_mem;
  const std::uint8_t* socket;
  const std::uint8_t* flags;
  std::uint32_t gpu_count;
  const std::int32_t* gpu_free;
  const std::uint64_t* gpu_numa;
  const std::uint64_t* gpu_socket;
  bool nic_known;
};

NodeView view_of(const TopologyTable& t, NodeIndex i) {
  std::uint32_t b = t.numa_begin(i);
  std::uint32_t g = t.gpu_begin(i);
  NodeView v{};
  v.count = t.numa_count(i);
  v.per_socket = std::max<std::uint32_t>(1, t.numa_per_socket()[i]);
  v.free_cpu = t.numa_free_milli_cpu().data() + b;
  v.free_mem = t.numa_free_memory().data() + b;
  v.socket = t.numa_socket().data() + b;
  v.flags = t.numa_flags().data() + b;
  v.gpu_count = t.gpu_count(i);
  v.gpu_free = t.gpu_free().data() + g;
  v.gpu_numa = t.gpu_numa_mask().data() + g;
  v.gpu_socket = t.gpu_socket_mask().data() + g;
  v.nic_known = t.nic_socket_mask()[i] != 0;
  for (std::uint32_t k = 0; k < v.count && !v.nic_known; ++k)
    v.nic_known = (v.flags[k] & kNumaNicLocal) != 0;
  return v;
}

std::uint64_t sockets_of(const NodeView& v, std::uint64_t mask) {
  std::uint64_t s = 0;
  for (std::uint64_t m = mask; m != 0; m &= m - 1) {
    std::uint8_t sock = v.socket[std::countr_zero(m)];
    s |= sock == 0xFF ? (std::uint64_t{1} << 63) : (std::uint64_t{1} << (sock & 63));
  }
  return s;
}

/// GPU locality credit in half-GPUs for the zones `mask`, capped at the
/// request: a free GPU on those zones counts 2, one on the same socket or
/// of unknown affinity counts 1, one known to be elsewhere 0.
std::int64_t gpu_credit(const NodeView& v, std::uint64_t mask, std::int64_t want,
                        std::int64_t node_free, bool from_node) {
  if (want <= 0) return 0;
  if (from_node || v.gpu_count == 0 || mask == 0) return std::min(want, node_free);
  std::uint64_t sockets = sockets_of(v, mask);
  std::int64_t local = 0, near = 0;
  for (std::uint32_t g = 0; g < v.gpu_count; ++g) {
    if (v.gpu_numa[g] & mask) {
      local += v.gpu_free[g];
    } else if ((v.gpu_socket[g] & sockets) || (v.gpu_numa[g] == 0 && v.gpu_socket[g] == 0)) {
      near += v.gpu_free[g];
    }
  }
  std::int64_t full = std::min(local, want);
  std::int64_t half = std::min(near, want - full);
  return 2 * full + half;
}

bool nic_local(const NodeView& v, std::uint64_t mask) {
  for (std::uint64_t m = mask; m != 0; m &= m - 1)
    if (v.flags[std::countr_zero(m)] & kNumaNicLocal) return true;
  return false;
}

struct SearchResult {
  std::uint64_t mask = 0;
  std::uint32_t count = 0;
};

struct SearchInput {
  std::int64_t cpu;
  std::int64_t mem;
  std::int64_t gpus;
  std::int64_t node_free_gpus;
  bool gpus_from_node;
  bool require_idle;
};

bool valid_set(const NodeView& v, std::uint64_t mask, std::uint32_t k, const SearchInput& in) {
  std::int64_t cpu = 0, mem = 0;
  for (std::uint64_t m = mask; m != 0; m &= m - 1) {
    auto p = static_cast<std::uint32_t>(std::countr_zero(m));
    if (in.require_idle && !(v.flags[p] & kNumaIdle)) return false;
    cpu = saturating_add(cpu, v.free_cpu[p]);
    mem = saturating_add(mem, v.free_mem[p]);
  }
  if (cpu < in.cpu || mem < in.mem) return false;
  // Katalyst: a set no larger than one socket's NUMA zones must not cross sockets.
  if (k <= v.per_socket && std::popcount(sockets_of(v, mask)) > 1) return false;
  return true;
}

/// Preference among valid sets of the same size: GPU credit, then NIC locality.
std::int64_t preference(const NodeView& v, std::uint64_t mask, const SearchInput& in) {
  return gpu_credit(v, mask, in.gpus, in.node_free_gpus, in.gpus_from_node) * 2 +
         (nic_local(v, mask) ? 1 : 0);
}

/// The best set of exactly k zones, or mask 0.
std::uint64_t best_of_size(const NodeView& v, std::uint32_t k, const SearchInput& in) {
  const std::uint32_t n = v.count;
  std::uint64_t best = 0;
  std::int64_t best_pref = -1;
  if (n <= kExhaustiveNumaLimit) {
    // Every k-subset in increasing order (Gosper's hack); the lowest mask wins ties.
    std::uint64_t mask = (std::uint64_t{1} << k) - 1;
    const std::uint64_t limit = std::uint64_t{1} << n;
    while (mask < limit) {
      if (valid_set(v, mask, k, in)) {
        std::int64_t pref = preference(v, mask, in);
        if (pref > best_pref) {
          best_pref = pref;
          best = mask;
        }
      }
      std::uint64_t c = mask & (~mask + 1);
      std::uint64_t r = mask + c;
      mask = (((r ^ mask) >> 2) / c) | r;
    }
    return best;
  }
  // Greedy beyond kExhaustiveNumaLimit: per socket (or the whole node when k
  // spans sockets), the k eligible zones with the most free cpu.
  const bool per_socket = k <= v.per_socket;
  std::array<std::uint8_t, kMaxNumaZones> cand{};
  // Groups 0..63 are sockets, group 64 the zones under no socket.
  for (std::uint32_t group = 0; group < (per_socket ? kMaxSockets + 1 : 1u); ++group) {
    const std::uint32_t socket = group == kMaxSockets ? 0xFFu : group;
    std::uint32_t m = 0;
    for (std::uint32_t p = 0; p < n; ++p) {
      if (per_socket && v.socket[p] != socket) continue;
      if (in.require_idle && !(v.flags[p] & kNumaIdle)) continue;
      cand[m++] = static_cast<std::uint8_t>(p);
    }
    if (m < k) continue;
    const auto first = cand.begin();
    std::partial_sort(first, first + static_cast<std::ptrdiff_t>(k),
                      first + static_cast<std::ptrdiff_t>(m), [&](std::uint8_t a, std::uint8_t b) {
                        return v.free_cpu[a] != v.free_cpu[b] ? v.free_cpu[a] > v.free_cpu[b]
                                                              : a < b;
                      });
    std::uint64_t mask = 0;
    for (std::uint32_t j = 0; j < k; ++j) mask |= std::uint64_t{1} << cand[j];
    if (valid_set(v, mask, k, in)) {
      std::int64_t pref = preference(v, mask, in);
      if (pref > best_pref) {
        best_pref = pref;
        best = mask;
      }
    }
  }
  return best;
}

SearchResult search(const NodeView& v, std::uint32_t k_lo, std::uint32_t k_hi,
                    const SearchInput& in) {
  for (std::uint32_t k = std::max<std::uint32_t>(k_lo, 1); k <= k_hi && k <= v.count; ++k)
    if (std::uint64_t mask = best_of_size(v, k, in)) return {mask, k};
  return {};
}

constexpr std::uint32_t kUnplaceable = 255;

/// The fewest zones of this node's NUMA size that hold the request; 0 for
/// a request without cpu and memory; kUnplaceable when a zone size is 0 but
/// the resource is requested, or more than 254 would be needed.
std::uint32_t ideal_count(const TopologyTable& t, NodeIndex i, const PodTopologyRequest& req) {
  if (req.milli_cpu <= 0 && req.memory <= 0) return 0;
  std::int64_t need = 1;
  auto per = [&](std::int64_t want, std::int64_t size) {
    if (want <= 0) return;
    if (size <= 0) {
      need = kUnplaceable;
    } else if (want > size) {  // one zone holds it: no division
      need = std::max(need, ceil_div(want, size));
    }
  };
  per(req.milli_cpu, t.numa_size_milli_cpu()[i]);
  per(req.memory, t.numa_size_memory()[i]);
  return static_cast<std::uint32_t>(std::min<std::int64_t>(need, kUnplaceable));
}

NumaFit fail(NumaFit r, TopologyReason reason) {
  r.fits = false;
  r.reason = reason;
  return r;
}

}  // namespace

namespace {

/// Whether `req` is the common case fast_fit() answers: no binding, GPUs or
/// reclaimed pool (such a pod always fits; the search only finds the fewest
/// zones holding it, for the score). Decided once per pod, not per node.
bool simple_request(const PodTopologyRequest& req) {
  return !req.numa_binding && !req.reclaimed && req.gpus <= 0;
}

/// fits_numa_reference() for a simple_request() on a node with topology,
/// when it can be had without the subset search (else false). Without a
/// usable ideal count there is nothing to search; with an ideal of one zone
/// (up to kExhaustiveNumaLimit zones, where the reference enumerates
/// exhaustively) the search would try single zones in position order and
/// prefer the first NIC-local one (preference() without GPUs is NIC
/// locality alone; one zone never crosses sockets), which one scan answers.
inline bool fast_fit(const TopologyTable& t, NodeIndex i, const PodTopologyRequest& req,
                     NumaFit& r) {
  const std::uint32_t count = t.numa_count(i);
  const std::uint32_t ideal = ideal_count(t, i, req);
  r = NumaFit{};
  r.fits = true;
  r.ideal_numa_count = static_cast<std::uint8_t>(ideal);
  if (count == 0 || ideal == 0 || ideal > count) return true;
  if (ideal != 1 || count > kExhaustiveNumaLimit) return false;
  const std::uint32_t b = t.numa_begin(i);
  const std::int64_t* free_cpu = t.numa_free_milli_cpu().data() + b;
  const std::int64_t* free_mem = t.numa_free_memory().data() + b;
  r.numa_count = 1;
  if ((t.flags()[i] & kTopoNicKnown) == 0) {
    // No zone is NIC-local: the first zone that holds the request wins.
    for (std::uint32_t p = 0; p < count; ++p) {
      if (free_cpu[p] >= req.milli_cpu && free_mem[p] >= req.memory) {
        r.numa_mask = std::uint64_t{1} << p;
        return true;
      }
    }
    return false;  // the reference goes on to larger sets
  }
  const std::uint8_t* flags = t.numa_flags().data() + b;
  std::uint32_t fits_mask = 0, nic_mask = 0;
  for (std::uint32_t p = 0; p < count; ++p) {
    const bool fits = free_cpu[p] >= req.milli_cpu && free_mem[p] >= req.memory;
    fits_mask |= static_cast<std::uint32_t>(fits) << p;
    nic_mask |= static_cast<std::uint32_t>((flags[p] & kNumaNicLocal) != 0) << p;
  }
  if (fits_mask == 0) return false;  // the reference goes on to larger sets
  const std::uint32_t chosen = (fits_mask & nic_mask) != 0 ? fits_mask & nic_mask : fits_mask;
  r.numa_mask = std::uint64_t{1} << std::countr_zero(chosen);
  return true;
}

}  // namespace

NumaFit fits_numa(const TopologyTable& t, NodeIndex i, const PodTopologyRequest& req) {
  NumaFit r;
  if (simple_request(req) && t.has_topology(i) && fast_fit(t, i, req, r)) return r;
  return fits_numa_reference(t, i, req);
}

NumaFit fits_numa_reference(const TopologyTable& t, NodeIndex i, const PodTopologyRequest& req) {
  NumaFit r;
  if (!t.has_topology(i)) {
    r.fits = true;
    r.reason = TopologyReason::kNoTopology;
    return r;
  }
  if (req.gpus > 0 && t.gpus_free()[i] < req.gpus) return fail(r, TopologyReason::kInsufficientGpu);
  if (req.reclaimed) {
    // Reclaimed pods run on the reclaimed pool; Katalyst's scheduler places
    // them by node-level reclaimed resources only.
    if (req.milli_cpu > t.reclaimed_free_milli_cpu()[i] ||
        req.memory > t.reclaimed_free_memory()[i])
      return fail(r, TopologyReason::kInsufficientReclaimed);
    r.fits = true;
    return r;
  }
  const NodeView v = view_of(t, i);
  const std::uint32_t ideal = ideal_count(t, i, req);
  r.ideal_numa_count = static_cast<std::uint8_t>(ideal);
  SearchInput in{req.milli_cpu,
                 req.memory,
                 req.gpus,
                 t.gpus_free()[i],
                 (t.flags()[i] & kTopoGpusFromNode) != 0,
                 false};
  if (!req.numa_binding) {
    // Not a constraint: the fewest zones that hold the request, for the score.
    if (v.count > 0 && ideal >= 1 && ideal <= v.count) {
      SearchResult s = search(v, ideal, v.count, in);
      r.numa_mask = s.mask;
      r.numa_count = static_cast<std::uint8_t>(s.count);
    }
    r.fits = true;
    return r;
  }
  if (v.count == 0) return fail(r, TopologyReason::kNoNumaZones);
  if (static_cast<std::uint32_t>(req.numa_number) > v.count)
    return fail(r, TopologyReason::kNumaNumberTooLarge);
  // The zones report none of a requested resource: no set can hold it.
  if (ideal == kUnplaceable) return fail(r, TopologyReason::kNumaInsufficient);
  const std::uint32_t need = std::max<std::uint32_t>(ideal, 1);
  std::uint32_t k_lo = need, k_hi = v.count;
  if (req.numa_number > 0) {
    if (need > static_cast<std::uint32_t>(req.numa_number))
      return fail(r, TopologyReason::kNumaInsufficient);
    k_lo = k_hi = static_cast<std::uint32_t>(req.numa_number);
  } else if (!req.numa_exclusive) {
    if (need > 1) return fail(r, TopologyReason::kExceedsOneNuma);
    k_lo = k_hi = 1;
  } else if (need > v.count) {
    return fail(r, TopologyReason::kNumaInsufficient);
  }
  in.require_idle = req.numa_exclusive;
  SearchResult s = search(v, k_lo, k_hi, in);
  if (s.count == 0) {
    if (req.numa_exclusive) {
      in.require_idle = false;
      if (search(v, k_lo, k_hi, in).count != 0) return fail(r, TopologyReason::kNumaExclusiveBusy);
    }
    return fail(r, TopologyReason::kNumaInsufficient);
  }
  r.fits = true;
  r.numa_mask = s.mask;
  r.numa_count = static_cast<std::uint8_t>(s.count);
  return r;
}

std::int64_t topology_alignment_score(const TopologyTable& t, NodeIndex i,
                                      const PodTopologyRequest& req) {
  return topology_alignment_score(t, i, req, fits_numa(t, i, req));
}

namespace {

inline std::int64_t score_of(const TopologyTable& t, NodeIndex i, const PodTopologyRequest& req,
                             const NumaFit& fit, const TopologyScoreTerms& terms) {
  if (!t.has_topology(i)) return kNeutralTopologyScore;
  if (!fit.fits) return 0;
  const std::uint32_t zone_count = t.numa_count(i);

  // NUMA: 100 × ideal / used zones; 100 for reclaimed pods and requests
  // without cpu and memory; 50 when the node reports no NUMA zones.
  std::int64_t numa = 100;
  if (!req.reclaimed && fit.ideal_numa_count > 0) {
    if (zone_count == 0) {
      numa = 50;
    } else if (fit.numa_count == 0) {
      numa = 0;
    } else if (fit.numa_count == 1) {  // the common one-zone fit: no division
      numa = 100 * fit.ideal_numa_count;
    } else {
      numa = 100 * fit.ideal_numa_count / fit.numa_count;
    }
  }

  // Device: GPU credit when GPUs are requested, else NIC locality.
  std::int64_t device = 50;
  if (req.gpus > 0) {
    std::int64_t credit = gpu_credit(view_of(t, i), fit.numa_mask, req.gpus, t.gpus_free()[i],
                                     (t.flags()[i] & kTopoGpusFromNode) != 0);
    device = 100 * credit / (2 * req.gpus);
  } else if ((t.flags()[i] & kTopoNicKnown) && fit.numa_mask != 0) {
    const std::uint8_t* flags = t.numa_flags().data() + t.numa_begin(i);
    bool local = false;
    for (std::uint64_t m = fit.numa_mask; m != 0 && !local; m &= m - 1)
      local = (flags[std::countr_zero(m)] & kNumaNicLocal) != 0;
    device = local ? 100 : 0;
  }

  // Power: 100 × (2 − PUE), clamped; PUE 1.5 when unknown (precomputed).
  std::int64_t power = t.power_score()[i];
  if (!terms.numa) numa = 50;
  if (!terms.device) device = 50;
  if (!terms.power) power = 50;
  return (50 * numa + 30 * device + 20 * power) / 100;
}

}  // namespace

std::int64_t topology_alignment_score(const TopologyTable& t, NodeIndex i,
                                      const PodTopologyRequest& req, const NumaFit& fit,
                                      const TopologyScoreTerms& terms) {
  return score_of(t, i, req, fit, terms);
}

void topology_alignment_scores(const TopologyTable& t, std::span<const NodeIndex> nodes,
                               const PodTopologyRequest& req, const TopologyScoreTerms& terms,
                               std::span<std::int64_t> scores) {
  const bool simple = simple_request(req);
  NumaFit fit;
  for (std::size_t k = 0; k < nodes.size(); ++k) {
    const NodeIndex i = nodes[k];
    if (!(simple && t.has_topology(i) && fast_fit(t, i, req, fit)))
      fit = fits_numa_reference(t, i, req);
    scores[k] = score_of(t, i, req, fit, terms);
  }
}

CARBONKUBE_NAMESPACE_END
