// carbonkube/recommender.hpp: the base resource recommendation for one
// container, following the Kubernetes Vertical Pod Autoscaler's recommender
// (k8s.io/autoscaler/vertical-pod-autoscaler/pkg/recommender): exponentially
// bucketed histograms whose samples weigh 2^(age / half-life) (24 h), CPU
// samples weighted by the container's CPU request, memory as one peak per
// aggregation interval (24 h), OOM events bumped to max(+100 MiB, x1.2), then
// target / lowerBound / upperBound at the 90th / 50th / 95th percentile with a
// 15 % safety margin, bounds scaled by the history's confidence, pod minimums
// (25 millicores, 250 MiB) and the container policy's min/max allowed.
// Output uses the field names of VPA's RecommendedContainerResources and
// Katalyst's KVPA / ResourceRecommend (target, lowerBound, upperBound,
// uncappedTarget). A recommendation computed elsewhere (a VPA or KVPA status)
// can be parsed and used as the base instead (parse_container_recommendations).
//
// Callers: a controller feeding metrics, the allocator (allocator.hpp) and the
// replay driver (replay.hpp). Adding a sample allocates nothing and does no
// string work; recommend() is O(buckets). Not thread-safe: one owner per
// container state. See docs/allocator.md.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// CPU in cores, memory in bytes.
struct ResourceAmounts {
  double cpu_cores = 0.0;
  double memory_bytes = 0.0;

  friend bool operator==(const ResourceAmounts&, const ResourceAmounts&) = default;
};

inline constexpr double kMiB = 1024.0 * 1024.0;
inline constexpr double kGiB = 1024.0 * kMiB;

// ---------------------------------------------------------------------------
// Histograms

/// Exponential buckets: bucket i starts at first_bucket_size * (ratio^i - 1) /
/// (ratio - 1); the last bucket is open-ended (VPA's exponentialHistogramOptions).
struct HistogramOptions {
  double max_value = 1000.0;
  double first_bucket_size = 0.01;
  double ratio = 1.05;
  /// Weights below epsilon count as zero.
  double epsilon = 1e-4;

  /// VPA's CPU histogram: 0.01 cores .. 1000 cores, ratio 1.05.
  static HistogramOptions cpu() { return {1000.0, 0.01, 1.05, 1e-4}; }
  /// VPA's memory histogram: 10 MB .. 1 TB, ratio 1.05.
  static HistogramOptions memory() { return {1e12, 1e7, 1.05, 1e-4}; }
};

/// A histogram whose sample weights grow as 2^((t - reference) / half_life),
/// so older samples count for less (halved every half-life). The reference
/// time moves forward (and every weight is rescaled) before an exponent
/// would pass 100, as VPA's decayingHistogram does.
class DecayingHistogram {
 public:
  /// Throws InvalidInput when the options or the half-life are not finite
  /// and positive (ratio > 1, max_value > first_bucket_size).
  DecayingHistogram(HistogramOptions options, double half_life_seconds);

  /// Adds `value` with `weight` at time t (unix seconds). value < 0, NaN or
  /// infinite values or weights throw InvalidInput naming the field.
  void add_sample(double value, double weight, std::int64_t t);
  /// Removes a sample added before (VPA uses it to replace a memory peak).
  void subtract_sample(double value, double weight, std::int64_t t);
  /// The end of the bucket holding the p-th weighted quantile (p in 0..1);
  /// the start of the last bucket when it is the open-ended one; 0 when empty.
  double percentile(double p) const;
  bool empty() const;
  double total_weight() const { return total_weight_; }
  std::int64_t reference_time() const { return reference_; }

  int bucket_count() const { return static_cast<int>(weights_.size()); }
  int find_bucket(double value) const;
  double bucket_start(int bucket) const;
  const HistogramOptions& options() const { return options_; }
  double half_life_seconds() const { return half_life_; }

  /// Raw state, for checkpoints (bucket weights relative to reference_time()).
  const std::vector<double>& weights() const { return weights_; }
  /// Restores a checkpoint taken with weights()/reference_time(); throws
  /// InvalidInput on a size mismatch or a negative or non-finite weight.
  void restore(std::vector<double> weights, std::int64_t reference_time);

 private:
  double decay_factor(std::int64_t t);
  void shift_reference(std::int64_t t);
  void update_range();

  HistogramOptions options_;
  double half_life_;
  double log_ratio_;
  std::vector<double> weights_;
  double total_weight_ = 0.0;
  int min_bucket_ = 0;
  int max_bucket_ = 0;
  std::int64_t reference_ = 0;
  bool has_reference_ = false;
};

// ---------------------------------------------------------------------------
// Recommender

struct RecommenderConfig {
  double target_cpu_percentile = 0.90;
  double lower_bound_cpu_percentile = 0.50;
  double upper_bound_cpu_percentile = 0.95;
  double target_memory_percentile = 0.90;
  double lower_bound_memory_percentile = 0.50;
  double upper_bound_memory_percentile = 0.95;
  double safety_margin_fraction = 0.15;
  /// Pod minimums (VPA's --pod-recommendation-min-cpu-millicores=25 and
  /// --pod-recommendation-min-memory-mb=250, in MiB), split evenly among
  /// the pod's containers.
  double pod_min_cpu_cores = 0.025;
  double pod_min_memory_bytes = 250.0 * kMiB;
  double cpu_half_life_seconds = 24.0 * 3600.0;
  double memory_half_life_seconds = 24.0 * 3600.0;
  std::int64_t memory_aggregation_interval_seconds = 24 * 3600;
  double oom_bump_ratio = 1.2;
  double oom_min_bump_bytes = 100.0 * kMiB;
  /// CPU samples weigh max(request cores, this).
  double min_cpu_sample_weight = 0.1;
  /// Upper bound x (1 + m/confidence)^e; lower bound likewise.
  double upper_confidence_multiplier = 1.0;
  double upper_confidence_exponent = 1.0;
  double lower_confidence_multiplier = 0.001;
  double lower_confidence_exponent = -2.0;
  /// Samples per day that count as a full day of history (VPA: one a minute).
  double samples_per_day_for_confidence = 24.0 * 60.0;
  /// VPA's upper bound is infinite without history; here it is capped at
  /// these (the histograms' ranges) so no output is ever infinite.
  ResourceAmounts max_bound{1000.0, 1e12};
  HistogramOptions cpu_histogram = HistogramOptions::cpu();
  HistogramOptions memory_histogram = HistogramOptions::memory();

  /// Throws InvalidInput naming the field when a value is out of range.
  void validate(std::string_view source = "RecommenderConfig") const;
};

/// VPA's ContainerResourcePolicy minAllowed / maxAllowed (mode Auto).
struct ContainerResourcePolicy {
  ResourceAmounts min_allowed{0.0, 0.0};
  ResourceAmounts max_allowed{std::numeric_limits<double>::infinity(),
                              std::numeric_limits<double>::infinity()};
};

/// One container's recommendation, in KVPA / VPA field names.
struct Recommendation {
  ResourceAmounts target;           // target
  ResourceAmounts lower_bound;      // lowerBound
  ResourceAmounts upper_bound;      // upperBound
  ResourceAmounts uncapped_target;  // uncappedTarget: target before min/max allowed
  /// min(history span in days, samples / samples_per_day); 0 without data.
  double confidence_days = 0.0;
  bool has_data = false;  // any CPU or memory sample seen
};

/// VPA's AggregateContainerState + ContainerState for one container.
class ContainerRecommender {
 public:
  explicit ContainerRecommender(RecommenderConfig config = {}, std::string name = "container");

  /// A CPU usage sample (cores) at t with the container's CPU request then.
  /// Samples must come in time order: a sample not after the previous one
  /// throws InvalidInput (VPA drops it silently; a caller bug here is better
  /// loud). Negative, NaN or infinite values throw InvalidInput.
  void add_cpu_sample(std::int64_t t, double usage_cores, double request_cores);
  /// A memory working-set sample (bytes). Only the peak of each aggregation
  /// interval enters the histogram. Time order as for CPU (equal times allowed).
  void add_memory_sample(std::int64_t t, double usage_bytes);
  /// An OOM kill at t while the memory request was request_bytes: adds the
  /// peak max(used + oom_min_bump, used * oom_bump_ratio), used = max(request,
  /// the interval's usage peak). Returns false (ignored, as VPA does) for an
  /// OOM before the current aggregation interval.
  bool record_oom(std::int64_t t, double request_bytes);

  /// The recommendation now; containers_in_pod splits the pod minimums.
  Recommendation recommend(int containers_in_pod = 1,
                           const ContainerResourcePolicy& policy = {}) const;

  const RecommenderConfig& config() const { return config_; }
  const std::string& name() const { return name_; }
  const DecayingHistogram& cpu_histogram() const { return cpu_; }
  const DecayingHistogram& memory_histogram() const { return memory_; }
  std::int64_t total_cpu_samples() const { return total_samples_; }
  double confidence_days() const;

 private:
  void add_memory_peak_sample(std::int64_t t, double usage_bytes, bool is_oom);

  RecommenderConfig config_;
  std::string name_;
  DecayingHistogram cpu_;
  DecayingHistogram memory_;
  std::int64_t first_cpu_sample_ = 0;
  std::int64_t last_cpu_sample_ = 0;
  bool has_cpu_sample_ = false;
  std::int64_t total_samples_ = 0;
  std::int64_t last_memory_sample_ = 0;
  bool has_memory_sample_ = false;
  std::int64_t window_end_ = 0;
  bool has_window_ = false;
  double memory_peak_ = 0.0;
  double oom_peak_ = 0.0;
};

// ---------------------------------------------------------------------------
// Recommendations from outside

struct NamedRecommendation {
  std::string container_name;
  Recommendation recommendation;
};

/// Reads container recommendations from a VPA
/// (autoscaling.k8s.io/v1 VerticalPodAutoscaler: status.recommendation.
/// containerRecommendations[]) or from any object or list holding such an
/// array (`containerRecommendations` at the top, under `recommendation`, or
/// under `status.recommendation`), YAML or JSON. Each entry needs
/// containerName and target {cpu, memory}; lowerBound and upperBound default
/// to target, uncappedTarget to target. Quantities are Kubernetes quantities.
/// has_data is true and confidence_days 0 (unknown). Throws InvalidInput
/// naming the source and field for a missing or malformed value, a negative
/// quantity, or lowerBound > target > upperBound.
std::vector<NamedRecommendation> parse_container_recommendations(std::string_view text,
                                                                 std::string_view source,
                                                                 const ParseLimits& limits = {});

/// The recommendation as a VPA/KVPA JSON object: {"containerName", "target":
/// {"cpu": "250m", "memory": "262144k"}, "lowerBound", "upperBound",
/// "uncappedTarget"}; CPU rounded up to millicores, memory up to bytes.
std::string recommendation_to_json(const NamedRecommendation& rec);

CARBONKUBE_NAMESPACE_END
