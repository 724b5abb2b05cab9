// The energy model: CCF defaults, node overrides, and attribution of a
// node's power and embodied emissions to pods (conservation property).
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "carbonkube/energy.hpp"
#include "carbonkube/error.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

TEST_CASE("energy: linear idle-to-max node power with CCF coefficients") {
  NodePowerModel m;
  m.vcpus = 4;
  m.memory_gb = 16;
  // 4 × (0.74 + 0.5 × (3.5 − 0.74)) + 16 × 0.392 = 8.48 + 6.272 W
  CHECK(m.it_watts(0.5) == doctest::Approx(14.752));
  CHECK(m.facility_watts(0.5) == doctest::Approx(14.752 * 1.135));
  CHECK(m.it_watts(0) == doctest::Approx(4 * 0.74 + 6.272));
  CHECK(m.it_watts(2.0) == m.it_watts(1.0));           // clamped
  CHECK(m.it_watts(std::nan("")) == m.it_watts(0.0));  // NaN is idle, never NaN out
  m.gpus = 2;
  CHECK(m.it_watts(0, 1) - m.it_watts(0, 0) == doctest::Approx(2 * (300 - 30)));
  // 1000 kg over 4 years.
  CHECK(m.embodied_g_per_hour() == doctest::Approx(1e6 / (4 * 8760)));
}

TEST_CASE("energy: a node's model from its allocatable, labels and annotations") {
  Node n = ck_test::make_node("n1", 8000, 32'000'000'000, 110, {{"nvidia.com/gpu", 1}});
  NodePowerModel m = node_power_model(n);
  CHECK(m.vcpus == 8);
  CHECK(m.memory_gb == doctest::Approx(32));
  CHECK(m.gpus == 1);
  CHECK(m.pue == kCcfAwsPue);
  n.labels = {{"carbon-kube.io/pue", "1.4"}, {"carbon-kube.io/power-max-watts-per-vcpu", "5"}};
  n.annotations = {{"carbon-kube.io/pue", "1.25"}};
  m = node_power_model(n);
  CHECK(m.pue == 1.25);  // the annotation wins
  CHECK(m.max_watts_per_vcpu == 5);
  n.annotations = {{"carbon-kube.io/pue", "0.9"}};
  CHECK_THROWS_WITH_AS(node_power_model(n), doctest::Contains("node n1: pue"), InvalidInput);
  n.annotations = {{"carbon-kube.io/embodied-kgco2e", "lots"}};
  CHECK_THROWS_WITH_AS(node_power_model(n),
                       doctest::Contains("node n1: carbon-kube.io/embodied-kgco2e"), InvalidInput);
  n.annotations = {{"carbon-kube.io/power-idle-watts-per-vcpu", "9"}};  // idle > max
  CHECK_THROWS_AS(node_power_model(n), InvalidInput);
  n.annotations = {{"carbon-kube.io/lifetime-years", "0"}};
  CHECK_THROWS_AS(node_power_model(n), InvalidInput);
}

TEST_CASE("energy: attribution by share, idle separate or spread") {
  NodePowerModel m;
  m.vcpus = 8;
  m.memory_gb = 32;
  m.pue = 1.0;
  std::vector<PodUsage> pods = {{4, 16, 0, 0}, {0, 0, 0, 0}};
  Attribution a;
  attribute(m, pods, IdleAttribution::kSeparate, a);
  const double static_total = 8 * 0.74 + 32 * 0.392;
  const double dyn = 4 * (3.5 - 0.74);
  CHECK(a.node_watts == doctest::Approx(static_total + dyn));
  CHECK(a.pod_watts[0] == doctest::Approx(static_total / 2 + dyn));
  CHECK(a.pod_watts[1] == 0);
  CHECK(a.idle_watts == doctest::Approx(static_total / 2));
  CHECK(a.pod_embodied_g_per_hour[0] == doctest::Approx(m.embodied_g_per_hour() / 2));
  attribute(m, pods, IdleAttribution::kProportional, a);
  CHECK(a.pod_watts[0] == doctest::Approx(static_total + dyn));
  CHECK(a.idle_watts == doctest::Approx(0));
  CHECK(a.idle_embodied_g_per_hour == doctest::Approx(0));
  // No pods: everything idle.
  attribute(m, {}, IdleAttribution::kProportional, a);
  CHECK(a.idle_watts == doctest::Approx(static_total));
  CHECK(a.idle_embodied_g_per_hour == doctest::Approx(m.embodied_g_per_hour()));
  // Bad usage names the pod.
  pods[1].cpu_cores = std::nan("");
  CHECK_THROWS_WITH_AS(attribute(m, pods, IdleAttribution::kSeparate, a),
                       doctest::Contains("pod usage [1]: cpu_cores"), InvalidInput);
  pods[1].cpu_cores = -1;
  CHECK_THROWS_AS(attribute(m, pods, IdleAttribution::kSeparate, a), InvalidInput);
}

TEST_CASE("energy: attribution conserves power and embodied emissions (property)") {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0, 1);
  Attribution a;
  for (int trial = 0; trial < 500; ++trial) {
    NodePowerModel m;
    m.vcpus = std::floor(u(rng) * 64);
    m.memory_gb = std::floor(u(rng) * 256);
    m.gpus = trial % 3 == 0 ? 4 : 0;
    m.pue = 1 + u(rng);
    std::vector<PodUsage> pods(static_cast<std::size_t>(u(rng) * 12));
    for (PodUsage& p : pods)
      p = {u(rng) * 16, u(rng) * 64, m.gpus > 0 ? std::floor(u(rng) * 3) : 0, u(rng)};
    for (IdleAttribution idle : {IdleAttribution::kSeparate, IdleAttribution::kProportional}) {
      attribute(m, pods, idle, a);
      CAPTURE(trial);
      const double pods_w = std::accumulate(a.pod_watts.begin(), a.pod_watts.end(), 0.0);
      CHECK(pods_w + a.idle_watts == doctest::Approx(a.node_watts));
      for (double w : a.pod_watts) CHECK((std::isfinite(w) && w >= 0));
      const double emb =
          std::accumulate(a.pod_embodied_g_per_hour.begin(), a.pod_embodied_g_per_hour.end(), 0.0);
      CHECK(emb + a.idle_embodied_g_per_hour == doctest::Approx(m.embodied_g_per_hour()));
      // The node never draws more than its model at full load.
      CHECK(a.node_watts <= m.facility_watts(1.0, 1.0) * (1 + 1e-12));
    }
  }
}

TEST_CASE("energy: a pod's requests as usage, and its tenant") {
  Pod p = ck_test::make_pod("train", {{"cpu", "1500m"}, {"memory", "2G"}, {"nvidia.com/gpu", "1"}});
  PodUsage u = requested_usage(p, 0.5);
  CHECK(u.cpu_cores == doctest::Approx(1.5));
  CHECK(u.memory_gb == doctest::Approx(2));
  CHECK(u.gpus == 1);
  CHECK(u.gpu_utilisation == 0.5);
  CHECK(requested_usage(p, std::nan("")).gpu_utilisation == 0);
  CHECK(tenant_of(p).empty());
  p.annotations = {{"carbon-kube.io/tenant", "team-b"}};
  CHECK(tenant_of(p) == "team-b");
  p.labels = {{"carbon-kube.io/tenant", "team-a"}};
  CHECK(tenant_of(p) == "team-a");
}
