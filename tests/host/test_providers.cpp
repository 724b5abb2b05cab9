// Carbon providers against a local cpp-httplib server that replays each
// provider's real answers (tests/fixtures/signals/): parsed values, auth
// headers, WattTime's login and token refresh, timeouts keeping the last good
// data until it goes stale, and secrets kept out of every error.
#include <doctest/doctest.h>

#include <carbonkube/error.hpp>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "providers.hpp"
#include "test_support.hpp"

namespace ck = carbonkube;
using ck::host::CarbonProviders;
using ck::host::ProviderConfig;
using ck::host::ProviderType;
using ck::host::test::read_text;
using ck::host::test::ServerThread;

namespace {

const std::string kSource = CARBONKUBE_SOURCE_DIR;
const std::int64_t k1400 = ck::parse_timestamp("2024-05-21T14:00:00Z");

std::string signals_fixture(const std::string& name) {
  return read_text(kSource + "/tests/fixtures/signals/" + name);
}

void serve_json(httplib::Response& res, const std::string& body) {
  res.set_content(body, "application/json");
}

// Every error text and status of every provider, joined.
std::string all_errors(const CarbonProviders& providers) {
  std::string text;
  for (const auto& s : providers.status()) text += s.last_error + "\n";
  return text;
}

}  // namespace

TEST_CASE("providers: Electricity Maps sends auth-token, parses latest and history") {
  ck::host::test::TempDir dir;
  const std::string token = "em-secret-4f9a1c";
  ck::host::test::write_text(dir.file("em-token"), token + "\n");
  httplib::Server server;
  std::atomic<int> requests{0};
  server.Get(R"(/v3/carbon-intensity/(latest|history))", [&](const httplib::Request& req,
                                                             httplib::Response& res) {
    ++requests;
    if (req.get_header_value("auth-token") != token) {
      res.status = 401;  // the real API answers like this; echo the token to test redaction
      serve_json(res,
                 "{\"error\":\"invalid auth-token " + req.get_header_value("auth-token") + "\"}");
      return;
    }
    const std::string zone = req.get_param_value("zone");
    if (req.matches[1] == "latest" && zone == "DE")
      serve_json(res, signals_fixture("electricitymaps_latest.json"));
    else if (req.matches[1] == "history" && zone == "FR")
      serve_json(res, signals_fixture("electricitymaps_history.json"));
    else
      res.status = 404;
  });
  ServerThread thread(server);

  const std::string yaml =
      "providers:\n"
      "  - {name: em-de, type: electricitymaps, url: " +
      thread.base_url() + ", zones: [DE], tokenFile: " + dir.file("em-token") +
      ", history: false, forecast: false}\n"
      "  - {name: em-fr, type: electricitymaps, url: " +
      thread.base_url() + "/, zones: [FR], tokenFile: " + dir.file("em-token") +
      ", forecast: false, refreshInterval: 10m}\n";
  CarbonProviders providers(ck::host::parse_provider_configs_yaml(yaml, "host.yaml"));
  REQUIRE(providers.size() == 2);
  CHECK(providers.signals()->empty());
  CHECK(providers.refresh(k1400));
  CHECK(requests == 2);
  const auto signals = providers.signals();
  const ck::SignalPoint* de = signals->value_at("DE", k1400 + 600);
  REQUIRE(de);
  CHECK(de->g_per_kwh == 302);
  CHECK(signals->find("DE")->kind == ck::IntensityKind::kAverageLifecycle);
  const ck::ZoneSeries* fr = signals->find("FR");
  REQUIRE(fr);
  CHECK(fr->kind == ck::IntensityKind::kAverageDirect);
  CHECK(fr->points.front().g_per_kwh == 31);
  for (const auto& s : providers.status()) {
    CHECK(s.has_data);
    CHECK(s.last_error.empty());
    CHECK(s.refreshes_ok == 1);
    CHECK(s.last_success == k1400);
  }
  // Not due yet (300 s and 10 min intervals): no request.
  CHECK_FALSE(providers.refresh(k1400 + 60));
  CHECK(requests == 2);
  // 5 minutes later only em-de is due.
  providers.refresh(k1400 + 300);
  CHECK(requests == 3);

  // A rotated, wrong token: the refresh fails, the last good data stays, and
  // the server's echo of the token is redacted.
  ck::host::test::write_text(dir.file("em-token"), "em-wrong-77d0e2");
  CHECK_FALSE(providers.refresh(k1400 + 900, true));
  const auto status = providers.status();
  CHECK(status[0].refreshes_failed == 1);
  CHECK(status[0].last_error.find("HTTP 401") != std::string::npos);
  CHECK(status[0].last_error.find(thread.base_url() + "/v3/carbon-intensity/latest") !=
        std::string::npos);
  CHECK(all_errors(providers).find("em-wrong-77d0e2") == std::string::npos);
  CHECK(all_errors(providers).find("zone=") == std::string::npos);  // no query strings
  CHECK(status[0].has_data);
  CHECK(providers.signals()->value_at("DE", k1400 + 600)->g_per_kwh == 302);
}

TEST_CASE(
    "providers: WattTime v3 logs in with basic auth, sends the bearer token, re-logs on 401") {
  setenv("CK_TEST_WT_USER", "freddo", 1);
  setenv("CK_TEST_WT_PASSWORD", "pa55-wt-9c1e", 1);
  httplib::Server server;
  std::mutex mutex;
  int logins = 0;
  std::string valid_token;
  std::vector<std::string> paths;
  server.Get("/login", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    // base64("freddo:pa55-wt-9c1e")
    if (req.get_header_value("Authorization") != "Basic ZnJlZGRvOnBhNTUtd3QtOWMxZQ==") {
      res.status = 403;
      return;
    }
    valid_token = "wt-token-" + std::to_string(++logins);
    serve_json(res, "{\"token\": \"" + valid_token + "\"}");
  });
  auto data = [&](const std::string& fixture) {
    return [&, fixture](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      paths.push_back(req.path);
      if (req.get_header_value("Authorization") != "Bearer " + valid_token) {
        res.status = 401;
        return;
      }
      CHECK(req.get_param_value("region") == "CAISO_NORTH");
      CHECK(req.get_param_value("signal_type") == "co2_moer");
      if (req.path == "/v3/historical")  // the last 24 hours, as RFC 3339
        CHECK(ck::parse_timestamp(req.get_param_value("end")) -
                  ck::parse_timestamp(req.get_param_value("start")) ==
              24 * 3600);
      serve_json(res, signals_fixture(fixture));
    };
  };
  server.Get("/v3/historical", data("watttime_historical.json"));
  server.Get("/v3/forecast", data("watttime_forecast.json"));
  ServerThread thread(server);

  ProviderConfig c;
  c.name = "wt";
  c.type = ProviderType::kWattTime;
  c.url = thread.base_url();
  c.zones = {"CAISO_NORTH"};
  c.username.env = "CK_TEST_WT_USER";
  c.password.env = "CK_TEST_WT_PASSWORD";
  CarbonProviders providers({c});
  REQUIRE(providers.refresh(k1400));
  CHECK(logins == 1);
  CHECK(paths == std::vector<std::string>{"/v3/historical", "/v3/forecast"});
  const ck::ZoneSeries* series = providers.signals()->find("CAISO_NORTH");
  REQUIRE(series);
  CHECK(series->kind == ck::IntensityKind::kMarginalDirect);
  const ck::SignalPoint* p = series->at(ck::parse_timestamp("2024-05-21T13:50:00Z"));
  REQUIRE(p);
  CHECK(p->g_per_kwh == doctest::Approx(918.0 * 0.45359237));
  REQUIRE(series->forecast_at(k1400 + 610));
  CHECK(series->forecast_at(k1400 + 610)->g_per_kwh == doctest::Approx(865.2 * 0.45359237));

  // The token expires: the next request gets 401, the provider logs in again
  // and retries once.
  {
    std::lock_guard lock(mutex);
    valid_token = "expired-elsewhere";
  }
  CHECK(providers.refresh(k1400 + 300));
  CHECK(logins == 2);
  CHECK(providers.status()[0].refreshes_ok == 2);

  // A wrong password: the error names the login, never the secrets.
  setenv("CK_TEST_WT_PASSWORD", "wrong-pa55-0b7d", 1);
  {
    std::lock_guard lock(mutex);
    valid_token = "expired-again";
  }
  CHECK_FALSE(providers.refresh(k1400 + 600));
  const std::string error = all_errors(providers);
  CHECK(error.find("/login: HTTP 403") != std::string::npos);
  for (const char* secret : {"freddo", "wrong-pa55-0b7d", "pa55-wt-9c1e", "wt-token-2"})
    CHECK(error.find(secret) == std::string::npos);
  CHECK(providers.signals()->find("CAISO_NORTH"));  // last good kept
  unsetenv("CK_TEST_WT_USER");
  unsetenv("CK_TEST_WT_PASSWORD");
}

TEST_CASE("providers: UK Carbon Intensity national and regional, Carbon Aware SDK") {
  httplib::Server server;
  std::vector<std::string> paths;
  std::mutex mutex;
  server.Get(R"(/(regional/)?intensity/([0-9TZ:-]+)/(pt24h|fw48h))",
             [&](const httplib::Request& req, httplib::Response& res) {
               std::lock_guard lock(mutex);
               paths.push_back(req.path);
               serve_json(res, signals_fixture(req.matches[1].length() ? "uk_regional.json"
                                                                       : "uk_national.json"));
             });
  server.Get("/emissions/bylocations", [&](const httplib::Request& req, httplib::Response& res) {
    CHECK(req.get_header_value("Authorization") == "Bearer sdk-key-31");
    CHECK(req.get_param_value_count("location") == 2);
    serve_json(res, signals_fixture("carbonaware_bylocation.json"));
  });
  server.Get("/emissions/forecasts/current", [&](const httplib::Request&, httplib::Response& res) {
    serve_json(res, signals_fixture("carbonaware_forecast.json"));
  });
  ServerThread thread(server);
  setenv("CK_TEST_SDK_TOKEN", "sdk-key-31", 1);
  const std::string yaml =
      "providers:\n"
      "  - name: uk\n    type: uk-carbon-intensity\n    url: " +
      thread.base_url() +
      "\n    zones: [national, regional]\n"
      "  - name: sdk\n    type: carbon-aware-sdk\n    url: " +
      thread.base_url() +
      "\n    zones: [eastus, westus]\n    tokenEnv: CK_TEST_SDK_TOKEN\n"
      "    kind: average/lifecycle\n    timeout: 2s\n";
  CarbonProviders providers(ck::host::parse_provider_configs_yaml(yaml, "host.yaml"));
  REQUIRE(providers.refresh(k1400));
  CHECK(all_errors(providers).find_first_not_of('\n') == std::string::npos);
  CHECK(paths == std::vector<std::string>{"/intensity/2024-05-21T14:00Z/pt24h",
                                          "/intensity/2024-05-21T14:00Z/fw48h",
                                          "/regional/intensity/2024-05-21T14:00Z/pt24h",
                                          "/regional/intensity/2024-05-21T14:00Z/fw48h"});
  const auto signals = providers.signals();
  const ck::SignalPoint* gb = signals->value_at("GB", ck::parse_timestamp("2024-05-21T12:40:00Z"));
  REQUIRE(gb);
  CHECK(gb->g_per_kwh == 124);  // the actual, not the forecast 121
  CHECK_FALSE(gb->estimated);
  bool regional = false;
  for (const auto& [zone, series] : signals->all())
    regional = regional || zone.rfind("UKCI-", 0) == 0;
  CHECK(regional);
  const ck::SignalPoint* westus = signals->value_at("westus", k1400 + 60);
  REQUIRE(westus);
  CHECK(westus->g_per_kwh == doctest::Approx(221.05));
  CHECK(signals->find("northeurope"));
  unsetenv("CK_TEST_SDK_TOKEN");
}

TEST_CASE("providers: a timeout keeps the last good data until it is stale, then carbon-neutral") {
  httplib::Server server;
  std::atomic<bool> slow{false};
  server.Get("/v3/carbon-intensity/latest", [&](const httplib::Request&, httplib::Response& res) {
    if (slow) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    serve_json(res, signals_fixture("electricitymaps_latest.json"));
  });
  ServerThread thread(server);
  setenv("CK_TEST_EM_TOKEN", "em-env-token-5d", 1);
  ProviderConfig c;
  c.name = "em";
  c.type = ProviderType::kElectricityMaps;
  c.url = thread.base_url();
  c.zones = {"DE"};
  c.token.env = "CK_TEST_EM_TOKEN";
  c.history = false;
  c.forecast = false;
  c.timeout = std::chrono::milliseconds(300);
  CarbonProviders providers({c});
  REQUIRE(providers.refresh(k1400));
  slow = true;
  CHECK_FALSE(providers.refresh(k1400 + 3600, true));
  const auto status = providers.status()[0];
  CHECK(status.refreshes_failed == 1);
  CHECK(status.last_success == k1400);
  CHECK_FALSE(status.last_error.empty());
  CHECK(status.last_error.find("em-env-token-5d") == std::string::npos);
  const auto signals = providers.signals();
  ck::SignalPolicy policy;  // max age 2 h
  const ck::ZoneReading fresh = ck::evaluate(*signals, "DE", k1400 + 1800, policy);
  CHECK(fresh.usable);
  CHECK(fresh.g_per_kwh == 302);
  const ck::ZoneReading stale = ck::evaluate(*signals, "DE", k1400 + 3 * 3600, policy);
  CHECK_FALSE(stale.usable);
  CHECK(stale.reason == ck::ReadingStatus::kStale);
  CHECK_FALSE(stale.reason_text.empty());
  CHECK(std::isnan(stale.g_per_kwh));  // never 0, which would rank best
  unsetenv("CK_TEST_EM_TOKEN");
}

TEST_CASE("providers: file provider reads the loaders' formats") {
  ProviderConfig c;
  c.name = "bundled";
  c.type = ProviderType::kFile;
  c.paths = {kSource + "/data/carbon/electricitymaps/ES_2023_hourly.csv",
             kSource + "/tests/fixtures/signals/uk_national.json"};
  CarbonProviders providers({c});
  REQUIRE(providers.refresh(0));
  const auto signals = providers.signals();
  REQUIRE(signals->value_at("ES", ck::parse_timestamp("2023-01-01T00:30:00Z")));
  CHECK(signals->value_at("ES", ck::parse_timestamp("2023-01-01T00:30:00Z"))->g_per_kwh ==
        doctest::Approx(114.42));
  CHECK(signals->find("GB"));

  c.paths = {kSource + "/no/such/file.csv"};
  CarbonProviders missing({c});
  CHECK_FALSE(missing.refresh(0));
  CHECK(missing.status()[0].last_error.find("no/such/file.csv") != std::string::npos);
  CHECK_FALSE(missing.status()[0].has_data);
  CHECK(missing.signals()->empty());
}

TEST_CASE("providers: configuration errors name the item and field, never a secret") {
  auto error_of = [](const std::string& yaml) {
    try {
      ck::host::parse_provider_configs_yaml(yaml, "host.yaml");
    } catch (const ck::InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error_of("providers: 3").find("expected a list") != std::string::npos);
  CHECK(error_of("providers: [{name: a, type: carbonfax}]").find("providers[0].type") !=
        std::string::npos);
  CHECK(error_of("providers: [{name: a, type: electricitymaps, zones: [DE]}]")
            .find("tokenFile or tokenEnv is required") != std::string::npos);
  CHECK(error_of("providers: [{name: a, type: file, paths: [x], colour: red}]")
            .find("unknown key \"colour\"") != std::string::npos);
  CHECK(error_of("providers: [{name: a, type: file, paths: [x], refreshInterval: soon}]")
            .find("providers[0].refreshInterval") != std::string::npos);
  CHECK(
      error_of("providers: [{name: a, type: file, paths: [x]}, {name: a, type: file, paths: [y]}]")
          .find("\"a\" is used twice") != std::string::npos);
  CHECK(error_of("providers: [{name: a, type: uk-carbon-intensity, zones: [wales]}]")
            .find("not national or regional") != std::string::npos);
  CHECK(error_of("providers: [{name: a, type: watttime, zones: [X], usernameEnv: U, "
                 "passwordEnv: P, signalType: health_damage}]")
            .find("signalType") != std::string::npos);
  CHECK(error_of("providers: [{name: a, type: carbon-aware-sdk, zones: [eastus]}]")
            .find("url: required") != std::string::npos);
  CHECK(error_of("providers: [{name: a, type: carbon-aware-sdk, url: http://x, zones: [e], kind: "
                 "greenish}]")
            .find("kind") != std::string::npos);
  CHECK(ck::host::parse_provider_configs_yaml("listen: 1.2.3.4:5\n", "host.yaml").empty());

  const auto parsed = ck::host::parse_provider_configs_yaml(
      "providers: [{name: a, type: file, paths: [x], refreshInterval: 1h30m, timeout: 1500ms}]",
      "host.yaml");
  CHECK(parsed.at(0).refresh_interval == std::chrono::seconds(5400));
  CHECK(parsed.at(0).timeout == std::chrono::milliseconds(1500));

  ck::host::SecretSource secret;
  secret.env = "CK_TEST_UNSET_VARIABLE_7";
  CHECK_THROWS_WITH_AS(secret.resolve("WattTime password"),
                       doctest::Contains("CK_TEST_UNSET_VARIABLE_7 is not set"), ck::InvalidInput);
  secret = {"/no/such/secret", ""};
  CHECK_THROWS_WITH_AS(secret.resolve("token"), doctest::Contains("/no/such/secret"), ck::Error);
}
