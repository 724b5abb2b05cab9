// Node and Pod objects from kubectl's JSON and YAML, and the errors for bad input.
#include <doctest/doctest.h>

#include <string>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {
std::string error_of(const std::string& text, const ParseLimits& limits = {}) {
  try {
    parse_kube_objects(text, "input.yaml", limits);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
using ck_test::contains;
}  // namespace

TEST_CASE("a NodeList from the API server: items without kind") {
  auto objs = parse_kube_objects(R"({"kind":"NodeList","apiVersion":"v1","items":[
    {"metadata":{"name":"n1","labels":{"topology.kubernetes.io/zone":"a"}},
     "spec":{"taints":[{"key":"k","value":"v","effect":"NoExecute"}],"unschedulable":true},
     "status":{"capacity":{"cpu":"4","memory":"8Gi","pods":"110"},
               "allocatable":{"cpu":"3800m","memory":"7Gi","pods":"110"},
               "conditions":[{"type":"MemoryPressure","status":"False"},{"type":"Ready","status":"False"}]}},
    {"metadata":{"name":"n2"},"status":{"capacity":{"cpu":2,"memory":"1Gi"}}}]})",
                                 "nodes.json");
  REQUIRE(objs.nodes.size() == 2);
  const Node& n1 = objs.nodes[0];
  CHECK(n1.name == "n1");
  CHECK(n1.unschedulable);
  CHECK(n1.ready == std::optional<bool>(false));
  REQUIRE(n1.taints.size() == 1);
  CHECK(n1.taints[0].effect == TaintEffect::kNoExecute);
  // allocatable wins over capacity
  bool saw_cpu = false;
  for (const auto& r : n1.allocatable)
    if (r.name == "cpu") {
      CHECK(r.amount == 3800);
      saw_cpu = true;
    }
  CHECK(saw_cpu);
  // capacity is the fallback; a bare number is a quantity
  CHECK(objs.nodes[1].allocatable.size() == 2);
  CHECK(!objs.nodes[1].ready.has_value());
}

TEST_CASE("a YAML stream of documents with pods and other kinds") {
  auto objs = parse_kube_objects(R"(
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: ns1}
spec:
  nodeName: n1
  containers: [{name: c, resources: {limits: {cpu: 500m}}}]
status: {phase: Running}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec:
  containers: [{name: c}]
  tolerations: [{operator: Exists}]
  schedulingGates: [{name: carbon-kube.io/wait}]
)",
                                 "pods.yaml");
  REQUIRE(objs.pods.size() == 2);
  CHECK(objs.pods[0].key() == "ns1/a");
  CHECK(objs.pods[0].counts_as_usage());
  // API defaulting: requests default to limits
  REQUIRE(objs.pods[0].containers[0].requests.size() == 1);
  CHECK(objs.pods[0].containers[0].requests[0].second.milli_value() == 500);
  CHECK(objs.pods[1].key() == "default/b");
  CHECK(objs.pods[1].is_pending());
  CHECK(objs.pods[1].tolerations.size() == 1);
  CHECK(objs.pods[1].scheduling_gates == std::vector<std::string>{"carbon-kube.io/wait"});
  CHECK(objs.skipped_kinds == std::vector<std::string>{"ConfigMap"});
}

TEST_CASE("errors name the object and the field") {
  std::string e = error_of(R"({"kind":"List","items":[{"kind":"Node","metadata":{"name":"n1"},
      "status":{"allocatable":{"cpu":"lots"}}}]})");
  CHECK(contains(e, "items[0]"));
  CHECK(contains(e, "Node \"n1\""));
  CHECK(contains(e, "status.allocatable.cpu"));
  CHECK(contains(e, "\"lots\""));

  e = error_of(
      "kind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    resources: "
      "{requests: {memory: -1Gi}}\n");
  CHECK(contains(e, "Pod \"default/p\""));
  CHECK(contains(e, "spec.containers[0].resources.requests.memory"));
  CHECK(contains(e, "negative"));

  e = error_of("kind: Node\nmetadata: {name: n}\nspec: {taints: [{key: k, effect: Sometimes}]}\n");
  CHECK(contains(e, "spec.taints[0].effect"));
  CHECK(contains(e, "Sometimes"));

  CHECK(contains(error_of("kind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: "
                          "c}]}\nstatus: {phase: Lost}\n"),
                 "status.phase"));
  CHECK(contains(error_of("metadata: {name: x}\n"), "missing kind"));
  CHECK(contains(error_of("kind: Node\nmetadata: {}\n"), "missing metadata.name"));
  CHECK(contains(error_of("kind: Node\nmetadata: {name: n}\nstatus: {allocatable: {cpu: 1e30}}\n"),
                 "too large"));
  CHECK(contains(
      error_of("kind: Node\nmetadata: {name: n}\nstatus: {allocatable: {memory: 100Pi}}\n"),
      "larger than the limit"));
}

TEST_CASE("malformed documents") {
  CHECK(contains(error_of("{\"kind\": \"Node\", "), "malformed JSON"));
  CHECK(contains(error_of("kind: Node\nmetadata: [unclosed\n"), "malformed YAML at line"));
  CHECK(contains(error_of(""), "empty document"));
  CHECK(contains(error_of("   \n  "), "empty document"));
  CHECK(contains(error_of("[1, 2]"), "expected an object"));
  CHECK(contains(error_of("{\"kind\": \"Node\", \"x\": 1e999}"), "number overflow"));
  CHECK(contains(error_of("kind: Pod\nmetadata: {name: p}\nspec: {containers: 7}\n"),
                 "expected a list"));
}

TEST_CASE("limits on size, depth and object count") {
  ParseLimits small;
  small.max_bytes = 16;
  CHECK(
      contains(error_of("kind: Node\nmetadata: {name: n}\n", small), "over the limit of 16 bytes"));
  std::string deep_json(500, '[');
  deep_json += std::string(500, ']');
  CHECK(contains(error_of(deep_json), "nesting deeper than the limit"));
  std::string deep_yaml = "a: ";
  for (int i = 0; i < 300; ++i) deep_yaml += "[";
  for (int i = 0; i < 300; ++i) deep_yaml += "]";
  CHECK(contains(error_of(deep_yaml), "nesting deeper"));
  ParseLimits few;
  few.max_objects = 1;
  CHECK(contains(error_of("kind: List\nitems:\n- {kind: Node, metadata: {name: a}}\n- {kind: Node, "
                          "metadata: {name: b}}\n",
                          few),
                 "limit of 1 objects"));
  // An alias bomb expands past the node budget instead of exhausting memory.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
    prev = c;
  }
  CHECK(contains(error_of(bomb), "too many nodes"));
}

TEST_CASE("node affinity and tolerations are validated") {
  CHECK(contains(error_of(R"(kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c}]
  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: Near}]}]}}}
)"),
                 "unknown operator \"Near\""));
  CHECK(contains(error_of(R"(kind: Pod
metadata: {name: p}
spec:
  containers: [{name: c}]
  tolerations: [{key: k, operator: Exists, value: v}]
)"),
                 "must be empty with operator Exists"));
}
