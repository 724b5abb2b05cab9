// Command line, --config and logging of carbonkube-host (host_options.hpp).
#include "host_options.hpp"

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdio>
#include <ctime>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "leader_election.hpp"

namespace carbonkube::host {
namespace {

bool parse_bool(const std::string& text, const std::string& flag) {
  if (text == "true" || text == "1" || text == "yes") return true;
  if (text == "false" || text == "0" || text == "no") return false;
  throw InvalidInput(flag + ": \"" + text + "\" is not true or false");
}

std::int64_t parse_int(const std::string& text, const std::string& flag) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw InvalidInput(flag + ": \"" + text + "\" is not an integer");
  }
  return value;
}

bool is_boolean_flag(const std::string& name) { return name == "leader-elect" || name == "help"; }

// Applies one flag; `values` has one entry except for a repeated list from YAML.
void apply_flag(HostOptions& o, const std::string& name, const std::string& value,
                bool& signals_replaced) {
  const std::string flag = "--" + name;
  if (name == "kubeconfig") {
    o.kubeconfig = value;
  } else if (name == "modes") {
    o.mode_scheduler = o.mode_extender = o.mode_qos = false;
    std::size_t start = 0;
    while (start <= value.size()) {
      const auto comma = value.find(',', start);
      const std::string mode =
          value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (mode == "scheduler") {
        o.mode_scheduler = true;
      } else if (mode == "extender") {
        o.mode_extender = true;
      } else if (mode == "qos") {
        o.mode_qos = true;
      } else {
        throw InvalidInput(flag + ": unknown mode \"" + mode +
                           "\" (scheduler, extender, qos, comma-separated)");
      }
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  } else if (name == "scheduler-name") {
    if (value.empty()) throw InvalidInput(flag + ": empty");
    o.scheduler_name = value;
  } else if (name == "scheduler-config") {
    o.scheduler_config = value;
  } else if (name == "zones") {
    o.zones = value;
  } else if (name == "signals") {
    if (!signals_replaced) o.signals.clear();  // the command line replaces the file's list
    signals_replaced = true;
    o.signals.push_back(value);
  } else if (name == "signals-format") {
    o.signals_format = value;
  } else if (name == "providers") {
    o.providers = value;
  } else if (name == "carbon-profile") {
    o.carbon_profile = value;
  } else if (name == "at") {
    o.at = parse_int(value, flag);
  } else if (name == "listen") {
    o.listen = value;
  } else if (name == "tls-cert") {
    o.tls_cert = value;
  } else if (name == "tls-key") {
    o.tls_key = value;
  } else if (name == "leader-elect") {
    o.leader_elect = parse_bool(value, flag);
  } else if (name == "lease-namespace") {
    o.lease_namespace = value;
  } else if (name == "lease-name") {
    o.lease_name = value;
  } else if (name == "identity") {
    o.identity = value;
  } else if (name == "lease-duration") {
    o.lease_duration = parse_duration(value, flag);
  } else if (name == "renew-deadline") {
    o.renew_deadline = parse_duration(value, flag);
  } else if (name == "retry-period") {
    o.retry_period = parse_duration(value, flag);
  } else if (name == "log-format") {
    if (value != "json" && value != "text") throw InvalidInput(flag + ": json or text");
    o.log_format = value;
  } else if (name == "binders") {
    const auto n = parse_int(value, flag);
    if (n < 1 || n > 64) throw InvalidInput(flag + ": between 1 and 64");
    o.binders = static_cast<int>(n);
  } else if (name == "qos-interval") {
    o.qos_interval = parse_duration(value, flag);
  } else if (name == "help") {
    o.help = parse_bool(value, flag);
  } else {
    throw InvalidInput("unknown flag " + flag + " (see --help)");
  }
}

void apply_config_file(HostOptions& o, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(read_file(path));
  } catch (const YAML::Exception& e) {
    throw InvalidInput(path + ": not YAML (" + e.msg + ")");
  }
  if (root.IsNull()) return;
  if (!root.IsMap()) throw InvalidInput(path + ": expected a mapping of flag names to values");
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    if (key == "config")
      throw InvalidInput(path + ": config: a config file cannot include another");
    bool replaced = false;
    try {
      if (entry.second.IsSequence()) {
        if (key != "signals") throw InvalidInput(path + ": " + key + ": expected a single value");
        for (const auto& item : entry.second) apply_flag(o, key, item.as<std::string>(), replaced);
      } else if (entry.second.IsScalar()) {
        apply_flag(o, key, entry.second.as<std::string>(), replaced);
      } else {
        throw InvalidInput(path + ": " + key + ": expected a value");
      }
    } catch (const InvalidInput& e) {
      throw InvalidInput(path + ": " + e.what());
    }
  }
}

}  // namespace

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& flag) {
  if (text.empty()) throw InvalidInput(flag + ": empty duration");
  double total_ms = 0;
  std::size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && ((text[j] >= '0' && text[j] <= '9') || text[j] == '.')) ++j;
    if (j == i) throw InvalidInput(flag + ": \"" + text + "\" is not a duration (e.g. 15s, 500ms)");
    const double number = std::stod(text.substr(i, j - i));
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k])) != 0) ++k;
    const std::string unit = text.substr(j, k - j);
    double scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s" || (unit.empty() && k == text.size() && !any)) {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60'000;
    } else if (unit == "h") {
      scale = 3'600'000;
    } else {
      throw InvalidInput(flag + ": \"" + text + "\": unknown unit \"" + unit + "\" (ms, s, m, h)");
    }
    total_ms += number * scale;
    any = true;
    i = k;
  }
  if (total_ms <= 0) throw InvalidInput(flag + ": \"" + text + "\" must be positive");
  return std::chrono::milliseconds(static_cast<std::int64_t>(total_ms));
}

HostOptions parse_host_options(const std::vector<std::string>& args) {
  HostOptions options;
  // --config first, so every flag on the command line overrides the file.
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config") {
      if (i + 1 >= args.size()) throw InvalidInput("--config: missing a file");
      apply_config_file(options, args[i + 1]);
    } else if (args[i].rfind("--config=", 0) == 0) {
      apply_config_file(options, args[i].substr(9));
    }
  }
  bool signals_replaced = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg.size() < 3) {
      throw InvalidInput("unexpected argument \"" + arg + "\" (flags begin with --)");
    }
    std::string name = arg.substr(2);
    std::string value;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (is_boolean_flag(name)) {
      value = "true";
    } else {
      if (i + 1 >= args.size()) throw InvalidInput("--" + name + ": missing a value");
      value = args[++i];
    }
    if (name == "config") continue;
    apply_flag(options, name, value, signals_replaced);
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    throw InvalidInput("--tls-cert and --tls-key go together");
  }
  if (options.renew_deadline >= options.lease_duration) {
    throw InvalidInput("--renew-deadline must be shorter than --lease-duration");
  }
  if (options.retry_period >= options.renew_deadline) {
    throw InvalidInput("--retry-period must be shorter than --renew-deadline");
  }
  if (!options.mode_scheduler && !options.mode_extender && !options.mode_qos) {
    throw InvalidInput("--modes: no mode selected");
  }
  if (options.mode_qos &&
      (options.zones.empty() || (options.signals.empty() && options.providers.empty()))) {
    throw InvalidInput("--modes qos needs --zones and --signals or --providers");
  }
  return options;
}

std::string host_usage() {
  return R"(carbonkube-host [--config host.yaml] [flags]
  --kubeconfig PATH          default: $KUBECONFIG, else the in-cluster service account
  --modes LIST               scheduler,extender,qos (any subset; default scheduler)
  --scheduler-name NAME      pods to place (default katalyst-carbon-scheduler)
  --scheduler-config FILE    KubeSchedulerConfiguration (default: the seed profile)
  --zones FILE               zone map (examples/config/zones.yaml)
  --signals FILE             carbon data, repeatable (--signals-format to name it)
  --providers FILE           live carbon data: YAML with a providers: list (docs/deploy.md)
  --carbon-profile FILE      CarbonProfile YAML (QoS profiles for the QoS controller)
  --at UNIX_SECONDS          evaluate carbon data at this time instead of now
  --listen HOST:PORT         /metrics /healthz /readyz [/filter /prioritize] (127.0.0.1:10266)
  --tls-cert FILE --tls-key FILE   serve HTTPS
  --leader-elect=BOOL        default true
  --lease-namespace NS       default kube-system
  --lease-name NAME          default carbonkube-host
  --identity ID              default hostname_pid
  --lease-duration D         default 15s
  --renew-deadline D         default 10s
  --retry-period D           default 2s
  --log-format json|text     default json
  --binders N                binding threads (default 4)
  --qos-interval D           QoS controller round (default 60s)
)";
}

void Log::write(const std::string& level, const std::string& message) {
  const std::string ts = format_micro_time(std::chrono::duration_cast<std::chrono::microseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
  std::string line;
  if (json_) {
    line = nlohmann::json{{"ts", ts}, {"level", level}, {"msg", message}}.dump(
               -1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  } else {
    line = ts + " " + level + " " + message + "\n";
  }
  std::lock_guard lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace carbonkube::host
