// carbonkube/pod.hpp: a pod compiled against a snapshot. compile_pod() does the
// per-pod work once (effective requests, resource ids) so that the scoring
// loops over nodes only index integer arrays.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/snapshot.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

struct CompiledPod {
  std::shared_ptr<const Pod> pod;  // the source object (annotations, labels, affinity)
  std::string key;                 // namespace/name
  /// Requests as written, indexed by the snapshot's ResourceId (dense).
  std::vector<std::int64_t> requests;
  /// Requests with kube-scheduler's non-zero defaults for cpu and memory, as
  /// NodeResourcesFit scores the incoming pod (containers only, Kubernetes 1.34).
  std::vector<std::int64_t> nonzero_requests;
  /// Resources the pod requests (> 0) that no node in the snapshot has.
  std::vector<std::string> unknown_resources;
  /// True when any request as written is > 0 (kube-scheduler's fitsRequest early-out).
  bool requests_anything = false;
  /// The snapshot resource table's size when compiled: scheduling against a
  /// snapshot whose table differs is refused (ids would not match).
  std::size_t resource_table_size = 0;

  std::int64_t request(ResourceId r) const { return r < requests.size() ? requests[r] : 0; }
  std::int64_t nonzero_request(ResourceId r) const {
    return r < nonzero_requests.size() ? nonzero_requests[r] : 0;
  }
};

/// Compiles `pod` for scoring against `snapshot`. Valid for any later snapshot
/// of the same ClusterState whose resource table has the same size
/// (resources are only ever added); Scheduler::schedule refuses others.
CompiledPod compile_pod(std::shared_ptr<const Pod> pod, const ClusterSnapshot& snapshot);
inline CompiledPod compile_pod(const Pod& pod, const ClusterSnapshot& snapshot) {
  return compile_pod(std::make_shared<const Pod>(pod), snapshot);
}

CARBONKUBE_NAMESPACE_END
