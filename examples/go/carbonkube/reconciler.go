package carbonkube

/*
#include <stdlib.h>
#include "carbonkube.h"

static ck_reconciler_options ckgo_reconciler_options_init(void) {
  ck_reconciler_options o = CK_RECONCILER_OPTIONS_INIT;
  return o;
}
*/
import "C"

import (
	"unsafe"
)

// ReconcilerOptions are the hysteresis settings of a Reconciler.
type ReconcilerOptions struct {
	HysteresisGPerKWh  float64
	HysteresisFraction float64 // 0 <= f < 1
	MinDwellSeconds    int64
}

// DefaultReconcilerOptions are CK_RECONCILER_OPTIONS_INIT's values.
func DefaultReconcilerOptions() ReconcilerOptions {
	o := C.ckgo_reconciler_options_init()
	return ReconcilerOptions{float64(o.hysteresis_g_per_kwh), float64(o.hysteresis_fraction), int64(o.min_dwell_seconds)}
}

// ZoneInput is one zone's intensity for a reconcile round.
type ZoneInput struct {
	Zone    string
	GPerKWh float64
	Usable  bool // false: missing or stale data, the zone keeps its profile
}

// DecisionReason is a ck_decision_reason.
type DecisionReason int32

// The ck_decision_reason values.
const (
	DecisionFirstAssignment  DecisionReason = C.CK_DECISION_FIRST_ASSIGNMENT
	DecisionUnchanged        DecisionReason = C.CK_DECISION_UNCHANGED
	DecisionHeldByBand       DecisionReason = C.CK_DECISION_HELD_BY_BAND
	DecisionHeldByDwell      DecisionReason = C.CK_DECISION_HELD_BY_DWELL
	DecisionMovedDirtier     DecisionReason = C.CK_DECISION_MOVED_DIRTIER
	DecisionMovedGreener     DecisionReason = C.CK_DECISION_MOVED_GREENER
	DecisionNoData           DecisionReason = C.CK_DECISION_NO_DATA
	DecisionNoDataUnassigned DecisionReason = C.CK_DECISION_NO_DATA_UNASSIGNED
)

// String is ck_decision_reason_name: "moved-dirtier", ...
func (r DecisionReason) String() string { return C.GoString(C.ck_decision_reason_name(C.int32_t(r))) }

// ZoneDecision is one zone's QoS profile after a round.
type ZoneDecision struct {
	Profile          int // QoS profile index (Engine.QoSProfiles), -1 only with DecisionNoDataUnassigned
	Previous         int // before this round, -1 for none
	Changed          bool
	Reason           DecisionReason
	SinceUnixSeconds int64
}

// Reconciler gives each grid zone a carbon QoS profile with hysteresis and
// a minimum dwell time. One goroutine at a time.
type Reconciler struct {
	h   *C.ck_reconciler
	out []C.ck_zone_decision
}

// NewReconciler uses the engine's QoS profiles (ck_reconciler_create); opts
// nil: DefaultReconcilerOptions.
func NewReconciler(e *Engine, opts *ReconcilerOptions) (*Reconciler, error) {
	o := C.ckgo_reconciler_options_init()
	if opts != nil {
		o.hysteresis_g_per_kwh = C.double(opts.HysteresisGPerKWh)
		o.hysteresis_fraction = C.double(opts.HysteresisFraction)
		o.min_dwell_seconds = C.int64_t(opts.MinDwellSeconds)
	}
	var h *C.ck_reconciler
	if err := locked("ck_reconciler_create", func() C.ck_status { return C.ck_reconciler_create(&h, e.handle(), &o) }); err != nil {
		return nil, err
	}
	return &Reconciler{h: h}, nil
}

// Close frees the reconciler (ck_reconciler_free). Idempotent.
func (r *Reconciler) Close() {
	if r != nil && r.h != nil {
		C.ck_reconciler_free(r.h)
		r.h = nil
	}
}

// Reconcile runs one round at unix time now: one decision per input, in
// order, appended to dst[:0] (ck_reconciler_reconcile). A zone listed twice
// or an empty zone is StatusInvalidInput and changes no state.
func (r *Reconciler) Reconcile(dst []ZoneDecision, now int64, zones []ZoneInput) ([]ZoneDecision, error) {
	if r == nil {
		return dst[:0], goError("ck_reconciler_reconcile", "reconciler is nil")
	}
	h := r.h
	// ck_zone_input holds a C string: the array lives in C memory.
	var a cArena
	defer a.free()
	in := unsafe.Slice((*C.ck_zone_input)(a.malloc(uintptr(len(zones))*unsafe.Sizeof(C.ck_zone_input{}))), len(zones))
	for i, z := range zones {
		in[i].zone = a.str(z.Zone)
		in[i].g_per_kwh = C.double(z.GPerKWh)
		if z.Usable {
			in[i].usable = 1
		}
	}
	if cap(r.out) < max(len(zones), 1) {
		r.out = make([]C.ck_zone_decision, max(len(zones), 1))
	}
	out := r.out[:len(zones)]
	err := locked("ck_reconciler_reconcile", func() C.ck_status {
		return C.ck_reconciler_reconcile(unsafe.SliceData(out), C.size_t(len(out)), h, C.int64_t(now),
			unsafe.SliceData(in), C.size_t(len(in)))
	})
	if err != nil {
		return dst[:0], err
	}
	dst = dst[:0]
	for _, d := range out {
		dst = append(dst, ZoneDecision{int(d.profile), int(d.previous), d.changed != 0,
			DecisionReason(d.reason), int64(d.since_unix_seconds)})
	}
	return dst, nil
}
