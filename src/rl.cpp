// The RL allocation optimizer: discounted LinUCB heads (Eigen, fixed-size
// 13 x 13 Cholesky factors per arm), the safety shield, epsilon-greedy propensities, the
// decision log and the versioned save format. See include/carbonkube/rl.hpp.
#include "carbonkube/rl.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

// Eigen is header-only; the build does not add its include directory, so it
// is reached through the system include root.
#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>
#include <utility>

#include "carbonkube/error.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr int kD = kRlFeatureCount;
using Mat = Eigen::Matrix<double, kD, kD, Eigen::RowMajor>;
using Vec = Eigen::Matrix<double, kD, 1>;
constexpr std::string_view kFormat = "carbonkube-rl";
constexpr int kVersion = 1;
constexpr double kTol = 1e-9;
constexpr double kBaselineRate = 0.01;  // EMA rate of the reward baseline

double finite_or(double v, double fallback) { return std::isfinite(v) ? v : fallback; }
double clip(double v, double lo, double hi) { return std::min(std::max(v, lo), hi); }

// splitmix64: tiny, fast and the same on every platform.
std::uint64_t next_random(std::uint64_t& state) noexcept {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
double uniform01(std::uint64_t& state) noexcept {
  return static_cast<double>(next_random(state) >> 11) * 0x1.0p-53;
}

double carbon_ratio(double intensity, double threshold) {
  if (!std::isfinite(intensity) || intensity < 0.0 || !std::isfinite(threshold) || threshold <= 0.0)
    return 1.0;
  return clip(intensity / threshold, 0.0, 3.0);
}

}  // namespace

const std::array<std::string_view, kRlFeatureCount>& rl_feature_names() noexcept {
  static const std::array<std::string_view, kRlFeatureCount> names{"bias",
                                                                   "cpu_usage_ratio",
                                                                   "cpu_tail_ratio",
                                                                   "memory_usage_ratio",
                                                                   "memory_tail_ratio",
                                                                   "throttled_fraction",
                                                                   "oom",
                                                                   "slo_latency_ratio",
                                                                   "intensity",
                                                                   "forecast",
                                                                   "time_of_day_sin",
                                                                   "time_of_day_cos"};
  return names;
}

RlFeatures rl_features(const RlObservation& o) noexcept {
  RlFeatures x{};
  x[0] = 1.0;
  x[1] = clip(finite_or(o.cpu_usage_ratio, 1.0), 0.0, 3.0);
  x[2] = clip(finite_or(o.cpu_tail_ratio, 1.0), 0.0, 3.0);
  x[3] = clip(finite_or(o.memory_usage_ratio, 1.0), 0.0, 3.0);
  x[4] = clip(finite_or(o.memory_tail_ratio, 1.0), 0.0, 3.0);
  x[5] = clip(finite_or(o.throttled_fraction, 0.0), 0.0, 1.0);
  x[6] = clip(finite_or(o.oom_kills, 0.0), 0.0, 1.0);
  x[7] = clip(finite_or(o.slo_latency_ratio, 0.0), 0.0, 3.0);
  x[8] = carbon_ratio(o.intensity_g_per_kwh, o.threshold_g_per_kwh);
  x[9] = carbon_ratio(o.forecast_g_per_kwh, o.threshold_g_per_kwh);
  const std::int64_t sec = ((o.unix_seconds % 86400) + 86400) % 86400;
  const double phase = 2.0 * std::numbers::pi * static_cast<double>(sec) / 86400.0;
  x[10] = std::sin(phase);
  x[11] = std::cos(phase);
  x[12] = clip(finite_or(o.cpu_forecast_ratio, x[2]), 0.0, 3.0);
  return x;
}

// ---------------------------------------------------------------------------
// RlConfig

void RlConfig::validate(std::string_view source) const {
  auto check_multipliers = [&](const std::vector<double>& m, const char* field) {
    if (m.empty() || m.size() > 32)
      throw InvalidInput(
          fmt::format("{}: {} must have 1..32 values, got {}", source, field, m.size()));
    for (std::size_t i = 0; i < m.size(); ++i) {
      if (!std::isfinite(m[i]) || m[i] <= 0.0)
        throw InvalidInput(
            fmt::format("{}: {}[{}] must be finite and > 0, got {}", source, field, i, m[i]));
      if (i > 0 && m[i] <= m[i - 1])
        throw InvalidInput(fmt::format("{}: {} must be strictly increasing ({}[{}] = {} after {})",
                                       source, field, field, i, m[i], m[i - 1]));
    }
  };
  check_multipliers(cpu_multipliers, "cpu_multipliers");
  check_multipliers(memory_multipliers, "memory_multipliers");
  auto nonneg = [&](double v, const std::string& field) {
    if (!std::isfinite(v) || v < 0.0)
      throw InvalidInput(fmt::format("{}: {} must be finite and >= 0, got {}", source, field, v));
  };
  nonneg(alpha, "alpha");
  if (!std::isfinite(ridge) || ridge <= 0.0)
    throw InvalidInput(fmt::format("{}: ridge must be finite and > 0, got {}", source, ridge));
  if (!std::isfinite(discount) || discount <= 0.0 || discount > 1.0)
    throw InvalidInput(fmt::format("{}: discount must be in (0, 1], got {}", source, discount));
  if (!std::isfinite(epsilon) || epsilon < 0.0 || epsilon > 1.0)
    throw InvalidInput(fmt::format("{}: epsilon must be in 0..1, got {}", source, epsilon));
  if (!std::isfinite(shield.max_step_down) || shield.max_step_down <= 0.0 ||
      !std::isfinite(shield.max_step_up) || shield.max_step_up <= 0.0)
    throw InvalidInput(
        fmt::format("{}: shield.max_step_down and max_step_up must be finite and > 0", source));
  if (!std::isfinite(shield.memory_oom_headroom) || shield.memory_oom_headroom < 1.0)
    throw InvalidInput(fmt::format("{}: shield.memory_oom_headroom must be >= 1, got {}", source,
                                   shield.memory_oom_headroom));
  nonneg(shield.critical_min_multiplier, "shield.critical_min_multiplier");
  for (std::size_t t = 0; t < weights.size(); ++t) {
    const std::string w = fmt::format("weights[{}]", to_string(static_cast<SlaTier>(t)));
    nonneg(weights[t].slack, w + ".slack");
    nonneg(weights[t].throttle, w + ".throttle");
    nonneg(weights[t].oom, w + ".oom");
    nonneg(weights[t].slo, w + ".slo");
    nonneg(weights[t].carbon, w + ".carbon");
    nonneg(weights[t].churn, w + ".churn");
  }
  if (log_capacity < 1 || log_capacity > (std::size_t{1} << 24))
    throw InvalidInput(
        fmt::format("{}: log_capacity must be in 1..2^24, got {}", source, log_capacity));
}

// ---------------------------------------------------------------------------
// LinUcbBandit

LinUcbBandit::LinUcbBandit(int actions, double ridge, double discount)
    : actions_(actions), ridge_(ridge), discount_(discount) {
  if (actions < 1 || actions > 32)
    throw InvalidInput(fmt::format("LinUCB: actions must be 1..32, got {}", actions));
  const auto n = static_cast<std::size_t>(actions);
  a_.assign(n * kD * kD, 0.0);
  chol_.assign(n * kD * kD, 0.0);
  b_.assign(n * kD, 0.0);
  theta_.assign(n * kD, 0.0);
  pulls_.assign(n, 0);
  for (int k = 0; k < actions; ++k) {
    Eigen::Map<Mat>(a_.data() + static_cast<std::size_t>(k) * kD * kD) = Mat::Identity() * ridge_;
    Eigen::Map<Mat>(chol_.data() + static_cast<std::size_t>(k) * kD * kD) =
        Mat::Identity() / std::sqrt(ridge_);
  }
}

double LinUcbBandit::predict(int action, const RlFeatures& x) const noexcept {
  const auto k = static_cast<std::size_t>(action);
  Eigen::Map<const Vec> xv(x.data());
  return Eigen::Map<const Vec>(theta_.data() + k * kD).dot(xv);
}

double LinUcbBandit::score(int action, const RlFeatures& x, double alpha) const noexcept {
  const auto k = static_cast<std::size_t>(action);
  Eigen::Map<const Vec> xv(x.data());
  // x' A^-1 x = |L^-1 x|^2 with A = L L': one dense mat-vec.
  Eigen::Map<const Mat> linv(chol_.data() + k * kD * kD);
  const Vec z = linv * xv;
  const double var = z.squaredNorm();
  return Eigen::Map<const Vec>(theta_.data() + k * kD).dot(xv) +
         alpha * std::sqrt(std::max(var, 0.0));
}

int LinUcbBandit::best(const RlFeatures& x, double alpha, std::uint32_t mask) const noexcept {
  int best_action = -1;
  double best_score = 0.0;
  for (int k = 0; k < actions_; ++k) {
    if (!(mask & (1u << k))) continue;
    const double s = score(k, x, alpha);
    if (best_action < 0 || s > best_score) {
      best_action = k;
      best_score = s;
    }
  }
  return best_action;
}

void LinUcbBandit::refresh(int action) noexcept {
  const auto k = static_cast<std::size_t>(action);
  Eigen::Map<const Mat> a(a_.data() + k * kD * kD);
  // A is symmetric positive definite (ridge > 0): Cholesky, no allocation;
  // keep L^-1 (one triangular solve) rather than forming A^-1.
  const Eigen::LLT<Mat> llt(a);
  Eigen::Map<Mat>(chol_.data() + k * kD * kD) = llt.matrixL().solve(Mat::Identity());
  Eigen::Map<Vec>(theta_.data() + k * kD) = llt.solve(Eigen::Map<const Vec>(b_.data() + k * kD));
}

void LinUcbBandit::update(int action, const RlFeatures& x, double reward) noexcept {
  if (action < 0 || action >= actions_ || !std::isfinite(reward)) return;
  const auto k = static_cast<std::size_t>(action);
  Eigen::Map<const Vec> xv(x.data());
  Eigen::Map<Mat> a(a_.data() + k * kD * kD);
  Eigen::Map<Vec> b(b_.data() + k * kD);
  a = discount_ * a + xv * xv.transpose();
  a.diagonal().array() += (1.0 - discount_) * ridge_;
  b = discount_ * b + reward * xv;
  ++pulls_[k];
  refresh(action);
}

void LinUcbBandit::set_state(std::vector<double> a, std::vector<double> b,
                             std::vector<std::uint64_t> pulls) {
  const auto n = static_cast<std::size_t>(actions_);
  if (a.size() != n * kD * kD || b.size() != n * kD || pulls.size() != n)
    throw InvalidInput(
        fmt::format("LinUCB state: expected {} A values, {} b values and {} pull "
                    "counts, got {}, {} and {}",
                    n * kD * kD, n * kD, n, a.size(), b.size(), pulls.size()));
  for (double v : a)
    if (!std::isfinite(v)) throw InvalidInput("LinUCB state: A has a non-finite value");
  for (double v : b)
    if (!std::isfinite(v)) throw InvalidInput("LinUCB state: b has a non-finite value");
  for (int k = 0; k < actions_; ++k) {
    Eigen::Map<const Mat> m(a.data() + static_cast<std::size_t>(k) * kD * kD);
    if (!m.isApprox(m.transpose()) || Eigen::LLT<Mat>(m).info() != Eigen::Success)
      throw InvalidInput(
          fmt::format("LinUCB state: A of action {} is not symmetric positive definite", k));
  }
  a_ = std::move(a);
  b_ = std::move(b);
  pulls_ = std::move(pulls);
  for (int k = 0; k < actions_; ++k) refresh(k);
}

// ---------------------------------------------------------------------------
// RlOptimizer

struct RlOptimizer::State {
  RlConfig config;
  LinUcbBandit cpu;
  LinUcbBandit memory;
  std::uint64_t rng = 0;
  std::uint64_t next_id = 0;
  // Running mean reward per head. Arms learn the reward minus this, so an
  // untried arm's prior (0) means "average", not "better than anything
  // seen" (every raw reward is a negative cost).
  std::array<double, 2> baseline{0.0, 0.0};
  std::array<bool, 2> has_baseline{false, false};
  std::vector<DecisionLogEntry> log;

  explicit State(RlConfig c)
      : config((c.validate(), std::move(c))),
        cpu(static_cast<int>(config.cpu_multipliers.size()), config.ridge, config.discount),
        memory(static_cast<int>(config.memory_multipliers.size()), config.ridge, config.discount),
        rng(config.seed),
        log(config.log_capacity) {}
};

RlOptimizer::RlOptimizer(RlConfig config) : s_(std::make_unique<State>(std::move(config))) {}
RlOptimizer::~RlOptimizer() = default;
RlOptimizer::RlOptimizer(RlOptimizer&&) noexcept = default;
RlOptimizer& RlOptimizer::operator=(RlOptimizer&&) noexcept = default;
RlOptimizer::RlOptimizer(const RlOptimizer& o) : s_(std::make_unique<State>(*o.s_)) {}
RlOptimizer& RlOptimizer::operator=(const RlOptimizer& o) {
  if (this != &o) s_ = std::make_unique<State>(*o.s_);
  return *this;
}

const RlConfig& RlOptimizer::config() const { return s_->config; }
const LinUcbBandit& RlOptimizer::cpu_bandit() const { return s_->cpu; }
const LinUcbBandit& RlOptimizer::memory_bandit() const { return s_->memory; }
std::uint64_t RlOptimizer::decisions() const { return s_->next_id; }

std::uint32_t RlOptimizer::shield_mask(const std::vector<double>& multipliers, double base,
                                       double floor, double upper, double previous, bool critical,
                                       const ShieldConfig& shield) noexcept {
  if (!std::isfinite(base) || base <= 0.0) return 0;
  // The nearest multipliers below and above `previous` are always within
  // one step, so a coarse grid can never lock the shield in place.
  int below = -1;
  int above = -1;
  const int n = static_cast<int>(std::min<std::size_t>(multipliers.size(), 32));
  for (int a = 0; a < n; ++a) {
    const double m = multipliers[static_cast<std::size_t>(a)];
    if (m < previous - kTol) below = a;
    if (m > previous + kTol && above < 0) above = a;
  }
  std::uint32_t mask = 0;
  for (int a = 0; a < n; ++a) {
    const double m = multipliers[static_cast<std::size_t>(a)];
    const double v = m * base;
    if (v < floor * (1.0 - kTol)) continue;
    if (v > upper * (1.0 + kTol)) continue;
    if (critical && m < shield.critical_min_multiplier - kTol) continue;
    if (a != above && m - previous > shield.max_step_up + kTol) continue;
    if (a != below && previous - m > shield.max_step_down + kTol) continue;
    mask |= 1u << a;
  }
  return mask;
}

namespace {

struct HeadChoice {
  int action = -1;
  double multiplier = 1.0;
  double propensity = 1.0;
  double value = 0.0;
  std::uint32_t mask = 0;
  bool clamped = false;
  bool explored = false;
};

HeadChoice choose(const LinUcbBandit& bandit, const std::vector<double>& multipliers,
                  const RlFeatures& x, double base, double floor, double upper, double previous,
                  bool critical, const RlConfig& config, std::uint64_t& rng) noexcept {
  HeadChoice c;
  base = finite_or(base, 0.0);
  floor = std::max(finite_or(floor, 0.0), 0.0);
  upper = std::max(finite_or(upper, floor), floor);
  previous = finite_or(previous, 1.0);
  c.mask =
      RlOptimizer::shield_mask(multipliers, base, floor, upper, previous, critical, config.shield);
  if (c.mask == 0) {
    // Nothing safe: keep the previous multiplier, clamped into the range.
    const double v = clip(std::max(base, 0.0) * previous, floor, upper);
    c.value = v;
    c.multiplier = base > 0.0 ? v / base : previous;
    c.clamped = true;
    return c;
  }
  const int greedy = bandit.best(x, config.alpha, c.mask);
  const int safe = std::popcount(c.mask);
  int action = greedy;
  // Always draw, so the random stream does not depend on the mask.
  const double u = uniform01(rng);
  const double pick = uniform01(rng);
  if (u < config.epsilon) {
    int k = std::min(static_cast<int>(pick * safe), safe - 1);
    for (int a = 0; a < 32; ++a) {
      if (!(c.mask & (1u << a))) continue;
      if (k-- == 0) {
        action = a;
        break;
      }
    }
    c.explored = true;
  }
  c.action = action;
  c.propensity =
      (action == greedy ? 1.0 - config.epsilon : 0.0) + config.epsilon / static_cast<double>(safe);
  c.multiplier = multipliers[static_cast<std::size_t>(action)];
  c.value = c.multiplier * base;
  return c;
}

}  // namespace

AllocationDecision RlOptimizer::decide(const AllocationContext& ctx) noexcept {
  State& s = *s_;
  const RlConfig& cfg = s.config;
  AllocationDecision d;
  d.features = rl_features(ctx.observation);
  d.tier = ctx.tier;
  d.carbon_term = d.features[8];
  const bool critical = ctx.tier == SlaTier::kCritical;

  const double cpu_floor = std::max(finite_or(ctx.base.lower_bound.cpu_cores, 0.0),
                                    finite_or(ctx.sla_floor.cpu_cores, 0.0));
  const HeadChoice cpu =
      choose(s.cpu, cfg.cpu_multipliers, d.features, ctx.adjusted.cpu_cores, cpu_floor,
             ctx.base.upper_bound.cpu_cores, ctx.previous_cpu_multiplier, critical, cfg, s.rng);
  const double oom_floor =
      std::max(finite_or(ctx.memory_peak_bytes, 0.0), 0.0) * cfg.shield.memory_oom_headroom;
  const double mem_floor = std::max({finite_or(ctx.base.lower_bound.memory_bytes, 0.0),
                                     finite_or(ctx.sla_floor.memory_bytes, 0.0), oom_floor});
  const HeadChoice mem = choose(
      s.memory, cfg.memory_multipliers, d.features, ctx.adjusted.memory_bytes, mem_floor,
      ctx.base.upper_bound.memory_bytes, ctx.previous_memory_multiplier, critical, cfg, s.rng);

  d.resources = {cpu.value, mem.value};
  d.cpu_multiplier = cpu.multiplier;
  d.memory_multiplier = mem.multiplier;
  d.cpu_action = cpu.action;
  d.memory_action = mem.action;
  d.cpu_propensity = cpu.propensity;
  d.memory_propensity = mem.propensity;
  d.cpu_safe_mask = cpu.mask;
  d.memory_safe_mask = mem.mask;
  d.cpu_clamped = cpu.clamped;
  d.memory_clamped = mem.clamped;
  d.explored = cpu.explored || mem.explored;
  d.cpu_change = std::abs(cpu.multiplier - finite_or(ctx.previous_cpu_multiplier, 1.0));
  d.memory_change = std::abs(mem.multiplier - finite_or(ctx.previous_memory_multiplier, 1.0));
  auto ratio = [](double v, double target, double fallback) {
    return std::isfinite(target) && target > 0.0 ? v / target : fallback;
  };
  d.cpu_target_ratio = ratio(cpu.value, ctx.base.target.cpu_cores, cpu.multiplier);
  d.memory_target_ratio = ratio(mem.value, ctx.base.target.memory_bytes, mem.multiplier);
  d.id = s.next_id++;

  const std::size_t cap = s.log.size();
  for (std::uint8_t head = 0; head < 2; ++head) {
    DecisionLogEntry& e = s.log[(2 * d.id + head) % cap];
    e.id = d.id;
    e.unix_seconds = ctx.observation.unix_seconds;
    e.head = head;
    e.action = head == 0 ? d.cpu_action : d.memory_action;
    e.multiplier = head == 0 ? d.cpu_multiplier : d.memory_multiplier;
    e.propensity = head == 0 ? d.cpu_propensity : d.memory_propensity;
    e.safe_mask = head == 0 ? d.cpu_safe_mask : d.memory_safe_mask;
    e.reward = std::numeric_limits<double>::quiet_NaN();
    e.features = d.features;
  }
  return d;
}

std::array<double, 2> RlOptimizer::rewards(const AllocationDecision& d,
                                           const AllocationOutcome& o) const noexcept {
  const auto tier = static_cast<std::size_t>(d.tier);
  const RewardWeights& w = s_->config.weights[std::min<std::size_t>(tier, 2)];
  auto v = [](double x) { return std::isfinite(x) ? std::max(x, 0.0) : 0.0; };
  const double cpu = w.slack * v(o.cpu_slack_fraction) + w.throttle * v(o.throttled_fraction) +
                     w.slo * v(o.slo_violation_fraction) +
                     w.carbon * d.carbon_term * d.cpu_target_ratio + w.churn * d.cpu_change;
  const double mem = w.slack * v(o.memory_slack_fraction) + w.oom * v(o.oom_kills) +
                     w.carbon * d.carbon_term * d.memory_target_ratio + w.churn * d.memory_change;
  return {-cpu, -mem};
}

std::array<double, 2> RlOptimizer::update(const AllocationDecision& d,
                                          const AllocationOutcome& o) noexcept {
  State& s = *s_;
  const std::array<double, 2> r = rewards(d, o);
  const std::array<int, 2> action{d.cpu_action, d.memory_action};
  for (std::size_t h = 0; h < 2; ++h) {
    LinUcbBandit& bandit = h == 0 ? s.cpu : s.memory;
    if (action[h] < 0 || action[h] >= bandit.actions()) continue;
    if (!s.has_baseline[h]) {
      s.baseline[h] = r[h];
      s.has_baseline[h] = true;
    }
    bandit.update(action[h], d.features, r[h] - s.baseline[h]);
    s.baseline[h] += kBaselineRate * (r[h] - s.baseline[h]);
  }
  const std::size_t cap = s.log.size();
  for (std::uint8_t head = 0; head < 2; ++head) {
    DecisionLogEntry& e = s.log[(2 * d.id + head) % cap];
    if (e.id == d.id && e.head == head) e.reward = r[head];
  }
  return r;
}

std::vector<DecisionLogEntry> RlOptimizer::decision_log() const {
  const State& s = *s_;
  const std::size_t cap = s.log.size();
  const std::uint64_t total = 2 * s.next_id;
  const std::uint64_t first = total > cap ? total - cap : 0;
  std::vector<DecisionLogEntry> out;
  out.reserve(static_cast<std::size_t>(total - first));
  for (std::uint64_t i = first; i < total; ++i) out.push_back(s.log[i % cap]);
  return out;
}

// ---------------------------------------------------------------------------
// Save / restore

namespace {
using detail::Json;
using detail::Where;

Json weights_json(const RewardWeights& w) {
  return Json{{"slack", w.slack}, {"throttle", w.throttle}, {"oom", w.oom},
              {"slo", w.slo},     {"carbon", w.carbon},     {"churn", w.churn}};
}

Json bandit_json(const LinUcbBandit& b) {
  std::vector<std::uint64_t> pulls;
  for (int k = 0; k < b.actions(); ++k) pulls.push_back(b.pulls(k));
  return Json{{"A", b.a_matrices()}, {"b", b.b_vectors()}, {"pulls", pulls}};
}

std::vector<double> read_doubles(const Json& obj, std::string_view key, const Where& where) {
  const Json* arr = detail::read_array(obj, key, where);
  if (!arr) (where / key).fail("required");
  std::vector<double> out;
  out.reserve(arr->size());
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const Json& v = (*arr)[i];
    if (!v.is_number()) (where / key)[i].fail("expected a number");
    const double d = v.get<double>();
    if (!std::isfinite(d)) (where / key)[i].fail("must be finite");
    out.push_back(d);
  }
  return out;
}

double required_number(const Json& obj, std::string_view key, const Where& where) {
  if (!detail::member(obj, key)) (where / key).fail("required");
  return detail::read_number(obj, key, where, 0.0);
}

std::uint64_t read_u64(const Json& obj, std::string_view key, const Where& where) {
  const Json* v = detail::member(obj, key);
  if (!v) (where / key).fail("required");
  if (!v->is_number_unsigned()) (where / key).fail("expected a non-negative integer");
  return v->get<std::uint64_t>();
}

}  // namespace

std::string RlOptimizer::save() const {
  const State& s = *s_;
  const RlConfig& c = s.config;
  Json weights = Json::array();
  for (const RewardWeights& w : c.weights) weights.push_back(weights_json(w));
  Json config{{"cpu_multipliers", c.cpu_multipliers},
              {"memory_multipliers", c.memory_multipliers},
              {"alpha", c.alpha},
              {"ridge", c.ridge},
              {"discount", c.discount},
              {"epsilon", c.epsilon},
              {"seed", c.seed},
              {"shield",
               {{"max_step_down", c.shield.max_step_down},
                {"max_step_up", c.shield.max_step_up},
                {"memory_oom_headroom", c.shield.memory_oom_headroom},
                {"critical_min_multiplier", c.shield.critical_min_multiplier}}},
              {"weights", weights},
              {"log_capacity", c.log_capacity}};
  Json j{{"format", kFormat},
         {"version", kVersion},
         {"feature_count", kD},
         {"config", config},
         {"bandits", {{"cpu", bandit_json(s.cpu)}, {"memory", bandit_json(s.memory)}}},
         {"rng", s.rng},
         {"next_id", s.next_id},
         {"baseline",
          {s.has_baseline[0] ? Json(s.baseline[0]) : Json(nullptr),
           s.has_baseline[1] ? Json(s.baseline[1]) : Json(nullptr)}}};
  return j.dump();
}

RlOptimizer RlOptimizer::restore(std::string_view text, std::string_view source,
                                 const ParseLimits& limits) {
  const Json doc = detail::parse_one_document(text, source, limits, "RL optimizer state");
  const Where where(std::string(source), "");
  if (!doc.is_object()) where.fail("expected an object");
  const std::string format = detail::read_string(doc, "format", where);
  if (format != kFormat)
    (where / "format").fail(fmt::format("expected \"{}\", got \"{}\"", kFormat, format));
  const std::int64_t version = detail::read_int(doc, "version", where, -1, -1, 1 << 20);
  if (version != kVersion)
    (where / "version")
        .fail(
            fmt::format("unsupported version {} (this build reads version {})", version, kVersion));
  if (detail::read_int(doc, "feature_count", where, -1, -1, 1 << 20) != kD)
    (where / "feature_count").fail(fmt::format("expected {}", kD));
  const Json* cj = detail::read_object(doc, "config", where);
  if (!cj) (where / "config").fail("required");
  const Where cw = where / "config";
  RlConfig c;
  c.cpu_multipliers = read_doubles(*cj, "cpu_multipliers", cw);
  c.memory_multipliers = read_doubles(*cj, "memory_multipliers", cw);
  c.alpha = required_number(*cj, "alpha", cw);
  c.ridge = required_number(*cj, "ridge", cw);
  c.discount = required_number(*cj, "discount", cw);
  c.epsilon = required_number(*cj, "epsilon", cw);
  c.seed = read_u64(*cj, "seed", cw);
  const Json* sj = detail::read_object(*cj, "shield", cw);
  if (!sj) (cw / "shield").fail("required");
  c.shield.max_step_down = required_number(*sj, "max_step_down", cw / "shield");
  c.shield.max_step_up = required_number(*sj, "max_step_up", cw / "shield");
  c.shield.memory_oom_headroom = required_number(*sj, "memory_oom_headroom", cw / "shield");
  c.shield.critical_min_multiplier = required_number(*sj, "critical_min_multiplier", cw / "shield");
  const Json* wj = detail::read_array(*cj, "weights", cw);
  if (!wj || wj->size() != 3) (cw / "weights").fail("expected 3 tiers");
  for (std::size_t t = 0; t < 3; ++t) {
    const Json& w = (*wj)[t];
    const Where ww = (cw / "weights")[t];
    if (!w.is_object()) ww.fail("expected an object");
    c.weights[t] = {required_number(w, "slack", ww),  required_number(w, "throttle", ww),
                    required_number(w, "oom", ww),    required_number(w, "slo", ww),
                    required_number(w, "carbon", ww), required_number(w, "churn", ww)};
  }
  c.log_capacity = static_cast<std::size_t>(read_u64(*cj, "log_capacity", cw));
  c.validate(cw.str());
  RlOptimizer out(c);
  const Json* bj = detail::read_object(doc, "bandits", where);
  if (!bj) (where / "bandits").fail("required");
  for (const char* head : {"cpu", "memory"}) {
    const Where hw = where / "bandits" / head;
    const Json* h = detail::read_object(*bj, head, where / "bandits");
    if (!h) hw.fail("required");
    std::vector<double> a = read_doubles(*h, "A", hw);
    std::vector<double> b = read_doubles(*h, "b", hw);
    const Json* pj = detail::read_array(*h, "pulls", hw);
    if (!pj) (hw / "pulls").fail("required");
    std::vector<std::uint64_t> pulls;
    for (std::size_t i = 0; i < pj->size(); ++i) {
      if (!(*pj)[i].is_number_unsigned()) (hw / "pulls")[i].fail("expected a count");
      pulls.push_back((*pj)[i].get<std::uint64_t>());
    }
    LinUcbBandit& bandit = std::string_view(head) == "cpu" ? out.s_->cpu : out.s_->memory;
    try {
      bandit.set_state(std::move(a), std::move(b), std::move(pulls));
    } catch (const InvalidInput& e) {
      hw.fail(e.what());
    }
  }
  out.s_->rng = read_u64(doc, "rng", where);
  out.s_->next_id = read_u64(doc, "next_id", where);
  const Json* base = detail::read_array(doc, "baseline", where);
  if (!base || base->size() != 2) (where / "baseline").fail("expected [cpu, memory]");
  for (std::size_t h = 0; h < 2; ++h) {
    const Json& v = (*base)[h];
    if (v.is_null()) continue;
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      (where / "baseline")[h].fail("expected a finite number or null");
    out.s_->baseline[h] = v.get<double>();
    out.s_->has_baseline[h] = true;
  }
  return out;
}

CARBONKUBE_NAMESPACE_END
