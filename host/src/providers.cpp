// Carbon providers: fetch, parse with the library's loaders, keep the last
// good data, merge (see providers.hpp).
#include "providers.hpp"

#include "host_options.hpp"  // parse_duration, shared with the flags

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <carbonkube/error.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace carbonkube::host {
namespace {

std::string percent_encode(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string base64_encode(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16 |
                       static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8 |
                       static_cast<unsigned>(static_cast<unsigned char>(in[i + 2]));
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63u];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63u];
    out += kAlphabet[(v >> 12) & 63u];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63u] : '=';
    out += '=';
  }
  return out;
}

// Every secret value is replaced before a text leaves a provider, whatever
// produced it (a server echoing a header, a loader quoting the body).
std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t at = text.find(secret); at != std::string::npos;
         at = text.find(secret, at + 3))
      text.replace(at, secret.size(), "***");
  }
  return text;
}

std::string trim(std::string text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::size_t start = 0;
  while (start < text.size() && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
  return text.substr(start);
}

std::string default_url(ProviderType type) {
  switch (type) {
    case ProviderType::kElectricityMaps:
      return "https://api.electricitymap.org";
    case ProviderType::kWattTime:
      return "https://api.watttime.org";
    case ProviderType::kUkCarbonIntensity:
      return "https://api.carbonintensity.org.uk";
    case ProviderType::kCarbonAwareSdk:
      return "";  // self-hosted: url required
    case ProviderType::kFile:
      return "";
  }
  return "";
}

std::optional<ProviderType> parse_provider_type(std::string_view text) {
  if (text == "electricitymaps") return ProviderType::kElectricityMaps;
  if (text == "watttime") return ProviderType::kWattTime;
  if (text == "uk-carbon-intensity") return ProviderType::kUkCarbonIntensity;
  if (text == "carbon-aware-sdk") return ProviderType::kCarbonAwareSdk;
  if (text == "file") return ProviderType::kFile;
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// One provider: fetch and parse; throws carbonkube::Error (already redacted
// by the caller) on any failure.

class Fetcher {
 public:
  Fetcher(const ProviderConfig& config, HttpClient client)
      : config_(config), client_(std::move(client)) {
    base_ = config.url.empty() ? default_url(config.type) : config.url;
    while (!base_.empty() && base_.back() == '/') base_.pop_back();
  }

  std::vector<ZoneSeries> fetch(std::int64_t now) {
    switch (config_.type) {
      case ProviderType::kElectricityMaps:
        return electricity_maps();
      case ProviderType::kWattTime:
        return watttime(now);
      case ProviderType::kUkCarbonIntensity:
        return uk(now);
      case ProviderType::kCarbonAwareSdk:
        return carbon_aware_sdk(now);
      case ProviderType::kFile:
        return files();
    }
    return {};
  }

  // Values to scrub from any text this provider produces.
  std::vector<std::string> secrets() const { return secrets_; }

 private:
  HttpResponse get(const std::string& path_and_query, const HttpHeaders& headers) {
    HttpRequest request;
    request.method = "GET";
    request.url = base_ + path_and_query;
    request.headers = headers;
    request.timeout = config_.timeout;
    request.connect_timeout = std::min(config_.timeout, std::chrono::milliseconds(5'000));
    return client_.send(request);
  }

  static std::string path_of(const std::string& path_and_query) {
    return path_and_query.substr(0, path_and_query.find('?'));
  }

  HttpResponse expect_ok(const std::string& path_and_query, const HttpResponse& response) const {
    if (response.status >= 200 && response.status < 300) return response;
    std::string excerpt = response.body.substr(0, 200);
    std::replace(excerpt.begin(), excerpt.end(), '\n', ' ');
    throw Error(ErrorKind::kIo, fmt::format("GET {}{}: HTTP {}{}{}", base_, path_of(path_and_query),
                                            response.status, excerpt.empty() ? "" : ": ", excerpt));
  }

  void load_into(std::vector<ZoneSeries>& out, const std::string& body, const std::string& source,
                 SignalFormat format) const {
    SignalLoadOptions options;
    options.kind = config_.type == ProviderType::kCarbonAwareSdk ? config_.kind : std::nullopt;
    SignalLoad load = load_signals(body, source, format, config_.scope, options);
    for (auto& s : load.series) out.push_back(std::move(s));
  }

  std::string secret(const SecretSource& source, std::string_view what) {
    std::string value = source.resolve(what);
    secrets_.push_back(value);
    return value;
  }

  std::vector<ZoneSeries> electricity_maps() {
    HttpHeaders headers{{"auth-token", secret(config_.token, "Electricity Maps token")}};
    std::vector<ZoneSeries> out;
    for (const std::string& zone : config_.zones) {
      // history (the last 24 hours) ends with the latest hour: one request, not two.
      std::vector<std::string> endpoints{config_.history ? "history" : "latest"};
      if (config_.forecast) endpoints.push_back("forecast");
      for (const std::string& endpoint : endpoints) {
        const std::string path =
            fmt::format("/v3/carbon-intensity/{}?zone={}", endpoint, percent_encode(zone));
        HttpResponse response = expect_ok(path, get(path, headers));
        load_into(out, response.body, base_ + path_of(path) + " zone " + zone,
                  SignalFormat::kElectricityMapsJson);
      }
    }
    return out;
  }

  void watttime_login() {
    const std::string user = secret(config_.username, "WattTime username");
    const std::string password = secret(config_.password, "WattTime password");
    const std::string basic = base64_encode(user + ":" + password);
    secrets_.push_back(basic);
    HttpResponse response = get("/login", {{"Authorization", "Basic " + basic}});
    if (response.status != 200)
      throw Error(ErrorKind::kIo,
                  fmt::format("GET {}/login: HTTP {} (check the WattTime username and password)",
                              base_, response.status));
    auto doc = nlohmann::json::parse(response.body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("token") ||
        !doc["token"].is_string())
      throw Error(ErrorKind::kIo,
                  fmt::format("GET {}/login: the answer has no \"token\" string", base_));
    watttime_token_ = doc["token"].get<std::string>();
    secrets_.push_back(watttime_token_);
  }

  // A WattTime GET with the bearer token; logs in first and once more on 401
  // (tokens expire after 30 minutes).
  HttpResponse watttime_get(const std::string& path) {
    if (watttime_token_.empty()) watttime_login();
    HttpResponse response = get(path, {{"Authorization", "Bearer " + watttime_token_}});
    if (response.status == 401) {
      watttime_login();
      response = get(path, {{"Authorization", "Bearer " + watttime_token_}});
    }
    return expect_ok(path, response);
  }

  std::vector<ZoneSeries> watttime(std::int64_t now) {
    std::vector<ZoneSeries> out;
    for (const std::string& region : config_.zones) {
      const std::string query = fmt::format("region={}&signal_type={}", percent_encode(region),
                                            percent_encode(config_.signal_type));
      if (config_.history) {
        const std::string path = fmt::format("/v3/historical?{}&start={}&end={}", query,
                                             percent_encode(format_timestamp(now - 24 * 3600)),
                                             percent_encode(format_timestamp(now)));
        load_into(out, watttime_get(path).body, base_ + "/v3/historical region " + region,
                  SignalFormat::kWattTimeJson);
      }
      if (config_.forecast) {
        const std::string path = "/v3/forecast?" + query;
        load_into(out, watttime_get(path).body, base_ + "/v3/forecast region " + region,
                  SignalFormat::kWattTimeJson);
      }
    }
    return out;
  }

  std::vector<ZoneSeries> uk(std::int64_t now) {
    // The API's {from} is ISO 8601 to the minute.
    const std::string from = format_timestamp(now).substr(0, 16) + "Z";
    std::vector<ZoneSeries> out;
    for (const std::string& scope : config_.zones) {
      const std::string prefix = scope == "regional" ? "/regional/intensity/" : "/intensity/";
      std::vector<std::string> windows;
      if (config_.history) windows.push_back("pt24h");
      if (config_.forecast) windows.push_back("fw48h");
      if (windows.empty()) windows.push_back("pt24h");
      for (const std::string& window : windows) {
        const std::string path = prefix + from + "/" + window;
        HttpResponse response = expect_ok(path, get(path, {}));
        load_into(out, response.body, base_ + path, SignalFormat::kUkCarbonIntensityJson);
      }
    }
    return out;
  }

  std::vector<ZoneSeries> carbon_aware_sdk(std::int64_t now) {
    HttpHeaders headers;
    if (!config_.token.empty())
      headers.emplace_back("Authorization",
                           "Bearer " + secret(config_.token, "Carbon Aware SDK token"));
    std::string locations;
    for (const std::string& zone : config_.zones)
      locations += (locations.empty() ? "" : "&") + std::string("location=") + percent_encode(zone);
    std::vector<ZoneSeries> out;
    if (config_.history) {
      const std::string path = fmt::format("/emissions/bylocations?{}&time={}&toTime={}", locations,
                                           percent_encode(format_timestamp(now - 24 * 3600)),
                                           percent_encode(format_timestamp(now)));
      load_into(out, expect_ok(path, get(path, headers)).body, base_ + "/emissions/bylocations",
                SignalFormat::kCarbonAwareSdkJson);
    }
    if (config_.forecast) {
      const std::string path = "/emissions/forecasts/current?" + locations;
      load_into(out, expect_ok(path, get(path, headers)).body,
                base_ + "/emissions/forecasts/current", SignalFormat::kCarbonAwareSdkJson);
    }
    return out;
  }

  std::vector<ZoneSeries> files() {
    std::vector<ZoneSeries> out;
    for (const std::string& path : config_.paths) {
      const std::string text = read_file(path);
      std::optional<SignalFormat> format = config_.format;
      if (!format) format = detect_signal_format(text, path);
      if (!format)
        throw InvalidInput(fmt::format("{}: cannot tell the carbon data format; set format", path));
      load_into(out, text, path, *format);
    }
    return out;
  }

  const ProviderConfig& config_;
  HttpClient client_;
  std::string base_;
  std::string watttime_token_;
  std::vector<std::string> secrets_;
};

}  // namespace

std::string_view to_string(ProviderType type) noexcept {
  switch (type) {
    case ProviderType::kElectricityMaps:
      return "electricitymaps";
    case ProviderType::kWattTime:
      return "watttime";
    case ProviderType::kUkCarbonIntensity:
      return "uk-carbon-intensity";
    case ProviderType::kCarbonAwareSdk:
      return "carbon-aware-sdk";
    case ProviderType::kFile:
      return "file";
  }
  return "unknown";
}

std::string SecretSource::resolve(std::string_view what) const {
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::kIo, fmt::format("{}: cannot read the file {}", what, file));
    std::ostringstream text;
    text << in.rdbuf();
    std::string value = trim(text.str());
    if (value.empty()) throw InvalidInput(fmt::format("{}: the file {} is empty", what, file));
    return value;
  }
  if (!env.empty()) {
    const char* value = std::getenv(env.c_str());
    if (!value || trim(value).empty())
      throw InvalidInput(
          fmt::format("{}: the environment variable {} is not set or empty", what, env));
    return trim(value);
  }
  throw InvalidInput(
      fmt::format("{}: not configured (set a file or an environment variable)", what));
}

std::vector<ProviderConfig> parse_provider_configs(const YAML::Node& providers,
                                                   std::string_view source) {
  std::vector<ProviderConfig> out;
  if (!providers || providers.IsNull()) return out;
  if (!providers.IsSequence())
    throw InvalidInput(fmt::format("{}: providers: expected a list", source));
  for (std::size_t i = 0; i < providers.size(); ++i) {
    const YAML::Node item = providers[i];
    const std::string where = fmt::format("{}: providers[{}]", source, i);
    if (!item.IsMap()) throw InvalidInput(where + ": expected a map");
    ProviderConfig c;
    auto scalar = [&](const std::string& key) -> std::optional<std::string> {
      const YAML::Node v = item[key];
      if (!v) return std::nullopt;
      if (!v.IsScalar()) throw InvalidInput(fmt::format("{}.{}: expected a value", where, key));
      return v.as<std::string>();
    };
    auto boolean = [&](const std::string& key, bool fallback) {
      auto v = scalar(key);
      if (!v) return fallback;
      if (*v == "true") return true;
      if (*v == "false") return false;
      throw InvalidInput(fmt::format("{}.{}: expected true or false, got \"{}\"", where, key, *v));
    };
    auto list = [&](const std::string& key) {
      std::vector<std::string> values;
      const YAML::Node v = item[key];
      if (!v) return values;
      if (!v.IsSequence())
        throw InvalidInput(fmt::format("{}.{}: expected a list of strings", where, key));
      for (const auto& e : v) values.push_back(e.as<std::string>());
      return values;
    };
    static const std::vector<std::string> kKeys{
        "name",       "type",         "url",         "zones",           "tokenFile",
        "tokenEnv",   "usernameFile", "usernameEnv", "passwordFile",    "passwordEnv",
        "signalType", "forecast",     "history",     "refreshInterval", "timeout",
        "kind",       "caFile",       "paths",       "format",          "scope"};
    for (const auto& kv : item) {
      const std::string key = kv.first.as<std::string>();
      if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end())
        throw InvalidInput(fmt::format("{}: unknown key \"{}\"", where, key));
    }
    c.name = scalar("name").value_or("");
    if (c.name.empty()) throw InvalidInput(where + ".name: required");
    for (const auto& other : out)
      if (other.name == c.name)
        throw InvalidInput(fmt::format("{}.name: \"{}\" is used twice", where, c.name));
    const std::string type = scalar("type").value_or("");
    auto parsed_type = parse_provider_type(type);
    if (!parsed_type)
      throw InvalidInput(fmt::format(
          "{}.type: \"{}\" is not one of electricitymaps, watttime, uk-carbon-intensity, "
          "carbon-aware-sdk, file",
          where, type));
    c.type = *parsed_type;
    c.url = scalar("url").value_or("");
    c.zones = list("zones");
    c.token = {scalar("tokenFile").value_or(""), scalar("tokenEnv").value_or("")};
    c.username = {scalar("usernameFile").value_or(""), scalar("usernameEnv").value_or("")};
    c.password = {scalar("passwordFile").value_or(""), scalar("passwordEnv").value_or("")};
    c.signal_type = scalar("signalType").value_or("co2_moer");
    c.forecast = boolean("forecast", true);
    c.history = boolean("history", true);
    if (auto v = scalar("refreshInterval"))
      c.refresh_interval = std::chrono::duration_cast<std::chrono::seconds>(
          parse_duration(*v, where + ".refreshInterval"));
    if (auto v = scalar("timeout")) c.timeout = parse_duration(*v, where + ".timeout");
    if (c.refresh_interval.count() <= 0)
      throw InvalidInput(where + ".refreshInterval: must be > 0");
    if (c.timeout.count() <= 0) throw InvalidInput(where + ".timeout: must be > 0");
    if (auto v = scalar("kind")) {
      c.kind = parse_intensity_kind(*v);
      if (!c.kind)
        throw InvalidInput(fmt::format(
            "{}.kind: \"{}\" is not average/direct, average/lifecycle, marginal/direct or "
            "marginal/lifecycle",
            where, *v));
    }
    c.tls.ca_file = scalar("caFile").value_or("");
    c.paths = list("paths");
    if (auto v = scalar("format"); v && *v != "auto") {
      c.format = parse_signal_format(*v);
      if (!c.format)
        throw InvalidInput(fmt::format("{}.format: \"{}\" is not a carbon data format", where, *v));
    }
    if (auto v = scalar("scope")) {
      if (*v == "direct")
        c.scope = IntensityScope::kDirect;
      else if (*v == "lifecycle")
        c.scope = IntensityScope::kLifecycle;
      else
        throw InvalidInput(fmt::format("{}.scope: \"{}\" is not direct or lifecycle", where, *v));
    }
    auto require_secret = [&](const SecretSource& s, const char* keys) {
      if (s.empty())
        throw InvalidInput(fmt::format("{}: {} is required for {}", where, keys, type));
      if (!s.file.empty() && !s.env.empty())
        throw InvalidInput(fmt::format("{}: set only one of {}", where, keys));
    };
    switch (c.type) {
      case ProviderType::kElectricityMaps:
        require_secret(c.token, "tokenFile or tokenEnv");
        break;
      case ProviderType::kWattTime:
        require_secret(c.username, "usernameFile or usernameEnv");
        require_secret(c.password, "passwordFile or passwordEnv");
        if (c.signal_type != "co2_moer" && c.signal_type != "co2_aoer")
          throw InvalidInput(fmt::format("{}.signalType: \"{}\" is not co2_moer or co2_aoer", where,
                                         c.signal_type));
        break;
      case ProviderType::kUkCarbonIntensity:
        if (c.zones.empty()) c.zones = {"national"};
        for (const auto& z : c.zones)
          if (z != "national" && z != "regional")
            throw InvalidInput(fmt::format(
                "{}.zones: \"{}\" is not national or regional (the UK API's two views)", where, z));
        break;
      case ProviderType::kCarbonAwareSdk:
        if (c.url.empty()) throw InvalidInput(where + ".url: required for carbon-aware-sdk");
        break;
      case ProviderType::kFile:
        if (c.paths.empty()) throw InvalidInput(where + ".paths: required for file");
        break;
    }
    if (c.type != ProviderType::kFile && c.zones.empty())
      throw InvalidInput(where + ".zones: at least one zone is required");
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ProviderConfig> parse_provider_configs_yaml(std::string_view text,
                                                        std::string_view source) {
  YAML::Node doc;
  try {
    doc = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw InvalidInput(fmt::format("{}: not valid YAML: {}", source, e.what()));
  }
  if (!doc.IsMap()) return {};
  try {
    return parse_provider_configs(doc["providers"], source);
  } catch (const YAML::Exception& e) {
    throw InvalidInput(fmt::format("{}: providers: {}", source, e.what()));
  }
}

// ---------------------------------------------------------------------------

struct CarbonProviders::Impl {
  struct Entry {
    ProviderConfig config;
    std::unique_ptr<Fetcher> fetcher;
    std::vector<ZoneSeries> last_good;
    ProviderStatus status;
    std::int64_t next_due = 0;
  };
  std::vector<Entry> entries;
  mutable std::mutex mutex;  // signals and statuses
  std::shared_ptr<const CarbonSignals> signals = std::make_shared<const CarbonSignals>();
  std::thread thread;
  std::mutex wake_mutex;
  std::condition_variable wake;
  bool stopping = false;

  void merge() {
    auto merged = std::make_shared<CarbonSignals>();
    for (Entry& e : entries) {
      if (e.last_good.empty()) continue;
      try {
        merged->add(e.last_good);
      } catch (const std::exception& ex) {
        e.status.last_error = redact(ex.what(), e.fetcher->secrets());
      }
    }
    std::lock_guard lock(mutex);
    signals = std::move(merged);
  }
};

CarbonProviders::CarbonProviders(std::vector<ProviderConfig> configs, HttpClientFactory factory)
    : impl_(std::make_unique<Impl>()) {
  if (!factory) factory = [](const TlsConfig& tls) { return HttpClient(tls); };
  impl_->entries.reserve(configs.size());
  for (auto& c : configs) {
    Impl::Entry e;
    e.config = std::move(c);
    e.status.name = e.config.name;
    e.status.type = e.config.type;
    impl_->entries.push_back(std::move(e));
  }
  // The fetchers keep a reference to their config: built once the vector is final.
  for (auto& e : impl_->entries)
    e.fetcher = std::make_unique<Fetcher>(e.config, factory(e.config.tls));
}

CarbonProviders::~CarbonProviders() { stop(); }

bool CarbonProviders::refresh(std::int64_t now, bool force) {
  bool changed = false;
  for (auto& e : impl_->entries) {
    if (!force && now < e.next_due) continue;
    ProviderStatus status;
    {
      std::lock_guard lock(impl_->mutex);
      status = e.status;
    }
    status.last_attempt = now;
    try {
      std::vector<ZoneSeries> series = e.fetcher->fetch(now);
      CarbonSignals check;  // a provider's own data must merge cleanly
      check.add(series);
      e.last_good = std::move(series);
      status.has_data = true;
      status.last_success = now;
      status.last_error.clear();
      status.series = check.size();
      ++status.refreshes_ok;
      changed = true;
    } catch (const std::exception& ex) {
      status.last_error = redact(ex.what(), e.fetcher->secrets());
      ++status.refreshes_failed;
    }
    e.next_due = now + e.config.refresh_interval.count();
    std::lock_guard lock(impl_->mutex);
    e.status = std::move(status);
  }
  if (changed) impl_->merge();
  return changed;
}

std::shared_ptr<const CarbonSignals> CarbonProviders::signals() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->signals;
}

std::vector<ProviderStatus> CarbonProviders::status() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<ProviderStatus> out;
  for (const auto& e : impl_->entries) out.push_back(e.status);
  return out;
}

std::size_t CarbonProviders::size() const { return impl_->entries.size(); }

void CarbonProviders::start(std::function<void()> on_change) {
  if (impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->wake_mutex);
    impl_->stopping = false;
  }
  impl_->thread = std::thread([this, on_change = std::move(on_change)] {
    std::unique_lock lock(impl_->wake_mutex);
    while (!impl_->stopping) {
      lock.unlock();
      const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      if (refresh(now) && on_change) on_change();
      lock.lock();
      impl_->wake.wait_for(lock, std::chrono::seconds(1), [this] { return impl_->stopping; });
    }
  });
}

void CarbonProviders::stop() {
  {
    std::lock_guard lock(impl_->wake_mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace carbonkube::host
