package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestGreenPlacement: 300 nodes in four grid zones whose 2023 intensities
// differ, 2,000 pods for the carbon scheduler, a few pinned to the dirtiest
// zone, one that fits nowhere. Every feasible pod is bound exactly once (one
// Scheduled event, no node over its allocatable), the greenest zone fills
// first and zones hold fewer pods the dirtier they are, the pinned pods land
// in their zone, and the impossible pod stays pending with FailedScheduling.
func TestGreenPlacement(t *testing.T) {
	const (
		nodeCount   = 300 // 75 per zone, 4 CPU / 16 GiB each
		podCount    = 2000
		pinnedCount = 12
		podsPerNode = 8 // 500m / 1 GiB each
	)
	env, client := startEnv(t, "placement")
	dir := env.Dir()
	createNodes(t, client, nodeCount, testZones, "4", "16Gi")
	host := startHost(t, dir, env.KubeconfigCert, "placement")

	namespace := "green"
	createNamespace(t, client, namespace)
	dirtiest := testZones[len(testZones)-1]
	var pods []*corev1.Pod
	want := map[string]bool{}
	for i := 0; i < podCount; i++ {
		pod := makePod(namespace, fmt.Sprintf("pod-%04d", i), "500m", "1Gi")
		pods = append(pods, pod)
		want[pod.Name] = true
	}
	for i := 0; i < pinnedCount; i++ {
		pod := makePod(namespace, fmt.Sprintf("pinned-%02d", i), "500m", "1Gi")
		pod.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: "topology.kubernetes.io/region", Operator: corev1.NodeSelectorOpIn, Values: []string{dirtiest.Region},
				}},
			}}},
		}}
		pods = append(pods, pod)
		want[pod.Name] = true
	}
	impossible := makePod(namespace, "too-big", "64", "1Gi")
	pods = append(pods, impossible)

	started := time.Now()
	createPods(t, client, pods)
	placement := waitBound(t, client, namespace, want, 5*time.Minute)
	t.Logf("%d pods bound in %.1f s", len(placement), time.Since(started).Seconds())

	// Exactly once: one Scheduled event each, the bound counter, no conflicts.
	assertScheduledOnce(t, client, namespace, placement)
	if got := host.Metric("carbonkube_host_pods_bound_total"); int(got) != len(want) {
		t.Errorf("carbonkube_host_pods_bound_total = %v, want %d", got, len(want))
	}
	if got := host.Metric("carbonkube_host_binding_conflicts_total"); got != 0 {
		t.Errorf("carbonkube_host_binding_conflicts_total = %v with a single host, want 0", got)
	}

	// Capacity respected on every node.
	perNode := map[string]int{}
	for _, node := range placement {
		perNode[node]++
	}
	for node, count := range perNode {
		if count > podsPerNode {
			t.Errorf("node %s holds %d pods of 500m/1Gi on 4 CPU, more than %d fit", node, count, podsPerNode)
		}
	}

	// Zones: node name -> zone through the round-robin creation order.
	zoneOfNode := func(node string) int {
		var index int
		fmt.Sscanf(strings.TrimPrefix(node, "node-"), "%d", &index)
		return index % len(testZones)
	}
	perZone := make([]int, len(testZones))
	for name, node := range placement {
		zone := zoneOfNode(node)
		if strings.HasPrefix(name, "pinned-") {
			if testZones[zone].Region != dirtiest.Region {
				t.Errorf("pod %s requires region %s, bound to %s in %s", name, dirtiest.Region, node, testZones[zone].Region)
			}
			continue
		}
		perZone[zone]++
	}
	t.Logf("pods per zone (greenest first): %v", describeZones(perZone))
	capacityPerZone := nodeCount / len(testZones) * podsPerNode
	if perZone[0] != capacityPerZone {
		t.Errorf("greenest zone %s holds %d pods, want it full (%d) before dirtier zones take pods: %v",
			testZones[0].Grid, perZone[0], capacityPerZone, describeZones(perZone))
	}
	for zone := 1; zone < len(testZones); zone++ {
		if perZone[zone] > perZone[zone-1] {
			t.Errorf("zone %s (%.0f g/kWh) holds more pods than greener %s (%.0f g/kWh): %v",
				testZones[zone].Grid, testZones[zone].Intensity, testZones[zone-1].Grid, testZones[zone-1].Intensity, describeZones(perZone))
		}
	}

	// The impossible pod: pending, FailedScheduling event like kube-scheduler's.
	waitFor(t, 60*time.Second, "FailedScheduling event for too-big", func() (bool, string) {
		counts, _ := eventsByReason(t, client, namespace, "FailedScheduling")
		return counts[impossible.Name] > 0, fmt.Sprintf("%v", counts)
	})
	_, failed := eventsByReason(t, client, namespace, "FailedScheduling")
	for _, event := range failed {
		if event.InvolvedObject.Name != impossible.Name {
			t.Errorf("FailedScheduling for feasible pod %s: %s", event.InvolvedObject.Name, event.Message)
			continue
		}
		if event.Type != corev1.EventTypeWarning || !strings.HasPrefix(event.Message, fmt.Sprintf("0/%d nodes are available", nodeCount)) {
			t.Errorf("FailedScheduling event %s %q, want Warning \"0/%d nodes are available: ...\"", event.Type, event.Message, nodeCount)
		}
		if !strings.Contains(event.Message, "Insufficient cpu") {
			t.Errorf("FailedScheduling message %q does not name the reason (Insufficient cpu)", event.Message)
		}
	}
	stillPending, err := client.CoreV1().Pods(namespace).Get(context.Background(), impossible.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if stillPending.Spec.NodeName != "" {
		t.Errorf("pod %s asks for 64 CPUs, yet is bound to %s", impossible.Name, stillPending.Spec.NodeName)
	}
	if got := host.Metric("carbonkube_host_scheduling_attempts_total", `result="unschedulable"`); got < 1 {
		t.Errorf("carbonkube_host_scheduling_attempts_total{result=\"unschedulable\"} = %v, want >= 1", got)
	}
}

func describeZones(perZone []int) string {
	parts := make([]string, len(perZone))
	for i, count := range perZone {
		parts[i] = fmt.Sprintf("%s(%.0f)=%d", testZones[i].Grid, testZones[i].Intensity, count)
	}
	return strings.Join(parts, " ")
}
