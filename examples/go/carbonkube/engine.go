package carbonkube

/*
#include <stdlib.h>
#include "carbonkube.h"

static ck_engine_options ckgo_engine_options_init(void) {
  ck_engine_options o = CK_ENGINE_OPTIONS_INIT;
  return o;
}
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// EngineOptions configure NewEngine. A nil document keeps the C default; a
// non-nil empty one is passed as an empty document.
type EngineOptions struct {
	// SchedulerConfig is a KubeSchedulerConfiguration (YAML or JSON). nil:
	// the seed's katalyst-carbon-scheduler profile.
	SchedulerConfig []byte
	// QoSProfiles is a CarbonProfile object or Helm values with
	// katalyst.qosProfiles. nil: the seed's three profiles.
	QoSProfiles []byte
	// ZoneMap maps node labels to grid zones. nil: carbon-neutral scoring.
	ZoneMap []byte
	// Signal policy; 0 keeps the defaults (7200 s, 2500 g/kWh).
	MaxSignalAgeSeconds int64
	MaxGPerKWh          float64
}

// ScorePlugin is one score plugin of a profile.
type ScorePlugin struct {
	Name   string
	Weight int64
}

// Profile is a scheduling profile of the engine.
type Profile struct {
	Name          string // schedulerName
	ScorePlugins  []ScorePlugin
	FilterPlugins []string // as NodeResult.FailedFilter indexes them
}

// QoSProfile is a carbon QoS profile (greenest first).
type QoSProfile struct {
	Name             string
	ThresholdGPerKWh float64
}

// Engine is an immutable compiled configuration; any number of goroutines
// may use it.
type Engine struct {
	h          *C.ck_engine
	profiles   []Profile
	qos        []QoSProfile
	zones      []string
	maxPlugins int
}

// NewEngine compiles an engine (ck_engine_create).
func NewEngine(opts EngineOptions) (*Engine, error) {
	o := C.ckgo_engine_options_init()
	// The options struct is Go memory, so the documents it points to must be
	// C memory (no Go pointers in memory passed to C).
	var docs []*C.char
	defer func() {
		for _, p := range docs {
			C.free(unsafe.Pointer(p))
		}
	}()
	if opts.SchedulerConfig != nil {
		p := cBytes(opts.SchedulerConfig)
		docs = append(docs, p)
		o.scheduler_config, o.scheduler_config_len = p, C.size_t(len(opts.SchedulerConfig))
	}
	if opts.QoSProfiles != nil {
		p := cBytes(opts.QoSProfiles)
		docs = append(docs, p)
		o.qos_profiles, o.qos_profiles_len = p, C.size_t(len(opts.QoSProfiles))
	}
	if opts.ZoneMap != nil {
		p := cBytes(opts.ZoneMap)
		docs = append(docs, p)
		o.zone_map, o.zone_map_len = p, C.size_t(len(opts.ZoneMap))
	}
	o.max_signal_age_seconds = C.int64_t(opts.MaxSignalAgeSeconds)
	o.max_g_per_kwh = C.double(opts.MaxGPerKWh)

	var h *C.ck_engine
	if err := locked("ck_engine_create", func() C.ck_status { return C.ck_engine_create(&h, &o) }); err != nil {
		return nil, err
	}
	e := &Engine{h: h}
	e.describe()
	return e, nil
}

// describe caches the engine's (immutable) profiles, QoS profiles and zones.
func (e *Engine) describe() {
	for p := C.size_t(0); p < C.ck_engine_profile_count(e.h); p++ {
		prof := Profile{Name: C.GoString(C.ck_engine_profile_name(e.h, p))}
		for i := C.size_t(0); i < C.ck_engine_score_plugin_count(e.h, p); i++ {
			prof.ScorePlugins = append(prof.ScorePlugins, ScorePlugin{
				Name:   C.GoString(C.ck_engine_score_plugin_name(e.h, p, i)),
				Weight: int64(C.ck_engine_score_plugin_weight(e.h, p, i)),
			})
		}
		for i := C.size_t(0); i < C.ck_engine_filter_plugin_count(e.h, p); i++ {
			prof.FilterPlugins = append(prof.FilterPlugins, C.GoString(C.ck_engine_filter_plugin_name(e.h, p, i)))
		}
		e.maxPlugins = max(e.maxPlugins, len(prof.ScorePlugins))
		e.profiles = append(e.profiles, prof)
	}
	for q := C.size_t(0); q < C.ck_engine_qos_profile_count(e.h); q++ {
		e.qos = append(e.qos, QoSProfile{
			Name:             C.GoString(C.ck_engine_qos_profile_name(e.h, q)),
			ThresholdGPerKWh: float64(C.ck_engine_qos_profile_threshold(e.h, q)),
		})
	}
	for z := C.size_t(0); z < C.ck_engine_zone_count(e.h); z++ {
		e.zones = append(e.zones, C.GoString(C.ck_engine_zone_name(e.h, z)))
	}
}

// Close frees the engine (ck_engine_free). Snapshots, pods and reconcilers
// made from it stay valid. Close is idempotent.
func (e *Engine) Close() {
	if e != nil && e.h != nil {
		C.ck_engine_free(e.h)
		e.h = nil
	}
}

// Profiles are the scheduling profiles in configuration order.
func (e *Engine) Profiles() []Profile { return e.profiles }

// QoSProfiles are the carbon QoS profiles, greenest first.
func (e *Engine) QoSProfiles() []QoSProfile { return e.qos }

// Zones are the grid zones of the zone map, in index order.
func (e *Engine) Zones() []string { return e.zones }

// MaxScorePlugins is the widest profile's score plugin count: the per-node
// stride that fits any profile a pod may be scored by.
func (e *Engine) MaxScorePlugins() int { return e.maxPlugins }

// FindProfile is the index of the profile with this schedulerName
// (ck_engine_find_profile); StatusNotFound when there is none.
func (e *Engine) FindProfile(schedulerName string) (int, error) {
	var out C.size_t
	err := locked("ck_engine_find_profile", func() C.ck_status {
		return C.ck_engine_find_profile(&out, e.handle(), stringPtr(schedulerName), C.size_t(len(schedulerName)))
	})
	runtime.KeepAlive(schedulerName)
	if err != nil {
		return -1, err
	}
	return int(out), nil
}

func (e *Engine) handle() *C.ck_engine {
	if e == nil {
		return nil
	}
	return e.h
}
