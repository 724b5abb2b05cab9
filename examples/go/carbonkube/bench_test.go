package carbonkube_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"carbonkube.example/go/carbonkube"
)

// The synthetic cluster mirrors bench/synthetic.hpp (the C++ benchmarks):
// nodes of five sizes (4 to 64 cores, 15 to 248 GiB) in four zones, ten bound
// pods per node, a pending pod requesting 500m / 1 GiB; built through
// ck_cluster_apply_node_arrays / ck_cluster_apply_pod_arrays.
const (
	benchNodes       = 5000
	benchPodsPerNode = 10
	benchBatch       = 64
)

// Profiles as in bench/bench_scoring.cpp, every node filtered and scored.
var benchConfigs = []struct{ name, yaml string }{
	{"FitBalanced", `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- percentageOfNodesToScore: 100
  plugins:
    multiPoint: {disabled: [{name: '*'}]}
    filter: {enabled: [{name: NodeResourcesFit}]}
    score: {enabled: [{name: NodeResourcesFit}, {name: NodeResourcesBalancedAllocation}]}
`},
	{"DefaultProfile", `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- percentageOfNodesToScore: 100
`},
	// The seed's katalyst-carbon-scheduler profile with carbon conditions
	// for four grid zones (no CNR topology).
	{"SeedProfile", ""},
}

type benchSetup struct {
	engines []*carbonkube.Engine
	snap    []*carbonkube.Snapshot
	pods    [][]*carbonkube.Pod // benchBatch pending pods per engine
}

var (
	benchOnce sync.Once
	bench     benchSetup
	benchErr  error
)

func syntheticArrays() (carbonkube.NodeArrays, carbonkube.PodArrays) {
	cpu := []int64{3920, 7910, 15890, 31850, 63770}
	memGiB := []int64{15, 31, 62, 124, 248}
	zones := []string{"us-west-1a", "us-west-1b", "eu-south-2a", "eu-north-1a"}
	rng := uint64(42)
	next := func() uint64 { // xorshift64*: deterministic, like the C++ seed 42
		rng ^= rng >> 12
		rng ^= rng << 25
		rng ^= rng >> 27
		return rng * 2685821657736338717
	}
	n := carbonkube.NodeArrays{Resources: []string{"cpu", "memory", "pods", "ephemeral-storage"}}
	n.Allocatable = make([][]int64, 4)
	for i := 0; i < benchNodes; i++ {
		name := fmt.Sprintf("node-%d", i)
		size := next() % 5
		zone := zones[i%4]
		n.Names = append(n.Names, name)
		n.Labels = append(n.Labels, fmt.Sprintf("kubernetes.io/hostname=%s,topology.kubernetes.io/region=%s,topology.kubernetes.io/zone=%s", name, zone[:9], zone))
		n.Allocatable[0] = append(n.Allocatable[0], cpu[size])
		n.Allocatable[1] = append(n.Allocatable[1], memGiB[size]<<30)
		n.Allocatable[2] = append(n.Allocatable[2], 110)
		n.Allocatable[3] = append(n.Allocatable[3], 100<<30)
	}
	p := carbonkube.PodArrays{Resources: []string{"cpu", "memory"}, Requests: make([][]int64, 2)}
	for i := 0; i < benchNodes*benchPodsPerNode; i++ {
		p.Namespaces = append(p.Namespaces, fmt.Sprintf("ns-%d", i%20))
		p.Names = append(p.Names, fmt.Sprintf("pod-%d", i))
		p.NodeNames = append(p.NodeNames, fmt.Sprintf("node-%d", i%benchNodes))
		p.Requests[0] = append(p.Requests[0], int64(50+next()%400))
		p.Requests[1] = append(p.Requests[1], int64(64+next()%1024)<<20)
	}
	return n, p
}

func setupBench() (benchSetup, error) {
	var s benchSetup
	cluster, err := carbonkube.NewCluster()
	if err != nil {
		return s, err
	}
	defer cluster.Close()
	nodes, pods := syntheticArrays()
	if err := cluster.ApplyNodeArrays(nodes); err != nil {
		return s, err
	}
	if err := cluster.ApplyPodArrays(pods); err != nil {
		return s, err
	}
	signals, err := carbonkube.NewSignals()
	if err != nil {
		return s, err
	}
	defer signals.Close()
	grid := []string{"US-CAL-CISO", "ES", "NO", "BR"}
	level := []float64{220, 110, 25, 90}
	for z := range grid {
		var pts []carbonkube.SignalPoint
		for h := int64(0); h < 48; h++ {
			pts = append(pts, carbonkube.SignalPoint{UnixSeconds: 1689400000 + h*3600, GPerKWh: level[z] + float64(h)})
		}
		if err := signals.AddPoints(grid[z], carbonkube.KindAverageLifecycle, pts); err != nil {
			return s, err
		}
	}
	zoneMap := []byte("unknownZone: neutral\nzones: {us-west-1a: US-CAL-CISO, us-west-1b: US-CAL-CISO, eu-south-2a: ES, eu-north-1a: \"NO\"}\n")
	for _, c := range benchConfigs {
		opts := carbonkube.EngineOptions{ZoneMap: zoneMap}
		if c.yaml != "" {
			opts.SchedulerConfig = []byte(c.yaml)
		} else {
			text, err := os.ReadFile(filepath.Join(repo, "examples/config/katalyst-carbon-scheduler.yaml"))
			if err != nil {
				return s, err
			}
			seed := string(text)
			const key = "- schedulerName: katalyst-carbon-scheduler\n"
			if !strings.Contains(seed, key) {
				return s, fmt.Errorf("the seed profile has no %q", key)
			}
			opts.SchedulerConfig = []byte(strings.Replace(seed, key, key+"  percentageOfNodesToScore: 100\n", 1))
		}
		engine, err := carbonkube.NewEngine(opts)
		if err != nil {
			return s, fmt.Errorf("%s: %w", c.name, err)
		}
		snap, err := cluster.Publish(engine, &carbonkube.SnapshotOptions{Signals: signals, At: 1689444000})
		if err != nil {
			return s, err
		}
		var batch []*carbonkube.Pod
		for i := 0; i < benchBatch; i++ {
			pod, err := carbonkube.NewPod(snap, []byte(fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod",
"metadata":{"name":"pending-%d","namespace":"default","annotations":{"carbon-kube.io/qos-profile":"mixed-burstable"}},
"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"500m","memory":"1Gi"}}}]}}`, i)))
			if err != nil {
				return s, err
			}
			batch = append(batch, pod)
		}
		s.engines, s.snap, s.pods = append(s.engines, engine), append(s.snap, snap), append(s.pods, batch)
	}
	return s, nil
}

func getBench(b *testing.B) benchSetup {
	b.Helper()
	benchOnce.Do(func() { bench, benchErr = setupBench() })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

// (a) The cost of one cgo call into the library: ck_version_number().
func BenchmarkCgoTrivialCall(b *testing.B) {
	var sink uint32
	for i := 0; i < b.N; i++ {
		sink += carbonkube.VersionNumber()
	}
	if sink == 1 {
		b.Log(sink)
	}
}

// A cold-path call with its error plumbing: runtime.LockOSThread, the cgo
// call, and the status check (ck_snapshot_find_node).
func BenchmarkCgoLockedCall(b *testing.B) {
	s := getBench(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.snap[0].FindNode("node-4242"); err != nil {
			b.Fatal(err)
		}
	}
}

// (b) One scheduling cycle on 5,000 nodes: one ck_score_pod call. "full"
// fills the per-node results and per-plugin scores (reused Go slices);
// "selected" asks for the selection only, like the C++ benchmark.
func BenchmarkScorePod5k(b *testing.B) {
	s := getBench(b)
	for k, c := range benchConfigs {
		for _, selectedOnly := range []bool{false, true} {
			name := c.name + "/full"
			if selectedOnly {
				name = c.name + "/selected"
			}
			b.Run(name, func(b *testing.B) {
				ctx, err := carbonkube.NewContext(1)
				if err != nil {
					b.Fatal(err)
				}
				defer ctx.Close()
				res := carbonkube.Result{SelectedOnly: selectedOnly}
				pod := s.pods[k][0]
				if err := ctx.ScorePod(s.engines[k], s.snap[k], pod, &res); err != nil { // sizes the buffers once
					b.Fatal(err)
				}
				// A few of the smallest nodes are full; every node is examined.
				if res.Selected < 0 || res.Processed != benchNodes || res.PodResult.Feasible < benchNodes*9/10 {
					b.Fatalf("selected %d, %d feasible, %d processed", res.Selected, res.PodResult.Feasible, res.Processed)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := ctx.ScorePod(s.engines[k], s.snap[k], pod, &res); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchNodes, "ns/node")
			})
		}
	}
}

// (c) The same work through ck_score_batch: 64 pods per call; ns/pod is the
// figure to compare with ScorePod5k. "totals" also fills the 64 x 5,000
// per-node totals.
func BenchmarkScoreBatch5k(b *testing.B) {
	s := getBench(b)
	for k, c := range benchConfigs {
		for _, withTotals := range []bool{false, true} {
			name := c.name + "/selected"
			if withTotals {
				name = c.name + "/totals"
			}
			b.Run(name, func(b *testing.B) {
				ctx, err := carbonkube.NewContext(1)
				if err != nil {
					b.Fatal(err)
				}
				defer ctx.Close()
				out := make([]carbonkube.PodResult, benchBatch)
				var totals []int64
				if withTotals {
					totals = make([]int64, benchBatch*benchNodes)
				}
				if err := ctx.ScoreBatch(s.engines[k], s.snap[k], s.pods[k], out, totals); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := ctx.ScoreBatch(s.engines[k], s.snap[k], s.pods[k], out, totals); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchBatch, "ns/pod")
			})
		}
	}
}
