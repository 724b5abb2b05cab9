// carbonkube/planner.hpp: the temporal planner. For deferrable work (a job
// that arrives, runs for a known time and must finish by a deadline) it picks
// the start time, or for interruptible work the slots, that minimise expected
// emissions against an intensity curve: a forecast (forecast.hpp) for real
// decisions, the actual series for the perfect-knowledge bound. In Kubernetes
// the plan becomes the time a pod's scheduling gate lifts (spec.schedulingGates);
// the pod annotations that make a pod deferrable are parsed here too
// (docs/carbon-accounting.md, "Deferrable pods").
//
// Who calls it: a gate controller once per pending gated pod, and the
// trace-driven simulator once per job (100k jobs a second and more). Build the
// IntensityCurve once per zone and forecast; plan() then does no parsing and,
// with a reused Plan and Planner, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/forecast.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// A piecewise-constant intensity: cell i holds g_per_kwh[i] over
/// [start + i·step, start + (i+1)·step). The values never change after
/// construction; prefix integrals make the emissions of any interval O(1).
class IntensityCurve {
 public:
  /// Throws InvalidInput naming `source` unless step > 0, the curve is
  /// non-empty and every value is finite and >= 0.
  IntensityCurve(std::int64_t start, std::int64_t step_seconds, std::vector<double> g_per_kwh,
                 std::string_view source = "intensity curve");
  /// The grid as it is (history, gaps filled).
  static IntensityCurve from_grid(const HourlyGrid& grid);
  /// The grid's cells before issue_time, then `forecast` (cells from
  /// issue_time on): what a planner knows at issue_time.
  static IntensityCurve with_forecast(const HourlyGrid& grid, std::int64_t issue_time,
                                      std::span<const double> forecast);

  std::int64_t start() const { return start_; }
  std::int64_t end() const { return end_; }
  std::int64_t step_seconds() const { return step_; }
  std::span<const double> values() const { return values_; }
  const std::string& source() const { return source_; }
  /// The intensity kind when known (from_grid, with_forecast and
  /// RollingForecast set it); the ledger refuses to mix kinds.
  std::optional<IntensityKind> kind() const { return kind_; }
  void set_kind(std::optional<IntensityKind> kind) { kind_ = kind; }

  /// ∫ intensity dt over [t0, t1) in g/kWh·s; requires start() <= t0 <= t1 <= end().
  double integral(std::int64_t t0, std::int64_t t1) const noexcept;
  /// The value of the cell holding t (start() <= t < end()).
  double at(std::int64_t t) const noexcept;

 private:
  std::int64_t start_;
  std::int64_t step_;
  std::int64_t end_;
  std::vector<double> values_;
  std::vector<double> prefix_;  // prefix_[i] = Σ_{k<i} values_[k]·step
  std::string source_;
  std::optional<IntensityKind> kind_;
};

/// One job to plan. Times are unix seconds.
struct PlannedJob {
  std::int64_t arrival = 0;           // earliest start
  std::int64_t duration_seconds = 0;  // run time (> 0)
  std::int64_t deadline = 0;          // latest completion; >= arrival + duration
  /// The job can stop and resume (checkpointing; a Job's spec.suspend): the
  /// planner may split it into several runs on curve cell boundaries.
  bool interruptible = false;
  /// Average facility power while it runs, kW (IT power × PUE: energy.hpp).
  double power_kw = 1.0;
  /// Optional power over run time, one value (kW) per curve step of run time
  /// (the last value holds to the end). Non-interruptible jobs only.
  std::span<const double> power_profile_kw;
};

struct Run {
  std::int64_t start = 0;
  std::int64_t end = 0;
  friend bool operator==(const Run&, const Run&) = default;
};

enum class PlanStatus : std::uint8_t {
  kOk,
  kImmediate,  // no window to choose from (deadline == arrival + duration)
};

struct Plan {
  PlanStatus status = PlanStatus::kOk;
  /// When the job starts (the first run's start): the time its scheduling
  /// gate should lift.
  std::int64_t start = 0;
  std::vector<Run> runs;   // sorted, disjoint, non-adjacent; total = duration
  double expected_g = 0;   // emissions of the plan on the curve, gCO2
  double immediate_g = 0;  // emissions if started at arrival and run through
  double saving_g() const { return immediate_g - expected_g; }
  std::int64_t delay_seconds(std::int64_t arrival) const { return start - arrival; }
};

/// Plans jobs against curves. Holds scratch memory, so one per thread; the
/// curve may be shared by any number of planners.
class Planner {
 public:
  /// Writes the plan into `out` (its vectors are reused). Starts are
  /// exact: the emissions are piecewise linear in the start time (for a
  /// constant power and for a per-step power profile alike), and every
  /// breakpoint (a start or an end on a cell boundary, the arrival, the
  /// latest start) is tried, so the minimum is the true one;
  /// ties go to the earliest start. Interruptible jobs take the cleanest
  /// cells of [arrival, deadline) (ties: earliest), which is optimal for
  /// constant power. Throws InvalidInput (naming the field) when the job is
  /// malformed (duration <= 0, deadline too early, power not finite or < 0,
  /// a profile with an interruptible job) or when [arrival, deadline) is not
  /// inside the curve.
  void plan(const IntensityCurve& curve, const PlannedJob& job, Plan& out);
  Plan plan(const IntensityCurve& curve, const PlannedJob& job) {
    Plan p;
    plan(curve, job, p);
    return p;
  }

  /// Where and when: plans the job on each zone's curve and writes the
  /// cleanest plan into `out`; returns the index of its curve (ties: the
  /// first), or -1 when no curve covers [arrival, deadline) (out is then
  /// untouched). Null curves are skipped. Throws InvalidInput for a
  /// malformed job.
  int plan_across(std::span<const IntensityCurve* const> curves, const PlannedJob& job, Plan& out);

 private:
  struct Piece {
    std::int64_t start;
    std::int64_t end;
    double g_per_kwh;
  };
  std::vector<Piece> pieces_;
  Plan scratch_;
};

/// Emissions (gCO2) of `runs` of `job` on `curve` (e.g. a plan made on a
/// forecast, scored on the actual series). Throws InvalidInput when a run
/// is outside the curve.
double emissions_g(const IntensityCurve& curve, const PlannedJob& job, std::span<const Run> runs);

/// The job with its deadline trimmed to the curve's end (never below
/// arrival + duration), for horizons shorter than some deadlines. Throws
/// InvalidInput when even arrival + duration is past the curve.
PlannedJob within_curve(const IntensityCurve& curve, PlannedJob job);

/// Forecasts issued at a fixed cadence over a grid, as the curves a planner
/// reads: curve_at(t) is the forecast of the latest issue at or before t,
/// covering [issue, issue + horizon). What the simulator replays: each job
/// is planned on curve_at(arrival) and scored on the actual grid.
enum class ForecastModel : std::uint8_t {
  kSeasonalNaive,
  kRidge,
  kPerfect,  // the actual cells: the perfect-knowledge bound
};
std::string_view to_string(ForecastModel model) noexcept;
/// "seasonal-naive", "ridge", "perfect"; nullopt otherwise.
std::optional<ForecastModel> parse_forecast_model(std::string_view text);

class RollingForecast {
 public:
  /// Issues at first_issue, first_issue + every, ... while the issue is
  /// before the grid's end (a horizon past the grid's end is cut there;
  /// for kPerfect, kSeasonalNaive and kRidge alike). first_issue must be a
  /// cell boundary with the history the model needs (ridge: 8 days; seasonal-
  /// naive: 1 day; perfect: none); every > 0 a multiple of the cell; horizon
  /// 1..168 cells. Throws InvalidInput otherwise.
  RollingForecast(const HourlyGrid& grid, ForecastModel model, std::int64_t first_issue,
                  std::int64_t every_seconds = 86400, std::size_t horizon_cells = 48,
                  const RidgeOptions& ridge = {});

  /// The curve of the latest issue at or before t; throws InvalidInput when
  /// t is before the first issue.
  const IntensityCurve& curve_at(std::int64_t t) const;
  std::size_t issues() const { return curves_.size(); }
  std::int64_t first_issue() const { return first_; }
  std::int64_t every_seconds() const { return every_; }
  ForecastModel model() const { return model_; }

 private:
  ForecastModel model_;
  std::int64_t first_;
  std::int64_t every_;
  std::vector<IntensityCurve> curves_;
};

// ---------------------------------------------------------------------------
// Deferrable pods and scheduling gates

/// Pod annotations that make a pod deferrable (docs/carbon-accounting.md):
/// a duration is required; then either a deadline or a maximum delay.
inline constexpr std::string_view kExpectedDurationAnnotation = "carbon-kube.io/expected-duration";
inline constexpr std::string_view kDeadlineAnnotation = "carbon-kube.io/deadline";
inline constexpr std::string_view kMaxDelayAnnotation = "carbon-kube.io/max-delay";
inline constexpr std::string_view kInterruptibleAnnotation = "carbon-kube.io/interruptible";
/// The scheduling gate a deferrable pod is created with; the gate controller
/// removes it when the plan's start time comes.
inline constexpr std::string_view kCarbonWindowGate = "carbon-kube.io/carbon-window";

struct DeferralSpec {
  std::int64_t duration_seconds = 0;
  std::int64_t deadline = 0;  // latest completion, unix seconds
  bool interruptible = false;
};

/// The pod's deferral, relative to `arrival` (when the pod was created or
/// first seen): nullopt when it has neither carbon-kube.io/deadline nor
/// carbon-kube.io/max-delay (the pod is not deferrable). deadline is RFC
/// 3339; max-delay and expected-duration are Go durations ("6h", "90m");
/// with both, the earlier deadline wins. A deadline already too late to
/// meet gives deadline = arrival + duration (run now). Throws InvalidInput
/// naming the pod and annotation on a malformed value, a missing or
/// non-positive expected-duration, or an interruptible value other than
/// "true"/"false".
std::optional<DeferralSpec> deferral_spec(const Pod& pod, std::int64_t arrival);

/// What a gate controller does with a gated pod at `now`.
struct GateDecision {
  bool lift = false;         // remove carbon-kube.io/carbon-window now
  std::int64_t lift_at = 0;  // when it should be removed (<= now when lift)
  bool gated = false;        // the pod carries the gate at all
};
GateDecision gate_decision(const Pod& pod, const Plan& plan, std::int64_t now);

CARBONKUBE_NAMESPACE_END
