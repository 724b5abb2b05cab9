// Leader election against a local server that keeps one coordination.k8s.io/v1
// Lease with the API server's optimistic concurrency (a PUT with a stale
// resourceVersion gets 409), and the host's flags and --config file.
#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <mutex>
#include <string>

#include "carbonkube/error.hpp"
#include "host_options.hpp"
#include "leader_election.hpp"
#include "test_support.hpp"

using namespace carbonkube;
using namespace carbonkube::host;

namespace {

// One Lease, stored as the API server would: resourceVersion bumped on each
// write, a PUT whose resourceVersion is not the current one answered 409.
struct LeaseServer {
  std::mutex mutex;
  nlohmann::json lease;  // null: absent
  int version = 0;
  int conflicts = 0;

  void install(httplib::Server& server) {
    const std::string collection = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";
    server.Get(collection + "/carbonkube-host", [this](const httplib::Request&,
                                                       httplib::Response& res) {
      std::lock_guard lock(mutex);
      if (lease.is_null()) {
        res.status = 404;
        res.set_content(R"({"kind":"Status","code":404,"reason":"NotFound"})", "application/json");
        return;
      }
      res.set_content(lease.dump(), "application/json");
    });
    server.Post(collection, [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mutex);
      if (!lease.is_null()) {
        ++conflicts;
        res.status = 409;
        res.set_content(R"({"kind":"Status","code":409,"reason":"AlreadyExists"})",
                        "application/json");
        return;
      }
      lease = nlohmann::json::parse(req.body);
      lease["metadata"]["resourceVersion"] = std::to_string(++version);
      res.status = 201;
      res.set_content(lease.dump(), "application/json");
    });
    server.Put(collection + "/carbonkube-host", [this](const httplib::Request& req,
                                                       httplib::Response& res) {
      std::lock_guard lock(mutex);
      auto update = nlohmann::json::parse(req.body);
      if (update["metadata"].value("resourceVersion", "") != std::to_string(version)) {
        ++conflicts;
        res.status = 409;
        res.set_content(R"({"kind":"Status","code":409,"reason":"Conflict"})", "application/json");
        return;
      }
      update["metadata"]["resourceVersion"] = std::to_string(++version);
      lease = update;
      res.set_content(lease.dump(), "application/json");
    });
  }
  std::string holder() {
    std::lock_guard lock(mutex);
    return lease.is_null() ? "" : lease["spec"].value("holderIdentity", "");
  }
};

LeaderElectionOptions elector_options(const std::string& identity) {
  LeaderElectionOptions o;
  o.identity = identity;
  o.lease_duration = std::chrono::milliseconds(1000);
  o.renew_deadline = std::chrono::milliseconds(600);
  o.retry_period = std::chrono::milliseconds(100);
  return o;
}

}  // namespace

TEST_CASE("leader election: one holder, renewals, takeover only after expiry, release") {
  httplib::Server server;
  LeaseServer leases;
  leases.install(server);
  test::ServerThread running(server);
  KubeCredentials creds;
  creds.server = running.base_url();
  auto quiet = [](const std::string&, const std::string&) {};
  LeaderElector a(elector_options("replica-a"), creds, quiet);
  LeaderElector b(elector_options("replica-b"), creds, quiet);
  KubeClient client_a(creds);
  KubeClient client_b(creds);

  CHECK(a.try_acquire_or_renew(client_a));  // creates the Lease
  CHECK(leases.holder() == "replica-a");
  CHECK_FALSE(b.try_acquire_or_renew(client_b));  // held and fresh
  CHECK(a.try_acquire_or_renew(client_a));        // renews
  CHECK_FALSE(b.try_acquire_or_renew(client_b));
  {
    std::lock_guard lock(leases.mutex);
    CHECK(leases.lease["spec"]["leaseDurationSeconds"] == 1);
    CHECK(leases.lease["spec"]["leaseTransitions"] == 0);
    CHECK(leases.lease["spec"]["renewTime"].get<std::string>().size() == 27);  // MicroTime
  }
  // A stops renewing; B takes over once the record has not changed for a
  // whole lease duration on B's clock.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(b.try_acquire_or_renew(client_b));
  CHECK(leases.holder() == "replica-b");
  {
    std::lock_guard lock(leases.mutex);
    CHECK(leases.lease["spec"]["leaseTransitions"] == 1);
  }
  // A comes back: not its Lease any more.
  CHECK_FALSE(a.try_acquire_or_renew(client_a));
  // B releases: A may take it at once, without waiting for expiry... once A
  // has seen the released record age past its (1 s) duration.
  b.release(client_b);
  CHECK(leases.holder().empty());
  CHECK(a.try_acquire_or_renew(client_a));
  CHECK(leases.holder() == "replica-a");
}

TEST_CASE("leader election: run() leads, and steps down when renewals fail past the deadline") {
  httplib::Server server;
  LeaseServer leases;
  leases.install(server);
  std::atomic<bool> broken{false};
  server.set_pre_routing_handler([&](const httplib::Request&, httplib::Response& res) {
    if (!broken.load()) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 503;
    res.set_content(R"({"kind":"Status","code":503})", "application/json");
    return httplib::Server::HandlerResponse::Handled;
  });
  test::ServerThread running(server);
  KubeCredentials creds;
  creds.server = running.base_url();
  LeaderElector elector(elector_options("solo"), creds,
                        [](const std::string&, const std::string&) {});
  std::atomic<bool> stop{false};
  std::thread thread([&] { elector.run(stop); });
  auto wait_until = [](auto condition) {
    for (int i = 0; i < 300 && !condition(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
  };
  CHECK(wait_until([&] { return elector.is_leader(); }));
  broken = true;  // the API server stops answering
  const auto broke_at = std::chrono::steady_clock::now();
  CHECK(wait_until([&] { return !elector.is_leader(); }));
  // Not before the renew deadline (600 ms since the last good renewal, at most 100 ms before).
  CHECK(std::chrono::steady_clock::now() - broke_at >= std::chrono::milliseconds(450));
  broken = false;
  CHECK(wait_until([&] { return elector.is_leader(); }));
  stop = true;
  thread.join();
  CHECK(leases.holder().empty());  // released on the way out
}

TEST_CASE("MicroTime: formatted and parsed back") {
  CHECK(format_micro_time(1'689'444'000'123'456) == "2023-07-15T18:00:00.123456Z");
  CHECK(parse_micro_time("2023-07-15T18:00:00.123456Z") == 1'689'444'000'123'456);
  CHECK(parse_micro_time("2023-07-15T18:00:00Z") == 1'689'444'000'000'000);
  CHECK_THROWS_AS(parse_micro_time("yesterday"), InvalidInput);
}

TEST_CASE("host options: defaults, both flag forms, durations, modes, errors") {
  const HostOptions defaults = parse_host_options({});
  CHECK(defaults.mode_scheduler);
  CHECK_FALSE(defaults.mode_extender);
  CHECK(defaults.scheduler_name == "katalyst-carbon-scheduler");
  CHECK(defaults.listen == "127.0.0.1:10266");
  CHECK(defaults.leader_elect);
  CHECK(defaults.lease_duration == std::chrono::seconds(15));
  CHECK(defaults.renew_deadline == std::chrono::seconds(10));
  CHECK(defaults.retry_period == std::chrono::seconds(2));
  CHECK(defaults.log_format == "json");

  const HostOptions o = parse_host_options(
      {"--modes", "scheduler,extender", "--leader-elect=false", "--signals", "a.csv", "--signals",
       "b.csv", "--at", "1689444000", "--lease-duration", "1m30s", "--renew-deadline", "500ms",
       "--retry-period=100ms", "--log-format", "text"});
  CHECK(o.mode_scheduler);
  CHECK(o.mode_extender);
  CHECK_FALSE(o.mode_qos);
  CHECK_FALSE(o.leader_elect);
  CHECK(o.signals == std::vector<std::string>{"a.csv", "b.csv"});
  CHECK(o.at == 1689444000);
  CHECK(o.lease_duration == std::chrono::seconds(90));
  CHECK(o.renew_deadline == std::chrono::milliseconds(500));
  CHECK(o.retry_period == std::chrono::milliseconds(100));

  auto error_of = [](std::vector<std::string> args) -> std::string {
    try {
      parse_host_options(args);
    } catch (const InvalidInput& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(error_of({"--modes", "scheduler,magic"}).find("unknown mode \"magic\"") !=
        std::string::npos);
  CHECK(error_of({"--bogus", "1"}).find("unknown flag --bogus") != std::string::npos);
  CHECK(error_of({"--at"}).find("--at: missing a value") != std::string::npos);
  CHECK(error_of({"--at", "noon"}).find("--at: \"noon\" is not an integer") != std::string::npos);
  CHECK(error_of({"--lease-duration", "15 parsecs"}).find("--lease-duration") != std::string::npos);
  CHECK(error_of({"--renew-deadline", "20s"}).find("shorter than --lease-duration") !=
        std::string::npos);
  CHECK(error_of({"--tls-cert", "c.pem"}).find("--tls-cert and --tls-key go together") !=
        std::string::npos);
  CHECK(error_of({"--modes", "qos"}).find("needs --zones") != std::string::npos);
  CHECK(error_of({"--leader-elect=maybe"}).find("not true or false") != std::string::npos);
}

TEST_CASE("host options: --config YAML with the flags' names; the command line wins") {
  test::TempDir dir;
  const std::string path = dir.file("host.yaml");
  test::write_text(path,
                   "modes: scheduler,qos\nzones: zones.yaml\nsignals:\n- a.csv\n- b.csv\n"
                   "leader-elect: false\nscheduler-name: from-file\nlease-duration: 20s\n");
  const HostOptions from_file = parse_host_options({"--config", path});
  CHECK(from_file.mode_qos);
  CHECK(from_file.signals == std::vector<std::string>{"a.csv", "b.csv"});
  CHECK_FALSE(from_file.leader_elect);
  CHECK(from_file.scheduler_name == "from-file");
  CHECK(from_file.lease_duration == std::chrono::seconds(20));

  const HostOptions overridden = parse_host_options(
      {"--scheduler-name", "from-flag", "--config=" + path, "--signals", "c.csv"});
  CHECK(overridden.scheduler_name == "from-flag");
  CHECK(overridden.signals == std::vector<std::string>{"c.csv"});

  test::write_text(path, "colour: blue\n");
  CHECK_THROWS_WITH_AS(parse_host_options({"--config", path}),
                       doctest::Contains("unknown flag --colour"), InvalidInput);
  test::write_text(path, "- a\n- b\n");
  CHECK_THROWS_WITH_AS(parse_host_options({"--config", path}),
                       doctest::Contains("expected a mapping"), InvalidInput);
}
