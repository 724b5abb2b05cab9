package testenv

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Options shape one environment.
type Options struct {
	Binary string // the kube-testenv binary (see BuildBinary)
	Dir    string // working directory: credentials, etcd data, logs, kubeconfigs
	// APIPort is the apiserver's HTTPS port on 127.0.0.1 (0: a free one).
	APIPort int
	// ExtraAPIServerFlags are appended to the apiserver's command line,
	// e.g. --watch-cache=false.
	ExtraAPIServerFlags []string
}

// Env is a running etcd + kube-apiserver pair on loopback.
type Env struct {
	opts      Options
	Creds     *Credentials
	EtcdURL   string
	APIServer string // https://127.0.0.1:PORT
	APIPort   int
	// KubeconfigCert authenticates with the system:masters client certificate,
	// KubeconfigToken with the static bearer token.
	KubeconfigCert  string
	KubeconfigToken string

	etcd      *exec.Cmd
	apiserver *exec.Cmd
}

// FreePort asks the kernel for a free TCP port on 127.0.0.1.
func FreePort() (int, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port, nil
}

func startLogged(dir, name string, args ...string) (*exec.Cmd, error) {
	logFile, err := os.OpenFile(filepath.Join(dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	// Its own process group, so that stopping it also stops nothing else and
	// a test's Ctrl-C does not reach it before the test's cleanup does.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	go func() { _ = cmd.Wait(); logFile.Close() }()
	return cmd, nil
}

func stopProcess(cmd *exec.Cmd, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if cmd.ProcessState != nil || syscall.Kill(cmd.Process.Pid, 0) != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	time.Sleep(100 * time.Millisecond)
}

// Start generates credentials, starts etcd and the apiserver and waits until
// the apiserver's /readyz answers 200.
func Start(opts Options) (*Env, error) {
	if opts.Binary == "" {
		return nil, fmt.Errorf("testenv: Options.Binary (the kube-testenv binary) is empty")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	creds, err := GenerateCredentials(filepath.Join(opts.Dir, "pki"))
	if err != nil {
		return nil, err
	}
	env := &Env{opts: opts, Creds: creds}
	clientPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	peerPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	env.APIPort = opts.APIPort
	if env.APIPort == 0 {
		if env.APIPort, err = FreePort(); err != nil {
			return nil, err
		}
	}
	env.EtcdURL = fmt.Sprintf("http://127.0.0.1:%d", clientPort)
	env.APIServer = fmt.Sprintf("https://127.0.0.1:%d", env.APIPort)
	env.KubeconfigCert = filepath.Join(opts.Dir, "admin-cert.kubeconfig")
	env.KubeconfigToken = filepath.Join(opts.Dir, "admin-token.kubeconfig")
	if err := WriteKubeconfig(env.KubeconfigCert, env.APIServer, creds, ""); err != nil {
		return nil, err
	}
	if err := WriteKubeconfig(env.KubeconfigToken, env.APIServer, creds, creds.Token); err != nil {
		return nil, err
	}

	env.etcd, err = startLogged(opts.Dir, "etcd", opts.Binary, "etcd",
		"--data-dir", filepath.Join(opts.Dir, "etcd-data"),
		"--listen-client", env.EtcdURL,
		"--listen-peer", fmt.Sprintf("http://127.0.0.1:%d", peerPort))
	if err != nil {
		return nil, fmt.Errorf("start etcd: %w", err)
	}
	if err := waitTCP(fmt.Sprintf("127.0.0.1:%d", clientPort), 60*time.Second); err != nil {
		env.Stop()
		return nil, fmt.Errorf("etcd did not listen (see %s/etcd.log): %w", opts.Dir, err)
	}
	if err := env.StartAPIServer(); err != nil {
		env.Stop()
		return nil, err
	}
	return env, nil
}

func waitTCP(address string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", address, time.Second)
		if err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// APIServerFlags is the apiserver's command line for this environment.
func (e *Env) APIServerFlags() []string {
	flags := []string{
		"--etcd-servers=" + e.EtcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(e.APIPort),
		"--tls-cert-file=" + e.Creds.ServingCert,
		"--tls-private-key-file=" + e.Creds.ServingKey,
		"--client-ca-file=" + e.Creds.CACert,
		"--token-auth-file=" + e.Creds.TokenFile,
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + e.Creds.ServicePubKey,
		"--service-account-signing-key-file=" + e.Creds.ServiceKey,
		"--service-cluster-ip-range=10.96.0.0/16",
		// No controller-manager runs, so no namespace gets its "default"
		// ServiceAccount: the admission plugin that requires one is off, as in
		// Kubernetes' own integration framework. No node lifecycle controller
		// either, so TaintNodesByCondition's node.kubernetes.io/not-ready taint
		// would never be lifted and no scheduler could place a pod.
		"--disable-admission-plugins=ServiceAccount,TaintNodesByCondition",
		// The "kubernetes" Service's endpoints may not be a loopback address.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
		"--v=0",
	}
	return append(flags, e.opts.ExtraAPIServerFlags...)
}

// StartAPIServer starts the apiserver (again) on the same port and etcd and
// waits for /readyz.
func (e *Env) StartAPIServer() error {
	args := append([]string{e.opts.Binary, "apiserver"}, e.APIServerFlags()...)
	cmd, err := startLogged(e.opts.Dir, "apiserver", args...)
	if err != nil {
		return fmt.Errorf("start apiserver: %w", err)
	}
	e.apiserver = cmd
	if err := e.WaitReady(180 * time.Second); err != nil {
		return fmt.Errorf("apiserver not ready (see %s/apiserver.log): %w", e.opts.Dir, err)
	}
	return nil
}

// StopAPIServer stops the apiserver (SIGTERM, then SIGKILL) and leaves etcd up.
func (e *Env) StopAPIServer() {
	stopProcess(e.apiserver, 5*time.Second)
	e.apiserver = nil
}

// Stop stops the apiserver and etcd.
func (e *Env) Stop() {
	e.StopAPIServer()
	stopProcess(e.etcd, 10*time.Second)
	e.etcd = nil
}

// WaitReady polls /readyz with the client certificate until it answers 200.
func (e *Env) WaitReady(timeout time.Duration) error {
	client, err := e.httpClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for ctx.Err() == nil {
		request, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.APIServer+"/readyz", nil)
		response, err := client.Do(request)
		if err == nil {
			response.Body.Close()
			if response.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("/readyz: HTTP %d", response.StatusCode)
		} else {
			last = err
		}
		if e.apiserver != nil && e.apiserver.ProcessState != nil {
			return fmt.Errorf("apiserver exited: %v", e.apiserver.ProcessState)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%v (last: %v)", ctx.Err(), last)
}

func (e *Env) httpClient() (*http.Client, error) {
	caPEM, err := os.ReadFile(e.Creds.CACert)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	cert, err := tls.LoadX509KeyPair(e.Creds.ClientCert, e.Creds.ClientKey)
	if err != nil {
		return nil, err
	}
	return &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}},
	}, nil
}

// RESTConfig is a client-go config from the client-certificate kubeconfig,
// with the given client-side rate limits.
func (e *Env) RESTConfig(qps float32, burst int) (*rest.Config, error) {
	config, err := clientcmd.BuildConfigFromFlags("", e.KubeconfigCert)
	if err != nil {
		return nil, err
	}
	config.QPS = qps
	config.Burst = burst
	return config, nil
}

// Client is a clientset with high client-side limits (tests create
// thousands of objects).
func (e *Env) Client() (*kubernetes.Clientset, error) {
	config, err := e.RESTConfig(5000, 10000)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(config)
}

// Dir is the environment's working directory.
func (e *Env) Dir() string { return e.opts.Dir }
