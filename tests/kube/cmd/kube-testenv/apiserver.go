// The kube-apiserver of Kubernetes v1.34, linked from the k8s.io/kubernetes
// module exactly as cmd/kube-apiserver/apiserver.go does: `kube-testenv
// apiserver FLAGS...` takes the real kube-apiserver command line.
package main

import (
	_ "time/tzdata" // CronJob time zones, as the upstream binary

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // --logging-format=json
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics on /metrics
	_ "k8s.io/component-base/metrics/prometheus/version"  // version metric
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func runAPIServer(args []string) int {
	command := app.NewAPIServerCommand()
	command.SetArgs(args)
	return cli.Run(command)
}
