#include "registry.hpp"

CARBONKUBE_NAMESPACE_BEGIN

void Plugin::filter(const CycleInputs&, std::span<const NodeIndex>,
                    std::span<std::uint32_t> reasons) const {
  std::fill(reasons.begin(), reasons.end(), 0u);
}
void Plugin::explain_filter(const CycleInputs&, NodeIndex, std::uint32_t,
                            std::vector<std::string>& out) const {
  out.emplace_back(std::string(name()) + ": filtered");
}
bool Plugin::scores_pod(const CycleInputs&) const { return true; }
void Plugin::score(const CycleInputs&, std::span<const NodeIndex>,
                   std::span<std::int64_t> scores) const {
  std::fill(scores.begin(), scores.end(), 0);
}
void Plugin::normalize(const CycleInputs&, std::span<std::int64_t>) const {}
bool Plugin::resource_term(const CycleInputs&, detail::kernels::ResourceTerm&) const {
  return false;
}

namespace detail {

const std::vector<PluginInfo>& plugin_registry() {
  // kube-scheduler's in-tree plugins with their default score weights
  // (pkg/scheduler/apis/config/v1/default_plugins.go), plus carbonkube's own.
  static const std::vector<PluginInfo> registry = {
      {"NodeResourcesFit", make_node_resources_fit, 1},
      {"NodeResourcesBalancedAllocation", make_balanced_allocation, 1},
      {"NodeUnschedulable", make_node_unschedulable, 1},
      {"TaintToleration", make_taint_toleration, 3},
      {"NodeAffinity", make_node_affinity, 2},
      // carbonkube's own (the seed's katalyst-carbon-scheduler profile).
      {"CarbonAwareFilter", make_carbon_aware_filter, 1},
      {"CarbonAwareScore", make_carbon_aware_score, 30},
      {"KatalystQoSFilter", make_katalyst_qos_filter, 1},
      {"KatalystQoSScore", make_katalyst_qos_score, 25},
      {"KatalystTopologyFilter", make_katalyst_topology_filter, 1},
      {"KatalystTopologyScore", make_katalyst_topology_score, 20},
      // Accepted, not run: they act on objects carbonkube does not model yet
      // (volumes, ports, inter-pod terms, images) or on the queue and binding.
      {"SchedulingGates", nullptr, 1},
      {"PrioritySort", nullptr, 1},
      {"NodeName", nullptr, 1},
      {"NodePorts", nullptr, 1},
      {"VolumeRestrictions", nullptr, 1},
      {"NodeVolumeLimits", nullptr, 1},
      {"EBSLimits", nullptr, 1},
      {"GCEPDLimits", nullptr, 1},
      {"AzureDiskLimits", nullptr, 1},
      {"CinderLimits", nullptr, 1},
      {"VolumeBinding", nullptr, 1},
      {"VolumeZone", nullptr, 1},
      {"PodTopologySpread", nullptr, 2},
      {"InterPodAffinity", nullptr, 2},
      {"DefaultPreemption", nullptr, 1},
      {"ImageLocality", nullptr, 1},
      {"DefaultBinder", nullptr, 1},
      {"DynamicResources", nullptr, 1},
  };
  return registry;
}

const PluginInfo* find_plugin(std::string_view name) {
  for (const auto& p : plugin_registry())
    if (p.name == name) return &p;
  return nullptr;
}

}  // namespace detail
CARBONKUBE_NAMESPACE_END
