// The carbon plugins on the bundled Electricity Maps 2023 data: a cluster
// with nodes in California, Spain and Norway, scored at real hours.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

namespace {

const std::string kData = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/";

const CarbonSignals& bundled_signals() {
  static const CarbonSignals signals = [] {
    CarbonSignals s;
    for (const char* zone : {"US-CAL-CISO", "ES", "NO"}) {
      std::string path = kData + zone + "_2023_hourly.csv";
      s.add(load_electricitymaps_csv(read_file(path), path, IntensityScope::kDirect).series);
    }
    return s;
  }();
  return signals;
}

const ZoneMap& zone_map() {
  static const ZoneMap map = ZoneMap::parse(
      "unknownZone: neutral\nregions:\n  us-west-1: US-CAL-CISO\n  eu-south-2: ES\n  eu-north-1: "
      "NO\n",
      "zones.yaml");
  return map;
}

struct Cluster {
  SnapshotPtr snap;
  std::map<std::string, NodeIndex> node;
};

Cluster three_region_cluster() {
  KubeObjects objs;
  for (auto [name, region] : {std::pair{"ca", "us-west-1"},
                              {"es", "eu-south-2"},
                              {"no", "eu-north-1"},
                              {"mars", "mars-1"}}) {
    Node n = make_node(name, 8000, 32LL << 30);
    n.labels = {{"topology.kubernetes.io/region", region}};
    objs.nodes.push_back(n);
  }
  Cluster c;
  c.snap = ClusterState::build(objs);
  for (const auto& n : objs.nodes) c.node[n.name] = *c.snap->find_node(n.name);
  return c;
}

Profile seed() { return seed_profile(); }

Pod pod_with(std::vector<std::pair<std::string, std::string>> annotations) {
  Pod p = make_pod("p", {{"cpu", "1"}, {"memory", "1Gi"}});
  for (auto& a : annotations) p.annotations.push_back(a);
  std::sort(p.annotations.begin(), p.annotations.end());
  return p;
}

std::map<std::string, NodeExplanation> run(const Scheduler& s, const Cluster& c, const Pod& pod,
                                           const ClusterConditions* cond) {
  CompiledPod cp = compile_pod(pod, *c.snap);
  ScoringContext ctx(1);
  CycleResult r = s.schedule(*c.snap, cp, ctx, cond);
  std::map<std::string, NodeExplanation> out;
  for (auto& n : explain(s, *c.snap, cp, ctx, r, cond).nodes) out[n.name] = n;
  return out;
}

std::int64_t score(const NodeExplanation& n, const std::string& plugin) {
  for (const auto& [name, v] : n.scores)
    if (name == plugin) return v;
  return -1;
}

const std::int64_t kNoonJuly = 1689422400;     // 2023-07-15 12:00 UTC
const std::int64_t kEveningJuly = 1689444000;  // 2023-07-15 18:00 UTC

}  // namespace

TEST_CASE("CarbonAwareScore: continuous, non-increasing, in range, never NaN") {
  Scheduler s(seed());
  int idx = s.profile().score_index("CarbonAwareScore");
  REQUIRE(idx >= 0);
  // Sweep intensities through a one-node cluster per value.
  std::int64_t previous = 101;
  for (double g = 0; g <= 2000; g += 7.5) {
    CarbonSignals signals;
    ZoneSeries zs;
    zs.zone = "NO";
    zs.kind = IntensityKind::kAverageDirect;
    zs.points = {{kNoonJuly - 600, g, false}};
    signals.add(zs);
    Cluster c = three_region_cluster();
    ClusterConditions cond = ClusterConditions::build(*c.snap, zone_map(), signals, kNoonJuly);
    auto nodes = run(s, c, pod_with({}), &cond);
    std::int64_t v = score(nodes["no"], "CarbonAwareScore");
    CAPTURE(g);
    CHECK(v >= 0);
    CHECK(v <= 100);
    CHECK(v <= previous);  // greener never scores lower
    if (g == 300) CHECK(v == 50);
    if (g == 0) CHECK(v == 100);
    previous = v;
    // Zones without data and unknown zones score neutrally (50), not best.
    CHECK(score(nodes["es"], "CarbonAwareScore") == 50);
    CHECK(score(nodes["mars"], "CarbonAwareScore") == 50);
  }
}

TEST_CASE("on real data, greener zones score higher and win") {
  Cluster c = three_region_cluster();
  Scheduler s(seed());
  for (std::int64_t t :
       {kNoonJuly, kEveningJuly, std::int64_t{1672531200}, std::int64_t{1700000000}}) {
    ClusterConditions cond = ClusterConditions::build(*c.snap, zone_map(), bundled_signals(), t);
    auto nodes = run(s, c, pod_with({}), &cond);
    std::map<std::string, double> g;
    for (auto [node, zone] : {std::pair{"ca", "US-CAL-CISO"}, {"es", "ES"}, {"no", "NO"}}) {
      ZoneReading r = evaluate(bundled_signals(), zone, t, SignalPolicy{});
      REQUIRE(r.usable);
      g[node] = r.g_per_kwh;
    }
    CAPTURE(t);
    for (auto a : {"ca", "es", "no"})
      for (auto b : {"ca", "es", "no"})
        if (g[a] <= g[b])
          CHECK(score(nodes[a], "CarbonAwareScore") >= score(nodes[b], "CarbonAwareScore"));
    // Norway's hydro grid is the greenest of the three at every one of these hours.
    CycleResult r;
    ScoringContext ctx(3);
    CompiledPod cp = compile_pod(pod_with({}), *c.snap);
    r = s.schedule(*c.snap, cp, ctx, &cond);
    CHECK(c.snap->node_name(*r.selected) == "no");
  }
}

TEST_CASE(
    "CarbonAwareFilter: a green-guaranteed pod stays off dirty zones unless it tolerates them") {
  Cluster c = three_region_cluster();
  Scheduler s(seed());
  ClusterConditions cond =
      ClusterConditions::build(*c.snap, zone_map(), bundled_signals(), kEveningJuly);
  double ca = 0;
  REQUIRE(cond.node_intensity(c.node["ca"], &ca));
  REQUIRE(ca > 100);  // California after sunset
  auto nodes = run(s, c, pod_with({{"carbon-kube.io/qos-profile", "green-guaranteed"}}), &cond);
  CHECK(!nodes["ca"].feasible);
  CHECK(nodes["ca"].failed_plugin == "CarbonAwareFilter");
  REQUIRE(nodes["ca"].reasons.size() == 1);
  CHECK(nodes["ca"].reasons[0].find("zone US-CAL-CISO carbon intensity") != std::string::npos);
  CHECK(nodes["no"].feasible);
  CHECK(nodes["mars"].feasible);  // no data: not filtered
  nodes = run(s, c,
              pod_with({{"carbon-kube.io/qos-profile", "green-guaranteed"},
                        {"carbon-kube.io/tolerate-high-carbon", "true"}}),
              &cond);
  CHECK(nodes["ca"].feasible);
  // Without conditions, nothing is carbon-filtered and carbon scores are neutral.
  nodes = run(s, c, pod_with({{"carbon-kube.io/qos-profile", "green-guaranteed"}}), nullptr);
  CHECK(nodes["ca"].feasible);
  CHECK(score(nodes["ca"], "CarbonAwareScore") == 50);
  CHECK(score(nodes["no"], "CarbonAwareScore") == 50);
}

TEST_CASE("stale data degrades to carbon-neutral scoring") {
  Cluster c = three_region_cluster();
  Scheduler s(seed());
  // A year after the bundled data ends: every zone's newest point is stale.
  ClusterConditions cond =
      ClusterConditions::build(*c.snap, zone_map(), bundled_signals(), 1735689600);
  auto nodes = run(s, c, pod_with({{"carbon-kube.io/qos-profile", "green-guaranteed"}}), &cond);
  for (auto name : {"ca", "es", "no", "mars"}) {
    CAPTURE(name);
    CHECK(nodes[name].feasible);
    CHECK(score(nodes[name], "CarbonAwareScore") == 50);
    CHECK(score(nodes[name], "KatalystQoSScore") == 50);
  }
  CHECK(!cond.intensities.readings[0].usable);
}

TEST_CASE("KatalystQoS: guarantees by zone profile, steering by QoS class") {
  Cluster c = three_region_cluster();
  Scheduler s(seed());
  ClusterConditions cond =
      ClusterConditions::build(*c.snap, zone_map(), bundled_signals(), kEveningJuly);
  // Force profiles: CISO dirty, ES mixed, NO green.
  ZoneDecision d[3];
  d[0].zone = "US-CAL-CISO";
  d[0].profile_index = 2;
  d[1].zone = "ES";
  d[1].profile_index = 1;
  d[2].zone = "NO";
  d[2].profile_index = 0;
  cond = ClusterConditions::build(*c.snap, zone_map(), bundled_signals(), kEveningJuly,
                                  SignalPolicy{}, default_qos_profiles(), d);
  // dedicated_cores maps to green-guaranteed: it needs a 100% guarantee.
  Pod dedicated = pod_with({{"katalyst.kubewharf.io/qos_level", "dedicated_cores"},
                            {"carbon-kube.io/tolerate-high-carbon", "false"}});
  auto nodes = run(s, c, dedicated, &cond);
  CHECK(!nodes["es"].feasible);
  bool saw = false;
  for (const auto& r : nodes["es"].reasons)
    saw = saw || r.find("guarantees 80%") != std::string::npos;
  CHECK((saw || nodes["es"].failed_plugin == "CarbonAwareFilter"));
  // Steering: a guaranteed pod sees 100 / 50 / 0, a best-effort pod 55 / 50 / 45.
  Pod besteffort = pod_with({{"carbon-kube.io/qos-profile", "dirty-besteffort"}});
  nodes = run(s, c, besteffort, &cond);
  CHECK(score(nodes["no"], "KatalystQoSScore") == 55);
  CHECK(score(nodes["es"], "KatalystQoSScore") == 50);
  CHECK(score(nodes["ca"], "KatalystQoSScore") == 45);
  Pod burstable = pod_with({{"carbon-kube.io/qos-profile", "mixed-burstable"},
                            {"carbon-kube.io/tolerate-high-carbon", "true"}});
  nodes = run(s, c, burstable, &cond);
  CHECK(score(nodes["no"], "KatalystQoSScore") == 75);  // steered by its class, tolerant or not
  nodes = run(s, c, pod_with({{"katalyst.kubewharf.io/qos_level", "system_cores"}}), &cond);
  CHECK(score(nodes["no"], "KatalystQoSScore") == 50);  // system pods are not steered
  CHECK(score(nodes["ca"], "KatalystQoSScore") == 50);
  // reclaimed_cores needs nodes that report reclaimed resources.
  nodes = run(s, c, pod_with({{"katalyst.kubewharf.io/qos_level", "reclaimed_cores"}}), &cond);
  CHECK(!nodes["no"].feasible);
  CHECK(nodes["no"].reasons[0] == "node offers no reclaimed resources for a reclaimed_cores pod");
}

TEST_CASE("conditions must match the snapshot they were built for") {
  Cluster c = three_region_cluster();
  Scheduler s(seed());
  ClusterConditions cond =
      ClusterConditions::build(*c.snap, zone_map(), bundled_signals(), kNoonJuly);
  cond.snapshot_generation += 1;
  CompiledPod cp = compile_pod(pod_with({}), *c.snap);
  ScoringContext ctx;
  CHECK_THROWS_WITH_AS(s.schedule(*c.snap, cp, ctx, &cond),
                       doctest::Contains("another snapshot generation"), Error);
}

TEST_CASE("carbon plugin args are validated") {
  auto compile = [](const std::string& args) {
    return compile_profile(
        parse_scheduler_config("apiVersion: kubescheduler.config.k8s.io/v1\nkind: "
                               "KubeSchedulerConfiguration\nprofiles:\n- pluginConfig:\n"
                               "  - name: CarbonAwareScore\n    args: " +
                                   args + "\n",
                               "cfg.yaml"));
  };
  CHECK_NOTHROW(
      compile("{carbonThreshold: 250, greenBonus: 40, dirtyPenalty: 80, useForecast: true}"));
  CHECK_THROWS_WITH_AS(compile("{carbonThreshold: 0}"), doctest::Contains("carbonThreshold"),
                       InvalidInput);
  CHECK_THROWS_WITH_AS(compile("{greenBonus: 500}"), doctest::Contains("greenBonus"), InvalidInput);
  CHECK_THROWS_WITH_AS(compile("{carbonTreshold: 1}"), doctest::Contains("unknown field"),
                       InvalidInput);
  CHECK_THROWS_WITH_AS(compile("{carbonThreshold: .nan}"), doctest::Contains("finite"),
                       InvalidInput);
}
