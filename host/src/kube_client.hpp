// A small Kubernetes REST client over HttpClient: authenticated requests,
// paged LISTs (limit/continue), WATCH streams decoded line by line, and the
// Status objects the API server answers errors with. One KubeClient per
// thread (it owns one HttpClient).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http_client.hpp"
#include "kube_config.hpp"

namespace carbonkube::host {

/// The API answered with a non-2xx status. `code` is the HTTP status (or the
/// Status object's code), `reason` its reason (Conflict, Expired, ...).
class ApiError : public std::runtime_error {
 public:
  ApiError(long code, std::string reason, const std::string& message)
      : std::runtime_error(message), code_(code), reason_(std::move(reason)) {}
  long code() const noexcept { return code_; }
  const std::string& reason() const noexcept { return reason_; }

 private:
  long code_;
  std::string reason_;
};

/// One watch event: type ADDED / MODIFIED / DELETED / BOOKMARK / ERROR and
/// the object's JSON text (a Status for ERROR).
struct WatchEvent {
  std::string type;
  std::string object_json;
  std::string resource_version;  // the object's metadata.resourceVersion
  long error_code = 0;           // ERROR: the Status code (410 = expired)
};

/// Splits a watch stream into newline-delimited JSON events. Chunks may cut
/// an event anywhere; `feed` calls `on_event` for each complete line.
/// Malformed lines throw InvalidInput.
class WatchDecoder {
 public:
  void feed(std::string_view chunk, const std::function<void(WatchEvent&&)>& on_event);
  std::size_t buffered() const { return partial_.size(); }

 private:
  std::string partial_;
};

WatchEvent decode_watch_event(std::string_view line);

/// A LIST's items (each an object's JSON text with kind and apiVersion
/// filled in, as the list items lack them) and its resourceVersion.
struct ListResult {
  std::string resource_version;
  std::vector<std::string> items;
  std::string kind;  // of the items: "Node", "Pod", ...
};

class KubeClient {
 public:
  explicit KubeClient(KubeCredentials credentials);

  const KubeCredentials& credentials() const { return credentials_; }

  /// A request to `path` (beginning with /api or /apis, query included).
  /// Returns the response for any status; transport errors throw Error(kIo).
  HttpResponse request(const std::string& method, const std::string& path,
                       const std::string& body = {},
                       const std::string& content_type = "application/json");

  /// Like request, but a non-2xx status throws ApiError with the Status's
  /// message. Returns the body.
  std::string call(const std::string& method, const std::string& path, const std::string& body = {},
                   const std::string& content_type = "application/json");

  /// Every page of a LIST (limit/continue); a 410 on a continue token
  /// restarts the LIST from the beginning. Never resourceVersion=0: the
  /// result is the API server's current state.
  ListResult list(const std::string& path, int page_size = 500);

  /// Streams a WATCH from `resource_version` (bookmarks on). Returns when
  /// the server ends the stream or `should_stop` says so; throws ApiError
  /// for a non-2xx answer (410 when the version is too old).
  void watch(const std::string& path, const std::string& resource_version, int timeout_seconds,
             const std::function<void(WatchEvent&&)>& on_event,
             const std::function<bool()>& should_stop);

 private:
  HttpRequest make(const std::string& method, const std::string& path);
  KubeCredentials credentials_;
  HttpClient http_;
};

/// The ApiError for a non-2xx response, from its Status body when it has one.
ApiError api_error(const std::string& method, const std::string& path,
                   const HttpResponse& response);

}  // namespace carbonkube::host
