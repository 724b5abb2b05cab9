// HTTP(S) client of the reference host (libcurl): the Kubernetes API (plain
// requests and streamed watches) and the carbon providers share it. TLS is
// verified unless a caller turns verification off explicitly.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace carbonkube::host {

/// Where trust and identity come from. `*_data` holds PEM text (kubeconfig's
/// `*-data` fields, already base64-decoded); `*_file` a path. Data wins over a
/// file when both are set.
struct TlsConfig {
  std::string ca_file;
  std::string ca_data;
  std::string client_cert_file;
  std::string client_cert_data;
  std::string client_key_file;
  std::string client_key_data;
  bool insecure_skip_verify = false;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  HttpHeaders headers;  // values may be secrets: never logged, never in errors
  std::string body;
  std::chrono::milliseconds timeout{10'000};  // whole request (0: none, for watches)
  std::chrono::milliseconds connect_timeout{5'000};
};

struct HttpResponse {
  long status = 0;
  std::string body;
  HttpHeaders headers;  // names lower-cased
  /// First header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

/// One client holds one connection pool; it is not shared between threads
/// (make one per thread). Transport failures (DNS, connect, TLS, timeout)
/// throw carbonkube::Error with ErrorKind::kIo whose message names the method
/// and the URL without its query string, never a header value.
class HttpClient {
 public:
  explicit HttpClient(TlsConfig tls = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse send(const HttpRequest& request);

  /// Streams the response body: `on_chunk` gets each piece as it arrives
  /// and returns false to stop (the request is then aborted without an
  /// error). `should_stop` is polled while the transfer runs (libcurl calls
  /// its progress callback at least about once a second) so a caller can end
  /// a quiet watch. Returns the status and headers (body left empty).
  HttpResponse stream(const HttpRequest& request,
                      const std::function<bool(std::string_view chunk)>& on_chunk,
                      const std::function<bool()>& should_stop = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbonkube::host
