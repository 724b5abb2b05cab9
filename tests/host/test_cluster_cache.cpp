// ClusterCache: informer events applied to the engine's ClusterState, the
// pending queue of this scheduler's pods (gates, other schedulers, terminal
// pods), assume/forget, relists that drop what disappeared, and the retry
// signals. Checked against the snapshot's own columns.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "carbonkube/resources.hpp"
#include "cluster_cache.hpp"
#include "scheduler_loop.hpp"

using namespace carbonkube;
using namespace carbonkube::host;

namespace {

constexpr const char* kScheduler = "katalyst-carbon-scheduler";

std::string node(const std::string& name, const std::string& cpu = "4",
                 const std::string& extra_labels = "") {
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name +
         R"(","labels":{"kubernetes.io/hostname":")" + name + "\"" + extra_labels +
         R"(}},"status":{"allocatable":{"cpu":")" + cpu + R"(","memory":"8Gi","pods":"110"}}})";
}

std::string pod(const std::string& name, const std::string& node_name = "",
                const std::string& scheduler = kScheduler, const std::string& phase = "Pending",
                const std::string& gates = "") {
  std::string spec = R"("schedulerName":")" + scheduler + "\"";
  if (!node_name.empty()) spec += R"(,"nodeName":")" + node_name + "\"";
  if (!gates.empty()) spec += R"(,"schedulingGates":[{"name":")" + gates + "\"}]";
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","namespace":"ns","uid":"u-)" + name + R"("},"spec":{)" + spec +
         R"(,"containers":[{"name":"c","resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]},"status":{"phase":")" +
         phase + R"("}})";
}

InformerEvent event(InformerEvent::Kind kind, const std::string& resource,
                    std::vector<std::string> objects) {
  InformerEvent e;
  e.kind = kind;
  e.resource = resource;
  e.objects = std::move(objects);
  return e;
}

// Sum of cpu requested over every node of the snapshot, in millicores.
std::int64_t requested_cpu(const ClusterSnapshot& snapshot) {
  std::int64_t total = 0;
  for (auto v : snapshot.requested(kCpu)) total += v;
  return total;
}

std::string test_read(const std::string& path) { return carbonkube::read_file(path); }

std::vector<std::string> drain(ClusterCache& cache) {
  std::vector<std::string> keys;
  Pod p;
  while (cache.next_pending(p)) keys.push_back(p.key());
  return keys;
}

}  // namespace

TEST_CASE("cluster cache: nodes and bound pods become snapshot usage; pending pods queue") {
  ClusterCache cache(kScheduler);
  CacheChanges changes;
  std::vector<std::string> errors;
  cache.apply(event(InformerEvent::Kind::kReplace, "nodes", {node("a"), node("b")}), changes,
              errors);
  CHECK(changes.nodes_changed);
  cache.apply(
      event(InformerEvent::Kind::kReplace, "pods",
            {pod("bound", "a"), pod("mine"), pod("other", "", "default-scheduler"),
             pod("gated", "", kScheduler, "Pending", "wait"),
             pod("done", "b", kScheduler, "Succeeded"), pod("failed", "", kScheduler, "Failed")}),
      changes, errors);
  CHECK(errors.empty());
  SnapshotPtr snap = cache.snapshot();
  CHECK(snap->node_count() == 2);
  CHECK(requested_cpu(*snap) == 1000);  // only the bound, running pod
  CHECK(cache.pod_count() == 1);
  CHECK(drain(cache) == std::vector<std::string>{"ns/mine"});

  // The gate is lifted: the pod joins the queue.
  changes = {};
  cache.apply(event(InformerEvent::Kind::kUpsert, "pods", {pod("gated")}), changes, errors);
  CHECK(changes.pending_added == 1);
  CHECK(drain(cache) == std::vector<std::string>{"ns/gated"});
}

TEST_CASE("cluster cache: assume counts usage at once; the watch's binding replaces it") {
  ClusterCache cache(kScheduler);
  CacheChanges changes;
  std::vector<std::string> errors;
  cache.apply(event(InformerEvent::Kind::kReplace, "nodes", {node("a")}), changes, errors);
  cache.apply(event(InformerEvent::Kind::kReplace, "pods", {pod("p")}), changes, errors);
  Pod p;
  REQUIRE(cache.next_pending(p));
  cache.assume(p, "a");
  CHECK(requested_cpu(*cache.snapshot()) == 1000);
  // A status update of the still-unbound pod must not queue it again.
  cache.apply(event(InformerEvent::Kind::kUpsert, "pods", {pod("p")}), changes, errors);
  CHECK_FALSE(cache.next_pending(p));
  // Nor drop the usage assumed while the binding is in flight (else the next
  // pods would be placed into the same room), and neither may a relist.
  CHECK(requested_cpu(*cache.snapshot()) == 1000);
  cache.apply(event(InformerEvent::Kind::kReplace, "pods", {pod("p")}), changes, errors);
  CHECK(requested_cpu(*cache.snapshot()) == 1000);
  CHECK_FALSE(cache.next_pending(p));
  // The watch reports the binding: usage unchanged, counted once.
  cache.apply(event(InformerEvent::Kind::kUpsert, "pods", {pod("p", "a")}), changes, errors);
  CHECK(requested_cpu(*cache.snapshot()) == 1000);
  // A late conflict result must not remove what the watch confirmed.
  cache.forget(p);
  CHECK(requested_cpu(*cache.snapshot()) == 1000);
  // Finished: room freed.
  changes = {};
  cache.apply(event(InformerEvent::Kind::kUpsert, "pods", {pod("p", "a", kScheduler, "Succeeded")}),
              changes, errors);
  CHECK(changes.room_freed);
  CHECK(requested_cpu(*cache.snapshot()) == 0);
}

TEST_CASE("cluster cache: forget after a failed binding, requeue, unschedulable retries") {
  ClusterCache cache(kScheduler);
  CacheChanges changes;
  std::vector<std::string> errors;
  cache.apply(event(InformerEvent::Kind::kReplace, "nodes", {node("a")}), changes, errors);
  cache.apply(event(InformerEvent::Kind::kReplace, "pods", {pod("p"), pod("q")}), changes, errors);
  Pod p;
  REQUIRE(cache.next_pending(p));
  cache.assume(p, "a");
  cache.forget(p);
  CHECK(requested_cpu(*cache.snapshot()) == 0);
  cache.requeue(p);
  Pod q;
  REQUIRE(cache.next_pending(q));
  CHECK(q.key() == "ns/q");
  cache.mark_unschedulable(q);
  CHECK(cache.unschedulable_count() == 1);
  CHECK(drain(cache) == std::vector<std::string>{"ns/p"});
  CHECK(cache.retry_unschedulable() == 1);
  CHECK(drain(cache) == std::vector<std::string>{"ns/q"});
  // Bound by someone else while waiting for a retry: not queued again.
  cache.apply(event(InformerEvent::Kind::kUpsert, "pods", {pod("q", "a")}), changes, errors);
  cache.requeue(q);
  CHECK(drain(cache).empty());
  cache.apply(event(InformerEvent::Kind::kUpsert, "pods", {pod("q")}), changes, errors);
  CHECK(drain(cache) == std::vector<std::string>{"ns/q"});
  // Deleted while parked: gone for good.
  cache.mark_unschedulable(q);
  cache.apply(event(InformerEvent::Kind::kDelete, "pods", {pod("q")}), changes, errors);
  cache.retry_unschedulable();
  CHECK(drain(cache).empty());
}

TEST_CASE("cluster cache: a relist drops what disappeared meanwhile; heartbeats are not changes") {
  ClusterCache cache(kScheduler);
  CacheChanges changes;
  std::vector<std::string> errors;
  cache.apply(event(InformerEvent::Kind::kReplace, "nodes", {node("a"), node("b")}), changes,
              errors);
  cache.apply(event(InformerEvent::Kind::kReplace, "pods", {pod("x", "a"), pod("y", "b")}), changes,
              errors);
  CHECK(requested_cpu(*cache.snapshot()) == 2000);
  changes = {};
  cache.apply(event(InformerEvent::Kind::kReplace, "pods", {pod("y", "b")}), changes, errors);
  CHECK(changes.room_freed);
  CHECK(requested_cpu(*cache.snapshot()) == 1000);
  changes = {};
  cache.apply(event(InformerEvent::Kind::kReplace, "nodes", {node("b")}), changes, errors);
  CHECK(cache.snapshot()->node_count() == 1);
  CHECK(cache.snapshot()->find_node("a") == std::nullopt);

  // The same node again (a status heartbeat): no retry signal. More CPU: one.
  changes = {};
  cache.apply(event(InformerEvent::Kind::kUpsert, "nodes", {node("b")}), changes, errors);
  CHECK_FALSE(changes.nodes_changed);
  cache.apply(event(InformerEvent::Kind::kUpsert, "nodes", {node("b", "8")}), changes, errors);
  CHECK(changes.nodes_changed);
  CHECK(cache.objects()->nodes.size() == 1);
  CHECK(cache.objects()->pods.size() == 1);
}

TEST_CASE("cluster cache: a malformed object is reported and skipped, the rest applied") {
  ClusterCache cache(kScheduler);
  CacheChanges changes;
  std::vector<std::string> errors;
  cache.apply(
      event(InformerEvent::Kind::kReplace, "nodes", {node("a"), node("bad", "lots"), node("c")}),
      changes, errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].find("lots") != std::string::npos);
  CHECK(cache.snapshot()->node_count() == 2);
}

TEST_CASE("FailedScheduling message: kube-scheduler's shape") {
  CHECK(failed_scheduling_message(
            5, {"Insufficient cpu", "node(s) were unschedulable", "Insufficient cpu"}) ==
        "0/5 nodes are available: 2 Insufficient cpu, 1 node(s) were unschedulable.");
  CHECK(failed_scheduling_message(0, {}) == "0/0 nodes are available.");
}

TEST_CASE("cluster cache: CustomNodeResources feed the topology list; relist and delete") {
  const std::string cnrs =
      test_read(std::string(CARBONKUBE_SOURCE_DIR) + "/examples/cluster/cnrs.yaml");
  ClusterCache cache(kScheduler);
  std::vector<std::string> errors;
  CacheChanges changes;
  cache.apply(event(InformerEvent::Kind::kReplace, "customnoderesources", {cnrs}), changes, errors);
  CHECK(errors.empty());
  const std::size_t count = cache.topologies().size();
  CHECK(count >= 2);
  const std::string first = cache.topologies().front().node_name;
  const std::string one =
      R"({"apiVersion":"node.katalyst.kubewharf.io/v1alpha1","kind":"CustomNodeResource","metadata":{"name":")" +
      first + R"("}})";
  cache.apply(event(InformerEvent::Kind::kDelete, "customnoderesources", {one}), changes, errors);
  CHECK(errors.empty());
  CHECK(cache.topologies().size() == count - 1);
  cache.apply(event(InformerEvent::Kind::kReplace, "customnoderesources", {}), changes, errors);
  CHECK(cache.topologies().empty());
  cache.apply(event(InformerEvent::Kind::kUpsert, "customnoderesources", {"{not yaml"}), changes,
              errors);
  CHECK(errors.size() == 1);
}
