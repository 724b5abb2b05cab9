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
//	KUBE_BENCH=1000x5000,5000x10000 go test ./integration -run Throughput -v -timeout 60m
//
// Nodes (16 CPU, 64 GiB, four zones) are created first; the host is then
// started; pods (100m / 128Mi, room for all of them) are created by 64
// parallel clients while the host binds. Reported: pods/s from the first pod
// create to the last binding (the scheduler_perf-like figure) and the create
// rate the apiserver sustained, which bounds it.
func TestThroughput(t *testing.T) {
	cases := os.Getenv("KUBE_BENCH")
	if cases == "" {
		t.Skip("set KUBE_BENCH=NODESxPODS[,...] (e.g. 1000x5000,5000x10000) to measure pods bound per second")
	}
	for _, spec := range strings.Split(cases, ",") {
		var nodes, pods int
		if _, err := fmt.Sscanf(spec, "%dx%d", &nodes, &pods); err != nil || nodes <= 0 || pods <= 0 {
			t.Fatalf("KUBE_BENCH case %q: want NODESxPODS, e.g. 5000x10000", spec)
		}
		t.Run(fmt.Sprintf("nodes=%d/pods=%d", nodes, pods), func(t *testing.T) { measureThroughput(t, nodes, pods) })
	}
}

func measureThroughput(t *testing.T, nodeCount, podCount int) {
	env, client := startEnv(t, "bench", "--max-requests-inflight=2000", "--max-mutating-requests-inflight=1000")
	started := time.Now()
	createNodes(t, client, nodeCount, testZones, "16", "64Gi")
	t.Logf("%d nodes created in %.1f s", nodeCount, time.Since(started).Seconds())
	host := startHost(t, env.Dir(), env.KubeconfigCert, "bench", "--leader-elect=false")
	namespace := "bench"
	createNamespace(t, client, namespace)
	pods := make([]*corev1.Pod, podCount)
	for i := range pods {
		pods[i] = makePod(namespace, "pod-"+strconv.Itoa(i), "100m", "128Mi")
	}

	start := time.Now()
	createDone := make(chan error, 1)
	var createTook time.Duration
	go func() {
		err := createPodsParallel(client, pods, 64)
		createTook = time.Since(start)
		createDone <- err
	}()
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
	want := map[string]bool{}
	for _, pod := range pods {
		want[pod.Name] = true
	}
	waitBound(t, client, namespace, want, time.Minute)
	rate := float64(podCount) / elapsed.Seconds()
	t.Logf("RESULT nodes=%d pods=%d bound in %.2f s: %.0f pods/s (creates took %.2f s: %.0f pods/s)",
		nodeCount, podCount, elapsed.Seconds(), rate, createTook.Seconds(), float64(podCount)/createTook.Seconds())
	if conflicts := host.Metric("carbonkube_host_binding_conflicts_total"); conflicts != 0 {
		t.Errorf("%v binding conflicts with a single host", conflicts)
	}
}
