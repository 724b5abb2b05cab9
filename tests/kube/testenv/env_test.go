package testenv

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// binary is $KUBE_TESTENV_BIN, else cmd/kube-testenv built into the test's
// temporary directory (the Go build cache makes that a link step).
func binary(t *testing.T) string {
	t.Helper()
	if path := os.Getenv("KUBE_TESTENV_BIN"); path != "" {
		return path
	}
	out := filepath.Join(t.TempDir(), "kube-testenv")
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "build", "-o", out, "../cmd/kube-testenv")
	if output, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build kube-testenv: %v\n%s", err, output)
	}
	return out
}

func clientFor(t *testing.T, kubeconfig string) *kubernetes.Clientset {
	t.Helper()
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("%s: %v", kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// TestEnvironment checks what the host's integration tests rely on: both
// kubeconfigs authenticate as system:masters over verified TLS, anonymous
// requests are refused, a Node keeps the status it was created with, the
// apiserver restarts on the same port with the same data, and (watch cache
// off) a watch from a resourceVersion that etcd compacted away ends in 410 Gone.
func TestEnvironment(t *testing.T) {
	env, err := Start(Options{Binary: binary(t), Dir: t.TempDir(), ExtraAPIServerFlags: []string{"--watch-cache=false"}})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Stop()
	ctx := context.Background()

	for kubeconfig, user := range map[string]string{env.KubeconfigCert: "carbonkube-admin", env.KubeconfigToken: "carbonkube-token-user"} {
		review, err := clientFor(t, kubeconfig).AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("%s: %v", kubeconfig, err)
		}
		info := review.Status.UserInfo
		if info.Username != user || len(info.Groups) == 0 || info.Groups[0] != "system:masters" {
			t.Errorf("%s authenticates as %s %v, want %s in system:masters", kubeconfig, info.Username, info.Groups, user)
		}
	}
	anonymous, err := clientcmd.BuildConfigFromFlags(env.APIServer, "")
	if err != nil {
		t.Fatal(err)
	}
	anonymous.CAFile = env.Creds.CACert
	if _, err := kubernetes.NewForConfigOrDie(anonymous).CoreV1().Nodes().List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("anonymous node list: %v, want 403 Forbidden", err)
	}

	client := clientFor(t, env.KubeconfigCert)
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Status:     corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4")}},
	}
	created, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cpu := created.Status.Allocatable[corev1.ResourceCPU]; cpu.String() != "4" {
		t.Errorf("node allocatable cpu after create: %q, want 4", cpu.String())
	}

	port := env.APIPort
	env.StopAPIServer()
	if err := env.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	if env.APIPort != port {
		t.Errorf("apiserver port changed across restart: %d -> %d", port, env.APIPort)
	}
	if _, err := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{}); err != nil {
		t.Fatalf("node lost across the apiserver restart: %v", err)
	}

	// Compact etcd past the node's resourceVersion: a watch from it gets 410.
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{env.EtcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	for i := 0; i < 2; i++ {
		if _, err := etcd.Put(ctx, "/testenv/bump", "x"); err != nil {
			t.Fatal(err)
		}
	}
	latest, err := etcd.Get(ctx, "/testenv/bump")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := etcd.Compact(ctx, latest.Header.Revision); err != nil {
		t.Fatal(err)
	}
	watcher, err := client.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{ResourceVersion: created.ResourceVersion})
	if err != nil {
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Fatalf("watch from a compacted resourceVersion: %v, want 410", err)
		}
		return
	}
	defer watcher.Stop()
	select {
	case event := <-watcher.ResultChan():
		status, ok := event.Object.(*metav1.Status)
		if event.Type != watch.Error || !ok || status.Code != 410 {
			t.Errorf("watch from a compacted resourceVersion: %s %v, want an ERROR event with code 410", event.Type, event.Object)
		}
	case <-time.After(10 * time.Second):
		t.Error(errors.New("watch from a compacted resourceVersion: no 410 within 10 s"))
	}
}
