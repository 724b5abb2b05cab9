// The host's HTTP(S) server (cpp-httplib): /healthz, /readyz, /metrics and,
// when the extender handlers are set, POST /filter and POST /prioritize.
// The routes call the callbacks the host provides, so the server knows
// nothing of the scheduler; it runs in its own threads and stops cleanly
// from any other thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "extender.hpp"

namespace carbonkube::host {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 10266;  // 0: any free port (tests); port() reports the bound one
  /// Both set: HTTPS with this PEM certificate (chain) and key; both empty: HTTP.
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Larger request bodies get 413 (an ExtenderArgs with 5000 full nodes is ~30 MiB).
  std::size_t max_body_bytes = std::size_t{64} << 20;
};

/// "host:port" ("[::1]:port" for IPv6) into options.host / options.port;
/// throws InvalidInput naming the text.
void parse_listen_address(std::string_view text, HttpServerOptions& options);

struct HttpHandlers {
  /// /healthz: 200 "ok" while the process serves; unset means always healthy.
  std::function<bool()> healthy;
  /// /readyz: 200 "ok" when true, else 503 with *why as the body.
  std::function<bool(std::string* why)> ready;
  /// /metrics: Prometheus text exposition (text/plain; version=0.0.4).
  std::function<std::string()> metrics;
  /// POST /filter and POST /prioritize: the body in, the reply out (see
  /// extender.hpp). Unset: the route answers 404 (extender mode off).
  std::function<ExtenderReply(std::string_view body)> filter;
  std::function<ExtenderReply(std::string_view body)> prioritize;
};

/// Every route answers 405 with an Allow header to a wrong method, 404 to an
/// unknown path. A handler that throws answers 500 with the message.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandlers handlers);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts serving on a background thread. Throws carbonkube::Error
  /// (kIo) naming the address when it cannot bind or the TLS files do not load.
  void start();
  /// The bound port (after start()).
  int port() const;
  /// Stops accepting, finishes in-flight requests, joins. Idempotent; safe
  /// from any thread (e.g. a signal-handling thread).
  void stop();
  bool running() const;
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbonkube::host
