package integration

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSchedulingGates: a pod with spec.schedulingGates stays unbound (no
// Scheduled and no FailedScheduling event) while an ungated twin is bound;
// once the gate is removed it is bound.
func TestSchedulingGates(t *testing.T) {
	env, client := startEnv(t, "gates")
	createNodes(t, client, 4, testZones, "8", "32Gi")
	startHost(t, env.Dir(), env.KubeconfigCert, "gates")
	namespace := "gates"
	createNamespace(t, client, namespace)
	gated := makePod(namespace, "gated", "250m", "256Mi")
	gated.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "carbon-kube.io/carbon-window"}}
	control := makePod(namespace, "control", "250m", "256Mi")
	createPods(t, client, []*corev1.Pod{gated, control})

	waitBound(t, client, namespace, map[string]bool{"control": true}, time.Minute)
	time.Sleep(5 * time.Second) // the host has had every chance to bind it
	pod, err := client.CoreV1().Pods(namespace).Get(context.Background(), "gated", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pod.Spec.NodeName != "" {
		t.Fatalf("gated pod bound to %s while its scheduling gate is on", pod.Spec.NodeName)
	}
	for _, reason := range []string{"Scheduled", "FailedScheduling"} {
		if counts, _ := eventsByReason(t, client, namespace, reason); counts["gated"] != 0 {
			t.Errorf("gated pod has a %s event while gated", reason)
		}
	}

	pod.Spec.SchedulingGates = nil
	if _, err := client.CoreV1().Pods(namespace).Update(context.Background(), pod, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("remove the scheduling gate: %v", err)
	}
	placement := waitBound(t, client, namespace, map[string]bool{"control": true, "gated": true}, time.Minute)
	assertScheduledOnce(t, client, namespace, placement)
}
