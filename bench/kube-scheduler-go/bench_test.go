package kubeschedbench

import (
	"context"
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"

	fwk "k8s.io/kube-scheduler/framework"
)

// CARBONKUBE_BENCH_CLUSTER names the kubectl List written by bench/compare.sh.
func load(tb testing.TB) *Cluster {
	path := os.Getenv("CARBONKUBE_BENCH_CLUSTER")
	if path == "" {
		tb.Skip("set CARBONKUBE_BENCH_CLUSTER to a cluster file (bench/compare.sh)")
	}
	c, err := Load(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	if len(c.Pending) == 0 {
		tb.Fatal("no pending pods in ", path)
	}
	return c
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// report adds CPU time per node-score (the machine is shared, so wall time
// is not the figure to read) next to Go's wall ns/op.
func report(b *testing.B, c *Cluster, cpu0 time.Duration) {
	cpu := cpuTime() - cpu0
	ns := float64(cpu.Nanoseconds())
	scores := float64(b.N) * float64(len(c.Pending)) * float64(len(c.NodeInfos))
	b.ReportMetric(ns/scores, "cpu-ns/node-score")
	b.ReportMetric(ns/(float64(b.N)*float64(len(c.Pending)))/1e3, "cpu-us/pod")
}

// BenchmarkFitBalancedCycle: every pending pod, Fit filter + Fit and
// Balanced scores on every node, per iteration.
func BenchmarkFitBalancedCycle(b *testing.B) {
	c := load(b)
	ctx := context.Background()
	feasible := make([]fwk.NodeInfo, 0, len(c.NodeInfos))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, p := range c.Pending {
			var err error
			if feasible, err = c.Cycle(ctx, p, feasible, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	report(b, c, cpu0)
}

// BenchmarkFitBalancedScoreOnly: PreScore + Score of both plugins on every node.
func BenchmarkFitBalancedScoreOnly(b *testing.B) {
	c := load(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	var sink int64
	for i := 0; i < b.N; i++ {
		for _, p := range c.Pending {
			s, err := c.ScoreOnly(ctx, p)
			if err != nil {
				b.Fatal(err)
			}
			sink += s
		}
	}
	b.StopTimer()
	report(b, c, cpu0)
	if sink < 0 {
		b.Fatal("negative score sum")
	}
}

// TestDumpTotals writes Fit + Balanced per (pending pod, node), -1 where
// Fit's filter rejects the node, as JSON to CARBONKUBE_GO_TOTALS, so that
// compare.sh can check carbonkube computes the same scores.
func TestDumpTotals(t *testing.T) {
	out := os.Getenv("CARBONKUBE_GO_TOTALS")
	if out == "" {
		t.Skip("set CARBONKUBE_GO_TOTALS")
	}
	c := load(t)
	ctx := context.Background()
	feasible := make([]fwk.NodeInfo, 0, len(c.NodeInfos))
	totals := make([][]int64, len(c.Pending))
	for j, p := range c.Pending {
		totals[j] = make([]int64, len(c.NodeInfos))
		var err error
		if feasible, err = c.Cycle(ctx, p, feasible, totals[j]); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(totals)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
