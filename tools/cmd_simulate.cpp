// `carbonkube simulate`: the trace-driven simulator (simulator.hpp) on carbon
// traces and a workload trace; writes results JSON and CSVs to --out (read
// by scripts/report.py) and a summary table on stdout. Progress goes to
// stderr only when stderr is a terminal.
#include <fmt/format.h>
#include <fmt/ostream.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/simulator.hpp"
#include "carbonkube/workload_trace.hpp"
#include "commands.hpp"

namespace carbonkube::cli {

const char* const kSimulateUsage =
    R"(  carbonkube simulate (--trace FILE | --synthetic N) --signals FILE... [--zones Z,...]
                      [--scope direct|lifecycle] [--nodes N] [--vcpus V] [--pue X]
                      [--slack-hours H] [--policies P,...] [--model ridge|seasonal-naive]
                      [--slack-sweep H,...] [--forecast-every-hours H] [--seed N] [--out DIR]
      Trace-driven simulation: a batch workload trace (CSV arrival_time,length,
      cpus in hours, e.g. data/workloads/azure-100k.csv; or N seeded synthetic
      jobs) on N nodes of V vCPUs per zone (default 4 x 64, PUE 1.135, Cloud
      Carbon Footprint power), carbon from Electricity Maps portal CSVs (trace
      hour 0 = the data's first common hour). Every node choice is a cycle of
      the engine's Scheduler: kube-scheduler's default profile, plus
      CarbonAwareScore (weight 30) for carbon-aware placement. Policies
      (default all): baseline, carbon-placement, temporal,
      temporal+placement and their -oracle (perfect knowledge)
      counterparts; deadline = arrival + length +
      slack (default 24 h). --slack-sweep (default 0,3,6,12,24,48; "none" to
      skip) reruns the shifting policies at each slack. --out DIR writes
      results.json, summary.csv, zones.csv, months.csv, sweep.csv,
      intensity.csv and starts.csv. --seed (default 1) seeds the synthetic
      trace and the Scheduler's random tie-breaking.
)";

namespace {

double parse_num(const std::string& flag, const std::string& v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || !std::isfinite(d))
    throw UsageError(fmt::format("{}: \"{}\" is not a number", flag, v));
  return d;
}

std::size_t parse_count(const std::string& flag, const std::string& v) {
  const double d = parse_num(flag, v);
  if (d < 0 || d != std::floor(d) || d > 1e9)
    throw UsageError(fmt::format("{}: \"{}\" is not a non-negative integer", flag, v));
  return static_cast<std::size_t>(d);
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= v.size()) {
    const std::size_t c = v.find(',', pos);
    const std::string item = v.substr(pos, c == std::string::npos ? std::string::npos : c - pos);
    if (!item.empty()) out.push_back(item);
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(ErrorKind::kIo, fmt::format("{}: cannot write", path.string()));
  f << text;
  if (!f) throw Error(ErrorKind::kIo, fmt::format("{}: write error", path.string()));
}

nlohmann::json opt(std::optional<double> v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

int simulate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  std::string trace_path, out_dir;
  std::vector<std::string> signal_files, zone_names, policy_names;
  IntensityScope scope = IntensityScope::kLifecycle;
  ForecastModel model = ForecastModel::kRidge;
  std::size_t nodes = 4, synthetic = 0;
  double vcpus = 64, pue = kCcfAwsPue;
  std::uint64_t seed = 1;
  SimOptions options;
  std::vector<double> sweep = {0, 3, 6, 12, 24, 48};
  for (ArgReader arg(args); arg.next();) {
    const std::string& k = arg.flag();
    auto value = [&]() -> const std::string& { return arg.value(); };
    if (k == "--trace") {
      trace_path = value();
    } else if (k == "--synthetic") {
      synthetic = parse_count(k, value());
      if (synthetic == 0) throw UsageError("--synthetic: at least one job");
    } else if (k == "--signals") {
      signal_files.push_back(value());
      while (const std::string* more = arg.more_values()) signal_files.push_back(*more);
    } else if (k == "--zones") {
      zone_names = split_list(value());
    } else if (k == "--scope") {
      const std::string& v = value();
      if (v != "direct" && v != "lifecycle")
        throw UsageError(fmt::format("--scope: \"{}\" is not direct or lifecycle", v));
      scope = v == "direct" ? IntensityScope::kDirect : IntensityScope::kLifecycle;
    } else if (k == "--nodes") {
      nodes = parse_count(k, value());
      if (nodes == 0) throw UsageError("--nodes: at least 1");
    } else if (k == "--vcpus") {
      vcpus = parse_num(k, value());
      if (!(vcpus > 0)) throw UsageError("--vcpus: must be > 0");
    } else if (k == "--pue") {
      pue = parse_num(k, value());
      if (!(pue >= 1)) throw UsageError("--pue: must be >= 1");
    } else if (k == "--slack-hours") {
      options.slack_hours = parse_num(k, value());
      if (options.slack_hours < 0) throw UsageError("--slack-hours: must be >= 0");
    } else if (k == "--policies") {
      policy_names = split_list(value());
    } else if (k == "--model") {
      const std::string& v = value();
      auto m = parse_forecast_model(v);
      if (!m || *m == ForecastModel::kPerfect)
        throw UsageError(fmt::format("--model: \"{}\" is not ridge or seasonal-naive", v));
      model = *m;
    } else if (k == "--slack-sweep") {
      const std::string& v = value();
      sweep.clear();
      if (v != "none")
        for (const std::string& s : split_list(v)) {
          const double h = parse_num(k, s);
          if (h < 0) throw UsageError("--slack-sweep: slacks must be >= 0");
          sweep.push_back(h);
        }
    } else if (k == "--forecast-every-hours") {
      const std::size_t h = parse_count(k, value());
      if (h == 0) throw UsageError("--forecast-every-hours: at least 1");
      options.forecast_every_seconds = static_cast<std::int64_t>(h) * 3600;
    } else if (k == "--seed") {
      seed = static_cast<std::uint64_t>(parse_count(k, value()));
      options.seed = seed;
    } else if (k == "--out") {
      out_dir = value();
    } else {
      throw UsageError(fmt::format("unknown option \"{}\"", k));
    }
  }
  if (signal_files.empty()) throw UsageError("simulate needs --signals FILE...");
  if (trace_path.empty() == (synthetic == 0))
    throw UsageError("simulate needs exactly one of --trace FILE and --synthetic N");

  CarbonSignals signals;
  for (const std::string& f : signal_files) {
    SignalLoad load =
        load_electricitymaps_csv(read_file(f, input_limits()), f, scope, limited_signal_options());
    for (const std::string& w : load.warnings) fmt::print(err, "carbonkube: warning: {}\n", w);
    signals.add(std::move(load.series));
  }
  if (zone_names.empty())
    for (const auto& [zone, s] : signals.all()) zone_names.push_back(zone);
  std::vector<ClusterZone> zones;
  for (const std::string& z : zone_names) {
    ClusterZone cz;
    cz.zone = z;
    cz.nodes = nodes;
    cz.power.vcpus = vcpus;
    cz.power.pue = pue;
    zones.push_back(cz);
  }
  std::vector<SimPolicy> policies;
  if (policy_names.empty()) {
    policies = standard_policies(model);
  } else {
    for (const std::string& n : policy_names) {
      auto p = parse_policy(n, model);
      if (!p) throw UsageError(fmt::format("--policies: unknown policy \"{}\"", n));
      policies.push_back(*p);
    }
  }

  std::vector<TraceJob> trace;
  if (synthetic > 0) {
    SyntheticTraceOptions so;
    so.jobs = synthetic;
    so.seed = seed;
    trace = synthetic_trace(so);
  } else {
    trace = load_workload_csv(trace_path, input_limits());
  }
  Simulator sim(signals, zones, std::move(trace), options);
  const bool tty = &err == &std::cerr && isatty(fileno(stderr)) != 0;
  std::string label;
  if (tty)
    sim.set_progress([&](std::size_t done, std::size_t total) {
      constexpr int kWidth = 30;
      const int filled =
          static_cast<int>(kWidth * static_cast<double>(done) / static_cast<double>(total));
      err << fmt::format("\r{:<28} [{:<{}}] {:3.0f}%", label,
                         std::string(static_cast<std::size_t>(filled), '#'), kWidth,
                         100.0 * static_cast<double>(done) / static_cast<double>(total))
          << std::flush;
    });

  std::vector<PolicyResult> results;
  for (const SimPolicy& p : policies) {
    label = p.name;
    results.push_back(sim.run(p));
  }
  struct SweepRow {
    std::string policy;
    double slack;
    PolicyResult r;
  };
  std::vector<SweepRow> sweep_rows;
  std::vector<PolicyResult> sweep_base;
  for (double s : sweep) {
    for (const SimPolicy& p : standard_policies(model)) {
      if (!p.shift && p.name != "baseline") continue;
      label = fmt::format("{} @ {}h", p.name, s);
      sweep_rows.push_back({p.name, s, sim.run(p, s)});
    }
  }
  if (tty) err << "\r" << std::string(70, ' ') << "\r" << std::flush;

  const PolicyResult* baseline = nullptr;
  for (const PolicyResult& r : results)
    if (r.policy.name == "baseline") baseline = &r;
  auto saving = [&](const PolicyResult& r) -> std::optional<double> {
    if (!baseline) return std::nullopt;
    return saving_percent(*baseline, r);
  };
  auto of_oracle = [&](std::size_t i) -> std::optional<double> {
    const int o = oracle_index(policies, policies[i]);
    if (!baseline || o < 0) return std::nullopt;
    return oracle_fraction(*baseline, results[i], results[static_cast<std::size_t>(o)]);
  };

  std::string command = "carbonkube";
  for (const std::string& a : args) command += " " + a;

  // Summary table.
  out << fmt::format(
      "carbonkube simulate: {} jobs ({} past the data excluded), zones {}, slack {} h, {} x {} "
      "vCPUs per zone\n",
      results.front().jobs, results.front().excluded, fmt::join(zone_names, ","),
      options.slack_hours, nodes, vcpus);
  out << fmt::format("{:<26} {:>10} {:>8} {:>9} {:>7} {:>8} {:>8} {:>6} {:>10}\n", "policy",
                     "kgCO2", "saved%", "ofOracle", "misses", "wait_h", "p95_h", "util%", "kWh");
  for (std::size_t i = 0; i < results.size(); ++i) {
    const PolicyResult& r = results[i];
    const auto s = saving(r);
    const auto f = of_oracle(i);
    out << fmt::format("{:<26} {:>10.1f} {:>8} {:>9} {:>7} {:>8.2f} {:>8.2f} {:>6.1f} {:>10.1f}\n",
                       r.policy.name, r.kg, s ? fmt::format("{:.1f}", *s) : "-",
                       f ? fmt::format("{:.2f}", *f) : "-", r.deadline_misses, r.mean_wait_hours,
                       r.p95_wait_hours, 100 * r.utilisation, r.energy_kwh);
  }

  if (out_dir.empty()) return 0;
  const std::filesystem::path dir(out_dir);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw Error(ErrorKind::kIo, fmt::format("{}: cannot create: {}", out_dir, ec.message()));

  nlohmann::json j;
  j["command"] = command;
  j["trace"] =
      synthetic ? fmt::format("synthetic ({} jobs, seed {})", synthetic, seed) : trace_path;
  j["signals"] = signal_files;
  j["zones"] = zone_names;
  j["scope"] = scope == IntensityScope::kDirect ? "direct" : "lifecycle";
  j["model"] = std::string(to_string(model));
  j["slackHours"] = options.slack_hours;
  j["forecastEveryHours"] = options.forecast_every_seconds / 3600;
  j["nodesPerZone"] = nodes;
  j["vcpusPerNode"] = vcpus;
  j["pue"] = pue;
  j["seed"] = seed;
  j["start"] = format_timestamp(sim.start());
  j["hours"] = sim.hours();
  j["firstForecast"] = format_timestamp(sim.first_issue());
  std::string summary_csv =
      "policy,placement,shift,model,kg,saving_percent,oracle_fraction,energy_kwh,idle_kwh,idle_kg,"
      "deadline_misses,capacity_waits,mean_wait_hours,p95_wait_hours,max_wait_hours,utilisation,"
      "jobs,planned,excluded,past_data_end\n";
  std::string zones_csv = "policy,zone,jobs,energy_kwh,kg,idle_kwh,idle_kg,utilisation\n";
  std::string months_csv = "policy,year,month,jobs,energy_kwh,kg\n";
  nlohmann::json jp = nlohmann::json::array();
  for (std::size_t i = 0; i < results.size(); ++i) {
    const PolicyResult& r = results[i];
    const std::string placement =
        r.policy.placement == Placement::kCarbonAware ? "carbon-aware" : "least-allocated";
    const auto s = saving(r);
    const auto f = of_oracle(i);
    nlohmann::json pz = nlohmann::json::array();
    for (const ZoneResult& z : r.zones) {
      pz.push_back({{"zone", z.zone},
                    {"jobs", z.jobs},
                    {"energyKwh", z.energy_kwh},
                    {"kg", z.kg},
                    {"idleKwh", z.idle_kwh},
                    {"idleKg", z.idle_kg},
                    {"utilisation", z.utilisation}});
      zones_csv += fmt::format("{},{},{},{},{},{},{},{}\n", r.policy.name, z.zone, z.jobs,
                               z.energy_kwh, z.kg, z.idle_kwh, z.idle_kg, z.utilisation);
    }
    nlohmann::json pm = nlohmann::json::array();
    for (const MonthResult& m : r.months) {
      pm.push_back({{"year", m.year},
                    {"month", m.month},
                    {"jobs", m.jobs},
                    {"energyKwh", m.energy_kwh},
                    {"kg", m.kg}});
      months_csv += fmt::format("{},{},{},{},{},{}\n", r.policy.name, m.year, m.month, m.jobs,
                                m.energy_kwh, m.kg);
    }
    jp.push_back({{"policy", r.policy.name},
                  {"placement", placement},
                  {"shift", r.policy.shift},
                  {"model", std::string(to_string(r.policy.model))},
                  {"kg", r.kg},
                  {"savingPercent", opt(s)},
                  {"oracleFraction", opt(f)},
                  {"energyKwh", r.energy_kwh},
                  {"idleKwh", r.idle_kwh},
                  {"idleKg", r.idle_kg},
                  {"deadlineMisses", r.deadline_misses},
                  {"capacityWaits", r.capacity_waits},
                  {"meanWaitHours", r.mean_wait_hours},
                  {"p95WaitHours", r.p95_wait_hours},
                  {"maxWaitHours", r.max_wait_hours},
                  {"utilisation", r.utilisation},
                  {"jobs", r.jobs},
                  {"planned", r.planned},
                  {"excluded", r.excluded},
                  {"pastDataEnd", r.past_data_end},
                  {"zones", pz},
                  {"months", pm}});
    summary_csv += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.policy.name, placement,
        r.policy.shift ? 1 : 0, to_string(r.policy.model), r.kg, s ? fmt::format("{}", *s) : "",
        f ? fmt::format("{}", *f) : "", r.energy_kwh, r.idle_kwh, r.idle_kg, r.deadline_misses,
        r.capacity_waits, r.mean_wait_hours, r.p95_wait_hours, r.max_wait_hours, r.utilisation,
        r.jobs, r.planned, r.excluded, r.past_data_end);
  }
  j["policies"] = jp;

  std::string sweep_csv =
      "policy,slack_hours,kg,saving_percent,mean_wait_hours,p95_wait_hours,deadline_misses\n";
  nlohmann::json js = nlohmann::json::array();
  for (const SweepRow& row : sweep_rows) {
    const PolicyResult* b = nullptr;
    for (const SweepRow& o : sweep_rows)
      if (o.slack == row.slack && o.policy == "baseline") b = &o.r;
    const double s = b ? saving_percent(*b, row.r) : 0.0;
    sweep_csv += fmt::format("{},{},{},{},{},{},{}\n", row.policy, row.slack, row.r.kg, s,
                             row.r.mean_wait_hours, row.r.p95_wait_hours, row.r.deadline_misses);
    js.push_back({{"policy", row.policy},
                  {"slackHours", row.slack},
                  {"kg", row.r.kg},
                  {"savingPercent", s},
                  {"meanWaitHours", row.r.mean_wait_hours}});
  }
  j["sweep"] = js;

  const std::size_t H = sim.hours();
  std::string intensity_csv = "hour,time";
  for (const std::string& z : zone_names) {
    intensity_csv += ',';
    intensity_csv += csv_field(z);
  }
  intensity_csv += "\n";
  for (std::size_t h = 0; h < H; ++h) {
    intensity_csv += fmt::format(
        "{},{}", h, format_timestamp(sim.start() + static_cast<std::int64_t>(h) * 3600));
    for (const HourlyGrid& g : sim.grids()) intensity_csv += fmt::format(",{}", g.g_per_kwh[h]);
    intensity_csv += "\n";
  }
  std::string starts_csv = "hour";
  for (const PolicyResult& r : results)
    for (const std::string& z : zone_names) {
      starts_csv += ',';
      starts_csv += csv_field(fmt::format("{}:{}", r.policy.name, z));
    }
  starts_csv += "\n";
  for (std::size_t h = 0; h < H; ++h) {
    starts_csv += fmt::format("{}", h);
    for (const PolicyResult& r : results)
      for (std::size_t z = 0; z < zone_names.size(); ++z)
        starts_csv += fmt::format(",{}", r.starts[z * H + h]);
    starts_csv += "\n";
  }
  write_file(dir / "results.json", j.dump(2) + "\n");
  write_file(dir / "summary.csv", summary_csv);
  write_file(dir / "zones.csv", zones_csv);
  write_file(dir / "months.csv", months_csv);
  write_file(dir / "sweep.csv", sweep_csv);
  write_file(dir / "intensity.csv", intensity_csv);
  write_file(dir / "starts.csv", starts_csv);
  out << fmt::format(
      "wrote {}/results.json and CSVs; plots: .venv/bin/python scripts/report.py {}\n", out_dir,
      out_dir);
  return 0;
}

}  // namespace carbonkube::cli
