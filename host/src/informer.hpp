// A list+watch informer for one resource: LIST (paged, never from
// resourceVersion=0), then WATCH from the list's resourceVersion with
// bookmarks; on 410 Gone (HTTP or an ERROR event) it lists again, on other
// errors it backs off exponentially with jitter and resumes the watch from
// the last version it saw. Events go to a sink as batches of object JSON.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "kube_client.hpp"

namespace carbonkube::host {

struct InformerEvent {
  enum class Kind {
    kReplace,  // a full LIST: these objects are everything that exists now
    kUpsert,   // ADDED or MODIFIED
    kDelete,   // DELETED
  };
  Kind kind = Kind::kUpsert;
  std::string resource;              // "nodes", "pods", "customnoderesources"
  std::vector<std::string> objects;  // object JSON, each with kind/apiVersion
};

struct InformerOptions {
  std::string resource;  // label for logs and metrics
  std::string path;      // collection path, e.g. /api/v1/nodes
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{30'000};
  int watch_timeout_seconds = 300;
};

/// Exponential backoff with full jitter: attempt 0 waits up to `initial`,
/// each later attempt doubles the ceiling up to `max`.
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double unit_random);

class Informer {
 public:
  using Sink = std::function<void(InformerEvent&&)>;
  using Logger = std::function<void(const std::string& level, const std::string& message)>;

  Informer(InformerOptions options, KubeCredentials credentials, Sink sink, Logger log);

  /// Runs until `stop` is set. Blocks; run it on its own thread.
  void run(const std::atomic<bool>& stop);

  bool synced() const { return synced_.load(); }
  std::uint64_t relists() const { return relists_.load(); }
  std::uint64_t lists() const { return lists_.load(); }

 private:
  InformerOptions options_;
  KubeCredentials credentials_;
  Sink sink_;
  Logger log_;
  std::atomic<bool> synced_{false};
  std::atomic<std::uint64_t> relists_{0};
  std::atomic<std::uint64_t> lists_{0};
};

}  // namespace carbonkube::host
