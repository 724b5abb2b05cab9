package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	extenderv1 "k8s.io/kube-scheduler/extender/v1"
)

// postJSON sends body as kube-scheduler's HTTPExtender does and decodes the reply into out.
func postJSON(t *testing.T, url string, body any, out any) {
	t.Helper()
	payload, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.Post(url, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer response.Body.Close()
	data, _ := io.ReadAll(response.Body)
	if response.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: HTTP %d: %s", url, response.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		t.Fatalf("POST %s: reply is not the extender's JSON: %v: %s", url, err, data)
	}
}

func filterNames(result extenderv1.ExtenderFilterResult) []string {
	var names []string
	if result.NodeNames != nil {
		names = append(names, *result.NodeNames...)
	}
	if result.Nodes != nil {
		for _, node := range result.Nodes.Items {
			names = append(names, node.Name)
		}
	}
	sort.Strings(names)
	return names
}

// TestExtender drives /filter and /prioritize with real ExtenderArgs built from
// k8s.io/kube-scheduler/extender/v1, with full nodes and with node names
// (nodeCacheCapable). Nodes too small for the pod are filtered out with a
// reason, scores are within 0..10, greener zones score higher, both payload
// forms agree, and the node the same host's scheduler mode binds the pod to is
// among the extender's best.
func TestExtender(t *testing.T) {
	env, client := startEnv(t, "extender")
	createNodes(t, client, 8, testZones, "4", "16Gi")
	for i := 0; i < 4; i++ {
		node := makeNode(fmt.Sprintf("small-%d", i), testZones[0], "1", "2Gi")
		if _, err := client.CoreV1().Nodes().Create(context.Background(), node, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	host := startHost(t, env.Dir(), env.KubeconfigCert, "extender", "--modes", "scheduler,extender")
	base := "http://" + host.Listen
	nodeList, err := client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var allNames []string
	zoneOf := map[string]int{}
	for _, node := range nodeList.Items {
		allNames = append(allNames, node.Name)
		for i, zone := range testZones {
			if node.Labels["topology.kubernetes.io/region"] == zone.Region {
				zoneOf[node.Name] = i
			}
		}
	}
	namespace := "extender"
	createNamespace(t, client, namespace)
	pod := makePod(namespace, "web", "2", "1Gi")
	pod.UID = "00000000-0000-0000-0000-000000000001"

	// Filter, without and with nodeCacheCapable.
	var full, cached extenderv1.ExtenderFilterResult
	postJSON(t, base+"/filter", extenderv1.ExtenderArgs{Pod: pod, Nodes: nodeList}, &full)
	postJSON(t, base+"/filter", extenderv1.ExtenderArgs{Pod: pod, NodeNames: &allNames}, &cached)
	for name, result := range map[string]extenderv1.ExtenderFilterResult{"full nodes": full, "node names": cached} {
		if result.Error != "" {
			t.Fatalf("/filter (%s): error %q", name, result.Error)
		}
		passed := filterNames(result)
		if len(passed) != 8 || strings.Contains(strings.Join(passed, ","), "small") {
			t.Errorf("/filter (%s) passed %v, want the 8 nodes with 4 CPUs", name, passed)
		}
		for i := 0; i < 4; i++ {
			small := fmt.Sprintf("small-%d", i)
			reason := result.FailedNodes[small] + result.FailedAndUnresolvableNodes[small]
			if !strings.Contains(reason, "Insufficient cpu") {
				t.Errorf("/filter (%s): %s failed with %q, want Insufficient cpu", name, small, reason)
			}
		}
	}
	if full.Nodes == nil || full.NodeNames != nil && len(*full.NodeNames) > 0 {
		t.Errorf("/filter with full nodes must answer Nodes (not NodeNames), as kube-scheduler reads it")
	}
	if cached.NodeNames == nil {
		t.Errorf("/filter with node names (nodeCacheCapable) must answer NodeNames")
	}

	// Prioritize the survivors.
	passed := filterNames(cached)
	var survivors corev1.NodeList
	for _, node := range nodeList.Items {
		for _, name := range passed {
			if node.Name == name {
				survivors.Items = append(survivors.Items, node)
			}
		}
	}
	var fullScores, cachedScores extenderv1.HostPriorityList
	postJSON(t, base+"/prioritize", extenderv1.ExtenderArgs{Pod: pod, Nodes: &survivors}, &fullScores)
	postJSON(t, base+"/prioritize", extenderv1.ExtenderArgs{Pod: pod, NodeNames: &passed}, &cachedScores)
	scores := map[string]int64{}
	for _, priority := range fullScores {
		scores[priority.Host] = priority.Score
		if priority.Score < 0 || priority.Score > 10 {
			t.Errorf("/prioritize: %s scored %d, outside 0..10", priority.Host, priority.Score)
		}
	}
	if len(scores) != len(passed) {
		t.Errorf("/prioritize scored %d nodes, sent %d", len(scores), len(passed))
	}
	for _, priority := range cachedScores {
		if scores[priority.Host] != priority.Score {
			t.Errorf("/prioritize: %s scores %d with node names, %d with full nodes", priority.Host, priority.Score, scores[priority.Host])
		}
	}
	best := int64(-1)
	for _, score := range scores {
		if score > best {
			best = score
		}
	}
	for host, score := range scores {
		for other, otherScore := range scores {
			if zoneOf[host] < zoneOf[other] && score < otherScore {
				t.Errorf("%s in %s scores %d, below %s in dirtier %s (%d)", host, testZones[zoneOf[host]].Grid, score,
					other, testZones[zoneOf[other]].Grid, otherScore)
			}
		}
	}
	t.Logf("scores: %v", scores)

	// The scheduler mode picks one of the extender's best nodes.
	pod.UID = ""
	createPods(t, client, []*corev1.Pod{pod})
	placement := waitBound(t, client, namespace, map[string]bool{"web": true}, time.Minute)
	if scores[placement["web"]] != best {
		t.Errorf("scheduler mode bound web to %s (extender score %d), extender's best score is %d: %v",
			placement["web"], scores[placement["web"]], best, scores)
	}

	// A payload that is not ExtenderArgs: a clear error, and the host lives on.
	response, err := http.Post(base+"/filter", "application/json", strings.NewReader(`{"Pod": 42}`))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(response.Body)
	response.Body.Close()
	var bad extenderv1.ExtenderFilterResult
	_ = json.Unmarshal(data, &bad)
	if response.StatusCode == http.StatusOK && bad.Error == "" {
		t.Errorf("/filter with a bad payload answered 200 without an error: %s", data)
	}
	if host.Exited() {
		t.Fatalf("host exited after a bad extender payload")
	}
}
