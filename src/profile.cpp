// KubeSchedulerConfiguration parsing and profile compilation with
// kube-scheduler's merge rules (v1 mergePluginSet, framework
// expandMultiPointPlugins, getScoreWeights).
#include "carbonkube/profile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "carbonkube/error.hpp"
#include "document.hpp"
#include "plugins/registry.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace {

using detail::Json;
using detail::Where;

using detail::check_keys;

std::vector<PluginEntry> parse_entries(const Json& set, std::string_view key, const Where& where) {
  std::vector<PluginEntry> out;
  const Json* arr = detail::read_array(set, key, where);
  if (!arr) return out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    Where w = (where / key)[i];
    check_keys((*arr)[i], w, {"name", "weight"});
    PluginEntry e;
    e.name = detail::read_string((*arr)[i], "name", w);
    if (e.name.empty()) w.fail("missing name");
    e.weight = static_cast<std::int32_t>(detail::read_int((*arr)[i], "weight", w, 0, 0, 1'000'000));
    if (e.name != "*" && !detail::find_plugin(e.name)) {
      std::string names;
      for (const auto& p : detail::plugin_registry())
        names += (names.empty() ? "" : ", ") + std::string(p.name);
      (w / "name").fail(fmt::format("unknown plugin \"{}\" (known: {})", e.name, names));
    }
    if (e.name == "*" && key == "enabled") (w / "name").fail("\"*\" is only valid in disabled");
    out.push_back(std::move(e));
  }
  return out;
}

// Plugin args are kept as JSON text, which has no NaN or infinity: refuse
// them here rather than let them turn into null (a silent default).
void reject_non_finite(const Json& v, const Where& where) {
  if (v.is_number_float() && !std::isfinite(v.get<double>()))
    where.fail("expected a finite number");
  if (v.is_object())
    for (auto it = v.begin(); it != v.end(); ++it) reject_non_finite(it.value(), where / it.key());
  if (v.is_array())
    for (std::size_t i = 0; i < v.size(); ++i) reject_non_finite(v[i], where[i]);
}

PluginSet parse_set(const Json& plugins, std::string_view key, const Where& where) {
  PluginSet s;
  const Json* set = detail::read_object(plugins, key, where);
  if (!set) return s;
  Where w = where / key;
  check_keys(*set, w, {"enabled", "disabled"});
  s.enabled = parse_entries(*set, "enabled", w);
  s.disabled = parse_entries(*set, "disabled", w);
  return s;
}

SchedulerProfileConfig parse_profile(const Json& obj, const Where& where) {
  check_keys(obj, where, {"schedulerName", "plugins", "pluginConfig", "percentageOfNodesToScore"});
  SchedulerProfileConfig p;
  p.scheduler_name = detail::read_string(obj, "schedulerName", where, "default-scheduler");
  if (detail::member(obj, "percentageOfNodesToScore"))
    p.percentage_of_nodes_to_score = static_cast<std::int32_t>(
        detail::read_int(obj, "percentageOfNodesToScore", where, 0, 0, 100));
  if (const Json* plugins = detail::read_object(obj, "plugins", where)) {
    Where pw = where / "plugins";
    static const std::initializer_list<std::string_view> kPoints = {
        "multiPoint", "preEnqueue", "queueSort", "preFilter", "filter", "postFilter", "preScore",
        "score",      "reserve",    "permit",    "preBind",   "bind",   "postBind"};
    check_keys(*plugins, pw, kPoints);
    p.plugins.multi_point = parse_set(*plugins, "multiPoint", pw);
    p.plugins.pre_filter = parse_set(*plugins, "preFilter", pw);
    p.plugins.filter = parse_set(*plugins, "filter", pw);
    p.plugins.pre_score = parse_set(*plugins, "preScore", pw);
    p.plugins.score = parse_set(*plugins, "score", pw);
    for (std::string_view point : {"preEnqueue", "queueSort", "postFilter", "reserve", "permit",
                                   "preBind", "bind", "postBind"}) {
      PluginSet s = parse_set(*plugins, point, pw);
      for (const auto& e : s.enabled) p.plugins.other_point_plugins.push_back(e.name);
    }
  }
  if (const Json* cfgs = detail::read_array(obj, "pluginConfig", where)) {
    std::set<std::string> seen;
    for (std::size_t i = 0; i < cfgs->size(); ++i) {
      Where w = (where / "pluginConfig")[i];
      check_keys((*cfgs)[i], w, {"name", "args"});
      PluginArgs a;
      a.name = detail::read_string((*cfgs)[i], "name", w);
      if (a.name.empty()) w.fail("missing name");
      if (!detail::find_plugin(a.name))
        (w / "name").fail(fmt::format("unknown plugin \"{}\"", a.name));
      if (!seen.insert(a.name).second)
        (w / "name").fail(fmt::format("duplicate pluginConfig for \"{}\"", a.name));
      const Json* args = detail::member((*cfgs)[i], "args");
      if (args && !args->is_object()) (w / "args").fail("expected an object");
      if (args) reject_non_finite(*args, w / "args");
      a.args_json = args ? args->dump() : "null";
      p.plugin_config.push_back(std::move(a));
    }
  }
  return p;
}

// kube-scheduler's default plugins (v1 getDefaultPlugins: MultiPoint).
std::vector<PluginEntry> default_multi_point() {
  return {{"SchedulingGates", 0},    {"PrioritySort", 0},
          {"NodeUnschedulable", 0},  {"NodeName", 0},
          {"TaintToleration", 3},    {"NodeAffinity", 2},
          {"NodePorts", 0},          {"NodeResourcesFit", 1},
          {"VolumeRestrictions", 0}, {"NodeVolumeLimits", 0},
          {"VolumeBinding", 0},      {"VolumeZone", 0},
          {"PodTopologySpread", 2},  {"InterPodAffinity", 2},
          {"DefaultPreemption", 0},  {"NodeResourcesBalancedAllocation", 1},
          {"ImageLocality", 1},      {"DefaultBinder", 0}};
}

bool has_name(const std::vector<PluginEntry>& v, std::string_view name) {
  return std::any_of(v.begin(), v.end(), [&](const PluginEntry& e) { return e.name == name; });
}

// v1 mergePluginSet: defaults minus disabled ("*" drops all), custom entries
// replace a default in place (keeping its position), the rest are appended.
PluginSet merge_plugin_set(const std::vector<PluginEntry>& defaults, const PluginSet& custom) {
  PluginSet out;
  out.disabled = custom.disabled;
  std::vector<bool> replaced(custom.enabled.size(), false);
  if (!has_name(custom.disabled, "*")) {
    for (const auto& d : defaults) {
      if (has_name(custom.disabled, d.name)) continue;
      PluginEntry e = d;
      // Only the last entry of a name replaces the default (as kube-scheduler's
      // map does); an earlier duplicate is appended and rejected later.
      for (std::size_t i = custom.enabled.size(); i-- > 0;)
        if (custom.enabled[i].name == d.name) {
          e = custom.enabled[i];
          replaced[i] = true;
          break;
        }
      out.enabled.push_back(e);
    }
  }
  for (std::size_t i = 0; i < custom.enabled.size(); ++i)
    if (!replaced[i]) out.enabled.push_back(custom.enabled[i]);
  return out;
}

// Framework expandMultiPointPlugins for one extension point: overrides named
// at the point first, then multiPoint plugins, then the point's other plugins.
std::vector<std::string> expand_point(const PluginSet& point, const std::vector<PluginEntry>& multi,
                                      bool (*implements)(std::string_view), const Where& where) {
  std::vector<std::string> enabled;
  for (const auto& e : point.enabled) {
    if (std::find(enabled.begin(), enabled.end(), e.name) != enabled.end())
      where.fail(fmt::format("plugin \"{}\" is enabled twice", e.name));
    const auto* info = detail::find_plugin(e.name);
    if (!info || !info->factory) continue;  // accepted, not run: listed as inactive
    if (!implements(e.name))
      where.fail(fmt::format("plugin \"{}\" does not extend this extension point", e.name));
    enabled.push_back(e.name);
  }
  if (has_name(point.disabled, "*")) return enabled;
  std::vector<std::string> overrides, from_multi;
  for (const auto& e : multi) {
    if (!implements(e.name) || has_name(point.disabled, e.name)) continue;
    if (std::find(enabled.begin(), enabled.end(), e.name) != enabled.end()) {
      overrides.push_back(e.name);
      continue;
    }
    if (std::find(from_multi.begin(), from_multi.end(), e.name) != from_multi.end())
      where.fail(fmt::format("plugin \"{}\" already registered in multiPoint", e.name));
    from_multi.push_back(e.name);
  }
  // Overrides keep the order they are listed in at this point.
  std::vector<std::string> out;
  for (const auto& n : enabled)
    if (std::find(overrides.begin(), overrides.end(), n) != overrides.end()) out.push_back(n);
  out.insert(out.end(), from_multi.begin(), from_multi.end());
  for (const auto& n : enabled)
    if (std::find(overrides.begin(), overrides.end(), n) == overrides.end()) out.push_back(n);
  return out;
}

// Which extension points each runnable plugin implements (by constructing it
// with default args once).
struct Capabilities {
  bool filter = false;
  bool score = false;
};
Capabilities capabilities(std::string_view name) {
  const auto* info = detail::find_plugin(name);
  if (!info || !info->factory) return {};
  PluginPtr p = info->factory(Json(nullptr), Where("", ""));
  return {p->has_filter(), p->has_score()};
}
bool implements_filter(std::string_view n) { return capabilities(n).filter; }
bool implements_score(std::string_view n) { return capabilities(n).score; }

}  // namespace

SchedulerConfig parse_scheduler_config(std::string_view text, std::string_view source,
                                       const ParseLimits& limits) {
  const Json doc = detail::parse_one_document(text, source, limits);
  Where where{std::string(source), ""};
  if (!doc.is_object()) where.fail("expected a KubeSchedulerConfiguration object");
  std::string kind = detail::read_string(doc, "kind", where);
  if (kind != "KubeSchedulerConfiguration")
    (where / "kind").fail(fmt::format("expected KubeSchedulerConfiguration, got \"{}\"", kind));
  std::string api = detail::read_string(doc, "apiVersion", where);
  if (api != "kubescheduler.config.k8s.io/v1" && api != "kubescheduler.config.k8s.io/v1beta3")
    (where / "apiVersion")
        .fail(fmt::format("unsupported \"{}\" (kubescheduler.config.k8s.io/v1, or v1beta3 read "
                          "with v1's defaults)",
                          api));
  check_keys(doc, where,
             {"apiVersion", "kind", "parallelism", "leaderElection", "clientConnection",
              "healthzBindAddress", "metricsBindAddress", "enableProfiling",
              "enableContentionProfiling", "percentageOfNodesToScore", "podInitialBackoffSeconds",
              "podMaxBackoffSeconds", "profiles", "extenders", "delayCacheUntilActive"});
  SchedulerConfig cfg;
  if (detail::member(doc, "percentageOfNodesToScore"))
    cfg.percentage_of_nodes_to_score = static_cast<std::int32_t>(
        detail::read_int(doc, "percentageOfNodesToScore", where, 0, 0, 100));
  if (const Json* profiles = detail::read_array(doc, "profiles", where)) {
    std::set<std::string> names;
    for (std::size_t i = 0; i < profiles->size(); ++i) {
      cfg.profiles.push_back(parse_profile((*profiles)[i], (where / "profiles")[i]));
      if (!names.insert(cfg.profiles.back().scheduler_name).second)
        ((where / "profiles")[i] / "schedulerName").fail("duplicate schedulerName");
    }
  }
  if (cfg.profiles.empty()) cfg.profiles.emplace_back();
  return cfg;
}

int Profile::score_index(std::string_view name) const {
  for (std::size_t i = 0; i < scores_.size(); ++i)
    if (scores_[i].plugin->name() == name) return static_cast<int>(i);
  return -1;
}

Profile compile_profile(const SchedulerConfig& config, std::string_view scheduler_name) {
  const SchedulerProfileConfig* pc = nullptr;
  for (const auto& p : config.profiles)
    if (scheduler_name.empty() || p.scheduler_name == scheduler_name) {
      pc = &p;
      break;
    }
  if (!pc)
    throw Error(ErrorKind::kNotFound,
                fmt::format("no profile with schedulerName \"{}\"", scheduler_name));
  Where where("profile \"" + pc->scheduler_name + "\"", "");

  PluginSet multi = merge_plugin_set(default_multi_point(), pc->plugins.multi_point);
  std::vector<std::string> filter_names =
      expand_point(pc->plugins.filter, multi.enabled, implements_filter, where / "plugins.filter");
  std::vector<std::string> score_names =
      expand_point(pc->plugins.score, multi.enabled, implements_score, where / "plugins.score");

  Profile out;
  out.scheduler_name_ = pc->scheduler_name;
  out.percentage_ =
      pc->percentage_of_nodes_to_score.value_or(config.percentage_of_nodes_to_score.value_or(0));

  // Instantiate each runnable plugin once, with its pluginConfig args.
  auto instance = [&](const std::string& name) -> const Plugin* {
    for (const auto& p : out.owned_)
      if (p->name() == name) return p.get();
    const auto* info = detail::find_plugin(name);
    Json args = nullptr;
    std::size_t index = 0;
    for (std::size_t i = 0; i < pc->plugin_config.size(); ++i)
      if (pc->plugin_config[i].name == name) {
        args = Json::parse(pc->plugin_config[i].args_json);
        index = i;
      }
    out.owned_.push_back(info->factory(args, (where / "pluginConfig")[index] / "args"));
    return out.owned_.back().get();
  };
  for (const auto& n : filter_names) out.filters_.push_back(instance(n));

  // getScoreWeights: an explicit score entry wins over multiPoint; 0 means 1.
  std::vector<PluginEntry> weight_sources = pc->plugins.score.enabled;
  weight_sources.insert(weight_sources.end(), multi.enabled.begin(), multi.enabled.end());
  std::int64_t total = 0;
  for (const auto& n : score_names) {
    std::int64_t weight = 0;
    for (const auto& e : weight_sources)
      if (e.name == n) {
        weight = e.weight;
        break;
      }
    if (weight == 0) weight = 1;
    if (weight * kMaxNodeScore > std::numeric_limits<std::int64_t>::max() - total)
      (where / "plugins.score").fail("total score of Score plugins could overflow");
    total += weight * kMaxNodeScore;
    out.scores_.push_back({instance(n), weight});
  }

  // Validate args of configured plugins that are not otherwise enabled, so a
  // typo there is still reported.
  for (std::size_t i = 0; i < pc->plugin_config.size(); ++i) {
    const auto* info = detail::find_plugin(pc->plugin_config[i].name);
    if (info->factory)
      (void)info->factory(Json::parse(pc->plugin_config[i].args_json),
                          (where / "pluginConfig")[i] / "args");
  }

  std::set<std::string> inactive;
  auto note_inactive = [&](const std::string& name) {
    const auto* info = detail::find_plugin(name);
    if (info && !info->factory) inactive.insert(name);
  };
  for (const auto& e : multi.enabled) note_inactive(e.name);
  for (const auto& e : pc->plugins.filter.enabled) note_inactive(e.name);
  for (const auto& e : pc->plugins.score.enabled) note_inactive(e.name);
  for (const auto& e : pc->plugins.pre_filter.enabled) note_inactive(e.name);
  for (const auto& e : pc->plugins.pre_score.enabled) note_inactive(e.name);
  for (const auto& n : pc->plugins.other_point_plugins) note_inactive(n);
  out.inactive_.assign(inactive.begin(), inactive.end());
  return out;
}

Profile default_profile() {
  SchedulerConfig cfg;
  cfg.profiles.emplace_back();
  return compile_profile(cfg);
}

std::string_view seed_profile_yaml() {
  return R"(apiVersion: kubescheduler.config.k8s.io/v1beta3
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: katalyst-carbon-scheduler
  plugins:
    filter:
      enabled:
      - name: CarbonAwareFilter
      - name: KatalystQoSFilter
      - name: KatalystTopologyFilter
    score:
      enabled:
      - name: CarbonAwareScore
        weight: 30
      - name: KatalystQoSScore
        weight: 25
      - name: KatalystTopologyScore
        weight: 20
      - name: NodeResourcesFit
        weight: 15
      - name: NodeAffinity
        weight: 10
  pluginConfig:
  - name: CarbonAwareScore
    args:
      carbonThreshold: 300
      greenBonus: 50
      dirtyPenalty: 100
  - name: KatalystQoSScore
    args:
      qosWeights:
        guaranteed: 100
        burstable: 50
        besteffort: 10
  - name: KatalystTopologyScore
    args:
      numaAware: true
      deviceAware: true
      powerAware: true
)";
}

Profile seed_profile() {
  return compile_profile(parse_scheduler_config(seed_profile_yaml(), "seed profile"));
}

std::vector<std::string> registered_plugins() {
  std::vector<std::string> out;
  for (const auto& p : detail::plugin_registry())
    if (p.factory) out.emplace_back(p.name);
  return out;
}

CARBONKUBE_NAMESPACE_END
