// carbonkube/signals.hpp: grid carbon-intensity signals. Loaders turn the
// real formats (Electricity Maps portal CSV and API JSON, WattTime v3, the UK
// Carbon Intensity API, the Carbon Aware SDK WebAPI) into per-zone time series
// of one IntensityKind each; evaluate() decides, for a zone and a time, whether
// a value is fit to schedule on (fresh, finite, plausible) and says why not;
// ZoneMap maps nodes to grid zones by their labels; ZoneIntensities is the
// per-cycle array of zone values that scoring plugins read.
//
// Parsing happens when signals are loaded, never in a scheduling cycle. Once
// per cycle a caller builds ZoneIntensities (one evaluate() per zone, not per
// node); the hot path then indexes it by each node's zone index.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

// ---------------------------------------------------------------------------
// Data model

/// Average: the mean emission factor of all generation serving the grid.
/// Marginal: the emission factor of the generator that answers a change in
/// load (WattTime's MOER). The two answer different questions and must never
/// be averaged together.
enum class IntensityBasis : std::uint8_t { kAverage, kMarginal };
/// Direct: operational (combustion) emissions only. Lifecycle: also
/// construction, fuel supply and decommissioning (Electricity Maps' "LCA").
enum class IntensityScope : std::uint8_t { kDirect, kLifecycle };

/// Basis × scope. Every series holds exactly one kind.
enum class IntensityKind : std::uint8_t {
  kAverageDirect,
  kAverageLifecycle,
  kMarginalDirect,
  kMarginalLifecycle,
};

constexpr IntensityKind make_intensity_kind(IntensityBasis basis, IntensityScope scope) {
  return static_cast<IntensityKind>(static_cast<unsigned>(basis) * 2u +
                                    static_cast<unsigned>(scope));
}
constexpr IntensityBasis basis_of(IntensityKind kind) {
  return static_cast<IntensityBasis>(static_cast<unsigned>(kind) / 2u);
}
constexpr IntensityScope scope_of(IntensityKind kind) {
  return static_cast<IntensityScope>(static_cast<unsigned>(kind) % 2u);
}
/// "average/direct", "average/lifecycle", "marginal/direct", "marginal/lifecycle".
std::string_view to_string(IntensityKind kind) noexcept;
/// Parses the names above; nullopt for anything else.
std::optional<IntensityKind> parse_intensity_kind(std::string_view text);

/// One value: grams CO2(eq) per kWh from unix_seconds until the next point of
/// the series (at most ZoneSeries::period_seconds later).
struct SignalPoint {
  std::int64_t unix_seconds = 0;
  double g_per_kwh = 0;
  bool estimated = false;  // the source flagged it estimated, or it is a forecast

  friend bool operator==(const SignalPoint&, const SignalPoint&) = default;
};

/// A time-weighted mean over a window (see ZoneSeries::window_average).
struct WindowAverage {
  double g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  std::int64_t covered_seconds = 0;  // seconds of the window that had data
  double min_g_per_kwh = std::numeric_limits<double>::quiet_NaN();  // over contributing points
  double max_g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  bool estimated = false;      // an estimated or forecast point contributed
  bool from_forecast = false;  // a forecast point contributed
};

/// The signal of one grid zone: measured/estimated history and, optionally,
/// the latest forecast. Points are sorted by time with unique timestamps.
struct ZoneSeries {
  std::string zone;  // grid zone id: "US-CAL-CISO", "CAISO_NORTH", "GB", ...
  IntensityKind kind = IntensityKind::kAverageLifecycle;
  std::string source;  // where it was loaded from, for messages
  /// How long one point holds at most (the data's resolution): 3600 for
  /// hourly data, 300 for WattTime's 5-minute data. > 0.
  std::int64_t period_seconds = 3600;
  std::vector<SignalPoint> points;
  std::vector<SignalPoint> forecast;  // every point estimated
  std::int64_t forecast_period_seconds = 3600;
  std::optional<std::int64_t> forecast_issued_at;  // unix seconds; absent: its first point

  /// The latest history point at or before t (for hourly data, the hour
  /// containing t), or nullptr. O(log n).
  const SignalPoint* at(std::int64_t t) const;
  /// The forecast point whose period contains t, or nullptr.
  const SignalPoint* forecast_at(std::int64_t t) const;
  /// When the forecast was issued: forecast_issued_at, else its first point.
  std::optional<std::int64_t> forecast_issue_time() const;
  /// Time-weighted mean over [t, t + seconds). Each point holds from its time
  /// until the next point or period_seconds, whichever is first; time not
  /// held by any point is not covered. History wins wherever it holds; the
  /// forecast (when use_forecast) fills only the time after the history's
  /// last point has expired. Raw values: validation is evaluate_window's job.
  WindowAverage window_average(std::int64_t t, std::int64_t seconds,
                               bool use_forecast = true) const;
};

/// All zones' series, zone id -> series. Built once (loaders, then add()),
/// then read by any number of threads.
class CarbonSignals {
 public:
  /// Adds a series, merging with the zone's existing one. Throws InvalidInput
  /// naming the zone and both sources if the kinds differ: a series never
  /// mixes kinds. Merge rule: the added points replace existing points with
  /// the same timestamp (later loads revise earlier ones); a forecast
  /// replaces the existing forecast unless it was issued earlier; the period
  /// becomes the smaller of the two. Unsorted points are sorted (of equal
  /// timestamps, the last wins).
  void add(ZoneSeries series);
  /// Adds a loader's series; checks them all first, so an error adds none.
  void add(std::vector<ZoneSeries> series);

  const ZoneSeries* find(std::string_view zone) const;
  std::size_t size() const { return series_.size(); }
  bool empty() const { return series_.empty(); }
  const std::map<std::string, ZoneSeries, std::less<>>& all() const { return series_; }
  /// The one kind every series has, or nullopt if empty or mixed.
  std::optional<IntensityKind> common_kind() const;

  /// Shortcuts for find(zone)->at(t) / ->window_average(...); nullptr / an
  /// empty average for an unknown zone.
  const SignalPoint* value_at(std::string_view zone, std::int64_t t) const;
  WindowAverage window_average(std::string_view zone, std::int64_t t, std::int64_t seconds,
                               bool use_forecast = true) const;

 private:
  std::map<std::string, ZoneSeries, std::less<>> series_;
};

// ---------------------------------------------------------------------------
// Timestamps

/// Parses ISO 8601 / RFC 3339 date-times to unix seconds (UTC):
/// "YYYY-MM-DDTHH:MM[:SS[.fraction]]" followed by "Z" or "±HH:MM" ("±HHMM",
/// "±HH" too), 'T' or ' ' between date and time, fractions truncated toward
/// the past. Without an offset the text is rejected unless assume_utc (the
/// portal CSV's "YYYY-MM-DD HH:MM:SS" is UTC). Throws InvalidInput quoting
/// the text and saying what is wrong; `where` prefixes the message.
std::int64_t parse_timestamp(std::string_view text, bool assume_utc = false,
                             std::string_view where = {});
/// Non-throwing form: false and *error set for bad text.
bool try_parse_timestamp(std::string_view text, std::int64_t* out, std::string* error,
                         bool assume_utc = false);
/// "2023-01-01T00:00:00Z".
std::string format_timestamp(std::int64_t unix_seconds);

// ---------------------------------------------------------------------------
// Loaders: text in, series out. No network; the caller fetches.

struct SignalLoadOptions {
  /// Keep NaN, infinite and negative values (evaluate() then reports them as
  /// unusable) instead of rejecting the input. Off: such a value is an error
  /// naming the point.
  bool lenient = false;
  /// The kind, for formats that do not state it (Carbon Aware SDK, an
  /// Electricity Maps forecast without emissionFactorType). Where the format
  /// states it, a different value here is an error (a guard against loading
  /// the wrong file).
  std::optional<IntensityKind> kind;
  /// Zone id for formats that carry none (UK national data: default "GB").
  std::string zone;
  ParseLimits limits;
};

/// What a loader produced. Points it skipped (empty or null values) are
/// counted and described in warnings (the first 100; skipped counts all).
struct SignalLoad {
  std::vector<ZoneSeries> series;
  std::size_t skipped = 0;
  std::vector<std::string> warnings;
};

/// Electricity Maps data-portal CSV (the files in data/carbon/electricitymaps/):
/// columns "Datetime (UTC)", "Zone Id", "Carbon Intensity gCO₂eq/kWh (direct)"
/// and "... (LCA)", optional "Data Estimated". `scope` picks the column; the
/// kind is average/<scope>. RFC 4180 quoting, CRLF or LF, a UTF-8 BOM. One
/// series per Zone Id. An empty intensity skips the point with a warning.
SignalLoad load_electricitymaps_csv(std::string_view text, std::string_view source,
                                    IntensityScope scope, const SignalLoadOptions& options = {});

/// Electricity Maps API v3 JSON: the `carbon-intensity/latest` object,
/// `history` ({zone, history: [...]}; `past-range`'s {zone, data: [...]}
/// too) or `forecast` ({zone, forecast: [{carbonIntensity, datetime}],
/// updatedAt}). Average basis; scope from emissionFactorType ("lifecycle",
/// the API's default, or "direct"). A null carbonIntensity skips the point.
SignalLoad load_electricitymaps_json(std::string_view text, std::string_view source,
                                     const SignalLoadOptions& options = {});

/// WattTime v3 `/v3/forecast` and `/v3/historical` JSON: {"data": [{point_time,
/// value}], "meta": {region, signal_type, units, generated_at, ...}}.
/// signal_type co2_moer is marginal/direct, co2_aoer average/direct; units
/// must be lbs_co2_per_mwh (× 0.45359237 gives g/kWh). With meta.generated_at
/// the points are a forecast issued then; without, history.
SignalLoad load_watttime_json(std::string_view text, std::string_view source,
                              const SignalLoadOptions& options = {});

/// UK Carbon Intensity API (api.carbonintensity.org.uk) JSON, gCO2/kWh,
/// average/direct (National Grid ESO's factors count operational emissions:
/// nuclear, wind and solar are 0). National {"data": [{from, to, intensity:
/// {forecast, actual, index}}]} is zone options.zone (default "GB"); regional
/// {"data": [{regionid, shortname, data: [...]}]} and {"data": [{from, to,
/// regions: [{regionid, intensity, ...}]}]} are zones "UKCI-<regionid>". A
/// point is `actual` when present, else `forecast` marked estimated.
SignalLoad load_uk_carbon_intensity_json(std::string_view text, std::string_view source,
                                         const SignalLoadOptions& options = {});

/// Carbon Aware SDK WebAPI JSON, g/kWh: `/emissions/bylocation(s)` [{location,
/// time, rating, duration}] (history) and `/emissions/forecasts/current` or
/// `/batch` [{location, generatedAt, forecastData: [{timestamp, value,
/// duration}]}] (forecasts). The SDK passes on whatever its data source
/// reports, so the kind is options.kind, default average/lifecycle (the
/// Electricity Maps source's default); set marginal/direct for WattTime.
/// Durations are minutes (number) or .NET TimeSpan text ("00:05:00").
SignalLoad load_carbon_aware_sdk_json(std::string_view text, std::string_view source,
                                      const SignalLoadOptions& options = {});

/// The carbon-signal formats the loaders read. The values are the C ABI's
/// ck_signal_format values.
enum class SignalFormat : std::uint8_t {
  kElectricityMapsCsv = 0,
  kElectricityMapsJson = 1,
  kWattTimeJson = 2,
  kUkCarbonIntensityJson = 3,
  kCarbonAwareSdkJson = 4,
};

/// The format's name on the command line and in Python: "electricitymaps-csv",
/// "electricitymaps-json", "watttime", "uk-carbon-intensity", "carbon-aware-sdk".
std::string_view signal_format_name(SignalFormat format);
/// The format of a name signal_format_name gives; nullopt for any other.
std::optional<SignalFormat> parse_signal_format(std::string_view name);

/// Tells the format of a carbon-signal file or response body, so every front
/// end (CLI, C ABI, Python) detects alike: a name ending in ".csv" or text
/// starting (after a UTF-8 BOM) with the portal CSV's "Datetime (UTC)" column
/// is the Electricity Maps CSV; otherwise the first of these JSON keys present
/// decides: "point_time" WattTime, "forecastData" or "location" Carbon Aware
/// SDK, "intensity" UK Carbon Intensity, "carbonIntensity" Electricity Maps.
/// nullopt when none matches. `name` is a path or label ("" when unknown).
std::optional<SignalFormat> detect_signal_format(std::string_view text, std::string_view name);

/// Loads `text` with the loader of `format`. `scope` picks the Electricity
/// Maps CSV column and is ignored by the JSON formats, which state theirs.
SignalLoad load_signals(std::string_view text, std::string_view source, SignalFormat format,
                        IntensityScope scope = IntensityScope::kLifecycle,
                        const SignalLoadOptions& options = {});

// Duplicates and order, for every loader: points are sorted by time; an
// exact repeat (same time, value and flag) is dropped; two different values
// for the same time are an error naming both.

// ---------------------------------------------------------------------------
// Validation and staleness

struct SignalPolicy {
  std::int64_t max_age_seconds = 2 * 3600;  // older data is stale
  /// A point up to this far after t is accepted (clock skew) when there is
  /// nothing at or before t; beyond it the data is "from the future".
  std::int64_t future_tolerance_seconds = 300;
  double min_g_per_kwh = 0;
  double max_g_per_kwh = 2500;  // above any real grid: a unit or data error
  bool accept_estimated = true;
  /// Required kind; unset: any (ZoneIntensities then requires one common kind).
  std::optional<IntensityKind> kind;
  /// evaluate_window: the least fraction of the window that must have data.
  double min_window_coverage = 0.5;
};

enum class ReadingStatus : std::uint8_t {
  kOk,
  kMissingZone,        // no series for the zone
  kNoData,             // the series has no point at or before t, nor a forecast for t
  kStale,              // the newest usable data is older than max_age_seconds
  kFuture,             // the only data is after t by more than the tolerance
  kNotFinite,          // NaN or ±inf
  kNegative,           // below zero
  kBelowMin,           // below min_g_per_kwh
  kAboveMax,           // above max_g_per_kwh
  kWrongKind,          // series kind differs from SignalPolicy::kind
  kEstimatedRejected,  // estimated and accept_estimated is false
  kIncompleteWindow,   // evaluate_window: less than min_window_coverage has data
};
std::string_view to_string(ReadingStatus status) noexcept;

/// Whether a zone's signal can be used at time t. When not usable, g_per_kwh
/// is NaN (never 0, which would rank best) and reason/reason_text say why.
struct ZoneReading {
  bool usable = false;
  double g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  /// t minus the point's time (history) or the forecast's issue time;
  /// negative when the point is ahead of t within the tolerance.
  std::int64_t age_seconds = 0;
  bool estimated = false;
  bool from_forecast = false;
  IntensityKind kind = IntensityKind::kAverageLifecycle;
  ReadingStatus reason = ReadingStatus::kMissingZone;
  std::string reason_text;
};

/// The value of `zone` at t, then checked against the policy. In order: the
/// latest history point at or before t while it holds (within its period)
/// and is fresh; else the point for t of a fresh forecast (issued at most
/// max_age before t and not after it: no look-ahead); else the history point
/// held past its period while fresh; else stale. With nothing at or before t,
/// a point at most future_tolerance_seconds ahead is used (clock skew);
/// further ahead is kFuture. Never throws.
ZoneReading evaluate(const CarbonSignals& signals, std::string_view zone, std::int64_t t,
                     const SignalPolicy& policy = {});
/// The expected mean over [t, t + seconds) (a job's run time): requires
/// evaluate() at t to be usable, uses the forecast only if it is fresh, and
/// checks coverage and every contributing value. seconds <= 0 is evaluate().
ZoneReading evaluate_window(const CarbonSignals& signals, std::string_view zone, std::int64_t t,
                            std::int64_t seconds, const SignalPolicy& policy = {});

// ---------------------------------------------------------------------------
// Nodes to grid zones

using ZoneIndex = std::uint16_t;
inline constexpr ZoneIndex kUnknownZone = 0xFFFF;

/// What happens to a node no entry matches.
enum class UnknownZoneRule : std::uint8_t {
  kNeutral,  // the node gets no carbon signal: carbon-neutral scoring
  kError,    // node_zones() throws
};

/// Node labels -> grid zone. YAML or JSON:
///
///   kind: ZoneMap                      # optional; apiVersion is ignored
///   unknownZone: neutral               # required: neutral | error
///   rules:                             # any labels, all must match; first match wins
///     - matchLabels: {example.com/grid: es}
///       zone: ES
///   zones:                             # topology.kubernetes.io/zone value -> grid zone
///     europe-north1-a: NO
///   regions:                           # topology.kubernetes.io/region value -> grid zone
///     us-west-1: US-CAL-CISO
///
/// Precedence: rules, then zones, then regions. Each distinct grid zone gets
/// an index (order of first appearance) so the hot path indexes arrays.
class ZoneMap {
 public:
  struct Rule {
    StringMap match_labels;  // sorted by key; all must match
    std::string zone;
  };

  explicit ZoneMap(UnknownZoneRule unknown_zone = UnknownZoneRule::kNeutral)
      : unknown_zone_(unknown_zone) {}
  /// Throws InvalidInput naming the source and field.
  static ZoneMap parse(std::string_view text, std::string_view source,
                       const ParseLimits& limits = {});

  void add_rule(StringMap match_labels, std::string zone);
  void add_zone_label(std::string value, std::string zone);    // topology.kubernetes.io/zone
  void add_region_label(std::string value, std::string zone);  // topology.kubernetes.io/region

  UnknownZoneRule unknown_zone() const { return unknown_zone_; }
  std::span<const std::string> zones() const { return zones_; }
  std::optional<ZoneIndex> find_zone(std::string_view zone) const;

  /// The zone index for a node's labels (sorted or not), or kUnknownZone.
  ZoneIndex zone_index_for(const StringMap& labels) const;
  /// The grid zone id for a node's labels, or "" when none matches
  /// (whatever unknownZone says: the caller decides).
  std::string_view zone_for(const StringMap& labels) const;
  /// Every node's zone index in node order (kUnknownZone for none). With
  /// unknownZone: error, throws Error(kNotFound) naming the first such node
  /// and its topology labels. O(nodes × rules); recompute when a snapshot's
  /// nodes or labels change.
  std::vector<ZoneIndex> node_zones(const ClusterSnapshot& snapshot) const;

  const std::string& source() const { return source_; }

 private:
  ZoneIndex intern_zone(std::string zone);
  UnknownZoneRule unknown_zone_;
  std::string source_ = "zone map";
  std::vector<Rule> rules_;
  std::vector<ZoneIndex> rule_zones_;
  std::vector<std::pair<std::string, ZoneIndex>> zone_labels_;    // sorted
  std::vector<std::pair<std::string, ZoneIndex>> region_labels_;  // sorted
  std::vector<std::string> zones_;
};

inline constexpr std::string_view kTopologyZoneLabel = "topology.kubernetes.io/zone";
inline constexpr std::string_view kTopologyRegionLabel = "topology.kubernetes.io/region";

/// One cycle's carbon view: per zone index, the intensity and whether it is
/// usable. Built once per cycle; scoring reads it by node zone index.
struct ZoneIntensities {
  std::int64_t at = 0;
  std::int64_t window_seconds = 0;
  IntensityKind kind = IntensityKind::kAverageLifecycle;
  std::vector<double> g_per_kwh;      // per zone index; NaN where not usable
  std::vector<std::uint8_t> usable;   // 1 / 0 per zone index
  std::vector<ZoneReading> readings;  // per zone index, for explanations

  /// The usable intensity of a zone index; false for kUnknownZone, an index
  /// out of range or an unusable zone.
  bool lookup(ZoneIndex zone, double* g_per_kwh_out) const noexcept {
    if (zone >= usable.size() || !usable[zone]) return false;
    *g_per_kwh_out = g_per_kwh[zone];
    return true;
  }

  /// Evaluates every zone of `map` at t (window_seconds > 0: evaluate_window,
  /// the "expected run time" mean). The kind is policy.kind, else the one
  /// kind of the map's zones' series; throws InvalidInput if they mix kinds
  /// and policy.kind is unset. A zone of another kind is unusable.
  static ZoneIntensities compute(const ZoneMap& map, const CarbonSignals& signals, std::int64_t t,
                                 const SignalPolicy& policy = {}, std::int64_t window_seconds = 0);
};

CARBONKUBE_NAMESPACE_END
