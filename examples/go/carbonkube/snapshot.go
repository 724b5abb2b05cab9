package carbonkube

/*
#include <stdlib.h>
#include "carbonkube.h"
*/
import "C"

import (
	"unsafe"
)

// Snapshot is an immutable picture of a cluster and its carbon and topology
// conditions at one time, for one engine. Any number of goroutines may score
// against it. It is independent of the cluster, signals and engine.
type Snapshot struct {
	h *C.ck_snapshot
}

// Close frees the snapshot (ck_snapshot_free). Idempotent.
func (s *Snapshot) Close() {
	if s != nil && s.h != nil {
		C.ck_snapshot_free(s.h)
		s.h = nil
	}
}

func (s *Snapshot) handle() *C.ck_snapshot {
	if s == nil {
		return nil
	}
	return s.h
}

// NodeCount is the number of nodes.
func (s *Snapshot) NodeCount() int { return int(C.ck_snapshot_node_count(s.handle())) }

// NodeName is node i's name ("" when out of range).
func (s *Snapshot) NodeName(i int) string {
	if i < 0 {
		return ""
	}
	return C.GoString(C.ck_snapshot_node_name(s.handle(), C.size_t(i)))
}

// NodeNames are all node names in index order.
func (s *Snapshot) NodeNames() []string {
	names := make([]string, s.NodeCount())
	for i := range names {
		names[i] = s.NodeName(i)
	}
	return names
}

// FindNode is the index of the node called name; StatusNotFound when absent.
func (s *Snapshot) FindNode(name string) (int, error) {
	var out C.size_t
	err := locked("ck_snapshot_find_node", func() C.ck_status {
		return C.ck_snapshot_find_node(&out, s.handle(), stringPtr(name), C.size_t(len(name)))
	})
	if err != nil {
		return -1, err
	}
	return int(out), nil
}

// NodeZone is node i's grid zone index in the engine's zone map, -1 for none.
func (s *Snapshot) NodeZone(i int) int {
	return int(C.ck_snapshot_node_zone(s.handle(), C.size_t(i)))
}

// ZoneReading is the reading of engine zone index zone in this snapshot.
func (s *Snapshot) ZoneReading(zone int) (ZoneReading, error) {
	var out C.ck_zone_reading
	err := locked("ck_snapshot_zone_reading", func() C.ck_status {
		return C.ck_snapshot_zone_reading(&out, s.handle(), C.size_t(zone))
	})
	if err != nil {
		return ZoneReading{}, err
	}
	return readingFromC(&out), nil
}

// Time is the unix time the snapshot's intensities are for.
func (s *Snapshot) Time() int64 { return int64(C.ck_snapshot_time(s.handle())) }

// Pod is a Pod object parsed and compiled against a snapshot; valid for later
// snapshots of the same cluster while no new resource name appears (else
// scoring gives StatusMismatch: create it again). Immutable: any number of
// goroutines may score it.
type Pod struct {
	h        *C.ck_pod
	key      string
	borrowed bool // owned by a PodList
}

// NewPod parses exactly one Pod (JSON or YAML) and compiles it
// (ck_pod_create).
func NewPod(s *Snapshot, text []byte) (*Pod, error) {
	var h *C.ck_pod
	if err := locked("ck_pod_create", func() C.ck_status {
		return C.ck_pod_create(&h, s.handle(), bytesPtr(text), C.size_t(len(text)))
	}); err != nil {
		return nil, err
	}
	return &Pod{h: h, key: C.GoString(C.ck_pod_key(h))}, nil
}

// Close frees the pod (ck_pod_free); a no-op for a PodList's pods.
// Idempotent.
func (p *Pod) Close() {
	if p != nil && p.h != nil && !p.borrowed {
		C.ck_pod_free(p.h)
		p.h = nil
	}
}

func (p *Pod) handle() *C.ck_pod {
	if p == nil {
		return nil
	}
	return p.h
}

// Key is "namespace/name".
func (p *Pod) Key() string { return p.key }

// PodList holds the pending Pods (not bound, not terminal) of a text: a
// List, a PodList, a single Pod or a stream of documents, JSON or YAML, as
// `kubectl get pods -o json|yaml` prints (ck_pod_list_create). Each is
// compiled against the snapshot like NewPod. The pods are owned by the list:
// their Close does nothing, and they are invalid after the list's Close.
type PodList struct {
	h    *C.ck_pod_list
	pods []*Pod
}

// NewPodList parses text's pending pods; source names it in messages. One
// bad Pod fails the whole call.
func NewPodList(s *Snapshot, text []byte, source string) (*PodList, error) {
	var src *C.char
	if source != "" {
		src = C.CString(source)
		defer C.free(unsafe.Pointer(src))
	}
	var h *C.ck_pod_list
	if err := locked("ck_pod_list_create", func() C.ck_status {
		return C.ck_pod_list_create(&h, s.handle(), bytesPtr(text), C.size_t(len(text)), src)
	}); err != nil {
		return nil, err
	}
	l := &PodList{h: h}
	for i := C.size_t(0); i < C.ck_pod_list_count(h); i++ {
		p := (*C.ck_pod)(unsafe.Pointer(C.ck_pod_list_get(h, i)))
		l.pods = append(l.pods, &Pod{h: p, key: C.GoString(C.ck_pod_key(p)), borrowed: true})
	}
	return l, nil
}

// Len is the number of pending pods.
func (l *PodList) Len() int { return len(l.pods) }

// Pods are the pending pods in text order (borrowed from the list).
func (l *PodList) Pods() []*Pod { return l.pods }

// Close frees the list and its pods (ck_pod_list_free). Idempotent.
func (l *PodList) Close() {
	if l != nil && l.h != nil {
		for _, p := range l.pods {
			p.h = nil
		}
		C.ck_pod_list_free(l.h)
		l.h = nil
	}
}
