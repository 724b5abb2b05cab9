#include "cli.hpp"

#include "commands.hpp"

#include <fmt/format.h>
#include <fmt/ostream.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include "carbonkube/conditions.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/pod.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/scheduler.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/topology.hpp"
#include "carbonkube/version.hpp"

namespace carbonkube::cli {

const char* const kScoreUsage =
    R"(  carbonkube score --nodes FILE [--pods FILE] [--config FILE] [--profile NAME]
                   [--signals FILE [--signals-format F] [--scope S] --zones FILE [--at TIME]]
                   [--cnrs FILE] [--seed N] [--explain]
      Scores every pending pod against the cluster, in order, and prints JSON:
      {"results": [{"pod", "selected", "nodes": [{"name", "feasible",
      "reasons", "scores", "total"}]}]}. Each placed pod is assumed bound
      before the next is scored, as kube-scheduler does. FILEs are JSON or
      YAML as `kubectl get -o json|yaml` prints them (List, NodeList, PodList
      or a stream of documents); --nodes may hold pods too. Without --config,
      the seed's katalyst-carbon-scheduler profile is used
      (examples/config/katalyst-carbon-scheduler.yaml); --config with a
      KubeSchedulerConfiguration without profiles gives kube-scheduler's defaults.
      --signals: carbon intensity (repeatable); formats: electricitymaps-csv,
      electricitymaps-json, watttime, uk-carbon-intensity, carbon-aware-sdk, or
      auto (default: by extension and content). --scope direct|lifecycle picks
      the Electricity Maps CSV column (default lifecycle). --zones: the ZoneMap
      from node labels to grid zones. --at: RFC 3339 time or unix seconds
      (default: the newest signal point). --cnrs: Katalyst CustomNodeResources.
      --explain adds a readable table on stderr.
)";

namespace {

struct ScoreArgs {
  std::vector<std::string> object_files;
  std::vector<std::string> signal_files;
  std::string signals_format = "auto";
  std::string scope = "lifecycle";
  std::string zones;
  std::string at;
  std::vector<std::string> cnr_files;
  std::string config;
  std::string profile;
  std::uint64_t seed = 0;
  bool explain = false;
};

ScoreArgs parse_score_args(const std::vector<std::string>& args) {
  ScoreArgs a;
  bool have_nodes = false;
  for (ArgReader arg(args); arg.next();) {
    const std::string& k = arg.flag();
    auto value = [&]() -> const std::string& { return arg.value(); };
    if (k == "--nodes") {
      a.object_files.push_back(value());
      have_nodes = true;
    } else if (k == "--pods") {
      a.object_files.push_back(value());
    } else if (k == "--config") {
      a.config = value();
    } else if (k == "--profile") {
      a.profile = value();
    } else if (k == "--seed") {
      const std::string& v = value();
      try {
        std::size_t used = 0;
        if (v.empty() || v[0] < '0' || v[0] > '9') throw std::invalid_argument(v);
        a.seed = std::stoull(v, &used);
        if (used != v.size()) throw std::invalid_argument(v);
      } catch (const std::exception&) {
        throw UsageError(fmt::format("--seed: \"{}\" is not a non-negative integer", v));
      }
    } else if (k == "--signals") {
      a.signal_files.push_back(value());
    } else if (k == "--signals-format") {
      a.signals_format = value();
    } else if (k == "--scope") {
      a.scope = value();
      if (a.scope != "direct" && a.scope != "lifecycle")
        throw UsageError(fmt::format("--scope: \"{}\" is not direct or lifecycle", a.scope));
    } else if (k == "--zones") {
      a.zones = value();
    } else if (k == "--at") {
      a.at = value();
    } else if (k == "--cnrs") {
      a.cnr_files.push_back(value());
    } else if (k == "--explain") {
      a.explain = true;
    } else {
      throw UsageError(fmt::format("unknown option \"{}\"", k));
    }
  }
  if (!have_nodes) throw UsageError("score needs --nodes FILE");
  if (!a.signal_files.empty() && a.zones.empty())
    throw UsageError("--signals needs --zones FILE (which grid zone each node is in)");
  if (a.signal_files.empty() && (!a.zones.empty() || !a.at.empty()))
    throw UsageError("--zones and --at need --signals FILE");
  return a;
}

void print_table(std::ostream& err, const Explanation& ex, const Profile& profile) {
  fmt::print(err, "pod {}: selected {}\n", ex.pod, ex.selected.value_or("(none)"));
  std::string header = fmt::format("  {:<24} {:>8}", "node", "total");
  for (const auto& s : profile.scores()) header += fmt::format(" {:>12.12}", s.plugin->name());
  fmt::print(err, "{}  reasons\n", header);
  for (const auto& n : ex.nodes) {
    std::string line = fmt::format("  {:<24.24} ", n.name);
    if (!n.evaluated) {
      fmt::print(err, "{}{:>8}  (not evaluated: percentageOfNodesToScore reached)\n", line, "-");
      continue;
    }
    line += n.feasible ? fmt::format("{:>8}", n.total) : fmt::format("{:>8}", "-");
    for (const auto& s : profile.scores()) {
      std::string cell = "-";
      for (const auto& [name, v] : n.scores)
        if (name == s.plugin->name()) cell = std::to_string(v);
      line += fmt::format(" {:>12}", cell);
    }
    std::string reasons;
    for (const auto& r : n.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
    if (!n.feasible) reasons = n.failed_plugin + ": " + reasons;
    if (ex.selected && *ex.selected == n.name)
      reasons = "<- selected" + (reasons.empty() ? "" : " " + reasons);
    fmt::print(err, "{}  {}\n", line, reasons);
  }
}

// Picks the loader from --signals-format, else as detect_signal_format says
// (the rule every front end shares).
SignalLoad load_signal_file(const std::string& path, const std::string& format,
                            IntensityScope scope, const SignalLoadOptions& options) {
  const std::string text = read_file(path, options.limits);
  std::optional<SignalFormat> f;
  if (format == "auto") {
    f = detect_signal_format(text, path);
    if (!f)
      throw InvalidInput(
          fmt::format("{}: cannot tell the carbon data format; give --signals-format", path));
  } else {
    f = parse_signal_format(format);
    if (!f) throw UsageError(fmt::format("--signals-format: unknown format \"{}\"", format));
  }
  return carbonkube::load_signals(text, path, *f, scope, options);
}

std::int64_t parse_at(const std::string& at) {
  if (!at.empty() &&
      std::all_of(at.begin(), at.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(at.data(), at.data() + at.size(), v);
    if (ec != std::errc() || p != at.data() + at.size())
      throw UsageError(fmt::format("--at: \"{}\" is out of range", at));
    return v;
  }
  std::int64_t t = 0;
  std::string error;
  if (!try_parse_timestamp(at, &t, &error)) throw UsageError(fmt::format("--at: {}", error));
  return t;
}

}  // namespace

int score(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  ScoreArgs a = parse_score_args(args);
  KubeObjects objects;
  for (const auto& path : a.object_files) {
    KubeObjects part = parse_kube_objects(read_file(path, input_limits()), path, input_limits());
    for (auto& n : part.nodes) objects.nodes.push_back(std::move(n));
    for (auto& p : part.pods) objects.pods.push_back(std::move(p));
  }
  if (objects.nodes.empty()) throw InvalidInput("no Node objects in the input files");
  // Every profile of the configuration; a pod is scored by the one named by
  // its spec.schedulerName, else by the first (or only by --profile).
  std::vector<Scheduler> schedulers;
  {
    SchedulerConfig config =
        a.config.empty()
            ? parse_scheduler_config(seed_profile_yaml(), "seed profile", input_limits())
            : parse_scheduler_config(read_file(a.config, input_limits()), a.config, input_limits());
    if (!a.profile.empty()) {
      schedulers.emplace_back(compile_profile(config, a.profile));
    } else {
      for (const auto& pc : config.profiles)
        schedulers.emplace_back(compile_profile(config, pc.scheduler_name));
    }
  }
  auto scheduler_for = [&](const Pod& pod) -> const Scheduler& {
    if (a.profile.empty())
      for (const auto& s : schedulers)
        if (s.profile().scheduler_name() == pod.scheduler_name) return s;
    return schedulers.front();
  };
  CarbonSignals signals;
  std::int64_t newest = 0;
  for (const auto& path : a.signal_files) {
    SignalLoad load =
        load_signal_file(path, a.signals_format,
                         a.scope == "direct" ? IntensityScope::kDirect : IntensityScope::kLifecycle,
                         limited_signal_options());
    for (const auto& w : load.warnings) err << "carbonkube: warning: " << w << "\n";
    for (const auto& series : load.series)
      if (!series.points.empty()) newest = std::max(newest, series.points.back().unix_seconds);
    signals.add(std::move(load.series));
  }
  std::optional<ZoneMap> zones;
  if (!a.zones.empty())
    zones = ZoneMap::parse(read_file(a.zones, input_limits()), a.zones, input_limits());
  if (!a.signal_files.empty() && a.at.empty() && newest == 0)
    throw InvalidInput(
        "the --signals files hold no data points; nothing to score with (give --at to say when)");
  const std::int64_t at = a.at.empty() ? newest : parse_at(a.at);
  std::vector<NodeTopology> topologies;
  for (const auto& path : a.cnr_files) {
    TopologyObjects t = parse_topologies(read_file(path, input_limits()), path, input_limits());
    for (auto& n : t.nodes) topologies.push_back(std::move(n));
  }

  ClusterState state;
  std::map<std::string, int> seen;
  for (const Node& n : objects.nodes) {
    if (seen[n.name]++)
      throw InvalidInput(fmt::format("node \"{}\" appears more than once", n.name));
    state.upsert_node(n);
  }
  std::vector<const Pod*> pending;
  std::map<std::string, int> seen_pods;
  for (const Pod& p : objects.pods) {
    if (seen_pods[p.key()]++)
      throw InvalidInput(fmt::format("pod \"{}\" appears more than once", p.key()));
    if (p.counts_as_usage())
      state.upsert_pod(p);
    else if (p.is_pending())
      pending.push_back(&p);
  }
  SnapshotPtr snap = state.publish();

  nlohmann::ordered_json doc;
  const Profile& prof = schedulers.front().profile();
  nlohmann::ordered_json pj;
  pj["schedulerName"] = prof.scheduler_name();
  pj["percentageOfNodesToScore"] = prof.percentage_of_nodes_to_score();
  pj["filters"] = nlohmann::ordered_json::array();
  for (const Plugin* f : prof.filters()) pj["filters"].push_back(std::string(f->name()));
  pj["scores"] = nlohmann::ordered_json::array();
  for (const auto& s : prof.scores())
    pj["scores"].push_back({{"name", std::string(s.plugin->name())}, {"weight", s.weight}});
  pj["inactive"] = prof.inactive_plugins();
  doc["profile"] = pj;
  doc["results"] = nlohmann::ordered_json::array();

  // Conditions follow the snapshot: rebuilt after each assumed binding.
  std::optional<TopologyTable> topology;
  std::optional<ClusterConditions> conditions;
  auto refresh_conditions = [&] {
    if (!zones && a.cnr_files.empty()) return;
    conditions = zones ? ClusterConditions::build(*snap, *zones, signals, at) : ClusterConditions{};
    conditions->snapshot_generation = snap->generation();
    if (!a.cnr_files.empty()) {
      topology = TopologyTable::build(*snap, topologies);
      conditions->topology = &*topology;
    }
  };
  refresh_conditions();
  if (conditions && zones) {
    nlohmann::ordered_json zj = nlohmann::ordered_json::array();
    for (std::size_t z = 0; z < zones->zones().size(); ++z) {
      const ZoneReading& r = conditions->intensities.readings[z];
      nlohmann::ordered_json e;
      e["zone"] = zones->zones()[z];
      e["usable"] = r.usable;
      e["gCO2PerKWh"] =
          r.usable ? nlohmann::ordered_json(r.g_per_kwh) : nlohmann::ordered_json(nullptr);
      e["reason"] = r.reason_text;
      const int p = conditions->zone_profile[z];
      e["qosProfile"] = p >= 0 ? nlohmann::ordered_json((*conditions->profiles)[p].name)
                               : nlohmann::ordered_json(nullptr);
      zj.push_back(e);
    }
    doc["carbon"] = {{"at", format_timestamp(at)}, {"zones", zj}};
  }
  if (topology && !topology->unmatched().empty())
    for (const auto& name : topology->unmatched())
      err << "carbonkube: warning: CustomNodeResource \"" << name << "\" names no node\n";

  ScoringContext ctx(a.seed);
  int failed_pods = 0;
  for (const Pod* p : pending) {
    const Scheduler& scheduler = scheduler_for(*p);
    const ClusterConditions* cond = conditions ? &*conditions : nullptr;
    CompiledPod cp;
    CycleResult r;
    Explanation ex;
    try {
      cp = compile_pod(*p, *snap);
      r = scheduler.schedule(*snap, cp, ctx, cond);
      ex = explain(scheduler, *snap, cp, ctx, r, cond);
    } catch (const InvalidInput& e) {
      // A bad pod (e.g. a malformed carbon annotation) is reported and
      // skipped; the others are still scored, and the exit code is 2.
      ++failed_pods;
      err << "carbonkube: error: " << e.what() << "\n";
      doc["results"].push_back({{"pod", p->key()}, {"selected", nullptr}, {"error", e.what()}});
      continue;
    }
    nlohmann::ordered_json res;
    res["pod"] = ex.pod;
    res["profile"] = scheduler.profile().scheduler_name();
    res["selected"] =
        ex.selected ? nlohmann::ordered_json(*ex.selected) : nlohmann::ordered_json(nullptr);
    res["feasibleNodes"] = r.feasible;
    res["evaluatedNodes"] = r.processed;
    res["nodes"] = nlohmann::ordered_json::array();
    for (const auto& n : ex.nodes) {
      nlohmann::ordered_json nj;
      nj["name"] = n.name;
      nj["feasible"] = n.feasible;
      if (!n.evaluated) nj["evaluated"] = false;
      nj["reasons"] = n.reasons;
      nlohmann::ordered_json scores = nlohmann::ordered_json::object();
      for (const auto& [name, v] : n.scores) scores[name] = v;
      nj["scores"] = scores;
      nj["total"] = n.feasible ? nlohmann::ordered_json(n.total) : nlohmann::ordered_json(nullptr);
      res["nodes"].push_back(nj);
    }
    doc["results"].push_back(res);
    if (a.explain) print_table(err, ex, scheduler.profile());
    if (r.selected) {
      state.assume_pod(*p, snap->node_name(*r.selected));
      snap = state.publish();
      refresh_conditions();
    }
  }
  out << doc.dump(2) << "\n";
  return failed_pods > 0 ? 2 : 0;
}

namespace {

thread_local ParseLimits current_input_limits;

const char* const kLimitsUsage =
    R"(  Every command also takes input limits, against hostile or runaway files:
      --max-input-bytes N (default 1073741824), --max-objects N (objects,
      points or rows per input; default 1000000), --max-depth N (YAML/JSON
      nesting; default 128). Over a limit, the error names it.
)";

std::size_t limit_value(const std::string& flag, const std::string& v) {
  std::size_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || out == 0)
    throw UsageError(fmt::format("{}: \"{}\" is not a positive integer", flag, v));
  return out;
}

// Takes the limit flags out of args (wherever they are) into
// current_input_limits, so each command sees only its own flags.
std::vector<std::string> take_limit_flags(const std::vector<std::string>& args) {
  current_input_limits = ParseLimits{};
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& k = args[i];
    std::size_t* field = k == "--max-input-bytes" ? &current_input_limits.max_bytes
                         : k == "--max-objects"   ? &current_input_limits.max_objects
                         : k == "--max-depth"     ? &current_input_limits.max_depth
                                                  : nullptr;
    if (!field || i == 0) {
      rest.push_back(k);
      continue;
    }
    if (i + 1 >= args.size()) throw UsageError(fmt::format("{} needs a value", k));
    *field = limit_value(k, args[++i]);
  }
  return rest;
}

// Every subcommand; a new one adds a row here and a file tools/cmd_NAME.cpp.
const Command kCommands[] = {
    {"score", kScoreUsage, score},
    {"forecast", kForecastUsage, forecast},
    {"plan", kPlanUsage, plan},
    {"simulate", kSimulateUsage, simulate},
    {"evaluate-allocator", kEvaluateAllocatorUsage, evaluate_allocator},
};

std::string usage() {
  std::string u = "carbonkube: carbon-aware scheduling engine for Kubernetes\n\nusage:\n";
  for (const Command& c : kCommands) u += c.usage;
  u += kLimitsUsage;
  u += "  carbonkube version\n  carbonkube help\n";
  return u;
}

}  // namespace

const ParseLimits& input_limits() { return current_input_limits; }

SignalLoadOptions limited_signal_options() {
  SignalLoadOptions options;
  options.limits = current_input_limits;
  return options;
}

int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  try {
    if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
      out << usage();
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "version" || args[0] == "--version") {
      out << "carbonkube " << version_string() << "\n";
      return 0;
    }
    const std::vector<std::string> command_args = take_limit_flags(args);
    for (const Command& c : kCommands)
      if (args[0] == c.name) return c.run(command_args, out, err);
    throw UsageError(fmt::format("unknown command \"{}\"", args[0]));
  } catch (const UsageError& e) {
    err << "carbonkube: " << e.what() << "\n\n" << usage();
    return 2;
  } catch (const Error& e) {
    err << "carbonkube: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    err << "carbonkube: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace carbonkube::cli
