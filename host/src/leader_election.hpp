// Leader election with a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection does: create the Lease or take it over once it expired,
// renew every retry period, update with the resourceVersion read (optimistic
// concurrency: a 409 means another replica wrote first). A leader that cannot
// renew within the renew deadline steps down at once.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

#include "kube_client.hpp"

namespace carbonkube::host {

struct LeaderElectionOptions {
  std::string lease_namespace = "kube-system";
  std::string lease_name = "carbonkube-host";
  std::string identity;
  std::chrono::milliseconds lease_duration{15'000};
  std::chrono::milliseconds renew_deadline{10'000};
  std::chrono::milliseconds retry_period{2'000};
};

/// Formats unix microseconds as a Kubernetes MicroTime ("2026-01-02T03:04:05.000000Z").
std::string format_micro_time(std::int64_t unix_micros);
/// Parses a MicroTime or RFC 3339 time; throws InvalidInput.
std::int64_t parse_micro_time(const std::string& text);

class LeaderElector {
 public:
  using Logger = std::function<void(const std::string& level, const std::string& message)>;
  LeaderElector(LeaderElectionOptions options, KubeCredentials credentials, Logger log);

  /// Runs until `stop`; on stop a leader releases the Lease (holder emptied)
  /// so another replica takes over without waiting for expiry.
  void run(const std::atomic<bool>& stop);

  bool is_leader() const { return leader_.load(); }
  std::uint64_t transitions_seen() const { return transitions_.load(); }

  /// One acquire-or-renew attempt (exposed for tests): true when this
  /// replica holds the Lease afterwards.
  bool try_acquire_or_renew(KubeClient& client);
  void release(KubeClient& client);

 private:
  LeaderElectionOptions options_;
  KubeCredentials credentials_;
  Logger log_;
  std::atomic<bool> leader_{false};
  std::atomic<std::uint64_t> transitions_{0};
  // When we last saw the Lease change (our clock), as client-go measures expiry.
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_{};
};

}  // namespace carbonkube::host
