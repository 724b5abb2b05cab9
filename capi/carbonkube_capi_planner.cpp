// The C ABI's forecasts and temporal planner (carbonkube.h, "Forecasts and
// the temporal planner") over forecast.hpp and planner.hpp.
#include <cmath>
#include <vector>

#include "carbonkube.h"
#include "carbonkube/forecast.hpp"
#include "carbonkube/planner.hpp"
#include "internal.hpp"

using namespace carbonkube::capi;

static_assert(static_cast<int>(carbonkube::ForecastModel::kPerfect) == CK_FORECAST_PERFECT);

CK_API ck_status ck_signals_forecast(double* out, size_t out_len, const ck_signals* signals,
                                     const char* zone, size_t zone_len, int64_t issue_time,
                                     ck_forecast_model model) {
  return guard("ck_signals_forecast", [&] {
    require(out, "out");
    require(signals, "signals");
    const std::string_view z = text_arg(zone, zone_len, "zone");
    if (out_len == 0 || out_len > 168)
      fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("out_len is {}; it must be 1..168", out_len));
    const std::int32_t m = enum_arg(model);
    if (m != CK_FORECAST_SEASONAL_NAIVE && m != CK_FORECAST_RIDGE && m != CK_FORECAST_PERFECT)
      fail(CK_ERROR_INVALID_ARGUMENT, fmt::format("model {} is not a ck_forecast_model", m));
    if (issue_time % 3600 != 0)
      fail(CK_ERROR_INVALID_INPUT,
           fmt::format("issue_time {} is not a UTC hour boundary", issue_time));
    const ck::ZoneSeries* series = signals->current->find(z);
    if (series == nullptr || series->points.empty())
      fail(CK_ERROR_NOT_FOUND, fmt::format("zone \"{}\" has no carbon data", z));
    const ck::HourlyGrid grid = ck::resample(*series);
    const auto horizon = static_cast<std::int64_t>(out_len) * 3600;
    if (issue_time > grid.end())
      fail(CK_ERROR_INVALID_INPUT,
           fmt::format("zone \"{}\": the history ends at {}, before issue_time {}", z, grid.end(),
                       issue_time));
    std::vector<double> values(out_len);
    switch (m) {
      case CK_FORECAST_SEASONAL_NAIVE:
        ck::seasonal_naive(grid, issue_time, values);
        break;
      case CK_FORECAST_RIDGE:
        ck::RidgeForecaster().forecast(grid, issue_time, values);
        break;
      case CK_FORECAST_PERFECT: {
        if (issue_time < grid.start || issue_time + horizon > grid.end())
          fail(CK_ERROR_INVALID_INPUT,
               fmt::format("zone \"{}\": the perfect forecast needs history over [{}, {}); it "
                           "covers [{}, {})",
                           z, issue_time, issue_time + horizon, grid.start, grid.end()));
        const auto first = static_cast<std::size_t>((issue_time - grid.start) / 3600);
        for (std::size_t i = 0; i < out_len; ++i) values[i] = grid.g_per_kwh[first + i];
        break;
      }
    }
    std::copy(values.begin(), values.end(), out);
  });
}

CK_API ck_status ck_plan_job(ck_plan* out, ck_run* out_runs, size_t runs_len, int64_t curve_start,
                             int64_t step_seconds, const double* values, size_t count,
                             const ck_job* job) {
  return guard("ck_plan_job", [&] {
    require(out, "out");
    require(job, "job");
    if (count > 0) require(values, "values");
    if (runs_len > 0) require(out_runs, "out_runs");
    static const ck_job kDefaults = CK_JOB_INIT;
    const ck_job j = options_arg(job, kDefaults, sizeof(ck_job), "ck_job");
    ck::IntensityCurve curve(curve_start, step_seconds, std::vector<double>(values, values + count),
                             "ck_plan_job curve");
    ck::PlannedJob pj;
    pj.arrival = j.arrival;
    pj.duration_seconds = j.duration_seconds;
    pj.deadline = j.deadline;
    pj.interruptible = j.interruptible != 0;
    pj.power_kw = j.power_kw;
    ck::Planner planner;
    const ck::Plan plan = planner.plan(curve, pj);
    check_capacity(runs_len, plan.runs.size(), "out_runs");
    for (std::size_t i = 0; i < plan.runs.size(); ++i)
      out_runs[i] = {plan.runs[i].start, plan.runs[i].end};
    out->start = plan.start;
    out->expected_g = plan.expected_g;
    out->immediate_g = plan.immediate_g;
    out->run_count = plan.runs.size();
    out->immediate = plan.status == ck::PlanStatus::kImmediate ? 1 : 0;
  });
}
