// The bad-input matrix (docs/reliability.md): one test per row. Each asserts
// what a hostile or broken input gives (an error whose message names the
// source, object and field, or the documented safe default) and that the
// state it was applied to is unchanged. Regression tests for what the fuzz
// targets (fuzz/) found are at the end.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/quantity.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using namespace ck_test;

namespace {

struct Caught {
  bool thrown = false;
  ErrorKind kind = ErrorKind::kInvalidInput;
  std::string message;
  bool contains(std::string_view s) const { return message.find(s) != std::string::npos; }
};

// Runs f; records a carbonkube::Error. Any other exception fails the test:
// the contract is that only carbonkube::Error leaves a parser.
template <class F>
Caught caught(F&& f) {
  Caught c;
  try {
    f();
  } catch (const Error& e) {
    c.thrown = true;
    c.kind = e.kind();
    c.message = e.what();
  } catch (const std::exception& e) {
    FAIL("not a carbonkube::Error: " << e.what());
  }
  return c;
}

std::string repo_file(const std::string& rel) {
  return read_file(std::string(CARBONKUBE_SOURCE_DIR) + "/" + rel);
}

std::string node_json(const std::string& name, const std::string& cpu, const std::string& memory) {
  return R"({"kind":"Node","metadata":{"name":")" + name +
         R"("},"status":{"allocatable":{"cpu":")" + cpu + R"(","memory":")" + memory +
         R"(","pods":"110"}}})";
}

constexpr std::int64_t kJuly15 = 1689444000;  // 2023-07-15T18:00:00Z

ZoneSeries series(const std::string& zone, std::vector<SignalPoint> points) {
  ZoneSeries s;
  s.zone = zone;
  s.kind = IntensityKind::kAverageLifecycle;
  s.source = "test";
  s.points = std::move(points);
  return s;
}

}  // namespace

// ---------------------------------------------------------------------------
// Malformed, truncated, deeply nested and huge documents

TEST_CASE("bad input: malformed JSON and YAML name the source and position; state is kept") {
  ClusterState state;
  state.upsert_node(make_node("n1", 4000, 1 << 30));
  const SnapshotPtr before = state.publish();

  Caught json = caught([] { parse_kube_objects(R"({"kind": "Node", "metadata": {)", "c.json"); });
  CHECK(json.thrown);
  CHECK(json.kind == ErrorKind::kInvalidInput);
  CHECK(json.contains("c.json: malformed JSON"));

  Caught yaml = caught([] { parse_kube_objects("kind: Node\nmetadata: {name: [\n", "c.yaml"); });
  CHECK(yaml.contains("c.yaml: malformed YAML at line"));

  // A NUL or an invalid UTF-8 byte inside a JSON string is malformed JSON.
  Caught nul = caught([] {
    parse_kube_objects(std::string("{\"kind\":\"Node\",\"metadata\":{\"name\":\"a\0b\"}}", 40),
                       "nul.json");
  });
  CHECK(nul.contains("nul.json: malformed JSON"));
  CHECK(caught([] {
          parse_kube_objects("{\"kind\":\"Node\",\"metadata\":{\"name\":\"a\xff\"}}", "u.json");
        }).contains("ill-formed UTF-8"));

  // The failed parses never reached the state: the next snapshot is the same cluster.
  const SnapshotPtr after = state.publish();
  CHECK(after->node_count() == 1);
  CHECK(after->node_name(0) == "n1");
  CHECK(before->node_count() == 1);
}

TEST_CASE("bad input: every truncation of real documents parses or fails with Error") {
  // Property over every prefix: never another exception, never a crash, and
  // an error always names the source.
  for (const char* rel : {"examples/cluster/nodes.json", "examples/cluster/pods.yaml",
                          "examples/cluster/cnrs.yaml"}) {
    const std::string text = repo_file(rel);
    const bool yaml = text[0] != '{';
    const std::size_t step = yaml ? 5 : 1;
    std::size_t errors = 0, parsed = 0;
    for (std::size_t n = 0; n < text.size(); n += step) {
      const std::string_view prefix(text.data(), n);
      Caught c = caught([&] {
        if (std::string_view(rel).ends_with("cnrs.yaml"))
          parse_topologies(prefix, "prefix");
        else
          parse_kube_objects(prefix, "prefix");
      });
      if (c.thrown) {
        ++errors;
        CHECK_MESSAGE(c.contains("prefix"), rel << " cut at " << n << ": " << c.message);
      } else {
        ++parsed;
      }
    }
    // JSON cut anywhere is malformed; YAML cut at a line end is often valid.
    CHECK(errors > 0);
    if (!yaml) CHECK(parsed == 0);
  }
}

TEST_CASE("bad input: deep nesting stops at the configurable depth limit, never the stack") {
  // JSON 100,000 levels deep: the depth guard, not a stack overflow.
  const std::string deep_json = std::string(100000, '[') + std::string(100000, ']');
  Caught j = caught([&] { parse_kube_objects(deep_json, "deep.json"); });
  CHECK(j.kind == ErrorKind::kLimitExceeded);
  CHECK(j.contains("deep.json: nesting deeper than the limit of 128"));

  // The limit is configurable and named in the message.
  ParseLimits shallow;
  shallow.max_depth = 3;
  Caught s = caught([&] {
    parse_kube_objects("kind: Node\nmetadata: {name: n, labels: {a: {b: c}}}\n", "s.yaml", shallow);
  });
  CHECK(s.kind == ErrorKind::kLimitExceeded);
  CHECK(s.contains("s.yaml: nesting deeper than the limit of 3"));

  // YAML deeper than the parser's own recursion guard (yaml-cpp stops at
  // 2000 levels): flow and block style both end in a limit error.
  const std::string flow = "a: " + std::string(100000, '[') + std::string(100000, ']');
  Caught f = caught([&] { parse_kube_objects(flow, "flow.yaml"); });
  CHECK(f.thrown);
  CHECK(f.kind == ErrorKind::kLimitExceeded);
  CHECK(f.contains("flow.yaml: nesting deeper than"));
  std::string block;
  for (int i = 0; i < 3000; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "a:\n";
  Caught b = caught([&] { parse_kube_objects(block, "block.yaml"); });
  CHECK(b.kind == ErrorKind::kLimitExceeded);
  CHECK(b.contains("block.yaml: nesting deeper than"));

  // An alias that contains itself is bounded by the same depth limit.
  Caught cyc = caught([] { parse_kube_objects("a: &a [*a]\nkind: Node\n", "cyc.yaml"); });
  CHECK(cyc.kind == ErrorKind::kLimitExceeded);
}

TEST_CASE("bad input: huge inputs stop at configurable byte, object and point limits") {
  ParseLimits limits;
  limits.max_bytes = 1000;
  std::string big = "kind: List\nitems:\n";
  while (big.size() <= 1000) big += "- {kind: Node, metadata: {name: n}}\n";
  Caught bytes = caught([&] { parse_kube_objects(big, "big.yaml", limits); });
  CHECK(bytes.kind == ErrorKind::kLimitExceeded);
  CHECK(bytes.contains("big.yaml: input is " + std::to_string(big.size()) +
                       " bytes, over the limit of 1000 bytes"));

  ParseLimits few;
  few.max_objects = 2;
  std::string list = R"({"kind":"List","items":[)" + node_json("a", "1", "1Gi") + "," +
                     node_json("b", "1", "1Gi") + "," + node_json("c", "1", "1Gi") + "]}";
  Caught objects = caught([&] { parse_kube_objects(list, "list.json", few); });
  CHECK(objects.kind == ErrorKind::kLimitExceeded);
  CHECK(objects.contains("more than the limit of 2 objects"));

  // The same limits guard the carbon loaders, the CNR parser and the zone map.
  SignalLoadOptions opt;
  opt.limits.max_bytes = 100;
  const std::string csv = repo_file("tests/fixtures/signals/electricitymaps_portal_sample.csv");
  Caught c = caught([&] { load_electricitymaps_csv(csv, "em.csv", IntensityScope::kDirect, opt); });
  CHECK(c.kind == ErrorKind::kLimitExceeded);
  CHECK(c.contains("over the limit of 100 bytes"));
  SignalLoadOptions points;
  points.limits.max_objects = 1;
  Caught p =
      caught([&] { load_electricitymaps_csv(csv, "em.csv", IntensityScope::kDirect, points); });
  CHECK(p.kind == ErrorKind::kLimitExceeded);
  CHECK(p.contains("em.csv: more than the limit of 1 points (max_objects)"));
  ParseLimits tiny;
  tiny.max_bytes = 10;
  CHECK(caught([&] {
          parse_topologies(repo_file("examples/cluster/cnrs.yaml"), "cnrs.yaml", tiny);
        }).kind == ErrorKind::kLimitExceeded);
  CHECK(caught([&] {
          ZoneMap::parse(repo_file("examples/config/zones.yaml"), "zones.yaml", tiny);
        }).kind == ErrorKind::kLimitExceeded);

  // An alias bomb (10^7 nodes from 300 bytes) is refused by the node budget.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char ch = 'b'; ch <= 'h'; ++ch) {
    bomb += std::string(1, ch) + ": &" + ch + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = ch;
  }
  Caught alias = caught([&] { parse_kube_objects(bomb, "bomb.yaml"); });
  CHECK(alias.kind == ErrorKind::kLimitExceeded);
  CHECK(alias.contains("bomb.yaml: YAML expands to too many nodes"));
}

// ---------------------------------------------------------------------------
// Quantities

TEST_CASE("bad input: quantities that overflow, are negative or malformed") {
  CHECK(caught([] { parse_quantity("1e400"); }).contains("invalid quantity \"1e400\""));
  CHECK(caught([] { parse_quantity(std::string(37, '9')); }).contains("too many digits"));
  CHECK(caught([] { parse_quantity("12Qi"); }).contains("invalid quantity \"12Qi\""));
  CHECK(caught([] { parse_quantity(""); }).contains("empty"));
  CHECK(caught([] { parse_quantity("--1"); }).thrown);
  CHECK(caught([] { parse_quantity("1.2.3"); }).thrown);
  // The largest exact values still parse; huge ones clamp in value(), not overflow.
  CHECK(parse_quantity("8Ei").value() == std::numeric_limits<std::int64_t>::max());
  CHECK(parse_quantity("-8Ei").value() == std::numeric_limits<std::int64_t>::min());

  // In objects: the message names the object and the field.
  Caught big = caught([] { parse_kube_objects(node_json("n", "9Ei", "1Gi"), "n.json"); });
  CHECK(big.contains("n.json"));
  CHECK(big.contains("Node \"n\""));
  CHECK(big.contains("status.allocatable.cpu"));
  Caught neg = caught([] { parse_kube_objects(node_json("n", "-1", "1Gi"), "n.json"); });
  CHECK(neg.contains("status.allocatable.cpu"));
  CHECK(neg.contains("negative"));
  // A request parses as written; the pod's effective request is checked
  // against kMaxQuantityBaseUnits when it is compiled, naming pod and resource.
  KubeObjects huge = parse_kube_objects(
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources:\n"
      "      requests: {cpu: 100Ei}\n",
      "p.yaml");
  SnapshotPtr empty = ClusterState::build(KubeObjects{});
  Caught req = caught([&] { compile_pod(huge.pods[0], *empty); });
  CHECK(req.contains("pod \"default/p\""));
  CHECK(req.contains("cpu request"));
  CHECK(req.contains("larger than the limit of 9007199254740992 millicores"));
}

// ---------------------------------------------------------------------------
// Carbon intensities: NaN, infinities, negative and absurd values

TEST_CASE("bad input: NaN, inf, negative and absurd intensities are refused or made neutral") {
  const std::string bad_json = R"({"zone":"DE","history":[
    {"carbonIntensity": 300, "datetime": "2023-07-15T16:00:00.000Z"},
    {"carbonIntensity": -5, "datetime": "2023-07-15T17:00:00.000Z"}]})";
  // Strict (the default): the loader names the point.
  Caught strict = caught([&] { load_electricitymaps_json(bad_json, "em.json"); });
  CHECK(strict.contains("em.json"));
  CHECK(strict.contains("history[1]"));
  CHECK(strict.contains("carbonIntensity"));

  // Lenient: kept, and evaluate() refuses them with NaN and a reason.
  SignalLoadOptions lenient;
  lenient.lenient = true;
  CarbonSignals signals;
  signals.add(load_electricitymaps_json(bad_json, "em.json", lenient).series);
  ZoneReading negative = evaluate(signals, "DE", kJuly15 - 3600);
  CHECK_FALSE(negative.usable);
  CHECK(negative.reason == ReadingStatus::kNegative);
  CHECK(std::isnan(negative.g_per_kwh));

  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  signals.add(series("X-NAN", {{kJuly15, nan, false}}));
  signals.add(series("X-INF", {{kJuly15, inf, false}}));
  signals.add(series("X-HUGE", {{kJuly15, 1e12, false}}));
  for (const char* zone : {"X-NAN", "X-INF", "X-HUGE"}) {
    ZoneReading r = evaluate(signals, zone, kJuly15);
    CHECK_FALSE(r.usable);
    CHECK(std::isnan(r.g_per_kwh));
    CHECK_FALSE(r.reason_text.empty());
  }
  CHECK(evaluate(signals, "X-NAN", kJuly15).reason == ReadingStatus::kNotFinite);
  CHECK(evaluate(signals, "X-INF", kJuly15).reason == ReadingStatus::kNotFinite);
  CHECK(evaluate(signals, "X-HUGE", kJuly15).reason == ReadingStatus::kAboveMax);
  // A window containing a bad point is unusable too, never a NaN mean that ranks.
  ZoneReading window = evaluate_window(signals, "DE", kJuly15 - 7200, 7200);
  CHECK_FALSE(window.usable);
  CHECK(std::isnan(window.g_per_kwh));

  // The reconciler treats such values as missing data: the zone keeps its profile.
  QosReconciler reconciler;
  std::vector<ZoneQosInput> first{{"Z", 50.0, true}};
  reconciler.reconcile(kJuly15, first);
  for (double v : {nan, inf, -inf, -1.0}) {
    std::vector<ZoneQosInput> in{{"Z", v, true}};
    auto d = reconciler.reconcile(kJuly15 + 3600, in);
    CHECK(d[0].reason == QosDecisionReason::kNoData);
    CHECK(d[0].profile_index == 0);
  }
  CHECK(reconciler.state("Z")->profile_index == 0);
}

TEST_CASE("bad input: a node in a zone with unusable carbon data is scored carbon-neutral") {
  // Two identical nodes; zone A has NaN, zone B has no data at all. The seed
  // profile must rank them the same: bad data never looks green.
  KubeObjects objs = parse_kube_objects(
      R"({"kind":"List","items":[
      {"kind":"Node","metadata":{"name":"a","labels":{"topology.kubernetes.io/region":"ra"}},
       "status":{"allocatable":{"cpu":"8","memory":"32Gi","pods":"110"}}},
      {"kind":"Node","metadata":{"name":"b","labels":{"topology.kubernetes.io/region":"rb"}},
       "status":{"allocatable":{"cpu":"8","memory":"32Gi","pods":"110"}}}]})",
      "nodes.json");
  SnapshotPtr snap = ClusterState::build(objs);
  ZoneMap zones = ZoneMap::parse("unknownZone: neutral\nregions: {ra: A, rb: B}\n", "zones.yaml");
  CarbonSignals signals;
  signals.add(series("A", {{kJuly15, std::numeric_limits<double>::quiet_NaN(), false}}));
  ClusterConditions cond = ClusterConditions::build(*snap, zones, signals, kJuly15);
  double v = 0;
  CHECK_FALSE(cond.node_intensity(0, &v));
  CHECK_FALSE(cond.node_intensity(1, &v));

  Scheduler scheduler(seed_profile());
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "1"}}), *snap);
  ScoringContext ctx(1);
  CycleResult r = scheduler.schedule(*snap, pod, ctx, &cond);
  REQUIRE(r.selected.has_value());
  REQUIRE(ctx.feasible().size() == 2);
  CHECK(ctx.totals()[0] == ctx.totals()[1]);
}

// ---------------------------------------------------------------------------
// Timestamps: out of order, duplicated, in the future, malformed

TEST_CASE("bad input: timestamps out of order, duplicated, in the future or malformed") {
  // Out of order: sorted.
  const std::string unsorted = R"({"zone":"DE","history":[
    {"carbonIntensity": 300, "datetime": "2023-07-15T17:00:00Z"},
    {"carbonIntensity": 100, "datetime": "2023-07-15T15:00:00Z"},
    {"carbonIntensity": 200, "datetime": "2023-07-15T16:00:00Z"}]})";
  SignalLoad load = load_electricitymaps_json(unsorted, "u.json");
  REQUIRE(load.series.size() == 1);
  REQUIRE(load.series[0].points.size() == 3);
  CHECK(load.series[0].points[0].g_per_kwh == 100);
  CHECK(load.series[0].points[2].g_per_kwh == 300);

  // An exact repeat is dropped; a conflicting repeat is an error naming both.
  const std::string repeat = R"({"zone":"DE","history":[
    {"carbonIntensity": 300, "datetime": "2023-07-15T17:00:00Z"},
    {"carbonIntensity": 300, "datetime": "2023-07-15T17:00:00Z"}]})";
  CHECK(load_electricitymaps_json(repeat, "r.json").series[0].points.size() == 1);
  const std::string conflict = R"({"zone":"DE","history":[
    {"carbonIntensity": 300, "datetime": "2023-07-15T17:00:00Z"},
    {"carbonIntensity": 250, "datetime": "2023-07-15T17:00:00Z"}]})";
  Caught c = caught([&] { load_electricitymaps_json(conflict, "c.json"); });
  CHECK(c.contains("c.json"));
  CHECK(c.contains("300"));
  CHECK(c.contains("250"));

  // In the future: beyond the clock-skew tolerance the data is not used.
  CarbonSignals signals;
  signals.add(series("F", {{kJuly15 + 3600, 100, false}}));
  ZoneReading future = evaluate(signals, "F", kJuly15);
  CHECK_FALSE(future.usable);
  CHECK(future.reason == ReadingStatus::kFuture);
  CHECK(evaluate(signals, "F", kJuly15 + 3600 - 200).usable);  // within 300 s of skew

  // Old data is stale, not silently used.
  CHECK(evaluate(signals, "F", kJuly15 + 3600 + 3 * 3600).reason == ReadingStatus::kStale);

  // Malformed: the message quotes the text and says what is wrong.
  CHECK(caught([] { parse_timestamp("2023-02-29T00:00:00Z"); }).contains("day 29 is out of range"));
  CHECK(caught([] { parse_timestamp("2023-01-01T24:00:00Z"); }).contains("hour 24"));
  CHECK(caught([] { parse_timestamp("2023-01-01T00:00:00"); }).contains("2023-01-01T00:00:00"));
  CHECK(caught([] { parse_timestamp("yesterday"); }).contains("\"yesterday\""));
  // The extremes of the format stay in range (no overflow).
  CHECK(parse_timestamp("9999-12-31T23:59:59-23:59") > 0);
  CHECK(parse_timestamp("0000-01-01T00:00:00+23:59") < 0);
}

// ---------------------------------------------------------------------------
// Unknown zones, plugins and QoS levels

TEST_CASE("bad input: unknown zones give a missing-zone reading or the configured error") {
  CarbonSignals signals;
  ZoneReading r = evaluate(signals, "NOWHERE", kJuly15);
  CHECK_FALSE(r.usable);
  CHECK(r.reason == ReadingStatus::kMissingZone);
  CHECK(std::isnan(r.g_per_kwh));

  KubeObjects objs;
  objs.nodes.push_back(make_node("lost", 1000, 1 << 30));
  objs.nodes[0].labels = {{"topology.kubernetes.io/region", "mars-1"}};
  SnapshotPtr snap = ClusterState::build(objs);
  ZoneMap neutral = ZoneMap::parse("unknownZone: neutral\nregions: {us-west-1: US}\n", "z.yaml");
  CHECK(neutral.node_zones(*snap)[0] == kUnknownZone);
  ZoneMap strict = ZoneMap::parse("unknownZone: error\nregions: {us-west-1: US}\n", "z.yaml");
  Caught c = caught([&] { strict.node_zones(*snap); });
  CHECK(c.kind == ErrorKind::kNotFound);
  CHECK(c.contains("lost"));
  CHECK(c.contains("mars-1"));
  CHECK(caught([] { ZoneMap::parse("regions: {a: B}\n", "z.yaml"); }).contains("unknownZone"));
  CHECK(caught([] { ZoneMap::parse("unknownZone: maybe\n", "z.yaml"); }).contains("maybe"));
}

TEST_CASE("bad input: unknown plugins, QoS levels, profiles and fields are named") {
  Caught plugin = caught([] {
    parse_scheduler_config(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: GreenMagic\n",
        "sched.yaml");
  });
  CHECK(plugin.contains("sched.yaml"));
  CHECK(plugin.contains("unknown plugin \"GreenMagic\""));

  Pod pod = make_pod("p", {{"cpu", "1"}});
  pod.annotations = {{"katalyst.kubewharf.io/qos_level", "gold_cores"}};
  Caught level = caught([&] { pod_carbon_qos(pod); });
  CHECK(level.contains("default/p"));
  CHECK(level.contains("katalyst.kubewharf.io/qos_level"));
  CHECK(level.contains("gold_cores"));

  pod.annotations = {};
  pod.labels = {{"koordinator.sh/qosClass", "GOLD"}};
  CHECK(caught([&] { pod_carbon_qos(pod); }).contains("unknown QoS class \"GOLD\""));

  pod.labels = {};
  pod.annotations = {{"carbon-kube.io/qos-profile", "platinum"}};
  Caught profile = caught([&] { pod_carbon_qos(pod); });
  CHECK(profile.contains("unknown profile \"platinum\""));

  // The scheduler refuses the pod with the same message; nothing is placed.
  SnapshotPtr snap = ClusterState::build(KubeObjects{{make_node("n", 4000, 1 << 30)}, {}, {}});
  Scheduler scheduler(seed_profile());
  ScoringContext ctx(1);
  CompiledPod compiled = compile_pod(pod, *snap);
  CHECK(caught([&] { scheduler.schedule(*snap, compiled, ctx); }).contains("platinum"));

  Caught field = caught([] {
    parse_carbon_profile(
        "apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\nmetadata: {name: x}\n"
        "spec: {carbonBudgett: {}}\n",
        "cp.yaml");
  });
  CHECK(field.contains("cp.yaml"));
  CHECK(field.contains("carbonBudgett"));
}

// ---------------------------------------------------------------------------
// Clusters: empty, 100,000 nodes; pods requesting nothing or everything

TEST_CASE("bad input: an empty cluster places nothing and says so") {
  SnapshotPtr snap = ClusterState::build(KubeObjects{});
  CHECK(snap->node_count() == 0);
  Scheduler seed(seed_profile());
  Scheduler defaults(default_profile());
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "1"}}), *snap);
  ScoringContext ctx(1);
  for (const Scheduler* s : {&seed, &defaults}) {
    CycleResult r = s->schedule(*snap, pod, ctx);
    CHECK_FALSE(r.selected.has_value());
    CHECK(r.feasible == 0);
    CHECK(r.processed == 0);
    Explanation e = explain(*s, *snap, pod, ctx, r);
    CHECK(e.nodes.empty());
    CHECK_FALSE(e.selected.has_value());
  }
  // An empty or whitespace-only document is an error, not an empty cluster.
  CHECK(caught([] { parse_kube_objects("  \n", "e.yaml"); }).contains("e.yaml: empty document"));
  // A List with no items is an empty cluster.
  CHECK(parse_kube_objects(R"({"kind":"List","items":[]})", "l.json").nodes.empty());
}

TEST_CASE("bad input: 100,000 nodes build, schedule and explain") {
  constexpr int kNodes = 100000;
  ClusterState state;
  for (int i = 0; i < kNodes; ++i)
    state.upsert_node(
        make_node("node-" + std::to_string(i), 1000 + (i % 64) * 1000, std::int64_t{1} << 34));
  SnapshotPtr snap = state.publish();
  REQUIRE(snap->node_count() == kNodes);
  Scheduler scheduler(default_profile());
  CompiledPod pod = compile_pod(make_pod("p", {{"cpu", "2"}, {"memory", "1Gi"}}), *snap);
  ScoringContext ctx(5);
  CycleResult r = scheduler.schedule(*snap, pod, ctx);
  REQUIRE(r.selected.has_value());
  // kube-scheduler's adaptive percentageOfNodesToScore: 5% of 100,000 nodes.
  CHECK(r.feasible == num_feasible_nodes_to_find(0, kNodes));
  CHECK(snap->allocatable(kCpu)[*r.selected] >= 2000);
  CHECK(r.total >= 0);
  // A pod no node fits is examined against every node.
  CompiledPod huge = compile_pod(make_pod("h", {{"cpu", "1000"}}), *snap);
  CycleResult none = scheduler.schedule(*snap, huge, ctx);
  CHECK_FALSE(none.selected.has_value());
  CHECK(none.processed == static_cast<std::uint32_t>(kNodes));
}

TEST_CASE("bad input: pods requesting nothing or everything") {
  ClusterState state;
  state.upsert_node(make_node("small", 2000, std::int64_t{4} << 30));
  state.upsert_node(make_node("large", 64000, std::int64_t{256} << 30));
  SnapshotPtr snap = state.publish();
  Scheduler scheduler(default_profile());
  ScoringContext ctx(2);

  // Nothing at all: no containers' requests. Feasible everywhere, scored
  // with kube-scheduler's non-zero defaults (100m / 200Mi).
  Pod empty = make_pod("nothing", {});
  CompiledPod nothing = compile_pod(empty, *snap);
  CHECK_FALSE(nothing.requests_anything);
  CycleResult r = scheduler.schedule(*snap, nothing, ctx);
  CHECK(r.selected.has_value());
  CHECK(r.feasible == 2);
  // A pod without containers parses and places the same way.
  KubeObjects bare =
      parse_kube_objects("kind: Pod\nmetadata: {name: bare}\nspec: {containers: []}\n", "b.yaml");
  REQUIRE(bare.pods.size() == 1);
  CHECK(scheduler.schedule(*snap, compile_pod(bare.pods[0], *snap), ctx).feasible == 2);

  // Everything: the most a quantity may hold fits nowhere; above it is an error.
  Pod all = make_pod("everything", {{"cpu", std::to_string(kMaxQuantityBaseUnits) + "m"},
                                    {"memory", std::to_string(kMaxQuantityBaseUnits)}});
  CycleResult none = scheduler.schedule(*snap, compile_pod(all, *snap), ctx);
  CHECK_FALSE(none.selected.has_value());
  CHECK(none.feasible == 0);
  Explanation e = explain(scheduler, *snap, compile_pod(all, *snap), ctx, none);
  REQUIRE(e.nodes.size() == 2);
  CHECK(e.nodes[0].failed_plugin == "NodeResourcesFit");
  Pod over = make_pod("over", {{"memory", "16Ei"}});
  Caught too_much = caught([&] { compile_pod(over, *snap); });
  CHECK(too_much.contains("pod \"default/over\""));
  CHECK(too_much.contains("larger than the limit"));
  // An extended resource no node has: infeasible with the resource named.
  Pod gpu = make_pod("gpu", {{"example.com/tpu", "1"}});
  CompiledPod gpu_pod = compile_pod(gpu, *snap);
  CHECK(gpu_pod.unknown_resources == std::vector<std::string>{"example.com/tpu"});
  CHECK_FALSE(scheduler.schedule(*snap, gpu_pod, ctx).selected.has_value());
}

// ---------------------------------------------------------------------------
// A snapshot updated while being scored; nothing lost on an error

TEST_CASE("bad input: a snapshot held by a scorer never changes while the cluster is updated") {
  auto c = random_cluster(7, 64, 128, 4);
  ClusterState state;
  for (const auto& n : c.nodes) state.upsert_node(n);
  for (const auto& p : c.bound) state.upsert_pod(p);
  const SnapshotPtr held = state.publish();
  const Scheduler scheduler(default_profile());
  std::vector<CompiledPod> pods;
  std::vector<CycleResult> expected;
  for (const Pod& p : c.pending) {
    pods.push_back(compile_pod(p, *held));
    ScoringContext ctx(3);
    expected.push_back(scheduler.schedule(*held, pods.back(), ctx));
  }
  const std::vector<std::int64_t> requested(held->requested(kCpu).begin(),
                                            held->requested(kCpu).end());

  std::atomic<bool> done{false};
  std::atomic<int> mismatches{0}, rounds{0};
  std::thread scorer([&] {
    while (!done.load() || rounds.load() < 20) {
      for (std::size_t i = 0; i < pods.size(); ++i) {
        ScoringContext ctx(3);
        CycleResult r = scheduler.schedule(*held, pods[i], ctx);
        if (r.selected != expected[i].selected || r.total != expected[i].total) ++mismatches;
      }
      ++rounds;
    }
  });
  // The writer removes, re-adds and fills nodes and publishes each time.
  for (int step = 0; step < 100; ++step) {
    const auto& n = c.nodes[static_cast<std::size_t>(step) % c.nodes.size()];
    state.remove_node(n.name);
    state.assume_pod(c.pending[static_cast<std::size_t>(step) % c.pending.size()],
                     c.nodes[static_cast<std::size_t>(step + 1) % c.nodes.size()].name);
    (void)state.publish();
    state.upsert_node(n);
    (void)state.publish();
  }
  done.store(true);
  scorer.join();
  CHECK(mismatches.load() == 0);
  CHECK(held->node_count() == 64);
  CHECK(std::equal(requested.begin(), requested.end(), held->requested(kCpu).begin()));
  // The newest snapshot sees the writer's changes.
  CHECK(state.publish()->generation() > held->generation());
}

TEST_CASE("bad input: a failed update loses no state (signals, reconciler, profiles)") {
  // Signals: a batch with one series of another kind adds none of the batch.
  CarbonSignals signals;
  signals.add(series("A", {{kJuly15, 100, false}}));
  ZoneSeries wrong = series("A", {{kJuly15 + 3600, 200, false}});
  wrong.kind = IntensityKind::kMarginalDirect;
  std::vector<ZoneSeries> batch{series("B", {{kJuly15, 50, false}}), wrong};
  CHECK(caught([&] { signals.add(std::move(batch)); }).thrown);
  CHECK(signals.size() == 1);
  CHECK(signals.find("B") == nullptr);
  CHECK(signals.find("A")->points.size() == 1);

  // Reconciler: a round with a duplicate zone changes nothing.
  QosReconciler reconciler;
  std::vector<ZoneQosInput> first{{"X", 50, true}, {"Y", 400, true}};
  reconciler.reconcile(kJuly15, first);
  std::vector<ZoneQosInput> dup{{"X", 450, true}, {"X", 450, true}};
  CHECK(caught([&] { reconciler.reconcile(kJuly15 + 7200, dup); }).contains("X"));
  CHECK(reconciler.state("X")->profile_index == 0);
  CHECK(reconciler.state("X")->since_unix_seconds == kJuly15);
  CHECK(reconciler.zone_count() == 2);

  // Profiles: a configuration that fails to compile yields no half-built profile.
  Caught weight = caught([] {
    compile_profile(parse_scheduler_config(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- plugins:\n    score:\n      enabled:\n      - {name: NodeAffinity, "
        "weight: -3}\n",
        "w.yaml"));
  });
  CHECK(weight.contains("w.yaml"));
  CHECK(weight.contains("weight"));

  // CarbonProfile thresholds that are NaN or out of order are refused.
  Caught nan_threshold = caught([] {
    parse_carbon_profile(
        "apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\nmetadata: {name: x}\n"
        "spec: {carbonBudget: {threshold: .nan}}\n",
        "cp.yaml");
  });
  CHECK(nan_threshold.contains("cp.yaml"));
  CHECK(nan_threshold.contains("threshold"));
  // Go durations that overflow are refused, not wrapped.
  CHECK(caught([] { parse_go_duration("99999999999999999999h"); }).contains("overflow"));
}

// ---------------------------------------------------------------------------
// Regressions found by the fuzz targets (fuzz/, docs/reliability.md)

TEST_CASE("bad input: fuzz regression: a YAML stream the parser cannot advance on is an error") {
  // yaml-cpp 0.7's LoadAll() looped forever on these, appending empty
  // documents until memory ran out (fuzz_zone_map, fuzz_cnr, fuzz_signals,
  // fuzz_carbon_profile found it within seconds).
  for (const char* text : {",", ", by its labh node  Zd", "kind: Node\n---\n,\n", "]", "}"}) {
    Caught c = caught([&] { parse_kube_objects(text, "stall.yaml"); });
    CHECK_MESSAGE(c.thrown, text);
    CHECK_MESSAGE(c.contains("stall.yaml: malformed YAML at line"), c.message);
  }
  CHECK(caught([] { ZoneMap::parse(",\nunknownZone: neutral\n", "z.yaml"); }).contains("z.yaml"));
  CHECK(caught([] { load_carbon_aware_sdk_json(", x", "cas.yaml"); }).contains("cas.yaml"));
  CHECK(caught([] { parse_carbon_profile(",", "cp.yaml"); }).contains("cp.yaml"));
  // A well-formed stream with empty documents still parses.
  CHECK(parse_kube_objects("---\n---\nkind: List\nitems: []\n---\n", "ok.yaml").nodes.empty());
}

TEST_CASE("bad input: fuzz regression: invalid UTF-8 in YAML is malformed input, as in JSON") {
  // A YAML string that is not UTF-8 made the re-serialised plugin args throw
  // nlohmann::json::type_error out of parse_scheduler_config
  // (fuzz_scheduler_config).
  Caught args = caught([] {
    parse_scheduler_config(
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- pluginConfig:\n  - name: NodeAffinity\n    args: {x: \"a\xff\"}\n",
        "sched.yaml");
  });
  CHECK(args.contains("sched.yaml: malformed YAML at line 6"));
  CHECK(args.contains("invalid UTF-8"));
  // Keys too; and every invalid form: overlong, surrogate, above U+10FFFF, truncated.
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\x80"}) {
    CHECK(caught([&] {
            parse_kube_objects(
                std::string("kind: Node\nmetadata: {name: n, labels: {") + bad + ": v}}\n",
                "k.yaml");
          }).contains("invalid UTF-8"));
  }
  // Valid multi-byte UTF-8 (the CSV header's subscript two, emoji) still parses.
  KubeObjects ok = parse_kube_objects(
      "kind: Node\nmetadata: {name: n, labels: {gCO\xe2\x82\x82: \"\xf0\x9f\x8c\xb1\"}}\n",
      "u.yaml");
  REQUIRE(ok.nodes.size() == 1);
  CHECK(ok.nodes[0].labels[0].first == "gCO\xe2\x82\x82");
}

TEST_CASE(
    "bad input: fuzz regression: a quantity above the limit is refused whatever its decimals") {
  // With nine decimals no scaling step ran, so the "too large" check was
  // skipped and 1.2e23 units parsed; format -> parse then failed (fuzz_quantity).
  CHECK(caught([] { parse_quantity("123456567673456709901200.002567090"); }).contains("too large"));
  CHECK(caught([] { parse_quantity("1000000000000000000000.000000001"); }).contains("too large"));
  CHECK(caught([] { parse_quantity("-1000000000000000000000.000000001"); }).contains("too large"));
  // The limit itself (1e21 units) parses in every spelling and round-trips.
  for (const char* s : {"1000000000000000000000", "1000000000000000000000.000000000", "1e21",
                        "1000000000000000000k", "1Z" /* not a suffix */}) {
    Quantity q;
    std::string error;
    if (!try_parse_quantity(s, &q, &error)) {
      CHECK(std::string(s) == "1Z");
      continue;
    }
    CHECK(format_quantity(q) == "1000000000000000000000");
    CHECK(parse_quantity(format_quantity(q)) == q);
  }
}
