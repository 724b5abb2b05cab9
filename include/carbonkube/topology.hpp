// carbonkube/topology.hpp: node hardware topology from Katalyst
// CustomNodeResources (CNR, node.katalyst.kubewharf.io/v1alpha1): sockets,
// NUMA zones with their free cpu and memory, GPUs and NICs with their NUMA
// affinity, reclaimed resources and the node's power zone and PUE; the
// compact per-cluster TopologyTable the topology plugins score on; a pod's
// NUMA request from its Katalyst annotations; and the pure, allocation-free
// alignment checks and score. docs/topology.md gives the semantics and sources.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/energy.hpp"  // kPueKey, shared with the energy model
#include "carbonkube/kube.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

// ---------------------------------------------------------------------------
// Names read from CNRs, nodes and pods.

/// Reclaimed (best-effort) resources a node offers: current names and the
/// names katalyst-api used before May 2023. Quantities are read with
/// Quantity.Value(), so reclaimed_millicpu "40k" is 40000 millicores.
inline constexpr std::string_view kReclaimedMilliCpu =
    "resource.katalyst.kubewharf.io/reclaimed_millicpu";
inline constexpr std::string_view kReclaimedMemory =
    "resource.katalyst.kubewharf.io/reclaimed_memory";
inline constexpr std::string_view kLegacyReclaimedMilliCpu =
    "katalyst.kubewharf.io/reclaimed_millicpu";
inline constexpr std::string_view kLegacyReclaimedMemory = "katalyst.kubewharf.io/reclaimed_memory";
/// NIC bandwidth, as Katalyst's network plugin reports it in NIC zones.
inline constexpr std::string_view kNetBandwidth = "resource.katalyst.kubewharf.io/net_bandwidth";

/// Pod annotations (katalyst-api pkg/consts/qos.go): other names for the
/// keys qos.hpp defines and parses (katalyst_qos_level(),
/// katalyst_memory_enhancement()).
inline constexpr std::string_view kQosLevelAnnotation = kKatalystQosLevelKey;
inline constexpr std::string_view kMemoryEnhancementAnnotation = kKatalystMemoryEnhancementKey;
inline constexpr std::string_view kNumaNumberAnnotation = kKatalystNumaNumberKey;

/// carbonkube's own keys for a node's power zone and PUE (kPueKey,
/// energy.hpp): a CNR spec.nodeResourceProperties entry (propertyValues[0] /
/// propertyQuantity), else a node label of the same name.
inline constexpr std::string_view kPowerZoneKey = "carbon-kube.io/power-zone";
/// Accepted PUE range: 1.0 is the physical lower bound; above 10 is a typo.
inline constexpr double kMinPue = 1.0;
inline constexpr double kMaxPue = 10.0;

/// Sockets per node that carbonkube handles. (kMaxNumaZones, the NUMA zones
/// per node, is in qos.hpp: it also bounds katalyst.kubewharf.io/numa_number.)
inline constexpr std::size_t kMaxSockets = 64;

// ---------------------------------------------------------------------------
// The parsed model (cold path: strings, vectors).

struct NumaZone {
  std::int32_t id = 0;       // the zone's name, an integer 0..63 ("0", "1", ...)
  std::int32_t socket = -1;  // index into NodeTopology::sockets; -1: not under a Socket zone
  std::int64_t allocatable_milli_cpu = 0;  // resources.allocatable (else capacity)
  std::int64_t allocatable_memory = 0;     // bytes
  std::int64_t capacity_milli_cpu = 0;     // resources.capacity (else allocatable)
  std::int64_t capacity_memory = 0;
  /// Σ allocations[].requests (cpu in millicores, memory in bytes).
  std::int64_t allocated_milli_cpu = 0;
  std::int64_t allocated_memory = 0;
  /// allocations[].consumer ("namespace/name/uid") whose cpu or memory request is > 0.
  std::vector<std::string> consumers;

  std::int64_t free_milli_cpu() const {
    return allocated_milli_cpu >= allocatable_milli_cpu
               ? 0
               : allocatable_milli_cpu - allocated_milli_cpu;
  }
  std::int64_t free_memory() const {
    return allocated_memory >= allocatable_memory ? 0 : allocatable_memory - allocated_memory;
  }
  /// No allocation holds cpu or memory here (what numa_exclusive needs).
  bool idle() const { return consumers.empty(); }
};

struct GpuZone {
  std::string name;  // the device id Katalyst reports
  /// NUMA ids the GPU is attached to (bit i = NUMA id i): its parent NUMA
  /// zones, else a "numa_node"/"numa_id" attribute ("0" or "0,1"); 0 = unknown.
  std::uint64_t numa_ids = 0;
  std::int32_t socket = -1;      // index into sockets (parent Socket zone), -1 unknown
  std::int64_t allocatable = 0;  // whole GPUs: Σ resources named */gpu, 1 when none is listed
  std::int64_t allocated = 0;    // Σ allocations' */gpu requests
  std::int64_t free() const { return allocated >= allocatable ? 0 : allocatable - allocated; }
};

struct NicZone {
  std::string name;                        // interface name or resource identifier
  std::uint64_t numa_ids = 0;              // parent NUMA zones (bit i = NUMA id i); 0 unknown
  std::int32_t socket = -1;                // index into sockets; -1 unknown
  std::int64_t allocatable_bandwidth = 0;  // net_bandwidth allocatable (as reported)
  std::int64_t allocated_bandwidth = 0;
};

/// A zone of a type carbonkube does not model (L3CacheGroup, Storage, ...):
/// kept so nothing is silently dropped, never an error.
struct OtherZone {
  std::string type;
  std::string name;
};

struct NodeTopology {
  std::string node_name;             // metadata.name of the CNR (= the node's name)
  std::vector<std::string> sockets;  // Socket zone names, in document order
  std::vector<NumaZone> numa;        // sorted by id
  std::vector<GpuZone> gpus;         // a GPU under two NUMA zones appears once
  std::vector<NicZone> nics;
  std::vector<OtherZone> other;
  std::string topology_policy;  // status.topologyPolicy ("" when absent)
  std::string power_zone;       // spec.nodeResourceProperties carbon-kube.io/power-zone
  std::optional<double> pue;    // spec.nodeResourceProperties carbon-kube.io/pue
  /// Reclaimed resources from status.resources (else the pre-2023
  /// status.resourceAllocatable/resourceCapacity), current names first,
  /// then legacy names; in millicores and bytes.
  bool reclaimed_reported = false;
  std::int64_t reclaimed_allocatable_milli_cpu = 0;
  std::int64_t reclaimed_allocatable_memory = 0;
  std::int64_t reclaimed_capacity_milli_cpu = 0;
  std::int64_t reclaimed_capacity_memory = 0;
};

struct TopologyObjects {
  std::vector<NodeTopology> nodes;
  std::vector<std::string> skipped_kinds;  // other kinds present in the input
};

/// Parses CustomNodeResources from JSON or YAML (a single object, a
/// CustomNodeResourceList / List, or a stream of YAML documents). Throws
/// InvalidInput naming the source, the CNR and the field of the first
/// problem (bad quantity, missing metadata.name, NUMA zone name that is not
/// an id, duplicate CNR or NUMA id, malformed document).
TopologyObjects parse_topologies(std::string_view text, std::string_view source,
                                 const ParseLimits& limits = {});

// ---------------------------------------------------------------------------
// The per-cluster table (hot path: integer arrays indexed by NodeIndex).

/// Node flags (TopologyTable::flags()).
inline constexpr std::uint8_t kTopoNone = 1u << 0;       // no CNR: treat neutrally
inline constexpr std::uint8_t kTopoPueKnown = 1u << 1;   // pue() is reported, not the 1.0 default
inline constexpr std::uint8_t kTopoReclaimed = 1u << 2;  // the CNR reports reclaimed resources
inline constexpr std::uint8_t kTopoGpusFromNode = 1u
                                                  << 3;  // no GPU zones: GPUs from node allocatable
/// The node reports a NIC (nic_socket_mask() != 0 or a NUMA zone with
/// kNumaNicLocal): precomputed so the score needs no scan of the zones.
inline constexpr std::uint8_t kTopoNicKnown = 1u << 4;
/// NUMA flags (TopologyTable::numa_flags()).
inline constexpr std::uint8_t kNumaIdle = 1u << 0;      // no allocation holds cpu or memory
inline constexpr std::uint8_t kNumaNicLocal = 1u << 1;  // a NIC on this NUMA zone or its socket

inline constexpr std::uint32_t kNoPowerZone = 0xFFFFFFFFu;

/// Flat, immutable arrays built once per snapshot (and per CNR update).
/// NUMA, GPU and NIC entries of node i occupy [offset[i], offset[i+1]) of
/// their arrays; within a node NUMA zones are in id order and the bit
/// masks below index them by that position (not by id).
class TopologyTable {
 public:
  /// Builds the table for `snapshot`'s nodes from `topologies` (CNRs naming
  /// no node of the snapshot are listed in unmatched()). Reclaimed free =
  /// reclaimed allocatable − Σ the bound pods' reclaimed requests (both
  /// names). Power zone and PUE fall back to the node labels
  /// carbon-kube.io/power-zone and carbon-kube.io/pue; throws InvalidInput
  /// naming the node for a bad PUE label.
  static TopologyTable build(const ClusterSnapshot& snapshot,
                             std::span<const NodeTopology> topologies);

  NodeIndex node_count() const { return node_count_; }
  std::uint64_t snapshot_generation() const { return generation_; }

  std::span<const std::uint8_t> flags() const { return flags_; }
  bool has_topology(NodeIndex i) const { return (flags_[i] & kTopoNone) == 0; }

  // Per node.
  std::uint32_t numa_begin(NodeIndex i) const { return numa_offset_[i]; }
  std::uint32_t numa_count(NodeIndex i) const { return numa_offset_[i + 1] - numa_offset_[i]; }
  /// Most NUMA zones under one socket (Katalyst's numasPerSocket).
  std::span<const std::uint8_t> numa_per_socket() const { return numa_per_socket_; }
  /// ceil(Σ NUMA capacity / NUMA count): the size of one NUMA zone, from
  /// which the smallest number of zones a request needs is computed.
  std::span<const std::int64_t> numa_size_milli_cpu() const { return numa_size_milli_cpu_; }
  std::span<const std::int64_t> numa_size_memory() const { return numa_size_memory_; }
  std::span<const std::int32_t> gpus_free() const { return gpus_free_; }
  std::span<const std::int32_t> gpus_total() const { return gpus_total_; }
  /// PUE, 1.0 where unknown (see kTopoPueKnown).
  std::span<const double> pue() const { return pue_; }
  /// The score's power term, precomputed from pue(): 100 × (2 − PUE),
  /// rounded and clamped to 0..100; 50 where the PUE is unknown.
  std::span<const std::uint8_t> power_score() const { return power_score_; }
  /// Index into power_zones(), or kNoPowerZone.
  std::span<const std::uint32_t> power_zone() const { return power_zone_; }
  std::span<const std::int64_t> reclaimed_free_milli_cpu() const { return reclaimed_free_cpu_; }
  std::span<const std::int64_t> reclaimed_free_memory() const { return reclaimed_free_memory_; }
  /// Sockets holding a NIC (bit = socket index within the node); NUMA
  /// positions holding a NIC.
  std::span<const std::uint64_t> nic_socket_mask() const { return nic_socket_mask_; }

  // Per NUMA zone (flat; index numa_begin(i) + k).
  std::span<const std::int64_t> numa_free_milli_cpu() const { return numa_free_cpu_; }
  std::span<const std::int64_t> numa_free_memory() const { return numa_free_memory_; }
  std::span<const std::uint8_t> numa_socket() const { return numa_socket_; }  // 0xFF: none
  std::span<const std::uint8_t> numa_flags() const { return numa_flags_; }
  std::span<const std::int32_t> numa_id() const { return numa_id_; }

  // Per GPU zone (flat; only GPUs from CNR GPU zones).
  std::uint32_t gpu_begin(NodeIndex i) const { return gpu_offset_[i]; }
  std::uint32_t gpu_count(NodeIndex i) const { return gpu_offset_[i + 1] - gpu_offset_[i]; }
  std::span<const std::int32_t> gpu_free() const { return gpu_free_; }
  /// NUMA positions the GPU is attached to (0: unknown).
  std::span<const std::uint64_t> gpu_numa_mask() const { return gpu_numa_mask_; }
  /// Socket indexes the GPU is attached to (0: unknown).
  std::span<const std::uint64_t> gpu_socket_mask() const { return gpu_socket_mask_; }

  const std::vector<std::string>& power_zones() const { return power_zones_; }
  const std::vector<std::string>& unmatched() const { return unmatched_; }

 private:
  NodeIndex node_count_ = 0;
  std::uint64_t generation_ = 0;
  std::vector<std::uint8_t> flags_;
  std::vector<std::uint32_t> numa_offset_{0};
  std::vector<std::uint8_t> numa_per_socket_;
  std::vector<std::int64_t> numa_size_milli_cpu_;
  std::vector<std::int64_t> numa_size_memory_;
  std::vector<std::int32_t> gpus_free_;
  std::vector<std::int32_t> gpus_total_;
  std::vector<double> pue_;
  std::vector<std::uint8_t> power_score_;
  std::vector<std::uint32_t> power_zone_;
  std::vector<std::int64_t> reclaimed_free_cpu_;
  std::vector<std::int64_t> reclaimed_free_memory_;
  std::vector<std::uint64_t> nic_socket_mask_;
  std::vector<std::int64_t> numa_free_cpu_;
  std::vector<std::int64_t> numa_free_memory_;
  std::vector<std::uint8_t> numa_socket_;
  std::vector<std::uint8_t> numa_flags_;
  std::vector<std::int32_t> numa_id_;
  std::vector<std::uint32_t> gpu_offset_{0};
  std::vector<std::int32_t> gpu_free_;
  std::vector<std::uint64_t> gpu_numa_mask_;
  std::vector<std::uint64_t> gpu_socket_mask_;
  std::vector<std::string> power_zones_;
  std::vector<std::string> unmatched_;
};

// ---------------------------------------------------------------------------
// A pod's topology request.

struct PodTopologyRequest {
  /// katalyst_qos_level(pod); shared_cores (Katalyst's default) when the pod
  /// sets none, so never KatalystQosLevel::kNone.
  KatalystQosLevel qos = KatalystQosLevel::kSharedCores;
  /// memory_enhancement {"numa_binding": "true"} (katalyst_memory_enhancement).
  bool numa_binding = false;
  /// memory_enhancement {"numa_exclusive": "true"}, effective only with
  /// numa_binding on a dedicated_cores pod (as Katalyst's IsPodNumaExclusive).
  bool numa_exclusive = false;
  /// katalyst.kubewharf.io/numa_number: the exact number of NUMA zones (0 = any).
  std::int32_t numa_number = 0;
  std::int64_t milli_cpu = 0;  // pod_requests(kAsWritten); reclaimed_millicpu for reclaimed pods
  std::int64_t memory = 0;     // bytes; reclaimed_memory for reclaimed pods
  std::int64_t gpus = 0;       // Σ requests named */gpu
  /// qos_level reclaimed_cores: consumes the node's reclaimed resources.
  bool reclaimed = false;
};

/// Reads `pod`'s Katalyst QoS level and NUMA options (katalyst_qos_level()
/// and katalyst_memory_enhancement() in qos.hpp, with their errors) and its
/// requests. Throws InvalidInput naming the pod and the annotation or label.
PodTopologyRequest pod_topology_request(const Pod& pod);

// ---------------------------------------------------------------------------
// Alignment (pure, no allocation, never throws).

enum class TopologyReason : std::uint8_t {
  kFits = 0,
  kNoTopology,             // fits: the node has no CNR, plugins treat it neutrally
  kInsufficientReclaimed,  // reclaimed free cpu or memory below the request
  kInsufficientGpu,        // fewer free GPUs than requested
  kNoNumaZones,            // numa_binding on a node whose CNR has no NUMA zones
  kNumaNumberTooLarge,     // numa_number larger than the node's NUMA zone count
  kExceedsOneNuma,         // numa_binding without exclusive (and numa_number <= 1) needs > 1 NUMA
  kNumaInsufficient,       // no allowed set of NUMA zones has enough free cpu and memory
  kNumaExclusiveBusy,      // a set would fit, but every such set has other allocations
};

/// A short reason text for explanations ("insufficient NUMA resources").
std::string_view topology_reason_text(TopologyReason reason);

struct NumaFit {
  bool fits = false;
  TopologyReason reason = TopologyReason::kFits;
  /// NUMA zones the placement uses: for numa_binding the zones it binds to;
  /// for other pods the fewest zones whose free resources hold the request
  /// (0: none / not applicable).
  std::uint8_t numa_count = 0;
  /// Those zones, by position within the node (bit k = numa_begin(i) + k).
  std::uint64_t numa_mask = 0;
  /// The fewest NUMA zones of this node's size that could hold the request
  /// if they were empty (0 when the request has no cpu or memory; 255 when
  /// the zones report none of a requested resource).
  std::uint8_t ideal_numa_count = 0;
};

/// Whether `req` can be placed on node `i` under Katalyst's NUMA semantics
/// (docs/topology.md): reclaimed pods must fit the reclaimed free
/// resources; GPUs must be free; numa_binding pods must fit in one NUMA zone,
/// or in exactly numa_number zones, or (numa_exclusive) in the fewest whole
/// idle zones that hold them, never crossing sockets when they fit in one.
///
/// Fast: for a pod without numa_binding, GPUs or reclaimed resources (the
/// common case) whose request one NUMA zone's size holds, or that no set of
/// this node's zones can hold, the answer comes from one scan of the node's
/// zones, without the subset search; everything else runs
/// fits_numa_reference(). The two agree on every input
/// (tests/test_topology_fast.cpp).
NumaFit fits_numa(const TopologyTable& table, NodeIndex i, const PodTopologyRequest& req);

/// The plain search fits_numa() shortcuts: kept as its reference.
NumaFit fits_numa_reference(const TopologyTable& table, NodeIndex i, const PodTopologyRequest& req);

/// Score returned for nodes without topology (kTopoNone).
inline constexpr std::int64_t kNeutralTopologyScore = 50;

/// 0..100: (50 × NUMA + 30 × device + 20 × power) / 100, where NUMA = 100 ×
/// ideal / used NUMA zones, device = share of requested GPUs free on the
/// chosen NUMA zones (half credit on the same socket) or, without GPUs, NIC
/// locality, and power = 100 × (2 − PUE), clamped, PUE 1.5 when unknown.
/// 0 when fits_numa fails; kNeutralTopologyScore without topology.
std::int64_t topology_alignment_score(const TopologyTable& table, NodeIndex i,
                                      const PodTopologyRequest& req);
/// Which terms count (KatalystTopologyScore's numaAware, deviceAware,
/// powerAware); a term that does not count takes the neutral 50.
struct TopologyScoreTerms {
  bool numa = true;
  bool device = true;
  bool power = true;
};

/// The same with the fits_numa(table, i, req) result already at hand (a
/// plugin that filtered first), so the NUMA search runs once.
std::int64_t topology_alignment_score(const TopologyTable& table, NodeIndex i,
                                      const PodTopologyRequest& req, const NumaFit& fit,
                                      const TopologyScoreTerms& terms = {});

/// scores[k] = topology_alignment_score(table, nodes[k], req,
/// fits_numa(table, nodes[k], req), terms) for every k (KatalystTopologyScore's
/// loop, with the per-pod decisions made once and the per-node work inlined).
/// scores.size() must be nodes.size(). No allocation.
void topology_alignment_scores(const TopologyTable& table, std::span<const NodeIndex> nodes,
                               const PodTopologyRequest& req, const TopologyScoreTerms& terms,
                               std::span<std::int64_t> scores);

CARBONKUBE_NAMESPACE_END
