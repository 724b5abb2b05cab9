// HttpClient against a local cpp-httplib server: plain HTTP, HTTPS with a
// freshly generated CA-signed certificate (file and PEM-data trust), client
// certificates, streaming with early stop, and errors that never leak a
// query string or a header value.
#include <doctest/doctest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "carbonkube/error.hpp"
#include "http_client.hpp"
#include "test_support.hpp"

using namespace carbonkube;
using namespace carbonkube::host;

TEST_CASE("http client: plain GET, POST with headers and body, status codes") {
  httplib::Server server;
  server.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Seen-Auth", req.get_header_value("Authorization"));
    res.set_content("world", "text/plain");
  });
  server.Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 201;
    res.set_content(req.body + "|" + req.get_header_value("Content-Type"), "text/plain");
  });
  server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"kind":"Status","code":404})", "application/json");
  });
  test::ServerThread running(server);

  HttpClient client;
  HttpRequest get;
  get.url = running.base_url() + "/hello";
  get.headers = {{"Authorization", "Bearer abc"}};
  HttpResponse response = client.send(get);
  CHECK(response.status == 200);
  CHECK(response.body == "world");
  CHECK(response.header("x-seen-auth") == "Bearer abc");
  CHECK(response.header("Content-Type") == "text/plain");

  HttpRequest post;
  post.method = "POST";
  post.url = running.base_url() + "/echo";
  post.headers = {{"Content-Type", "application/json"}};
  post.body = R"({"a":1})";
  response = client.send(post);
  CHECK(response.status == 201);
  CHECK(response.body == R"({"a":1}|application/json)");

  HttpRequest missing;
  missing.url = running.base_url() + "/missing";
  response = client.send(missing);  // an HTTP error status is not a transport error
  CHECK(response.status == 404);
  CHECK(response.body.find("\"code\":404") != std::string::npos);
}

TEST_CASE("http client: streaming delivers chunks, stops on request and on should_stop") {
  httplib::Server server;
  server.Get("/watch", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json", [](size_t, httplib::DataSink& sink) {
      for (int i = 0; i < 3; ++i) {
        const std::string line = "{\"n\":" + std::to_string(i) + "}\n";
        sink.write(line.data(), line.size());
      }
      // Then stay quiet, as a watch with no events does, until the client leaves.
      for (int i = 0; i < 100 && sink.is_writable(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      sink.done();
      return true;
    });
  });
  test::ServerThread running(server);

  HttpClient client;
  HttpRequest request;
  request.url = running.base_url() + "/watch?watch=true";
  request.timeout = std::chrono::milliseconds(0);

  std::string received;
  auto started = std::chrono::steady_clock::now();
  HttpResponse response = client.stream(
      request,
      [&](std::string_view chunk) {
        received.append(chunk);
        return true;
      },
      [&] { return received.size() >= 24; });  // three lines of 8 bytes
  CHECK(response.status == 200);
  CHECK(received == "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
  CHECK(response.body.empty());
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));

  received.clear();
  response = client.stream(request, [&](std::string_view chunk) {
    received.append(chunk);
    return false;  // stop after the first piece
  });
  CHECK(response.status == 200);
  CHECK(!received.empty());
  CHECK(received.rfind("{\"n\":0}", 0) == 0);

  // The same client is reusable after an aborted stream.
  HttpRequest plain;
  plain.url = running.base_url() + "/nothing";
  CHECK(client.send(plain).status == 404);
}

TEST_CASE(
    "http client: an exception from a stream callback reaches the caller, the client stays "
    "usable") {
  httplib::Server server;
  server.Get("/watch", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"type\":\"ERROR\"}\n", "application/json");
  });
  test::ServerThread running(server);

  HttpClient client;
  HttpRequest request;
  request.url = running.base_url() + "/watch?watch=true";
  request.timeout = std::chrono::milliseconds(0);
  // A decoder that rejects the line throws from inside libcurl's write
  // callback: it must come out of stream() intact, not unwind through C.
  CHECK_THROWS_WITH_AS(
      client.stream(request,
                    [](std::string_view) -> bool { throw std::runtime_error("bad watch line"); }),
      "bad watch line", std::runtime_error);
  CHECK_THROWS_WITH_AS(client.stream(
                           request, [](std::string_view) { return true; },
                           []() -> bool { throw std::runtime_error("stop check failed"); }),
                       "stop check failed", std::runtime_error);
  // The easy handle was released cleanly: the next requests work.
  std::string received;
  HttpResponse response = client.stream(request, [&](std::string_view chunk) {
    received.append(chunk);
    return true;
  });
  CHECK(response.status == 200);
  CHECK(received == "{\"type\":\"ERROR\"}\n");
  HttpRequest plain;
  plain.url = running.base_url() + "/nothing";
  CHECK(client.send(plain).status == 404);
}

TEST_CASE("http client: transport errors name method and URL, never query or header values") {
  HttpClient client;
  HttpRequest request;
  request.method = "DELETE";
  request.url = "http://127.0.0.1:1/api/v1/pods?token=supersecret";  // nothing listens on port 1
  request.headers = {{"Authorization", "Bearer topsecret"}};
  request.connect_timeout = std::chrono::milliseconds(2000);
  try {
    client.send(request);
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(e.kind() == ErrorKind::kIo);
    CHECK(message.find("DELETE http://127.0.0.1:1/api/v1/pods") != std::string::npos);
    CHECK(message.find("supersecret") == std::string::npos);
    CHECK(message.find("topsecret") == std::string::npos);
  }
}

TEST_CASE("http client: timeouts are transport errors") {
  httplib::Server server;
  server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    res.set_content("late", "text/plain");
  });
  test::ServerThread running(server);
  HttpClient client;
  HttpRequest request;
  request.url = running.base_url() + "/slow";
  request.timeout = std::chrono::milliseconds(300);
  CHECK_THROWS_AS(client.send(request), Error);
}

TEST_CASE("http client: TLS verifies the server against the CA, from a file or PEM data") {
  const test::TestPki pki = test::TestPki::generate();
  httplib::SSLServer server(pki.server_cert_file.c_str(), pki.server_key_file.c_str());
  REQUIRE(server.is_valid());
  server.Get("/secure", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  test::ServerThread running(server, "https");

  HttpRequest request;
  request.url = running.base_url() + "/secure";

  TlsConfig by_file;
  by_file.ca_file = pki.ca_cert_file;
  HttpClient file_client(by_file);
  CHECK(file_client.send(request).body == "ok");

  TlsConfig by_data;
  by_data.ca_data = test::read_text(pki.ca_cert_file);
  HttpClient data_client(by_data);
  CHECK(data_client.send(request).body == "ok");

  // Without the CA the system trust store does not know the server: refused.
  HttpClient untrusting;
  CHECK_THROWS_AS(untrusting.send(request), Error);

  TlsConfig insecure;
  insecure.insecure_skip_verify = true;
  HttpClient insecure_client(insecure);
  CHECK(insecure_client.send(request).body == "ok");
}

TEST_CASE("http client: client certificates from files and from PEM data") {
  const test::TestPki pki = test::TestPki::generate();
  httplib::SSLServer server(pki.server_cert_file.c_str(), pki.server_key_file.c_str(),
                            pki.ca_cert_file.c_str());  // requires a client certificate
  REQUIRE(server.is_valid());
  server.Get("/whoami", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("authenticated", "text/plain");
  });
  test::ServerThread running(server, "https");
  HttpRequest request;
  request.url = running.base_url() + "/whoami";

  TlsConfig files;
  files.ca_file = pki.ca_cert_file;
  files.client_cert_file = pki.client_cert_file;
  files.client_key_file = pki.client_key_file;
  HttpClient file_client(files);
  CHECK(file_client.send(request).body == "authenticated");

  TlsConfig data;
  data.ca_data = test::read_text(pki.ca_cert_file);
  data.client_cert_data = test::read_text(pki.client_cert_file);
  data.client_key_data = test::read_text(pki.client_key_file);
  HttpClient data_client(data);
  CHECK(data_client.send(request).body == "authenticated");

  TlsConfig no_client_cert;
  no_client_cert.ca_file = pki.ca_cert_file;
  HttpClient anonymous(no_client_cert);
  CHECK_THROWS_AS(anonymous.send(request), Error);
}
