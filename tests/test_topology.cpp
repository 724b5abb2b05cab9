// Katalyst CustomNodeResource topology: parsing real-shaped CNRs, the
// per-cluster TopologyTable, pods' NUMA requests from annotations, and the
// NUMA alignment checks and score.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using ck_test::make_node;
using ck_test::make_pod;

namespace {

constexpr std::int64_t kGi = 1024LL * 1024 * 1024;

std::string fixture(const std::string& name) {
  return read_file(std::string(CARBONKUBE_SOURCE_DIR) + "/tests/fixtures/katalyst/" + name);
}

std::string error_of(const std::string& text, const std::string& source = "cnrs.yaml") {
  try {
    parse_topologies(text, source);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

using ck_test::contains;

const NodeTopology& only(const TopologyObjects& objs) {
  REQUIRE(objs.nodes.size() == 1);
  return objs.nodes[0];
}

Pod annotated_pod(const std::string& name, StringMap annotations,
                  std::vector<std::pair<std::string, std::string>> requests) {
  Pod p = make_pod(name, std::move(requests));
  p.namespace_name = "ml";
  std::sort(annotations.begin(), annotations.end());
  p.annotations = std::move(annotations);
  return p;
}

PodTopologyRequest request(std::int64_t milli_cpu, std::int64_t memory, bool binding = false,
                           bool exclusive = false, std::int32_t numa_number = 0,
                           std::int64_t gpus = 0) {
  PodTopologyRequest r;
  r.qos = KatalystQosLevel::kDedicatedCores;
  r.milli_cpu = milli_cpu;
  r.memory = memory;
  r.numa_binding = binding;
  r.numa_exclusive = exclusive;
  r.numa_number = numa_number;
  r.gpus = gpus;
  return r;
}

/// A cluster of the two fixture nodes, a node without a CNR (labelled with
/// a power zone and PUE) and one whose CNR has no NUMA zones.
struct Cluster {
  SnapshotPtr snap;
  std::vector<NodeTopology> topologies;
  TopologyTable table;
  NodeIndex worker_a = 0, gpu_b = 0, bare = 0, flat = 0;
};

Cluster make_cluster() {
  KubeObjects objs;
  objs.nodes.push_back(make_node("worker-a", 96000, 256 * kGi));
  objs.nodes.push_back(make_node("gpu-b", 32000, 128 * kGi, 110, {{"nvidia.com/gpu", 3}}));
  Node bare = make_node("bare", 8000, 32 * kGi, 110, {{"nvidia.com/gpu", 2}});
  bare.labels = {{std::string(kPowerZoneKey), "pz-label"}, {std::string(kPueKey), "1.3"}};
  objs.nodes.push_back(bare);
  objs.nodes.push_back(make_node("flat", 8000, 32 * kGi));
  // A bound reclaimed pod uses 4 of worker-a's 40 reclaimed cores, with the
  // legacy name for memory.
  objs.pods.push_back(make_pod(
      "batch-1",
      {{std::string(kReclaimedMilliCpu), "4k"}, {std::string(kLegacyReclaimedMemory), "10Gi"}},
      "worker-a"));
  objs.pods.push_back(make_pod("gpu-user", {{"nvidia.com/gpu", "1"}}, "bare"));
  Cluster c;
  c.snap = ClusterState::build(objs);
  c.topologies = parse_topologies(fixture("cnr-2socket-4numa.yaml"), "a.yaml").nodes;
  for (auto& t : parse_topologies(fixture("cnr-gpu-list.json"), "b.json").nodes)
    c.topologies.push_back(std::move(t));
  for (auto& t : parse_topologies(R"({"apiVersion":"node.katalyst.kubewharf.io/v1alpha1",
      "kind":"CustomNodeResource","metadata":{"name":"flat"},"status":{}})",
                                  "c.json")
                     .nodes)
    c.topologies.push_back(std::move(t));
  for (auto& t : parse_topologies(fixture("cnr-legacy.yaml"), "d.yaml").nodes)
    c.topologies.push_back(std::move(t));  // names no node of the snapshot
  c.table = TopologyTable::build(*c.snap, c.topologies);
  c.worker_a = *c.snap->find_node("worker-a");
  c.gpu_b = *c.snap->find_node("gpu-b");
  c.bare = *c.snap->find_node("bare");
  c.flat = *c.snap->find_node("flat");
  return c;
}

}  // namespace

// ---------------------------------------------------------------------------
// Parsing

TEST_CASE("CNR topology: a real-shaped agent report with sockets, NUMA zones and allocations") {
  auto objs = parse_topologies(fixture("cnr-2socket-4numa.yaml"), "cnr-2socket-4numa.yaml");
  const NodeTopology& t = only(objs);
  CHECK(t.node_name == "worker-a");
  CHECK(t.topology_policy == "NumericContainerLevel");
  CHECK(t.sockets == std::vector<std::string>{"0", "1"});
  REQUIRE(t.numa.size() == 4);
  const NumaZone& n0 = t.numa[0];
  CHECK(n0.id == 0);
  CHECK(n0.socket == 0);
  CHECK(n0.capacity_milli_cpu == 24000);
  CHECK(n0.allocatable_milli_cpu == 22000);
  CHECK(n0.allocatable_memory == 60 * kGi);
  // allocations summed: 8 + 4.5 cores, 16Gi + 8Gi
  CHECK(n0.allocated_milli_cpu == 12500);
  CHECK(n0.allocated_memory == 24 * kGi);
  CHECK(n0.free_milli_cpu() == 9500);
  CHECK(n0.free_memory() == 36 * kGi);
  CHECK(n0.consumers.size() == 2);
  CHECK(n0.consumers[0] == "shop/api-0/0b6c7f0e-2a51-4c55-8a0e-5d3e0b5b2c01");
  CHECK(!n0.idle());
  CHECK(t.numa[1].idle());
  CHECK(t.numa[1].free_milli_cpu() == 24000);
  // an allocation of neither cpu nor memory leaves the zone idle
  CHECK(t.numa[2].socket == 1);
  CHECK(t.numa[2].idle());
  CHECK(t.numa[3].allocated_milli_cpu == 22000);
  CHECK(t.numa[3].free_memory() == 24 * kGi);
  REQUIRE(t.nics.size() == 1);
  CHECK(t.nics[0].name == "eth0");
  CHECK(t.nics[0].socket == 0);
  CHECK(t.nics[0].numa_ids == 0);
  CHECK(t.nics[0].allocatable_bandwidth == 23000);
  CHECK(t.nics[0].allocated_bandwidth == 5000);
  CHECK(t.gpus.empty());
  // unknown zone types are kept, not errors
  REQUIRE(t.other.size() == 1);
  CHECK(t.other[0].type == "L3CacheGroup");
  // reclaimed resources: reclaimed_millicpu is already in millicores
  CHECK(t.reclaimed_reported);
  CHECK(t.reclaimed_allocatable_milli_cpu == 40000);
  CHECK(t.reclaimed_allocatable_memory == 100 * kGi);
  CHECK(t.reclaimed_capacity_milli_cpu == 48000);
  CHECK(t.reclaimed_capacity_memory == 120 * kGi);
  CHECK(!t.pue.has_value());
  CHECK(t.power_zone.empty());
}

TEST_CASE("CNR topology: a JSON CustomNodeResourceList with GPU zones, power zone and PUE") {
  TopologyObjects objs = parse_topologies(fixture("cnr-gpu-list.json"), "gpu.json");
  const NodeTopology& t = only(objs);
  CHECK(t.node_name == "gpu-b");
  CHECK(t.power_zone == "dc1-row4-pdu2");
  REQUIRE(t.pue.has_value());
  CHECK(*t.pue == doctest::Approx(1.18));
  REQUIRE(t.numa.size() == 2);
  CHECK(t.numa[0].allocated_milli_cpu == 4000);
  REQUIRE(t.gpus.size() == 4);  // GPU-9f8e7d6c is listed under both NUMA zones, kept once
  CHECK(t.gpus[0].name == "GPU-0b1c2d3e");
  CHECK(t.gpus[0].numa_ids == 0b01);
  CHECK(t.gpus[0].allocatable == 1);
  CHECK(t.gpus[0].allocated == 1);
  CHECK(t.gpus[0].free() == 0);
  CHECK(t.gpus[2].name == "GPU-9f8e7d6c");
  CHECK(t.gpus[2].numa_ids == 0b11);
  CHECK(t.gpus[2].socket == 0);
  CHECK(t.gpus[3].allocatable == 0);  // reported unhealthy
  REQUIRE(t.nics.size() == 1);
  CHECK(t.nics[0].name == "ib0");
  REQUIRE(t.other.size() == 1);
  CHECK(t.other[0].type == "Storage");
  CHECK(t.other[0].name == "nvme0n1");
  CHECK(t.reclaimed_allocatable_milli_cpu == 6000);
  CHECK(t.reclaimed_allocatable_memory == 24 * kGi);
}

TEST_CASE("CNR topology: the pre-2023 schema with legacy reclaimed names") {
  TopologyObjects objs = parse_topologies(fixture("cnr-legacy.yaml"), "legacy.yaml");
  const NodeTopology& t = only(objs);
  CHECK(t.node_name == "worker-old");
  CHECK(t.reclaimed_reported);
  CHECK(t.reclaimed_allocatable_milli_cpu == 12000);
  CHECK(t.reclaimed_allocatable_memory == 24 * kGi);
  CHECK(t.reclaimed_capacity_milli_cpu == 16000);
  CHECK(t.sockets == std::vector<std::string>{"0"});
  REQUIRE(t.numa.size() == 2);
  CHECK(t.numa[0].allocated_milli_cpu == 3500);
  CHECK(t.numa[0].allocated_memory == 5 * kGi);
  CHECK(t.numa[0].consumers.size() == 2);
  CHECK(t.numa[1].idle());
}

TEST_CASE("CNR topology: reclaimed resources under both prefixes") {
  auto cnr = [](const std::string& allocatable) {
    return only(parse_topologies(R"(
apiVersion: node.katalyst.kubewharf.io/v1alpha1
kind: CustomNodeResource
metadata: {name: n1}
status:
  resources:
    allocatable: )" + allocatable,
                                 "r.yaml"));
  };
  NodeTopology legacy =
      cnr("{katalyst.kubewharf.io/reclaimed_millicpu: 3k, katalyst.kubewharf.io/reclaimed_memory: "
          "2Gi}");
  CHECK(legacy.reclaimed_reported);
  CHECK(legacy.reclaimed_allocatable_milli_cpu == 3000);
  CHECK(legacy.reclaimed_allocatable_memory == 2 * kGi);
  // capacity falls back to allocatable
  CHECK(legacy.reclaimed_capacity_milli_cpu == 3000);
  NodeTopology current = cnr("{resource.katalyst.kubewharf.io/reclaimed_millicpu: 5k}");
  CHECK(current.reclaimed_allocatable_milli_cpu == 5000);
  CHECK(current.reclaimed_allocatable_memory == 0);
  // both present: the current name wins, per resource
  NodeTopology both = cnr(
      "{resource.katalyst.kubewharf.io/reclaimed_millicpu: 7k, "
      "katalyst.kubewharf.io/reclaimed_millicpu: 1k, katalyst.kubewharf.io/reclaimed_memory: 1Gi}");
  CHECK(both.reclaimed_allocatable_milli_cpu == 7000);
  CHECK(both.reclaimed_allocatable_memory == 1 * kGi);
  NodeTopology none = cnr("{cpu: '4'}");
  CHECK(!none.reclaimed_reported);
}

TEST_CASE("CNR topology: a YAML stream with other kinds, and the bundled example") {
  auto objs = parse_topologies(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
---
apiVersion: node.katalyst.kubewharf.io/v1alpha1
kind: CustomNodeResource
metadata: {name: a}
---
apiVersion: node.katalyst.kubewharf.io/v1alpha1
kind: CustomNodeResource
metadata: {name: b}
status:
  topologyZone:
  - {type: Numa, name: "1", resources: {allocatable: {cpu: "2", memory: 1Gi}}}
  - {type: Numa, name: "0", resources: {capacity: {cpu: "2", memory: 1Gi}}}
)",
                               "stream.yaml");
  REQUIRE(objs.nodes.size() == 2);
  CHECK(objs.skipped_kinds == std::vector<std::string>{"ConfigMap"});
  const NodeTopology& b = objs.nodes[1];
  REQUIRE(b.numa.size() == 2);
  CHECK(b.numa[0].id == 0);  // sorted by id
  CHECK(b.numa[0].socket == -1);
  CHECK(b.numa[0].allocatable_milli_cpu == 2000);  // allocatable falls back to capacity
  CHECK(b.numa[1].capacity_memory == 1 * kGi);     // and capacity to allocatable

  std::string dir = std::string(CARBONKUBE_SOURCE_DIR) + "/examples/cluster/";
  auto example = parse_topologies(read_file(dir + "cnrs.yaml"), "cnrs.yaml");
  KubeObjects cluster = parse_kube_objects(read_file(dir + "nodes.json"), "nodes.json");
  for (auto& p : parse_kube_objects(read_file(dir + "pods.yaml"), "pods.yaml").pods)
    cluster.pods.push_back(p);
  REQUIRE(example.nodes.size() == cluster.nodes.size());
  SnapshotPtr snap = ClusterState::build(cluster);
  TopologyTable table = TopologyTable::build(*snap, example.nodes);
  CHECK(table.unmatched().empty());
  CHECK(table.power_zones().size() == 6);
  for (NodeIndex i = 0; i < snap->node_count(); ++i) {
    CHECK(table.has_topology(i));
    CHECK((table.flags()[i] & kTopoPueKnown) != 0);
    CHECK((table.flags()[i] & kTopoReclaimed) != 0);
    // NUMA allocatable adds up to the node's allocatable
    std::int64_t cpu = 0;
    for (const auto& t : example.nodes)
      if (t.node_name == snap->node_name(i))
        for (const auto& z : t.numa) cpu += z.allocatable_milli_cpu;
    CHECK(cpu == snap->allocatable(kCpu)[i]);
  }
  NodeIndex ca = *snap->find_node("ca-1a");
  CHECK(table.gpus_total()[ca] == 1);
  CHECK(table.gpus_free()[ca] == 1);
  CHECK(table.gpu_numa_mask()[table.gpu_begin(ca)] == 0b0001);
  CHECK((table.numa_flags()[table.numa_begin(ca)] & kNumaNicLocal) != 0);
  CHECK((table.numa_flags()[table.numa_begin(ca) + 2] & kNumaNicLocal) == 0);
  CHECK(table.numa_count(*snap->find_node("no-1a")) == 2);
  // the trainer (4 cores, 16Gi, 1 GPU, no annotations) fits ca-1a across NUMA zones
  Pod trainer;
  for (const auto& p : cluster.pods)
    if (p.name == "trainer-0") trainer = p;
  PodTopologyRequest req = pod_topology_request(trainer);
  CHECK(req.gpus == 1);
  NumaFit fit = fits_numa(table, ca, req);
  CHECK(fit.fits);
  CHECK(fit.ideal_numa_count == 2);
  CHECK(fit.numa_count == 3);  // ~1.98 free cores per zone: three zones hold 4 cores
  CHECK(!fits_numa(table, *snap->find_node("es-1a"), req).fits);  // no GPU there
}

TEST_CASE("CNR topology: errors name the source, the CNR and the field") {
  const std::string head =
      "apiVersion: node.katalyst.kubewharf.io/v1alpha1\nkind: CustomNodeResource\n";
  // bad quantity deep in the tree
  std::string e = error_of(head + R"(metadata: {name: n1}
status:
  topologyZone:
  - type: Socket
    name: "0"
    children:
    - type: Numa
      name: "0"
      resources: {allocatable: {cpu: lots}})");
  CHECK(contains(e,
                 "cnrs.yaml (CustomNodeResource \"n1\"): "
                 "status.topologyZone[0].children[0].resources.allocatable.cpu: "));
  CHECK(contains(e, "lots"));
  // a bad quantity in an allocation
  e = error_of(head + R"(metadata: {name: n1}
status:
  topologyZone:
  - type: Numa
    name: "0"
    allocations:
    - consumer: a/b/c
      requests: {memory: -1Gi})");
  CHECK(contains(
      e, "(CustomNodeResource \"n1\"): status.topologyZone[0].allocations[0].requests.memory: "));
  CHECK(contains(e, "must not be negative"));
  // missing metadata.name, inside a list
  e = error_of(R"({"kind":"CustomNodeResourceList","items":[
      {"metadata":{"name":"ok"}}, {"metadata":{"labels":{}}}]})",
               "cnrs.json");
  CHECK(contains(e, "cnrs.json: items[1]: missing metadata.name"));
  // malformed JSON
  e = error_of(R"({"kind": "CustomNodeResource", "metadata": {"name": "n1"},)", "cnrs.json");
  CHECK(contains(e, "cnrs.json: malformed JSON"));
  // a NUMA zone whose name is not an id
  e = error_of(head +
               "metadata: {name: n1}\nstatus:\n  topologyZone:\n  - {type: Numa, name: zero}");
  CHECK(contains(e,
                 "(CustomNodeResource \"n1\"): status.topologyZone[0].name: NUMA zone name "
                 "\"zero\" is not a NUMA id 0..63"));
  // duplicate NUMA id and duplicate CNR
  e = error_of(head +
               "metadata: {name: n1}\nstatus:\n  topologyZone:\n  - {type: Numa, name: '0'}\n"
               "  - {type: Numa, name: '0'}");
  CHECK(contains(e, "status.topologyZone[1].name: duplicate NUMA zone 0"));
  e = error_of(head + "metadata: {name: n1}\n---\n" + head + "metadata: {name: n1}");
  CHECK(contains(e, "cnrs.yaml: document 2: metadata.name: duplicate CustomNodeResource \"n1\""));
  // a zone without a type
  e = error_of(head + "metadata: {name: n1}\nstatus:\n  topologyZone:\n  - {name: x}");
  CHECK(contains(e, "status.topologyZone[0]: missing type"));
  // another API group
  e = error_of("apiVersion: v1\nkind: CustomNodeResource\nmetadata: {name: n1}");
  CHECK(contains(e, "cnrs.yaml: apiVersion: CustomNodeResource of \"v1\""));
  // PUE out of range, and a power zone without a value
  e = error_of(head + R"(metadata: {name: n1}
spec:
  nodeResourceProperties:
  - {propertyName: carbon-kube.io/pue, propertyQuantity: "0.9"})");
  CHECK(contains(e,
                 "(CustomNodeResource \"n1\"): spec.nodeResourceProperties[0].propertyQuantity: "
                 "PUE 0.9 is outside [1, 10]"));
  e = error_of(head + R"(metadata: {name: n1}
spec:
  nodeResourceProperties:
  - {propertyName: carbon-kube.io/power-zone})");
  CHECK(contains(e, "spec.nodeResourceProperties[0].propertyValues: the power zone needs"));
  // a GPU attribute naming a bad NUMA id
  e = error_of(head + R"(metadata: {name: n1}
status:
  topologyZone:
  - {type: GPU, name: g0, attributes: [{name: numa_node, value: "0,x"}]})");
  CHECK(contains(e, "status.topologyZone[0].attributes[0].value: NUMA zone name \"x\""));
}

// ---------------------------------------------------------------------------
// TopologyTable

TEST_CASE("topology table: flat per-node and per-NUMA arrays") {
  Cluster c = make_cluster();
  const TopologyTable& t = c.table;
  CHECK(t.node_count() == 4);
  CHECK(t.unmatched() == std::vector<std::string>{"worker-old"});

  // worker-a
  NodeIndex a = c.worker_a;
  CHECK(t.has_topology(a));
  CHECK((t.flags()[a] & kTopoPueKnown) == 0);
  CHECK(t.pue()[a] == 1.0);
  CHECK(t.power_zone()[a] == kNoPowerZone);
  CHECK(t.numa_count(a) == 4);
  CHECK(t.numa_per_socket()[a] == 2);
  CHECK(t.numa_size_milli_cpu()[a] == 24000);
  CHECK(t.numa_size_memory()[a] == 64 * kGi);
  std::uint32_t b = t.numa_begin(a);
  CHECK(t.numa_free_milli_cpu()[b + 0] == 9500);
  CHECK(t.numa_free_memory()[b + 0] == 36 * kGi);
  CHECK(t.numa_free_milli_cpu()[b + 3] == 2000);
  CHECK(t.numa_socket()[b + 2] == 1);
  CHECK(t.numa_flags()[b + 0] == kNumaNicLocal);  // busy, NIC on its socket
  CHECK(t.numa_flags()[b + 1] == (kNumaIdle | kNumaNicLocal));
  CHECK(t.numa_flags()[b + 2] == kNumaIdle);
  CHECK(t.nic_socket_mask()[a] == 0b01);
  // reclaimed free = 40 cores − 4 requested; memory 100Gi − 10Gi (legacy name)
  CHECK((t.flags()[a] & kTopoReclaimed) != 0);
  CHECK(t.reclaimed_free_milli_cpu()[a] == 36000);
  CHECK(t.reclaimed_free_memory()[a] == 90 * kGi);
  // no GPU zones: GPUs from the node (none)
  CHECK((t.flags()[a] & kTopoGpusFromNode) != 0);
  CHECK(t.gpus_total()[a] == 0);

  // gpu-b: GPU zones win over the node's allocatable
  NodeIndex g = c.gpu_b;
  CHECK((t.flags()[g] & kTopoPueKnown) != 0);
  CHECK(t.pue()[g] == doctest::Approx(1.18));
  CHECK(t.power_zones()[t.power_zone()[g]] == "dc1-row4-pdu2");
  CHECK(t.gpus_total()[g] == 3);
  CHECK(t.gpus_free()[g] == 2);
  REQUIRE(t.gpu_count(g) == 4);
  CHECK(t.gpu_numa_mask()[t.gpu_begin(g) + 2] == 0b11);
  CHECK(t.gpu_socket_mask()[t.gpu_begin(g) + 2] == 0b01);

  // bare: no CNR, power zone and PUE from labels, GPUs from the node
  NodeIndex n = c.bare;
  CHECK(!t.has_topology(n));
  CHECK(t.numa_count(n) == 0);
  CHECK((t.flags()[n] & kTopoPueKnown) != 0);
  CHECK(t.pue()[n] == doctest::Approx(1.3));
  CHECK(t.power_zones()[t.power_zone()[n]] == "pz-label");
  CHECK(t.gpus_total()[n] == 2);
  CHECK(t.gpus_free()[n] == 1);

  // flat: a CNR without zones
  CHECK(t.has_topology(c.flat));
  CHECK(t.numa_count(c.flat) == 0);
  CHECK((t.flags()[c.flat] & kTopoReclaimed) == 0);
}

TEST_CASE("topology table: a bad PUE label names the node") {
  KubeObjects objs;
  Node n = make_node("n1", 1000, kGi);
  n.labels = {{std::string(kPueKey), "0.5"}};
  objs.nodes.push_back(n);
  SnapshotPtr snap = ClusterState::build(objs);
  try {
    TopologyTable::build(*snap, {});
    FAIL("expected an error");
  } catch (const InvalidInput& e) {
    CHECK(std::string(e.what()) ==
          "Node \"n1\": metadata.labels.carbon-kube.io/pue: PUE 0.5 is outside [1, 10]");
  }
}

// ---------------------------------------------------------------------------
// Pod requests

TEST_CASE("topology pod request: annotations and requests") {
  SUBCASE("no annotations: shared_cores, no binding") {
    Pod p = make_pod("web", {{"cpu", "1500m"}, {"memory", "2Gi"}, {"nvidia.com/gpu", "2"}});
    PodTopologyRequest r = pod_topology_request(p);
    CHECK(r.qos == KatalystQosLevel::kSharedCores);
    CHECK(!r.numa_binding);
    CHECK(!r.numa_exclusive);
    CHECK(r.numa_number == 0);
    CHECK(!r.reclaimed);
    CHECK(r.milli_cpu == 1500);
    CHECK(r.memory == 2 * kGi);
    CHECK(r.gpus == 2);
  }
  SUBCASE("dedicated_cores with numa_binding and numa_exclusive") {
    Pod p = annotated_pod("db",
                          {{std::string(kQosLevelAnnotation), "dedicated_cores"},
                           {std::string(kMemoryEnhancementAnnotation),
                            R"({"numa_binding": "true", "numa_exclusive": "true",
                                "rss_overuse_threshold": "0.8"})"},
                           {std::string(kNumaNumberAnnotation), "2"}},
                          {{"cpu", "48"}, {"memory", "128Gi"}});
    PodTopologyRequest r = pod_topology_request(p);
    CHECK(r.qos == KatalystQosLevel::kDedicatedCores);
    CHECK(r.numa_binding);
    CHECK(r.numa_exclusive);
    CHECK(r.numa_number == 2);
    CHECK(r.milli_cpu == 48000);
  }
  SUBCASE("the QoS level may be a label; empty annotations are not set") {
    Pod p = annotated_pod(
        "l",
        {{std::string(kMemoryEnhancementAnnotation), ""}, {std::string(kNumaNumberAnnotation), ""}},
        {{"cpu", "1"}});
    p.labels = {{std::string(kQosLevelAnnotation), "dedicated_cores"}};
    PodTopologyRequest r = pod_topology_request(p);
    CHECK(r.qos == KatalystQosLevel::kDedicatedCores);
    CHECK(!r.numa_binding);
    CHECK(r.numa_number == 0);
  }
  SUBCASE("numa_exclusive needs numa_binding and dedicated_cores") {
    Pod shared = annotated_pod("s",
                               {{std::string(kMemoryEnhancementAnnotation),
                                 R"({"numa_binding": "true", "numa_exclusive": "true"})"}},
                               {{"cpu", "1"}});
    PodTopologyRequest r = pod_topology_request(shared);
    CHECK(r.numa_binding);
    CHECK(!r.numa_exclusive);
    Pod unbound = annotated_pod("u",
                                {{std::string(kQosLevelAnnotation), "dedicated_cores"},
                                 {std::string(kMemoryEnhancementAnnotation),
                                  R"({"numa_binding": "false", "numa_exclusive": "true"})"}},
                                {{"cpu", "1"}});
    r = pod_topology_request(unbound);
    CHECK(!r.numa_binding);
    CHECK(!r.numa_exclusive);
  }
  SUBCASE("reclaimed_cores consumes reclaimed resources, either name") {
    Pod p = annotated_pod("r", {{std::string(kQosLevelAnnotation), "reclaimed_cores"}},
                          {{std::string(kReclaimedMilliCpu), "2k"},
                           {std::string(kLegacyReclaimedMemory), "3Gi"},
                           {"cpu", "100m"}});
    PodTopologyRequest r = pod_topology_request(p);
    CHECK(r.reclaimed);
    CHECK(r.milli_cpu == 2000);
    CHECK(r.memory == 3 * kGi);
    // not rewritten by Katalyst's webhook yet: cpu and memory stand in
    Pod raw = annotated_pod("r2", {{std::string(kQosLevelAnnotation), "reclaimed_cores"}},
                            {{"cpu", "500m"}, {"memory", "1Gi"}});
    r = pod_topology_request(raw);
    CHECK(r.milli_cpu == 500);
    CHECK(r.memory == kGi);
  }
  SUBCASE("bad annotations name the pod and the annotation") {
    auto error = [](StringMap ann) {
      try {
        pod_topology_request(annotated_pod("p", std::move(ann), {{"cpu", "1"}}));
      } catch (const InvalidInput& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    const std::string mem(kMemoryEnhancementAnnotation);
    std::string e = error({{mem, R"({"numa_binding": "true",)"}});
    CHECK(contains(e,
                   "Pod \"ml/p\": metadata.annotations[katalyst.kubewharf.io/memory_enhancement]: "
                   "malformed JSON"));
    e = error({{mem, "numa_binding=true"}});
    CHECK(contains(e,
                   "Pod \"ml/p\": metadata.annotations[katalyst.kubewharf.io/memory_enhancement]: "
                   "expected a JSON object"));
    e = error({{mem, R"({"numa_binding": true})"}});
    CHECK(contains(e, "memory_enhancement]: numa_binding: expected a string (\"true\"), got true"));
    e = error({{mem, R"({"numa_binding": "yes"})"}});
    CHECK(contains(e, "numa_binding: expected \"true\" or \"false\", got \"yes\""));
    e = error({{mem, R"(["numa_binding"])"}});
    CHECK(contains(e, "expected a JSON object"));
    e = error({{std::string(kQosLevelAnnotation), "gold"}});
    CHECK(contains(e,
                   "Pod \"ml/p\": metadata.annotations[katalyst.kubewharf.io/qos_level]: unknown "
                   "QoS level \"gold\""));
    e = error({{std::string(kNumaNumberAnnotation), "two"}});
    CHECK(contains(e,
                   "metadata.annotations[katalyst.kubewharf.io/numa_number]: \"two\" is not a "
                   "NUMA count 0..64"));
    CHECK(contains(error({{std::string(kNumaNumberAnnotation), "-1"}}), "numa_number"));
  }
}

// ---------------------------------------------------------------------------
// Alignment

TEST_CASE("topology alignment: numa_binding fits in one NUMA zone") {
  Cluster c = make_cluster();
  // 8 cores fit NUMA 0 (9.5 free); lowest id among the fitting zones with a NIC.
  NumaFit f = fits_numa(c.table, c.worker_a, request(8000, 16 * kGi, true));
  CHECK(f.fits);
  CHECK(f.reason == TopologyReason::kFits);
  CHECK(f.numa_count == 1);
  CHECK(f.numa_mask == 0b0001);
  CHECK(f.ideal_numa_count == 1);
  // 23 cores: only NUMA 1 and 2 have them; NUMA 1 shares its socket with the NIC.
  f = fits_numa(c.table, c.worker_a, request(23000, kGi, true));
  CHECK(f.fits);
  CHECK(f.numa_mask == 0b0010);
  // memory counts too: 40Gi fits none of NUMA 0 (36Gi free) or NUMA 3 (24Gi)
  f = fits_numa(c.table, c.worker_a, request(1000, 40 * kGi, true));
  CHECK(f.numa_mask == 0b0010);
  // a pod without cpu and memory requests binds to any zone
  f = fits_numa(c.table, c.worker_a, request(0, 0, true));
  CHECK(f.fits);
  CHECK(f.numa_count == 1);
}

TEST_CASE("topology alignment: requests larger than one NUMA zone") {
  Cluster c = make_cluster();
  // Without numa_exclusive Katalyst refuses a binding larger than one NUMA zone.
  NumaFit f = fits_numa(c.table, c.worker_a, request(30000, 32 * kGi, true));
  CHECK(!f.fits);
  CHECK(f.reason == TopologyReason::kExceedsOneNuma);
  CHECK(f.ideal_numa_count == 2);
  // numa_number 2 allows two zones of one socket: NUMA 0 + 1 (33.5 cores free)
  f = fits_numa(c.table, c.worker_a, request(30000, 32 * kGi, true, false, 2));
  CHECK(f.fits);
  CHECK(f.numa_count == 2);
  CHECK(f.numa_mask == 0b0011);
  // numa_number smaller than the request needs
  f = fits_numa(c.table, c.worker_a, request(30000, 32 * kGi, true, false, 1));
  CHECK(f.reason == TopologyReason::kNumaInsufficient);
  // more than the node has
  f = fits_numa(c.table, c.worker_a, request(1000, kGi, true, false, 5));
  CHECK(f.reason == TopologyReason::kNumaNumberTooLarge);
  // two zones but neither socket has enough: socket 1 offers 24 + 2 cores
  f = fits_numa(c.table, c.worker_a, request(34000, kGi, true, false, 2));
  CHECK(!f.fits);
  CHECK(f.reason == TopologyReason::kNumaInsufficient);
  // three zones may cross sockets (more than one socket's two zones)
  f = fits_numa(c.table, c.worker_a, request(50000, kGi, true, false, 3));
  CHECK(f.fits);
  CHECK(f.numa_count == 3);
  CHECK(f.numa_mask == 0b0111);
}

TEST_CASE("topology alignment: numa_exclusive is blocked by other allocations") {
  Cluster c = make_cluster();
  // 20 cores: one zone; NUMA 0 is busy, NUMA 1 is idle.
  NumaFit f = fits_numa(c.table, c.worker_a, request(20000, kGi, true, true));
  CHECK(f.fits);
  CHECK(f.numa_mask == 0b0010);
  // 5 cores fit NUMA 0's free cores, but exclusive wants an idle zone: NUMA 1.
  f = fits_numa(c.table, c.worker_a, request(5000, kGi, true, true));
  CHECK(f.numa_mask == 0b0010);
  // 30 cores need two zones of one socket: each socket has a busy zone.
  f = fits_numa(c.table, c.worker_a, request(30000, 32 * kGi, true, true));
  CHECK(!f.fits);
  CHECK(f.reason == TopologyReason::kNumaExclusiveBusy);
  // larger than two zones: three whole zones, but only two are idle
  f = fits_numa(c.table, c.worker_a, request(55000, kGi, true, true));
  CHECK(f.reason == TopologyReason::kNumaExclusiveBusy);
  // more than all four zones' free cores (59.5): insufficient, not busy
  f = fits_numa(c.table, c.worker_a, request(60000, kGi, true, true));
  CHECK(f.reason == TopologyReason::kNumaInsufficient);
  // an empty node of the same shape takes it on three whole zones
  KubeObjects objs;
  objs.nodes.push_back(make_node("worker-a", 96000, 256 * kGi));
  NodeTopology empty = c.topologies[0];
  for (auto& z : empty.numa) {
    z.allocated_milli_cpu = z.allocated_memory = 0;
    z.consumers.clear();
  }
  SnapshotPtr snap = ClusterState::build(objs);
  TopologyTable t = TopologyTable::build(*snap, std::vector<NodeTopology>{empty});
  f = fits_numa(t, 0, request(55000, kGi, true, true));
  CHECK(f.fits);
  CHECK(f.numa_count == 3);
  CHECK(f.ideal_numa_count == 3);
  CHECK(f.numa_mask == 0b0111);
}

TEST_CASE("topology alignment: GPUs count and prefer the chosen NUMA zone") {
  Cluster c = make_cluster();
  NumaFit f = fits_numa(c.table, c.gpu_b, request(4000, 8 * kGi, true, false, 0, 3));
  CHECK(!f.fits);
  CHECK(f.reason == TopologyReason::kInsufficientGpu);
  // Two GPUs: NUMA 0 has both free GPUs attached (one shared with NUMA 1).
  f = fits_numa(c.table, c.gpu_b, request(4000, 8 * kGi, true, false, 0, 2));
  CHECK(f.fits);
  CHECK(f.numa_mask == 0b01);
  // NUMA 0 lacks the cores: NUMA 1, one GPU local and one on the same socket.
  f = fits_numa(c.table, c.gpu_b, request(12000, 8 * kGi, true, false, 0, 2));
  CHECK(f.fits);
  CHECK(f.numa_mask == 0b10);
  // Without a CNR the node's GPUs count; the node stays neutral.
  f = fits_numa(c.table, c.bare, request(1000, kGi, true, false, 0, 5));
  CHECK(f.fits);
  CHECK(f.reason == TopologyReason::kNoTopology);
  CHECK(topology_alignment_score(c.table, c.bare, request(1000, kGi, true, false, 0, 5)) ==
        kNeutralTopologyScore);
}

TEST_CASE("topology alignment: reclaimed pods, zone-less CNRs and unbound pods") {
  Cluster c = make_cluster();
  PodTopologyRequest r;
  r.qos = KatalystQosLevel::kReclaimedCores;
  r.reclaimed = true;
  r.milli_cpu = 36000;
  r.memory = 90 * kGi;
  CHECK(fits_numa(c.table, c.worker_a, r).fits);
  r.milli_cpu = 36001;
  NumaFit f = fits_numa(c.table, c.worker_a, r);
  CHECK(!f.fits);
  CHECK(f.reason == TopologyReason::kInsufficientReclaimed);
  // a CNR without reclaimed resources offers none
  r.milli_cpu = 1;
  CHECK(fits_numa(c.table, c.flat, r).reason == TopologyReason::kInsufficientReclaimed);
  // numa_binding on a CNR without NUMA zones
  CHECK(fits_numa(c.table, c.flat, request(1000, kGi, true)).reason ==
        TopologyReason::kNoNumaZones);
  // NUMA zones that report no memory cannot hold a memory request
  NodeTopology no_memory = c.topologies[0];
  for (auto& z : no_memory.numa) z.allocatable_memory = z.capacity_memory = 0;
  KubeObjects objs;
  objs.nodes.push_back(make_node("worker-a", 96000, 256 * kGi));
  SnapshotPtr snap = ClusterState::build(objs);
  TopologyTable t = TopologyTable::build(*snap, std::vector<NodeTopology>{no_memory});
  CHECK(fits_numa(t, 0, request(1000, kGi, true)).reason == TopologyReason::kNumaInsufficient);
  CHECK(fits_numa(t, 0, request(1000, 0, true)).fits);
  // an unbound pod always fits; numa_count is the fewest zones that hold it
  f = fits_numa(c.table, c.worker_a, request(30000, 32 * kGi));
  CHECK(f.fits);
  CHECK(f.ideal_numa_count == 2);
  CHECK(f.numa_count == 2);
  CHECK(f.numa_mask == 0b0011);
  f = fits_numa(c.table, c.worker_a, request(8000, kGi));
  CHECK(f.numa_count == 1);
  CHECK(topology_reason_text(TopologyReason::kNumaExclusiveBusy) ==
        "no idle NUMA zones for numa_exclusive");
}

TEST_CASE("topology alignment score: NUMA, devices and PUE") {
  Cluster c = make_cluster();
  // worker-a, one zone on the NIC's socket, PUE unknown (50):
  // (50·100 + 30·100 + 20·50) / 100 = 90
  CHECK(topology_alignment_score(c.table, c.worker_a, request(8000, 16 * kGi, true)) == 90);
  // an unbound pod held by one zone: NUMA 1 (idle, NIC socket) before NUMA 2
  PodTopologyRequest one = request(20000, 40 * kGi);
  one.qos = KatalystQosLevel::kSharedCores;
  CHECK(fits_numa(c.table, c.worker_a, one).numa_mask == 0b0010);
  CHECK(topology_alignment_score(c.table, c.worker_a, one) == 90);
  // an unbound 50-core pod: ideal 3 zones, held by three: (5000 + 3000 + 1000) / 100
  PodTopologyRequest three = request(50000, kGi);
  three.qos = KatalystQosLevel::kSharedCores;
  CHECK(fits_numa(c.table, c.worker_a, three).numa_count == 3);
  CHECK(topology_alignment_score(c.table, c.worker_a, three) == 90);
  // a non-fitting pod scores 0
  CHECK(topology_alignment_score(c.table, c.worker_a, request(30000, kGi, true)) == 0);
  // the overload with the filter's result gives the same
  PodTopologyRequest eight_bound = request(8000, 16 * kGi, true);
  CHECK(topology_alignment_score(c.table, c.worker_a, eight_bound,
                                 fits_numa(c.table, c.worker_a, eight_bound)) == 90);

  // gpu-b, two GPUs on the chosen zone, PUE 1.18 → power 82:
  // (5000 + 3000 + 1640) / 100 = 96
  CHECK(topology_alignment_score(c.table, c.gpu_b, request(4000, 8 * kGi, true, false, 0, 2)) ==
        96);
  // NUMA 1: one local GPU (2) + one on the same socket (1) of 4 half-GPUs → device 75:
  // (5000 + 2250 + 1640) / 100 = 88
  CHECK(topology_alignment_score(c.table, c.gpu_b, request(12000, 8 * kGi, true, false, 0, 2)) ==
        88);
  // an unbound 20-core pod needs both 16-core zones (11 + 16 free): ideal 2, used 2
  PodTopologyRequest wide = request(20000, kGi);
  wide.qos = KatalystQosLevel::kSharedCores;
  NumaFit f = fits_numa(c.table, c.gpu_b, wide);
  CHECK(f.numa_count == 2);
  CHECK(f.ideal_numa_count == 2);
  CHECK(topology_alignment_score(c.table, c.gpu_b, wide) == 96);
  // 28 cores: ideal 2, but 27 are free: NUMA 0, device unknown (50)
  PodTopologyRequest over = request(28000, kGi);
  over.qos = KatalystQosLevel::kSharedCores;
  CHECK(fits_numa(c.table, c.gpu_b, over).numa_count == 0);
  CHECK(topology_alignment_score(c.table, c.gpu_b, over) == (0 + 1500 + 1640) / 100);

  // The same 8-core pod needing 2 zones where 1 would do on an empty node:
  // worker-a with NUMA 1 and 2 taken, NUMA 0 at 5 free cores → NUMA 0 + 1
  NodeTopology crowded = c.topologies[0];
  crowded.numa[0].allocated_milli_cpu = 17000;
  crowded.numa[1].allocated_milli_cpu = 21000;
  crowded.numa[2].allocated_milli_cpu = 24000;
  KubeObjects objs;
  objs.nodes.push_back(make_node("worker-a", 96000, 256 * kGi));
  SnapshotPtr snap = ClusterState::build(objs);
  TopologyTable t = TopologyTable::build(*snap, std::vector<NodeTopology>{crowded});
  PodTopologyRequest eight = request(8000, kGi);
  eight.qos = KatalystQosLevel::kSharedCores;
  f = fits_numa(t, 0, eight);
  CHECK(f.ideal_numa_count == 1);
  CHECK(f.numa_count == 2);
  CHECK(f.numa_mask == 0b0011);
  // NUMA 100 · 1 / 2 = 50: (2500 + 3000 + 1000) / 100 = 65
  CHECK(topology_alignment_score(t, 0, eight) == 65);
  // No NIC on the zones used: device 0. NUMA 0 and 1 full, NUMA 2 + 3 offer 6 + 2 cores.
  crowded.numa[0].allocated_milli_cpu = 22000;
  crowded.numa[1].allocated_milli_cpu = 24000;
  crowded.numa[2].allocated_milli_cpu = 18000;
  t = TopologyTable::build(*snap, std::vector<NodeTopology>{crowded});
  f = fits_numa(t, 0, eight);
  CHECK(f.numa_mask == 0b1100);
  // NUMA 50, device 0, power 50: (2500 + 0 + 1000) / 100 = 35
  CHECK(topology_alignment_score(t, 0, eight) == 35);
}

TEST_CASE("topology alignment: the greedy search on machines with more than 8 NUMA zones") {
  // 4 sockets × 4 NUMA zones of 8 cores; zone 0 of each socket is busy.
  NodeTopology big;
  big.node_name = "big";
  for (int s = 0; s < 4; ++s) {
    big.sockets.push_back(std::to_string(s));
    for (int k = 0; k < 4; ++k) {
      NumaZone z;
      z.id = s * 4 + k;
      z.socket = s;
      z.allocatable_milli_cpu = z.capacity_milli_cpu = 8000;
      z.allocatable_memory = z.capacity_memory = 32 * kGi;
      if (k == 0) {
        z.allocated_milli_cpu = 6000;
        z.consumers.push_back("a/b/c");
      }
      big.numa.push_back(z);
    }
  }
  KubeObjects objs;
  objs.nodes.push_back(make_node("big", 128000, 512 * kGi));
  SnapshotPtr snap = ClusterState::build(objs);
  TopologyTable t = TopologyTable::build(*snap, std::vector<NodeTopology>{big});
  REQUIRE(t.numa_count(0) == 16);
  CHECK(t.numa_per_socket()[0] == 4);
  // exclusive, 20 cores: three idle zones of one socket
  NumaFit f = fits_numa(t, 0, request(20000, kGi, true, true));
  CHECK(f.fits);
  CHECK(f.numa_count == 3);
  CHECK(f.numa_mask == 0b1110);
  // exclusive, 26 cores: four zones of one socket, each socket has a busy one
  f = fits_numa(t, 0, request(26000, kGi, true, true));
  CHECK(f.fits);
  CHECK(f.numa_count == 5);  // five zones may cross sockets
  // non-exclusive, one zone
  f = fits_numa(t, 0, request(8000, kGi, true));
  CHECK(f.numa_mask == 0b0010);
}
