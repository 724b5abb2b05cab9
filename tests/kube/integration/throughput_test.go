package integration

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestThroughput measures pods bound per second against the real apiserver.
// It runs only when KUBE_BENCH lists NODESxPODS cases, e.g.
//
//	KUBE_BENCH=1000x5000,5000x10000 go test ./integration -run Throughput -v -timeout 90m
//
// Nodes (16 CPU, 64 GiB, four zones; room for every pod) are created first.
// KUBE_BENCH_MODES (default "live") picks how pods (100m / 128Mi) arrive:
//   - live: the host runs while 64 parallel clients create the pods; pods/s is
//     from the first create to the last binding (as scheduler_perf measures a
//     scheduler fed by its own pod creation), and the create rate the
//     apiserver sustained meanwhile bounds it;
//   - precreated: every pod is pending before the host starts; pods/s is from
//     the host's /readyz (informers synced) to the last binding: the host's
//     own rate, apiserver writes (binding + Event) included.
func TestThroughput(t *testing.T) {
	cases := os.Getenv("KUBE_BENCH")
	if cases == "" {
		t.Skip("set KUBE_BENCH=NODESxPODS[,...] (e.g. 1000x5000,5000x10000) to measure pods bound per second")
	}
	modes := os.Getenv("KUBE_BENCH_MODES")
	if modes == "" {
		modes = "live"
	}
	for _, spec := range strings.Split(cases, ",") {
		var nodes, pods int
		if _, err := fmt.Sscanf(spec, "%dx%d", &nodes, &pods); err != nil || nodes <= 0 || pods <= 0 {
			t.Fatalf("KUBE_BENCH case %q: want NODESxPODS, e.g. 5000x10000", spec)
		}
		for _, mode := range strings.Split(modes, ",") {
			if mode != "live" && mode != "precreated" {
				t.Fatalf("KUBE_BENCH_MODES entry %q: want live or precreated", mode)
			}
			t.Run(fmt.Sprintf("nodes=%d/pods=%d/%s", nodes, pods, mode), func(t *testing.T) {
				measureThroughput(t, nodes, pods, mode == "precreated")
			})
		}
	}
}

func measureThroughput(t *testing.T, nodeCount, podCount int, precreate bool) {
	env, client := startEnv(t, "bench", "--max-requests-inflight=2000", "--max-mutating-requests-inflight=1000")
	started := time.Now()
	createNodes(t, client, nodeCount, testZones, "16", "64Gi")
	t.Logf("%d nodes created in %.1f s", nodeCount, time.Since(started).Seconds())
	namespace := "bench"
	createNamespace(t, client, namespace)
	pods := make([]*corev1.Pod, podCount)
	want := map[string]bool{}
	for i := range pods {
		pods[i] = makePod(namespace, "pod-"+strconv.Itoa(i), "100m", "128Mi")
		want[pods[i].Name] = true
	}

	var host *Host
	var start time.Time
	createDone := make(chan error, 1)
	var createTook time.Duration
	if precreate {
		created := time.Now()
		if err := createPodsParallel(client, pods, 64); err != nil {
			t.Fatalf("create pods: %v", err)
		}
		createTook = time.Since(created)
		createDone <- nil
		host = startHost(t, env.Dir(), env.KubeconfigCert, "bench", "--leader-elect=false")
		start = time.Now() // startHost returned at /readyz
	} else {
		host = startHost(t, env.Dir(), env.KubeconfigCert, "bench", "--leader-elect=false")
		start = time.Now()
		go func() {
			err := createPodsParallel(client, pods, 64)
			createTook = time.Since(start)
			createDone <- err
		}()
	}
	deadline := start.Add(30 * time.Minute)
	for {
		bound := host.Metric("carbonkube_host_pods_bound_total")
		if int(bound) >= podCount {
			break
		}
		if time.Now().After(deadline) || host.Exited() {
			t.Fatalf("%v of %d pods bound after %s", bound, podCount, time.Since(start))
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	if err := <-createDone; err != nil {
		t.Fatalf("create pods: %v", err)
	}
	waitBound(t, client, namespace, want, time.Minute)
	mode := "live"
	if precreate {
		mode = "precreated"
	}
	t.Logf("RESULT %s nodes=%d pods=%d bound in %.2f s: %.0f pods/s (pod creates took %.2f s: %.0f pods/s)",
		mode, nodeCount, podCount, elapsed.Seconds(), float64(podCount)/elapsed.Seconds(),
		createTook.Seconds(), float64(podCount)/createTook.Seconds())
	if conflicts := host.Metric("carbonkube_host_binding_conflicts_total"); conflicts != 0 {
		t.Errorf("%v binding conflicts with a single host", conflicts)
	}
}
