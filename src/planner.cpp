// The temporal planner: intensity curves with prefix integrals, exact
// best-start search, cleanest-slot selection for interruptible jobs, and the
// deferrable-pod annotations and scheduling gate.
#include "carbonkube/planner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "carbonkube/error.hpp"
#include "carbonkube/qos.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr double kSecondsPerHour = 3600.0;
// Two starts whose emissions differ by less than this fraction tie (prefix
// sums differ in the last bits for equal integrals).
constexpr double kTieFraction = 1e-12;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

void check_job(const IntensityCurve& curve, const PlannedJob& job) {
  if (job.duration_seconds <= 0)
    throw InvalidInput(
        fmt::format("planned job: duration_seconds is {}: must be > 0", job.duration_seconds));
  if (job.deadline - job.arrival < job.duration_seconds)
    throw InvalidInput(fmt::format("planned job: deadline {} is before arrival {} + duration {} s",
                                   format_timestamp(job.deadline), format_timestamp(job.arrival),
                                   job.duration_seconds));
  if (!std::isfinite(job.power_kw) || job.power_kw < 0)
    throw InvalidInput(
        fmt::format("planned job: power_kw is {}: must be finite and >= 0", job.power_kw));
  for (std::size_t i = 0; i < job.power_profile_kw.size(); ++i)
    if (!std::isfinite(job.power_profile_kw[i]) || job.power_profile_kw[i] < 0)
      throw InvalidInput(
          fmt::format("planned job: power_profile_kw[{}] is {}: must be finite and >= 0", i,
                      job.power_profile_kw[i]));
  if (job.interruptible && !job.power_profile_kw.empty())
    throw InvalidInput(
        "planned job: an interruptible job takes a constant power_kw, not a power profile");
  if (job.arrival < curve.start() || job.deadline > curve.end())
    throw InvalidInput(fmt::format("planned job: its window [{}, {}) is not inside {} [{}, {})",
                                   format_timestamp(job.arrival), format_timestamp(job.deadline),
                                   curve.source(), format_timestamp(curve.start()),
                                   format_timestamp(curve.end())));
}

// Emissions (g) of one run of `job` over [s, s + len) whose run time so far
// is `elapsed`.
double run_cost(const IntensityCurve& curve, const PlannedJob& job, std::int64_t s,
                std::int64_t len, std::int64_t elapsed) {
  if (job.power_profile_kw.empty())
    return job.power_kw * curve.integral(s, s + len) / kSecondsPerHour;
  const std::int64_t step = curve.step_seconds();
  const std::size_t last = job.power_profile_kw.size() - 1;
  double g = 0;
  std::int64_t t = s;
  const std::int64_t end = s + len;
  while (t < end) {
    const std::int64_t phase = (elapsed + (t - s)) / step;
    const std::size_t pi = std::min(static_cast<std::size_t>(phase), last);
    const std::int64_t phase_end =
        pi == last ? end : std::min(end, s + (phase + 1) * step - elapsed);
    g += job.power_profile_kw[pi] * curve.integral(t, phase_end);
    t = phase_end;
  }
  return g / kSecondsPerHour;
}

}  // namespace

// ---------------------------------------------------------------------------
// IntensityCurve

IntensityCurve::IntensityCurve(std::int64_t start, std::int64_t step_seconds,
                               std::vector<double> g_per_kwh, std::string_view source)
    : start_(start),
      step_(step_seconds),
      end_(start),
      values_(std::move(g_per_kwh)),
      source_(source) {
  if (step_ <= 0)
    throw InvalidInput(fmt::format("{}: step_seconds is {}: must be > 0", source_, step_));
  if (values_.empty()) throw InvalidInput(fmt::format("{}: no values", source_));
  prefix_.resize(values_.size() + 1);
  prefix_[0] = 0;
  const auto step = static_cast<double>(step_);
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const double v = values_[i];
    if (!std::isfinite(v) || v < 0)
      throw InvalidInput(
          fmt::format("{}: value [{}] at {} is {} g/kWh: must be finite and >= 0", source_, i,
                      format_timestamp(start_ + static_cast<std::int64_t>(i) * step_), v));
    prefix_[i + 1] = prefix_[i] + v * step;
  }
  end_ = start_ + static_cast<std::int64_t>(values_.size()) * step_;
}

IntensityCurve IntensityCurve::from_grid(const HourlyGrid& grid) {
  IntensityCurve c(grid.start, grid.step_seconds, grid.g_per_kwh,
                   fmt::format("zone \"{}\" history", grid.zone));
  c.kind_ = grid.kind;
  return c;
}

IntensityCurve IntensityCurve::with_forecast(const HourlyGrid& grid, std::int64_t issue_time,
                                             std::span<const double> forecast) {
  if (grid.step_seconds <= 0 || issue_time < grid.start || issue_time > grid.end() ||
      (issue_time - grid.start) % grid.step_seconds != 0)
    throw InvalidInput(
        fmt::format("zone \"{}\": forecast issue time {} is not a cell boundary "
                    "of its grid",
                    grid.zone, format_timestamp(issue_time)));
  const auto known = static_cast<std::size_t>((issue_time - grid.start) / grid.step_seconds);
  std::vector<double> v(grid.g_per_kwh.begin(),
                        grid.g_per_kwh.begin() + static_cast<std::ptrdiff_t>(known));
  v.insert(v.end(), forecast.begin(), forecast.end());
  IntensityCurve c(
      grid.start, grid.step_seconds, std::move(v),
      fmt::format("zone \"{}\" forecast issued {}", grid.zone, format_timestamp(issue_time)));
  c.kind_ = grid.kind;
  return c;
}

double IntensityCurve::integral(std::int64_t t0, std::int64_t t1) const noexcept {
  auto cum = [this](std::int64_t t) {
    if (t >= end_) return prefix_.back();
    const std::int64_t off = t - start_;
    const auto i = static_cast<std::size_t>(off / step_);
    return prefix_[i] + values_[i] * static_cast<double>(off % step_);
  };
  return cum(t1) - cum(t0);
}

double IntensityCurve::at(std::int64_t t) const noexcept {
  return values_[static_cast<std::size_t>((t - start_) / step_)];
}

// ---------------------------------------------------------------------------
// Planner

void Planner::plan(const IntensityCurve& curve, const PlannedJob& job, Plan& out) {
  check_job(curve, job);
  const std::int64_t d = job.duration_seconds;
  const std::int64_t lo = job.arrival;
  const std::int64_t hi = job.deadline - d;  // latest start
  const std::int64_t step = curve.step_seconds();
  out.runs.clear();
  out.immediate_g = run_cost(curve, job, lo, d, 0);
  out.status = hi == lo ? PlanStatus::kImmediate : PlanStatus::kOk;

  if (!job.interruptible || hi == lo) {
    std::int64_t best_s = lo;
    double best = out.immediate_g;
    auto consider = [&](std::int64_t s) {
      if (s <= lo || s > hi) return;
      const double c = run_cost(curve, job, s, d, 0);
      const double eps = kTieFraction * std::max(std::abs(best), std::abs(c));
      if (c < best - eps || (c <= best + eps && s < best_s)) {
        best = c;
        best_s = s;
      }
    };
    consider(hi);
    // Starts on a cell boundary, and starts whose end is on one.
    const std::int64_t origin = curve.start();
    for (std::int64_t k = floor_div(lo - origin, step) + 1;; ++k) {
      const std::int64_t b = origin + k * step;
      if (b > hi) break;
      consider(b);
    }
    for (std::int64_t k = floor_div(lo + d - origin, step) + 1;; ++k) {
      const std::int64_t b = origin + k * step - d;
      if (b > hi) break;
      consider(b);
    }
    out.start = best_s;
    out.expected_g = best;
    out.runs.push_back({best_s, best_s + d});
    return;
  }

  // Interruptible, constant power: the cleanest pieces of [lo, deadline).
  pieces_.clear();
  for (std::int64_t t = lo; t < job.deadline;) {
    const std::int64_t cell_end = curve.start() + (floor_div(t - curve.start(), step) + 1) * step;
    const std::int64_t e = std::min(cell_end, job.deadline);
    pieces_.push_back({t, e, curve.at(t)});
    t = e;
  }
  std::sort(pieces_.begin(), pieces_.end(), [](const Piece& a, const Piece& b) {
    return a.g_per_kwh != b.g_per_kwh ? a.g_per_kwh < b.g_per_kwh : a.start < b.start;
  });
  std::int64_t need = d;
  std::size_t used = 0;
  for (; used < pieces_.size() && need > 0; ++used) {
    Piece& p = pieces_[used];
    const std::int64_t take = std::min(need, p.end - p.start);
    p.end = p.start + take;
    need -= take;
  }
  pieces_.resize(used);
  std::sort(pieces_.begin(), pieces_.end(),
            [](const Piece& a, const Piece& b) { return a.start < b.start; });
  double g = 0;
  for (const Piece& p : pieces_) {
    g += p.g_per_kwh * static_cast<double>(p.end - p.start);
    if (!out.runs.empty() && out.runs.back().end == p.start)
      out.runs.back().end = p.end;
    else
      out.runs.push_back({p.start, p.end});
  }
  out.expected_g = job.power_kw * g / kSecondsPerHour;
  // Never worse than running straight through (equal cells tie to the front).
  if (out.expected_g > out.immediate_g) {
    out.runs.assign(1, Run{lo, lo + d});
    out.expected_g = out.immediate_g;
  }
  out.start = out.runs.front().start;
}

int Planner::plan_across(std::span<const IntensityCurve* const> curves, const PlannedJob& job,
                         Plan& out) {
  int best = -1;
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const IntensityCurve* c = curves[i];
    if (!c || job.arrival < c->start() || job.deadline > c->end()) continue;
    plan(*c, job, scratch_);
    if (best < 0 || scratch_.expected_g < out.expected_g) {
      best = static_cast<int>(i);
      std::swap(out, scratch_);
    }
  }
  return best;
}

double emissions_g(const IntensityCurve& curve, const PlannedJob& job, std::span<const Run> runs) {
  double g = 0;
  std::int64_t elapsed = 0;
  for (const Run& r : runs) {
    if (r.end < r.start || r.start < curve.start() || r.end > curve.end())
      throw InvalidInput(fmt::format("run [{}, {}) is not inside {} [{}, {})",
                                     format_timestamp(r.start), format_timestamp(r.end),
                                     curve.source(), format_timestamp(curve.start()),
                                     format_timestamp(curve.end())));
    g += run_cost(curve, job, r.start, r.end - r.start, elapsed);
    elapsed += r.end - r.start;
  }
  return g;
}

PlannedJob within_curve(const IntensityCurve& curve, PlannedJob job) {
  if (job.arrival + job.duration_seconds > curve.end())
    throw InvalidInput(
        fmt::format("planned job: arrival {} + duration {} s is past the end of {} ({})",
                    format_timestamp(job.arrival), job.duration_seconds, curve.source(),
                    format_timestamp(curve.end())));
  job.deadline = std::max(job.arrival + job.duration_seconds, std::min(job.deadline, curve.end()));
  return job;
}

// ---------------------------------------------------------------------------
// RollingForecast

std::string_view to_string(ForecastModel model) noexcept {
  switch (model) {
    case ForecastModel::kSeasonalNaive:
      return "seasonal-naive";
    case ForecastModel::kRidge:
      return "ridge";
    case ForecastModel::kPerfect:
      return "perfect";
  }
  return "unknown";
}

std::optional<ForecastModel> parse_forecast_model(std::string_view text) {
  for (ForecastModel m :
       {ForecastModel::kSeasonalNaive, ForecastModel::kRidge, ForecastModel::kPerfect})
    if (to_string(m) == text) return m;
  return std::nullopt;
}

RollingForecast::RollingForecast(const HourlyGrid& grid, ForecastModel model,
                                 std::int64_t first_issue, std::int64_t every_seconds,
                                 std::size_t horizon_cells, const RidgeOptions& ridge_options)
    : model_(model), first_(first_issue), every_(every_seconds) {
  constexpr std::size_t kMaxHorizon = 168;
  const std::int64_t step = grid.step_seconds;
  if (step <= 0 || grid.size() == 0)
    throw InvalidInput(fmt::format("rolling forecast: zone \"{}\": empty grid", grid.zone));
  if (every_seconds <= 0 || every_seconds % step != 0)
    throw InvalidInput(fmt::format(
        "rolling forecast: zone \"{}\": the cadence {} s must be a positive multiple of the "
        "cell ({} s)",
        grid.zone, every_seconds, step));
  if (horizon_cells == 0 || horizon_cells > kMaxHorizon)
    throw InvalidInput(fmt::format("rolling forecast: zone \"{}\": horizon {} cells is not 1..{}",
                                   grid.zone, horizon_cells, kMaxHorizon));
  const RidgeForecaster ridge(ridge_options);
  std::vector<double> out;
  for (std::int64_t t = first_issue; t < grid.end(); t += every_seconds) {
    const auto left = static_cast<std::size_t>((grid.end() - t + step - 1) / step);
    out.assign(std::min(horizon_cells, left), 0.0);
    switch (model) {
      case ForecastModel::kSeasonalNaive:
        seasonal_naive(grid, t, out);
        break;
      case ForecastModel::kRidge:
        ridge.forecast(grid, t, out);
        break;
      case ForecastModel::kPerfect: {
        if (t < grid.start || (t - grid.start) % step != 0)
          throw InvalidInput(fmt::format(
              "rolling forecast: zone \"{}\": issue {} is not a cell boundary of the grid",
              grid.zone, format_timestamp(t)));
        const auto i = static_cast<std::size_t>((t - grid.start) / step);
        std::copy_n(grid.g_per_kwh.begin() + static_cast<std::ptrdiff_t>(i), out.size(),
                    out.begin());
        break;
      }
    }
    curves_.emplace_back(t, step, out,
                         fmt::format("zone \"{}\" {} forecast issued {}", grid.zone,
                                     to_string(model), format_timestamp(t)));
    curves_.back().set_kind(grid.kind);
  }
  if (curves_.empty())
    throw InvalidInput(fmt::format("rolling forecast: zone \"{}\": first issue {} is past the grid",
                                   grid.zone, format_timestamp(first_issue)));
}

const IntensityCurve& RollingForecast::curve_at(std::int64_t t) const {
  if (t < first_)
    throw InvalidInput(fmt::format("rolling forecast: {} is before the first issue {}",
                                   format_timestamp(t), format_timestamp(first_)));
  const auto i = std::min(static_cast<std::size_t>((t - first_) / every_), curves_.size() - 1);
  return curves_[i];
}

// ---------------------------------------------------------------------------
// Deferrable pods

namespace {

std::int64_t annotation_duration(const Pod& pod, std::string_view key, const std::string& text) {
  double s = 0;
  try {
    s = parse_go_duration(text);
  } catch (const Error& e) {
    throw InvalidInput(fmt::format("pod {}: annotation {}: {}", pod.key(), key, e.what()));
  }
  if (!std::isfinite(s) || s < 0 || s > 1e12)
    throw InvalidInput(
        fmt::format("pod {}: annotation {}: \"{}\" is out of range", pod.key(), key, text));
  return static_cast<std::int64_t>(std::ceil(s));
}

}  // namespace

std::optional<DeferralSpec> deferral_spec(const Pod& pod, std::int64_t arrival) {
  const std::string* deadline = detail::find_value(pod.annotations, kDeadlineAnnotation);
  const std::string* max_delay = detail::find_value(pod.annotations, kMaxDelayAnnotation);
  if ((!deadline || deadline->empty()) && (!max_delay || max_delay->empty())) return std::nullopt;
  const std::string* duration = detail::find_value(pod.annotations, kExpectedDurationAnnotation);
  if (!duration || duration->empty())
    throw InvalidInput(fmt::format(
        "pod {}: a deferrable pod ({} or {}) needs annotation {} (a Go duration such as \"2h\")",
        pod.key(), kDeadlineAnnotation, kMaxDelayAnnotation, kExpectedDurationAnnotation));
  DeferralSpec spec;
  spec.duration_seconds = annotation_duration(pod, kExpectedDurationAnnotation, *duration);
  if (spec.duration_seconds <= 0)
    throw InvalidInput(fmt::format("pod {}: annotation {}: \"{}\" must be positive", pod.key(),
                                   kExpectedDurationAnnotation, *duration));
  std::int64_t latest = std::numeric_limits<std::int64_t>::max();
  if (deadline && !deadline->empty())
    latest = parse_timestamp(*deadline, false,
                             fmt::format("pod {}: annotation {}", pod.key(), kDeadlineAnnotation));
  if (max_delay && !max_delay->empty())
    latest = std::min(latest, arrival + annotation_duration(pod, kMaxDelayAnnotation, *max_delay) +
                                  spec.duration_seconds);
  spec.deadline = std::max(latest, arrival + spec.duration_seconds);
  if (const std::string* v = detail::find_value(pod.annotations, kInterruptibleAnnotation)) {
    if (*v == "true")
      spec.interruptible = true;
    else if (*v != "false" && !v->empty())
      throw InvalidInput(fmt::format("pod {}: annotation {}: \"{}\" is not \"true\" or \"false\"",
                                     pod.key(), kInterruptibleAnnotation, *v));
  }
  return spec;
}

GateDecision gate_decision(const Pod& pod, const Plan& plan, std::int64_t now) {
  GateDecision d;
  d.gated = std::find(pod.scheduling_gates.begin(), pod.scheduling_gates.end(),
                      kCarbonWindowGate) != pod.scheduling_gates.end();
  d.lift_at = plan.start;
  d.lift = d.gated && plan.start <= now;
  return d;
}

CARBONKUBE_NAMESPACE_END
