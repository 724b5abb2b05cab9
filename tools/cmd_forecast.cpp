// `carbonkube forecast`: day-ahead forecast accuracy (MAPE and MAE) of the
// ridge model against seasonal-naive for each zone of Electricity Maps
// portal CSVs (docs/carbon-accounting.md).
#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/signals.hpp"
#include "commands.hpp"

namespace carbonkube::cli {

const char* const kForecastUsage =
    R"(  carbonkube forecast --signals FILE [--signals FILE ...] [--scope direct|lifecycle]
                      [--lambda X] [--train-days N] [--json]
      Day-ahead forecast accuracy per zone: forecasts issued at every UTC
      midnight (after train-days + 8 days of history) for the next 24 hours,
      ridge regression on lags, hour and weekday against seasonal-naive
      (yesterday's same hour), scored as MAPE and MAE on the observed hours.
      FILEs are Electricity Maps portal CSVs (data/carbon/electricitymaps/);
      --scope picks the direct or life-cycle column (default lifecycle).
)";

namespace {

double parse_double(const std::string& flag, const std::string& v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size())
    throw UsageError(fmt::format("{}: \"{}\" is not a number", flag, v));
  return d;
}

}  // namespace

int forecast(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::vector<std::string> files;
  IntensityScope scope = IntensityScope::kLifecycle;
  RidgeOptions options;
  bool json = false;
  for (ArgReader arg(args); arg.next();) {
    const std::string& k = arg.flag();
    auto value = [&]() -> const std::string& { return arg.value(); };
    if (k == "--signals") {
      files.push_back(value());
    } else if (k == "--scope") {
      const std::string& v = value();
      if (v == "direct")
        scope = IntensityScope::kDirect;
      else if (v == "lifecycle")
        scope = IntensityScope::kLifecycle;
      else
        throw UsageError(fmt::format("--scope: \"{}\" is not direct or lifecycle", v));
    } else if (k == "--lambda") {
      options.lambda = parse_double(k, value());
    } else if (k == "--train-days") {
      const double d = parse_double(k, value());
      if (d < 1 || d > 365 || d != static_cast<int>(d))
        throw UsageError("--train-days: an integer 1..365");
      options.train_days = static_cast<int>(d);
      options.min_train_days = std::min(options.min_train_days, options.train_days);
    } else if (k == "--json") {
      json = true;
    } else {
      throw UsageError(fmt::format("unknown option \"{}\"", k));
    }
  }
  if (files.empty()) throw UsageError("forecast needs --signals FILE");
  nlohmann::json zones = nlohmann::json::array();
  if (!json)
    fmt::print(out, "{:<14} {:>6} {:>7}  {:>12} {:>10}  {:>12} {:>10}\n", "zone", "days", "hours",
               "MAPE naive", "MAPE ridge", "MAE naive", "MAE ridge");
  for (const std::string& path : files) {
    SignalLoad load = load_electricitymaps_csv(read_file(path, input_limits()), path, scope,
                                               limited_signal_options());
    for (const std::string& w : load.warnings) fmt::print(err, "carbonkube: warning: {}\n", w);
    for (const ZoneSeries& s : load.series) {
      HourlyGrid grid = resample(s);
      ForecastAccuracy a = evaluate_day_ahead(grid, options);
      if (json) {
        zones.push_back({{"zone", a.zone},
                         {"kind", std::string(to_string(grid.kind))},
                         {"issues", a.issues},
                         {"hours", a.hours},
                         {"filledHours", grid.filled()},
                         {"mapeSeasonalNaive", a.mape_seasonal_naive},
                         {"mapeRidge", a.mape_ridge},
                         {"maeSeasonalNaive", a.mae_seasonal_naive},
                         {"maeRidge", a.mae_ridge}});
      } else {
        fmt::print(out, "{:<14} {:>6} {:>7}  {:>11.2f}% {:>9.2f}%  {:>12.1f} {:>10.1f}\n", a.zone,
                   a.issues, a.hours, a.mape_seasonal_naive, a.mape_ridge, a.mae_seasonal_naive,
                   a.mae_ridge);
      }
    }
  }
  if (json)
    out << nlohmann::json{{"model",
                           {{"lambda", options.lambda}, {"trainDays", options.train_days}}},
                          {"zones", zones}}
               .dump(2)
        << "\n";
  return 0;
}

}  // namespace carbonkube::cli
