// Package kubeschedbench runs kube-scheduler's own NodeResourcesFit and
// NodeResourcesBalancedAllocation plugins (k8s.io/kubernetes v1.34.4) on a
// cluster written as a kubectl List (Nodes, bound Pods, pending Pods), the
// same file carbonkube and the Python references read (bench/compare.sh).
package kubeschedbench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	v1 "k8s.io/api/core/v1"
	fwk "k8s.io/kube-scheduler/framework"
	"k8s.io/kubernetes/pkg/scheduler/apis/config"
	"k8s.io/kubernetes/pkg/scheduler/backend/cache"
	"k8s.io/kubernetes/pkg/scheduler/framework"
	plfeature "k8s.io/kubernetes/pkg/scheduler/framework/plugins/feature"
	"k8s.io/kubernetes/pkg/scheduler/framework/plugins/noderesources"
	"k8s.io/kubernetes/pkg/scheduler/framework/runtime"
)

// Cluster is the file's objects, the scheduler snapshot built from them,
// and the two plugins with kube-scheduler's default arguments.
type Cluster struct {
	Nodes     []*v1.Node
	Bound     []*v1.Pod
	Pending   []*v1.Pod
	NodeInfos []fwk.NodeInfo
	Fit       *noderesources.Fit
	Balanced  *noderesources.BalancedAllocation
}

// v1.34's defaults: sidecars (GA), pod-level resources (beta, on), in-place resize (beta, on).
var features = plfeature.Features{
	EnableSidecarContainers:         true,
	EnablePodLevelResources:         true,
	EnableInPlacePodVerticalScaling: true,
}

// Load reads a kubectl List JSON file and builds the snapshot and plugins.
func Load(ctx context.Context, path string) (*Cluster, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var list struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &Cluster{}
	for i, raw := range list.Items {
		var head struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return nil, fmt.Errorf("%s: items[%d]: %w", path, i, err)
		}
		switch head.Kind {
		case "Node":
			n := &v1.Node{}
			if err := json.Unmarshal(raw, n); err != nil {
				return nil, fmt.Errorf("%s: items[%d]: %w", path, i, err)
			}
			c.Nodes = append(c.Nodes, n)
		case "Pod":
			p := &v1.Pod{}
			if err := json.Unmarshal(raw, p); err != nil {
				return nil, fmt.Errorf("%s: items[%d]: %w", path, i, err)
			}
			if p.Spec.NodeName != "" {
				c.Bound = append(c.Bound, p)
			} else {
				c.Pending = append(c.Pending, p)
			}
		default:
			return nil, fmt.Errorf("%s: items[%d]: unexpected kind %q", path, i, head.Kind)
		}
	}
	snapshot := cache.NewSnapshot(c.Bound, c.Nodes)
	c.NodeInfos = make([]fwk.NodeInfo, 0, len(c.Nodes))
	for _, n := range c.Nodes { // file order, as carbonkube keeps it
		ni, err := snapshot.Get(n.Name)
		if err != nil {
			return nil, err
		}
		c.NodeInfos = append(c.NodeInfos, ni)
	}
	fh, err := runtime.NewFramework(ctx, nil, nil, runtime.WithSnapshotSharedLister(snapshot))
	if err != nil {
		return nil, err
	}
	fitArgs := &config.NodeResourcesFitArgs{ScoringStrategy: &config.ScoringStrategy{
		Type:      config.LeastAllocated,
		Resources: []config.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}},
	}}
	fit, err := noderesources.NewFit(ctx, fitArgs, fh, features)
	if err != nil {
		return nil, err
	}
	baArgs := &config.NodeResourcesBalancedAllocationArgs{
		Resources: []config.ResourceSpec{{Name: "cpu", Weight: 1}, {Name: "memory", Weight: 1}},
	}
	ba, err := noderesources.NewBalancedAllocation(ctx, baArgs, fh, features)
	if err != nil {
		return nil, err
	}
	c.Fit = fit.(*noderesources.Fit)
	c.Balanced = ba.(*noderesources.BalancedAllocation)
	return c, nil
}

// Cycle runs one pod through Fit's PreFilter and Filter on every node, then
// PreScore and Score of both plugins on the feasible nodes, as one
// kube-scheduler cycle does with these two plugins (sequentially: one core).
// totals (len(nodes)) receives Fit + Balanced per node, -1 if infeasible.
func (c *Cluster) Cycle(ctx context.Context, pod *v1.Pod, feasible []fwk.NodeInfo, totals []int64) ([]fwk.NodeInfo, error) {
	state := framework.NewCycleState()
	if _, st := c.Fit.PreFilter(ctx, state, pod, c.NodeInfos); !st.IsSuccess() {
		return nil, st.AsError()
	}
	feasible = feasible[:0]
	idx := make([]int, 0, len(c.NodeInfos))
	for i, ni := range c.NodeInfos {
		if st := c.Fit.Filter(ctx, state, pod, ni); st.IsSuccess() {
			feasible = append(feasible, ni)
			idx = append(idx, i)
		}
		if totals != nil {
			totals[i] = -1
		}
	}
	if st := c.Fit.PreScore(ctx, state, pod, feasible); !st.IsSuccess() {
		return nil, st.AsError()
	}
	baSkip := false
	if st := c.Balanced.PreScore(ctx, state, pod, feasible); st.Code() == fwk.Skip {
		baSkip = true
	} else if !st.IsSuccess() {
		return nil, st.AsError()
	}
	for k, ni := range feasible {
		f, st := c.Fit.Score(ctx, state, pod, ni)
		if !st.IsSuccess() {
			return nil, st.AsError()
		}
		var b int64
		if !baSkip {
			b, st = c.Balanced.Score(ctx, state, pod, ni)
			if !st.IsSuccess() {
				return nil, st.AsError()
			}
		}
		if totals != nil {
			totals[idx[k]] = f + b
		}
	}
	return feasible, nil
}

// ScoreOnly runs PreScore and Score of both plugins on every node (no
// filter): the per node-score cost alone.
func (c *Cluster) ScoreOnly(ctx context.Context, pod *v1.Pod) (int64, error) {
	state := framework.NewCycleState()
	if st := c.Fit.PreScore(ctx, state, pod, c.NodeInfos); !st.IsSuccess() {
		return 0, st.AsError()
	}
	if st := c.Balanced.PreScore(ctx, state, pod, c.NodeInfos); !st.IsSuccess() {
		return 0, st.AsError()
	}
	var sum int64
	for _, ni := range c.NodeInfos {
		f, _ := c.Fit.Score(ctx, state, pod, ni)
		b, _ := c.Balanced.Score(ctx, state, pod, ni)
		sum += f + b
	}
	return sum, nil
}
