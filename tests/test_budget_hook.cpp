// The budget hook (ClusterConditions budget states -> the carbon plugins):
// the same pod on the same cluster at the same real hour is placed by
// kube-scheduler's weighted scores while its namespace is within its daily
// carbon budget, on the greener node once the ledger says the namespace is
// near or over it, and deferred (with the reason) when its work is
// deferrable. Signals are the bundled Electricity Maps 2023 data.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/ledger.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

namespace {

constexpr std::int64_t kEveningJuly = 1689444000;  // 2023-07-15 18:00 UTC
constexpr std::int64_t kHour = 3600;
const std::string kData = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/";

ZoneSeries load_zone(const char* zone) {
  std::string path = kData + zone + "_2023_hourly.csv";
  return load_electricitymaps_csv(read_file(path), path, IntensityScope::kDirect).series.at(0);
}

struct World {
  CarbonSignals signals;
  ZoneMap zones = ZoneMap::parse(
      "unknownZone: error\nregions:\n  us-west-1: US-CAL-CISO\n  eu-north-1: NO\n", "z");
  IntensityCurve california = IntensityCurve::from_grid(resample(load_zone("US-CAL-CISO")));
  SnapshotPtr snap;
  World() {
    signals.add(load_zone("US-CAL-CISO"));
    signals.add(load_zone("NO"));
    // An empty node in California and a nearly full one in Norway: by
    // resources and the pod's regional preference California wins.
    KubeObjects objs;
    for (auto [name, region] : {std::pair{"ca", "us-west-1"}, {"no", "eu-north-1"}}) {
      Node n = make_node(name, 8000, 32LL << 30);
      n.labels = {{"topology.kubernetes.io/region", region}};
      objs.nodes.push_back(n);
    }
    objs.pods.push_back(make_pod("big", {{"cpu", "7500m"}, {"memory", "30Gi"}}, "no"));
    snap = ClusterState::build(objs);
  }
  ClusterConditions conditions() const {
    return ClusterConditions::build(*snap, zones, signals, kEveningJuly);
  }
  // The namespace's ledger with `watts` drawn in California over the six
  // hours before the cycle, and a 1 kg daily limit.
  Ledger ledger(double watts) const {
    Ledger l;
    l.set_daily_limit("team", 1.0);
    UsageRecord u;
    u.pod = "team/earlier";
    u.namespace_name = "team";
    u.zone = "US-CAL-CISO";
    u.start = kEveningJuly - 6 * kHour;
    u.end = kEveningJuly;
    u.watts = watts;
    l.record(u, california);
    return l;
  }
};

const World& world() {
  static const World w;
  return w;
}

Pod team_pod(std::vector<std::pair<std::string, std::string>> annotations = {},
             std::string ns = "team") {
  Pod p = make_pod("job", {{"cpu", "250m"}, {"memory", "256Mi"}});
  p.namespace_name = std::move(ns);
  NodeSelectorRequirement region{"topology.kubernetes.io/region", SelectorOp::kIn, {"us-west-1"}};
  p.node_affinity.preferred.push_back({100, NodeSelectorTerm{{region}, {}}});
  for (auto& a : annotations) p.annotations.push_back(a);
  std::sort(p.annotations.begin(), p.annotations.end());
  return p;
}

struct Outcome {
  std::optional<std::string> selected;
  std::map<std::string, NodeExplanation> nodes;
  std::int64_t score(const std::string& node, std::string_view plugin) {
    for (const auto& [name, v] : nodes[node].scores)
      if (name == plugin) return v;
    return -1;
  }
};

Outcome schedule(const Pod& pod, const ClusterConditions& cond) {
  Scheduler s(seed_profile());
  CompiledPod cp = compile_pod(pod, *world().snap);
  ScoringContext ctx(7);
  CycleResult r = s.schedule(*world().snap, cp, ctx, &cond);
  Outcome o;
  Explanation e = explain(s, *world().snap, cp, ctx, r, &cond);
  o.selected = e.selected;
  for (auto& n : e.nodes) o.nodes[n.name] = n;
  return o;
}

}  // namespace

TEST_CASE("budget hook: the real hour's facts the cases rely on") {
  ClusterConditions c = world().conditions();
  double ca = 0, no = 0;
  REQUIRE(c.node_intensity(0, &ca));
  REQUIRE(c.node_intensity(1, &no));
  CHECK(ca > 100);  // California after sunset, above the default greenThreshold
  CHECK(no < 100);  // Norway's hydro
  // 6 h at 100 W is ~0.1 kg (within 1 kg); at 750 W ~0.91 kg (near); at 5 kW over.
  CHECK(world().ledger(100).budget("team", kEveningJuly).fraction < 0.8);
  BudgetStatus near = world().ledger(750).budget("team", kEveningJuly);
  CHECK(near.fraction >= 0.8);
  CHECK(!near.exceeded);
  CHECK(world().ledger(5000).budget("team", kEveningJuly).exceeded);
}

TEST_CASE("budget hook: within budget -> California; near or over -> the greener Norway") {
  ClusterConditions c = world().conditions();
  // No budget table at all, and a namespace within its budget: the same placement.
  Outcome plain = schedule(team_pod(), c);
  CHECK(plain.selected == "ca");
  c.set_budgets(world().ledger(100));
  Outcome within = schedule(team_pod(), c);
  CHECK(within.selected == "ca");
  CHECK(within.score("ca", "CarbonAwareScore") == plain.score("ca", "CarbonAwareScore"));
  CHECK(c.pod_budget(team_pod()).action == BudgetAction::kNone);

  for (double watts : {750.0, 5000.0}) {
    CAPTURE(watts);
    c.set_budgets(world().ledger(watts));
    Outcome over = schedule(team_pod(), c);
    CHECK(over.selected == "no");
    CHECK(over.nodes["ca"].feasible);  // a preference, not a filter
    CHECK(over.score("ca", "CarbonAwareScore") == 0);
    CHECK(over.score("no", "CarbonAwareScore") == plain.score("no", "CarbonAwareScore"));
    // Steered with the guaranteed class's full weight: Norway's green zone 100.
    CHECK(over.score("no", "KatalystQoSScore") == 100);
    CHECK(plain.score("no", "KatalystQoSScore") == 75);
    PodBudget b = c.pod_budget(team_pod());
    CHECK(b.action == BudgetAction::kPreferGreener);
    CHECK(b.max_intensity_g_per_kwh == 100);
    // Another namespace on the same cycle is not affected.
    CHECK(schedule(team_pod({}, "other"), c).selected == "ca");
  }
}

TEST_CASE("budget hook: over budget, deferrable work is deferred with the reason") {
  ClusterConditions c = world().conditions();
  c.set_budgets(world().ledger(5000));
  Pod deferrable =
      team_pod({{"carbon-kube.io/expected-duration", "1h"}, {"carbon-kube.io/max-delay", "48h"}});
  Outcome o = schedule(deferrable, c);
  CHECK(!o.selected);
  for (const char* node : {"ca", "no"}) {
    CAPTURE(node);
    CHECK(!o.nodes[node].feasible);
    CHECK(o.nodes[node].failed_plugin == "CarbonAwareFilter");
    REQUIRE(o.nodes[node].reasons.size() == 1);
    const std::string& why = o.nodes[node].reasons[0];
    CHECK(why.find("namespace team used") != std::string::npos);
    CHECK(why.find("over budget") != std::string::npos);
    CHECK(why.find("deferred until 2023-07-16T00:00:00Z") != std::string::npos);
  }
  PodBudget b = c.pod_budget(deferrable);
  CHECK(b.action == BudgetAction::kDefer);
  CHECK(b.defer_until == 1689465600);
  CHECK(c.pod_budget_advice(deferrable).action == BudgetAction::kDefer);

  // A deadline that does not allow waiting for midnight: it runs now, greener.
  Pod urgent =
      team_pod({{"carbon-kube.io/expected-duration", "1h"}, {"carbon-kube.io/max-delay", "2h"}});
  CHECK(schedule(urgent, c).selected == "no");
  BudgetAdvice a = c.pod_budget_advice(urgent);
  CHECK(a.action == BudgetAction::kPreferGreener);
  CHECK(a.reason.find("not deferred") != std::string::npos);

  // Near (not over) budget, deferrable work is not held: it goes greener.
  c.set_budgets(world().ledger(750));
  CHECK(schedule(deferrable, c).selected == "no");
  // Within budget it is placed as usual.
  c.set_budgets(world().ledger(100));
  CHECK(schedule(deferrable, c).selected == "ca");
}

TEST_CASE("budget hook: thresholds from the CarbonProfile, bad inputs named") {
  ClusterConditions c = world().conditions();
  CarbonProfile profile;
  profile.namespace_name = "team";
  profile.budget.green_threshold_g_per_kwh = 400;  // California's hour counts as green
  c.set_budgets(world().ledger(5000), std::span<const CarbonProfile>(&profile, 1));
  REQUIRE(c.namespace_budget("team"));
  CHECK(c.namespace_budget("team")->budget.green_threshold_g_per_kwh == 400);
  CHECK(c.namespace_budget("nobody") == nullptr);
  CHECK(schedule(team_pod(), c).score("ca", "CarbonAwareScore") > 0);

  BudgetStatus nameless;
  CHECK_THROWS_WITH_AS(c.set_budget(nameless, CarbonBudget{}), doctest::Contains("namespace"),
                       InvalidInput);
  BudgetStatus s = world().ledger(100).budget("team", kEveningJuly);
  CHECK_THROWS_WITH_AS(c.set_budget(s, CarbonBudget{}, 0.0), doctest::Contains("warn_fraction"),
                       InvalidInput);
  // A failed set_budgets keeps the previous table.
  CHECK(c.namespace_budgets.size() == 1);
  // A malformed deferral annotation on an over-budget pod is named.
  c.set_budgets(world().ledger(5000));
  CHECK_THROWS_WITH_AS(c.pod_budget(team_pod({{"carbon-kube.io/max-delay", "soon"}})),
                       doctest::Contains("carbon-kube.io/"), InvalidInput);
}
