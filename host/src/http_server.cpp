// The host's HTTP(S) server on cpp-httplib (see http_server.hpp).
#include "http_server.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <carbonkube/error.hpp>

#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

namespace carbonkube::host {
namespace {

constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

void method_not_allowed(httplib::Server& server, const std::string& path, const char* allow) {
  auto reply = [allow](const httplib::Request& req, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", allow);
    res.set_content(fmt::format("{} is not allowed on {}; use {}\n", req.method, req.path, allow),
                    "text/plain");
  };
  if (std::string_view(allow) == "POST") server.Get(path, reply);
  if (std::string_view(allow) != "POST") server.Post(path, reply);
  server.Put(path, reply);
  server.Patch(path, reply);
  server.Delete(path, reply);
}

}  // namespace

void parse_listen_address(std::string_view text, HttpServerOptions& options) {
  auto fail = [&](std::string_view why) {
    throw InvalidInput(
        fmt::format("--listen \"{}\": {} (expected HOST:PORT, e.g. 0.0.0.0:10266)", text, why));
  };
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) fail("no port");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) fail("no host");
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535)
    fail("the port is not a number in 0..65535");
  options.host = std::string(host);
  options.port = port;
}

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandlers handlers;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  std::mutex mutex;  // start/stop
  std::atomic<int> port{0};

  void routes() {
    httplib::Server& s = *server;
    s.set_payload_max_length(options.max_body_bytes);
    s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
      const bool ok = !handlers.healthy || handlers.healthy();
      res.status = ok ? 200 : 503;
      res.set_content(ok ? "ok\n" : "unhealthy\n", "text/plain");
    });
    s.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      std::string why;
      const bool ok = !handlers.ready || handlers.ready(&why);
      res.status = ok ? 200 : 503;
      res.set_content(ok ? std::string("ok\n") : (why.empty() ? "not ready" : why) + "\n",
                      "text/plain");
    });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(handlers.metrics ? handlers.metrics() : std::string(),
                      kPrometheusContentType);
    });
    for (const char* path : {"/healthz", "/readyz", "/metrics"}) method_not_allowed(s, path, "GET");
    auto extender_route = [&s](const char* path,
                               const std::function<ExtenderReply(std::string_view)>& handler) {
      if (!handler) return;  // extender mode off: 404
      s.Post(path, [&handler](const httplib::Request& req, httplib::Response& res) {
        const ExtenderReply reply = handler(req.body);
        res.status = reply.status;
        res.set_content(reply.body, "application/json");
      });
      method_not_allowed(s, path, "POST");
    };
    extender_route("/filter", handlers.filter);
    extender_route("/prioritize", handlers.prioritize);
    s.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
          std::string message = "internal error";
          try {
            std::rethrow_exception(error);
          } catch (const std::exception& e) {
            message = e.what();
          } catch (...) {
          }
          res.status = 500;
          res.set_content(message + "\n", "text/plain");
        });
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandlers handlers)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handlers = std::move(handlers);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->server) return;
  const auto& o = impl_->options;
  if (o.tls_cert_file.empty() != o.tls_key_file.empty())
    throw InvalidInput("HTTPS needs both --tls-cert and --tls-key");
  std::unique_ptr<httplib::Server> server;
  if (!o.tls_cert_file.empty()) {
    auto tls =
        std::make_unique<httplib::SSLServer>(o.tls_cert_file.c_str(), o.tls_key_file.c_str());
    if (!tls->is_valid())
      throw Error(ErrorKind::kIo,
                  fmt::format("HTTPS server: cannot load the certificate {} or the key {}",
                              o.tls_cert_file, o.tls_key_file));
    server = std::move(tls);
  } else {
    server = std::make_unique<httplib::Server>();
  }
  impl_->server = std::move(server);
  impl_->routes();
  const int port = o.port == 0 ? impl_->server->bind_to_any_port(o.host)
                               : (impl_->server->bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) {
    impl_->server.reset();
    throw Error(ErrorKind::kIo, fmt::format("HTTP server: cannot listen on {}:{}", o.host, o.port));
  }
  impl_->port = port;
  impl_->thread = std::thread([server = impl_->server.get()] { server->listen_after_bind(); });
  // listen_after_bind sets is_running before it accepts; a listener that
  // ends at once (it cannot on a bound socket, but never wait forever) is an error.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!impl_->server->is_running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      impl_->server->stop();
      impl_->thread.join();
      impl_->server.reset();
      throw Error(ErrorKind::kIo,
                  fmt::format("HTTP server: {}:{} did not start serving", o.host, o.port));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int HttpServer::port() const { return impl_->port.load(); }

void HttpServer::stop() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->server) return;
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->server.reset();
}

bool HttpServer::running() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->server && impl_->server->is_running();
}

bool HttpServer::tls() const { return !impl_->options.tls_cert_file.empty(); }

}  // namespace carbonkube::host
