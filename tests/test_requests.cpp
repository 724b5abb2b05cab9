// A pod's effective request, as kube-scheduler computes it
// (component-helpers PodRequests).
#include <doctest/doctest.h>

#include "carbonkube/kube.hpp"

using namespace carbonkube;

namespace {
Container container(std::vector<std::pair<std::string, std::string>> reqs, bool sidecar = false) {
  Container c;
  for (auto& [k, v] : reqs) c.requests.emplace_back(k, parse_quantity(v));
  c.restartable_init = sidecar;
  return c;
}
std::int64_t get(const ResourceList& l, const std::string& name) {
  for (const auto& r : l)
    if (r.name == name) return r.amount;
  return -1;  // absent
}
}  // namespace

TEST_CASE("sum of containers, max with init containers, plus overhead") {
  Pod p;
  p.containers = {container({{"cpu", "500m"}, {"memory", "1Gi"}}), container({{"cpu", "250m"}})};
  p.init_containers = {container({{"cpu", "2"}, {"memory", "512Mi"}})};
  p.overhead = {{"cpu", parse_quantity("100m")}};
  auto r = pod_requests(p, RequestDefaults::kAsWritten);
  CHECK(get(r, "cpu") == 2100);               // max(750, 2000) + 100
  CHECK(get(r, "memory") == 1024 * 1048576);  // max(1Gi, 512Mi)
}

TEST_CASE("restartable init containers (sidecars) add to everything after them") {
  Pod p;
  p.init_containers = {container({{"cpu", "1"}}), container({{"cpu", "200m"}}, true),
                       container({{"cpu", "1500m"}})};
  p.containers = {container({{"cpu", "300m"}})};
  auto r = pod_requests(p, RequestDefaults::kAsWritten);
  // containers + sidecar = 500m; init: max(1000, 200 (sidecar), 1500 + 200) = 1700.
  CHECK(get(r, "cpu") == 1700);
}

TEST_CASE("a sidecar alone still counts beside the main containers") {
  Pod p;
  p.init_containers = {container({{"memory", "100Mi"}}, true)};
  p.containers = {container({{"memory", "200Mi"}})};
  CHECK(get(pod_requests(p, RequestDefaults::kAsWritten), "memory") == 300 * 1048576);
}

TEST_CASE("non-zero defaults apply only where a request is missing") {
  Pod p;
  p.containers = {container({}), container({{"cpu", "0"}, {"memory", "64Mi"}})};
  auto as_written = pod_requests(p, RequestDefaults::kAsWritten);
  CHECK(get(as_written, "cpu") == 0);
  CHECK(get(as_written, "memory") == 64 * 1048576);
  auto nonzero = pod_requests(p, RequestDefaults::kNonZero);
  CHECK(get(nonzero, "cpu") == 100);  // 100m default + explicit 0
  CHECK(get(nonzero, "memory") == 200 * 1048576 + 64 * 1048576);
}

TEST_CASE("extended resources and rounding of the sum") {
  Pod p;
  p.containers = {container({{"nvidia.com/gpu", "1"}, {"cpu", "0.5m"}}),
                  container({{"nvidia.com/gpu", "2"}, {"cpu", "0.5m"}})};
  auto r = pod_requests(p, RequestDefaults::kAsWritten);
  CHECK(get(r, "nvidia.com/gpu") == 3);
  CHECK(get(r, "cpu") == 1);  // exact sum 1m, not 1m + 1m
}
