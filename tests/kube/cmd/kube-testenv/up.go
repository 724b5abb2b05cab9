package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"carbonkube/tests/kube/testenv"
)

// runUp starts etcd and the apiserver as child processes of this binary,
// prints the kubeconfig paths (and writes them to DIR/env.sh), and keeps
// both running until SIGINT/SIGTERM.
func runUp(args []string) int {
	flags := flag.NewFlagSet("up", flag.ContinueOnError)
	dir := flags.String("dir", "", "working directory (credentials, etcd data, logs, kubeconfigs)")
	port := flags.Int("port", 0, "apiserver HTTPS port on 127.0.0.1 (0: a free one)")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "up: --dir is required")
		return 2
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "up: %v\n", err)
		return 1
	}
	absDir, err := filepath.Abs(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "up: --dir %q: %v\n", *dir, err)
		return 2
	}
	env, err := testenv.Start(testenv.Options{Binary: self, Dir: absDir, APIPort: *port, ExtraAPIServerFlags: flags.Args()})
	if err != nil {
		fmt.Fprintf(os.Stderr, "up: %v\n", err)
		return 1
	}
	defer env.Stop()
	envFile := filepath.Join(absDir, "env.sh")
	text := fmt.Sprintf("export KUBECONFIG=%s\nexport CARBONKUBE_KUBECONFIG_TOKEN=%s\nexport CARBONKUBE_APISERVER=%s\nexport CARBONKUBE_ETCD=%s\n",
		env.KubeconfigCert, env.KubeconfigToken, env.APIServer, env.EtcdURL)
	if err := os.WriteFile(envFile, []byte(text), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "up: %v\n", err)
		return 1
	}
	fmt.Printf("apiserver:  %s\netcd:       %s\nkubeconfig (client certificate): %s\nkubeconfig (bearer token):       %s\nsource %s to use them; Ctrl-C stops both.\n",
		env.APIServer, env.EtcdURL, env.KubeconfigCert, env.KubeconfigToken, envFile)
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	return 0
}
