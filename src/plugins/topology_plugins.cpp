// KatalystTopologyFilter / KatalystTopologyScore: NUMA, device and power
// alignment from Katalyst CustomNodeResources (topology.hpp). Nodes without a
// CNR, and cycles without a TopologyTable, are treated neutrally.
#include "carbonkube/conditions.hpp"
#include "carbonkube/topology.hpp"
#include "registry.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {
namespace {

const TopologyTable* table_of(const CycleInputs& in) {
  return in.conditions ? in.conditions->topology : nullptr;
}

class KatalystTopologyFilter final : public Plugin {
 public:
  std::string_view name() const override { return "KatalystTopologyFilter"; }
  bool has_filter() const override { return true; }

  void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
              std::span<std::uint32_t> reasons) const override {
    std::fill(reasons.begin(), reasons.end(), 0u);
    const TopologyTable* t = table_of(in);
    if (!t) return;
    const PodTopologyRequest req = pod_topology_request(*in.pod.pod);
    // Without NUMA binding, GPUs or reclaimed resources a pod fits every
    // node's topology: skip the NUMA search (the score still runs it).
    if (!req.numa_binding && !req.reclaimed && req.gpus == 0) return;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const NumaFit fit = fits_numa(*t, nodes[k], req);
      if (!fit.fits) reasons[k] = static_cast<std::uint32_t>(fit.reason);
    }
  }
  void explain_filter(const CycleInputs&, NodeIndex, std::uint32_t mask,
                      std::vector<std::string>& out) const override {
    out.emplace_back(topology_reason_text(static_cast<TopologyReason>(mask)));
  }
};

class KatalystTopologyScore final : public Plugin {
 public:
  std::string_view name() const override { return "KatalystTopologyScore"; }
  bool has_score() const override { return true; }
  TopologyScoreTerms terms;

  void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
             std::span<std::int64_t> scores) const override {
    const TopologyTable* t = table_of(in);
    if (!t) {
      std::fill(scores.begin(), scores.end(), kNeutralTopologyScore);
      return;
    }
    const PodTopologyRequest req = pod_topology_request(*in.pod.pod);
    topology_alignment_scores(*t, nodes, req, terms, scores);
  }
};

}  // namespace

PluginPtr make_katalyst_topology_filter(const Json& args, const Where& where) {
  check_keys(args, where, {"apiVersion", "kind"});
  return std::make_unique<KatalystTopologyFilter>();
}

PluginPtr make_katalyst_topology_score(const Json& args, const Where& where) {
  auto p = std::make_unique<KatalystTopologyScore>();
  if (args.is_null()) return p;
  check_keys(args, where, {"apiVersion", "kind", "numaAware", "deviceAware", "powerAware"});
  p->terms.numa = read_bool(args, "numaAware", where, true);
  p->terms.device = read_bool(args, "deviceAware", where, true);
  p->terms.power = read_bool(args, "powerAware", where, true);
  return p;
}

}  // namespace detail
CARBONKUBE_NAMESPACE_END
