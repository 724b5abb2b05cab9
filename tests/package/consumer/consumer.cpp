// tests/package/consumer/consumer.cpp: a program an outside project would
// write against carbonkube. It is built three ways by tests/package/run.cmake
// (find_package after install, add_subdirectory, pkg-config) and checks that
// the library it links really works: parse, snapshot, compile, schedule.
#include <carbonkube/kube.hpp>
#include <carbonkube/pod.hpp>
#include <carbonkube/profile.hpp>
#include <carbonkube/scheduler.hpp>
#include <carbonkube/snapshot.hpp>
#include <carbonkube/version.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

namespace {

// Two nodes; only "big" has room for the pod's 2 CPUs, so the filters must
// drop "small" and the cycle must pick "big".
constexpr std::string_view kCluster = R"(apiVersion: v1
kind: Node
metadata:
  name: small
status:
  allocatable: {cpu: "1", memory: 2Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Node
metadata:
  name: big
status:
  allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: shop}
spec:
  containers:
  - name: web
    image: registry.example/web:1
    resources: {requests: {cpu: "2", memory: 1Gi}}
)";

int fail(const std::string& what) {
  std::fprintf(stderr, "consumer: FAIL: %s\n", what.c_str());
  return 1;
}

int run() {
  if (carbonkube::version_number() != CARBONKUBE_VERSION_NUMBER)
    return fail("version_number() " + std::to_string(carbonkube::version_number()) +
                " != CARBONKUBE_VERSION_NUMBER " + std::to_string(CARBONKUBE_VERSION_NUMBER));

  const carbonkube::KubeObjects objects = carbonkube::parse_kube_objects(kCluster, "consumer.yaml");
  if (objects.nodes.size() != 2 || objects.pods.size() != 1)
    return fail("parsed " + std::to_string(objects.nodes.size()) + " nodes and " +
                std::to_string(objects.pods.size()) + " pods, expected 2 and 1");

  const carbonkube::SnapshotPtr snapshot = carbonkube::ClusterState::build(objects);
  if (!snapshot || snapshot->node_count() != 2) return fail("snapshot does not hold 2 nodes");

  const carbonkube::CompiledPod pod = carbonkube::compile_pod(objects.pods.front(), *snapshot);
  if (pod.key != "shop/web-0") return fail("compiled pod key is '" + pod.key + "'");

  const carbonkube::Scheduler scheduler(carbonkube::default_profile());
  carbonkube::ScoringContext ctx(42);
  const carbonkube::CycleResult result = scheduler.schedule(*snapshot, pod, ctx);
  if (!result.selected) return fail("no node selected");
  const std::string& chosen = snapshot->node_name(*result.selected);
  if (chosen != "big") return fail("selected node '" + chosen + "', expected 'big'");
  if (result.feasible != 1)
    return fail(std::to_string(result.feasible) + " feasible nodes, expected 1");

  std::printf("consumer: carbonkube %s placed %s on %s\n", carbonkube::version_string(),
              pod.key.c_str(), chosen.c_str());
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception& e) {
    return fail(std::string("exception: ") + e.what());
  }
}
