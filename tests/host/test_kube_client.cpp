// The Kubernetes side of the host against local servers speaking the real
// wire format: kubeconfig and in-cluster credentials, the watch-stream
// decoder, paged LISTs, the informer's 410 relist, Status errors.
#include <doctest/doctest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "carbonkube/error.hpp"
#include "informer.hpp"
#include "kube_client.hpp"
#include "kube_config.hpp"
#include "test_support.hpp"

using namespace carbonkube;
using namespace carbonkube::host;

namespace {

std::string base64(const std::string& text) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = -6;
  for (char ch : text) {
    value = (value << 8) + static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 0) {
      out.push_back(table[(value >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(table[((value << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4 != 0) out.push_back('=');
  return out;
}

std::string node_json(const std::string& name, const std::string& rv) {
  return R"({"apiVersion":"v1","kind":"Node","metadata":{"name":")" + name +
         R"(","resourceVersion":")" + rv +
         R"("},"status":{"allocatable":{"cpu":"4","memory":"8Gi","pods":"110"}}})";
}

}  // namespace

TEST_CASE("base64 decoding: padding, whitespace, URL alphabet, bad input named") {
  CHECK(base64_decode("aGVsbG8=", "x") == "hello");
  CHECK(base64_decode("aGVs\nbG8gd29y bGQ=", "x") == "hello world");
  CHECK(base64_decode(base64("any\x01\xff text"), "x") == "any\x01\xff text");
  try {
    base64_decode("a$b", "users[admin].user.client-key-data");
    FAIL("expected InvalidInput");
  } catch (const InvalidInput& e) {
    CHECK(std::string(e.what()).find("client-key-data") != std::string::npos);
  }
}

TEST_CASE("kubeconfig: current context, CA data, client certificate data, token file") {
  test::TempDir dir;
  test::write_text(dir.file("token"), "file-token\n");
  const std::string path = dir.file("config");
  test::write_text(path,
                   "apiVersion: v1\nkind: Config\ncurrent-context: dev\n"
                   "clusters:\n"
                   "- name: prod\n  cluster:\n    server: https://prod:6443\n"
                   "- name: local\n  cluster:\n    server: https://127.0.0.1:6443/\n"
                   "    certificate-authority-data: " +
                       base64("CA PEM") +
                       "\n"
                       "contexts:\n"
                       "- name: dev\n  context:\n    cluster: local\n    user: me\n"
                       "    namespace: team\n"
                       "- name: other\n  context:\n    cluster: prod\n    user: bot\n"
                       "users:\n"
                       "- name: me\n  user:\n    client-certificate-data: " +
                       base64("CERT PEM") + "\n    client-key-data: " + base64("KEY PEM") +
                       "\n"
                       "- name: bot\n  user:\n    tokenFile: token\n");
  const KubeCredentials dev = load_kubeconfig(path);
  CHECK(dev.server == "https://127.0.0.1:6443");
  CHECK(dev.tls.ca_data == "CA PEM");
  CHECK(dev.tls.client_cert_data == "CERT PEM");
  CHECK(dev.tls.client_key_data == "KEY PEM");
  CHECK(dev.default_namespace == "team");
  CHECK(dev.current_token().empty());
  CHECK_FALSE(dev.tls.insecure_skip_verify);

  const KubeCredentials other = load_kubeconfig(path, "other");
  CHECK(other.server == "https://prod:6443");
  CHECK(other.bearer_token_file == dir.file("token"));  // relative to the kubeconfig
  CHECK(other.current_token() == "file-token");
}

TEST_CASE("kubeconfig: clear errors for missing pieces") {
  test::TempDir dir;
  auto error_for = [&](const std::string& text) -> std::string {
    test::write_text(dir.file("bad"), text);
    try {
      load_kubeconfig(dir.file("bad"));
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(error_for("clusters: []\n").find("current-context is not set") != std::string::npos);
  CHECK(error_for("current-context: x\ncontexts: []\n").find("contexts: no entry named \"x\"") !=
        std::string::npos);
  CHECK(error_for("current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
                  "clusters:\n- name: c\n  cluster: {}\n")
            .find("cluster.server is empty") != std::string::npos);
  CHECK(error_for("current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
                  "    user: u\nclusters:\n- name: c\n  cluster:\n    server: https://a\n"
                  "users:\n- name: u\n  user:\n    client-certificate: c.pem\n")
            .find("needs both the certificate and the key") != std::string::npos);
  CHECK(error_for("current-context: x\ncontexts:\n- name: x\n  context:\n    cluster: c\n"
                  "    user: u\nclusters:\n- name: c\n  cluster:\n    server: https://a\n"
                  "users:\n- name: u\n  user:\n    exec:\n      command: aws\n")
            .find("exec / auth-provider plugins are not supported") != std::string::npos);
  CHECK(error_for(": : [").find("not a kubeconfig") != std::string::npos);
}

TEST_CASE("in-cluster credentials: service host and port, token, CA, namespace") {
  test::TempDir dir;
  test::write_text(dir.file("token"), "sa-token\n");
  test::write_text(dir.file("ca.crt"), "CA");
  test::write_text(dir.file("namespace"), "carbon-system\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  const KubeCredentials creds = load_in_cluster(dir.file(""));
  CHECK(creds.server == "https://10.96.0.1:443");
  CHECK(creds.current_token() == "sa-token");
  CHECK(creds.tls.ca_file == dir.file("ca.crt"));
  CHECK(creds.default_namespace == "carbon-system");
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  CHECK(load_in_cluster(dir.file("")).server == "https://[fd00::1]:443");

  test::TempDir empty;
  CHECK_THROWS_WITH_AS(load_in_cluster(empty.file("")), doctest::Contains("token"), Error);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_THROWS_WITH_AS(load_in_cluster(dir.file("")), doctest::Contains("KUBERNETES_SERVICE_HOST"),
                       Error);
  ::unsetenv("KUBERNETES_SERVICE_PORT");
}

TEST_CASE("watch decoder: events split anywhere across chunks, every type, ERROR code") {
  const std::string stream =
      R"({"type":"ADDED","object":{"kind":"Node","metadata":{"name":"a","resourceVersion":"11"}}})"
      "\n"
      R"({"type":"MODIFIED","object":{"kind":"Node","metadata":{"name":"a","resourceVersion":"12"}}})"
      "\n"
      R"({"type":"BOOKMARK","object":{"kind":"Node","metadata":{"resourceVersion":"15"}}})"
      "\n"
      R"({"type":"DELETED","object":{"kind":"Node","metadata":{"name":"a","resourceVersion":"16"}}})"
      "\r\n\n"
      R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})"
      "\n";
  // Every split point of the stream into two chunks, and one byte at a time.
  for (std::size_t cut = 0; cut <= stream.size(); cut += 7) {
    WatchDecoder decoder;
    std::vector<WatchEvent> events;
    auto collect = [&](WatchEvent&& e) { events.push_back(std::move(e)); };
    decoder.feed(std::string_view(stream).substr(0, cut), collect);
    decoder.feed(std::string_view(stream).substr(cut), collect);
    REQUIRE(events.size() == 5);
    CHECK(events[0].type == "ADDED");
    CHECK(events[0].resource_version == "11");
    CHECK(nlohmann::json::parse(events[0].object_json)["metadata"]["name"] == "a");
    CHECK(events[1].type == "MODIFIED");
    CHECK(events[2].type == "BOOKMARK");
    CHECK(events[2].resource_version == "15");
    CHECK(events[3].type == "DELETED");
    CHECK(events[4].type == "ERROR");
    CHECK(events[4].error_code == 410);
    CHECK(decoder.buffered() == 0);
  }
  WatchDecoder bytewise;
  int count = 0;
  for (char c : stream) bytewise.feed(std::string_view(&c, 1), [&](WatchEvent&&) { ++count; });
  CHECK(count == 5);

  WatchDecoder partial;
  partial.feed(R"({"type":"ADDED","obj)", [](WatchEvent&&) { FAIL("no complete line yet"); });
  CHECK(partial.buffered() > 0);

  WatchDecoder bad;
  CHECK_THROWS_AS(bad.feed("not json\n", [](WatchEvent&&) {}), InvalidInput);
  CHECK_THROWS_AS(bad.feed("{\"object\":{}}\n", [](WatchEvent&&) {}), InvalidInput);
}

TEST_CASE("LIST pages with limit/continue; items get kind and apiVersion; Status errors") {
  httplib::Server server;
  std::vector<std::string> queries;
  std::mutex mutex;
  server.Get("/api/v1/nodes", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mutex);
      queries.push_back(req.get_param_value("limit") + "|" + req.get_param_value("continue") + "|" +
                        req.get_header_value("Authorization"));
    }
    const std::string token = req.get_param_value("continue");
    nlohmann::json list = {{"kind", "NodeList"}, {"apiVersion", "v1"}};
    if (token.empty()) {
      list["metadata"] = {{"resourceVersion", "100"}, {"continue", "page/2"}};
      list["items"] = {nlohmann::json::parse(node_json("a", "90"))};
    } else {
      list["metadata"] = {{"resourceVersion", "100"}};
      list["items"] = {{{"metadata", {{"name", "b"}}}}};  // as the API sends items: no kind
    }
    res.set_content(list.dump(), "application/json");
  });
  server.Get("/api/v1/pods", [](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
    res.set_content(
        R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods is forbidden: User \"x\" cannot list resource \"pods\"","reason":"Forbidden","code":403})",
        "application/json");
  });
  test::ServerThread running(server);
  KubeCredentials creds;
  creds.server = running.base_url();
  creds.bearer_token = "secret-token";
  KubeClient client(creds);

  const ListResult list = client.list("/api/v1/nodes", 1);
  CHECK(list.resource_version == "100");
  CHECK(list.kind == "Node");
  REQUIRE(list.items.size() == 2);
  const auto second = nlohmann::json::parse(list.items[1]);
  CHECK(second["kind"] == "Node");
  CHECK(second["apiVersion"] == "v1");
  REQUIRE(queries.size() == 2);
  CHECK(queries[0] == "1||Bearer secret-token");
  CHECK(queries[1] == "1|page/2|Bearer secret-token");

  try {
    client.list("/api/v1/pods");
    FAIL("expected ApiError");
  } catch (const ApiError& e) {
    CHECK(e.code() == 403);
    CHECK(e.reason() == "Forbidden");
    const std::string message = e.what();
    CHECK(message.find("GET /api/v1/pods: HTTP 403 Forbidden: pods is forbidden") == 0);
    CHECK(message.find("secret-token") == std::string::npos);
  }
}

TEST_CASE("informer: LIST, WATCH from its version, 410 Gone relists, errors back off") {
  httplib::Server server;
  std::mutex mutex;
  int lists = 0;
  std::vector<std::string> watch_versions;
  server.Get("/api/v1/nodes", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mutex);
    if (req.get_param_value("watch") == "true") {
      CHECK(req.get_param_value("allowWatchBookmarks") == "true");
      const std::string version = req.get_param_value("resourceVersion");
      watch_versions.push_back(version);
      std::string body;
      if (version == "100") {
        // An added node, a bookmark, then the watch window has passed.
        body =
            R"({"type":"ADDED","object":)" + node_json("b", "101") + "}\n" +
            R"({"type":"BOOKMARK","object":{"kind":"Node","metadata":{"resourceVersion":"150"}}})" +
            "\n";
      } else if (version == "150") {
        body =
            R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 150 (300)","reason":"Expired","code":410}})json"
            "\n";
      } else if (version == "300") {
        res.status = 410;  // the other form of expiry: the HTTP status
        res.set_content(
            R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410})",
            "application/json");
        return;
      } else {
        res.status = 500;
        res.set_content(R"({"kind":"Status","code":500,"message":"boom"})", "application/json");
        return;
      }
      res.set_content(body, "application/json");
      return;
    }
    ++lists;
    // Never resourceVersion=0: decisions need the current state.
    CHECK(req.get_param_value("resourceVersion").empty());
    nlohmann::json list = {{"kind", "NodeList"}, {"apiVersion", "v1"}};
    list["metadata"] = {{"resourceVersion", lists == 1 ? "100" : lists == 2 ? "300" : "400"}};
    list["items"] = {nlohmann::json::parse(node_json("a", "90"))};
    res.set_content(list.dump(), "application/json");
  });
  test::ServerThread running(server);

  KubeCredentials creds;
  creds.server = running.base_url();
  std::vector<InformerEvent> events;
  std::mutex events_mutex;
  InformerOptions options;
  options.resource = "nodes";
  options.path = "/api/v1/nodes";
  options.initial_backoff = std::chrono::milliseconds(20);
  options.max_backoff = std::chrono::milliseconds(40);
  Informer informer(
      options, creds,
      [&](InformerEvent&& e) {
        std::lock_guard lock(events_mutex);
        events.push_back(std::move(e));
      },
      [](const std::string&, const std::string&) {});
  std::atomic<bool> stop{false};
  std::thread thread([&] { informer.run(stop); });
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mutex);
      if (watch_versions.size() >= 5) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  thread.join();

  CHECK(informer.synced());
  std::lock_guard lock(mutex);
  REQUIRE(watch_versions.size() >= 5);
  // list@100 -> watch 100 (ends after the bookmark) -> watch 150 (ERROR 410)
  // -> list@300 -> watch 300 (HTTP 410) -> list@400 -> watch 400 (500: backoff, retry 400)
  CHECK(watch_versions[0] == "100");
  CHECK(watch_versions[1] == "150");
  CHECK(watch_versions[2] == "300");
  CHECK(watch_versions[3] == "400");
  CHECK(watch_versions[4] == "400");
  CHECK(lists == 3);
  CHECK(informer.relists() == 2);
  std::lock_guard events_lock(events_mutex);
  REQUIRE(events.size() >= 4);
  CHECK(events[0].kind == InformerEvent::Kind::kReplace);
  CHECK(events[1].kind == InformerEvent::Kind::kUpsert);
  CHECK(nlohmann::json::parse(events[1].objects.at(0))["metadata"]["name"] == "b");
  CHECK(events[2].kind == InformerEvent::Kind::kReplace);
  CHECK(events[3].kind == InformerEvent::Kind::kReplace);
}

TEST_CASE("backoff: doubles up to the cap, jitter within [ceiling/2, ceiling]") {
  using std::chrono::milliseconds;
  CHECK(backoff_delay(0, milliseconds(200), milliseconds(30'000), 1.0) == milliseconds(200));
  CHECK(backoff_delay(0, milliseconds(200), milliseconds(30'000), 0.0) == milliseconds(100));
  CHECK(backoff_delay(3, milliseconds(200), milliseconds(30'000), 1.0) == milliseconds(1600));
  CHECK(backoff_delay(20, milliseconds(200), milliseconds(30'000), 1.0) == milliseconds(30'000));
  CHECK(backoff_delay(20, milliseconds(200), milliseconds(30'000), 0.5) == milliseconds(22'500));
}
