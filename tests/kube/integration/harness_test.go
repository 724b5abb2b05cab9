// Integration tests of carbonkube-host against a real kube-apiserver + etcd
// (package testenv). The host binary comes from $CARBONKUBE_HOST or -host
// (default build/bin/carbonkube-host); without it every test skips with the
// reason. The kube-testenv binary comes from $KUBE_TESTENV_BIN, else it is
// built here with `go build` (cached in the Go build cache).
package integration

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"carbonkube/tests/kube/testenv"
)

const schedulerName = "katalyst-carbon-scheduler"

var (
	hostFlag     = flag.String("host", "", "carbonkube-host binary (default $CARBONKUBE_HOST, else build/bin/carbonkube-host)")
	keepWorkdirs = flag.Bool("keep", false, "keep every environment's directory (logs, etcd data), not only failed ones")

	repoRoot      string
	hostBinary    string
	hostMissing   string
	testenvBinary string
	testenvErr    error
)

func TestMain(m *testing.M) {
	flag.Parse()
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", ".."))
	hostBinary = *hostFlag
	if hostBinary == "" {
		hostBinary = os.Getenv("CARBONKUBE_HOST")
	}
	if hostBinary == "" {
		hostBinary = filepath.Join(repoRoot, "build", "bin", "carbonkube-host")
	}
	if info, err := os.Stat(hostBinary); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		hostMissing = fmt.Sprintf("carbonkube-host binary not found at %s (build it: cmake --build build --target carbonkube_host_bin; or set CARBONKUBE_HOST / -host)", hostBinary)
		fmt.Fprintln(os.Stderr, "SKIP:", hostMissing)
	} else {
		testenvBinary, testenvErr = buildTestenv()
	}
	os.Exit(m.Run())
}

// buildTestenv returns $KUBE_TESTENV_BIN or builds cmd/kube-testenv into the
// user cache directory (go build relinks only when a dependency changed).
func buildTestenv() (string, error) {
	if path := os.Getenv("KUBE_TESTENV_BIN"); path != "" {
		return path, nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	out := filepath.Join(cache, "carbonkube", "kube-testenv")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	pkg := "k8s.io/component-base/version"
	cmd := exec.Command(goTool, "build", "-o", out, "-ldflags",
		"-X "+pkg+".gitVersion=v1.34.4 -X "+pkg+".gitMajor=1 -X "+pkg+".gitMinor=34 -X "+pkg+".gitTreeState=clean",
		"./cmd/kube-testenv")
	cmd.Dir = filepath.Join(repoRoot, "tests", "kube")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	started := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/kube-testenv: %w", err)
	}
	fmt.Fprintf(os.Stderr, "kube-testenv ready in %.1f s: %s\n", time.Since(started).Seconds(), out)
	return out, nil
}

func requireHost(t *testing.T) {
	t.Helper()
	if hostMissing != "" {
		t.Skip(hostMissing)
	}
	if testenvErr != nil {
		t.Fatalf("kube-testenv: %v", testenvErr)
	}
}

// workdir is a fresh directory kept after a failure (logs, etcd data).
func workdir(t *testing.T, name string) string {
	t.Helper()
	base := os.Getenv("KUBE_TEST_WORKDIR")
	if base == "" {
		base = os.TempDir()
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(base, "carbonkube-kube-"+name+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *keepWorkdirs {
			t.Logf("kept %s (apiserver.log, etcd.log, host-*.log)", dir)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// startEnv starts etcd + kube-apiserver for one test, stopped at its end.
func startEnv(t *testing.T, name string, extraFlags ...string) (*testenv.Env, *kubernetes.Clientset) {
	t.Helper()
	requireHost(t)
	started := time.Now()
	env, err := testenv.Start(testenv.Options{Binary: testenvBinary, Dir: workdir(t, name), ExtraAPIServerFlags: extraFlags})
	if err != nil {
		t.Fatalf("start etcd + kube-apiserver: %v", err)
	}
	t.Cleanup(env.Stop)
	t.Logf("etcd + kube-apiserver ready in %.1f s at %s", time.Since(started).Seconds(), env.APIServer)
	client, err := env.Client()
	if err != nil {
		t.Fatal(err)
	}
	return env, client
}

// ---- the host process ------------------------------------------------------

// Host is one carbonkube-host process.
type Host struct {
	t        *testing.T
	Identity string
	Listen   string
	LogPath  string
	cmd      *exec.Cmd
	done     chan struct{}
}

// zoneFlags are --zones/--signals/--at for the four bundled Electricity Maps
// 2023 zones, evaluated on 2023-07-15 18:00 UTC (as scripts/score-example.sh).
func zoneFlags(t *testing.T, dir string) []string {
	t.Helper()
	zones := filepath.Join(dir, "zones.yaml")
	text := "kind: ZoneMap\nunknownZone: neutral\nregions:\n"
	for _, zone := range testZones {
		text += fmt.Sprintf("  %s: %q\n", zone.Region, zone.Grid)
	}
	if err := os.WriteFile(zones, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--zones", zones, "--at", strconv.FormatInt(evaluationTime.Unix(), 10)}
	for _, zone := range testZones {
		flags = append(flags, "--signals", filepath.Join(repoRoot, "data", "carbon", "electricitymaps", zone.Grid+"_2023_hourly.csv"))
	}
	return flags
}

// startHost runs carbonkube-host with the kubeconfig, a free --listen port,
// the seed's katalyst-carbon-scheduler profile, the four zones' carbon data,
// text logs into dir/host-IDENTITY.log, and extra flags; stopped at test end.
func startHost(t *testing.T, dir, kubeconfig, identity string, extra ...string) *Host {
	t.Helper()
	port, err := testenv.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	h := &Host{t: t, Identity: identity, Listen: fmt.Sprintf("127.0.0.1:%d", port),
		LogPath: filepath.Join(dir, "host-"+identity+".log"), done: make(chan struct{})}
	args := []string{"--kubeconfig", kubeconfig, "--listen", h.Listen, "--identity", identity,
		"--scheduler-name", schedulerName, "--log-format", "text",
		"--scheduler-config", filepath.Join(repoRoot, "examples", "config", "katalyst-carbon-scheduler.yaml")}
	args = append(args, zoneFlags(t, dir)...)
	args = append(args, extra...)
	logFile, err := os.Create(h.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	h.cmd = exec.Command(hostBinary, args...)
	h.cmd.Stdout, h.cmd.Stderr = logFile, logFile
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", hostBinary, err)
	}
	go func() { _ = h.cmd.Wait(); logFile.Close(); close(h.done) }()
	t.Cleanup(func() {
		h.Stop()
		if t.Failed() {
			t.Logf("host %s log tail:\n%s", identity, tail(h.LogPath, 30))
		}
	})
	t.Logf("host %s: %s %s", identity, hostBinary, strings.Join(args, " "))
	h.WaitReady(60 * time.Second)
	return h
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// Exited reports whether the process has ended.
func (h *Host) Exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits (SIGKILL after 10 s).
func (h *Host) Stop() {
	if h.Exited() {
		return
	}
	_ = h.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		_ = h.cmd.Process.Kill()
		<-h.done
	}
}

// Kill ends the process at once (a crashed leader: no Lease release).
func (h *Host) Kill() {
	if !h.Exited() {
		_ = h.cmd.Process.Kill()
		<-h.done
	}
}

// WaitReady waits until /readyz answers 200 (informers synced).
func (h *Host) WaitReady(timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if h.Exited() {
			h.t.Fatalf("host %s exited before /readyz: %v\n%s", h.Identity, h.cmd.ProcessState, tail(h.LogPath, 30))
		}
		response, err := http.Get("http://" + h.Listen + "/readyz")
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	h.t.Fatalf("host %s: /readyz not 200 within %s\n%s", h.Identity, timeout, tail(h.LogPath, 30))
}

// Metrics scrapes /metrics: "name{labels}" (as printed) -> value.
func (h *Host) Metrics() (map[string]float64, error) {
	response, err := http.Get("http://" + h.Listen + "/metrics")
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("/metrics: HTTP %d", response.StatusCode)
	}
	values := map[string]float64{}
	scanner := bufio.NewScanner(response.Body)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 {
			continue
		}
		value, err := strconv.ParseFloat(line[cut+1:], 64)
		if err != nil {
			continue
		}
		values[line[:cut]] = value
	}
	return values, scanner.Err()
}

// Metric is the sum of the samples of name whose labels contain every
// `key="value"` in labels (no labels: every sample of name).
func (h *Host) Metric(name string, labels ...string) float64 {
	h.t.Helper()
	values, err := h.Metrics()
	if err != nil {
		h.t.Fatalf("host %s: %v", h.Identity, err)
	}
	return sumMetric(values, name, labels...)
}

func sumMetric(values map[string]float64, name string, labels ...string) float64 {
	total := 0.0
	for key, value := range values {
		base := key
		if i := strings.IndexByte(key, '{'); i >= 0 {
			base = key[:i]
		}
		if base != name {
			continue
		}
		matches := true
		for _, label := range labels {
			if !strings.Contains(key, label) {
				matches = false
			}
		}
		if matches {
			total += value
		}
	}
	return total
}

// ---- objects -----------------------------------------------------------------

// Zone is a node region mapped to a bundled Electricity Maps grid zone.
type Zone struct {
	Region string
	Grid   string
	// Intensity is the life-cycle gCO2eq/kWh at evaluationTime (from the CSV).
	Intensity float64
}

// evaluationTime: a summer evening, as scripts/score-example.sh.
var evaluationTime = time.Date(2023, 7, 15, 18, 0, 0, 0, time.UTC)

// testZones from greenest to dirtiest at evaluationTime (life-cycle column of
// data/carbon/electricitymaps/*_2023_hourly.csv, 2023-07-15 18:00).
var testZones = []Zone{
	{"eu-north-1", "NO", 25.51},
	{"sa-east-1", "BR", 107.43},
	{"eu-south-2", "ES", 113.62},
	{"us-west-1", "US-CAL-CISO", 221.13},
}

func makeNode(name string, zone Zone, cpu, memory string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname":        name,
			"topology.kubernetes.io/region": zone.Region,
			"topology.kubernetes.io/zone":   zone.Region + "a",
		}},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func makePod(namespace, name, cpu, memory string) *corev1.Pod {
	requests := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory),
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Spec: corev1.PodSpec{
			SchedulerName: schedulerName,
			Containers: []corev1.Container{{
				Name: "work", Image: "registry.k8s.io/pause:3.10",
				Resources: corev1.ResourceRequirements{Requests: requests, Limits: requests},
			}},
		},
	}
}

// parallel runs fn(0..n-1) on workers goroutines and returns the first error.
func parallel(n, workers int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// createNodes creates count nodes spread round-robin over zones (node-00000
// in zones[0], node-00001 in zones[1], ...) and returns them.
func createNodes(t *testing.T, client kubernetes.Interface, count int, zones []Zone, cpu, memory string) []*corev1.Node {
	t.Helper()
	nodes := make([]*corev1.Node, count)
	for i := range nodes {
		nodes[i] = makeNode(fmt.Sprintf("node-%05d", i), zones[i%len(zones)], cpu, memory)
	}
	err := parallel(count, 32, func(i int) error {
		_, err := client.CoreV1().Nodes().Create(context.Background(), nodes[i], metav1.CreateOptions{})
		return err
	})
	if err != nil {
		t.Fatalf("create nodes: %v", err)
	}
	return nodes
}

func createNamespace(t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	_, err := client.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", name, err)
	}
}

func createPods(t *testing.T, client kubernetes.Interface, pods []*corev1.Pod) {
	t.Helper()
	if err := createPodsParallel(client, pods, 32); err != nil {
		t.Fatalf("create pods: %v", err)
	}
}

// createPodsParallel creates pods on workers goroutines.
func createPodsParallel(client kubernetes.Interface, pods []*corev1.Pod, workers int) error {
	return parallel(len(pods), workers, func(i int) error {
		_, err := client.CoreV1().Pods(pods[i].Namespace).Create(context.Background(), pods[i], metav1.CreateOptions{})
		return err
	})
}

// waitFor polls condition every 250 ms until it is true or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, condition func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, status := condition()
		if ok {
			return
		}
		last = status
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s (last: %s)", timeout, what, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// listPods lists a namespace's pods.
func listPods(t *testing.T, client kubernetes.Interface, namespace string) []corev1.Pod {
	t.Helper()
	list, err := client.CoreV1().Pods(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	return list.Items
}

// waitBound waits until every pod named in want (namespace/name) has a node.
func waitBound(t *testing.T, client kubernetes.Interface, namespace string, want map[string]bool, timeout time.Duration) map[string]string {
	t.Helper()
	placement := map[string]string{}
	waitFor(t, timeout, fmt.Sprintf("%d pods bound in %s", len(want), namespace), func() (bool, string) {
		bound := 0
		for _, pod := range listPods(t, client, namespace) {
			if want[pod.Name] && pod.Spec.NodeName != "" {
				placement[pod.Name] = pod.Spec.NodeName
				bound++
			}
		}
		return bound == len(want), fmt.Sprintf("%d/%d bound", bound, len(want))
	})
	return placement
}

// eventsByReason counts a namespace's Events with reason per pod name.
func eventsByReason(t *testing.T, client kubernetes.Interface, namespace, reason string) (map[string]int, []corev1.Event) {
	t.Helper()
	list, err := client.CoreV1().Events(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list events: %v", err)
	}
	counts := map[string]int{}
	var matched []corev1.Event
	for _, event := range list.Items {
		if event.Reason == reason && event.InvolvedObject.Kind == "Pod" {
			count := int(event.Count)
			if event.Series != nil {
				count = int(event.Series.Count)
			}
			if count < 1 {
				count = 1
			}
			counts[event.InvolvedObject.Name] += count
			matched = append(matched, event)
		}
	}
	return counts, matched
}

// assertScheduledOnce checks that each pod in placement has exactly one
// Scheduled Event naming the node it is bound to.
func assertScheduledOnce(t *testing.T, client kubernetes.Interface, namespace string, placement map[string]string) {
	t.Helper()
	var counts map[string]int
	var events []corev1.Event
	// Events are written after the binding: give the last ones a moment.
	waitFor(t, 60*time.Second, "one Scheduled event per bound pod", func() (bool, string) {
		counts, events = eventsByReason(t, client, namespace, "Scheduled")
		missing := 0
		for name := range placement {
			if counts[name] == 0 {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d pods without a Scheduled event", missing)
	})
	for name, count := range counts {
		if count != 1 {
			t.Errorf("pod %s/%s has %d Scheduled events, want 1", namespace, name, count)
		}
	}
	for _, event := range events {
		node := placement[event.InvolvedObject.Name]
		want := fmt.Sprintf("Successfully assigned %s/%s to %s", namespace, event.InvolvedObject.Name, node)
		if event.Message != want {
			t.Errorf("Scheduled event message %q, want %q", event.Message, want)
			break
		}
		if event.ReportingController != schedulerName && event.Source.Component != schedulerName {
			t.Errorf("Scheduled event from %q/%q, want %s", event.ReportingController, event.Source.Component, schedulerName)
			break
		}
	}
}
