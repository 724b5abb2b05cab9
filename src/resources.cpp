#include "carbonkube/resources.hpp"

#include <fmt/format.h>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

ResourceTable::ResourceTable() {
  for (const char* n : {"cpu", "memory", "ephemeral-storage", "pods"}) intern(n);
}

ResourceId ResourceTable::intern(std::string_view name) {
  auto it = ids_.find(std::string(name));
  if (it != ids_.end()) return it->second;
  if (names_.size() >= kMaxResources)
    throw Error(
        ErrorKind::kLimitExceeded,
        fmt::format("more than {} distinct resource names (adding \"{}\")", kMaxResources, name));
  auto id = static_cast<ResourceId>(names_.size());
  names_.emplace_back(name);
  ids_.emplace(std::string(name), id);
  return id;
}

ResourceId ResourceTable::find(std::string_view name) const {
  auto it = ids_.find(std::string(name));
  return it == ids_.end() ? kUnknownResource : it->second;
}

bool is_milli_resource(std::string_view name) { return name == "cpu"; }

CARBONKUBE_NAMESPACE_END
