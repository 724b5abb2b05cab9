// carbonkube/profile.hpp: KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1)
// parsed and compiled into a Profile: the ordered filter and score plugins
// with weights and validated args. Compilation merges the user's plugin sets
// with kube-scheduler's defaults exactly as kube-scheduler does (disabled "*",
// in-place weight overrides, multiPoint expansion) and either yields a whole
// profile or throws InvalidInput naming the field; nothing is half-applied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/plugin.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// kube-scheduler's maximum for a score plugin's weight product
/// (framework.MaxTotalScore = math.MaxInt64).
struct PluginEntry {
  std::string name;
  std::int32_t weight = 0;  // 0 = unset
};

struct PluginSet {
  std::vector<PluginEntry> enabled;
  std::vector<PluginEntry> disabled;
};

/// The extension points carbonkube runs. Other points (queueSort, preBind,
/// ...) are parsed for validity and their plugin names are checked.
struct PluginsConfig {
  PluginSet multi_point;
  PluginSet pre_filter;
  PluginSet filter;
  PluginSet pre_score;
  PluginSet score;
  std::vector<std::string> other_point_plugins;  // names seen at other points
};

struct PluginArgs {
  std::string name;
  std::string args_json;  // the args object, re-serialised as JSON
};

struct SchedulerProfileConfig {
  std::string scheduler_name = "default-scheduler";
  PluginsConfig plugins;
  std::vector<PluginArgs> plugin_config;
  std::optional<std::int32_t> percentage_of_nodes_to_score;
};

struct SchedulerConfig {
  std::optional<std::int32_t> percentage_of_nodes_to_score;
  std::vector<SchedulerProfileConfig> profiles;
};

/// Parses a KubeSchedulerConfiguration from YAML or JSON. Accepts apiVersion
/// kubescheduler.config.k8s.io/v1 (v1beta3 is read with v1's defaults, as the
/// seed's config uses it). Throws InvalidInput naming the field.
SchedulerConfig parse_scheduler_config(std::string_view text, std::string_view source,
                                       const ParseLimits& limits = {});

struct ScorePluginEntry {
  const Plugin* plugin;
  std::int64_t weight;
};

class Profile {
 public:
  Profile() = default;
  Profile(Profile&&) noexcept = default;
  Profile& operator=(Profile&&) noexcept = default;

  const std::string& scheduler_name() const { return scheduler_name_; }
  std::span<const Plugin* const> filters() const { return filters_; }
  std::span<const ScorePluginEntry> scores() const { return scores_; }
  /// percentageOfNodesToScore: 0 means kube-scheduler's adaptive default.
  std::int32_t percentage_of_nodes_to_score() const { return percentage_; }
  /// kube-scheduler plugins named by the configuration that have nothing to do
  /// in this engine (queue sort, binding, volumes, ...): accepted, not run.
  const std::vector<std::string>& inactive_plugins() const { return inactive_; }
  /// Index of a plugin among scores(), or -1.
  int score_index(std::string_view name) const;

 private:
  friend Profile compile_profile(const SchedulerConfig&, std::string_view);
  std::string scheduler_name_;
  std::vector<PluginPtr> owned_;
  std::vector<const Plugin*> filters_;
  std::vector<ScorePluginEntry> scores_;
  std::int32_t percentage_ = 0;
  std::vector<std::string> inactive_;
};

/// Compiles the profile named `scheduler_name` (the first one when empty).
Profile compile_profile(const SchedulerConfig& config, std::string_view scheduler_name = {});

/// kube-scheduler's default profile (no configuration file).
Profile default_profile();

/// The seed's katalyst-carbon-scheduler configuration (v1beta3 in the seed,
/// read with v1 defaults): Carbon 30 / QoS 25 / Topology 20 /
/// NodeResourcesFit 15 / NodeAffinity 10 and its pluginConfig args. Also in
/// examples/config/katalyst-carbon-scheduler.yaml.
std::string_view seed_profile_yaml();
Profile seed_profile();

/// Names of the plugins this engine implements, for messages and docs.
std::vector<std::string> registered_plugins();

CARBONKUBE_NAMESPACE_END
