// src/plugins/registry.hpp (private): how plugin names map to factories, and
// the kube-scheduler plugins that are accepted but have no effect here.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "../document.hpp"
#include "carbonkube/plugin.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {

/// `args` is the pluginConfig args object (null when none); `where` names it.
using PluginFactory = std::function<PluginPtr(const Json& args, const Where& where)>;

struct PluginInfo {
  std::string_view name;
  PluginFactory factory;  // empty: a kube-scheduler plugin this engine accepts but does not run
  std::int32_t default_weight = 1;  // used when the plugin is a default score plugin
};

const std::vector<PluginInfo>& plugin_registry();
const PluginInfo* find_plugin(std::string_view name);

// Factories, one per plugin file.
PluginPtr make_node_resources_fit(const Json& args, const Where& where);
PluginPtr make_balanced_allocation(const Json& args, const Where& where);
PluginPtr make_node_unschedulable(const Json& args, const Where& where);
PluginPtr make_taint_toleration(const Json& args, const Where& where);
PluginPtr make_node_affinity(const Json& args, const Where& where);
PluginPtr make_carbon_aware_filter(const Json& args, const Where& where);
PluginPtr make_carbon_aware_score(const Json& args, const Where& where);
PluginPtr make_katalyst_qos_filter(const Json& args, const Where& where);
PluginPtr make_katalyst_qos_score(const Json& args, const Where& where);
PluginPtr make_katalyst_topology_filter(const Json& args, const Where& where);
PluginPtr make_katalyst_topology_score(const Json& args, const Where& where);

/// Parses a resources list ([{name, weight}]) as NodeResourcesFitArgs and
/// NodeResourcesBalancedAllocationArgs spell it.
struct WeightedResource {
  std::string name;
  std::int64_t weight = 1;
};
std::vector<WeightedResource> parse_weighted_resources(const Json& args, std::string_view key,
                                                       const Where& where,
                                                       std::vector<WeightedResource> fallback);

}  // namespace detail
CARBONKUBE_NAMESPACE_END
