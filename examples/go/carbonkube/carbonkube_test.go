package carbonkube_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"carbonkube.example/go/carbonkube"
)

// repo is the repository root, relative to this package's directory (where
// go test runs).
var repo = func() string {
	abs, err := filepath.Abs("../../..")
	if err != nil {
		panic(err)
	}
	return abs
}()

func repoFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The inputs of scripts/run.sh.
var (
	exampleSignals = []string{
		"data/carbon/electricitymaps/US-CAL-CISO_2023_hourly.csv",
		"data/carbon/electricitymaps/ES_2023_hourly.csv",
		"data/carbon/electricitymaps/NO_2023_hourly.csv",
	}
	exampleAt      = "2023-07-15T18:00:00Z"
	exampleObjects = []string{"examples/cluster/nodes.json", "examples/cluster/pods.yaml", "examples/cluster/cnrs.yaml"}
)

type example struct {
	engine  *carbonkube.Engine
	signals *carbonkube.Signals
	cluster *carbonkube.Cluster
	snap    *carbonkube.Snapshot
	lists   []*carbonkube.PodList
	pending []*carbonkube.Pod
	opts    *carbonkube.SnapshotOptions
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func loadExample(t testing.TB) *example {
	t.Helper()
	ex := &example{}
	var err error
	ex.engine, err = carbonkube.NewEngine(carbonkube.EngineOptions{ZoneMap: repoFile(t, "examples/config/zones.yaml")})
	must(t, err)
	ex.signals, err = carbonkube.NewSignals()
	must(t, err)
	for _, f := range exampleSignals {
		_, err := ex.signals.Load(carbonkube.ElectricityMapsCSV, repoFile(t, f), f, carbonkube.KindFromData)
		must(t, err)
	}
	at, err := time.Parse(time.RFC3339, exampleAt)
	must(t, err)
	ex.opts = &carbonkube.SnapshotOptions{Signals: ex.signals, At: at.Unix()}
	ex.cluster, err = carbonkube.NewCluster()
	must(t, err)
	var texts [][]byte
	for _, f := range exampleObjects {
		text := repoFile(t, f)
		_, err := ex.cluster.Apply(text, f)
		must(t, err)
		texts = append(texts, text)
	}
	ex.snap, err = ex.cluster.Publish(ex.engine, ex.opts)
	must(t, err)
	for i, text := range texts {
		l, err := carbonkube.NewPodList(ex.snap, text, exampleObjects[i])
		must(t, err)
		ex.lists = append(ex.lists, l)
		ex.pending = append(ex.pending, l.Pods()...)
	}
	t.Cleanup(ex.close)
	return ex
}

func (ex *example) close() {
	for _, l := range ex.lists {
		l.Close()
	}
	ex.snap.Close()
	ex.cluster.Close()
	ex.signals.Close()
	ex.engine.Close()
}

// cycle is one pod's outcome, in the CLI's terms.
type cycle struct {
	pod      string
	selected string
	feasible uint32
	nodes    map[string]cliNode
}

// queue runs kube-scheduler's queue: one ScorePod per pending pod, assume
// the pod on its node, republish.
func (ex *example) queue(t *testing.T, seed uint64) []cycle {
	ctx, err := carbonkube.NewContext(seed)
	must(t, err)
	defer ctx.Close()
	plugins := ex.engine.Profiles()
	var res carbonkube.Result
	var out []cycle
	for _, pod := range ex.pending {
		must(t, ctx.ScorePod(ex.engine, ex.snap, pod, &res))
		c := cycle{pod: pod.Key(), feasible: res.PodResult.Feasible, nodes: map[string]cliNode{}}
		for i, n := range res.Nodes {
			cn := cliNode{Feasible: n.State == carbonkube.NodeFeasible, Scores: map[string]int64{}}
			if cn.Feasible {
				total := n.Total
				cn.Total = &total
				for p, sp := range plugins[res.Profile].ScorePlugins {
					if v := res.Score(i, p); v >= 0 {
						cn.Scores[sp.Name] = v
					}
				}
			}
			c.nodes[ex.snap.NodeName(i)] = cn
		}
		if node, ok := res.SelectedNode(); ok {
			c.selected = ex.snap.NodeName(node)
			if res.Nodes[node].Total != res.Total {
				t.Errorf("%s: selected node's total %d != result total %d", c.pod, res.Nodes[node].Total, res.Total)
			}
			must(t, ex.cluster.Assume(ex.snap, pod, node))
			next, err := ex.cluster.Publish(ex.engine, ex.opts)
			must(t, err)
			ex.snap.Close()
			ex.snap = next
		}
		out = append(out, c)
	}
	return out
}

type cliNode struct {
	Name     string           `json:"name"`
	Feasible bool             `json:"feasible"`
	Scores   map[string]int64 `json:"scores"`
	Total    *int64           `json:"total"`
}

type cliOutput struct {
	Results []struct {
		Pod      string    `json:"pod"`
		Selected *string   `json:"selected"`
		Feasible uint32    `json:"feasibleNodes"`
		Error    string    `json:"error"`
		Nodes    []cliNode `json:"nodes"`
	} `json:"results"`
}

// cli runs `carbonkube score` on the example; CARBONKUBE_CLI names the binary.
func cli(t *testing.T, seed uint64) cliOutput {
	t.Helper()
	bin := os.Getenv("CARBONKUBE_CLI")
	if bin == "" {
		t.Fatal("CARBONKUBE_CLI is not set: it must name build/bin/carbonkube (examples/go/run.sh sets it)")
	}
	args := []string{"score", "--nodes", exampleObjects[0], "--pods", exampleObjects[1], "--cnrs", exampleObjects[2],
		"--zones", "examples/config/zones.yaml", "--at", exampleAt, "--seed", fmt.Sprint(seed)}
	for _, f := range exampleSignals {
		args = append(args, "--signals", f)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = repo
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	var out cliOutput
	must(t, json.Unmarshal(stdout, &out))
	return out
}

func TestVersion(t *testing.T) {
	if carbonkube.VersionNumber() != carbonkube.HeaderVersionNumber {
		t.Fatalf("library %d (%s), header %d", carbonkube.VersionNumber(), carbonkube.Version(), carbonkube.HeaderVersionNumber)
	}
	must(t, carbonkube.CheckVersion())
}

// The Go queue over the C ABI gives what `carbonkube score` gives: the same
// selected node for every pod, and the same feasibility, totals and
// per-plugin scores on every node.
func TestExampleMatchesCLI(t *testing.T) {
	for _, seed := range []uint64{0, 1, 12345} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			want := cli(t, seed)
			got := loadExample(t).queue(t, seed)
			if len(got) != len(want.Results) || len(got) != 5 {
				t.Fatalf("%d pods scored, the CLI scored %d (want 5)", len(got), len(want.Results))
			}
			placed := 0
			for i, w := range want.Results {
				g := got[i]
				if w.Error != "" {
					t.Fatalf("CLI: %s: %s", w.Pod, w.Error)
				}
				wantSel := ""
				if w.Selected != nil {
					wantSel = *w.Selected
					placed++
				}
				if g.pod != w.Pod || g.selected != wantSel || g.feasible != w.Feasible {
					t.Errorf("pod %d: Go %s -> %q (%d feasible), CLI %s -> %q (%d feasible)",
						i, g.pod, g.selected, g.feasible, w.Pod, wantSel, w.Feasible)
				}
				for _, wn := range w.Nodes {
					gn, ok := g.nodes[wn.Name]
					if !ok {
						t.Errorf("%s: node %s missing", w.Pod, wn.Name)
						continue
					}
					if gn.Feasible != wn.Feasible || !reflect.DeepEqual(gn.Total, wn.Total) ||
						(wn.Feasible && !reflect.DeepEqual(gn.Scores, wn.Scores)) {
						t.Errorf("%s on %s: Go feasible=%v total=%v scores=%v, CLI feasible=%v total=%v scores=%v",
							w.Pod, wn.Name, gn.Feasible, deref(gn.Total), gn.Scores, wn.Feasible, deref(wn.Total), wn.Scores)
					}
				}
			}
			if placed != 4 {
				t.Errorf("%d pods placed, want 4 (batch/huge-0 fits nowhere)", placed)
			}
		})
	}
}

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func wantError(t *testing.T, err error, status carbonkube.Status, needles ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %s", status)
	}
	var ce *carbonkube.Error
	if !errors.As(err, &ce) {
		t.Fatalf("%v is not a *carbonkube.Error", err)
	}
	if ce.Status != status || !errors.Is(err, status) {
		t.Fatalf("status %s (%v); want %s", ce.Status, err, status)
	}
	if !strings.HasPrefix(err.Error(), status.String()+": ") {
		t.Errorf("%q does not start with the status name %s", err.Error(), status)
	}
	for _, n := range needles {
		if !strings.Contains(ce.Message, n) {
			t.Errorf("message %q does not name %q", ce.Message, n)
		}
	}
}

func TestMalformedYAML(t *testing.T) {
	// A KubeSchedulerConfiguration that is not YAML.
	_, err := carbonkube.NewEngine(carbonkube.EngineOptions{SchedulerConfig: []byte(
		"apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles: [{schedulerName: a\n")})
	wantError(t, err, carbonkube.StatusInvalidInput, "ck_engine_create", "scheduler_config")
	// Well-formed YAML with a bad value: the message names the field.
	_, err = carbonkube.NewEngine(carbonkube.EngineOptions{SchedulerConfig: []byte(
		"apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: a\n  percentageOfNodesToScore: 150\n")})
	wantError(t, err, carbonkube.StatusInvalidInput, "percentageOfNodesToScore")
	// A zone map that is not YAML.
	_, err = carbonkube.NewEngine(carbonkube.EngineOptions{ZoneMap: []byte("kind: ZoneMap\nregions: {us-west-1: [\n")})
	wantError(t, err, carbonkube.StatusInvalidInput, "zone_map")

	cluster, err := carbonkube.NewCluster()
	must(t, err)
	defer cluster.Close()
	_, err = cluster.Apply([]byte("apiVersion: v1\nkind: Node\nmetadata: {name: [a\n"), "broken-nodes.yaml")
	wantError(t, err, carbonkube.StatusInvalidInput, "ck_cluster_apply", "broken-nodes.yaml")
	if cluster.NodeCount() != 0 {
		t.Errorf("a failed apply applied %d nodes", cluster.NodeCount())
	}

	ex := loadExample(t)
	_, err = carbonkube.NewPod(ex.snap, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p\nspec: {}\n"))
	wantError(t, err, carbonkube.StatusInvalidInput, "ck_pod_create")
	_, err = carbonkube.NewPod(ex.snap, []byte("apiVersion: v1\nkind: Node\nmetadata: {name: n}\n"))
	wantError(t, err, carbonkube.StatusInvalidInput, "exactly one Pod")
	// A malformed annotation is found when the pod is scored.
	pod, err := carbonkube.NewPod(ex.snap, []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {carbon-kube.io/qos-profile: gold}\nspec:\n  containers: [{name: c}]\n"))
	if err == nil {
		defer pod.Close()
		ctx, err := carbonkube.NewContext(0)
		must(t, err)
		defer ctx.Close()
		var res carbonkube.Result
		err = ctx.ScorePod(ex.engine, ex.snap, pod, &res)
		wantError(t, err, carbonkube.StatusInvalidInput, "ck_score_pod", "gold")
	} else {
		wantError(t, err, carbonkube.StatusInvalidInput, "gold")
	}
	// Signals: a CSV that is not one.
	sig, err := carbonkube.NewSignals()
	must(t, err)
	defer sig.Close()
	_, err = sig.Load(carbonkube.ElectricityMapsCSV, []byte("not,a\ncsv"), "bad.csv", carbonkube.KindFromData)
	wantError(t, err, carbonkube.StatusInvalidInput, "bad.csv")
}

func TestBufferTooSmall(t *testing.T) {
	ex := loadExample(t)
	ctx, err := carbonkube.NewContext(0)
	must(t, err)
	defer ctx.Close()
	n := ex.snap.NodeCount()
	pod := ex.pending[0]
	plugins := len(ex.engine.Profiles()[0].ScorePlugins)
	sentinel := carbonkube.NodeResult{Total: 42, State: 7, FailedFilter: 7, Reasons: 7}

	nodes := make([]carbonkube.NodeResult, n-1)
	for i := range nodes {
		nodes[i] = sentinel
	}
	_, err = ctx.ScorePodInto(ex.engine, ex.snap, pod, carbonkube.ProfileBySchedulerName, nodes, nil)
	wantError(t, err, carbonkube.StatusBufferTooSmall, "out_nodes", fmt.Sprint(n))
	for i := range nodes {
		if nodes[i] != sentinel {
			t.Fatalf("nodes[%d] was written on CK_ERROR_BUFFER_TOO_SMALL: %+v", i, nodes[i])
		}
	}
	scores := make([]int64, n*plugins-1)
	for i := range scores {
		scores[i] = 42
	}
	_, err = ctx.ScorePodInto(ex.engine, ex.snap, pod, carbonkube.ProfileBySchedulerName, make([]carbonkube.NodeResult, n), scores)
	wantError(t, err, carbonkube.StatusBufferTooSmall, "out_scores", fmt.Sprint(n*plugins))
	for i := range scores {
		if scores[i] != 42 {
			t.Fatalf("scores[%d] was written on CK_ERROR_BUFFER_TOO_SMALL", i)
		}
	}
	// Exact sizes work.
	r, err := ctx.ScorePodInto(ex.engine, ex.snap, pod, carbonkube.ProfileBySchedulerName, make([]carbonkube.NodeResult, n), make([]int64, n*plugins))
	must(t, err)
	if r.Selected < 0 {
		t.Fatalf("%s placed nowhere", pod.Key())
	}

	// Explain: too small reports the length and writes nothing.
	buf := bytes.Repeat([]byte{'#'}, 16)
	need, err := ctx.ExplainInto(buf)
	wantError(t, err, carbonkube.StatusBufferTooSmall, "ck_context_explain", "needed")
	if need <= len(buf) || !bytes.Equal(buf, bytes.Repeat([]byte{'#'}, 16)) {
		t.Fatalf("need %d; buffer %q", need, buf)
	}
	need2, err := ctx.ExplainInto(nil)
	wantError(t, err, carbonkube.StatusBufferTooSmall)
	if need2 != need {
		t.Errorf("need %d with NULL, %d with a short buffer", need2, need)
	}
	buf = make([]byte, need) // one short: the NUL does not fit
	_, err = ctx.ExplainInto(buf)
	wantError(t, err, carbonkube.StatusBufferTooSmall)
	buf = make([]byte, need+1)
	got, err := ctx.ExplainInto(buf)
	must(t, err)
	var doc struct {
		Pod      string `json:"pod"`
		Selected string `json:"selected"`
		Nodes    []struct {
			Name string `json:"name"`
		} `json:"nodes"`
	}
	if got != need || buf[need] != 0 {
		t.Fatalf("wrote %d bytes (want %d), NUL %v", got, need, buf[need] == 0)
	}
	must(t, json.Unmarshal(buf[:need], &doc))
	if doc.Pod != pod.Key() || doc.Selected != ex.snap.NodeName(int(r.Selected)) || len(doc.Nodes) != n {
		t.Errorf("explanation %+v", doc)
	}
	// Explain() grows its buffer by itself.
	text, err := ctx.Explain()
	must(t, err)
	if len(text) != need {
		t.Errorf("Explain gave %d bytes, want %d", len(text), need)
	}

	// Batch: out and totals are checked before anything is scored.
	out := make([]carbonkube.PodResult, len(ex.pending)-1)
	err = ctx.ScoreBatch(ex.engine, ex.snap, ex.pending, out, nil)
	wantError(t, err, carbonkube.StatusBufferTooSmall, "ck_score_batch", "out")
	out = make([]carbonkube.PodResult, len(ex.pending))
	totals := make([]int64, len(ex.pending)*n-1)
	err = ctx.ScoreBatch(ex.engine, ex.snap, ex.pending, out, totals)
	wantError(t, err, carbonkube.StatusBufferTooSmall, "out_totals")
	for i := range out {
		if out[i] != (carbonkube.PodResult{}) {
			t.Fatalf("out[%d] written on CK_ERROR_BUFFER_TOO_SMALL: %+v", i, out[i])
		}
	}
}

func TestNotFound(t *testing.T) {
	ex := loadExample(t)
	_, err := ex.snap.FindNode("no-such-node")
	wantError(t, err, carbonkube.StatusNotFound, "ck_snapshot_find_node", "no-such-node")
	i, err := ex.snap.FindNode("es-1a")
	must(t, err)
	if ex.snap.NodeName(i) != "es-1a" {
		t.Errorf("FindNode(es-1a) = %d, named %q", i, ex.snap.NodeName(i))
	}
	wantError(t, ex.cluster.RemoveNode("no-such-node"), carbonkube.StatusNotFound, "ck_cluster_remove_node", "no-such-node")
	wantError(t, ex.cluster.RemovePod("shop/no-such-pod"), carbonkube.StatusNotFound, "shop/no-such-pod")
	wantError(t, ex.cluster.Assume(ex.snap, ex.pending[0], ex.snap.NodeCount()), carbonkube.StatusNotFound, "ck_cluster_assume", "out of range")
	_, err = ex.engine.FindProfile("no-such-scheduler")
	wantError(t, err, carbonkube.StatusNotFound, "no-such-scheduler")
	p, err := ex.engine.FindProfile("katalyst-carbon-scheduler")
	must(t, err)
	if p != 0 {
		t.Errorf("profile %d", p)
	}
	_, err = ex.snap.ZoneReading(len(ex.engine.Zones()))
	wantError(t, err, carbonkube.StatusNotFound, "zone index")

	ctx, err := carbonkube.NewContext(0)
	must(t, err)
	defer ctx.Close()
	_, err = ctx.Explain()
	wantError(t, err, carbonkube.StatusNotFound, "scored no pod")
	var res carbonkube.Result
	must(t, ctx.ScorePod(ex.engine, ex.snap, ex.pending[3], &res)) // batch/huge-0: fits nowhere
	if res.Selected != -1 {
		t.Fatalf("huge-0 selected %d", res.Selected)
	}
	_, err = ctx.NodeReasons(ex.snap.NodeCount())
	wantError(t, err, carbonkube.StatusNotFound, "ck_context_node_reasons")
	reason, err := ctx.NodeReasons(0)
	must(t, err)
	if !strings.Contains(reason, "Insufficient cpu") {
		t.Errorf("reasons of node 0: %q", reason)
	}
	err = ctx.ScorePodWithProfile(ex.engine, ex.snap, ex.pending[0], 5, &res)
	wantError(t, err, carbonkube.StatusNotFound, "profile 5")
}

func TestMismatchAndClosed(t *testing.T) {
	ex := loadExample(t)
	other, err := carbonkube.NewEngine(carbonkube.EngineOptions{})
	must(t, err)
	ctx, err := carbonkube.NewContext(0)
	must(t, err)
	defer ctx.Close()
	var res carbonkube.Result
	wantError(t, ctx.ScorePod(other, ex.snap, ex.pending[0], &res), carbonkube.StatusMismatch, "another engine")
	other.Close()
	other.Close() // idempotent
	wantError(t, ctx.ScorePod(other, ex.snap, ex.pending[0], &res), carbonkube.StatusInvalidArgument, "engine is NULL")
	_, err = other.FindProfile("x")
	wantError(t, err, carbonkube.StatusInvalidArgument, "engine is NULL")
	// A snapshot outlives the cluster and signals it came from.
	ex.cluster.Close()
	ex.signals.Close()
	if ex.snap.NodeCount() != 6 || ex.snap.NodeName(0) == "" {
		t.Fatalf("snapshot after closing its sources: %d nodes", ex.snap.NodeCount())
	}
	must(t, ctx.ScorePod(ex.engine, ex.snap, ex.pending[0], &res))
}

// Several goroutines, each with its own Context, score against one Engine
// and one Snapshot: every goroutine gets exactly what a serial run gets.
func TestConcurrentScorePod(t *testing.T) {
	ex := loadExample(t)
	const goroutines, rounds, seed = 8, 25, 7
	type record struct {
		pod    carbonkube.PodResult
		nodes  []carbonkube.NodeResult
		scores []int64
	}
	run := func() ([]record, error) {
		ctx, err := carbonkube.NewContext(seed)
		if err != nil {
			return nil, err
		}
		defer ctx.Close()
		var res carbonkube.Result
		var out []record
		for r := 0; r < rounds; r++ {
			for _, pod := range ex.pending {
				if err := ctx.ScorePod(ex.engine, ex.snap, pod, &res); err != nil {
					return nil, err
				}
				out = append(out, record{res.PodResult, append([]carbonkube.NodeResult(nil), res.Nodes...), append([]int64(nil), res.Scores...)})
			}
		}
		return out, nil
	}
	serial, err := run()
	must(t, err)
	results := make([][]record, goroutines)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			results[g], errs[g] = run()
		}(g)
	}
	wg.Wait()
	for g := range results {
		must(t, errs[g])
		if !reflect.DeepEqual(results[g], serial) {
			t.Fatalf("goroutine %d differs from the serial run", g)
		}
	}
	if len(serial) != rounds*len(ex.pending) {
		t.Fatalf("%d records", len(serial))
	}
}

// ScoreBatch is the same work as ScorePod per pod, nothing assumed between.
func TestScoreBatchMatchesScorePod(t *testing.T) {
	ex := loadExample(t)
	n := ex.snap.NodeCount()
	batchCtx, err := carbonkube.NewContext(3)
	must(t, err)
	defer batchCtx.Close()
	out := make([]carbonkube.PodResult, len(ex.pending))
	totals := make([]int64, len(ex.pending)*n)
	must(t, batchCtx.ScoreBatch(ex.engine, ex.snap, ex.pending, out, totals))
	// Batches record no explanation.
	_, err = batchCtx.Explain()
	wantError(t, err, carbonkube.StatusNotFound)

	ctx, err := carbonkube.NewContext(3)
	must(t, err)
	defer ctx.Close()
	var res carbonkube.Result
	for i, pod := range ex.pending {
		must(t, ctx.ScorePod(ex.engine, ex.snap, pod, &res))
		if out[i] != res.PodResult {
			t.Errorf("%s: batch %+v, ScorePod %+v", pod.Key(), out[i], res.PodResult)
		}
		for node := 0; node < n; node++ {
			want := int64(-1)
			if res.Nodes[node].State == carbonkube.NodeFeasible {
				want = res.Nodes[node].Total
			}
			if totals[i*n+node] != want {
				t.Errorf("%s on %s: batch total %d, ScorePod %d", pod.Key(), ex.snap.NodeName(node), totals[i*n+node], want)
			}
		}
	}
	// A closed pod in a batch: that pod fails, the others are scored.
	bad, err := carbonkube.NewPod(ex.snap, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x, annotations: {carbon-kube.io/qos-profile: gold}}\nspec: {containers: [{name: c}]}\n"))
	if err == nil {
		defer bad.Close()
		pods := []*carbonkube.Pod{ex.pending[0], bad, ex.pending[2]}
		out := make([]carbonkube.PodResult, 3)
		err = batchCtx.ScoreBatch(ex.engine, ex.snap, pods, out, nil)
		wantError(t, err, carbonkube.StatusInvalidInput, "pods[1]")
		if out[0].Status != carbonkube.StatusOK || out[1].Status != carbonkube.StatusInvalidInput || out[2].Status != carbonkube.StatusOK || out[2].Selected < 0 {
			t.Errorf("per-pod statuses %+v", out)
		}
	}
}

func TestArraysAndSignals(t *testing.T) {
	engine, err := carbonkube.NewEngine(carbonkube.EngineOptions{ZoneMap: []byte("kind: ZoneMap\nunknownZone: neutral\nregions: {north: \"NO\", south: ES}\n")})
	must(t, err)
	defer engine.Close()
	if !reflect.DeepEqual(engine.Zones(), []string{"NO", "ES"}) && !reflect.DeepEqual(engine.Zones(), []string{"ES", "NO"}) {
		t.Fatalf("zones %v", engine.Zones())
	}
	cluster, err := carbonkube.NewCluster()
	must(t, err)
	defer cluster.Close()
	must(t, cluster.ApplyNodeArrays(carbonkube.NodeArrays{
		Names: []string{"a", "b", "c"},
		Labels: []string{"topology.kubernetes.io/region=north,size=big",
			"topology.kubernetes.io/region=south,size=big", "topology.kubernetes.io/region=south"},
		Resources:   []string{"cpu", "memory", "pods"},
		Allocatable: [][]int64{{8000, 8000, 4000}, {32 << 30, 32 << 30, 16 << 30}, {110, 110, 110}},
	}))
	must(t, cluster.ApplyPodArrays(carbonkube.PodArrays{
		Names: []string{"x", "y"}, NodeNames: []string{"a", ""},
		Resources: []string{"cpu", "memory"}, Requests: [][]int64{{1000, 500}, {1 << 30, 1 << 29}},
	}))
	if cluster.NodeCount() != 3 || cluster.PodCount() != 1 {
		t.Fatalf("%d nodes, %d pods counted (want 3, 1: y is pending)", cluster.NodeCount(), cluster.PodCount())
	}
	wantError(t, cluster.ApplyNodeArrays(carbonkube.NodeArrays{Names: []string{"d"}, Labels: []string{"novalue"}}),
		carbonkube.StatusInvalidInput, "novalue")
	wantError(t, cluster.ApplyNodeArrays(carbonkube.NodeArrays{Names: []string{"d"}, Resources: []string{"cpu"}, Allocatable: [][]int64{{1, 2}}}),
		carbonkube.StatusInvalidArgument, "2 values for 1 nodes")

	signals, err := carbonkube.NewSignals()
	must(t, err)
	defer signals.Close()
	const t0 = 1689400000
	must(t, signals.AddPoints("NO", carbonkube.KindAverageLifecycle, []carbonkube.SignalPoint{{t0, 30, false}, {t0 + 3600, 25, false}}))
	must(t, signals.AddPoints("ES", carbonkube.KindAverageLifecycle, []carbonkube.SignalPoint{{t0, 300, false}, {t0 + 3600, 320, true}}))
	wantError(t, signals.AddPoints("ES", carbonkube.KindAverageLifecycle, []carbonkube.SignalPoint{{t0, -1, false}}),
		carbonkube.StatusInvalidInput, "finite and >= 0")
	if signals.ZoneCount() != 2 || signals.NewestTime() != t0+3600 {
		t.Fatalf("%d zones, newest %d", signals.ZoneCount(), signals.NewestTime())
	}
	r, err := signals.Evaluate(engine, "NO", t0+3600)
	must(t, err)
	if !r.Usable || r.GPerKWh != 25 || r.Status != carbonkube.ReadingOK || r.Kind != carbonkube.KindAverageLifecycle {
		t.Errorf("NO reading %+v", r)
	}
	r, err = signals.Evaluate(engine, "XX", t0)
	must(t, err)
	if r.Usable || r.Status != carbonkube.ReadingMissingZone {
		t.Errorf("XX reading %+v (%s)", r, r.Status)
	}

	snap, err := cluster.Publish(engine, &carbonkube.SnapshotOptions{Signals: signals})
	must(t, err)
	defer snap.Close()
	if snap.Time() != t0+3600 {
		t.Errorf("snapshot time %d: At 0 is the newest point", snap.Time())
	}
	if a, _ := snap.FindNode("a"); engine.Zones()[snap.NodeZone(a)] != "NO" {
		t.Errorf("node a in zone %d", snap.NodeZone(a))
	}
	pod, err := carbonkube.NewPod(snap, []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"},
		"spec":{"nodeSelector":{"size":"big"},"containers":[{"name":"c","resources":{"requests":{"cpu":"1","memory":"1Gi"}}}]}}`))
	must(t, err)
	defer pod.Close()
	if pod.Key() != "ns/p" {
		t.Errorf("key %q", pod.Key())
	}
	ctx, err := carbonkube.NewContext(0)
	must(t, err)
	defer ctx.Close()
	var res carbonkube.Result
	must(t, ctx.ScorePod(engine, snap, pod, &res))
	if node, ok := res.SelectedNode(); !ok || snap.NodeName(node) != "a" || res.PodResult.Feasible != 2 {
		t.Errorf("selected %d (%s), %d feasible: the greener big node is a", res.Selected, snap.NodeName(int(res.Selected)), res.PodResult.Feasible)
	}
	c, _ := snap.FindNode("c")
	if res.Nodes[c].State != carbonkube.NodeInfeasible || res.Nodes[c].FailedFilter < 0 ||
		engine.Profiles()[0].FilterPlugins[res.Nodes[c].FailedFilter] != "NodeAffinity" {
		t.Errorf("node c: %+v", res.Nodes[c])
	}
	// The result's buffers are reused by the next cycle.
	nodesBefore, scoresBefore := &res.Nodes[0], &res.Scores[0]
	must(t, ctx.ScorePod(engine, snap, pod, &res))
	if &res.Nodes[0] != nodesBefore || &res.Scores[0] != scoresBefore {
		t.Error("ScorePod reallocated the result's buffers")
	}
	res.SelectedOnly = true
	must(t, ctx.ScorePod(engine, snap, pod, &res))
	if res.Selected < 0 || len(res.Nodes) != 0 {
		t.Errorf("selected-only: %+v", res.PodResult)
	}
	must(t, cluster.RemoveNode("c"))
	must(t, cluster.RemovePod("default/x"))
	if cluster.NodeCount() != 2 || cluster.PodCount() != 0 {
		t.Errorf("%d nodes, %d pods after removal", cluster.NodeCount(), cluster.PodCount())
	}
	if snap.NodeCount() != 3 {
		t.Errorf("the published snapshot changed: %d nodes", snap.NodeCount())
	}
}

func TestReconciler(t *testing.T) {
	engine, err := carbonkube.NewEngine(carbonkube.EngineOptions{})
	must(t, err)
	defer engine.Close()
	qos := engine.QoSProfiles()
	if len(qos) != 3 || qos[0].Name != "green-guaranteed" {
		t.Fatalf("QoS profiles %+v", qos)
	}
	rec, err := carbonkube.NewReconciler(engine, nil)
	must(t, err)
	defer rec.Close()
	if d := carbonkube.DefaultReconcilerOptions(); d.HysteresisGPerKWh != 20 || d.MinDwellSeconds != 900 {
		t.Errorf("defaults %+v", d)
	}
	const t0 = 1689400000
	var dec []carbonkube.ZoneDecision
	dec, err = rec.Reconcile(dec, t0, []carbonkube.ZoneInput{{"NO", 25, true}, {"PL", 700, true}, {"XX", 0, false}})
	must(t, err)
	if dec[0].Reason != carbonkube.DecisionFirstAssignment || dec[0].Profile != 0 || dec[1].Profile != len(qos)-1 ||
		dec[2].Reason != carbonkube.DecisionNoDataUnassigned || dec[2].Profile != -1 {
		t.Fatalf("round 1: %+v", dec)
	}
	if dec[0].Reason.String() != "first-assignment" {
		t.Errorf("reason name %q", dec[0].Reason)
	}
	dec, err = rec.Reconcile(dec, t0+60, []carbonkube.ZoneInput{{"NO", 700, true}})
	must(t, err)
	if dec[0].Reason != carbonkube.DecisionHeldByDwell || dec[0].Changed {
		t.Fatalf("round 2 (within dwell): %+v %s", dec, dec[0].Reason)
	}
	dec, err = rec.Reconcile(dec, t0+2000, []carbonkube.ZoneInput{{"NO", 700, true}})
	must(t, err)
	if dec[0].Reason != carbonkube.DecisionMovedDirtier || !dec[0].Changed || dec[0].Previous != 0 {
		t.Fatalf("round 3: %+v %s", dec, dec[0].Reason)
	}
	_, err = rec.Reconcile(dec, t0+3000, []carbonkube.ZoneInput{{"NO", 1, true}, {"NO", 2, true}})
	wantError(t, err, carbonkube.StatusInvalidInput, "NO")
	dec, err = rec.Reconcile(dec, t0+3000, nil)
	must(t, err)
	if len(dec) != 0 {
		t.Errorf("no zones: %+v", dec)
	}
}
