package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// podBatch makes count 250m/256Mi pods named prefix-NNNN.
func podBatch(namespace, prefix string, count int) ([]*corev1.Pod, map[string]bool) {
	pods := make([]*corev1.Pod, count)
	names := map[string]bool{}
	for i := range pods {
		pods[i] = makePod(namespace, fmt.Sprintf("%s-%04d", prefix, i), "250m", "256Mi")
		names[pods[i].Name] = true
	}
	return pods, names
}

func merge(into, from map[string]bool) {
	for name := range from {
		into[name] = true
	}
}

// maxEventsLostInOutage: pods whose binding (or whose Event) was in flight
// when the apiserver stopped may be bound without a Scheduled event; the
// host binds one pod at a time, so only a handful can be.
const maxEventsLostInOutage = 10

// assertAtMostOneScheduled checks that no pod got two Scheduled events and
// that at most maxEventsLost bound pods have none.
func assertAtMostOneScheduled(t *testing.T, client kubernetes.Interface, host *Host, namespace string, placement map[string]string, maxEventsLost int) {
	t.Helper()
	counts, _ := eventsByReason(t, client, namespace, "Scheduled")
	missing := 0
	for name := range placement {
		switch {
		case counts[name] > 1:
			t.Errorf("pod %s has %d Scheduled events: bound more than once", name, counts[name])
		case counts[name] == 0:
			missing++
		}
	}
	conflicts := host.Metric("carbonkube_host_binding_conflicts_total")
	if missing > maxEventsLost {
		t.Errorf("%d bound pods have no Scheduled event (at most %d may lose it in the outage)", missing, maxEventsLost)
	}
	t.Logf("%d pods bound, %d without a Scheduled event, %v binding conflicts (409)", len(placement), missing, conflicts)
}

// TestAPIServerRestart: the apiserver is stopped mid-run and started again on
// the same port and etcd data while the host is binding. Pods created before
// and after the outage are all bound, none gets two Scheduled events, the
// bound counter matches, and the host stays up.
func TestAPIServerRestart(t *testing.T) {
	env, client := startEnv(t, "restart")
	createNodes(t, client, 40, testZones, "8", "32Gi")
	// Without leader election: an outage longer than the renew deadline
	// would (rightly) cost the lease, which TestLeaderElection covers.
	host := startHost(t, env.Dir(), env.KubeconfigToken, "restart", "--leader-elect=false")
	namespace := "restart"
	createNamespace(t, client, namespace)

	first, want := podBatch(namespace, "before", 300)
	createPods(t, client, first)
	// Stop the apiserver while the host is still binding the first batch.
	waitFor(t, 60*time.Second, "the host to start binding", func() (bool, string) {
		bound := host.Metric("carbonkube_host_pods_bound_total")
		return bound >= 20, fmt.Sprintf("%v bound", bound)
	})
	boundBefore := host.Metric("carbonkube_host_pods_bound_total")
	env.StopAPIServer()
	t.Logf("apiserver stopped with %v of 300 pods bound", boundBefore)
	time.Sleep(3 * time.Second)
	if host.Exited() {
		t.Fatalf("host exited while the apiserver was down:\n%s", tail(host.LogPath, 30))
	}
	if err := env.StartAPIServer(); err != nil {
		t.Fatal(err)
	}

	second, names := podBatch(namespace, "after", 200)
	merge(want, names)
	createPods(t, client, second)
	placement := waitBound(t, client, namespace, want, 3*time.Minute)
	if host.Exited() {
		t.Fatalf("host exited:\n%s", tail(host.LogPath, 30))
	}
	assertAtMostOneScheduled(t, client, host, namespace, placement, maxEventsLostInOutage)
	bound := host.Metric("carbonkube_host_pods_bound_total")
	conflicts := host.Metric("carbonkube_host_binding_conflicts_total")
	if int(bound) > len(want) || int(bound) < len(want)-maxEventsLostInOutage {
		t.Errorf("carbonkube_host_pods_bound_total = %v (%v conflicts) for %d pods", bound, conflicts, len(want))
	}
}

// TestWatchExpired: the apiserver runs without its watch cache, so a watch
// resumed from a compacted resourceVersion gets 410 Gone from etcd. The
// host's watches are cut (apiserver restart) after etcd was compacted past
// their resourceVersion: the host must relist (informer relists grow) and
// go on binding new pods.
func TestWatchExpired(t *testing.T) {
	env, client := startEnv(t, "watch410", "--watch-cache=false")
	createNodes(t, client, 12, testZones, "8", "32Gi")
	host := startHost(t, env.Dir(), env.KubeconfigCert, "watch410", "--leader-elect=false")
	namespace := "expire"
	createNamespace(t, client, namespace)
	first, want := podBatch(namespace, "before", 40)
	createPods(t, client, first)
	waitBound(t, client, namespace, want, 2*time.Minute)
	relistsBefore := host.Metric("carbonkube_host_informer_relists_total")

	// Move etcd's revision past everything the host has seen, then compact.
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{env.EtcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := etcd.Put(ctx, fmt.Sprintf("/carbonkube-test/bump-%d", i), "x"); err != nil {
			t.Fatal(err)
		}
	}
	env.StopAPIServer()
	status, err := etcd.Get(ctx, "/carbonkube-test/bump-0")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := etcd.Compact(ctx, status.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compact etcd at revision %d: %v", status.Header.Revision, err)
	}
	t.Logf("etcd compacted at revision %d", status.Header.Revision)
	if err := env.StartAPIServer(); err != nil {
		t.Fatal(err)
	}

	waitFor(t, 90*time.Second, "the host to relist after 410 Gone", func() (bool, string) {
		relists := host.Metric("carbonkube_host_informer_relists_total")
		return relists > relistsBefore, fmt.Sprintf("relists %v (before %v)", relists, relistsBefore)
	})
	second, names := podBatch(namespace, "after", 40)
	merge(want, names)
	createPods(t, client, second)
	placement := waitBound(t, client, namespace, want, 2*time.Minute)
	assertAtMostOneScheduled(t, client, host, namespace, placement, 0)
	t.Logf("relists: nodes %v, pods %v",
		host.Metric("carbonkube_host_informer_relists_total", `resource="nodes"`),
		host.Metric("carbonkube_host_informer_relists_total", `resource="pods"`))
}
