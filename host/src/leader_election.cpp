// Lease-based leader election (leader_election.hpp).
#include "leader_election.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include <thread>

#include "carbonkube/error.hpp"

namespace carbonkube::host {
namespace {

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string format_micro_time(std::int64_t unix_micros) {
  const std::time_t seconds = static_cast<std::time_t>(unix_micros / 1'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[96];
  std::snprintf(out, sizeof out, "%.*s.%06lldZ", static_cast<int>(n), buffer,
                static_cast<long long>(unix_micros % 1'000'000));
  return out;
}

std::int64_t parse_micro_time(const std::string& text) {
  std::tm utc{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    throw InvalidInput("Lease: \"" + text + "\" is not an RFC 3339 time");
  }
  utc.tm_year = year - 1900;
  utc.tm_mon = month - 1;
  utc.tm_mday = day;
  utc.tm_hour = hour;
  utc.tm_min = minute;
  utc.tm_sec = second;
  std::int64_t micros = static_cast<std::int64_t>(timegm(&utc)) * 1'000'000;
  const char* rest = text.c_str() + consumed;
  if (*rest == '.') {
    ++rest;
    std::int64_t scale = 100'000;
    while (*rest >= '0' && *rest <= '9') {
      micros += (*rest - '0') * scale;
      scale /= 10;
      ++rest;
    }
  }
  return micros;
}

LeaderElector::LeaderElector(LeaderElectionOptions options, KubeCredentials credentials, Logger log)
    : options_(std::move(options)), credentials_(std::move(credentials)), log_(std::move(log)) {}

bool LeaderElector::try_acquire_or_renew(KubeClient& client) {
  const std::string collection =
      "/apis/coordination.k8s.io/v1/namespaces/" + options_.lease_namespace + "/leases";
  const std::string path = collection + "/" + options_.lease_name;
  const auto duration_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count();
  const std::string now = format_micro_time(now_micros());

  HttpResponse got = client.request("GET", path);
  if (got.status == 404) {
    nlohmann::json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
        {"spec",
         {{"holderIdentity", options_.identity},
          {"leaseDurationSeconds", duration_seconds},
          {"acquireTime", now},
          {"renewTime", now},
          {"leaseTransitions", 0}}}};
    HttpResponse created = client.request("POST", collection, lease.dump());
    if (created.status == 409) return false;  // another replica created it first
    if (created.status < 200 || created.status >= 300) throw api_error("POST", collection, created);
    observed_record_ = lease["spec"].dump();
    observed_at_ = std::chrono::steady_clock::now();
    return true;
  }
  if (got.status < 200 || got.status >= 300) throw api_error("GET", path, got);

  nlohmann::json lease = nlohmann::json::parse(got.body);
  nlohmann::json& spec = lease["spec"];
  const std::string holder = spec.value("holderIdentity", "");
  const std::string record = spec.dump();
  if (record != observed_record_) {
    observed_record_ = record;
    observed_at_ = std::chrono::steady_clock::now();
  }
  const bool ours = holder == options_.identity;
  if (!ours && !holder.empty()) {
    // Expired only when the record has not changed for its own duration,
    // measured on our clock (client-go's rule; clocks need not agree).
    const auto lease_seconds = spec.value("leaseDurationSeconds", duration_seconds);
    if (std::chrono::steady_clock::now() - observed_at_ < std::chrono::seconds(lease_seconds)) {
      return false;
    }
  }
  if (!ours) {
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
    spec["acquireTime"] = now;
    spec["holderIdentity"] = options_.identity;
  }
  spec["renewTime"] = now;
  spec["leaseDurationSeconds"] = duration_seconds;
  // metadata.resourceVersion stays as read: the update fails with 409 if
  // anyone wrote the Lease since.
  HttpResponse updated = client.request("PUT", path, lease.dump());
  if (updated.status == 409) return false;
  if (updated.status < 200 || updated.status >= 300) throw api_error("PUT", path, updated);
  observed_record_ = nlohmann::json::parse(updated.body)["spec"].dump();
  observed_at_ = std::chrono::steady_clock::now();
  return true;
}

void LeaderElector::release(KubeClient& client) {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + options_.lease_namespace +
                           "/leases/" + options_.lease_name;
  HttpResponse got = client.request("GET", path);
  if (got.status != 200) return;
  nlohmann::json lease = nlohmann::json::parse(got.body);
  if (lease["spec"].value("holderIdentity", "") != options_.identity) return;
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = format_micro_time(now_micros());
  client.request("PUT", path, lease.dump());
}

void LeaderElector::run(const std::atomic<bool>& stop) {
  KubeClient client(credentials_);
  auto last_renew = std::chrono::steady_clock::now();
  while (!stop.load()) {
    bool held = false;
    try {
      held = try_acquire_or_renew(client);
    } catch (const std::exception& e) {
      log_("warn", std::string("leader election: ") + e.what());
    }
    const auto now = std::chrono::steady_clock::now();
    if (held) {
      last_renew = now;
      if (!leader_.exchange(true)) {
        transitions_.fetch_add(1);
        log_("info", "leader election: became the leader (" + options_.identity + ")");
      }
    } else if (leader_.load() && now - last_renew >= options_.renew_deadline) {
      leader_.store(false);
      log_("warn",
           "leader election: could not renew the Lease within the renew deadline; "
           "stepping down");
    } else if (!leader_.load()) {
      // not the leader: nothing to do
    } else {
      // a failed renewal inside the deadline: keep leading, retry sooner
    }
    const auto until = std::chrono::steady_clock::now() + options_.retry_period;
    while (!stop.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (leader_.exchange(false)) {
    try {
      release(client);
      log_("info", "leader election: released the Lease");
    } catch (const std::exception& e) {
      log_("warn", std::string("leader election: release failed: ") + e.what());
    }
  }
}

}  // namespace carbonkube::host
