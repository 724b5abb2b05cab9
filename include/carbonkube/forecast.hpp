// carbonkube/forecast.hpp: forecasts of a zone's grid carbon intensity for
// the temporal planner (planner.hpp) and the trace-driven simulator. A zone's
// history (signals.hpp ZoneSeries) is resampled once onto a regular grid with
// its gaps filled (HourlyGrid); forecasters read only the cells before their
// issue time, so a forecast never looks ahead. Two models:
//
// - seasonal-naive: each hour takes the value of the same hour on the latest
//   day fully known at issue time (the baseline every grid forecast is
//   judged against);
// - ridge: one regularised linear model per lead hour, refitted at each issue
//   from the preceding weeks, on the same-hour lags (latest known day, the
//   day before it, the same hour a week earlier), the latest value, the last
//   24 h mean and the target's weekday (solved with Eigen).
//
// evaluate_day_ahead() reports day-ahead MAPE for both on a year of data
// (docs/carbon-accounting.md has the figures for the bundled 2023 zones).
// Cold path: a forecast allocates; planners read its output many times.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/signals.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// A zone's intensity on a regular grid: cell i holds g_per_kwh[i] over
/// [start + i·step, start + (i+1)·step). Every value is finite and >= 0;
/// observed[i] is 0 where the value was filled in (a gap in the source).
struct HourlyGrid {
  std::string zone;
  IntensityKind kind = IntensityKind::kAverageLifecycle;
  std::int64_t start = 0;
  std::int64_t step_seconds = 3600;
  std::vector<double> g_per_kwh;
  std::vector<std::uint8_t> observed;

  std::size_t size() const { return g_per_kwh.size(); }
  std::int64_t end() const {
    return start + static_cast<std::int64_t>(g_per_kwh.size()) * step_seconds;
  }
  /// Number of cells the source had no data for.
  std::size_t filled() const;
};

struct GapFillOptions {
  /// Gaps up to this long are filled by linear interpolation between the
  /// cells either side; longer gaps (and gaps at either end) take the value
  /// of the same cell one day earlier, else the nearest observed value.
  std::int64_t max_interpolate_seconds = 6 * 3600;
};

/// Resamples a zone's history (not its forecast) onto [start, end) in cells
/// of step_seconds: each cell is the time-weighted mean of the points that
/// hold in it. start and end must be multiples of step_seconds, end > start.
/// Throws InvalidInput naming the series' source when the range is empty or
/// misaligned, when no cell has data, or when a value is NaN, infinite or
/// negative (a lenient load keeps those; they are never forecast from).
HourlyGrid resample(const ZoneSeries& series, std::int64_t start, std::int64_t end,
                    std::int64_t step_seconds = 3600, const GapFillOptions& gaps = {});
/// resample() over the whole history, from the first point's cell to the
/// end of the last point's cell.
HourlyGrid resample(const ZoneSeries& series, std::int64_t step_seconds = 3600,
                    const GapFillOptions& gaps = {});

/// Seasonal-naive forecast of the `out.size()` cells from issue_time (a cell
/// boundary of the grid, with at least `season_cells` cells before it): the
/// cell i takes the value of cell i − k·season, the smallest k that reaches
/// before issue_time. Throws InvalidInput otherwise.
void seasonal_naive(const HourlyGrid& grid, std::int64_t issue_time, std::span<double> out,
                    std::size_t season_cells = 24);

struct RidgeOptions {
  /// Penalty on the standardised coefficients (the intercept is free).
  double lambda = 3.0;
  /// Issues (one a day) in the training window of each fit.
  int train_days = 56;
  /// Fewer usable samples than this: the model falls back to seasonal-naive
  /// for that lead hour (reported in RidgeForecast::fallback_hours).
  int min_train_days = 14;
};

/// The ridge model above. Stateless between calls: every forecast fits its
/// models from the grid cells before issue_time (rolling origin).
class RidgeForecaster {
 public:
  /// Throws InvalidInput unless lambda is finite and >= 0 and
  /// 1 <= min_train_days <= train_days.
  explicit RidgeForecaster(RidgeOptions options = {});
  const RidgeOptions& options() const { return options_; }

  /// Forecasts out.size() cells (hourly grid cells only: step 3600) from
  /// issue_time, a cell boundary with at least 8 days of grid before it.
  /// Returns the number of lead hours that fell back to seasonal-naive.
  /// Predictions are clamped to >= 0. Throws InvalidInput on a bad grid,
  /// issue time or horizon (more than 168 cells).
  std::size_t forecast(const HourlyGrid& grid, std::int64_t issue_time,
                       std::span<double> out) const;

 private:
  RidgeOptions options_;
};

/// Puts a forecast (cells of step_seconds from issue_time) into the series'
/// forecast slot, replacing any: points marked estimated, forecast_issued_at
/// = issue_time. evaluate_window() and the carbon scoring plugins then use it
/// for a job's expected run-time intensity. Throws InvalidInput on an empty
/// forecast, step <= 0 or a value that is NaN, infinite or negative.
void attach_forecast(ZoneSeries& series, std::int64_t issue_time, std::span<const double> values,
                     std::int64_t step_seconds = 3600);

/// Day-ahead accuracy on one zone: forecasts issued at every UTC midnight
/// from `first_issue` (default: the first midnight with train_days + 8 days
/// of grid before it) for the next 24 hours, scored against the grid's
/// observed cells (filled cells are not scored).
struct ForecastAccuracy {
  std::string zone;
  std::size_t issues = 0;          // forecasts made
  std::size_t hours = 0;           // hours scored
  double mape_seasonal_naive = 0;  // mean |actual - forecast| / actual, percent
  double mape_ridge = 0;
  double mae_seasonal_naive = 0;  // g/kWh
  double mae_ridge = 0;
  std::size_t zero_hours = 0;  // observed hours equal to 0: in MAE, not in MAPE
};

ForecastAccuracy evaluate_day_ahead(const HourlyGrid& grid, const RidgeOptions& options = {},
                                    std::int64_t first_issue = 0);

CARBONKUBE_NAMESPACE_END
