// The VPA-style recommender: histogram layout and percentiles against a plain
// reference, decay and renormalisation, per-interval memory peaks, the OOM
// bump, the estimator chain (margin, confidence, minimums, caps), bad input,
// and recommendations from outside (VPA status) in and out.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/recommender.hpp"
#include "fixtures.hpp"

using namespace carbonkube;

namespace {

using ck_test::contains;

using ck_test::error_of;

constexpr std::int64_t kT0 = 1672531200;  // 2023-01-01T00:00:00Z, a multiple of a day

// The plain reference: sort samples, find the first whose cumulative weight
// reaches p x total, answer the end of its bucket.
double reference_percentile(const DecayingHistogram& h, std::vector<std::pair<double, double>> s,
                            double p) {
  std::vector<double> by_bucket(static_cast<std::size_t>(h.bucket_count()), 0.0);
  double total = 0.0;
  for (auto [v, w] : s) {
    by_bucket[static_cast<std::size_t>(h.find_bucket(v))] += w;
    total += w;
  }
  double acc = 0.0;
  int last = 0;
  for (int b = 0; b < h.bucket_count(); ++b)
    if (by_bucket[static_cast<std::size_t>(b)] > 0) last = b;
  int first = 0;
  while (by_bucket[static_cast<std::size_t>(first)] == 0.0) ++first;
  for (int b = first; b < h.bucket_count(); ++b) {
    acc += by_bucket[static_cast<std::size_t>(b)];
    if (acc >= p * total || b == last)
      return b < h.bucket_count() - 1 ? h.bucket_start(b + 1) : h.bucket_start(b);
  }
  return 0.0;
}

}  // namespace

TEST_CASE("recommender: histogram buckets follow VPA's exponential layout") {
  DecayingHistogram h(HistogramOptions::cpu(), 86400.0);
  // ceil(log(1000 * 0.05 / 0.01 + 1) / log(1.05)) + 1
  CHECK(h.bucket_count() == 176);
  CHECK(h.bucket_start(0) == 0.0);
  CHECK(h.bucket_start(1) == doctest::Approx(0.01));
  CHECK(h.bucket_start(2) == doctest::Approx(0.01 + 0.0105));
  CHECK(h.find_bucket(0.0) == 0);
  CHECK(h.find_bucket(0.0099) == 0);
  CHECK(h.find_bucket(0.0101) == 1);
  CHECK(h.find_bucket(1e9) == h.bucket_count() - 1);
  for (int b = 1; b < h.bucket_count() - 1; ++b) {
    const double mid = 0.5 * (h.bucket_start(b) + h.bucket_start(b + 1));
    CHECK(h.find_bucket(mid) == b);
  }
  CHECK(h.empty());
  CHECK(h.percentile(0.9) == 0.0);
}

TEST_CASE("recommender: percentiles match a plain reference on random weighted samples") {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    DecayingHistogram h(HistogramOptions::cpu(), 86400.0);
    std::vector<std::pair<double, double>> samples;
    const int n = 1 + static_cast<int>(rng() % 200);
    for (int i = 0; i < n; ++i) {
      const double v = std::exp(std::uniform_real_distribution<double>(-6.0, 5.0)(rng));
      const double w = std::uniform_real_distribution<double>(0.1, 3.0)(rng);
      h.add_sample(v, w, kT0);  // one time: no decay between samples
      samples.emplace_back(v, w);
    }
    for (double p : {0.0, 0.1, 0.5, 0.9, 0.95, 1.0})
      CHECK(h.percentile(p) == doctest::Approx(reference_percentile(h, samples, p)));
  }
}

TEST_CASE("recommender: a sample one half-life newer weighs twice as much") {
  DecayingHistogram h(HistogramOptions::cpu(), 86400.0);
  h.add_sample(0.1, 1.0, kT0);
  h.add_sample(2.0, 1.0, kT0 + 86400);
  CHECK(h.total_weight() == doctest::Approx(3.0));
  // Weights 1 (0.1 cores) and 2 (2 cores): the 30th percentile is in the
  // first bucket, the 40th in the second.
  CHECK(h.percentile(0.30) == doctest::Approx(h.bucket_start(h.find_bucket(0.1) + 1)));
  CHECK(h.percentile(0.40) == doctest::Approx(h.bucket_start(h.find_bucket(2.0) + 1)));
}

TEST_CASE("recommender: the reference time moves forward before weights overflow") {
  DecayingHistogram h(HistogramOptions::cpu(), 3600.0);
  h.add_sample(0.5, 1.0, kT0);
  // 200 half-lives later: 2^200 would overflow the exponent budget; the
  // histogram renormalises and the old sample's weight becomes negligible.
  const std::int64_t later = kT0 + 200 * 3600;
  h.add_sample(4.0, 1.0, later);
  CHECK(std::isfinite(h.total_weight()));
  CHECK(h.reference_time() > kT0);
  CHECK(h.percentile(0.01) == doctest::Approx(h.bucket_start(h.find_bucket(4.0) + 1)));
}

TEST_CASE("recommender: subtracting a sample restores the previous percentiles") {
  DecayingHistogram h(HistogramOptions::memory(), 86400.0);
  h.add_sample(1e9, 1.0, kT0);
  const double before = h.percentile(0.9);
  h.add_sample(5e9, 1.0, kT0);
  CHECK(h.percentile(0.9) > before);
  h.subtract_sample(5e9, 1.0, kT0);
  CHECK(h.percentile(0.9) == before);
  h.subtract_sample(1e9, 1.0, kT0);
  CHECK(h.empty());
}

TEST_CASE("recommender: constant usage gives p90 x 1.15 and confidence-scaled bounds") {
  ContainerRecommender r;
  // One CPU sample a minute at 1 core with a 2-core request, 8 days.
  const int minutes = 8 * 1440;
  for (int i = 0; i < minutes; ++i) {
    const std::int64_t t = kT0 + 60 * static_cast<std::int64_t>(i);
    r.add_cpu_sample(t, 1.0, 2.0);
    if (i % 60 == 0) r.add_memory_sample(t, 1e9);
  }
  const Recommendation rec = r.recommend();
  const DecayingHistogram& h = r.cpu_histogram();
  const double bucket_end = h.bucket_start(h.find_bucket(1.0) + 1);
  const double conf = r.confidence_days();
  CHECK(conf == doctest::Approx((minutes - 1) / 1440.0));
  CHECK(rec.confidence_days == conf);
  CHECK(rec.target.cpu_cores == doctest::Approx(bucket_end * 1.15));
  CHECK(rec.uncapped_target == rec.target);
  CHECK(rec.upper_bound.cpu_cores == doctest::Approx(bucket_end * 1.15 * (1.0 + 1.0 / conf)));
  CHECK(rec.lower_bound.cpu_cores ==
        doctest::Approx(bucket_end * 1.15 * std::pow(1.0 + 0.001 / conf, -2.0)));
  const DecayingHistogram& m = r.memory_histogram();
  CHECK(rec.target.memory_bytes == doctest::Approx(m.bucket_start(m.find_bucket(1e9) + 1) * 1.15));
  CHECK(rec.has_data);
}

TEST_CASE("recommender: memory enters as one peak per aggregation interval") {
  ContainerRecommender r;
  r.add_memory_sample(kT0, 1e8);
  r.add_memory_sample(kT0 + 3600, 3e8);
  r.add_memory_sample(kT0 + 7200, 2e8);
  const DecayingHistogram& m = r.memory_histogram();
  // One peak (weight 1) at 300 MB: the 100 MB sample was replaced.
  CHECK(m.total_weight() == doctest::Approx(1.0));
  CHECK(m.percentile(0.01) == doctest::Approx(m.bucket_start(m.find_bucket(3e8) + 1)));
  // The next day opens a new interval with its own peak.
  r.add_memory_sample(kT0 + 86400 + 10, 5e7);
  CHECK(m.percentile(0.01) == doctest::Approx(m.bucket_start(m.find_bucket(5e7) + 1)));
  CHECK(m.percentile(1.0) == doctest::Approx(m.bucket_start(m.find_bucket(3e8) + 1)));
}

TEST_CASE("recommender: an OOM is bumped to max(+100 MiB, x1.2) of the request") {
  SUBCASE("small request: +100 MiB wins") {
    ContainerRecommender r;
    r.add_memory_sample(kT0, 100 * kMiB);
    CHECK(r.record_oom(kT0 + 60, 300 * kMiB));
    const DecayingHistogram& m = r.memory_histogram();
    CHECK(m.percentile(1.0) == doctest::Approx(m.bucket_start(m.find_bucket(400 * kMiB) + 1)));
  }
  SUBCASE("large request: x1.2 wins") {
    ContainerRecommender r;
    r.add_memory_sample(kT0, 100 * kMiB);
    CHECK(r.record_oom(kT0 + 60, 2 * kGiB));
    const DecayingHistogram& m = r.memory_histogram();
    CHECK(m.percentile(1.0) == doctest::Approx(m.bucket_start(m.find_bucket(2.4 * kGiB) + 1)));
  }
  SUBCASE("an OOM before the current interval is ignored") {
    ContainerRecommender r;
    r.add_memory_sample(kT0 + 5 * 86400, 100 * kMiB);
    CHECK_FALSE(r.record_oom(kT0, 2 * kGiB));
  }
}

TEST_CASE("recommender: minimums, pod split, no-data bounds and policy caps") {
  ContainerRecommender empty;
  const Recommendation none = empty.recommend();
  CHECK_FALSE(none.has_data);
  CHECK(none.target.cpu_cores == doctest::Approx(0.025));
  CHECK(none.target.memory_bytes == doctest::Approx(250 * kMiB));
  CHECK(none.upper_bound == empty.config().max_bound);
  const Recommendation half = empty.recommend(2);
  CHECK(half.target.cpu_cores == doctest::Approx(0.0125));
  CHECK(half.target.memory_bytes == doctest::Approx(125 * kMiB));

  ContainerRecommender r;
  for (int i = 0; i < 3000; ++i) {
    r.add_cpu_sample(kT0 + 60 * i, 4.0, 4.0);
    r.add_memory_sample(kT0 + 60 * i, 4 * kGiB);
  }
  ContainerResourcePolicy policy;
  policy.max_allowed = {2.0, 1 * kGiB};
  const Recommendation capped = r.recommend(1, policy);
  CHECK(capped.target.cpu_cores == 2.0);
  CHECK(capped.target.memory_bytes == 1 * kGiB);
  CHECK(capped.uncapped_target.cpu_cores > 4.0);
  CHECK(capped.upper_bound.cpu_cores == 2.0);
  for (const Recommendation& x : {none, half, capped}) {
    for (double v : {x.target.cpu_cores, x.lower_bound.cpu_cores, x.upper_bound.cpu_cores,
                     x.target.memory_bytes, x.lower_bound.memory_bytes, x.upper_bound.memory_bytes})
      CHECK(std::isfinite(v));
    CHECK(x.lower_bound.cpu_cores <= x.target.cpu_cores);
    CHECK(x.target.cpu_cores <= x.upper_bound.cpu_cores);
  }
}

TEST_CASE("recommender: bad samples and configs are named errors") {
  ContainerRecommender r(RecommenderConfig{}, "prod/web/app");
  CHECK(contains(error_of([&] { r.add_cpu_sample(kT0, std::nan(""), 1.0); }), "prod/web/app"));
  CHECK(contains(error_of([&] { r.add_cpu_sample(kT0, -1.0, 1.0); }), "cpu usage"));
  CHECK(contains(error_of([&] { r.add_cpu_sample(kT0, 1.0, INFINITY); }), "cpu request"));
  CHECK(contains(error_of([&] { r.add_memory_sample(kT0, -5.0); }), "memory usage"));
  r.add_cpu_sample(kT0, 1.0, 1.0);
  CHECK(contains(error_of([&] { r.add_cpu_sample(kT0, 1.0, 1.0); }), "not after the previous"));
  CHECK(contains(error_of([&] { r.add_cpu_sample(kT0 - 60, 1.0, 1.0); }), "time order"));
  r.add_memory_sample(kT0 + 60, 1e9);
  CHECK(contains(error_of([&] { r.add_memory_sample(kT0, 1e9); }), "before the previous"));
  CHECK(contains(error_of([&] { (void)r.recommend(0); }), "containers_in_pod"));

  RecommenderConfig bad;
  bad.target_cpu_percentile = 1.5;
  CHECK(contains(error_of([&] { ContainerRecommender x(bad); }), "target_cpu_percentile"));
  bad = {};
  bad.oom_bump_ratio = 0.5;
  CHECK(contains(error_of([&] { ContainerRecommender x(bad); }), "oom_bump_ratio"));
  CHECK(contains(error_of([] { DecayingHistogram h({1.0, 2.0, 1.05, 1e-4}, 3600); }), "max_value"));
  CHECK(contains(error_of([] { DecayingHistogram h(HistogramOptions::cpu(), 0.0); }), "half-life"));
  DecayingHistogram h(HistogramOptions::cpu(), 3600);
  CHECK(contains(error_of([&] { h.restore({1.0}, 0); }), "buckets"));
}

TEST_CASE("recommender: recommendations from a VPA status are read and written") {
  const std::string vpa = R"({
    "apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
    "metadata": {"name": "web"},
    "status": {"recommendation": {"containerRecommendations": [
      {"containerName": "app", "target": {"cpu": "250m", "memory": "512Mi"},
       "lowerBound": {"cpu": "100m", "memory": "256Mi"},
       "upperBound": {"cpu": "1", "memory": "1Gi"},
       "uncappedTarget": {"cpu": "300m", "memory": "512Mi"}},
      {"containerName": "sidecar", "target": {"cpu": "10m", "memory": "20Mi"}}]}}})";
  const auto recs = parse_container_recommendations(vpa, "vpa.json");
  REQUIRE(recs.size() == 2);
  CHECK(recs[0].container_name == "app");
  CHECK(recs[0].recommendation.target.cpu_cores == doctest::Approx(0.25));
  CHECK(recs[0].recommendation.target.memory_bytes == 512 * kMiB);
  CHECK(recs[0].recommendation.lower_bound.cpu_cores == doctest::Approx(0.1));
  CHECK(recs[0].recommendation.upper_bound.memory_bytes == kGiB);
  CHECK(recs[0].recommendation.uncapped_target.cpu_cores == doctest::Approx(0.3));
  CHECK(recs[1].recommendation.lower_bound == recs[1].recommendation.target);

  const auto j = nlohmann::json::parse(recommendation_to_json(recs[0]));
  CHECK(j["containerName"] == "app");
  CHECK(j["target"]["cpu"] == "250m");
  CHECK(j["target"]["memory"] == std::to_string(512 * 1024 * 1024));
  CHECK(j["upperBound"]["cpu"] == "1000m");
  // And back in again, from the bare array form.
  const std::string again =
      "{\"containerRecommendations\": [" + recommendation_to_json(recs[0]) + "]}";
  const auto round = parse_container_recommendations(again, "again.json");
  CHECK(round[0].recommendation.target == recs[0].recommendation.target);

  CHECK(contains(error_of([] { parse_container_recommendations("{}", "x.json"); }),
                 "no containerRecommendations"));
  CHECK(contains(error_of([] {
                   parse_container_recommendations(
                       R"({"containerRecommendations": [{"containerName": "a"}]})", "x.json");
                 }),
                 "containerRecommendations[0].target: required"));
  CHECK(
      contains(error_of([] {
                 parse_container_recommendations(
                     R"({"containerRecommendations": [{"containerName": "a", "target": {"cpu": "1"},
                "lowerBound": {"cpu": "2"}}]})",
                     "x.json");
               }),
               "lowerBound: is above target"));
  CHECK(contains(
      error_of([] {
        parse_container_recommendations(
            R"({"containerRecommendations": [{"containerName": "a", "target": {"cpu": "x"}}]})",
            "x.json");
      }),
      "target.cpu"));
  CHECK(!error_of([] { parse_container_recommendations("{not json", "x.json"); }).empty());
}
