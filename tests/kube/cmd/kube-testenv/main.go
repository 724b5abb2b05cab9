// kube-testenv: a real Kubernetes control plane on loopback for carbonkube's
// integration tests. One binary, three subcommands:
//
//	kube-testenv etcd --data-dir D [--listen-client URL] [--listen-peer URL]
//	kube-testenv apiserver KUBE-APISERVER-FLAGS...
//	kube-testenv up --dir D [--port P]   certificates, etcd, apiserver, kubeconfigs
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kube-testenv etcd|apiserver|up [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "etcd":
		os.Exit(runEtcd(os.Args[2:]))
	case "apiserver":
		os.Exit(runAPIServer(os.Args[2:]))
	case "up":
		os.Exit(runUp(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "kube-testenv: unknown subcommand %q (etcd, apiserver, up)\n", os.Args[1])
		os.Exit(2)
	}
}
