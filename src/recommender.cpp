// The VPA-style recommender: decaying exponential histograms, per-interval
// memory peaks, OOM bumps and the percentile / margin / confidence / minimum
// estimator chain. See include/carbonkube/recommender.hpp and docs/allocator.md.
#include "carbonkube/recommender.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <utility>

#include "carbonkube/error.hpp"
#include "carbonkube/quantity.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

// When 2^exponent of a new sample's weight would pass this, the reference
// time moves forward (VPA's maxDecayExponent).
constexpr double kMaxDecayExponent = 100.0;

bool finite_positive(double v) { return std::isfinite(v) && v > 0.0; }

void check_sample(double value, const char* what, const std::string& owner, std::int64_t t) {
  if (!std::isfinite(value) || value < 0.0)
    throw InvalidInput(
        fmt::format("{}: {} at t={} must be finite and >= 0, got {}", owner, what, t, value));
}

std::int64_t round_to_multiple(std::int64_t t, std::int64_t step) {
  // Go's time.Round: halfway values round up (away from zero for positive t).
  const double q = std::round(static_cast<double>(t) / static_cast<double>(step));
  return static_cast<std::int64_t>(q) * step;
}

}  // namespace

// ---------------------------------------------------------------------------
// DecayingHistogram

DecayingHistogram::DecayingHistogram(HistogramOptions options, double half_life_seconds)
    : options_(options), half_life_(half_life_seconds) {
  if (!finite_positive(options.max_value) || !finite_positive(options.first_bucket_size) ||
      !std::isfinite(options.ratio) || options.ratio <= 1.0 ||
      options.max_value <= options.first_bucket_size || !finite_positive(options.epsilon))
    throw InvalidInput(fmt::format(
        "histogram options: need finite max_value > first_bucket_size > 0, ratio > 1 and "
        "epsilon > 0 (got max_value {}, first_bucket_size {}, ratio {}, epsilon {})",
        options.max_value, options.first_bucket_size, options.ratio, options.epsilon));
  if (!finite_positive(half_life_seconds) || half_life_seconds < 1.0)
    throw InvalidInput(
        fmt::format("histogram: half-life must be finite and >= 1 s, got {}", half_life_seconds));
  log_ratio_ = std::log(options.ratio);
  // VPA: ceil(log(max * (ratio - 1) / first + 1) / log(ratio)) + 1 buckets.
  const double n =
      std::ceil(
          std::log(options.max_value * (options.ratio - 1.0) / options.first_bucket_size + 1.0) /
          log_ratio_) +
      1.0;
  if (n > 1e6) throw InvalidInput(fmt::format("histogram options: {} buckets is too many", n));
  weights_.assign(static_cast<std::size_t>(n), 0.0);
  min_bucket_ = bucket_count() - 1;
  max_bucket_ = 0;
}

int DecayingHistogram::find_bucket(double value) const {
  if (value < options_.first_bucket_size) return 0;
  const double b =
      std::log(value * (options_.ratio - 1.0) / options_.first_bucket_size + 1.0) / log_ratio_;
  if (!(b < static_cast<double>(bucket_count() - 1))) return bucket_count() - 1;
  return static_cast<int>(b);
}

double DecayingHistogram::bucket_start(int bucket) const {
  if (bucket <= 0) return 0.0;
  return options_.first_bucket_size *
         (std::pow(options_.ratio, static_cast<double>(bucket)) - 1.0) / (options_.ratio - 1.0);
}

void DecayingHistogram::shift_reference(std::int64_t t) {
  const auto step = static_cast<std::int64_t>(half_life_);
  const std::int64_t next = round_to_multiple(t, std::max<std::int64_t>(step, 1));
  if (has_reference_) {
    const double exponent =
        std::round(static_cast<double>(reference_ - next) / half_life_);  // <= 0
    const double scale = std::ldexp(1.0, static_cast<int>(exponent));
    total_weight_ = 0.0;
    for (double& w : weights_) {
      w *= scale;
      if (w < options_.epsilon) w = 0.0;
      total_weight_ += w;
    }
    update_range();
  }
  reference_ = next;
  has_reference_ = true;
}

double DecayingHistogram::decay_factor(std::int64_t t) {
  // The first sample starts the clock (VPA starts from the zero time and
  // rescales the still-empty histogram on the first sample: the same).
  if (!has_reference_ || static_cast<double>(t - reference_) > kMaxDecayExponent * half_life_)
    shift_reference(t);
  return std::exp2(static_cast<double>(t - reference_) / half_life_);
}

void DecayingHistogram::update_range() {
  min_bucket_ = bucket_count() - 1;
  max_bucket_ = 0;
  for (int i = 0; i < bucket_count(); ++i) {
    if (weights_[static_cast<std::size_t>(i)] > 0.0) {
      min_bucket_ = std::min(min_bucket_, i);
      max_bucket_ = std::max(max_bucket_, i);
    }
  }
}

void DecayingHistogram::add_sample(double value, double weight, std::int64_t t) {
  if (!std::isfinite(value) || value < 0.0)
    throw InvalidInput(
        fmt::format("histogram sample at t={}: value must be finite and >= 0, got {}", t, value));
  if (!std::isfinite(weight) || weight < 0.0)
    throw InvalidInput(
        fmt::format("histogram sample at t={}: weight must be finite and >= 0, got {}", t, weight));
  const double w = weight * decay_factor(t);
  const int b = find_bucket(value);
  weights_[static_cast<std::size_t>(b)] += w;
  total_weight_ += w;
  if (w > 0.0) {
    min_bucket_ = std::min(min_bucket_, b);
    max_bucket_ = std::max(max_bucket_, b);
  }
}

void DecayingHistogram::subtract_sample(double value, double weight, std::int64_t t) {
  if (!std::isfinite(value) || value < 0.0 || !std::isfinite(weight) || weight < 0.0)
    throw InvalidInput(fmt::format(
        "histogram subtract at t={}: value and weight must be finite and >= 0, got {} and {}", t,
        value, weight));
  if (!has_reference_) return;
  const double w = weight * std::exp2(static_cast<double>(t - reference_) / half_life_);
  const int b = find_bucket(value);
  double& bw = weights_[static_cast<std::size_t>(b)];
  const double removed = std::min(bw, w);
  bw -= removed;
  total_weight_ -= removed;
  if (bw < options_.epsilon) {
    total_weight_ -= bw;
    bw = 0.0;
  }
  if (total_weight_ < 0.0) total_weight_ = 0.0;
  if (bw == 0.0 && (b == min_bucket_ || b == max_bucket_)) update_range();
}

bool DecayingHistogram::empty() const {
  return weights_[static_cast<std::size_t>(min_bucket_)] < options_.epsilon;
}

double DecayingHistogram::percentile(double p) const {
  if (empty()) return 0.0;
  const double threshold = p * total_weight_;
  double partial = 0.0;
  int bucket = min_bucket_;
  for (; bucket < max_bucket_; ++bucket) {
    partial += weights_[static_cast<std::size_t>(bucket)];
    if (partial >= threshold) break;
  }
  // The end of the bucket, except for the open-ended last one.
  if (bucket < bucket_count() - 1) return bucket_start(bucket + 1);
  return bucket_start(bucket);
}

void DecayingHistogram::restore(std::vector<double> weights, std::int64_t reference_time) {
  if (weights.size() != weights_.size())
    throw InvalidInput(fmt::format("histogram checkpoint: {} buckets, expected {}", weights.size(),
                                   weights_.size()));
  double total = 0.0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0.0)
      throw InvalidInput(fmt::format(
          "histogram checkpoint: bucket {} weight {} is not finite and >= 0", i, weights[i]));
    total += weights[i];
  }
  weights_ = std::move(weights);
  total_weight_ = total;
  reference_ = reference_time;
  has_reference_ = true;
  update_range();
}

// ---------------------------------------------------------------------------
// RecommenderConfig

void RecommenderConfig::validate(std::string_view source) const {
  auto pct = [&](double v, const char* field) {
    if (!std::isfinite(v) || v < 0.0 || v > 1.0)
      throw InvalidInput(fmt::format("{}: {} must be in 0..1, got {}", source, field, v));
  };
  pct(target_cpu_percentile, "target_cpu_percentile");
  pct(lower_bound_cpu_percentile, "lower_bound_cpu_percentile");
  pct(upper_bound_cpu_percentile, "upper_bound_cpu_percentile");
  pct(target_memory_percentile, "target_memory_percentile");
  pct(lower_bound_memory_percentile, "lower_bound_memory_percentile");
  pct(upper_bound_memory_percentile, "upper_bound_memory_percentile");
  auto nonneg = [&](double v, const char* field) {
    if (!std::isfinite(v) || v < 0.0)
      throw InvalidInput(fmt::format("{}: {} must be finite and >= 0, got {}", source, field, v));
  };
  auto pos = [&](double v, const char* field) {
    if (!finite_positive(v))
      throw InvalidInput(fmt::format("{}: {} must be finite and > 0, got {}", source, field, v));
  };
  nonneg(safety_margin_fraction, "safety_margin_fraction");
  nonneg(pod_min_cpu_cores, "pod_min_cpu_cores");
  nonneg(pod_min_memory_bytes, "pod_min_memory_bytes");
  pos(cpu_half_life_seconds, "cpu_half_life_seconds");
  pos(memory_half_life_seconds, "memory_half_life_seconds");
  if (memory_aggregation_interval_seconds <= 0)
    throw InvalidInput(fmt::format("{}: memory_aggregation_interval_seconds must be > 0, got {}",
                                   source, memory_aggregation_interval_seconds));
  if (!std::isfinite(oom_bump_ratio) || oom_bump_ratio < 1.0)
    throw InvalidInput(
        fmt::format("{}: oom_bump_ratio must be finite and >= 1, got {}", source, oom_bump_ratio));
  nonneg(oom_min_bump_bytes, "oom_min_bump_bytes");
  nonneg(min_cpu_sample_weight, "min_cpu_sample_weight");
  nonneg(upper_confidence_multiplier, "upper_confidence_multiplier");
  nonneg(lower_confidence_multiplier, "lower_confidence_multiplier");
  if (!std::isfinite(upper_confidence_exponent) || !std::isfinite(lower_confidence_exponent))
    throw InvalidInput(fmt::format("{}: confidence exponents must be finite", source));
  pos(samples_per_day_for_confidence, "samples_per_day_for_confidence");
  pos(max_bound.cpu_cores, "max_bound.cpu_cores");
  pos(max_bound.memory_bytes, "max_bound.memory_bytes");
}

// ---------------------------------------------------------------------------
// ContainerRecommender

ContainerRecommender::ContainerRecommender(RecommenderConfig config, std::string name)
    : config_((config.validate(), config)),
      name_(std::move(name)),
      cpu_(config.cpu_histogram, config.cpu_half_life_seconds),
      memory_(config.memory_histogram, config.memory_half_life_seconds) {}

void ContainerRecommender::add_cpu_sample(std::int64_t t, double usage_cores,
                                          double request_cores) {
  check_sample(usage_cores, "cpu usage", name_, t);
  check_sample(request_cores, "cpu request", name_, t);
  if (has_cpu_sample_ && t <= last_cpu_sample_)
    throw InvalidInput(fmt::format(
        "{}: cpu sample at t={} is not after the previous one (t={}): samples must be in time "
        "order without duplicates",
        name_, t, last_cpu_sample_));
  // Weighted by the request: raising the request makes older history count
  // for less, which helps recover from CPU starvation quickly (VPA).
  cpu_.add_sample(usage_cores, std::max(request_cores, config_.min_cpu_sample_weight), t);
  if (!has_cpu_sample_) first_cpu_sample_ = t;
  last_cpu_sample_ = t;
  has_cpu_sample_ = true;
  ++total_samples_;
}

void ContainerRecommender::add_memory_sample(std::int64_t t, double usage_bytes) {
  check_sample(usage_bytes, "memory usage", name_, t);
  if (has_memory_sample_ && t < last_memory_sample_)
    throw InvalidInput(fmt::format(
        "{}: memory sample at t={} is before the previous one (t={}): samples must be in time "
        "order",
        name_, t, last_memory_sample_));
  add_memory_peak_sample(t, usage_bytes, false);
}

void ContainerRecommender::add_memory_peak_sample(std::int64_t t, double usage_bytes, bool is_oom) {
  if (!is_oom) {
    last_memory_sample_ = t;
    has_memory_sample_ = true;
  }
  if (!has_window_) {
    window_end_ = t;
    has_window_ = true;
  }
  const std::int64_t interval = config_.memory_aggregation_interval_seconds;
  bool add_new_peak = false;
  if (t < window_end_) {
    const double old_max = std::max(memory_peak_, oom_peak_);
    if (old_max != 0.0 && usage_bytes > old_max) {
      memory_.subtract_sample(old_max, 1.0, window_end_);
      add_new_peak = true;
    }
  } else {
    // Move the window to the interval holding t; peaks start afresh.
    const std::int64_t shift = (t - window_end_) / interval * interval + interval;
    window_end_ += shift;
    memory_peak_ = 0.0;
    oom_peak_ = 0.0;
    add_new_peak = true;
  }
  if (is_oom)
    oom_peak_ = std::max(oom_peak_, usage_bytes);
  else
    memory_peak_ = std::max(memory_peak_, usage_bytes);
  if (add_new_peak) memory_.add_sample(std::max(memory_peak_, oom_peak_), 1.0, window_end_);
}

bool ContainerRecommender::record_oom(std::int64_t t, double request_bytes) {
  check_sample(request_bytes, "memory request at OOM", name_, t);
  if (has_window_ && t < window_end_ - config_.memory_aggregation_interval_seconds) return false;
  // The request or this interval's usage peak, not an earlier OOM peak, so
  // repeated OOMs do not compound.
  const double used = std::max(request_bytes, memory_peak_);
  const double needed = std::max(used + config_.oom_min_bump_bytes, used * config_.oom_bump_ratio);
  add_memory_peak_sample(t, needed, true);
  return true;
}

double ContainerRecommender::confidence_days() const {
  if (!has_cpu_sample_) return 0.0;
  const double lifespan = static_cast<double>(last_cpu_sample_ - first_cpu_sample_) / 86400.0;
  const double amount =
      static_cast<double>(total_samples_) / config_.samples_per_day_for_confidence;
  return std::min(lifespan, amount);
}

Recommendation ContainerRecommender::recommend(int containers_in_pod,
                                               const ContainerResourcePolicy& policy) const {
  if (containers_in_pod < 1)
    throw InvalidInput(
        fmt::format("{}: containers_in_pod must be >= 1, got {}", name_, containers_in_pod));
  auto bad_policy = [&](double v) { return std::isnan(v) || v < 0.0; };
  if (bad_policy(policy.min_allowed.cpu_cores) || bad_policy(policy.min_allowed.memory_bytes) ||
      bad_policy(policy.max_allowed.cpu_cores) || bad_policy(policy.max_allowed.memory_bytes))
    throw InvalidInput(
        fmt::format("{}: resource policy minAllowed/maxAllowed must be >= 0", name_));

  Recommendation r;
  r.has_data = has_cpu_sample_ || has_memory_sample_;
  r.confidence_days = confidence_days();
  const double margin = 1.0 + config_.safety_margin_fraction;
  const double fraction = 1.0 / static_cast<double>(containers_in_pod);
  const ResourceAmounts minimum{config_.pod_min_cpu_cores * fraction,
                                config_.pod_min_memory_bytes * fraction};

  auto estimate = [&](double cpu_p, double mem_p) {
    return ResourceAmounts{cpu_.percentile(cpu_p) * margin, memory_.percentile(mem_p) * margin};
  };
  // (1 + m / confidence)^e; confidence 0 gives +inf for e > 0 and 0 for e < 0
  // (VPA's float arithmetic), both then bounded below.
  auto confidence_scale = [&](double m, double e) {
    const double c = r.confidence_days;
    if (c <= 0.0) return m == 0.0 ? 1.0 : (e > 0 ? std::numeric_limits<double>::infinity() : 0.0);
    return std::pow(1.0 + m / c, e);
  };
  auto finish = [&](ResourceAmounts a) {
    a.cpu_cores = std::min(std::max(a.cpu_cores, minimum.cpu_cores), config_.max_bound.cpu_cores);
    a.memory_bytes =
        std::min(std::max(a.memory_bytes, minimum.memory_bytes), config_.max_bound.memory_bytes);
    return a;
  };

  ResourceAmounts target =
      finish(estimate(config_.target_cpu_percentile, config_.target_memory_percentile));
  ResourceAmounts lower =
      estimate(config_.lower_bound_cpu_percentile, config_.lower_bound_memory_percentile);
  ResourceAmounts upper =
      estimate(config_.upper_bound_cpu_percentile, config_.upper_bound_memory_percentile);
  const double up =
      confidence_scale(config_.upper_confidence_multiplier, config_.upper_confidence_exponent);
  const double lo =
      confidence_scale(config_.lower_confidence_multiplier, config_.lower_confidence_exponent);
  // inf * 0 (an empty histogram without history) would be NaN: treat as 0.
  auto scale = [](double v, double s) { return v == 0.0 ? 0.0 : v * s; };
  upper = finish({scale(upper.cpu_cores, up), scale(upper.memory_bytes, up)});
  if (!r.has_data) upper = config_.max_bound;
  lower = finish({scale(lower.cpu_cores, lo), scale(lower.memory_bytes, lo)});

  r.uncapped_target = target;
  auto cap = [&](ResourceAmounts a) {
    a.cpu_cores =
        std::min(std::max(a.cpu_cores, policy.min_allowed.cpu_cores), policy.max_allowed.cpu_cores);
    a.memory_bytes = std::min(std::max(a.memory_bytes, policy.min_allowed.memory_bytes),
                              policy.max_allowed.memory_bytes);
    return a;
  };
  r.target = cap(target);
  r.lower_bound = cap(lower);
  r.upper_bound = cap(upper);
  return r;
}

// ---------------------------------------------------------------------------
// External recommendations

namespace {

using detail::Json;
using detail::Where;

ResourceAmounts read_amounts(const Json& obj, std::string_view key, const Where& where,
                             bool required, const ResourceAmounts& fallback) {
  const Json* v = detail::member(obj, key);
  if (!v) {
    if (required) (where / key).fail("required");
    return fallback;
  }
  const Where w = where / key;
  if (!v->is_object()) w.fail("expected an object of quantities {cpu, memory}");
  ResourceAmounts out = fallback;
  bool any = false;
  for (const auto& [name, q] : v->items()) {
    if (q.is_null()) continue;
    const Quantity quantity = detail::read_quantity(q, w / name);
    if (quantity.is_negative()) (w / name).fail("must be >= 0");
    if (name == "cpu") {
      out.cpu_cores = static_cast<double>(quantity.milli_value()) / 1000.0;
      any = true;
    } else if (name == "memory") {
      out.memory_bytes = static_cast<double>(quantity.value());
      any = true;
    }
  }
  if (!any && required) w.fail("needs cpu or memory");
  return out;
}

std::string cpu_quantity(double cores) {
  return fmt::format("{}m", static_cast<std::int64_t>(std::ceil(cores * 1000.0 - 1e-9)));
}
std::string memory_quantity(double bytes) {
  return fmt::format("{}", static_cast<std::int64_t>(std::ceil(bytes - 1e-9)));
}

}  // namespace

std::vector<NamedRecommendation> parse_container_recommendations(std::string_view text,
                                                                 std::string_view source,
                                                                 const ParseLimits& limits) {
  const Json doc = detail::parse_one_document(text, source, limits, "recommendation");
  Where where(std::string(source), "");
  const Json* list = nullptr;
  if (doc.is_object()) {
    if ((list = detail::member(doc, "containerRecommendations"))) {
      where = where / "containerRecommendations";
    } else if (const Json* rec = detail::member(doc, "recommendation")) {
      list = detail::member(*rec, "containerRecommendations");
      where = where / "recommendation" / "containerRecommendations";
    } else if (const Json* status = detail::member(doc, "status")) {
      if (const Json* rec2 = detail::member(*status, "recommendation")) {
        list = detail::member(*rec2, "containerRecommendations");
        where = where / "status" / "recommendation" / "containerRecommendations";
      }
    }
  }
  if (!list)
    where.fail(
        "no containerRecommendations (looked at the top, under recommendation and under "
        "status.recommendation)");
  if (!list->is_array()) where.fail("expected an array");
  std::vector<NamedRecommendation> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const Json& item = (*list)[i];
    const Where w = where[i];
    if (!item.is_object()) w.fail("expected an object");
    NamedRecommendation n;
    n.container_name = detail::read_string(item, "containerName", w);
    if (n.container_name.empty()) (w / "containerName").fail("required");
    Recommendation& r = n.recommendation;
    r.target = read_amounts(item, "target", w, true, {});
    r.lower_bound = read_amounts(item, "lowerBound", w, false, r.target);
    r.upper_bound = read_amounts(item, "upperBound", w, false, r.target);
    r.uncapped_target = read_amounts(item, "uncappedTarget", w, false, r.target);
    r.has_data = true;
    if (r.lower_bound.cpu_cores > r.target.cpu_cores ||
        r.lower_bound.memory_bytes > r.target.memory_bytes)
      (w / "lowerBound").fail("is above target");
    if (r.upper_bound.cpu_cores < r.target.cpu_cores ||
        r.upper_bound.memory_bytes < r.target.memory_bytes)
      (w / "upperBound").fail("is below target");
    out.push_back(std::move(n));
  }
  return out;
}

std::string recommendation_to_json(const NamedRecommendation& rec) {
  auto amounts = [](const ResourceAmounts& a) {
    return Json{{"cpu", cpu_quantity(a.cpu_cores)}, {"memory", memory_quantity(a.memory_bytes)}};
  };
  const Recommendation& r = rec.recommendation;
  Json j{{"containerName", rec.container_name},
         {"target", amounts(r.target)},
         {"lowerBound", amounts(r.lower_bound)},
         {"upperBound", amounts(r.upper_bound)},
         {"uncappedTarget", amounts(r.uncapped_target)}};
  return j.dump();
}

CARBONKUBE_NAMESPACE_END
