#!/usr/bin/env python3
"""Seeds fuzz/corpus/<target>/ from the real files in the repository (the
example cluster and configurations, the test fixtures of every wire format,
the first hours of the bundled Electricity Maps 2023 data). Targets whose
first byte selects a mode get that byte prepended. Idempotent; files the
fuzzer found (named by their SHA-1) are left alone.
Usage: fuzz/seed_corpus.py"""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def read(rel):
    with open(os.path.join(ROOT, rel), "rb") as f:
        return f.read()


def head(rel, lines):
    return b"".join(read(rel).splitlines(keepends=True)[:lines])


def seed(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


seed("kube_objects", "nodes.json", read("examples/cluster/nodes.json"))
seed("kube_objects", "pods.yaml", read("examples/cluster/pods.yaml"))
seed("kube_objects", "cluster.yaml", read("examples/cluster/pods.yaml") + b"\n---\n" +
     read("examples/cluster/cnrs.yaml").split(b"\n---")[0])

for f in ["examples/cluster/cnrs.yaml", "tests/fixtures/katalyst/cnr-2socket-4numa.yaml",
          "tests/fixtures/katalyst/cnr-gpu-list.json", "tests/fixtures/katalyst/cnr-legacy.yaml"]:
    seed("cnr", os.path.basename(f), read(f))

for f in ["examples/cluster/scheduler.yaml", "examples/config/katalyst-carbon-scheduler.yaml"]:
    seed("scheduler_config", os.path.basename(f), read(f))

seed("carbon_profile", "carbon-profile.yaml", b"\x00" + read("examples/config/carbon-profile.yaml"))
seed("carbon_profile", "helm-values.yaml", b"\x01" + read("examples/config/helm-values.yaml"))

for f in ["examples/config/zones.yaml", "tests/fixtures/signals/zonemap.yaml"]:
    seed("zone_map", os.path.basename(f), read(f))

# fuzz_signals: low 3 bits pick the loader (0 CSV direct, 1 CSV LCA, 2
# Electricity Maps JSON, 3 WattTime, 4 UK, 5 Carbon Aware SDK, 6 / 7 detect
# the format as "auto" does, direct / LCA); 0x08 lenient.
sig = "tests/fixtures/signals/"
seed("signals", "portal_sample_direct.csv", b"\x00" + read(sig + "electricitymaps_portal_sample.csv"))
seed("signals", "portal_sample_lca.csv", b"\x01" + read(sig + "electricitymaps_portal_sample.csv"))
for zone in ["US-CAL-CISO", "ES", "NO", "BR"]:
    seed("signals", zone + "_2023_first_day.csv",
         b"\x09" + head("data/carbon/electricitymaps/%s_2023_hourly.csv" % zone, 25))
for sel, names in [(2, ["electricitymaps_latest.json", "electricitymaps_history.json",
                        "electricitymaps_forecast.json"]),
                   (3, ["watttime_forecast.json", "watttime_historical.json"]),
                   (4, ["uk_national.json", "uk_regional.json", "uk_regional_all.json"]),
                   (5, ["carbonaware_bylocation.json", "carbonaware_forecast.json"])]:
    for n in names:
        seed("signals", n, bytes([sel]) + read(sig + n))
        seed("signals", "auto-" + n, b"\x07" + read(sig + n))

for i, q in enumerate([b"100m", b"1.5Gi", b"1e3", b"2k", b"250u", b"0", b"-1", b"64Gi", b"0.5",
                       b"110", b"9223372036854775807", b"1E-3", b"12345678901234567890n"]):
    seed("quantity", "q%02d" % i, q)

for i, t in enumerate([b"\x00" + b"2023-01-01T00:00:00Z", b"\x00" + b"2023-07-15T18:00:00.123+02:00",
                       b"\x01" + b"2023-01-01 00:00:00", b"\x00" + b"1h30m", b"\x00" + b"300ms",
                       b"\x00" + b"average/lifecycle", b"\x00" + b"dedicated_cores", b"\x00" + b"LSR"]):
    seed("timestamp", "t%02d" % i, t)

# fuzz_capi reads its operations from a FuzzedDataProvider: the first bytes
# become texts, integers come from the end. Any bytes are a valid program;
# these few start it off with the bundled objects and real texts inside.
seed("capi", "pods.yaml", read("examples/cluster/pods.yaml"))
seed("capi", "nodes.json", read("examples/cluster/nodes.json"))
seed("capi", "zones.yaml", read("examples/config/zones.yaml") + bytes(range(256)))

# fuzz_workload_trace: the bundled Azure trace's first rows, and a short
# unsorted one with CRLF line ends and extra columns.
seed("workload_trace", "azure-100k-head.csv", head("data/workloads/azure-100k.csv", 40))
seed("workload_trace", "unsorted.csv",
     b"\xef\xbb\xbfjob,cpus,length,arrival_time\r\na,4,1.5,3\r\nb,8,0.25,1\r\nc,2,24,2\r\n")

# fuzz_recommendations: a VerticalPodAutoscaler's status as the API server
# returns it, and a KVPA-shaped list.
seed("recommendations", "vpa.json", b"""{"apiVersion": "autoscaling.k8s.io/v1",
 "kind": "VerticalPodAutoscaler", "metadata": {"name": "web", "namespace": "shop"},
 "status": {"recommendation": {"containerRecommendations": [
  {"containerName": "app", "lowerBound": {"cpu": "100m", "memory": "262144k"},
   "target": {"cpu": "250m", "memory": "262144k"}, "uncappedTarget": {"cpu": "250m",
   "memory": "262144k"}, "upperBound": {"cpu": "1", "memory": "1Gi"}},
  {"containerName": "sidecar", "target": {"cpu": "10m", "memory": "32Mi"}}]}}}""")
seed("recommendations", "kvpa.yaml", b"""containerRecommendations:
- containerName: app
  target: {cpu: 1500m, memory: 2Gi}
  lowerBound: {cpu: "1", memory: 1Gi}
  upperBound: {cpu: "4", memory: 8Gi}
""")

# fuzz_rl_state: fuzz/corpus/rl_state/seed-fresh.json and seed-trained.json
# are RlOptimizer{}.save() before and after 20 decide/update rounds; they
# need the library to produce, so they are committed rather than made here.
