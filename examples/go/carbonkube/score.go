package carbonkube

/*
#include <stdlib.h>
#include <string.h>
#include "carbonkube.h"

// The scoring calls are the hot path: one cgo call per scheduling cycle,
// which also copies ck_last_error() on failure (same thread, same call), so
// that Go needs neither runtime.LockOSThread nor a second cgo call.
typedef struct ckgo_status {
  ck_status status;
  char* message; // malloc'd copy of ck_last_error(), NULL on success
} ckgo_status;

static ckgo_status ckgo_done(ck_status st) {
  ckgo_status r = {st, NULL};
  if (st != CK_OK) r.message = strdup(ck_last_error());
  return r;
}

static ck_score_options ckgo_score_options(int64_t profile) {
  ck_score_options o = CK_SCORE_OPTIONS_INIT;
  if (profile >= 0) o.profile = (size_t)profile;
  return o;
}

static ckgo_status ckgo_score_pod(ck_pod_result* out, ck_node_result* nodes, size_t nodes_len,
                                  int64_t* scores, size_t scores_len, const ck_engine* engine,
                                  const ck_snapshot* snapshot, const ck_pod* pod,
                                  ck_context* context, int64_t profile) {
  ck_score_options o = ckgo_score_options(profile);
  return ckgo_done(ck_score_pod(out, nodes, nodes_len, scores, scores_len, engine, snapshot, pod,
                                context, &o));
}

static ckgo_status ckgo_score_batch(ck_pod_result* out, size_t out_len, int64_t* totals,
                                    size_t totals_len, const ck_engine* engine,
                                    const ck_snapshot* snapshot, ck_pod** pods, size_t count,
                                    ck_context* context, int64_t profile) {
  ck_score_options o = ckgo_score_options(profile);
  return ckgo_done(ck_score_batch(out, out_len, totals, totals_len, engine, snapshot,
                                  (const ck_pod* const*)pods, count, context, &o));
}
*/
import "C"

import (
	"unsafe"
)

// ProfileBySchedulerName picks the profile named by the pod's
// spec.schedulerName, else the first (CK_PROFILE_BY_SCHEDULER_NAME).
const ProfileBySchedulerName = -1

// NodeState is a ck_node_state.
type NodeState int32

// The ck_node_state values.
const (
	NodeNotEvaluated NodeState = C.CK_NODE_NOT_EVALUATED // percentageOfNodesToScore was reached first
	NodeFeasible     NodeState = C.CK_NODE_FEASIBLE
	NodeInfeasible   NodeState = C.CK_NODE_INFEASIBLE
)

func (s NodeState) String() string {
	switch s {
	case NodeNotEvaluated:
		return "not-evaluated"
	case NodeFeasible:
		return "feasible"
	case NodeInfeasible:
		return "infeasible"
	}
	return "unknown"
}

// NodeResult is one node's outcome for one pod; it has ck_node_result's
// layout, so C writes the Go slice directly.
type NodeResult struct {
	Total        int64 // weighted total; 0 unless feasible
	State        NodeState
	FailedFilter int32  // filter plugin index (Profile.FilterPlugins) when infeasible, else -1
	Reasons      uint32 // the failed filter's reason bits (NodeReasons spells them)
	_            uint32
}

// PodResult is a pod's result; it has ck_pod_result's layout.
type PodResult struct {
	Selected  int64 // node index, or -1: no feasible node
	Total     int64 // the selected node's weighted total
	Feasible  uint32
	Processed uint32
	Status    Status // per pod in a batch
	Profile   uint32 // the profile that scored it
}

// Compile-time layout checks: the Go mirrors have the C structs' sizes (an
// array length that is negative or not 0 does not compile).
var (
	_ [unsafe.Sizeof(NodeResult{}) - unsafe.Sizeof(C.ck_node_result{})]struct{}
	_ [unsafe.Sizeof(C.ck_node_result{}) - unsafe.Sizeof(NodeResult{})]struct{}
	_ [unsafe.Sizeof(PodResult{}) - unsafe.Sizeof(C.ck_pod_result{})]struct{}
	_ [unsafe.Sizeof(C.ck_pod_result{}) - unsafe.Sizeof(PodResult{})]struct{}
	_ [unsafe.Offsetof(NodeResult{}.Reasons) - unsafe.Offsetof(C.ck_node_result{}.reasons)]struct{}
	_ [unsafe.Offsetof(C.ck_node_result{}.reasons) - unsafe.Offsetof(NodeResult{}.Reasons)]struct{}
	_ [unsafe.Offsetof(PodResult{}.Status) - unsafe.Offsetof(C.ck_pod_result{}.status)]struct{}
	_ [unsafe.Offsetof(C.ck_pod_result{}.status) - unsafe.Offsetof(PodResult{}.Status)]struct{}
)

// Result is one scheduling cycle's outcome. Keep one per goroutine and pass
// it to every ScorePod: its slices are allocated once and reused.
type Result struct {
	PodResult
	// Nodes has one entry per snapshot node.
	Nodes []NodeResult
	// Scores are the per-plugin scores, node-major: Scores[node*Plugins+p],
	// p indexing the profile's ScorePlugins: 0..100, or -1 where there is no
	// score (the node is not feasible, or the plugin skipped the pod, e.g.
	// NodeAffinity for a pod without preferred terms).
	Scores  []int64
	Plugins int
	// SelectedOnly (input): skip the per-node and per-plugin outputs.
	SelectedOnly bool
}

// SelectedNode is the selected node index and whether there is one.
func (r *Result) SelectedNode() (int, bool) { return int(r.Selected), r.Selected >= 0 }

// Score is plugin p's score of node.
func (r *Result) Score(node, p int) int64 { return r.Scores[node*r.Plugins+p] }

// NodeScores are node's per-plugin scores (a view into Scores).
func (r *Result) NodeScores(node int) []int64 {
	return r.Scores[node*r.Plugins : (node+1)*r.Plugins]
}

// Context is one goroutine's scoring state: scratch memory, the random state
// that breaks ties (under the seed) and the rotating start node, as
// kube-scheduler keeps between cycles; and the last cycle, for Explain. One
// goroutine at a time: give each scoring goroutine its own.
type Context struct {
	h          *C.ck_context
	out        PodResult   // ck_score_pod's out (heap memory, so no allocation per call)
	podPtrs    []*C.ck_pod // ScoreBatch's pod array, reused
	explainBuf []byte      // Explain's buffer, reused
}

// NewContext creates a context whose ties are broken under seed
// (ck_context_create).
func NewContext(seed uint64) (*Context, error) {
	var h *C.ck_context
	if err := locked("ck_context_create", func() C.ck_status { return C.ck_context_create(&h, C.uint64_t(seed)) }); err != nil {
		return nil, err
	}
	return &Context{h: h}, nil
}

// Close frees the context (ck_context_free). Idempotent.
func (c *Context) Close() {
	if c != nil && c.h != nil {
		C.ck_context_free(c.h)
		c.h = nil
	}
}

func (c *Context) handle() *C.ck_context {
	if c == nil {
		return nil
	}
	return c.h
}

func statusError(op string, r C.ckgo_status) error {
	if r.status == C.CK_OK {
		return nil
	}
	msg := C.GoString(r.message)
	C.free(unsafe.Pointer(r.message))
	return &Error{Status: Status(r.status), Op: op, Message: msg}
}

// ScorePod runs one scheduling cycle for pod: Filter, Score, NormalizeScore,
// weighted sum, selection, with the profile named by its schedulerName. It
// is one cgo call (ck_score_pod); r's buffers are reused across cycles.
func (c *Context) ScorePod(e *Engine, s *Snapshot, p *Pod, r *Result) error {
	return c.ScorePodWithProfile(e, s, p, ProfileBySchedulerName, r)
}

// ScorePodWithProfile is ScorePod with an explicit profile index (or
// ProfileBySchedulerName).
func (c *Context) ScorePodWithProfile(e *Engine, s *Snapshot, p *Pod, profile int, r *Result) error {
	if r.SelectedOnly {
		r.Nodes, r.Scores, r.Plugins = r.Nodes[:0], r.Scores[:0], 0
		pr, err := c.ScorePodInto(e, s, p, profile, nil, nil)
		r.PodResult = pr
		return err
	}
	n := s.NodeCount()
	// The profile (and so the per-node stride of the scores) is only known
	// after the call when it is picked by schedulerName: size for the widest.
	need := n * e.MaxScorePlugins()
	if cap(r.Nodes) < n {
		r.Nodes = make([]NodeResult, n)
	}
	need = max(need, 1) // non-nil even for an empty snapshot: the scores are wanted
	if cap(r.Scores) < need {
		r.Scores = make([]int64, need)
	}
	r.Nodes = r.Nodes[:n]
	pr, err := c.ScorePodInto(e, s, p, profile, r.Nodes, r.Scores[:need])
	r.PodResult = pr
	if err != nil {
		r.Scores, r.Plugins = r.Scores[:0], 0
		return err
	}
	r.Plugins = 0
	if int(pr.Profile) < len(e.profiles) {
		r.Plugins = len(e.profiles[pr.Profile].ScorePlugins)
	}
	r.Scores = r.Scores[:n*r.Plugins]
	return nil
}

// ScorePodInto is ck_score_pod over caller slices, passed as they are (nil:
// not wanted): nodes needs one entry per snapshot node and scores
// node_count * plugins values, else StatusBufferTooSmall and nothing is
// written.
func (c *Context) ScorePodInto(e *Engine, s *Snapshot, p *Pod, profile int, nodes []NodeResult, scores []int64) (PodResult, error) {
	if c == nil {
		return PodResult{Selected: -1}, goError("ck_score_pod", "context is nil")
	}
	st := C.ckgo_score_pod((*C.ck_pod_result)(unsafe.Pointer(&c.out)),
		(*C.ck_node_result)(unsafe.Pointer(unsafe.SliceData(nodes))), C.size_t(len(nodes)),
		(*C.int64_t)(unsafe.Pointer(unsafe.SliceData(scores))), C.size_t(len(scores)),
		e.handle(), s.handle(), p.handle(), c.handle(), C.int64_t(profile))
	if err := statusError("ck_score_pod", st); err != nil {
		return PodResult{Selected: -1}, err
	}
	return c.out, nil
}

// ScoreBatch scores pods independently against the same snapshot (nothing
// is assumed bound between them) in one cgo call (ck_score_batch). out needs
// len(pods) entries; totals (may be nil) receives each pod's per-node
// weighted totals, pod-major (totals[pod*nodes+node], -1 where not
// feasible), and needs len(pods)*nodes values. A pod that fails gets its
// status in out[i].Status and the others are still scored; the error is the
// first such failure.
func (c *Context) ScoreBatch(e *Engine, s *Snapshot, pods []*Pod, out []PodResult, totals []int64) error {
	return c.ScoreBatchWithProfile(e, s, pods, ProfileBySchedulerName, out, totals)
}

// ScoreBatchWithProfile is ScoreBatch with an explicit profile index.
func (c *Context) ScoreBatchWithProfile(e *Engine, s *Snapshot, pods []*Pod, profile int, out []PodResult, totals []int64) error {
	if cap(c.podPtrs) < len(pods) {
		c.podPtrs = make([]*C.ck_pod, len(pods))
	}
	ptrs := c.podPtrs[:len(pods)]
	for i, p := range pods {
		ptrs[i] = p.handle()
	}
	// ptrs is Go memory holding C pointers only, which cgo allows.
	st := C.ckgo_score_batch((*C.ck_pod_result)(unsafe.Pointer(unsafe.SliceData(out))), C.size_t(len(out)),
		(*C.int64_t)(unsafe.Pointer(unsafe.SliceData(totals))), C.size_t(len(totals)),
		e.handle(), s.handle(), unsafe.SliceData(ptrs), C.size_t(len(ptrs)), c.handle(), C.int64_t(profile))
	clear(ptrs)
	return statusError("ck_score_batch", st)
}

// ExplainInto writes the last ScorePod's explanation (JSON, NUL-terminated)
// into buf (ck_context_explain) and returns its length without the NUL.
// With a buffer that is too small nothing is written, the length is still
// returned, and the error is StatusBufferTooSmall: call again with n+1 bytes.
func (c *Context) ExplainInto(buf []byte) (int, error) {
	var n C.size_t
	err := locked("ck_context_explain", func() C.ck_status {
		return C.ck_context_explain(&n, (*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.size_t(len(buf)), c.handle())
	})
	return int(n), err
}

// Explain is the last ScorePod explained as JSON: {"pod", "selected",
// "nodes": [{"name", "evaluated", "feasible", "failedPlugin", "reasons",
// "scores", "total"}]}. StatusNotFound when the context has scored no pod
// with ScorePod (batches record no explanation).
func (c *Context) Explain() (string, error) {
	return c.text(func(buf []byte) (int, error) { return c.ExplainInto(buf) })
}

// NodeReasonsInto is ck_context_node_reasons into buf; same rules as
// ExplainInto.
func (c *Context) NodeReasonsInto(buf []byte, node int) (int, error) {
	if node < 0 {
		return 0, &Error{Status: StatusNotFound, Op: "ck_context_node_reasons",
			Message: "ck_context_node_reasons: node index is negative"}
	}
	var n C.size_t
	err := locked("ck_context_node_reasons", func() C.ck_status {
		return C.ck_context_node_reasons(&n, (*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.size_t(len(buf)), c.handle(), C.size_t(node))
	})
	return int(n), err
}

// NodeReasons are the reasons node failed in the last ScorePod, as
// "Plugin: reason; reason" ("" for a feasible or unevaluated node).
func (c *Context) NodeReasons(node int) (string, error) {
	return c.text(func(buf []byte) (int, error) { return c.NodeReasonsInto(buf, node) })
}

// text runs a buffer-filling call with the context's reused buffer, growing
// it once when the library says it is too small.
func (c *Context) text(fill func([]byte) (int, error)) (string, error) {
	if len(c.explainBuf) == 0 {
		c.explainBuf = make([]byte, 4096)
	}
	n, err := fill(c.explainBuf)
	if err != nil && errorStatus(err) == StatusBufferTooSmall {
		c.explainBuf = make([]byte, n+1)
		n, err = fill(c.explainBuf)
	}
	if err != nil {
		return "", err
	}
	return string(c.explainBuf[:n]), nil
}

func errorStatus(err error) Status {
	if e, ok := err.(*Error); ok {
		return e.Status
	}
	return StatusOK
}
