// CarbonAwareFilter / CarbonAwareScore and KatalystQoSFilter / KatalystQoSScore:
// the seed's carbon plugins, with the formulas of docs/carbon-scoring.md.
// Per-zone values are computed once per cycle (zones are few), then each
// node reads its zone's value through ClusterConditions::node_zone.
//
// The budget hook (ClusterConditions::pod_budget, once per pod and cycle):
// a pod whose namespace is near or over its daily carbon budget scores the
// zones above the budget's greenThreshold at 0 in CarbonAwareScore and is
// steered by KatalystQoSScore with the guaranteed class's full weight, so
// the greener nodes come first while the dirtier stay feasible (a
// preference, as kube-scheduler scores are). Over budget, deferrable work
// whose deadline allows it fails CarbonAwareFilter on every node with the
// reason: it waits for the budget to reset (docs/carbon-accounting.md).
#include <fmt/format.h>

#include <cmath>

#include "carbonkube/conditions.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/topology.hpp"
#include "registry.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace detail {
namespace {

constexpr std::int64_t kNeutralScore = 50;  // what a node without usable carbon data scores
constexpr std::size_t kMaxStackZones = 256;
constexpr std::string_view kExpectedRuntimeAnnotation = "carbon-kube.io/expected-runtime";

const QosProfileSet& profiles_of(const CycleInputs& in) {
  return in.conditions && in.conditions->profiles ? *in.conditions->profiles
                                                  : default_qos_profiles();
}

std::string_view annotation(const Pod& pod, std::string_view key) {
  for (const auto& [k, v] : pod.annotations)
    if (k == key) return v;
  return {};
}

// Per-zone scores for one cycle, on the stack for up to kMaxStackZones zones.
class ZoneTable {
 public:
  explicit ZoneTable(std::size_t zones) : size_(zones) {
    if (zones > kMaxStackZones) heap_.resize(zones);
  }
  std::int64_t& operator[](std::size_t z) { return size_ > kMaxStackZones ? heap_[z] : stack_[z]; }
  std::size_t size() const { return size_; }

 private:
  std::size_t size_;
  std::int64_t stack_[kMaxStackZones] = {};
  std::vector<std::int64_t> heap_;
};

class CarbonAwareFilter final : public Plugin {
 public:
  std::string_view name() const override { return "CarbonAwareFilter"; }
  bool has_filter() const override { return true; }
  enum : std::uint32_t { kAboveLimit = 1, kDeferredForBudget = 2 };

  void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
              std::span<std::uint32_t> reasons) const override {
    std::fill(reasons.begin(), reasons.end(), 0u);
    if (!in.conditions) return;
    if (in.conditions->pod_budget(*in.pod.pod).action == BudgetAction::kDefer) {
      std::fill(reasons.begin(), reasons.end(), kDeferredForBudget);
      return;
    }
    const PodCarbonQos qos = pod_carbon_qos(*in.pod.pod, profiles_of(in));
    if (qos.tolerate_high_carbon || !std::isfinite(qos.max_intensity)) return;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      double g = 0;
      // Without usable data a node is not filtered: carbon-neutral, never a guess.
      if (in.conditions->node_intensity(nodes[k], &g) && g > qos.max_intensity)
        reasons[k] = kAboveLimit;
    }
  }
  void explain_filter(const CycleInputs& in, NodeIndex node, std::uint32_t mask,
                      std::vector<std::string>& out) const override {
    if (mask & kDeferredForBudget) {
      out.push_back(in.conditions->pod_budget_advice(*in.pod.pod).reason);
      return;
    }
    const PodCarbonQos qos = pod_carbon_qos(*in.pod.pod, profiles_of(in));
    double g = 0;
    in.conditions->node_intensity(node, &g);
    const ZoneIndex z = in.conditions->node_zone[node];
    std::string profile =
        qos.profile_index >= 0 ? profiles_of(in)[qos.profile_index].name : "carbon budget";
    out.push_back(
        fmt::format("zone {} carbon intensity {:.0f} gCO2/kWh is above the pod's limit {:.0f} ({})",
                    in.conditions->zones ? in.conditions->zones->zones()[z] : std::to_string(z), g,
                    qos.max_intensity, profile));
  }
};

class CarbonAwareScore final : public Plugin {
 public:
  std::string_view name() const override { return "CarbonAwareScore"; }
  bool has_score() const override { return true; }

  double threshold = 300;      // carbonThreshold, gCO2/kWh: scores kNeutralScore
  double green_bonus = 50;     // greenBonus: points added from the threshold down to 0 gCO2/kWh
  double dirty_penalty = 100;  // dirtyPenalty: initial points lost per threshold of excess
  bool use_forecast = false;   // useForecast: mean over the pod's expected run time

  /// 0..100, continuous and non-increasing in the intensity.
  std::int64_t score_of(double g) const {
    double s = 0;
    if (g <= threshold) {
      s = static_cast<double>(kNeutralScore) + green_bonus * (threshold - g) / threshold;
    } else {
      // Exponential tail: same slope at the threshold as a linear penalty of
      // dirty_penalty points per threshold, but dirtier zones still rank
      // below less dirty ones instead of all flooring at 0.
      s = static_cast<double>(kNeutralScore) *
          std::exp(-(dirty_penalty / static_cast<double>(kNeutralScore)) * (g - threshold) /
                   threshold);
    }
    return std::llround(std::clamp(s, 0.0, 100.0));
  }

  void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
             std::span<std::int64_t> scores) const override {
    if (!in.conditions) {
      std::fill(scores.begin(), scores.end(), kNeutralScore);
      return;
    }
    const ClusterConditions& c = *in.conditions;
    const std::size_t zone_count = c.intensities.usable.size();
    ZoneTable zone_score(zone_count);
    // Near or over budget: zones above the budget's ceiling score lowest.
    const double ceiling = c.pod_budget(*in.pod.pod).max_intensity_g_per_kwh;
    std::int64_t window = 0;
    if (use_forecast && c.zones && c.signals) {
      std::string_view runtime = annotation(*in.pod.pod, kExpectedRuntimeAnnotation);
      if (!runtime.empty()) {
        try {
          window = static_cast<std::int64_t>(parse_go_duration(runtime));
          if (window <= 0) throw InvalidInput("must be at least 1s");
        } catch (const InvalidInput& e) {
          throw InvalidInput(fmt::format("pod {}: annotation {}: {}", in.pod.key,
                                         kExpectedRuntimeAnnotation, e.what()));
        }
      }
    }
    for (std::size_t z = 0; z < zone_count; ++z) {
      double g = 0;
      bool usable = c.intensities.lookup(static_cast<ZoneIndex>(z), &g);
      if (window > 0) {
        ZoneReading r = evaluate_window(*c.signals, c.zones->zones()[z], c.now, window, c.policy);
        usable = r.usable;
        g = r.g_per_kwh;
      }
      zone_score[z] = !usable ? kNeutralScore : g > ceiling ? 0 : score_of(g);
    }
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const NodeIndex i = nodes[k];
      const ZoneIndex z = i < c.node_zone.size() ? c.node_zone[i] : kUnknownZone;
      scores[k] = z < zone_count ? zone_score[z] : kNeutralScore;
    }
  }
};

// The pod's QoS class position among the profiles: 0 guaranteed, 1
// burstable, 2 best effort (more profiles: first, middle, last).
int qos_class(int profile_index, int profile_count) {
  if (profile_index <= 0) return profile_index < 0 ? 1 : 0;
  if (profile_index >= profile_count - 1) return 2;
  return 1;
}

bool is_reclaimed_resource(std::string_view name) {
  return name == kReclaimedMilliCpu || name == kLegacyReclaimedMilliCpu;
}

class KatalystQoSFilter final : public Plugin {
 public:
  std::string_view name() const override { return "KatalystQoSFilter"; }
  bool has_filter() const override { return true; }
  enum : std::uint32_t { kGuaranteeTooLow = 1, kNoReclaimed = 2 };

  void filter(const CycleInputs& in, std::span<const NodeIndex> nodes,
              std::span<std::uint32_t> reasons) const override {
    std::fill(reasons.begin(), reasons.end(), 0u);
    const QosProfileSet& profiles = profiles_of(in);
    const PodCarbonQos qos = pod_carbon_qos(*in.pod.pod, profiles);
    if (qos.level == KatalystQosLevel::kReclaimedCores) {
      // reclaimed_cores runs on what the node reclaims; a node reporting none cannot host it.
      const ResourceTable& table = in.snapshot.resources();
      std::vector<std::span<const std::int64_t>> columns;
      for (ResourceId r = kFirstScalarResource; r < table.size(); ++r)
        if (is_reclaimed_resource(table.name(r))) columns.push_back(in.snapshot.allocatable(r));
      for (std::size_t k = 0; k < nodes.size(); ++k) {
        bool any = false;
        for (const auto& col : columns) any = any || col[nodes[k]] > 0;
        if (!any) reasons[k] |= kNoReclaimed;
      }
    }
    if (!in.conditions || qos.profile_index < 0 || qos.tolerate_high_carbon) return;
    const double needed = profiles[qos.profile_index].resource_guarantee;
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const int p = in.conditions->node_profile(nodes[k]);
      if (p >= 0 && profiles[p].resource_guarantee < needed) reasons[k] |= kGuaranteeTooLow;
    }
  }
  void explain_filter(const CycleInputs& in, NodeIndex node, std::uint32_t mask,
                      std::vector<std::string>& out) const override {
    const QosProfileSet& profiles = profiles_of(in);
    if (mask & kNoReclaimed)
      out.emplace_back("node offers no reclaimed resources for a reclaimed_cores pod");
    if (mask & kGuaranteeTooLow) {
      const PodCarbonQos qos = pod_carbon_qos(*in.pod.pod, profiles);
      const QosProfile& zone = profiles[in.conditions->node_profile(node)];
      const QosProfile& want = profiles[qos.profile_index];
      out.push_back(fmt::format(
          "zone QoS profile {} guarantees {:.0f}% of resources; the pod's {} needs {:.0f}%",
          zone.name, zone.resource_guarantee * 100, want.name, want.resource_guarantee * 100));
    }
  }
};

class KatalystQoSScore final : public Plugin {
 public:
  std::string_view name() const override { return "KatalystQoSScore"; }
  bool has_score() const override { return true; }
  std::int64_t weights[3] = {100, 50, 10};  // qosWeights: guaranteed, burstable, besteffort

  // 50 + (w / 100) * (greenness - 50): a class with weight 100 is steered
  // fully to the greenest QoS zones, one with weight 10 barely at all.
  void score(const CycleInputs& in, std::span<const NodeIndex> nodes,
             std::span<std::int64_t> scores) const override {
    if (!in.conditions) {
      std::fill(scores.begin(), scores.end(), kNeutralScore);
      return;
    }
    const QosProfileSet& profiles = profiles_of(in);
    const PodCarbonQos qos = pod_carbon_qos(*in.pod.pod, profiles);
    const int n = profiles.size();
    // A pod with no carbon QoS that tolerates anything (system_cores) is not steered.
    std::int64_t w = qos.profile_index < 0 && qos.tolerate_high_carbon
                         ? 0
                         : weights[qos_class(qos.profile_index, n)];
    // A namespace near or over its carbon budget is steered as the
    // guaranteed class is (fully, at weight 100), whatever its own class.
    if (in.conditions->pod_budget(*in.pod.pod).action != BudgetAction::kNone) w = kMaxNodeScore;
    // The score depends on the node's zone only: computed per zone (a few),
    // then looked up per node, with no division in the loop over nodes.
    auto score_of = [&](int p) {
      const std::int64_t greenness = p < 0 || n < 2 ? kNeutralScore : 100 - (100 * p) / (n - 1);
      return kNeutralScore + (w * (greenness - kNeutralScore)) / 100;
    };
    const ClusterConditions& c = *in.conditions;
    const std::size_t zone_count = c.zone_profile.size();
    if (zone_count > kMaxStackZones) {  // rare: per node
      for (std::size_t k = 0; k < nodes.size(); ++k)
        scores[k] = score_of(in.conditions->node_profile(nodes[k]));
      return;
    }
    std::int64_t zone_score[kMaxStackZones];
    for (std::size_t z = 0; z < zone_count; ++z) zone_score[z] = score_of(c.zone_profile[z]);
    const std::int64_t unmapped = score_of(-1);
    for (std::size_t k = 0; k < nodes.size(); ++k) {
      const NodeIndex i = nodes[k];
      const ZoneIndex z = i < c.node_zone.size() ? c.node_zone[i] : kUnknownZone;
      scores[k] = z < zone_count ? zone_score[z] : unmapped;
    }
  }
};

}  // namespace

PluginPtr make_carbon_aware_filter(const Json& args, const Where& where) {
  check_keys(args, where, {"apiVersion", "kind"});
  return std::make_unique<CarbonAwareFilter>();
}

PluginPtr make_carbon_aware_score(const Json& args, const Where& where) {
  auto p = std::make_unique<CarbonAwareScore>();
  if (args.is_null()) return p;
  check_keys(
      args, where,
      {"apiVersion", "kind", "carbonThreshold", "greenBonus", "dirtyPenalty", "useForecast"});
  p->threshold = read_number(args, "carbonThreshold", where, p->threshold);
  p->green_bonus = read_number(args, "greenBonus", where, p->green_bonus);
  p->dirty_penalty = read_number(args, "dirtyPenalty", where, p->dirty_penalty);
  p->use_forecast = read_bool(args, "useForecast", where, p->use_forecast);
  if (p->threshold <= 0) (where / "carbonThreshold").fail("must be > 0 gCO2/kWh");
  if (p->green_bonus < 0 || p->green_bonus > 100)
    (where / "greenBonus").fail("must be in [0, 100]");
  if (p->dirty_penalty < 0 || p->dirty_penalty > 1000)
    (where / "dirtyPenalty").fail("must be in [0, 1000]");
  return p;
}

PluginPtr make_katalyst_qos_filter(const Json& args, const Where& where) {
  check_keys(args, where, {"apiVersion", "kind"});
  return std::make_unique<KatalystQoSFilter>();
}

PluginPtr make_katalyst_qos_score(const Json& args, const Where& where) {
  auto p = std::make_unique<KatalystQoSScore>();
  if (args.is_null()) return p;
  check_keys(args, where, {"apiVersion", "kind", "qosWeights"});
  if (const Json* w = read_object(args, "qosWeights", where)) {
    Where ww = where / "qosWeights";
    check_keys(*w, ww, {"guaranteed", "burstable", "besteffort"});
    p->weights[0] = read_int(*w, "guaranteed", ww, p->weights[0], 0, 100);
    p->weights[1] = read_int(*w, "burstable", ww, p->weights[1], 0, 100);
    p->weights[2] = read_int(*w, "besteffort", ww, p->weights[2], 0, 100);
  }
  return p;
}

}  // namespace detail
CARBONKUBE_NAMESPACE_END
