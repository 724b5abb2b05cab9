package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func leaseHolder(t *testing.T, client kubernetes.Interface) string {
	t.Helper()
	lease, err := client.CoordinationV1().Leases("kube-system").Get(context.Background(), "carbonkube-host", metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// TestLeaderElection: two replicas share a Lease. Exactly one leads (the
// Lease names it, only its carbonkube_host_leader is 1), every pod is bound
// once with no 409 between the replicas, and when the leader is killed
// (no release) the other takes over within the lease duration plus a retry
// period and binds the pods created meanwhile.
func TestLeaderElection(t *testing.T) {
	env, client := startEnv(t, "leader")
	createNodes(t, client, 20, testZones, "8", "32Gi")
	election := []string{"--leader-elect=true", "--lease-duration", "15s", "--renew-deadline", "10s", "--retry-period", "2s"}
	replicas := map[string]*Host{
		"replica-a": startHost(t, env.Dir(), env.KubeconfigCert, "replica-a", election...),
		"replica-b": startHost(t, env.Dir(), env.KubeconfigToken, "replica-b", election...),
	}
	var leader, follower *Host
	waitFor(t, 30*time.Second, "a Lease holder", func() (bool, string) {
		holder := leaseHolder(t, client)
		leader = replicas[holder]
		return leader != nil, fmt.Sprintf("holder %q", holder)
	})
	for id, host := range replicas {
		if host != leader {
			follower = host
		}
		want := 0.0
		if host == leader {
			want = 1
		}
		waitFor(t, 10*time.Second, id+"'s carbonkube_host_leader", func() (bool, string) {
			got := host.Metric("carbonkube_host_leader")
			return got == want, fmt.Sprintf("%v, want %v", got, want)
		})
	}
	t.Logf("leader %s, follower %s", leader.Identity, follower.Identity)

	namespace := "leader"
	createNamespace(t, client, namespace)
	first, want := podBatch(namespace, "first", 200)
	createPods(t, client, first)
	placement := waitBound(t, client, namespace, want, 2*time.Minute)
	assertScheduledOnce(t, client, namespace, placement)
	if got := follower.Metric("carbonkube_host_pods_bound_total"); got != 0 {
		t.Errorf("follower %s bound %v pods", follower.Identity, got)
	}
	if got := leader.Metric("carbonkube_host_pods_bound_total"); int(got) != len(want) {
		t.Errorf("leader %s: carbonkube_host_pods_bound_total = %v, want %d", leader.Identity, got, len(want))
	}
	for _, host := range replicas {
		if got := host.Metric("carbonkube_host_binding_conflicts_total"); got != 0 {
			t.Errorf("%s: %v binding conflicts: both replicas tried to bind", host.Identity, got)
		}
	}

	// Failover: kill the leader without releasing the Lease.
	killed := time.Now()
	leader.Kill()
	second, names := podBatch(namespace, "second", 100)
	createPods(t, client, second)
	waitFor(t, 40*time.Second, "the follower to take the Lease", func() (bool, string) {
		holder := leaseHolder(t, client)
		return holder == follower.Identity, fmt.Sprintf("holder %q", holder)
	})
	failover := time.Since(killed)
	t.Logf("failover to %s in %.1f s", follower.Identity, failover.Seconds())
	if failover > 25*time.Second {
		t.Errorf("failover took %.1f s; lease 15 s + retry 2 s should give under ~20 s", failover.Seconds())
	}
	merge(want, names)
	placement = waitBound(t, client, namespace, want, 2*time.Minute)
	assertScheduledOnce(t, client, namespace, placement)
	if got := follower.Metric("carbonkube_host_leader"); got != 1 {
		t.Errorf("new leader %s reports carbonkube_host_leader %v", follower.Identity, got)
	}
	if got := follower.Metric("carbonkube_host_pods_bound_total"); int(got) != len(names) {
		t.Errorf("new leader bound %v pods, want the %d created after the failover", got, len(names))
	}
	if got := follower.Metric("carbonkube_host_binding_conflicts_total"); got != 0 {
		t.Errorf("new leader: %v binding conflicts", got)
	}
}
