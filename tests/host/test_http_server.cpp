// The host's HTTP(S) server, exercised with cpp-httplib's client on a
// loopback port chosen by the kernel.
#include <doctest/doctest.h>

#include <httplib.h>
#include <carbonkube/error.hpp>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_server.hpp"
#include "test_support.hpp"

namespace ck = carbonkube;
using ck::host::HttpHandlers;
using ck::host::HttpServer;
using ck::host::HttpServerOptions;

namespace {

HttpServerOptions loopback_any_port() {
  HttpServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  return o;
}

}  // namespace

TEST_CASE("http server: health, readiness, metrics and the extender routes") {
  std::atomic<bool> ready{false};
  std::atomic<int> filter_calls{0};
  HttpHandlers h;
  h.ready = [&](std::string* why) {
    if (!ready) *why = "informers have not synced (nodes, pods)";
    return ready.load();
  };
  h.metrics = [] { return std::string("carbonkube_host_leader 1\n"); };
  h.filter = [&](std::string_view body) {
    ++filter_calls;
    return ck::host::ExtenderReply{200, std::string("{\"echo\":") + std::string(body) + "}"};
  };
  h.prioritize = [](std::string_view) -> ck::host::ExtenderReply {
    throw ck::InvalidInput("prioritize failed on purpose");
  };
  HttpServerOptions options = loopback_any_port();
  options.max_body_bytes = 1024;
  HttpServer server(options, h);
  server.start();
  REQUIRE(server.port() > 0);
  CHECK(server.running());
  CHECK_FALSE(server.tls());
  httplib::Client client("127.0.0.1", server.port());

  auto health = client.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(health->body == "ok\n");

  auto not_ready = client.Get("/readyz");
  REQUIRE(not_ready);
  CHECK(not_ready->status == 503);
  CHECK(not_ready->body.find("informers have not synced") != std::string::npos);
  ready = true;
  CHECK(client.Get("/readyz")->status == 200);

  auto metrics = client.Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->status == 200);
  CHECK(metrics->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics->body == "carbonkube_host_leader 1\n");

  auto filtered = client.Post("/filter", "[1,2]", "application/json");
  REQUIRE(filtered);
  CHECK(filtered->status == 200);
  CHECK(filtered->body == "{\"echo\":[1,2]}");
  CHECK(filtered->get_header_value("Content-Type") == "application/json");
  CHECK(filter_calls == 1);

  // Wrong method: 405 naming the allowed one; the handler is not called.
  auto get_filter = client.Get("/filter");
  REQUIRE(get_filter);
  CHECK(get_filter->status == 405);
  CHECK(get_filter->get_header_value("Allow") == "POST");
  CHECK(filter_calls == 1);
  auto post_health = client.Post("/healthz", "", "text/plain");
  REQUIRE(post_health);
  CHECK(post_health->status == 405);
  CHECK(post_health->get_header_value("Allow") == "GET");
  CHECK(client.Delete("/metrics")->status == 405);

  // Over the body limit: 413, the handler never sees it.
  auto large = client.Post("/filter", std::string(4096, 'x'), "application/json");
  REQUIRE(large);
  CHECK(large->status == 413);
  CHECK(filter_calls == 1);

  // A handler that throws answers 500 with its message.
  auto failing = client.Post("/prioritize", "{}", "application/json");
  REQUIRE(failing);
  CHECK(failing->status == 500);
  CHECK(failing->body.find("prioritize failed on purpose") != std::string::npos);

  CHECK(client.Get("/nothing-here")->status == 404);
  server.stop();
  CHECK_FALSE(server.running());
  server.stop();  // idempotent
}

TEST_CASE("http server: the real extender answers 400 naming the problem on bad JSON") {
  const ck::Scheduler scheduler =
      ck::host::make_extender_scheduler({}, "katalyst-carbon-scheduler");
  ck::host::ExtenderInputs inputs;
  inputs.scheduler = &scheduler;
  HttpHandlers h;
  h.filter = [&](std::string_view body) { return ck::host::extender_filter(body, inputs); };
  h.prioritize = [&](std::string_view body) { return ck::host::extender_prioritize(body, inputs); };
  HttpServer server(loopback_any_port(), h);
  server.start();
  httplib::Client client("127.0.0.1", server.port());
  for (const char* route : {"/filter", "/prioritize"}) {
    auto res = client.Post(route, "{\"Pod\": {", "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    const auto body = nlohmann::json::parse(res->body);
    CHECK(body["Error"].get<std::string>().find("not valid JSON") != std::string::npos);
  }
}

TEST_CASE("http server: without extender handlers /filter is 404") {
  HttpServer server(loopback_any_port(), HttpHandlers{});
  server.start();
  httplib::Client client("127.0.0.1", server.port());
  CHECK(client.Post("/filter", "{}", "application/json")->status == 404);
  CHECK(client.Get("/healthz")->status == 200);  // unset callbacks: healthy, ready
  CHECK(client.Get("/readyz")->status == 200);
}

TEST_CASE("http server: stop from another thread while clients poll") {
  HttpServer server(loopback_any_port(), HttpHandlers{});
  server.start();
  const int port = server.port();
  std::atomic<bool> done{false};
  std::thread poller([&] {
    httplib::Client client("127.0.0.1", port);
    client.set_connection_timeout(1, 0);
    while (!done) client.Get("/healthz");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  std::thread stopper([&] { server.stop(); });
  stopper.join();
  done = true;
  poller.join();
  CHECK_FALSE(server.running());
  httplib::Client after("127.0.0.1", port);
  after.set_connection_timeout(1, 0);
  CHECK_FALSE(after.Get("/healthz"));  // nothing listens any more
}

TEST_CASE("http server: HTTPS with a certificate and key; a bad address or key is an error") {
  const auto pki = ck::host::test::TestPki::generate();
  HttpServerOptions options = loopback_any_port();
  options.tls_cert_file = pki.server_cert_file;
  options.tls_key_file = pki.server_key_file;
  HttpServer server(options, HttpHandlers{});
  server.start();
  CHECK(server.tls());
  httplib::SSLClient client("127.0.0.1", server.port());
  client.set_ca_cert_path(pki.ca_cert_file.c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/healthz");
  REQUIRE(res);
  CHECK(res->status == 200);
  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", server.port());
  plain.set_read_timeout(2, 0);
  auto plain_res = plain.Get("/healthz");
  CHECK((!plain_res || plain_res->status != 200));

  HttpServerOptions missing_key = loopback_any_port();
  missing_key.tls_cert_file = pki.server_cert_file;
  missing_key.tls_key_file = pki.dir->file("absent.key");
  HttpServer broken(missing_key, HttpHandlers{});
  CHECK_THROWS_WITH_AS(broken.start(), doctest::Contains("absent.key"), ck::Error);

  HttpServerOptions only_cert = loopback_any_port();
  only_cert.tls_cert_file = pki.server_cert_file;
  CHECK_THROWS_AS(HttpServer(only_cert, HttpHandlers{}).start(), ck::InvalidInput);

  // An address no interface of this machine has (TEST-NET-3) cannot be bound.
  HttpServerOptions foreign = loopback_any_port();
  foreign.host = "203.0.113.7";
  CHECK_THROWS_WITH_AS(HttpServer(foreign, HttpHandlers{}).start(),
                       doctest::Contains("cannot listen on 203.0.113.7"), ck::Error);
}

TEST_CASE("http server: --listen addresses") {
  HttpServerOptions o;
  ck::host::parse_listen_address("0.0.0.0:10266", o);
  CHECK(o.host == "0.0.0.0");
  CHECK(o.port == 10266);
  ck::host::parse_listen_address("[::1]:0", o);
  CHECK(o.host == "::1");
  CHECK(o.port == 0);
  CHECK_THROWS_WITH_AS(ck::host::parse_listen_address("localhost", o), doctest::Contains("no port"),
                       ck::InvalidInput);
  CHECK_THROWS_WITH_AS(ck::host::parse_listen_address("a:99999", o), doctest::Contains("0..65535"),
                       ck::InvalidInput);
  CHECK_THROWS_AS(ck::host::parse_listen_address(":80", o), ck::InvalidInput);
  CHECK_THROWS_AS(ck::host::parse_listen_address("h:8x", o), ck::InvalidInput);
}
