#include "carbonkube/pod.hpp"

CARBONKUBE_NAMESPACE_BEGIN

CompiledPod compile_pod(std::shared_ptr<const Pod> pod, const ClusterSnapshot& snapshot) {
  CompiledPod out;
  out.key = pod->key();
  const ResourceTable& table = snapshot.resources();
  out.requests.assign(table.size(), 0);
  out.nonzero_requests.assign(table.size(), 0);
  out.resource_table_size = table.size();
  for (const auto& ra : pod_requests(*pod, RequestDefaults::kAsWritten)) {
    if (ra.amount > 0) out.requests_anything = true;
    ResourceId r = table.find(ra.name);
    if (r == kUnknownResource) {
      if (ra.amount > 0) out.unknown_resources.push_back(ra.name);
      continue;
    }
    out.requests[r] = ra.amount;
  }
  for (const auto& ra : pod_requests(*pod, RequestDefaults::kNonZeroContainersOnly)) {
    ResourceId r = table.find(ra.name);
    if (r != kUnknownResource) out.nonzero_requests[r] = ra.amount;
  }
  out.pod = std::move(pod);
  return out;
}

CARBONKUBE_NAMESPACE_END
