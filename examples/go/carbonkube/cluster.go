package carbonkube

/*
#include <stdlib.h>
#include "carbonkube.h"

static ck_node_arrays ckgo_node_arrays_init(void) {
  ck_node_arrays a = CK_NODE_ARRAYS_INIT;
  return a;
}
static ck_pod_arrays ckgo_pod_arrays_init(void) {
  ck_pod_arrays a = CK_POD_ARRAYS_INIT;
  return a;
}
static ck_snapshot_options ckgo_snapshot_options_init(void) {
  ck_snapshot_options o = CK_SNAPSHOT_OPTIONS_INIT;
  return o;
}
*/
import "C"

import (
	"unsafe"
)

// Cluster is the single-writer state that Node, Pod and CustomNodeResource
// events update. One goroutine at a time; snapshots it published are
// independent of it.
type Cluster struct {
	h *C.ck_cluster
}

// ApplyCounts says what Cluster.Apply upserted.
type ApplyCounts struct {
	Nodes    int // Node objects
	Pods     int // Pod objects (pending ones are not usage)
	Topology int // CustomNodeResource objects
	Skipped  int // objects of other kinds
}

// NewCluster creates an empty cluster (ck_cluster_create).
func NewCluster() (*Cluster, error) {
	var h *C.ck_cluster
	if err := locked("ck_cluster_create", func() C.ck_status { return C.ck_cluster_create(&h) }); err != nil {
		return nil, err
	}
	return &Cluster{h: h}, nil
}

// Close frees the cluster (ck_cluster_free). Idempotent.
func (c *Cluster) Close() {
	if c != nil && c.h != nil {
		C.ck_cluster_free(c.h)
		c.h = nil
	}
}

func (c *Cluster) handle() *C.ck_cluster {
	if c == nil {
		return nil
	}
	return c.h
}

// Apply upserts every Node, Pod and CustomNodeResource in text (JSON or
// YAML as kubectl prints it), atomically (ck_cluster_apply). source names
// the input in messages.
func (c *Cluster) Apply(text []byte, source string) (ApplyCounts, error) {
	var src *C.char
	if source != "" {
		src = C.CString(source)
		defer C.free(unsafe.Pointer(src))
	}
	var out C.ck_apply_counts
	err := locked("ck_cluster_apply", func() C.ck_status {
		return C.ck_cluster_apply(&out, c.handle(), bytesPtr(text), C.size_t(len(text)), src)
	})
	if err != nil {
		return ApplyCounts{}, err
	}
	return ApplyCounts{int(out.nodes), int(out.pods), int(out.topology), int(out.skipped)}, nil
}

// NodeArrays are nodes as plain arrays: node i is Names[i] with Labels[i]
// ("k=v,k2=v2"; Labels may be nil) and Allocatable[r][i] of Resources[r]
// in base units (cpu in millicores, memory in bytes).
type NodeArrays struct {
	Names       []string
	Labels      []string
	Resources   []string
	Allocatable [][]int64
}

// ApplyNodeArrays upserts nodes from plain arrays
// (ck_cluster_apply_node_arrays). The arrays are copied into C memory for
// the call, as cgo forbids passing Go memory that holds Go pointers.
func (c *Cluster) ApplyNodeArrays(n NodeArrays) error {
	const op = "ck_cluster_apply_node_arrays"
	count := len(n.Names)
	if n.Labels != nil && len(n.Labels) != count {
		return goError(op, "%d labels for %d nodes", len(n.Labels), count)
	}
	if len(n.Allocatable) != len(n.Resources) {
		return goError(op, "%d allocatable columns for %d resources", len(n.Allocatable), len(n.Resources))
	}
	for r, col := range n.Allocatable {
		if len(col) != count {
			return goError(op, "allocatable column %d (%s) has %d values for %d nodes", r, n.Resources[r], len(col), count)
		}
	}
	var a cArena
	defer a.free()
	arr := C.ckgo_node_arrays_init()
	arr.count = C.size_t(count)
	arr.names = a.strings(n.Names, false)
	if n.Labels != nil {
		arr.labels = a.strings(n.Labels, true)
	}
	arr.resource_count = C.size_t(len(n.Resources))
	arr.resource_names = a.strings(n.Resources, false)
	arr.allocatable = a.columns(n.Allocatable)
	return locked(op, func() C.ck_status { return C.ck_cluster_apply_node_arrays(c.handle(), &arr) })
}

// PodArrays are pods as plain arrays: pod i is Namespaces[i]/Names[i]
// (Namespaces may be nil: "default") with one container requesting
// Requests[r][i] of Resources[r], bound to NodeNames[i] ("" or a nil slice:
// pending).
type PodArrays struct {
	Namespaces []string
	Names      []string
	NodeNames  []string
	Resources  []string
	Requests   [][]int64
}

// ApplyPodArrays upserts pods from plain arrays (ck_cluster_apply_pod_arrays).
func (c *Cluster) ApplyPodArrays(p PodArrays) error {
	const op = "ck_cluster_apply_pod_arrays"
	count := len(p.Names)
	if p.Namespaces != nil && len(p.Namespaces) != count {
		return goError(op, "%d namespaces for %d pods", len(p.Namespaces), count)
	}
	if p.NodeNames != nil && len(p.NodeNames) != count {
		return goError(op, "%d node names for %d pods", len(p.NodeNames), count)
	}
	if len(p.Requests) != len(p.Resources) {
		return goError(op, "%d request columns for %d resources", len(p.Requests), len(p.Resources))
	}
	for r, col := range p.Requests {
		if len(col) != count {
			return goError(op, "request column %d (%s) has %d values for %d pods", r, p.Resources[r], len(col), count)
		}
	}
	var a cArena
	defer a.free()
	arr := C.ckgo_pod_arrays_init()
	arr.count = C.size_t(count)
	if p.Namespaces != nil {
		arr.namespaces = a.strings(p.Namespaces, true)
	}
	arr.names = a.strings(p.Names, false)
	if p.NodeNames != nil {
		arr.node_names = a.strings(p.NodeNames, true)
	}
	arr.resource_count = C.size_t(len(p.Resources))
	arr.resource_names = a.strings(p.Resources, false)
	arr.requests = a.columns(p.Requests)
	return locked(op, func() C.ck_status { return C.ck_cluster_apply_pod_arrays(c.handle(), &arr) })
}

// RemoveNode removes a node by name; StatusNotFound when absent.
func (c *Cluster) RemoveNode(name string) error {
	return locked("ck_cluster_remove_node", func() C.ck_status {
		return C.ck_cluster_remove_node(c.handle(), stringPtr(name), C.size_t(len(name)))
	})
}

// RemovePod removes a pod by "namespace/name"; StatusNotFound when absent.
func (c *Cluster) RemovePod(key string) error {
	return locked("ck_cluster_remove_pod", func() C.ck_status {
		return C.ck_cluster_remove_pod(c.handle(), stringPtr(key), C.size_t(len(key)))
	})
}

// Assume records that pod is placed on node (an index of snapshot): its
// requests count there in the next published snapshot (kube-scheduler's
// assume).
func (c *Cluster) Assume(s *Snapshot, p *Pod, node int) error {
	if node < 0 {
		return &Error{Status: StatusNotFound, Op: "ck_cluster_assume",
			Message: "ck_cluster_assume: node index is negative (no node was selected)"}
	}
	return locked("ck_cluster_assume", func() C.ck_status {
		return C.ck_cluster_assume(c.handle(), s.handle(), p.handle(), C.size_t(node))
	})
}

// NodeCount is the number of nodes.
func (c *Cluster) NodeCount() int { return int(C.ck_cluster_node_count(c.handle())) }

// PodCount is the number of pods that count as usage.
func (c *Cluster) PodCount() int { return int(C.ck_cluster_pod_count(c.handle())) }

// SnapshotOptions configure Cluster.Publish.
type SnapshotOptions struct {
	Signals *Signals // nil: carbon-neutral
	At      int64    // unix time the intensities are for; 0: the signals' newest point
}

// Publish publishes the cluster's current state for engine
// (ck_snapshot_publish). opts may be nil.
func (c *Cluster) Publish(e *Engine, opts *SnapshotOptions) (*Snapshot, error) {
	o := C.ckgo_snapshot_options_init()
	if opts != nil {
		o.signals = opts.Signals.handle()
		o.at = C.int64_t(opts.At)
	}
	var h *C.ck_snapshot
	if err := locked("ck_snapshot_publish", func() C.ck_status {
		return C.ck_snapshot_publish(&h, c.handle(), e.handle(), &o)
	}); err != nil {
		return nil, err
	}
	return &Snapshot{h: h}, nil
}
