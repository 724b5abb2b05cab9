// Carbon providers: the host fetches live grid carbon intensity from the
// Electricity Maps API, WattTime v3, the UK Carbon Intensity API or a Carbon
// Aware SDK WebAPI (or reads files), parses the responses with the library's
// loaders (signals.hpp), and keeps one merged CarbonSignals current. Each
// provider has its own refresh interval and timeout; a failed refresh keeps
// the last good data, which then ages into SignalPolicy's staleness and the
// carbon-neutral fallback (evaluate() says why). Secrets (tokens, passwords)
// come from files or environment variables and never reach logs, errors or
// status text.
//
// Host config (YAML), the `providers:` list:
//   providers:
//     - name: em                        # unique; used in status and metrics
//       type: electricitymaps           # electricitymaps | watttime | uk-carbon-intensity
//                                       # | carbon-aware-sdk | file
//       url: https://api.electricitymap.org   # optional: the provider's default
//       zones: [DE, FR]                 # EM zones, WattTime regions, SDK locations;
//                                       # UK: "national" (zone GB) and/or "regional"
//       tokenFile: /var/run/secrets/em/token  # or tokenEnv: EM_TOKEN (Electricity Maps,
//                                             # Carbon Aware SDK bearer, optional)
//       # WattTime: usernameFile|usernameEnv, passwordFile|passwordEnv
//       # WattTime: signalType: co2_moer (default) | co2_aoer
//       forecast: true                  # also fetch forecasts (default true)
//       history: true                   # also fetch recent history (default true)
//       refreshInterval: 300s           # default 300s (Go-style durations: 90s, 5m, 1h)
//       timeout: 10s                    # whole request; default 10s
//       kind: average/lifecycle         # Carbon Aware SDK only (the SDK does not say)
//       caFile: /etc/ssl/em-ca.pem      # optional extra trust
//     - name: bundled
//       type: file
//       paths: [data/carbon/electricitymaps/DE_2023_hourly.csv]
//       format: auto                    # or a signal_format_name
//       scope: lifecycle                # Electricity Maps CSV column
#pragma once

#include <carbonkube/signals.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.hpp"

namespace YAML {
class Node;
}

namespace carbonkube::host {

enum class ProviderType : std::uint8_t {
  kElectricityMaps,
  kWattTime,
  kUkCarbonIntensity,
  kCarbonAwareSdk,
  kFile,
};
std::string_view to_string(ProviderType type) noexcept;

/// A secret's origin: a file (read at each use, so rotated secrets apply)
/// or an environment variable. resolve() throws InvalidInput naming the
/// file or variable, never the value.
struct SecretSource {
  std::string file;
  std::string env;
  bool empty() const { return file.empty() && env.empty(); }
  std::string resolve(std::string_view what) const;
};

struct ProviderConfig {
  std::string name;
  ProviderType type = ProviderType::kFile;
  std::string url;  // base URL; empty: the provider's public default
  std::vector<std::string> zones;
  SecretSource token;                    // Electricity Maps auth-token; Carbon Aware SDK bearer
  SecretSource username;                 // WattTime
  SecretSource password;                 // WattTime
  std::string signal_type = "co2_moer";  // WattTime
  bool forecast = true;
  /// Recent history (the last 24 hours) instead of only the latest value.
  bool history = true;
  std::chrono::seconds refresh_interval{300};
  std::chrono::milliseconds timeout{10'000};
  std::optional<IntensityKind> kind;  // Carbon Aware SDK
  TlsConfig tls;
  // type file
  std::vector<std::string> paths;
  std::optional<SignalFormat> format;  // nullopt: detect
  IntensityScope scope = IntensityScope::kLifecycle;
};

/// Parses the `providers:` sequence. Throws InvalidInput naming `source`,
/// the item index and the field (unknown keys and types are errors).
std::vector<ProviderConfig> parse_provider_configs(const YAML::Node& providers,
                                                   std::string_view source);
/// The `providers:` key of a whole host config document (YAML text); an
/// absent key gives an empty list.
std::vector<ProviderConfig> parse_provider_configs_yaml(std::string_view text,
                                                        std::string_view source);

/// One provider's state, for /metrics, logs and /readyz.
struct ProviderStatus {
  std::string name;
  ProviderType type = ProviderType::kFile;
  bool has_data = false;          // a refresh has ever succeeded
  std::int64_t last_success = 0;  // unix seconds of the last good refresh
  std::int64_t last_attempt = 0;  // unix seconds
  std::string last_error;         // empty after a success; never a secret
  std::uint64_t refreshes_ok = 0;
  std::uint64_t refreshes_failed = 0;
  std::size_t series = 0;  // zone series held
};

/// Makes the HTTP client a provider uses (tests inject their own TLS trust).
using HttpClientFactory = std::function<HttpClient(const TlsConfig&)>;

/// All configured providers and their merged signals. refresh() is called
/// by one thread (start() runs it on a background thread); signals() and
/// status() from any thread.
class CarbonProviders {
 public:
  explicit CarbonProviders(std::vector<ProviderConfig> configs, HttpClientFactory factory = {});
  ~CarbonProviders();  // stop()s
  CarbonProviders(const CarbonProviders&) = delete;
  CarbonProviders& operator=(const CarbonProviders&) = delete;

  /// Refreshes every provider whose interval has elapsed at `now` (unix
  /// seconds; all of them when `force`). A failure keeps that provider's
  /// last good series and records the error. Returns true when the merged
  /// signals changed. Never throws for a provider's failure.
  bool refresh(std::int64_t now, bool force = false);

  /// The merged signals of every provider's last good data (never null;
  /// empty before the first success). Immutable; swap-on-refresh.
  std::shared_ptr<const CarbonSignals> signals() const;
  std::vector<ProviderStatus> status() const;
  std::size_t size() const;

  /// Runs refresh(now()) every second on a background thread until stop();
  /// `on_change` is called (on that thread) after the signals changed.
  void start(std::function<void()> on_change = {});
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbonkube::host
