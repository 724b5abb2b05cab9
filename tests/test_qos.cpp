// Carbon-aware QoS profiles: the seed's defaults and examples, CarbonProfile
// and Helm values parsing and every validation error, Go durations, the pod ->
// profile mapping (carbon-kube.io, Katalyst, Koordinator), and the zone
// reconciler's hysteresis, dwell and missing-data rules, checked against a
// plain reference implementation on random walks.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/qos.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

using ck_test::contains;

using ck_test::error_of;

std::string source_path(const std::string& rel) {
  return std::string(CARBONKUBE_SOURCE_DIR) + "/" + rel;
}

const std::string kProfileHead =
    "apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\nmetadata: {name: p, "
    "namespace: ns}\n";

std::string profile_error(const std::string& body) {
  return error_of([&] { parse_carbon_profile(kProfileHead + body, "cp.yaml"); });
}
std::string helm_error(const std::string& text) {
  return error_of([&] { parse_helm_qos_profiles(text, "values.yaml"); });
}

Pod make_pod(StringMap annotations, StringMap labels = {}) {
  Pod p;
  p.namespace_name = "prod";
  p.name = "web";
  std::sort(annotations.begin(), annotations.end());
  std::sort(labels.begin(), labels.end());
  p.annotations = std::move(annotations);
  p.labels = std::move(labels);
  return p;
}
std::string pod_error(StringMap annotations, StringMap labels = {}) {
  Pod p = make_pod(std::move(annotations), std::move(labels));
  return error_of([&] { pod_carbon_qos(p); });
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

// ---------------------------------------------------------------------------
// Profiles and parsers

TEST_CASE("qos: the default profiles are the seed's") {
  const QosProfileSet& set = default_qos_profiles();
  REQUIRE(set.size() == 3);
  const QosProfile& g = set[0];
  CHECK(g.name == "green-guaranteed");
  CHECK(g.carbon_threshold_g_per_kwh == 100.0);
  CHECK(g.resource_guarantee == 1.0);
  CHECK(g.priority == 1000);
  CHECK(g.migration == MigrationPolicy::kDisabled);
  CHECK(!g.tolerate_high_carbon);
  CHECK(g.pue_target == 1.2);
  const QosProfile& m = set[1];
  CHECK(m.name == "mixed-burstable");
  CHECK(m.carbon_threshold_g_per_kwh == 300.0);
  CHECK(m.resource_guarantee == 0.8);
  CHECK(m.priority == 500);
  CHECK(m.migration == MigrationPolicy::kConservative);
  CHECK(m.pue_target == 1.4);
  const QosProfile& d = set[2];
  CHECK(d.name == "dirty-besteffort");
  CHECK(d.carbon_threshold_g_per_kwh == 500.0);
  CHECK(d.resource_guarantee == 0.5);
  CHECK(d.priority == 100);
  CHECK(d.migration == MigrationPolicy::kAggressive);
  CHECK(d.tolerate_high_carbon);
  CHECK(d.pue_target == 1.6);
  CHECK(set.find("mixed-burstable") == 1);
  CHECK(set.find("gold") == -1);
  CHECK(to_string(MigrationPolicy::kConservative) == "conservative");
}

TEST_CASE("qos: classify gives the greenest profile whose threshold the intensity is at or under") {
  const QosProfileSet& set = default_qos_profiles();
  CHECK(set.classify(0) == 0);
  CHECK(set.classify(100) == 0);
  CHECK(set.classify(100.5) == 1);
  CHECK(set.classify(300) == 1);
  CHECK(set.classify(301) == 2);
  CHECK(set.classify(500) == 2);
  CHECK(set.classify(2000) == 2);  // above every threshold: the dirtiest
}

TEST_CASE("qos: a profile set is validated field by field") {
  auto base = [] {
    std::vector<QosProfile> v(default_qos_profiles().profiles().begin(),
                              default_qos_profiles().profiles().end());
    return v;
  };
  auto err = [](std::vector<QosProfile> v) {
    return error_of([&] { QosProfileSet(std::move(v), "custom"); });
  };
  CHECK(contains(err({}), "custom: needs at least one QoS profile"));
  auto v = base();
  v[1].carbon_threshold_g_per_kwh = 100;
  CHECK(contains(err(v),
                 "custom: profiles[1].carbon_threshold_g_per_kwh: 100 must be above the "
                 "previous profile's 100"));
  v = base();
  v[0].carbon_threshold_g_per_kwh = std::nan("");
  CHECK(contains(err(v), "profiles[0].carbon_threshold_g_per_kwh: nan must be finite"));
  v = base();
  v[0].carbon_threshold_g_per_kwh = 0;
  CHECK(contains(err(v), "profiles[0].carbon_threshold_g_per_kwh: 0 must be finite and above 0"));
  v = base();
  v[2].resource_guarantee = 1.5;
  CHECK(contains(err(v), "profiles[2].resource_guarantee: 1.5 is not a fraction in 0..1"));
  v = base();
  v[2].pue_target = 0.9;
  CHECK(contains(err(v), "profiles[2].pue_target: 0.9 must be finite and at least 1"));
  v = base();
  v[2].name = "green-guaranteed";
  CHECK(contains(err(v), "profiles[2].name: duplicate profile name"));
  v = base();
  v[0].name = "Green Guaranteed";
  CHECK(contains(err(v), "profiles[0].name: \"Green Guaranteed\" is not a valid label value"));
  v = base();
  v[0].name = "";
  CHECK(contains(err(v), "profiles[0].name"));
  // A custom two-profile set is fine.
  std::vector<QosProfile> two = {{"green", 50, 1, 10, false, MigrationPolicy::kDisabled, 1.1},
                                 {"rest", 900, 0.5, 1, true, MigrationPolicy::kAggressive, 2}};
  CHECK(QosProfileSet(two).size() == 2);
}

TEST_CASE("qos: the seed's CarbonProfile example parses") {
  CarbonProfile cp = parse_carbon_profile(
      read_file(source_path("examples/config/carbon-profile.yaml")), "carbon-profile.yaml");
  CHECK(cp.name == "default-carbon-profile");
  CHECK(cp.namespace_name == "default");
  CHECK(cp.budget.daily_limit_kg == 100.0);
  CHECK(cp.budget.threshold_g_per_kwh == 300.0);
  CHECK(cp.budget.green_threshold_g_per_kwh == 100.0);
  REQUIRE(cp.profiles.size() == 3);
  CHECK(cp.profiles[0].carbon_threshold_g_per_kwh == 100);
  CHECK(cp.profiles[0].resource_guarantee == 1.0);
  CHECK(cp.profiles[1].carbon_threshold_g_per_kwh == 300);
  CHECK(cp.profiles[1].resource_guarantee == 0.8);
  CHECK(cp.profiles[2].carbon_threshold_g_per_kwh == 500);
  CHECK(cp.profiles[2].resource_guarantee == 0.5);
  // Not in the CRD: from the defaults.
  CHECK(cp.profiles[0].priority == 1000);
  CHECK(cp.profiles[2].migration == MigrationPolicy::kAggressive);
  CHECK(cp.migration.enabled);
  CHECK(cp.migration.strategy == "carbon-aware");
  CHECK(cp.migration.cooldown_seconds == 300.0);
  CHECK(cp.migration.max_per_hour == 10);
}

TEST_CASE("qos: a partial CarbonProfile (the seed's test object) takes the defaults") {
  // The seed's integration test creates this, in JSON.
  CarbonProfile cp = parse_carbon_profile(
      R"({"apiVersion": "carbon.katalyst.io/v1alpha1", "kind": "CarbonProfile",
          "metadata": {"name": "test-profile"},
          "spec": {"carbonBudget": {"threshold": 300},
                   "qosMapping": {"greenGuaranteed": {"maxCarbonIntensity": 80}}}})",
      "cp.json");
  CHECK(cp.name == "test-profile");
  CHECK(cp.namespace_name == "default");
  CHECK(cp.budget.daily_limit_kg == 100.0);
  CHECK(cp.budget.green_threshold_g_per_kwh == 100.0);
  CHECK(cp.profiles[0].carbon_threshold_g_per_kwh == 80);
  CHECK(cp.profiles[0].resource_guarantee == 1.0);
  CHECK(cp.profiles[1].carbon_threshold_g_per_kwh == 300);
  CHECK(cp.profiles[2].carbon_threshold_g_per_kwh == 500);
  CHECK(cp.migration.cooldown_seconds == 300.0);
  // No spec at all: every default; kubectl's metadata extras are accepted.
  cp = parse_carbon_profile(kProfileHead.substr(0, kProfileHead.find("metadata")) +
                                "metadata:\n  name: p\n  uid: abc\n  labels: {a: b}\n",
                            "cp.yaml");
  CHECK(cp.profiles[1].carbon_threshold_g_per_kwh == 300);
  // A resource guarantee written as a percentage string, as the seed's
  // NodeResourceTopology example does.
  cp = parse_carbon_profile(
      kProfileHead + "spec:\n  qosMapping:\n    mixedBurstable: {resourceGuarantee: \"75%\"}\n",
      "cp.yaml");
  CHECK(cp.profiles[1].resource_guarantee == 0.75);
  cp = parse_carbon_profile(kProfileHead + "spec:\n  migrationPolicy: {cooldownPeriod: 1h30m}\n",
                            "cp.yaml");
  CHECK(cp.migration.cooldown_seconds == 5400.0);
}

TEST_CASE("qos: every CarbonProfile validation error names the field") {
  struct Case {
    std::string text;  // appended to kProfileHead unless it starts with '!'
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"!apiVersion: carbon.katalyst.io/v1\nkind: CarbonProfile\nmetadata: {name: p}\n",
       "cp.yaml: apiVersion: expected carbon.katalyst.io/v1alpha1, got \"carbon.katalyst.io/v1\""},
      {"!kind: CarbonProfile\nmetadata: {name: p}\n", "cp.yaml: apiVersion: missing"},
      {"!apiVersion: carbon.katalyst.io/v1alpha1\nkind: QoSProfile\nmetadata: {name: p}\n",
       "cp.yaml: kind: expected CarbonProfile, got \"QoSProfile\""},
      {"!apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\nmetadata: {namespace: x}\n",
       "cp.yaml: metadata: missing name"},
      {"!apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\n",
       "cp.yaml: missing metadata"},
      {"!apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\nmetadata: {name: p}\nextra: "
       "1\n",
       "cp.yaml: extra: unknown field"},
      {"spec: {qosClasses: []}\n",
       "cp.yaml (CarbonProfile \"ns/p\"): spec.qosClasses: unknown field"},
      {"spec: {carbonBudget: {limit: 5}}\n", "spec.carbonBudget.limit: unknown field"},
      {"spec: {carbonBudget: {dailyLimit: 0}}\n",
       "spec.carbonBudget.dailyLimit: 0 kg must be above 0"},
      {"spec: {carbonBudget: {dailyLimit: lots}}\n",
       "spec.carbonBudget.dailyLimit: expected a number, got lots"},
      {"spec: {carbonBudget: {threshold: -3}}\n",
       "spec.carbonBudget.threshold: -3 must be above 0 gCO2/kWh"},
      {"spec: {carbonBudget: {greenThreshold: 400}}\n",
       "spec.carbonBudget.greenThreshold: greenThreshold 400 must be below threshold 300"},
      {"spec: {carbonBudget: {threshold: 50}}\n",
       "spec.carbonBudget.threshold: greenThreshold 100 must be below threshold 50"},
      {"spec: {qosMapping: {goldGuaranteed: {}}}\n",
       "spec.qosMapping.goldGuaranteed: unknown field (known: greenGuaranteed, mixedBurstable, "
       "dirtyBestEffort)"},
      {"spec: {qosMapping: {greenGuaranteed: {priority: 5}}}\n",
       "spec.qosMapping.greenGuaranteed.priority: unknown field"},
      {"spec: {qosMapping: {greenGuaranteed: []}}\n",
       "spec.qosMapping.greenGuaranteed: expected an object, got array"},
      {"spec: {qosMapping: {greenGuaranteed: {maxCarbonIntensity: 0}}}\n",
       "spec.qosMapping.greenGuaranteed.maxCarbonIntensity: 0 must be above 0 gCO2/kWh"},
      {"spec: {qosMapping: {greenGuaranteed: {maxCarbonIntensity: .inf}}}\n",
       "spec.qosMapping.greenGuaranteed.maxCarbonIntensity: expected a finite number"},
      {"spec: {qosMapping: {greenGuaranteed: {maxCarbonIntensity: .nan}}}\n",
       "spec.qosMapping.greenGuaranteed.maxCarbonIntensity: expected a finite number"},
      {"spec: {qosMapping: {greenGuaranteed: {maxCarbonIntensity: \"100\"}}}\n",
       "spec.qosMapping.greenGuaranteed.maxCarbonIntensity: expected a number, got 100"},
      {"spec: {qosMapping: {greenGuaranteed: {maxCarbonIntensity: 350}}}\n",
       "spec.qosMapping.greenGuaranteed.maxCarbonIntensity: 350 must be below mixedBurstable's 300 "
       "(default) (thresholds increase: green < mixed < dirty)"},
      {"spec: {qosMapping: {mixedBurstable: {maxCarbonIntensity: 100}}}\n",
       "spec.qosMapping.mixedBurstable.maxCarbonIntensity: 100 must be above greenGuaranteed's 100 "
       "(default)"},
      {"spec: {qosMapping: {mixedBurstable: {maxCarbonIntensity: 600}}}\n",
       "spec.qosMapping.mixedBurstable.maxCarbonIntensity: 600 must be below dirtyBestEffort's 500 "
       "(default)"},
      {"spec: {qosMapping: {mixedBurstable: {maxCarbonIntensity: 300}, dirtyBestEffort: "
       "{maxCarbonIntensity: 250}}}\n",
       "spec.qosMapping.dirtyBestEffort.maxCarbonIntensity: 250 must be above mixedBurstable's 300 "
       "(thresholds"},
      {"spec: {qosMapping: {mixedBurstable: {resourceGuarantee: 120}}}\n",
       "spec.qosMapping.mixedBurstable.resourceGuarantee: 120 is not a percentage in 0..100"},
      {"spec: {qosMapping: {mixedBurstable: {resourceGuarantee: -1}}}\n",
       "spec.qosMapping.mixedBurstable.resourceGuarantee: -1 is not a percentage in 0..100"},
      {"spec: {qosMapping: {mixedBurstable: {resourceGuarantee: \"80\"}}}\n",
       "spec.qosMapping.mixedBurstable.resourceGuarantee: expected a percentage 0..100 (80 or "
       "\"80%\"), got 80"},
      {"spec: {qosMapping: {mixedBurstable: {resourceGuarantee: \"lots%\"}}}\n",
       "spec.qosMapping.mixedBurstable.resourceGuarantee: expected a percentage, got \"lots%\""},
      {"spec: {qosMapping: {mixedBurstable: {resourceGuarantee: \"0x50%\"}}}\n",
       "spec.qosMapping.mixedBurstable.resourceGuarantee: expected a percentage, got \"0x50%\""},
      {"spec: {qosMapping: {mixedBurstable: {resourceGuarantee: \"%\"}}}\n",
       "resourceGuarantee: expected a percentage, got \"%\""},
      {"spec: {qosMapping: {mixedBurstable: {resourceGuarantee: \"150%\"}}}\n",
       "resourceGuarantee: 150 is not a percentage in 0..100"},
      {"spec: {migrationPolicy: {enabled: \"yes\"}}\n",
       "spec.migrationPolicy.enabled: expected true or false, got yes"},
      {"spec: {migrationPolicy: {strategy: greedy}}\n",
       "spec.migrationPolicy.strategy: unknown strategy \"greedy\" (known: carbon-aware)"},
      {"spec: {migrationPolicy: {cooldownPeriod: 5 minutes}}\n",
       "spec.migrationPolicy.cooldownPeriod: invalid duration \"5 minutes\": unknown unit \" "
       "minutes\""},
      {"spec: {migrationPolicy: {cooldownPeriod: 300}}\n",
       "spec.migrationPolicy.cooldownPeriod: expected a string, got number"},
      {"spec: {migrationPolicy: {cooldownPeriod: \"-5m\"}}\n",
       "spec.migrationPolicy.cooldownPeriod: \"-5m\" is negative"},
      {"spec: {migrationPolicy: {maxMigrationsPerHour: -1}}\n",
       "spec.migrationPolicy.maxMigrationsPerHour: -1 is out of range [0, 1000000]"},
      {"spec: {migrationPolicy: {maxMigrationsPerHour: 2.5}}\n",
       "spec.migrationPolicy.maxMigrationsPerHour: expected an integer, got 2.5"},
      {"spec: {migrationPolicy: {burst: 1}}\n", "spec.migrationPolicy.burst: unknown field"},
      {"!" + kProfileHead + "---\n" + kProfileHead,
       "cp.yaml: expected one CarbonProfile document, got 2"},
      {"![1, 2]", "cp.yaml: expected a CarbonProfile object, got array"},
  };
  for (const auto& c : cases) {
    std::string err = c.text[0] == '!'
                          ? error_of([&] { parse_carbon_profile(c.text.substr(1), "cp.yaml"); })
                          : profile_error(c.text);
    INFO("input: ", c.text, "\nerror: ", err);
    CHECK(contains(err, c.expect));
  }
}

TEST_CASE("qos: the seed's Helm values parse, as YAML and as JSON") {
  QosProfileSet set = parse_helm_qos_profiles(
      read_file(source_path("examples/config/helm-values.yaml")), "helm-values.yaml");
  REQUIRE(set.size() == 3);
  for (int i = 0; i < 3; ++i) {
    CHECK(set[i].name == default_qos_profiles()[i].name);
    CHECK(set[i].carbon_threshold_g_per_kwh ==
          default_qos_profiles()[i].carbon_threshold_g_per_kwh);
    CHECK(set[i].resource_guarantee == default_qos_profiles()[i].resource_guarantee);
    CHECK(set[i].priority == default_qos_profiles()[i].priority);
    CHECK(set[i].migration == default_qos_profiles()[i].migration);
  }
  QosProfileSet json = parse_helm_qos_profiles(R"({"katalyst": {"qosProfiles": {
      "greenGuaranteed": {"carbonThreshold": 80, "resourceGuarantee": 90, "priority": 2000,
                          "migrationEnabled": true},
      "mixedBurstable": {"carbonThreshold": 250.5, "migrationEnabled": false},
      "dirtyBestEffort": {"migrationPolicy": "conservative", "pueTarget": 1.5,
                          "tolerateHighCarbon": false}}}})",
                                               "values.json");
  CHECK(json[0].carbon_threshold_g_per_kwh == 80);
  CHECK(json[0].resource_guarantee == 0.9);
  CHECK(json[0].priority == 2000);
  // Enabling migration on a profile whose default is disabled: conservative.
  CHECK(json[0].migration == MigrationPolicy::kConservative);
  CHECK(json[1].carbon_threshold_g_per_kwh == 250.5);
  CHECK(json[1].resource_guarantee == 0.8);
  CHECK(json[1].migration == MigrationPolicy::kDisabled);
  CHECK(json[2].migration == MigrationPolicy::kConservative);
  CHECK(json[2].pue_target == 1.5);
  CHECK(!json[2].tolerate_high_carbon);
  // No katalyst section, or no qosProfiles: the defaults.
  CHECK(parse_helm_qos_profiles("carbon: {threshold: 300}\n", "v.yaml")[1].priority == 500);
  CHECK(parse_helm_qos_profiles("katalyst: {enabled: true}\n", "v.yaml")[2].priority == 100);
  // Only one profile given: the others are the defaults.
  QosProfileSet one = parse_helm_qos_profiles(
      "katalyst:\n  qosProfiles:\n    dirtyBestEffort: {carbonThreshold: 700}\n", "v.yaml");
  CHECK(one[0].carbon_threshold_g_per_kwh == 100);
  CHECK(one[2].carbon_threshold_g_per_kwh == 700);
}

TEST_CASE("qos: every Helm values validation error names the field") {
  const std::string head = "katalyst:\n  qosProfiles:\n";
  struct Case {
    std::string text;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {head + "    greenGuaranted: {}\n",
       "values.yaml: katalyst.qosProfiles.greenGuaranted: unknown field (known: greenGuaranteed, "
       "mixedBurstable, dirtyBestEffort)"},
      {head + "    greenGuaranteed: {threshold: 5}\n",
       "katalyst.qosProfiles.greenGuaranteed.threshold: unknown field"},
      {head + "    greenGuaranteed: {carbonThreshold: 0}\n",
       "katalyst.qosProfiles.greenGuaranteed.carbonThreshold: 0 must be above 0 gCO2/kWh"},
      {head + "    greenGuaranteed: {carbonThreshold: 300}\n",
       "katalyst.qosProfiles.greenGuaranteed.carbonThreshold: 300 must be below mixedBurstable's "
       "300 (default)"},
      {head + "    dirtyBestEffort: {carbonThreshold: 200}\n",
       "katalyst.qosProfiles.dirtyBestEffort.carbonThreshold: 200 must be above mixedBurstable's "
       "300 (default)"},
      {head + "    mixedBurstable: {resourceGuarantee: 101}\n",
       "katalyst.qosProfiles.mixedBurstable.resourceGuarantee: 101 is not a percentage in 0..100"},
      {head + "    mixedBurstable: {priority: 3000000000}\n",
       "katalyst.qosProfiles.mixedBurstable.priority: 3000000000 is out of range"},
      {head + "    mixedBurstable: {priority: 1.5}\n",
       "katalyst.qosProfiles.mixedBurstable.priority: expected an integer, got 1.5"},
      {head + "    mixedBurstable: {migrationEnabled: \"true\"}\n",
       "katalyst.qosProfiles.mixedBurstable.migrationEnabled: expected true or false, got true"},
      {head + "    mixedBurstable: {migrationPolicy: eager}\n",
       "katalyst.qosProfiles.mixedBurstable.migrationPolicy: unknown policy \"eager\""},
      {head + "    mixedBurstable: {migrationPolicy: aggressive, migrationEnabled: false}\n",
       "katalyst.qosProfiles.mixedBurstable.migrationEnabled: false contradicts migrationPolicy "
       "\"aggressive\""},
      {head + "    mixedBurstable: {pueTarget: 0.8}\n",
       "katalyst.qosProfiles.mixedBurstable.pueTarget: 0.8 must be at least 1"},
      {head + "    mixedBurstable: {tolerateHighCarbon: 1}\n",
       "katalyst.qosProfiles.mixedBurstable.tolerateHighCarbon: expected true or false"},
      {"katalyst: {qosProfiles: [1]}\n", "values.yaml: katalyst.qosProfiles: expected an object"},
      {"katalyst: 5\n", "values.yaml: katalyst: expected an object, got number"},
      {"{\"katalyst\": {\"qosProfiles\": {\"mixedBurstable\": {\"carbonThreshold\": -1}}}}",
       "values.yaml: katalyst.qosProfiles.mixedBurstable.carbonThreshold: -1 must be above 0"},
      {"{\"katalyst\": ", "values.yaml: malformed JSON"},
      {"a: 1\n---\nb: 2\n", "values.yaml: expected one Helm values document, got 2"},
  };
  for (const auto& c : cases) {
    std::string err = helm_error(c.text);
    INFO("input: ", c.text, "\nerror: ", err);
    CHECK(contains(err, c.expect));
  }
}

TEST_CASE("qos: Go durations as time.ParseDuration reads them") {
  CHECK(parse_go_duration("5m") == 300.0);
  CHECK(parse_go_duration("1h30m") == 5400.0);
  CHECK(parse_go_duration("90s") == 90.0);
  CHECK(parse_go_duration("1.5h") == 5400.0);
  CHECK(parse_go_duration("300ms") == doctest::Approx(0.3));
  CHECK(parse_go_duration("2h45m30.5s") == 9930.5);
  CHECK(parse_go_duration("0") == 0.0);
  CHECK(parse_go_duration("+0") == 0.0);
  CHECK(parse_go_duration("0s") == 0.0);
  CHECK(parse_go_duration(".5s") == 0.5);
  CHECK(parse_go_duration("5.s") == 5.0);
  CHECK(parse_go_duration("-1m") == -60.0);
  CHECK(parse_go_duration("1500us") == doctest::Approx(0.0015));
  CHECK(parse_go_duration("1500\xC2\xB5s") == doctest::Approx(0.0015));  // micro sign
  CHECK(parse_go_duration("1500\xCE\xBCs") == doctest::Approx(0.0015));  // Greek mu
  CHECK(parse_go_duration("10ns") == doctest::Approx(1e-8));
  CHECK(parse_go_duration("2562047h") ==
        doctest::Approx(2562047.0 * 3600));  // near the int64 limit
  for (const char* bad : {"", "5", "m", "5x", "1.5.5s", ".s", "-", "5m ", " 5m", "1d", "2562048h",
                          "9223372036854775808ns", "99999999999999999999s"}) {
    std::string err = error_of([&] { parse_go_duration(bad); });
    INFO(bad);
    CHECK(contains(err, std::string("invalid duration \"") + bad + "\""));
  }
  CHECK(contains(error_of([] { parse_go_duration("5x"); }), "unknown unit \"x\""));
  CHECK(contains(error_of([] { parse_go_duration("5"); }), "missing unit"));
  CHECK(contains(error_of([] { parse_go_duration("2562048h"); }), "overflow"));
}

// ---------------------------------------------------------------------------
// Pods

TEST_CASE("qos: a pod's carbon-kube.io annotations choose its profile") {
  PodCarbonQos q = pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "green-guaranteed"}}));
  CHECK(q.profile_index == 0);
  CHECK(q.source == QosSource::kCarbonKubeAnnotation);
  CHECK(q.max_intensity == 100.0);
  CHECK(!q.tolerate_high_carbon);
  CHECK(q.level == KatalystQosLevel::kNone);
  CHECK(!q.memory.present);

  q = pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "dirty-besteffort"}}));
  CHECK(q.profile_index == 2);
  CHECK(q.max_intensity == 500.0);
  CHECK(q.tolerate_high_carbon);  // the profile tolerates high carbon

  // The budget caps the profile's threshold; it never raises it.
  q = pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "mixed-burstable"},
                               {"carbon-kube.io/carbon-budget", "150"}}));
  CHECK(q.max_intensity == 150.0);
  CHECK(q.carbon_budget == std::optional<double>(150.0));
  q = pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "green-guaranteed"},
                               {"carbon-kube.io/carbon-budget", "250.5"}}));
  CHECK(q.max_intensity == 100.0);
  // A budget alone: no profile, but a cap.
  q = pod_carbon_qos(make_pod({{"carbon-kube.io/carbon-budget", "1e2"}}));
  CHECK(q.profile_index == -1);
  CHECK(q.max_intensity == 100.0);
  // tolerate-high-carbon overrides the profile either way.
  q = pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "green-guaranteed"},
                               {"carbon-kube.io/tolerate-high-carbon", "true"}}));
  CHECK(q.tolerate_high_carbon);
  q = pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "dirty-besteffort"},
                               {"carbon-kube.io/tolerate-high-carbon", "false"}}));
  CHECK(!q.tolerate_high_carbon);
  // The seed's integration-test pod: its katalyst.io/qos-class alias and a budget.
  q = pod_carbon_qos(make_pod(
      {{"katalyst.io/qos-class", "green-guaranteed"}, {"carbon-kube.io/carbon-budget", "100"}}));
  CHECK(q.profile_index == 0);
  CHECK(q.source == QosSource::kSeedQosClass);
  CHECK(q.max_intensity == 100.0);
  q = pod_carbon_qos(make_pod({{"katalyst.io/qos-class", "green-guaranteed"},
                               {"carbon-kube.io/qos-profile", "mixed-burstable"}}));
  CHECK(q.profile_index == 1);
  CHECK(q.source == QosSource::kCarbonKubeAnnotation);
  // Nothing at all.
  q = pod_carbon_qos(make_pod({}));
  CHECK(q.profile_index == -1);
  CHECK(q.source == QosSource::kNone);
  CHECK(q.max_intensity == kInf);
  CHECK(!q.tolerate_high_carbon);
}

TEST_CASE("qos: Katalyst qos_level and Koordinator qosClass map to profiles") {
  struct Case {
    StringMap annotations;
    StringMap labels;
    int profile;
    bool tolerate;
    QosSource source;
  };
  const std::string kl = "katalyst.kubewharf.io/qos_level";
  const std::string ko = "koordinator.sh/qosClass";
  const std::vector<Case> cases = {
      {{{kl, "dedicated_cores"}}, {}, 0, false, QosSource::kKatalystQosLevel},
      {{{kl, "shared_cores"}}, {}, 1, false, QosSource::kKatalystQosLevel},
      {{{kl, "reclaimed_cores"}}, {}, 2, true, QosSource::kKatalystQosLevel},
      {{{kl, "system_cores"}}, {}, -1, true, QosSource::kKatalystQosLevel},
      {{}, {{kl, "dedicated_cores"}}, 0, false, QosSource::kKatalystQosLevel},  // as a label
      {{}, {{ko, "LSE"}}, 0, false, QosSource::kKoordinatorQosClass},
      {{}, {{ko, "LSR"}}, 0, false, QosSource::kKoordinatorQosClass},
      {{}, {{ko, "LS"}}, 1, false, QosSource::kKoordinatorQosClass},
      {{}, {{ko, "BE"}}, 2, true, QosSource::kKoordinatorQosClass},
      {{}, {{ko, "SYSTEM"}}, -1, true, QosSource::kKoordinatorQosClass},
      {{}, {{ko, ""}}, -1, false, QosSource::kNone},  // Koordinator's "none"
      // Precedence: carbon-kube.io, then Katalyst, then Koordinator.
      {{{kl, "reclaimed_cores"}, {"carbon-kube.io/qos-profile", "green-guaranteed"}},
       {{ko, "BE"}},
       0,
       false,
       QosSource::kCarbonKubeAnnotation},
      {{{kl, "dedicated_cores"}}, {{ko, "BE"}}, 0, false, QosSource::kKatalystQosLevel},
      // An explicit tolerance wins over system_cores.
      {{{kl, "system_cores"}, {"carbon-kube.io/tolerate-high-carbon", "false"}},
       {},
       -1,
       false,
       QosSource::kKatalystQosLevel},
  };
  for (const auto& c : cases) {
    Pod p = make_pod(c.annotations, c.labels);
    PodCarbonQos q = pod_carbon_qos(p);
    INFO("annotations ", c.annotations.size(), " labels ", c.labels.size(), " want ", c.profile);
    CHECK(q.profile_index == c.profile);
    CHECK(q.tolerate_high_carbon == c.tolerate);
    CHECK(q.source == c.source);
    CHECK(q.max_intensity ==
          (c.profile >= 0 ? default_qos_profiles()[c.profile].carbon_threshold_g_per_kwh : kInf));
  }
  PodCarbonQos q = pod_carbon_qos(make_pod({{kl, "shared_cores"}}, {{ko, "LSR"}}));
  CHECK(q.level == KatalystQosLevel::kSharedCores);
  CHECK(q.koordinator == KoordinatorQosClass::kLSR);
  CHECK(to_string(q.level) == "shared_cores");
  CHECK(to_string(q.koordinator) == "LSR");
  CHECK(parse_katalyst_qos_level("system_cores") == KatalystQosLevel::kSystemCores);
  CHECK(!parse_katalyst_qos_level("Dedicated_Cores").has_value());
  CHECK(parse_koordinator_qos_class("BE") == KoordinatorQosClass::kBE);
  CHECK(!parse_koordinator_qos_class("be").has_value());
}

TEST_CASE("qos: a custom profile set maps Katalyst levels by name, else by position") {
  std::vector<QosProfile> two = {{"eco", 150, 1, 10, false, MigrationPolicy::kDisabled, 1.1},
                                 {"any", 900, 0.5, 1, true, MigrationPolicy::kAggressive, 2}};
  QosProfileSet set(two);
  const std::string kl = "katalyst.kubewharf.io/qos_level";
  CHECK(pod_carbon_qos(make_pod({{kl, "dedicated_cores"}}), set).profile_index == 0);
  CHECK(pod_carbon_qos(make_pod({{kl, "shared_cores"}}), set).profile_index == 1);
  CHECK(pod_carbon_qos(make_pod({{kl, "reclaimed_cores"}}), set).profile_index == 1);
  CHECK(pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "eco"}}), set).max_intensity ==
        150.0);
  CHECK(contains(
      error_of([&] {
        pod_carbon_qos(make_pod({{"carbon-kube.io/qos-profile", "green-guaranteed"}}), set);
      }),
      "unknown profile \"green-guaranteed\" (known: eco, any)"));
}

TEST_CASE("qos: Katalyst memory_enhancement flags") {
  const std::string me = "katalyst.kubewharf.io/memory_enhancement";
  PodCarbonQos q =
      pod_carbon_qos(make_pod({{me, R"({"numa_binding":"true","numa_exclusive":"true"})"},
                               {"katalyst.kubewharf.io/qos_level", "dedicated_cores"}}));
  CHECK(q.memory.present);
  CHECK(q.memory.numa_binding);
  CHECK(q.memory.numa_exclusive);
  CHECK(!q.memory.numa_number.has_value());
  CHECK(q.level == KatalystQosLevel::kDedicatedCores);

  // numa_number is its own annotation (Katalyst's AnnotationsGetNUMANumber);
  // inside memory_enhancement it is just another ignored key.
  const std::string nn = "katalyst.kubewharf.io/numa_number";
  KatalystMemoryEnhancement m = katalyst_memory_enhancement(make_pod(
      {{me, R"({"numa_binding": "true", "numa_number": "3", "oom_priority": "150"})"}, {nn, "2"}}));
  CHECK(m.numa_binding);
  CHECK(!m.numa_exclusive);
  CHECK(m.numa_number == std::optional<std::int32_t>(2));
  m = katalyst_memory_enhancement(
      make_pod({{me, R"({"numa_binding": "false", "numa_exclusive": "false"})"}, {nn, "0"}}));
  CHECK(!m.numa_binding);
  CHECK(m.numa_number == std::optional<std::int32_t>(0));
  m = katalyst_memory_enhancement(make_pod({{me, "{}"}}));
  CHECK(m.present);
  CHECK(!m.numa_binding);
  CHECK(!m.numa_number.has_value());
  // An empty annotation is not set.
  m = katalyst_memory_enhancement(make_pod({{me, ""}, {nn, ""}}));
  CHECK(!m.present);
  CHECK(!m.numa_number.has_value());
}

TEST_CASE("qos: bad pod annotations and labels are errors naming the pod and the key") {
  const std::string me = "katalyst.kubewharf.io/memory_enhancement";
  const std::string nn = "katalyst.kubewharf.io/numa_number";
  struct Case {
    StringMap annotations;
    StringMap labels;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{{"carbon-kube.io/qos-profile", "gold"}},
       {},
       "Pod \"prod/web\": metadata.annotations[carbon-kube.io/qos-profile]: unknown profile "
       "\"gold\" (known: green-guaranteed, mixed-burstable, dirty-besteffort)"},
      {{{"carbon-kube.io/qos-profile", ""}},
       {},
       "annotations[carbon-kube.io/qos-profile]: unknown profile \"\""},
      {{{"katalyst.io/qos-class", "Guaranteed"}, {"carbon-kube.io/qos-profile", "mixed-burstable"}},
       {},
       "Pod \"prod/web\": metadata.annotations[katalyst.io/qos-class]: unknown profile "
       "\"Guaranteed\""},
      {{{"carbon-kube.io/tolerate-high-carbon", "yes"}},
       {},
       "Pod \"prod/web\": metadata.annotations[carbon-kube.io/tolerate-high-carbon]: expected "
       "\"true\" or \"false\", got \"yes\""},
      {{{"carbon-kube.io/tolerate-high-carbon", "True"}}, {}, "tolerate-high-carbon]: expected"},
      {{{"carbon-kube.io/carbon-budget", "low"}},
       {},
       "Pod \"prod/web\": metadata.annotations[carbon-kube.io/carbon-budget]: expected a carbon "
       "intensity in gCO2/kWh above 0"},
      {{{"carbon-kube.io/carbon-budget", "0"}}, {}, "carbon-budget]: expected"},
      {{{"carbon-kube.io/carbon-budget", "-50"}}, {}, "carbon-budget]: expected"},
      {{{"carbon-kube.io/carbon-budget", "inf"}}, {}, "carbon-budget]: expected"},
      {{{"carbon-kube.io/carbon-budget", "nan"}}, {}, "carbon-budget]: expected"},
      {{{"carbon-kube.io/carbon-budget", "1e999"}}, {}, "carbon-budget]: expected"},
      {{{"carbon-kube.io/carbon-budget", " 100"}}, {}, "carbon-budget]: expected"},
      {{{"carbon-kube.io/carbon-budget", "100g"}}, {}, "carbon-budget]: expected"},
      {{{"carbon-kube.io/carbon-budget", ""}}, {}, "carbon-budget]: expected"},
      {{{"katalyst.kubewharf.io/qos_level", "dedicated"}},
       {},
       "Pod \"prod/web\": metadata.annotations[katalyst.kubewharf.io/qos_level]: unknown QoS "
       "level \"dedicated\" (dedicated_cores, shared_cores, reclaimed_cores, system_cores)"},
      {{},
       {{"katalyst.kubewharf.io/qos_level", "SharedCores"}},
       "Pod \"prod/web\": metadata.labels[katalyst.kubewharf.io/qos_level]: unknown QoS level"},
      {{},
       {{"koordinator.sh/qosClass", "Guaranteed"}},
       "Pod \"prod/web\": metadata.labels[koordinator.sh/qosClass]: unknown QoS class "
       "\"Guaranteed\" (LSE, LSR, LS, BE, SYSTEM)"},
      {{{me, "numa_binding=true"}},
       {},
       "Pod \"prod/web\": metadata.annotations[katalyst.kubewharf.io/memory_enhancement]: "
       "expected a JSON object"},
      {{{me, "{\"numa_binding\": "}}, {}, "memory_enhancement]: malformed JSON"},
      {{{me, "{\"numa_binding\": \"yes\"}"}},
       {},
       "memory_enhancement]: numa_binding: expected \"true\" or \"false\", got \"yes\""},
      {{{me, "{\"numa_exclusive\": 1}"}}, {}, "memory_enhancement]: numa_exclusive: expected"},
      {{{me, "{\"numa_binding\": true}"}},
       {},
       "memory_enhancement]: numa_binding: expected a string (\"true\"), got true"},
      {{{me, "{\"oom_priority\": 150}"}},
       {},
       "memory_enhancement]: oom_priority: expected a string"},
      {{{nn, "two"}},
       {},
       "Pod \"prod/web\": metadata.annotations[katalyst.kubewharf.io/numa_number]: \"two\" is "
       "not a NUMA count 0..64"},
      {{{nn, "-1"}}, {}, "numa_number]: \"-1\" is not a NUMA count"},
      {{{nn, "2.5"}}, {}, "numa_number]: \"2.5\" is not a NUMA count"},
      {{{nn, "65"}}, {}, "numa_number]: \"65\" is not a NUMA count"},
  };
  for (const auto& c : cases) {
    std::string err = pod_error(c.annotations, c.labels);
    INFO("error: ", err);
    CHECK(contains(err, c.expect));
  }
}

// ---------------------------------------------------------------------------
// Reconciler

namespace {

std::vector<ZoneQosInput> one(const std::string& zone, double g, bool usable = true) {
  return {ZoneQosInput{zone, g, usable}};
}

ZoneDecision step(QosReconciler& r, std::int64_t t, double g, bool usable = true) {
  auto d = r.reconcile(t, one("z", g, usable));
  REQUIRE(d.size() == 1);
  return d[0];
}

// The rule of docs/qos.md written as plainly as possible, for comparison.
struct Reference {
  std::vector<double> t;  // thresholds
  double band_abs;
  double band_frac;
  std::int64_t dwell;
  int current = -1;
  std::int64_t since = 0;

  double band(int i) const {
    return std::max(band_abs, band_frac * t[static_cast<std::size_t>(i)]);
  }
  double th(int i) const { return t[static_cast<std::size_t>(i)]; }
  int n() const { return static_cast<int>(t.size()); }

  // Returns whether the profile changed.
  bool step(std::int64_t now, double x, bool usable) {
    if (!usable) return false;
    if (current < 0) {
      current = n() - 1;
      for (int i = 0; i < n(); ++i)
        if (x <= th(i)) {
          current = i;
          break;
        }
      since = now;
      return true;
    }
    int target = current;
    if (x > th(current) + band(current)) {
      target = n() - 1;
      for (int i = current + 1; i < n(); ++i)
        if (x <= th(i) + band(i)) {
          target = i;
          break;
        }
    } else {
      for (int i = 0; i < current; ++i)
        if (x < th(i) - band(i)) {
          target = i;
          break;
        }
    }
    if (target == current || now - since < dwell) return false;
    current = target;
    since = now;
    return true;
  }
};

}  // namespace

TEST_CASE("qos reconciler: first assignment, unusable data and the reasons") {
  QosReconciler r;
  // Unusable data before any profile: nothing is assigned.
  ZoneDecision d = step(r, 1000, 50, false);
  CHECK(d.profile_index == -1);
  CHECK(!d.changed);
  CHECK(d.reason == QosDecisionReason::kNoDataUnassigned);
  CHECK(!r.state("z").has_value());
  // First usable data: assigned at once, whatever the dwell.
  d = step(r, 1060, 250);
  CHECK(d.profile_index == 1);
  CHECK(d.previous_index == -1);
  CHECK(d.changed);
  CHECK(d.reason == QosDecisionReason::kFirstAssignment);
  CHECK(d.since_unix_seconds == 1060);
  CHECK(contains(d.detail, "first assignment: 250 gCO2/kWh is at or under mixed-burstable's 300"));
  // Unusable data keeps the profile, even far past the thresholds and the dwell.
  for (double g : {0.0, 10000.0, std::nan(""), -5.0, kInf}) {
    d = step(r, 100000, g, false);
    CHECK(d.profile_index == 1);
    CHECK(!d.changed);
    CHECK(d.reason == QosDecisionReason::kNoData);
    CHECK(contains(d.detail, "no usable intensity (marked unusable): keeps mixed-burstable"));
  }
  // Non-finite or negative values count as unusable even when marked usable.
  for (double g : {std::nan(""), kInf, -1.0}) {
    d = step(r, 100000, g, true);
    CHECK(d.reason == QosDecisionReason::kNoData);
    CHECK(!d.usable);
    CHECK(d.profile_index == 1);
    CHECK(contains(d.detail, "invalid value"));
  }
  CHECK(r.state("z")->profile_index == 1);
  CHECK(r.state("z")->since_unix_seconds == 1060);
  CHECK(to_string(QosDecisionReason::kHeldByDwell) == "held-by-dwell");
}

TEST_CASE("qos reconciler: the band and the dwell") {
  QosReconcilerConfig cfg;
  cfg.min_dwell_seconds = 900;
  QosReconciler r(cfg);
  CHECK(r.band(0) == 20.0);
  std::int64_t t = 0;
  CHECK(step(r, t, 250).profile_index == 1);  // mixed since t=0
  // Above 300 but not above 300 + 20: held by the band.
  ZoneDecision d = step(r, t += 1000, 315);
  CHECK(d.profile_index == 1);
  CHECK(d.raw_index == 2);
  CHECK(d.reason == QosDecisionReason::kHeldByBand);
  CHECK(contains(d.detail,
                 "315 gCO2/kWh is above mixed-burstable's 300 but not above 300 + band 20 "
                 "= 320: stays mixed-burstable"));
  // Exactly at the band edge: still held (must exceed).
  CHECK(step(r, t += 60, 320).reason == QosDecisionReason::kHeldByBand);
  // Past the band, dwell elapsed since t=0: moves dirtier.
  d = step(r, t += 60, 321);
  CHECK(d.changed);
  CHECK(d.profile_index == 2);
  CHECK(d.previous_index == 1);
  CHECK(d.reason == QosDecisionReason::kMovedDirtier);
  CHECK(contains(d.detail,
                 "321 gCO2/kWh is above mixed-burstable's 300 + band 20 = 320: moves "
                 "from mixed-burstable to dirty-besteffort"));
  const std::int64_t changed_at = t;
  // Just under 300 is not enough to come back: 300 - 20 = 280.
  d = step(r, t += 1000, 285);
  CHECK(d.reason == QosDecisionReason::kHeldByBand);
  CHECK(d.raw_index == 1);
  CHECK(d.profile_index == 2);
  // Past the band but within the dwell: held by dwell.
  d = step(r, changed_at + 100, 270);
  CHECK(d.reason == QosDecisionReason::kHeldByDwell);
  CHECK(d.profile_index == 2);
  CHECK(d.target_index == 1);
  CHECK(!d.changed);
  CHECK(contains(d.detail,
                 "would move to mixed-burstable, but only 100 s of the 900 s minimum "
                 "dwell have passed since the last change: stays dirty-besteffort"));
  CHECK(step(r, changed_at + 899, 270).reason == QosDecisionReason::kHeldByDwell);
  // At exactly the dwell: moves greener.
  d = step(r, changed_at + 900, 270);
  CHECK(d.reason == QosDecisionReason::kMovedGreener);
  CHECK(d.profile_index == 1);
  CHECK(contains(d.detail,
                 "270 gCO2/kWh is below mixed-burstable's 300 - band 20 = 280: moves "
                 "from dirty-besteffort to mixed-burstable"));
  // A clock going backwards never counts as dwell.
  d = step(r, changed_at, 10);
  CHECK(d.reason == QosDecisionReason::kHeldByDwell);
  CHECK(contains(d.detail, "is before the last change"));
}

TEST_CASE("qos reconciler: big jumps skip profiles, with the band at every threshold") {
  QosReconcilerConfig cfg;
  cfg.min_dwell_seconds = 0;
  QosReconciler r(cfg);
  CHECK(step(r, 0, 50).profile_index == 0);
  // 310 is past green's 100 + 20, and within mixed's 300 + 20: mixed, not dirty.
  CHECK(step(r, 1, 310).profile_index == 1);
  r.restore("z", {0, 0});
  CHECK(step(r, 2, 321).profile_index == 2);
  // Down from dirty: the greenest profile whose threshold - band is above x.
  CHECK(step(r, 3, 79).profile_index == 0);
  r.restore("z", {2, 0});
  CHECK(step(r, 4, 85).profile_index == 1);  // 85 is not below 100 - 20
  // Above every threshold: the dirtiest, and it stays.
  ZoneDecision d = step(r, 5, 5000);
  CHECK(d.profile_index == 2);
  d = step(r, 6, 6000);
  CHECK(d.reason == QosDecisionReason::kUnchanged);
  CHECK(contains(d.detail, "above every threshold"));
}

TEST_CASE("qos reconciler: an intensity oscillating +-5 around a threshold never flaps") {
  for (double threshold : {100.0, 300.0, 500.0}) {
    for (std::int64_t dwell : {std::int64_t{0}, std::int64_t{900}}) {
      for (double start : {-5.0, 5.0}) {
        QosReconcilerConfig cfg;
        cfg.min_dwell_seconds = dwell;
        QosReconciler r(cfg);
        int changes = 0;
        for (int k = 0; k < 2000; ++k) {
          double g = threshold + ((k % 2 == 0) ? start : -start);
          ZoneDecision d = step(r, std::int64_t{k} * 60, g);
          changes += d.changed ? 1 : 0;
        }
        INFO("threshold ", threshold, " dwell ", dwell, " start ", start);
        CHECK(changes == 1);  // the first assignment only
      }
    }
  }
  // Without the band (0) and dwell (0) the same signal flaps every round.
  QosReconcilerConfig cfg;
  cfg.hysteresis_g_per_kwh = 0;
  cfg.min_dwell_seconds = 0;
  QosReconciler r(cfg);
  int changes = 0;
  for (int k = 0; k < 100; ++k) changes += step(r, k, k % 2 ? 295 : 305).changed ? 1 : 0;
  CHECK(changes == 100);
}

TEST_CASE("qos reconciler: a relative band") {
  QosReconcilerConfig cfg;
  cfg.hysteresis_g_per_kwh = 20;
  cfg.hysteresis_fraction = 0.1;
  cfg.min_dwell_seconds = 0;
  QosReconciler r(cfg);
  CHECK(r.band(0) == 20.0);  // max(20, 10)
  CHECK(r.band(1) == 30.0);  // max(20, 30)
  CHECK(r.band(2) == 50.0);
  CHECK(step(r, 0, 200).profile_index == 1);
  CHECK(step(r, 1, 329).profile_index == 1);
  CHECK(step(r, 2, 331).profile_index == 2);
  CHECK(step(r, 3, 271).profile_index == 2);
  CHECK(step(r, 4, 269).profile_index == 1);
}

TEST_CASE("qos reconciler: random walks match the reference and every change is justified") {
  std::mt19937_64 rng(20240501);
  const QosProfileSet& set = default_qos_profiles();
  for (int walk = 0; walk < 200; ++walk) {
    QosReconcilerConfig cfg;
    cfg.hysteresis_g_per_kwh = std::uniform_real_distribution<double>(0, 40)(rng);
    cfg.hysteresis_fraction = walk % 3 == 0 ? 0.1 : 0.0;
    cfg.min_dwell_seconds = std::uniform_int_distribution<std::int64_t>(0, 3600)(rng);
    QosReconciler r(cfg);
    Reference ref{
        {100, 300, 500}, cfg.hysteresis_g_per_kwh, cfg.hysteresis_fraction, cfg.min_dwell_seconds};
    double x = std::uniform_real_distribution<double>(0, 700)(rng);
    std::int64_t t = 1'700'000'000;
    int changes = 0;
    std::int64_t first_change = -1;
    std::int64_t last_change = 0;
    const double step_size = walk % 2 ? 5.0 : 40.0;
    for (int k = 0; k < 500; ++k) {
      t += std::uniform_int_distribution<std::int64_t>(30, 600)(rng);
      x = std::clamp(x + std::normal_distribution<double>(0, step_size)(rng), 0.0, 800.0);
      bool usable = std::uniform_int_distribution<int>(0, 9)(rng) != 0;
      const int before = ref.current;
      const bool ref_changed = ref.step(t, x, usable);
      ZoneDecision d = step(r, t, x, usable);
      REQUIRE(d.changed == ref_changed);
      REQUIRE(d.profile_index == ref.current);
      if (!usable) {
        REQUIRE(!d.changed);
        REQUIRE(d.profile_index == before);
      }
      if (!d.changed) continue;
      ++changes;
      if (first_change < 0) {
        first_change = t;
        REQUIRE(d.profile_index == set.classify(x));
      } else {
        // Justified by the band ...
        const int p = d.previous_index, n = d.profile_index;
        if (n > p) {
          REQUIRE(x > set[p].carbon_threshold_g_per_kwh + r.band(p));
          // the greenest such profile (or the dirtiest when past them all)
          if (n < set.size() - 1) REQUIRE(x <= set[n].carbon_threshold_g_per_kwh + r.band(n));
          for (int i = p + 1; i < n; ++i)
            REQUIRE(x > set[i].carbon_threshold_g_per_kwh + r.band(i));
        } else {
          REQUIRE(x < set[n].carbon_threshold_g_per_kwh - r.band(n));
          for (int i = 0; i < n; ++i) REQUIRE(x >= set[i].carbon_threshold_g_per_kwh - r.band(i));
        }
        // ... and by the dwell.
        REQUIRE(t - last_change >= cfg.min_dwell_seconds);
      }
      last_change = t;
    }
    // Bounded: at most one change per dwell period after the first assignment.
    if (cfg.min_dwell_seconds > 0 && first_change >= 0)
      CHECK(changes <= 1 + (t - first_change) / cfg.min_dwell_seconds);
    CHECK(changes <= 500);
  }
}

TEST_CASE("qos reconciler: zones are independent, deterministic, and validated") {
  QosReconciler a, b;
  std::vector<ZoneQosInput> in = {
      {"DE", 350, true}, {"FR", 40, true}, {"PL", 700, true}, {"XX", 0, false}};
  auto da = a.reconcile(100, in);
  auto db = b.reconcile(100, in);
  REQUIRE(da.size() == 4);
  for (std::size_t i = 0; i < da.size(); ++i) {
    CHECK(da[i].zone == in[i].zone);
    CHECK(da[i].profile_index == db[i].profile_index);
    CHECK(da[i].detail == db[i].detail);
  }
  CHECK(da[0].profile_index == 2);
  CHECK(da[1].profile_index == 0);
  CHECK(da[2].profile_index == 2);
  CHECK(da[3].profile_index == -1);
  CHECK(a.zone_count() == 3);
  // A zone missing from a round keeps its state.
  auto d2 = a.reconcile(200, one("FR", 45));
  CHECK(a.state("DE")->profile_index == 2);
  CHECK(d2[0].reason == QosDecisionReason::kUnchanged);
  CHECK(a.forget("DE"));
  CHECK(!a.forget("DE"));
  CHECK(!a.state("DE").has_value());
  // Duplicates and empty ids are rejected before any state changes.
  std::vector<ZoneQosInput> dup = {{"NEW", 50, true}, {"FR", 900, true}, {"FR", 900, true}};
  CHECK(contains(error_of([&] { a.reconcile(300, dup); }),
                 "reconcile: zones[2]: zone \"FR\" appears twice"));
  CHECK(!a.state("NEW").has_value());
  CHECK(a.state("FR")->profile_index == 0);
  CHECK(contains(error_of([&] { a.reconcile(300, one("", 5)); }), "zones[0]: empty zone id"));
  CHECK(contains(error_of([&] { a.restore("FR", {3, 0}); }), "profile index 3 is out of range"));
  // Configuration validation.
  auto cfg_err = [](auto mutate) {
    QosReconcilerConfig c;
    mutate(c);
    return error_of([&] { QosReconciler bad(c); });
  };
  CHECK(contains(cfg_err([](QosReconcilerConfig& c) { c.hysteresis_g_per_kwh = -1; }),
                 "QosReconcilerConfig: hysteresis_g_per_kwh: -1 must be finite and >= 0"));
  CHECK(contains(cfg_err([](QosReconcilerConfig& c) { c.hysteresis_g_per_kwh = kInf; }),
                 "hysteresis_g_per_kwh: inf must be finite"));
  CHECK(contains(cfg_err([](QosReconcilerConfig& c) { c.hysteresis_fraction = 1; }),
                 "QosReconcilerConfig: hysteresis_fraction: 1 must be in [0, 1)"));
  CHECK(contains(cfg_err([](QosReconcilerConfig& c) { c.min_dwell_seconds = -5; }),
                 "QosReconcilerConfig: min_dwell_seconds: -5 must be >= 0"));
}

TEST_CASE("qos reconciler: restore() resumes from labels with the dwell counted from then") {
  QosReconciler r;
  r.restore("z", {0, 1000});
  ZoneDecision d = step(r, 1100, 400);
  CHECK(d.reason == QosDecisionReason::kHeldByDwell);
  CHECK(d.previous_index == 0);
  d = step(r, 1900, 400);
  CHECK(d.reason == QosDecisionReason::kMovedDirtier);
  CHECK(d.profile_index == 2);
}

TEST_CASE("qos reconciler: planned node writes") {
  QosReconciler r;
  auto decisions = r.reconcile(
      1714564800, std::vector<ZoneQosInput>{
                      {"eu-west", 250.5, true}, {"eu-north", 30, true}, {"ap-south", 0, false}});
  // A later round where eu-north has no data: it keeps its profile.
  auto later = r.reconcile(
      1714565100, std::vector<ZoneQosInput>{
                      {"eu-west", 260, true}, {"eu-north", 0, false}, {"ap-south", 0, false}});
  std::vector<NodeZone> nodes = {{"n1", "eu-west"},
                                 {"n2", "eu-north"},
                                 {"n3", "ap-south"},
                                 {"n4", "us-east"},
                                 {"n5", "eu-west"}};
  auto writes = planned_node_writes(decisions, nodes, r.profiles());
  REQUIRE(writes.size() == 3);  // n3: no profile yet; n4: no decision
  CHECK(writes[0].node == "n1");
  CHECK(writes[0].zone == "eu-west");
  CHECK(writes[0].profile_changed);
  CHECK(writes[0].labels == StringMap{{"carbon-kube.io/qos-profile", "mixed-burstable"}});
  CHECK(writes[0].annotations == StringMap{{"carbon-kube.io/carbon-intensity", "250.5"},
                                           {"carbon-kube.io/qos-updated", "2024-05-01T12:00:00Z"}});
  auto patch = nlohmann::json::parse(writes[0].merge_patch);
  CHECK(patch["metadata"]["labels"]["carbon-kube.io/qos-profile"] == "mixed-burstable");
  CHECK(patch["metadata"]["annotations"]["carbon-kube.io/carbon-intensity"] == "250.5");
  CHECK(patch["metadata"]["annotations"]["carbon-kube.io/qos-updated"] == "2024-05-01T12:00:00Z");
  CHECK(patch.size() == 1);
  CHECK(writes[1].node == "n2");
  CHECK(writes[1].labels[0].second == "green-guaranteed");
  CHECK(writes[2].node == "n5");

  auto writes2 = planned_node_writes(later, nodes, r.profiles());
  REQUIRE(writes2.size() == 3);
  CHECK(!writes2[0].profile_changed);
  CHECK(writes2[0].annotations[0].second == "260");
  // The update time is when the profile was assigned, not this round.
  CHECK(writes2[0].annotations[1].second == "2024-05-01T12:00:00Z");
  // No usable data: no intensity annotation, the label and time stay.
  CHECK(writes2[1].annotations ==
        StringMap{{"carbon-kube.io/qos-updated", "2024-05-01T12:00:00Z"}});
  CHECK(writes2[1].labels[0].second == "green-guaranteed");

  // Errors.
  std::vector<NodeZone> dup_nodes = {{"n1", "eu-west"}, {"n1", "eu-north"}};
  CHECK(contains(error_of([&] { planned_node_writes(decisions, dup_nodes, r.profiles()); }),
                 "nodes[1]: node \"n1\" appears twice"));
  std::vector<ZoneDecision> dup_zones = {decisions[0], decisions[0]};
  CHECK(contains(error_of([&] { planned_node_writes(dup_zones, nodes, r.profiles()); }),
                 "decisions[1]: zone \"eu-west\" appears twice"));
  std::vector<ZoneDecision> bad = {decisions[0]};
  bad[0].profile_index = 7;
  CHECK(contains(error_of([&] { planned_node_writes(bad, nodes, r.profiles()); }),
                 "profile index 7 is out of range"));
  // RFC 3339 around the epoch and leap days.
  std::vector<ZoneDecision> times = {decisions[0]};
  for (auto [t, text] :
       std::vector<std::pair<std::int64_t, std::string>>{{0, "1970-01-01T00:00:00Z"},
                                                         {-1, "1969-12-31T23:59:59Z"},
                                                         {951782400, "2000-02-29T00:00:00Z"},
                                                         {4107542399, "2100-02-28T23:59:59Z"}}) {
    times[0].since_unix_seconds = t;
    auto w = planned_node_writes(times, nodes, r.profiles());
    CHECK(w[0].annotations[1].second == text);
  }
}
