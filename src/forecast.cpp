// Forecasts of grid carbon intensity: resampling with gap filling,
// seasonal-naive, the per-lead-hour ridge model and day-ahead evaluation.
#include "carbonkube/forecast.hpp"

#include <fmt/format.h>
#include <Eigen/Dense>

#include <algorithm>
#include <array>
#include <cmath>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 86400;
constexpr std::size_t kDayCells = 24;
constexpr std::size_t kWeekCells = 168;
constexpr std::size_t kMaxRidgeHorizon = 168;
// Features: two same-hour daily lags, the same hour a week earlier, the
// latest value, the last-24 h mean, six weekday indicators (Monday is the
// reference).
constexpr std::size_t kFeatures = 11;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// 0 = Monday ... 6 = Sunday (1970-01-01 was a Thursday).
int weekday(std::int64_t unix_seconds) {
  return static_cast<int>((floor_div(unix_seconds, kDay) + 3) % 7 + 7) % 7;
}

std::size_t check_issue(const HourlyGrid& g, std::int64_t issue_time, std::size_t horizon,
                        std::size_t min_before, std::string_view who) {
  if (g.size() == 0 || g.step_seconds <= 0 || g.observed.size() != g.size())
    throw InvalidInput(fmt::format("{}: zone \"{}\": the grid is empty or malformed", who, g.zone));
  if (issue_time < g.start || issue_time > g.end() || (issue_time - g.start) % g.step_seconds != 0)
    throw InvalidInput(fmt::format(
        "{}: zone \"{}\": issue time {} is not a cell boundary of the grid [{}, {})", who, g.zone,
        format_timestamp(issue_time), format_timestamp(g.start), format_timestamp(g.end())));
  const auto idx = static_cast<std::size_t>((issue_time - g.start) / g.step_seconds);
  if (idx < min_before)
    throw InvalidInput(fmt::format(
        "{}: zone \"{}\": issue time {} has {} cells of history before it; {} are needed", who,
        g.zone, format_timestamp(issue_time), idx, min_before));
  if (horizon == 0)
    throw InvalidInput(fmt::format("{}: zone \"{}\": the horizon is empty", who, g.zone));
  return idx;
}

// Cell j's latest same-phase cell before the issue cell: j - k·season.
std::size_t seasonal_source(std::size_t j, std::size_t issue, std::size_t season) {
  const std::size_t lead = j - issue;
  return j - season * (lead / season + 1);
}

void features(const HourlyGrid& g, std::size_t issue, std::size_t j, double mean24,
              std::array<double, kFeatures>& f) {
  const auto& y = g.g_per_kwh;
  const std::size_t d1 = seasonal_source(j, issue, kDayCells);
  f[0] = y[d1];
  f[1] = y[d1 - kDayCells];
  f[2] = y[seasonal_source(j, issue, kWeekCells)];
  f[3] = y[issue - 1];
  f[4] = mean24;
  const int wd = weekday(g.start + static_cast<std::int64_t>(j) * g.step_seconds);
  for (int k = 1; k < 7; ++k) f[static_cast<std::size_t>(4 + k)] = wd == k ? 1.0 : 0.0;
}

double mean_before(const HourlyGrid& g, std::size_t issue) {
  double s = 0;
  for (std::size_t i = issue - kDayCells; i < issue; ++i) s += g.g_per_kwh[i];
  return s / static_cast<double>(kDayCells);
}

}  // namespace

std::size_t HourlyGrid::filled() const {
  return static_cast<std::size_t>(std::count(observed.begin(), observed.end(), 0));
}

HourlyGrid resample(const ZoneSeries& series, std::int64_t start, std::int64_t end,
                    std::int64_t step_seconds, const GapFillOptions& gaps) {
  const std::string who = fmt::format("{}: zone \"{}\"", series.source, series.zone);
  if (step_seconds <= 0 || end <= start || start % step_seconds != 0 || end % step_seconds != 0)
    throw InvalidInput(fmt::format(
        "{}: cannot resample [{}, {}) in cells of {} s: the range must be non-empty and "
        "aligned to the cell size",
        who, start, end, step_seconds));
  if (gaps.max_interpolate_seconds < 0)
    throw InvalidInput(fmt::format("{}: max_interpolate_seconds must be >= 0", who));
  for (const SignalPoint& p : series.points)
    if (!std::isfinite(p.g_per_kwh) || p.g_per_kwh < 0)
      throw InvalidInput(fmt::format("{}: the point at {} is {} g/kWh: not a usable intensity", who,
                                     format_timestamp(p.unix_seconds), p.g_per_kwh));
  HourlyGrid g;
  g.zone = series.zone;
  g.kind = series.kind;
  g.start = start;
  g.step_seconds = step_seconds;
  const auto n = static_cast<std::size_t>((end - start) / step_seconds);
  g.g_per_kwh.assign(n, 0.0);
  g.observed.assign(n, 0);
  std::size_t have = 0;
  for (std::size_t i = 0; i < n; ++i) {
    WindowAverage w = series.window_average(start + static_cast<std::int64_t>(i) * step_seconds,
                                            step_seconds, /*use_forecast=*/false);
    if (w.covered_seconds > 0 && std::isfinite(w.g_per_kwh)) {
      g.g_per_kwh[i] = w.g_per_kwh;
      g.observed[i] = 1;
      ++have;
    }
  }
  if (have == 0)
    throw InvalidInput(fmt::format("{}: no data in [{}, {})", who, format_timestamp(start),
                                   format_timestamp(end)));
  // Fill gaps in time order: interpolate short interior gaps; otherwise the
  // cell a day earlier (observed or already filled, so a run of missing days
  // repeats the last known day), else the nearest observed value.
  const auto max_gap = static_cast<std::size_t>(gaps.max_interpolate_seconds / step_seconds);
  const auto day_cells = static_cast<std::size_t>(kDay / step_seconds);
  std::size_t i = 0;
  while (i < n) {
    if (g.observed[i]) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < n && !g.observed[j]) ++j;  // gap [i, j)
    const bool interior = i > 0 && j < n;
    if (interior && j - i <= max_gap) {
      const double a = g.g_per_kwh[i - 1];
      const double b = g.g_per_kwh[j];
      const auto span = static_cast<double>(j - i + 1);
      for (std::size_t k = i; k < j; ++k)
        g.g_per_kwh[k] = a + (b - a) * static_cast<double>(k - i + 1) / span;
    } else {
      for (std::size_t k = i; k < j; ++k) {
        if (day_cells > 0 && k >= day_cells)  // every cell before k is set by now
          g.g_per_kwh[k] = g.g_per_kwh[k - day_cells];
        else
          g.g_per_kwh[k] = i > 0 ? g.g_per_kwh[i - 1] : g.g_per_kwh[j];
      }
    }
    i = j;
  }
  return g;
}

HourlyGrid resample(const ZoneSeries& series, std::int64_t step_seconds,
                    const GapFillOptions& gaps) {
  if (series.points.empty())
    throw InvalidInput(
        fmt::format("{}: zone \"{}\": no history to resample", series.source, series.zone));
  if (step_seconds <= 0)
    throw InvalidInput(
        fmt::format("{}: zone \"{}\": the cell size must be positive", series.source, series.zone));
  const std::int64_t first = floor_div(series.points.front().unix_seconds, step_seconds);
  const std::int64_t last =
      floor_div(series.points.back().unix_seconds + series.period_seconds - 1, step_seconds) + 1;
  return resample(series, first * step_seconds, last * step_seconds, step_seconds, gaps);
}

void seasonal_naive(const HourlyGrid& grid, std::int64_t issue_time, std::span<double> out,
                    std::size_t season_cells) {
  if (season_cells == 0)
    throw InvalidInput(fmt::format("seasonal_naive: zone \"{}\": the season is empty", grid.zone));
  const std::size_t issue =
      check_issue(grid, issue_time, out.size(), season_cells, "seasonal_naive");
  for (std::size_t h = 0; h < out.size(); ++h)
    out[h] = grid.g_per_kwh[seasonal_source(issue + h, issue, season_cells)];
}

RidgeForecaster::RidgeForecaster(RidgeOptions options) : options_(options) {
  if (!std::isfinite(options_.lambda) || options_.lambda < 0)
    throw InvalidInput(
        fmt::format("RidgeOptions.lambda: {} is not a finite number >= 0", options_.lambda));
  if (options_.min_train_days < 1 || options_.train_days < options_.min_train_days)
    throw InvalidInput(fmt::format("RidgeOptions: need 1 <= min_train_days ({}) <= train_days ({})",
                                   options_.min_train_days, options_.train_days));
}

std::size_t RidgeForecaster::forecast(const HourlyGrid& grid, std::int64_t issue_time,
                                      std::span<double> out) const {
  if (grid.step_seconds != kHour)
    throw InvalidInput(fmt::format("ridge forecast: zone \"{}\": needs an hourly grid, got {} s",
                                   grid.zone, grid.step_seconds));
  if (out.size() > kMaxRidgeHorizon)
    throw InvalidInput(fmt::format("ridge forecast: zone \"{}\": horizon {} h is over {} h",
                                   grid.zone, out.size(), kMaxRidgeHorizon));
  // Lags reach back 8 days (the week lag of the day-before lag).
  constexpr std::size_t kMinHistory = kWeekCells + kDayCells;
  const std::size_t issue =
      check_issue(grid, issue_time, out.size(), kMinHistory, "ridge forecast");
  const double mean_now = mean_before(grid, issue);
  const auto train_days = static_cast<std::size_t>(options_.train_days);

  std::size_t fallbacks = 0;
  Eigen::MatrixXd x(static_cast<Eigen::Index>(train_days), static_cast<Eigen::Index>(kFeatures));
  Eigen::VectorXd y(static_cast<Eigen::Index>(train_days));
  std::array<double, kFeatures> f{};
  for (std::size_t h = 0; h < out.size(); ++h) {
    // Training issues: the same time of day, k days earlier, whose target
    // (lead h) was observed before this issue.
    Eigen::Index n = 0;
    for (std::size_t k = h / kDayCells + 1; k <= h / kDayCells + train_days; ++k) {
      if (k * kDayCells > issue || issue - k * kDayCells < kMinHistory) break;
      const std::size_t past = issue - k * kDayCells;
      const std::size_t target = past + h;
      if (target >= issue || !grid.observed[target]) continue;
      features(grid, past, target, mean_before(grid, past), f);
      for (std::size_t c = 0; c < kFeatures; ++c) x(n, static_cast<Eigen::Index>(c)) = f[c];
      y(n) = grid.g_per_kwh[target];
      ++n;
    }
    features(grid, issue, issue + h, mean_now, f);
    if (n < options_.min_train_days) {
      out[h] = f[0];  // seasonal-naive
      ++fallbacks;
      continue;
    }
    auto xs = x.topRows(n);
    auto ys = y.head(n);
    const Eigen::RowVectorXd mu = xs.colwise().mean();
    Eigen::MatrixXd z = xs.rowwise() - mu;
    Eigen::RowVectorXd sd = (z.array().square().colwise().sum() / static_cast<double>(n)).sqrt();
    for (Eigen::Index c = 0; c < sd.size(); ++c) {
      if (sd(c) < 1e-9) {
        sd(c) = 1.0;
        z.col(c).setZero();  // a constant column carries nothing
      } else {
        z.col(c) /= sd(c);
      }
    }
    const double ybar = ys.mean();
    Eigen::MatrixXd a = z.transpose() * z;
    a.diagonal().array() += options_.lambda;
    const Eigen::VectorXd beta = a.ldlt().solve(z.transpose() * (ys.array() - ybar).matrix());
    double pred = ybar;
    for (std::size_t c = 0; c < kFeatures; ++c) {
      const auto ci = static_cast<Eigen::Index>(c);
      pred += beta(ci) * (f[c] - mu(ci)) / sd(ci);
    }
    out[h] = std::isfinite(pred) ? std::max(0.0, pred) : f[0];
  }
  return fallbacks;
}

void attach_forecast(ZoneSeries& series, std::int64_t issue_time, std::span<const double> values,
                     std::int64_t step_seconds) {
  if (values.empty() || step_seconds <= 0)
    throw InvalidInput(fmt::format("{}: zone \"{}\": a forecast needs values and a step > 0",
                                   series.source, series.zone));
  std::vector<SignalPoint> points;
  points.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::int64_t t = issue_time + static_cast<std::int64_t>(i) * step_seconds;
    if (!std::isfinite(values[i]) || values[i] < 0)
      throw InvalidInput(fmt::format("{}: zone \"{}\": forecast value for {} is {}", series.source,
                                     series.zone, format_timestamp(t), values[i]));
    points.push_back({t, values[i], true});
  }
  series.forecast = std::move(points);
  series.forecast_period_seconds = step_seconds;
  series.forecast_issued_at = issue_time;
}

ForecastAccuracy evaluate_day_ahead(const HourlyGrid& grid, const RidgeOptions& options,
                                    std::int64_t first_issue) {
  RidgeForecaster ridge(options);
  if (grid.step_seconds != kHour)
    throw InvalidInput(
        fmt::format("evaluate_day_ahead: zone \"{}\": needs an hourly grid", grid.zone));
  ForecastAccuracy acc;
  acc.zone = grid.zone;
  const std::int64_t earliest =
      grid.start + (static_cast<std::int64_t>(options.train_days) + 8) * kDay;
  std::int64_t t = std::max(first_issue, earliest);
  t = floor_div(t + kDay - 1, kDay) * kDay;  // next UTC midnight
  std::array<double, kDayCells> sn{};
  std::array<double, kDayCells> rg{};
  double ape_sn = 0, ape_rg = 0, ae_sn = 0, ae_rg = 0;
  std::size_t pct_hours = 0;
  for (; t + kDay <= grid.end(); t += kDay) {
    seasonal_naive(grid, t, sn);
    ridge.forecast(grid, t, rg);
    ++acc.issues;
    const auto issue = static_cast<std::size_t>((t - grid.start) / kHour);
    for (std::size_t h = 0; h < kDayCells; ++h) {
      if (!grid.observed[issue + h]) continue;
      const double actual = grid.g_per_kwh[issue + h];
      ++acc.hours;
      ae_sn += std::abs(actual - sn[h]);
      ae_rg += std::abs(actual - rg[h]);
      if (actual <= 0) {
        ++acc.zero_hours;
        continue;
      }
      ++pct_hours;
      ape_sn += std::abs(actual - sn[h]) / actual;
      ape_rg += std::abs(actual - rg[h]) / actual;
    }
  }
  if (acc.hours > 0) {
    acc.mae_seasonal_naive = ae_sn / static_cast<double>(acc.hours);
    acc.mae_ridge = ae_rg / static_cast<double>(acc.hours);
  }
  if (pct_hours > 0) {
    acc.mape_seasonal_naive = 100.0 * ape_sn / static_cast<double>(pct_hours);
    acc.mape_ridge = 100.0 * ape_rg / static_cast<double>(pct_hours);
  }
  return acc;
}

CARBONKUBE_NAMESPACE_END
