// The migration advisor: the numbers behind a move, policies, cooldown, the
// hourly limit, missing outlooks, bad input, and the bundled 2023 data.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/forecast.hpp"
#include "carbonkube/migration.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/signals.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

constexpr std::int64_t kH = 3600;
constexpr std::int64_t k2023 = 1672531200;

MigrationCandidate pod(std::string name, std::string zone, MigrationPolicy policy) {
  MigrationCandidate c;
  c.pod = "ns/";
  c.pod.append(name);
  c.zone = std::move(zone);
  c.power_kw = 1.0;
  c.remaining_seconds = 10 * kH;
  c.restart_seconds = 360;     // 0.1 h
  c.lost_work_seconds = 1440;  // 0.4 h
  c.policy = policy;
  return c;
}

}  // namespace

TEST_CASE("migration: stay against move, with restart and redone work") {
  IntensityCurve dirty(k2023, kH, std::vector<double>(24, 400.0));
  IntensityCurve green(k2023, kH, std::vector<double>(24, 100.0));
  IntensityCurve mid(k2023, kH, std::vector<double>(24, 250.0));
  std::vector<ZoneOutlook> zones = {{"DIRTY", &dirty}, {"GREEN", &green}, {"MID", &mid}};
  MigrationAdvisor advisor;  // horizon 6 h
  std::vector<MigrationCandidate> pods = {pod("a", "DIRTY", MigrationPolicy::kConservative)};
  auto r = advisor.advise(k2023, pods, zones);
  REQUIRE(r.size() == 1);
  CHECK(r[0].recommended);
  CHECK(r[0].reason == MigrationReason::kRecommended);
  CHECK(r[0].to_zone == "GREEN");
  CHECK(r[0].horizon_seconds == 6 * kH);
  CHECK(r[0].stay_g == doctest::Approx(6 * 400));
  CHECK(r[0].move_g == doctest::Approx(6.5 * 100));
  CHECK(r[0].move_cost_g == doctest::Approx(0.5 * 100));
  CHECK(r[0].net_saving_g == doctest::Approx(2400 - 650));
  CHECK(r[0].saving_fraction == doctest::Approx(1750.0 / 2400));
  CHECK(r[0].detail.find("net saving 1750.0 g") != std::string::npos);
  // Already in the greenest zone.
  pods = {pod("b", "GREEN", MigrationPolicy::kAggressive)};
  r = advisor.advise(k2023, pods, zones);
  CHECK(r[0].reason == MigrationReason::kNoGreenerZone);
  CHECK_FALSE(r[0].recommended);
}

TEST_CASE("migration: policies and thresholds") {
  IntensityCurve a(k2023, kH, std::vector<double>(24, 300.0));
  IntensityCurve b(k2023, kH, std::vector<double>(24, 240.0));  // 20 % greener
  std::vector<ZoneOutlook> zones = {{"A", &a}, {"B", &b}};
  MigrationAdvisor advisor;
  std::vector<MigrationCandidate> pods = {pod("agg", "A", MigrationPolicy::kAggressive),
                                          pod("con", "A", MigrationPolicy::kConservative),
                                          pod("off", "A", MigrationPolicy::kDisabled)};
  for (auto& p : pods) {
    p.lost_work_seconds = 0;
    p.restart_seconds = 0;
  }
  auto r = advisor.advise(k2023, pods, zones);
  CHECK(r[0].reason == MigrationReason::kRecommended);     // 20 % >= 5 %
  CHECK(r[1].reason == MigrationReason::kSavingTooSmall);  // 20 % < 25 %
  CHECK(r[2].reason == MigrationReason::kPolicyDisabled);
  CHECK(r[2].net_saving_g == doctest::Approx(6 * 60));  // the numbers are still there
  MigrationOptions off;
  off.settings.enabled = false;
  CHECK(MigrationAdvisor(off).advise(k2023, pods, zones)[0].reason ==
        MigrationReason::kMigrationDisabled);
  // Restart cost can eat the saving: a long restart in the greener zone.
  pods[0].restart_seconds = 2 * kH;
  r = advisor.advise(k2023, pods, zones);
  CHECK(r[0].net_saving_g < 0);
  CHECK(r[0].reason == MigrationReason::kNoGreenerZone);
}

TEST_CASE("migration: cooldown and the hourly limit") {
  IntensityCurve dirty(k2023, kH, std::vector<double>(48, 500.0));
  IntensityCurve green(k2023, kH, std::vector<double>(48, 50.0));
  std::vector<ZoneOutlook> zones = {{"D", &dirty}, {"G", &green}};
  MigrationOptions o;
  o.settings.cooldown_seconds = 300;
  o.settings.max_per_hour = 2;
  MigrationAdvisor advisor(o);
  std::vector<MigrationCandidate> pods;
  for (int i = 0; i < 4; ++i) {
    pods.push_back(
        pod(std::string(1, 'p').append(std::to_string(i)), "D", MigrationPolicy::kAggressive));
    pods.back().power_kw = 1.0 + i;  // p3 saves most
  }
  auto r = advisor.advise(k2023, pods, zones);
  CHECK(r[3].recommended);
  CHECK(r[2].recommended);
  CHECK(r[1].reason == MigrationReason::kRateLimited);
  CHECK(r[0].reason == MigrationReason::kRateLimited);
  CHECK(r[0].detail.find("maxMigrationsPerHour 2") != std::string::npos);
  advisor.record_migration("ns/p3", k2023);
  advisor.record_migration("ns/p2", k2023 + 60);
  CHECK(advisor.migrations_in_last_hour(k2023 + 120) == 2);
  // Within the hour: no room; p3 itself is in its cooldown.
  r = advisor.advise(k2023 + 120, pods, zones);
  CHECK(r[3].reason == MigrationReason::kCooldown);
  CHECK(r[1].reason == MigrationReason::kRateLimited);
  // After the hour and the cooldown, room again.
  r = advisor.advise(k2023 + kH + 61, pods, zones);
  CHECK(advisor.migrations_in_last_hour(k2023 + kH + 61) == 0);
  CHECK(r[3].recommended);
  CHECK(r[2].recommended);
  CHECK_FALSE(r[1].recommended);
  // Zero per hour: nothing is ever recommended.
  MigrationOptions none;
  none.settings.max_per_hour = 0;
  r = MigrationAdvisor(none).advise(k2023, pods, zones);
  for (const auto& x : r) CHECK(x.reason == MigrationReason::kRateLimited);
}

TEST_CASE("migration: missing outlooks and finished pods") {
  IntensityCurve shortc(k2023, kH, std::vector<double>(2, 500.0));
  IntensityCurve green(k2023, kH, std::vector<double>(24, 50.0));
  std::vector<ZoneOutlook> zones = {{"D", &shortc}, {"G", &green}};
  MigrationAdvisor advisor;
  std::vector<MigrationCandidate> pods = {pod("a", "D", MigrationPolicy::kAggressive),
                                          pod("b", "UNKNOWN", MigrationPolicy::kAggressive),
                                          pod("c", "G", MigrationPolicy::kAggressive)};
  pods[2].remaining_seconds = 0;
  auto r = advisor.advise(k2023, pods, zones);
  CHECK(r[0].reason == MigrationReason::kNoOutlook);  // the curve ends after 2 h
  CHECK(r[1].reason == MigrationReason::kNoOutlook);
  CHECK(r[2].reason == MigrationReason::kFinished);
  for (const auto& x : r) CHECK(std::isfinite(x.net_saving_g));
}

TEST_CASE("migration: bad input is refused") {
  IntensityCurve c(k2023, kH, std::vector<double>(24, 50.0));
  MigrationAdvisor advisor;
  std::vector<ZoneOutlook> zones = {{"G", &c}};
  std::vector<MigrationCandidate> pods = {pod("a", "G", MigrationPolicy::kAggressive)};
  pods[0].power_kw = std::nan("");
  CHECK_THROWS_WITH_AS(advisor.advise(k2023, pods, zones), doctest::Contains("ns/a: power_kw"),
                       InvalidInput);
  pods[0].power_kw = 1;
  pods.push_back(pods[0]);
  CHECK_THROWS_WITH_AS(advisor.advise(k2023, pods, zones), doctest::Contains("twice"),
                       InvalidInput);
  pods.pop_back();
  std::vector<ZoneOutlook> dup = {{"G", &c}, {"G", &c}};
  CHECK_THROWS_AS(advisor.advise(k2023, pods, dup), InvalidInput);
  std::vector<ZoneOutlook> null_curve = {{"G", nullptr}};
  CHECK_THROWS_AS(advisor.advise(k2023, pods, null_curve), InvalidInput);
  MigrationOptions o;
  o.horizon_seconds = 0;
  CHECK_THROWS_AS(MigrationAdvisor{o}, InvalidInput);
  o = {};
  o.settings.max_per_hour = -1;
  CHECK_THROWS_AS(MigrationAdvisor{o}, InvalidInput);
}

TEST_CASE("migration: on the bundled 2023 data, California's evening moves to Norway") {
  auto grid = [](const std::string& zone) {
    const std::string path = std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/" +
                             zone + "_2023_hourly.csv";
    return resample(
        load_electricitymaps_csv(read_file(path), path, IntensityScope::kLifecycle).series.at(0));
  };
  IntensityCurve ca = IntensityCurve::from_grid(grid("US-CAL-CISO"));
  IntensityCurve no = IntensityCurve::from_grid(grid("NO"));
  std::vector<ZoneOutlook> zones = {{"US-CAL-CISO", &ca}, {"NO", &no}};
  MigrationAdvisor advisor;
  std::vector<MigrationCandidate> pods = {
      pod("batch", "US-CAL-CISO", MigrationPolicy::kConservative),
      pod("etl", "NO", MigrationPolicy::kAggressive)};
  const std::int64_t t = k2023 + 180 * 86400 + 2 * kH;  // 2023-06-30 02:00 UTC (evening in CA)
  auto r = advisor.advise(t, pods, zones);
  CHECK(r[0].recommended);
  CHECK(r[0].to_zone == "NO");
  CHECK(r[0].saving_fraction > 0.5);
  CHECK(r[1].reason == MigrationReason::kNoGreenerZone);
}

TEST_CASE("migration: options from a CarbonProfile and policies from pods") {
  CarbonProfile p = parse_carbon_profile(R"(apiVersion: carbon.katalyst.io/v1alpha1
kind: CarbonProfile
metadata: {name: p, namespace: ml}
spec:
  migrationPolicy: {enabled: true, strategy: carbon-aware, cooldownPeriod: 10m, maxMigrationsPerHour: 3}
)",
                                         "cp.yaml");
  MigrationOptions o = migration_options(p);
  CHECK(o.settings.cooldown_seconds == 600);
  CHECK(o.settings.max_per_hour == 3);
  CHECK_NOTHROW(MigrationAdvisor{o});
  o.settings.strategy = "random";
  CHECK_THROWS_WITH_AS(MigrationAdvisor{o}, doctest::Contains("random"), InvalidInput);

  Pod pod = ck_test::make_pod("x", {{"cpu", "1"}});
  CHECK(migration_policy(pod) == MigrationPolicy::kConservative);
  pod.annotations = {{"carbon-kube.io/qos-profile", "green-guaranteed"}};
  CHECK(migration_policy(pod) == MigrationPolicy::kDisabled);
  pod.annotations = {{"carbon-kube.io/qos-profile", "dirty-besteffort"}};
  CHECK(migration_policy(pod) == MigrationPolicy::kAggressive);
  pod.annotations = {{"carbon-kube.io/qos-profile", "no-such-profile"}};
  CHECK_THROWS_AS(migration_policy(pod), InvalidInput);
}
