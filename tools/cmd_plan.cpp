// `carbonkube plan`: the temporal planner from the command line, for one job
// (when its scheduling gate should lift) or replayed over a batch trace such
// as the Azure trace of data/README.md (emissions of running at arrival,
// planning on a forecast, and perfect knowledge).
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/energy.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/workload_trace.hpp"
#include "commands.hpp"

namespace carbonkube::cli {

const char* const kPlanUsage =
    R"(  carbonkube plan --signals FILE [--zone Z] [--scope direct|lifecycle] [--model M]
                  (--arrival TIME --duration DUR (--deadline TIME | --max-delay DUR)
                   [--interruptible] [--power-kw X] | --trace FILE [--max-delay DUR]
                   [--interruptible] [--limit N] [--issue-every DUR])
      The temporal planner on an Electricity Maps portal CSV. M is ridge
      (default), seasonal-naive or perfect; forecasts are issued at each UTC
      midnight for 168 h. One job: prints {"start", "gateLiftAt", "runs",
      "expectedG", "immediateG", "actualG", ...}: when its scheduling gate
      (carbon-kube.io/carbon-window) should lift. --trace replays a CSV of
      arrival_time,length,cpus (hours since the start of the data; the Azure
      trace format), each job allowed --max-delay (default 24h), with power
      cpus x 3.5 W x PUE 1.135 (Cloud Carbon Footprint), and prints the
      emissions of running at arrival, of the model's plans and of perfect
      knowledge, all scored on the actual data. --issue-every sets the
      forecast cadence of the replay (default 24h; 1h re-forecasts hourly).
)";

namespace {

std::int64_t parse_time(const std::string& flag, const std::string& v) {
  if (!v.empty() && v.find_first_not_of("0123456789") == std::string::npos) {
    std::int64_t t = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), t);
    if (ec != std::errc() || p != v.data() + v.size())
      throw UsageError(fmt::format("{}: \"{}\" is out of range", flag, v));
    return t;
  }
  std::int64_t t = 0;
  std::string error;
  if (!try_parse_timestamp(v, &t, &error)) throw UsageError(fmt::format("{}: {}", flag, error));
  return t;
}

std::int64_t parse_duration(const std::string& flag, const std::string& v) {
  double s = 0;
  try {
    s = parse_go_duration(v);
  } catch (const Error& e) {
    throw UsageError(fmt::format("{}: {}", flag, e.what()));
  }
  if (!(s >= 0) || s > 1e10) throw UsageError(fmt::format("{}: \"{}\" is out of range", flag, v));
  return static_cast<std::int64_t>(std::ceil(s));
}

double parse_number(std::string_view text, std::string_view where) {
  double d = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(d))
    throw InvalidInput(fmt::format("{}: \"{}\" is not a number", where, text));
  return d;
}

nlohmann::json runs_json(const Plan& p) {
  nlohmann::json runs = nlohmann::json::array();
  for (const Run& r : p.runs)
    runs.push_back({{"start", format_timestamp(r.start)}, {"end", format_timestamp(r.end)}});
  return runs;
}

}  // namespace

int plan(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string signals, zone, trace;
  IntensityScope scope = IntensityScope::kLifecycle;
  ForecastModel model = ForecastModel::kRidge;
  std::optional<std::int64_t> arrival, duration, deadline, max_delay;
  bool interruptible = false;
  double power_kw = 1.0;
  std::size_t limit = 0;
  std::int64_t issue_every = 86400;
  for (ArgReader arg(args); arg.next();) {
    const std::string& k = arg.flag();
    auto value = [&]() -> const std::string& { return arg.value(); };
    if (k == "--signals") {
      signals = value();
    } else if (k == "--zone") {
      zone = value();
    } else if (k == "--scope") {
      const std::string& v = value();
      if (v != "direct" && v != "lifecycle")
        throw UsageError(fmt::format("--scope: \"{}\" is not direct or lifecycle", v));
      scope = v == "direct" ? IntensityScope::kDirect : IntensityScope::kLifecycle;
    } else if (k == "--model") {
      const std::string& v = value();
      auto m = parse_forecast_model(v);
      if (!m)
        throw UsageError(fmt::format("--model: \"{}\" is not ridge, seasonal-naive or perfect", v));
      model = *m;
    } else if (k == "--arrival") {
      arrival = parse_time(k, value());
    } else if (k == "--duration") {
      duration = parse_duration(k, value());
    } else if (k == "--deadline") {
      deadline = parse_time(k, value());
    } else if (k == "--max-delay") {
      max_delay = parse_duration(k, value());
    } else if (k == "--interruptible") {
      interruptible = true;
    } else if (k == "--power-kw") {
      power_kw = parse_number(value(), "--power-kw");
    } else if (k == "--trace") {
      trace = value();
    } else if (k == "--issue-every") {
      issue_every = parse_duration(k, value());
      if (issue_every <= 0 || issue_every % 3600 != 0)
        throw UsageError("--issue-every: a positive whole number of hours");
    } else if (k == "--limit") {
      const double d = parse_number(value(), "--limit");
      if (d < 0 || d != std::floor(d)) throw UsageError("--limit: a non-negative integer");
      limit = static_cast<std::size_t>(d);
    } else {
      throw UsageError(fmt::format("unknown option \"{}\"", k));
    }
  }
  if (signals.empty()) throw UsageError("plan needs --signals FILE");
  SignalLoad load = load_electricitymaps_csv(read_file(signals, input_limits()), signals, scope,
                                             limited_signal_options());
  for (const std::string& w : load.warnings) fmt::print(err, "carbonkube: warning: {}\n", w);
  const ZoneSeries* series = nullptr;
  for (const ZoneSeries& s : load.series) {
    if (!zone.empty() && s.zone != zone) continue;
    if (series)
      throw UsageError(fmt::format("{} holds several zones; pick one with --zone", signals));
    series = &s;
  }
  if (!series) throw InvalidInput(fmt::format("{}: no zone \"{}\"", signals, zone));
  const HourlyGrid grid = resample(*series);
  const IntensityCurve actual = IntensityCurve::from_grid(grid);
  constexpr std::int64_t kDay = 86400;
  constexpr std::int64_t kHour = 3600;
  constexpr std::size_t kHorizon = 168;
  // Ridge needs 8 days of lags; the other models start there too so the
  // three replay the same jobs.
  const std::int64_t first_issue = grid.start + 8 * kDay;
  Planner planner;

  if (!trace.empty()) {
    if (arrival || duration || deadline)
      throw UsageError("--trace replays a trace: no --arrival, --duration or --deadline");
    const std::int64_t delay = max_delay.value_or(24 * kHour);
    std::vector<TraceJob> jobs = load_workload_csv(trace, input_limits());
    if (limit > 0 && jobs.size() > limit) jobs.resize(limit);
    const RollingForecast fc(grid, model, first_issue, issue_every, kHorizon);
    const RollingForecast perfect(grid, ForecastModel::kPerfect, first_issue, issue_every,
                                  kHorizon);
    const double watts_per_cpu = kCcfAwsMaxWattsPerVcpu * kCcfAwsPue;
    double now_g = 0, model_g = 0, perfect_g = 0, delay_s = 0, kwh = 0;
    std::size_t planned = 0, skipped = 0;
    Plan p;
    for (const TraceJob& j : jobs) {
      PlannedJob job;
      job.arrival = grid.start + static_cast<std::int64_t>(std::llround(j.arrival_hours * 3600));
      job.duration_seconds = std::max<std::int64_t>(1, std::llround(j.length_hours * 3600));
      job.deadline = job.arrival + job.duration_seconds + delay;
      job.interruptible = interruptible;
      job.power_kw = j.cpus * watts_per_cpu / 1000.0;
      const IntensityCurve* curve = nullptr;
      if (job.arrival >= first_issue) curve = &fc.curve_at(job.arrival);
      if (!curve || job.arrival + job.duration_seconds > curve->end()) {
        ++skipped;  // before the first forecast or past the data: not planned
        continue;
      }
      ++planned;
      const Run now_run{job.arrival, job.arrival + job.duration_seconds};
      now_g += emissions_g(actual, job, std::span<const Run>(&now_run, 1));
      kwh += job.power_kw * static_cast<double>(job.duration_seconds) / 3600.0;
      planner.plan(*curve, within_curve(*curve, job), p);
      model_g += emissions_g(actual, job, p.runs);
      delay_s += static_cast<double>(p.start - job.arrival);
      const IntensityCurve& pc = perfect.curve_at(job.arrival);
      planner.plan(pc, within_curve(pc, job), p);
      perfect_g += p.expected_g;
    }
    const double n = static_cast<double>(std::max<std::size_t>(planned, 1));
    out << nlohmann::json{{"zone", grid.zone},
                          {"model", std::string(to_string(model))},
                          {"maxDelayHours", static_cast<double>(delay) / 3600.0},
                          {"interruptible", interruptible},
                          {"issueEveryHours", static_cast<double>(issue_every) / 3600.0},
                          {"jobs", planned},
                          {"skipped", skipped},
                          {"energyKwh", kwh},
                          {"runAtArrivalKg", now_g / 1000.0},
                          {"plannedKg", model_g / 1000.0},
                          {"perfectKg", perfect_g / 1000.0},
                          {"savingPercent", now_g > 0 ? 100.0 * (now_g - model_g) / now_g : 0.0},
                          {"perfectSavingPercent",
                           now_g > 0 ? 100.0 * (now_g - perfect_g) / now_g : 0.0},
                          {"meanStartDelayHours", delay_s / n / 3600.0}}
               .dump(2)
        << "\n";
    return 0;
  }

  if (!arrival || !duration) throw UsageError("plan needs --arrival and --duration (or --trace)");
  if (!deadline && !max_delay) throw UsageError("plan needs --deadline or --max-delay");
  constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();
  PlannedJob job;
  job.arrival = *arrival;
  job.duration_seconds = *duration;
  job.deadline =
      std::min(deadline.value_or(kNever), max_delay ? *arrival + *max_delay + *duration : kNever);
  job.interruptible = interruptible;
  job.power_kw = power_kw;
  const std::int64_t issue =
      std::max(first_issue, job.arrival - ((job.arrival % kDay) + kDay) % kDay);
  if (job.arrival < first_issue)
    throw InvalidInput(fmt::format("--arrival {} is before the first forecast ({}: 8 days into {})",
                                   format_timestamp(job.arrival), format_timestamp(first_issue),
                                   signals));
  const RollingForecast fc(grid, model, issue, kDay, kHorizon);
  const IntensityCurve& curve = fc.curve_at(job.arrival);
  const PlannedJob trimmed = within_curve(curve, job);
  Plan p = planner.plan(curve, trimmed);
  nlohmann::json j = {{"zone", grid.zone},
                      {"model", std::string(to_string(model))},
                      {"forecastIssued", format_timestamp(issue)},
                      {"arrival", format_timestamp(job.arrival)},
                      {"deadline", format_timestamp(trimmed.deadline)},
                      {"start", format_timestamp(p.start)},
                      {"gateLiftAt", format_timestamp(p.start)},
                      {"delaySeconds", p.start - job.arrival},
                      {"runs", runs_json(p)},
                      {"expectedG", p.expected_g},
                      {"immediateG", p.immediate_g},
                      {"expectedSavingG", p.saving_g()}};
  if (trimmed.deadline <= actual.end()) {
    const Run now_run{job.arrival, job.arrival + job.duration_seconds};
    j["actualG"] = emissions_g(actual, job, p.runs);
    j["actualImmediateG"] = emissions_g(actual, job, std::span<const Run>(&now_run, 1));
  }
  out << j.dump(2) << "\n";
  return 0;
}

}  // namespace carbonkube::cli
