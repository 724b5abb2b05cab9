// Command ckscore scores the pending pods of a cluster through carbonkube's C
// ABI, the way a Go kube-scheduler plugin would: one ck_score_pod per
// scheduling cycle (never one call per node), then assume the pod on the
// chosen node and publish a new snapshot before the next pod, like
// kube-scheduler's queue. It is the Go twin of `carbonkube score` (tools/
// cli.cpp) and picks the same nodes for the same inputs and seed.
//
//	ckscore [-nodes F] [-pods F] [-cnrs F] [-zones F] [-signals GLOB] [-at T] [-seed N] [-json] [-explain]
//
// Defaults are the bundled example (examples/cluster, examples/config/
// zones.yaml, data/carbon/electricitymaps/*.csv at 2023-07-15T18:00:00Z),
// relative to the repository root (found from the working directory, or
// given with -repo). Exit status: 0, or 1 on any error (a pod that cannot be
// scored is reported and the others are still scored).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"carbonkube.example/go/carbonkube"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "ckscore: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	repo, nodes, pods, cnrs, zones, signals, format, scope, at, config, qos string
	seed                                                                    uint64
	json, explain                                                           bool
}

// PluginScore is one score plugin's score of the selected node.
type PluginScore struct {
	Plugin string `json:"plugin"`
	Weight int64  `json:"weight"`
	Score  int64  `json:"score"`
}

// Outcome is one pod's scheduling cycle.
type Outcome struct {
	Pod       string        `json:"pod"`
	Profile   string        `json:"profile,omitempty"`
	Selected  *string       `json:"selected"`
	Total     int64         `json:"total"`
	Feasible  uint32        `json:"feasibleNodes"`
	Evaluated uint32        `json:"evaluatedNodes"`
	Scores    []PluginScore `json:"scores,omitempty"`
	Reasons   []string      `json:"reasons,omitempty"` // per infeasible node, when none is selected
	Error     string        `json:"error,omitempty"`
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("ckscore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.repo, "repo", "", "repository root the default paths are relative to (default: found from the working directory)")
	fs.StringVar(&o.nodes, "nodes", "examples/cluster/nodes.json", "Node objects (JSON or YAML, as kubectl prints them)")
	fs.StringVar(&o.pods, "pods", "examples/cluster/pods.yaml", "Pod objects: bound ones count as usage, pending ones are scored in order")
	fs.StringVar(&o.cnrs, "cnrs", "examples/cluster/cnrs.yaml", "Katalyst CustomNodeResources (\"\" for none)")
	fs.StringVar(&o.zones, "zones", "examples/config/zones.yaml", "ZoneMap from node labels to grid zones (\"\" for carbon-neutral)")
	fs.StringVar(&o.signals, "signals", "data/carbon/electricitymaps/*.csv", "carbon signal files (comma-separated globs; \"\" for none)")
	fs.StringVar(&o.format, "signals-format", "auto", "electricitymaps-csv, electricitymaps-json, watttime, uk-carbon-intensity, carbon-aware-sdk, or auto (.csv: Electricity Maps CSV)")
	fs.StringVar(&o.scope, "scope", "lifecycle", "Electricity Maps CSV column: direct or lifecycle")
	fs.StringVar(&o.at, "at", "2023-07-15T18:00:00Z", "RFC 3339 time or unix seconds the intensities are for (\"\": the newest point)")
	fs.StringVar(&o.config, "config", "", "KubeSchedulerConfiguration (default: the seed's katalyst-carbon-scheduler profile)")
	fs.StringVar(&o.qos, "qos", "", "CarbonProfile or Helm values with katalyst.qosProfiles (default: the seed's)")
	fs.Uint64Var(&o.seed, "seed", 0, "seed of the tie-breaking random state")
	fs.BoolVar(&o.json, "json", false, "print JSON {\"results\": [...]} instead of text")
	fs.BoolVar(&o.explain, "explain", false, "print each cycle's explanation (JSON) on stderr")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.scope != "direct" && o.scope != "lifecycle" {
		return nil, fmt.Errorf("-scope %q is not direct or lifecycle", o.scope)
	}
	if o.repo == "" {
		o.repo = findRepo()
	}
	return o, nil
}

// findRepo walks up from the working directory to the directory holding
// capi/carbonkube.h.
func findRepo() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "capi", "carbonkube.h")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return "."
		}
	}
}

func (o *options) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(o.repo, p)
}

func (o *options) readOptional(p string) ([]byte, error) {
	if p == "" {
		return nil, nil
	}
	return os.ReadFile(o.path(p))
}

func parseAt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		return v, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, fmt.Errorf("-at %q: not RFC 3339 or unix seconds", s)
	}
	return t.Unix(), nil
}

func signalFormat(name, path string) (carbonkube.SignalFormat, error) {
	switch name {
	case "auto":
		if strings.HasSuffix(path, ".csv") {
			return carbonkube.ElectricityMapsCSV, nil
		}
		return 0, fmt.Errorf("%s: give -signals-format for files other than .csv", path)
	case "electricitymaps-csv":
		return carbonkube.ElectricityMapsCSV, nil
	case "electricitymaps-json":
		return carbonkube.ElectricityMapsJSON, nil
	case "watttime":
		return carbonkube.WattTimeJSON, nil
	case "uk-carbon-intensity":
		return carbonkube.UKCarbonIntensityJSON, nil
	case "carbon-aware-sdk":
		return carbonkube.CarbonAwareSDKJSON, nil
	}
	return 0, fmt.Errorf("-signals-format %q is unknown", name)
}

func run(args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := carbonkube.CheckVersion(); err != nil {
		return err
	}
	outcomes, header, err := schedule(o, stderr)
	if err != nil {
		return err
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"results": outcomes}); err != nil {
			return err
		}
	} else {
		fmt.Fprint(stdout, header)
		for _, r := range outcomes {
			printOutcome(stdout, r)
		}
	}
	failed := 0
	for _, r := range outcomes {
		if r.Error != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d pods could not be scored", failed, len(outcomes))
	}
	return nil
}

func printOutcome(w io.Writer, r Outcome) {
	if r.Error != "" {
		fmt.Fprintf(w, "%s -> error: %s\n", r.Pod, r.Error)
		return
	}
	if r.Selected == nil {
		fmt.Fprintf(w, "%s -> (none)  feasible %d/%d\n", r.Pod, r.Feasible, r.Evaluated)
		for _, reason := range r.Reasons {
			fmt.Fprintf(w, "    %s\n", reason)
		}
		return
	}
	var b strings.Builder
	for _, s := range r.Scores {
		fmt.Fprintf(&b, " %s=%d", s.Plugin, s.Score)
	}
	fmt.Fprintf(w, "%s -> %s  total %d  feasible %d/%d |%s\n", r.Pod, *r.Selected, r.Total, r.Feasible, r.Evaluated, b.String())
}

// schedule builds the engine, cluster and signals, then runs kube-scheduler's
// queue over the pending pods: score (one C call), assume, republish.
func schedule(o *options, stderr io.Writer) ([]Outcome, string, error) {
	zones, err := o.readOptional(o.zones)
	if err != nil {
		return nil, "", err
	}
	config, err := o.readOptional(o.config)
	if err != nil {
		return nil, "", err
	}
	qos, err := o.readOptional(o.qos)
	if err != nil {
		return nil, "", err
	}
	engine, err := carbonkube.NewEngine(carbonkube.EngineOptions{SchedulerConfig: config, QoSProfiles: qos, ZoneMap: zones})
	if err != nil {
		return nil, "", err
	}
	defer engine.Close()

	signals, err := carbonkube.NewSignals()
	if err != nil {
		return nil, "", err
	}
	defer signals.Close()
	kind := carbonkube.KindAverageLifecycle
	if o.scope == "direct" {
		kind = carbonkube.KindAverageDirect
	}
	var signalFiles []string
	for _, pattern := range strings.Split(o.signals, ",") {
		if pattern = strings.TrimSpace(pattern); pattern == "" {
			continue
		}
		matches, err := filepath.Glob(o.path(pattern))
		if err != nil {
			return nil, "", err
		}
		if len(matches) == 0 {
			return nil, "", fmt.Errorf("-signals %q matches no file", pattern)
		}
		signalFiles = append(signalFiles, matches...)
	}
	for _, f := range signalFiles {
		format, err := signalFormat(o.format, f)
		if err != nil {
			return nil, "", err
		}
		text, err := os.ReadFile(f)
		if err != nil {
			return nil, "", err
		}
		k := kind
		if format != carbonkube.ElectricityMapsCSV {
			k = carbonkube.KindFromData
		}
		if _, err := signals.Load(format, text, f, k); err != nil {
			return nil, "", err
		}
	}
	at, err := parseAt(o.at)
	if err != nil {
		return nil, "", err
	}
	if len(signalFiles) > 0 && at == 0 && signals.NewestTime() == 0 {
		return nil, "", errors.New("the -signals files hold no data points (give -at to say when)")
	}

	cluster, err := carbonkube.NewCluster()
	if err != nil {
		return nil, "", err
	}
	defer cluster.Close()
	// Every object file goes to the cluster (nodes, bound pods, CNRs); the
	// pending pods of each are scored in file order, as the CLI does.
	var texts [][]byte
	var sources []string
	for _, f := range []string{o.nodes, o.pods, o.cnrs} {
		if f == "" {
			continue
		}
		text, err := os.ReadFile(o.path(f))
		if err != nil {
			return nil, "", err
		}
		if _, err := cluster.Apply(text, f); err != nil {
			return nil, "", err
		}
		texts, sources = append(texts, text), append(sources, f)
	}
	if cluster.NodeCount() == 0 {
		return nil, "", errors.New("no Node objects in the input files")
	}

	var opts *carbonkube.SnapshotOptions
	if len(signalFiles) > 0 {
		opts = &carbonkube.SnapshotOptions{Signals: signals, At: at}
	}
	snap, err := cluster.Publish(engine, opts)
	if err != nil {
		return nil, "", err
	}
	defer func() { snap.Close() }()
	// The pending pods, compiled once against the first snapshot (valid for
	// the later ones: assuming adds no resource names).
	var pending []*carbonkube.Pod
	for i, text := range texts {
		list, err := carbonkube.NewPodList(snap, text, sources[i])
		if err != nil {
			return nil, "", err
		}
		defer list.Close()
		pending = append(pending, list.Pods()...)
	}

	var header strings.Builder
	if zs := engine.Zones(); len(zs) > 0 {
		fmt.Fprintf(&header, "carbon at %s:", time.Unix(snap.Time(), 0).UTC().Format(time.RFC3339))
		for z, name := range zs {
			r, err := snap.ZoneReading(z)
			if err != nil {
				return nil, "", err
			}
			if r.Usable {
				fmt.Fprintf(&header, " %s %.2f g/kWh;", name, r.GPerKWh)
			} else {
				fmt.Fprintf(&header, " %s %s;", name, r.Status)
			}
		}
		header.WriteString("\n")
	}

	ctx, err := carbonkube.NewContext(o.seed)
	if err != nil {
		return nil, "", err
	}
	defer ctx.Close()
	profiles := engine.Profiles()
	var res carbonkube.Result // its buffers are allocated once and reused by every cycle
	outcomes := make([]Outcome, 0, len(pending))
	for _, pod := range pending {
		out := Outcome{Pod: pod.Key()}
		// The scheduling cycle: exactly one call into the library.
		if err := ctx.ScorePod(engine, snap, pod, &res); err != nil {
			out.Error = err.Error()
			outcomes = append(outcomes, out)
			fmt.Fprintf(stderr, "ckscore: error: %v\n", err)
			continue
		}
		prof := profiles[res.Profile]
		out.Profile, out.Total, out.Feasible, out.Evaluated = prof.Name, res.Total, res.PodResult.Feasible, res.Processed
		if o.explain {
			if text, err := ctx.Explain(); err == nil {
				fmt.Fprintln(stderr, text)
			} else {
				fmt.Fprintf(stderr, "ckscore: explain: %v\n", err)
			}
		}
		node, ok := res.SelectedNode()
		if !ok {
			// Cold path: why each node failed.
			for i := range res.Nodes {
				if res.Nodes[i].State != carbonkube.NodeInfeasible {
					continue
				}
				reason, err := ctx.NodeReasons(i)
				if err != nil {
					return nil, "", err
				}
				out.Reasons = append(out.Reasons, snap.NodeName(i)+": "+reason)
			}
			outcomes = append(outcomes, out)
			continue
		}
		name := snap.NodeName(node)
		out.Selected = &name
		for p, sp := range prof.ScorePlugins {
			// -1: the plugin did not score this pod (PreScore Skip).
			if v := res.Score(node, p); v >= 0 {
				out.Scores = append(out.Scores, PluginScore{Plugin: sp.Name, Weight: sp.Weight, Score: v})
			}
		}
		outcomes = append(outcomes, out)
		// Assume the pod on its node and publish the next snapshot.
		if err := cluster.Assume(snap, pod, node); err != nil {
			return nil, "", err
		}
		next, err := cluster.Publish(engine, opts)
		if err != nil {
			return nil, "", err
		}
		snap.Close()
		snap = next
	}
	return outcomes, header.String(), nil
}
