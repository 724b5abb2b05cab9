// carbonkube-host's command line and --config YAML (the flags' names as
// keys; flags given on the command line win over the file), and its logger.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace carbonkube::host {

struct HostOptions {
  std::string kubeconfig;
  bool mode_scheduler = true;
  bool mode_extender = false;
  bool mode_qos = false;
  std::string scheduler_name = "katalyst-carbon-scheduler";
  std::string scheduler_config;
  std::string zones;
  std::vector<std::string> signals;
  std::string signals_format = "auto";
  std::string providers;  // YAML with a `providers:` list (providers.hpp)
  std::string carbon_profile;
  std::optional<std::int64_t> at;
  std::string listen = "127.0.0.1:10266";
  std::string tls_cert;
  std::string tls_key;
  bool leader_elect = true;
  std::string lease_namespace = "kube-system";
  std::string lease_name = "carbonkube-host";
  std::string identity;  // default hostname_pid
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
  std::string log_format = "json";
  int binders = 4;
  std::chrono::milliseconds qos_interval{60'000};
  bool help = false;
};

/// Parses argv (without the program name). "--flag value" and "--flag=value";
/// booleans also bare ("--leader-elect"). Throws InvalidInput naming the flag.
HostOptions parse_host_options(const std::vector<std::string>& args);

/// A Go-style duration: "15s", "500ms", "2m", "1h30m", or plain seconds.
std::chrono::milliseconds parse_duration(const std::string& text, const std::string& flag);

/// The flag reference printed by --help.
std::string host_usage();

/// Structured logs on stderr: one JSON object per line
/// ({"ts","level","msg"}), or "TS LEVEL msg" with --log-format text.
class Log {
 public:
  explicit Log(bool json) : json_(json) {}
  void write(const std::string& level, const std::string& message);

 private:
  bool json_;
  std::mutex mutex_;
};

}  // namespace carbonkube::host
