package carbonkube

/*
#include <stdlib.h>
#include "carbonkube.h"
*/
import "C"

import (
	"unsafe"
)

// SignalFormat is a ck_signal_format.
type SignalFormat int32

// The carbon data formats ck_signals_load reads.
const (
	ElectricityMapsCSV    SignalFormat = C.CK_SIGNALS_ELECTRICITYMAPS_CSV
	ElectricityMapsJSON   SignalFormat = C.CK_SIGNALS_ELECTRICITYMAPS_JSON
	WattTimeJSON          SignalFormat = C.CK_SIGNALS_WATTTIME_JSON
	UKCarbonIntensityJSON SignalFormat = C.CK_SIGNALS_UK_CARBON_INTENSITY_JSON
	CarbonAwareSDKJSON    SignalFormat = C.CK_SIGNALS_CARBON_AWARE_SDK_JSON
)

// IntensityKind is a ck_intensity_kind (or KindFromData).
type IntensityKind int32

// The ck_intensity_kind values, and -1 for "the data's own kind".
const (
	KindFromData          IntensityKind = -1 // the format's kind (CSV: average lifecycle)
	KindAverageDirect     IntensityKind = C.CK_KIND_AVERAGE_DIRECT
	KindAverageLifecycle  IntensityKind = C.CK_KIND_AVERAGE_LIFECYCLE
	KindMarginalDirect    IntensityKind = C.CK_KIND_MARGINAL_DIRECT
	KindMarginalLifecycle IntensityKind = C.CK_KIND_MARGINAL_LIFECYCLE
)

// SignalPoint is one history point.
type SignalPoint struct {
	UnixSeconds int64
	GPerKWh     float64
	Estimated   bool
}

// ReadingStatus is a ck_reading_status.
type ReadingStatus int32

// The ck_reading_status values.
const (
	ReadingOK                ReadingStatus = C.CK_READING_OK
	ReadingMissingZone       ReadingStatus = C.CK_READING_MISSING_ZONE
	ReadingNoData            ReadingStatus = C.CK_READING_NO_DATA
	ReadingStale             ReadingStatus = C.CK_READING_STALE
	ReadingFuture            ReadingStatus = C.CK_READING_FUTURE
	ReadingNotFinite         ReadingStatus = C.CK_READING_NOT_FINITE
	ReadingNegative          ReadingStatus = C.CK_READING_NEGATIVE
	ReadingBelowMin          ReadingStatus = C.CK_READING_BELOW_MIN
	ReadingAboveMax          ReadingStatus = C.CK_READING_ABOVE_MAX
	ReadingWrongKind         ReadingStatus = C.CK_READING_WRONG_KIND
	ReadingEstimatedRejected ReadingStatus = C.CK_READING_ESTIMATED_REJECTED
	ReadingIncompleteWindow  ReadingStatus = C.CK_READING_INCOMPLETE_WINDOW
)

// The C ABI has no name function for ck_reading_status; these are the
// enumerators' names.
var readingStatusNames = [...]string{
	"CK_READING_OK", "CK_READING_MISSING_ZONE", "CK_READING_NO_DATA", "CK_READING_STALE",
	"CK_READING_FUTURE", "CK_READING_NOT_FINITE", "CK_READING_NEGATIVE", "CK_READING_BELOW_MIN",
	"CK_READING_ABOVE_MAX", "CK_READING_WRONG_KIND", "CK_READING_ESTIMATED_REJECTED",
	"CK_READING_INCOMPLETE_WINDOW",
}

func (s ReadingStatus) String() string {
	if s >= 0 && int(s) < len(readingStatusNames) {
		return readingStatusNames[s]
	}
	return "CK_READING_UNKNOWN"
}

// ZoneReading is the signal policy applied to one zone at one time.
type ZoneReading struct {
	Usable       bool
	Status       ReadingStatus
	GPerKWh      float64 // NaN when not usable
	AgeSeconds   int64
	Estimated    bool
	FromForecast bool
	Kind         IntensityKind
}

func readingFromC(r *C.ck_zone_reading) ZoneReading {
	return ZoneReading{
		Usable:       r.usable != 0,
		Status:       ReadingStatus(r.status),
		GPerKWh:      float64(r.g_per_kwh),
		AgeSeconds:   int64(r.age_seconds),
		Estimated:    r.estimated != 0,
		FromForecast: r.from_forecast != 0,
		Kind:         IntensityKind(r.kind),
	}
}

// Signals are carbon intensity series per grid zone. One goroutine at a
// time may add to them; published snapshots keep their own view.
type Signals struct {
	h *C.ck_signals
}

// NewSignals creates an empty set (ck_signals_create).
func NewSignals() (*Signals, error) {
	var h *C.ck_signals
	if err := locked("ck_signals_create", func() C.ck_status { return C.ck_signals_create(&h) }); err != nil {
		return nil, err
	}
	return &Signals{h: h}, nil
}

// Close frees the signals (ck_signals_free); snapshots published with them
// stay valid. Idempotent.
func (s *Signals) Close() {
	if s != nil && s.h != nil {
		C.ck_signals_free(s.h)
		s.h = nil
	}
}

func (s *Signals) handle() *C.ck_signals {
	if s == nil {
		return nil
	}
	return s.h
}

// Load parses text in format and merges its series (ck_signals_load).
// source names the input in messages; kind is KindFromData or, for the
// Electricity Maps CSV, the column. It returns the points without a value.
func (s *Signals) Load(format SignalFormat, text []byte, source string, kind IntensityKind) (skipped int, err error) {
	var src *C.char
	if source != "" {
		src = C.CString(source)
		defer C.free(unsafe.Pointer(src))
	}
	var out C.size_t
	err = locked("ck_signals_load", func() C.ck_status {
		return C.ck_signals_load(&out, s.handle(), C.ck_signal_format(format), bytesPtr(text),
			C.size_t(len(text)), src, C.int32_t(kind))
	})
	return int(out), err
}

// AddPoints adds history points of one zone (ck_signals_add_points).
func (s *Signals) AddPoints(zone string, kind IntensityKind, points []SignalPoint) error {
	cp := make([]C.ck_signal_point, len(points))
	for i, p := range points {
		cp[i].unix_seconds = C.int64_t(p.UnixSeconds)
		cp[i].g_per_kwh = C.double(p.GPerKWh)
		if p.Estimated {
			cp[i].estimated = 1
		}
	}
	return locked("ck_signals_add_points", func() C.ck_status {
		return C.ck_signals_add_points(s.handle(), stringPtr(zone), C.size_t(len(zone)),
			C.ck_intensity_kind(kind), unsafe.SliceData(cp), C.size_t(len(cp)))
	})
}

// ZoneCount is the number of zones with series.
func (s *Signals) ZoneCount() int { return int(C.ck_signals_zone_count(s.handle())) }

// NewestTime is the newest point's unix time over all zones (0: none).
func (s *Signals) NewestTime() int64 { return int64(C.ck_signals_newest_time(s.handle())) }

// Evaluate applies the engine's signal policy to zone at unix time at. A
// zone without data is not an error: its Status is ReadingMissingZone.
func (s *Signals) Evaluate(e *Engine, zone string, at int64) (ZoneReading, error) {
	var out C.ck_zone_reading
	err := locked("ck_signals_evaluate", func() C.ck_status {
		return C.ck_signals_evaluate(&out, s.handle(), e.handle(), stringPtr(zone), C.size_t(len(zone)), C.int64_t(at))
	})
	if err != nil {
		return ZoneReading{}, err
	}
	return readingFromC(&out), nil
}
