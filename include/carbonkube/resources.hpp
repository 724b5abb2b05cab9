// carbonkube/resources.hpp: resource names as small integer ids. A snapshot
// interns every resource name it sees once (cpu, memory, ephemeral-storage and
// pods have fixed ids; GPUs, hugepages and resource.katalyst.kubewharf.io/*
// get the next free ids) so that the hot path indexes columns, never strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

using ResourceId = std::uint16_t;

inline constexpr ResourceId kCpu = 0;               // millicores
inline constexpr ResourceId kMemory = 1;            // bytes
inline constexpr ResourceId kEphemeralStorage = 2;  // bytes
inline constexpr ResourceId kPods = 3;              // count (allocatable only)
inline constexpr ResourceId kFirstScalarResource = 4;
/// A resource a pod asks for that no node in the snapshot has.
inline constexpr ResourceId kUnknownResource = 0xFFFF;
inline constexpr std::size_t kMaxResources = 1024;

/// kube-scheduler's non-zero defaults for containers that set no request
/// (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest).
inline constexpr std::int64_t kDefaultMilliCpuRequest = 100;
inline constexpr std::int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

/// Interns resource names. Ids are dense and stable for the table's life.
class ResourceTable {
 public:
  ResourceTable();
  /// Returns the id of `name`, adding it if new. Throws past kMaxResources.
  ResourceId intern(std::string_view name);
  /// Returns the id of `name` or kUnknownResource.
  ResourceId find(std::string_view name) const;
  const std::string& name(ResourceId id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, ResourceId> ids_;
};

/// A sparse list of (resource, amount in base units), as a pod's requests or a
/// node's allocatable. Small: most objects name two to five resources.
struct ResourceAmount {
  std::string name;
  std::int64_t amount = 0;  // millicores for cpu, base units for the rest
};
using ResourceList = std::vector<ResourceAmount>;

/// Base unit conversion: CPU is held in millicores, everything else in units.
bool is_milli_resource(std::string_view name);

CARBONKUBE_NAMESPACE_END
