// Carbon-aware QoS profiles: the profile set and its validation, the
// CarbonProfile and Helm values parsers, Go durations, the pod -> profile
// mapping (carbon-kube.io, Katalyst, Koordinator) and the zone reconciler.
#include "carbonkube/qos.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <set>

#include "carbonkube/error.hpp"
#include "carbonkube/signals.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN
namespace {

using detail::Json;
using detail::Where;

constexpr double kInf = std::numeric_limits<double>::infinity();

// A number for messages: 300, 312.5, 0.1.
std::string num(double v) { return fmt::format("{:g}", v); }

// Kubernetes label value syntax: at most 63 characters, alphanumerics, '-',
// '_' and '.', beginning and ending with an alphanumeric (here also non-empty).
bool is_label_value(std::string_view s) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A threshold in gCO2/kWh: a finite number > 0.
double read_threshold(const Json& obj, std::string_view key, const Where& where, double fallback) {
  double v = detail::read_number(obj, key, where, fallback);
  if (!(v > 0.0)) (where / key).fail(fmt::format("{} must be above 0 gCO2/kWh", num(v)));
  return v;
}

// A percentage 0..100 written as a number (80) or a string with '%' ("80%",
// as the seed's NodeResourceTopology example writes it); returned as a fraction.
double read_percent(const Json& obj, std::string_view key, const Where& where,
                    double fallback_fraction) {
  const Json* v = detail::member(obj, key);
  if (!v) return fallback_fraction;
  double pct = 0.0;
  if (v->is_number()) {
    pct = v->get<double>();
  } else if (v->is_string() && !v->get<std::string>().empty() &&
             v->get<std::string>().back() == '%') {
    std::string s = v->get<std::string>();
    s.pop_back();
    // Plain decimals only ("80", "12.5"): no sign, spaces, hex, inf or nan.
    bool plain = !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= '0' && c <= '9') || c == '.';
    });
    char* end = nullptr;
    errno = 0;
    if (plain) pct = std::strtod(s.c_str(), &end);
    if (!plain || errno != 0 || *end != '\0')
      (where / key).fail(fmt::format("expected a percentage, got \"{}\"", v->get<std::string>()));
  } else {
    (where / key)
        .fail(fmt::format("expected a percentage 0..100 (80 or \"80%\"), got {}",
                          detail::scalar_text(*v)));
  }
  if (!std::isfinite(pct) || pct < 0.0 || pct > 100.0)
    (where / key).fail(fmt::format("{} is not a percentage in 0..100", num(pct)));
  return pct / 100.0;
}

std::optional<MigrationPolicy> parse_migration_policy(std::string_view s) {
  if (s == "aggressive") return MigrationPolicy::kAggressive;
  if (s == "conservative") return MigrationPolicy::kConservative;
  if (s == "disabled") return MigrationPolicy::kDisabled;
  return std::nullopt;
}

// The seed's three profiles, in order, with the camelCase keys the CRD and
// the Helm values use for them.
struct SeedProfile {
  std::string_view key;
  QosProfile profile;
};
std::array<SeedProfile, 3> seed_profiles() {
  return {{
      {"greenGuaranteed",
       {std::string(kGreenGuaranteed), 100.0, 1.0, 1000, false, MigrationPolicy::kDisabled, 1.2}},
      {"mixedBurstable",
       {std::string(kMixedBurstable), 300.0, 0.8, 500, false, MigrationPolicy::kConservative, 1.4}},
      {"dirtyBestEffort",
       {std::string(kDirtyBestEffort), 500.0, 0.5, 100, true, MigrationPolicy::kAggressive, 1.6}},
  }};
}

// Checks green < mixed < dirty, naming the field the user wrote (the later
// one when both were written).
void check_increasing(const std::array<QosProfile, 3>& p,
                      const std::array<std::optional<Where>, 3>& field,
                      const std::array<SeedProfile, 3>& seed, std::string_view source) {
  for (std::size_t i = 1; i < p.size(); ++i) {
    double lo = p[i - 1].carbon_threshold_g_per_kwh;
    double hi = p[i].carbon_threshold_g_per_kwh;
    if (hi > lo) continue;
    auto origin = [&](std::size_t k) { return field[k] ? "" : " (default)"; };
    if (field[i])
      field[i]->fail(
          fmt::format("{} must be above {}'s {}{} (thresholds increase: green < mixed < dirty)",
                      num(hi), seed[i - 1].key, num(lo), origin(i - 1)));
    if (field[i - 1])
      field[i - 1]->fail(
          fmt::format("{} must be below {}'s {}{} (thresholds increase: green < mixed < dirty)",
                      num(lo), seed[i].key, num(hi), origin(i)));
    throw InvalidInput(fmt::format("{}: default thresholds do not increase", source));
  }
}

Json one_object(std::string_view text, std::string_view source, std::string_view what,
                const ParseLimits& limits) {
  Json doc = detail::parse_one_document(text, source, limits, what);
  if (!doc.is_object())
    throw InvalidInput(
        fmt::format("{}: expected a {} object, got {}", source, what, doc.type_name()));
  return doc;
}

// ---------------------------------------------------------------------------
// Go durations (time.ParseDuration): [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+ or "0".

constexpr std::uint64_t kMaxDuration = std::uint64_t{1} << 63;  // |min int64| in ns

bool go_duration_ns(std::string_view s, std::int64_t* out, std::string* error) {
  const std::string orig(s);
  auto bad = [&](std::string_view why) {
    *error = fmt::format("invalid duration \"{}\": {}", orig, why);
    return false;
  };
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") {
    *out = 0;
    return true;
  }
  if (s.empty()) return bad("empty");
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  std::uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || digit(s[0]))) return bad("expected a number");
    // Integer part.
    std::uint64_t v = 0;
    std::size_t i = 0;
    for (; i < s.size() && digit(s[i]); ++i) {
      if (v > (kMaxDuration - 1) / 10) return bad("overflow");
      v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
      if (v > kMaxDuration) return bad("overflow");
    }
    bool pre = i > 0;
    s.remove_prefix(i);
    // Fraction: digits past what fits are ignored, as Go does.
    std::uint64_t f = 0;
    double scale = 1.0;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      std::size_t j = 0;
      for (; j < s.size() && digit(s[j]); ++j) {
        if (overflow) continue;
        if (f > (kMaxDuration - 1) / 10) {
          overflow = true;
          continue;
        }
        std::uint64_t y = f * 10 + static_cast<std::uint64_t>(s[j] - '0');
        if (y > kMaxDuration) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10.0;
      }
      post = j > 0;
      s.remove_prefix(j);
    }
    if (!pre && !post) return bad("expected a number");
    // Unit: up to the next '.' or digit.
    std::size_t u = 0;
    while (u < s.size() && s[u] != '.' && !digit(s[u])) ++u;
    if (u == 0) return bad("missing unit (ns, us, ms, s, m, h)");
    std::string_view unit_text = s.substr(0, u);
    s.remove_prefix(u);
    std::uint64_t unit = 0;
    if (unit_text == "ns")
      unit = 1;
    else if (unit_text == "us" || unit_text == "\xC2\xB5s" || unit_text == "\xCE\xBCs")
      unit = 1'000;
    else if (unit_text == "ms")
      unit = 1'000'000;
    else if (unit_text == "s")
      unit = 1'000'000'000;
    else if (unit_text == "m")
      unit = 60'000'000'000;
    else if (unit_text == "h")
      unit = 3'600'000'000'000;
    else
      return bad(fmt::format("unknown unit \"{}\" (ns, us, ms, s, m, h)", unit_text));
    if (v > kMaxDuration / unit) return bad("overflow");
    v *= unit;
    if (f > 0) {
      v += static_cast<std::uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMaxDuration) return bad("overflow");
    }
    total += v;
    if (total > kMaxDuration) return bad("overflow");
  }
  if (neg) {
    *out = total == kMaxDuration ? std::numeric_limits<std::int64_t>::min()
                                 : -static_cast<std::int64_t>(total);
    return true;
  }
  if (total > kMaxDuration - 1) return bad("overflow");
  *out = static_cast<std::int64_t>(total);
  return true;
}

// ---------------------------------------------------------------------------
// Pods

std::string pod_prefix(const Pod& pod) { return fmt::format("Pod \"{}\"", pod.key()); }

using detail::find_value;

[[noreturn]] void pod_fail(const Pod& pod, std::string_view where, std::string_view key,
                           std::string_view what) {
  throw InvalidInput(fmt::format("{}: metadata.{}[{}]: {}", pod_prefix(pod), where, key, what));
}

// The index of a canonical profile in `profiles`: by name, else by position
// (green: the greenest, mixed: the second, dirty: the dirtiest).
int canonical_index(const QosProfileSet& profiles, std::string_view name) {
  int i = profiles.find(name);
  if (i >= 0) return i;
  int n = profiles.size();
  if (name == kGreenGuaranteed) return 0;
  if (name == kMixedBurstable) return std::min(1, n - 1);
  return n - 1;
}

// ---------------------------------------------------------------------------
// Time

// RFC 3339 has four-digit years: 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z.
constexpr std::int64_t kRfc3339First = -62'167'219'200;
constexpr std::int64_t kRfc3339Last = 253'402'300'799;

// Unix seconds as RFC 3339 in UTC ("2024-05-01T12:00:00Z").
std::string format_rfc3339(std::int64_t t) {
  if (t < kRfc3339First || t > kRfc3339Last)
    throw InvalidInput(fmt::format("time {} is outside RFC 3339's years 0000..9999", t));
  return format_timestamp(t);
}

}  // namespace

// ---------------------------------------------------------------------------
// Profiles

std::string_view to_string(MigrationPolicy policy) noexcept {
  switch (policy) {
    case MigrationPolicy::kAggressive:
      return "aggressive";
    case MigrationPolicy::kConservative:
      return "conservative";
    case MigrationPolicy::kDisabled:
      return "disabled";
  }
  return "disabled";
}

QosProfileSet QosProfileSet::defaults() {
  std::vector<QosProfile> v;
  for (auto& s : seed_profiles()) v.push_back(s.profile);
  return QosProfileSet(std::move(v), "default QoS profiles");
}

const QosProfileSet& default_qos_profiles() {
  static const QosProfileSet kDefaults = QosProfileSet::defaults();
  return kDefaults;
}

QosProfileSet::QosProfileSet(std::vector<QosProfile> profiles, std::string_view source)
    : profiles_(std::move(profiles)) {
  Where root(std::string(source), "");
  if (profiles_.empty()) root.fail("needs at least one QoS profile");
  if (profiles_.size() > 1000) root.fail("more than 1000 QoS profiles");
  std::set<std::string_view> names;
  for (std::size_t i = 0; i < profiles_.size(); ++i) {
    const QosProfile& p = profiles_[i];
    Where w = (root / "profiles")[i];
    if (!is_label_value(p.name))
      (w / "name")
          .fail(fmt::format("\"{}\" is not a valid label value (1-63 characters: alphanumerics, "
                            "'-', '_', '.', starting and ending with an alphanumeric)",
                            p.name));
    if (!names.insert(p.name).second)
      (w / "name").fail(fmt::format("duplicate profile name \"{}\"", p.name));
    Where t = w / "carbon_threshold_g_per_kwh";
    if (!std::isfinite(p.carbon_threshold_g_per_kwh) || !(p.carbon_threshold_g_per_kwh > 0.0))
      t.fail(fmt::format("{} must be finite and above 0", num(p.carbon_threshold_g_per_kwh)));
    if (i > 0 && !(p.carbon_threshold_g_per_kwh > profiles_[i - 1].carbon_threshold_g_per_kwh))
      t.fail(fmt::format("{} must be above the previous profile's {} (ordered greenest first)",
                         num(p.carbon_threshold_g_per_kwh),
                         num(profiles_[i - 1].carbon_threshold_g_per_kwh)));
    if (!(p.resource_guarantee >= 0.0 && p.resource_guarantee <= 1.0))
      (w / "resource_guarantee")
          .fail(fmt::format("{} is not a fraction in 0..1", num(p.resource_guarantee)));
    if (!std::isfinite(p.pue_target) || !(p.pue_target >= 1.0))
      (w / "pue_target").fail(fmt::format("{} must be finite and at least 1", num(p.pue_target)));
  }
}

int QosProfileSet::find(std::string_view name) const {
  for (std::size_t i = 0; i < profiles_.size(); ++i)
    if (profiles_[i].name == name) return static_cast<int>(i);
  return -1;
}

int QosProfileSet::classify(double intensity) const {
  for (std::size_t i = 0; i < profiles_.size(); ++i)
    if (intensity <= profiles_[i].carbon_threshold_g_per_kwh) return static_cast<int>(i);
  return size() - 1;
}

// ---------------------------------------------------------------------------
// Parsers

double parse_go_duration(std::string_view text) {
  std::int64_t ns = 0;
  std::string error;
  if (!go_duration_ns(text, &ns, &error)) throw InvalidInput(error);
  return static_cast<double>(ns) / 1e9;
}

CarbonProfile parse_carbon_profile(std::string_view text, std::string_view source,
                                   const ParseLimits& limits) {
  const Json obj = one_object(text, source, "CarbonProfile", limits);
  Where top(std::string(source), "");
  detail::check_keys(obj, top, {"apiVersion", "kind", "metadata", "spec", "status"});
  constexpr std::string_view kApiVersion = "carbon.katalyst.io/v1alpha1";
  std::string api = detail::read_string(obj, "apiVersion", top);
  if (api != kApiVersion)
    (top / "apiVersion")
        .fail(api.empty() ? fmt::format("missing (expected {})", kApiVersion)
                          : fmt::format("expected {}, got \"{}\"", kApiVersion, api));
  std::string kind = detail::read_string(obj, "kind", top);
  if (kind != "CarbonProfile")
    (top / "kind")
        .fail(kind.empty() ? "missing (expected CarbonProfile)"
                           : fmt::format("expected CarbonProfile, got \"{}\"", kind));

  CarbonProfile out;
  // metadata is Kubernetes' ObjectMeta (uid, labels, managedFields, ...): only
  // name and namespace are read, nothing else is checked.
  const Json* meta = detail::read_object(obj, "metadata", top);
  if (!meta) top.fail("missing metadata");
  out.name = detail::read_string(*meta, "name", top / "metadata");
  if (out.name.empty()) (top / "metadata").fail("missing name");
  out.namespace_name = detail::read_string(*meta, "namespace", top / "metadata", "default");
  Where where(fmt::format("{} (CarbonProfile \"{}/{}\")", source, out.namespace_name, out.name),
              "");

  const Json* spec = detail::read_object(obj, "spec", where);
  if (!spec) return out;  // every default
  Where sw = where / "spec";
  detail::check_keys(*spec, sw, {"carbonBudget", "qosMapping", "migrationPolicy"});

  if (const Json* b = detail::read_object(*spec, "carbonBudget", sw)) {
    Where bw = sw / "carbonBudget";
    detail::check_keys(*b, bw, {"dailyLimit", "threshold", "greenThreshold"});
    CarbonBudget& budget = out.budget;
    budget.daily_limit_kg = detail::read_number(*b, "dailyLimit", bw, budget.daily_limit_kg);
    if (!(budget.daily_limit_kg > 0.0))
      (bw / "dailyLimit").fail(fmt::format("{} kg must be above 0", num(budget.daily_limit_kg)));
    budget.threshold_g_per_kwh = read_threshold(*b, "threshold", bw, budget.threshold_g_per_kwh);
    budget.green_threshold_g_per_kwh =
        read_threshold(*b, "greenThreshold", bw, budget.green_threshold_g_per_kwh);
    if (!(budget.green_threshold_g_per_kwh < budget.threshold_g_per_kwh)) {
      bool green_given = detail::member(*b, "greenThreshold") != nullptr;
      (bw / (green_given ? "greenThreshold" : "threshold"))
          .fail(fmt::format("greenThreshold {} must be below threshold {}",
                            num(budget.green_threshold_g_per_kwh),
                            num(budget.threshold_g_per_kwh)));
    }
  }

  auto seed = seed_profiles();
  std::array<QosProfile, 3> profiles = {seed[0].profile, seed[1].profile, seed[2].profile};
  std::array<std::optional<Where>, 3> threshold_field;
  if (const Json* m = detail::read_object(*spec, "qosMapping", sw)) {
    Where mw = sw / "qosMapping";
    detail::check_keys(*m, mw, {"greenGuaranteed", "mixedBurstable", "dirtyBestEffort"});
    for (std::size_t i = 0; i < seed.size(); ++i) {
      const Json* e = detail::read_object(*m, seed[i].key, mw);
      if (!e) continue;
      Where ew = mw / seed[i].key;
      detail::check_keys(*e, ew, {"maxCarbonIntensity", "resourceGuarantee"});
      QosProfile& p = profiles[i];
      p.carbon_threshold_g_per_kwh =
          read_threshold(*e, "maxCarbonIntensity", ew, p.carbon_threshold_g_per_kwh);
      if (detail::member(*e, "maxCarbonIntensity")) threshold_field[i] = ew / "maxCarbonIntensity";
      p.resource_guarantee = read_percent(*e, "resourceGuarantee", ew, p.resource_guarantee);
    }
  }
  check_increasing(profiles, threshold_field, seed, where.str());
  out.profiles = QosProfileSet({profiles.begin(), profiles.end()}, where.str());

  if (const Json* mp = detail::read_object(*spec, "migrationPolicy", sw)) {
    Where mw = sw / "migrationPolicy";
    detail::check_keys(*mp, mw, {"enabled", "strategy", "cooldownPeriod", "maxMigrationsPerHour"});
    MigrationSettings& mig = out.migration;
    mig.enabled = detail::read_bool(*mp, "enabled", mw, mig.enabled);
    mig.strategy = detail::read_string(*mp, "strategy", mw, mig.strategy);
    if (mig.strategy != "carbon-aware")
      (mw / "strategy")
          .fail(fmt::format("unknown strategy \"{}\" (known: carbon-aware)", mig.strategy));
    if (detail::member(*mp, "cooldownPeriod")) {
      std::string cooldown = detail::read_string(*mp, "cooldownPeriod", mw);
      std::int64_t ns = 0;
      std::string error;
      if (!go_duration_ns(cooldown, &ns, &error)) (mw / "cooldownPeriod").fail(error);
      if (ns < 0) (mw / "cooldownPeriod").fail(fmt::format("\"{}\" is negative", cooldown));
      mig.cooldown_seconds = static_cast<double>(ns) / 1e9;
    }
    mig.max_per_hour = static_cast<std::int32_t>(
        detail::read_int(*mp, "maxMigrationsPerHour", mw, mig.max_per_hour, 0, 1'000'000));
  }
  return out;
}

QosProfileSet parse_helm_qos_profiles(std::string_view text, std::string_view source,
                                      const ParseLimits& limits) {
  const Json values = one_object(text, source, "Helm values", limits);
  Where top(std::string(source), "");
  auto seed = seed_profiles();
  std::array<QosProfile, 3> profiles = {seed[0].profile, seed[1].profile, seed[2].profile};
  std::array<std::optional<Where>, 3> threshold_field;
  const Json* katalyst = detail::read_object(values, "katalyst", top);
  const Json* qp =
      katalyst ? detail::read_object(*katalyst, "qosProfiles", top / "katalyst") : nullptr;
  if (qp) {
    Where qw = top / "katalyst" / "qosProfiles";
    detail::check_keys(*qp, qw, {"greenGuaranteed", "mixedBurstable", "dirtyBestEffort"});
    for (std::size_t i = 0; i < seed.size(); ++i) {
      const Json* e = detail::read_object(*qp, seed[i].key, qw);
      if (!e) continue;
      Where ew = qw / seed[i].key;
      detail::check_keys(*e, ew,
                         {"carbonThreshold", "resourceGuarantee", "priority", "migrationEnabled",
                          "migrationPolicy", "pueTarget", "tolerateHighCarbon"});
      QosProfile& p = profiles[i];
      p.carbon_threshold_g_per_kwh =
          read_threshold(*e, "carbonThreshold", ew, p.carbon_threshold_g_per_kwh);
      if (detail::member(*e, "carbonThreshold")) threshold_field[i] = ew / "carbonThreshold";
      p.resource_guarantee = read_percent(*e, "resourceGuarantee", ew, p.resource_guarantee);
      p.priority = static_cast<std::int32_t>(
          detail::read_int(*e, "priority", ew, p.priority, std::numeric_limits<std::int32_t>::min(),
                           std::numeric_limits<std::int32_t>::max()));
      std::optional<MigrationPolicy> policy;
      if (detail::member(*e, "migrationPolicy")) {
        std::string s = detail::read_string(*e, "migrationPolicy", ew);
        policy = parse_migration_policy(s);
        if (!policy)
          (ew / "migrationPolicy")
              .fail(fmt::format("unknown policy \"{}\" (aggressive, conservative, disabled)", s));
      }
      if (detail::member(*e, "migrationEnabled")) {
        bool enabled = detail::read_bool(*e, "migrationEnabled", ew, false);
        if (policy && enabled != (*policy != MigrationPolicy::kDisabled))
          (ew / "migrationEnabled")
              .fail(fmt::format("{} contradicts migrationPolicy \"{}\"", enabled ? "true" : "false",
                                to_string(*policy)));
        if (!policy) {
          if (!enabled)
            policy = MigrationPolicy::kDisabled;
          else if (p.migration == MigrationPolicy::kDisabled)
            policy = MigrationPolicy::kConservative;  // enabling a profile that defaults to off
        }
      }
      if (policy) p.migration = *policy;
      if (detail::member(*e, "pueTarget")) {
        p.pue_target = detail::read_number(*e, "pueTarget", ew, p.pue_target);
        if (!(p.pue_target >= 1.0))
          (ew / "pueTarget").fail(fmt::format("{} must be at least 1", num(p.pue_target)));
      }
      p.tolerate_high_carbon =
          detail::read_bool(*e, "tolerateHighCarbon", ew, p.tolerate_high_carbon);
    }
  }
  check_increasing(profiles, threshold_field, seed, source);
  return QosProfileSet({profiles.begin(), profiles.end()}, source);
}

// ---------------------------------------------------------------------------
// Pods

std::string_view to_string(KatalystQosLevel level) noexcept {
  switch (level) {
    case KatalystQosLevel::kNone:
      return "";
    case KatalystQosLevel::kDedicatedCores:
      return "dedicated_cores";
    case KatalystQosLevel::kSharedCores:
      return "shared_cores";
    case KatalystQosLevel::kReclaimedCores:
      return "reclaimed_cores";
    case KatalystQosLevel::kSystemCores:
      return "system_cores";
  }
  return "";
}

std::optional<KatalystQosLevel> parse_katalyst_qos_level(std::string_view s) noexcept {
  if (s == "dedicated_cores") return KatalystQosLevel::kDedicatedCores;
  if (s == "shared_cores") return KatalystQosLevel::kSharedCores;
  if (s == "reclaimed_cores") return KatalystQosLevel::kReclaimedCores;
  if (s == "system_cores") return KatalystQosLevel::kSystemCores;
  return std::nullopt;
}

std::string_view to_string(KoordinatorQosClass c) noexcept {
  switch (c) {
    case KoordinatorQosClass::kNone:
      return "";
    case KoordinatorQosClass::kLSE:
      return "LSE";
    case KoordinatorQosClass::kLSR:
      return "LSR";
    case KoordinatorQosClass::kLS:
      return "LS";
    case KoordinatorQosClass::kBE:
      return "BE";
    case KoordinatorQosClass::kSystem:
      return "SYSTEM";
  }
  return "";
}

std::optional<KoordinatorQosClass> parse_koordinator_qos_class(std::string_view s) noexcept {
  if (s == "LSE") return KoordinatorQosClass::kLSE;
  if (s == "LSR") return KoordinatorQosClass::kLSR;
  if (s == "LS") return KoordinatorQosClass::kLS;
  if (s == "BE") return KoordinatorQosClass::kBE;
  if (s == "SYSTEM") return KoordinatorQosClass::kSystem;
  return std::nullopt;
}

std::string_view to_string(QosSource source) noexcept {
  switch (source) {
    case QosSource::kNone:
      return "none";
    case QosSource::kCarbonKubeAnnotation:
      return "carbon-kube.io/qos-profile";
    case QosSource::kSeedQosClass:
      return "katalyst.io/qos-class";
    case QosSource::kKatalystQosLevel:
      return "katalyst.kubewharf.io/qos_level";
    case QosSource::kKoordinatorQosClass:
      return "koordinator.sh/qosClass";
  }
  return "none";
}

KatalystQosLevel katalyst_qos_level(const Pod& pod) {
  // Katalyst reads the annotation and accepts a label of the same key.
  const std::string* v = find_value(pod.annotations, kKatalystQosLevelKey);
  std::string_view where = "annotations";
  if (!v) {
    v = find_value(pod.labels, kKatalystQosLevelKey);
    where = "labels";
  }
  if (!v || v->empty()) return KatalystQosLevel::kNone;
  if (auto level = parse_katalyst_qos_level(*v)) return *level;
  pod_fail(pod, where, kKatalystQosLevelKey,
           fmt::format("unknown QoS level \"{}\" (dedicated_cores, shared_cores, "
                       "reclaimed_cores, system_cores)",
                       *v));
}

KoordinatorQosClass koordinator_qos_class(const Pod& pod) {
  const std::string* v = find_value(pod.labels, kKoordinatorQosClassLabel);
  if (!v || v->empty()) return KoordinatorQosClass::kNone;  // Koordinator's QoSNone
  if (auto c = parse_koordinator_qos_class(*v)) return *c;
  pod_fail(pod, "labels", kKoordinatorQosClassLabel,
           fmt::format("unknown QoS class \"{}\" (LSE, LSR, LS, BE, SYSTEM)", *v));
}

KatalystMemoryEnhancement katalyst_memory_enhancement(const Pod& pod) {
  KatalystMemoryEnhancement out;
  const std::string* v = find_value(pod.annotations, kKatalystMemoryEnhancementKey);
  if (v && !v->empty()) {
    out.present = true;
    const std::string prefix =
        fmt::format("{}: metadata.annotations[{}]", pod_prefix(pod), kKatalystMemoryEnhancementKey);
    auto first = v->find_first_not_of(" \t\r\n");
    if (first == std::string::npos || (*v)[first] != '{')
      throw InvalidInput(fmt::format(
          "{}: expected a JSON object such as {{\"numa_binding\": \"true\"}}, got \"{}\"", prefix,
          *v));
    ParseLimits limits;
    limits.max_depth = 8;
    const Json obj = detail::parse_one_document(*v, prefix, limits);
    Where w(prefix, "");
    if (!obj.is_object()) w.fail("expected a JSON object");
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      // Katalyst unmarshals the annotation into map[string]string: any
      // non-string value makes it drop the whole annotation silently.
      if (!it.value().is_string())
        (w / it.key())
            .fail(fmt::format("expected a string (\"true\"), got {} (Katalyst would ignore the "
                              "whole annotation)",
                              it.value().dump()));
      bool* flag = it.key() == "numa_binding"     ? &out.numa_binding
                   : it.key() == "numa_exclusive" ? &out.numa_exclusive
                                                  : nullptr;
      if (!flag) continue;
      const std::string& s = it.value().get_ref<const std::string&>();
      if (s != "true" && s != "false")
        (w / it.key()).fail(fmt::format("expected \"true\" or \"false\", got \"{}\"", s));
      *flag = s == "true";
    }
  }
  if (const std::string* n = find_value(pod.annotations, kKatalystNumaNumberKey);
      n && !n->empty()) {
    int value = -1;
    auto [end, ec] = std::from_chars(n->data(), n->data() + n->size(), value);
    if (ec != std::errc() || end != n->data() + n->size() || value < 0 ||
        static_cast<std::size_t>(value) > kMaxNumaZones)
      pod_fail(pod, "annotations", kKatalystNumaNumberKey,
               fmt::format("\"{}\" is not a NUMA count 0..{}", *n, kMaxNumaZones));
    out.numa_number = value;
  }
  return out;
}

PodCarbonQos pod_carbon_qos(const Pod& pod, const QosProfileSet& profiles) {
  PodCarbonQos q;
  q.level = katalyst_qos_level(pod);
  q.koordinator = koordinator_qos_class(pod);
  q.memory = katalyst_memory_enhancement(pod);
  bool system = false;
  // The named profile of an annotation; checked even when a higher one wins.
  auto named = [&](std::string_view key) {
    const std::string* v = find_value(pod.annotations, key);
    if (!v) return -2;
    int i = profiles.find(*v);
    if (i < 0) {
      std::string names;
      for (const auto& p : profiles.profiles()) names += (names.empty() ? "" : ", ") + p.name;
      pod_fail(pod, "annotations", key,
               fmt::format("unknown profile \"{}\" (known: {})", *v, names));
    }
    return i;
  };
  const int by_annotation = named(kQosProfileAnnotation);
  const int by_seed_alias = named(kSeedQosClassAnnotation);
  if (by_annotation >= 0) {
    q.profile_index = by_annotation;
    q.source = QosSource::kCarbonKubeAnnotation;
  } else if (by_seed_alias >= 0) {
    q.profile_index = by_seed_alias;
    q.source = QosSource::kSeedQosClass;
  } else if (q.level != KatalystQosLevel::kNone) {
    q.source = QosSource::kKatalystQosLevel;
    switch (q.level) {
      case KatalystQosLevel::kDedicatedCores:
        q.profile_index = canonical_index(profiles, kGreenGuaranteed);
        break;
      case KatalystQosLevel::kSharedCores:
        q.profile_index = canonical_index(profiles, kMixedBurstable);
        break;
      case KatalystQosLevel::kReclaimedCores:
        q.profile_index = canonical_index(profiles, kDirtyBestEffort);
        break;
      case KatalystQosLevel::kSystemCores:
      case KatalystQosLevel::kNone:
        system = true;
        break;
    }
  } else if (q.koordinator != KoordinatorQosClass::kNone) {
    q.source = QosSource::kKoordinatorQosClass;
    switch (q.koordinator) {
      case KoordinatorQosClass::kLSE:
      case KoordinatorQosClass::kLSR:
        q.profile_index = canonical_index(profiles, kGreenGuaranteed);
        break;
      case KoordinatorQosClass::kLS:
        q.profile_index = canonical_index(profiles, kMixedBurstable);
        break;
      case KoordinatorQosClass::kBE:
        q.profile_index = canonical_index(profiles, kDirtyBestEffort);
        break;
      case KoordinatorQosClass::kSystem:
      case KoordinatorQosClass::kNone:
        system = true;
        break;
    }
  }
  q.tolerate_high_carbon =
      system || (q.profile_index >= 0 && profiles[q.profile_index].tolerate_high_carbon);
  if (const std::string* v = find_value(pod.annotations, kTolerateHighCarbonAnnotation)) {
    if (*v == "true")
      q.tolerate_high_carbon = true;
    else if (*v == "false")
      q.tolerate_high_carbon = false;
    else
      pod_fail(pod, "annotations", kTolerateHighCarbonAnnotation,
               fmt::format("expected \"true\" or \"false\", got \"{}\"", *v));
  }
  if (const std::string* v = find_value(pod.annotations, kCarbonBudgetAnnotation)) {
    auto bad = [&]() {
      pod_fail(pod, "annotations", kCarbonBudgetAnnotation,
               fmt::format("expected a carbon intensity in gCO2/kWh above 0 (e.g. \"150\"), "
                           "got \"{}\"",
                           *v));
    };
    // Plain decimal only: no spaces, hex, inf or nan.
    if (v->empty() || v->size() > 32 || !std::all_of(v->begin(), v->end(), [](char c) {
          return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+';
        }))
      bad();
    char* end = nullptr;
    errno = 0;
    double budget = std::strtod(v->c_str(), &end);
    if (errno != 0 || *end != '\0' || !std::isfinite(budget) || !(budget > 0.0)) bad();
    q.carbon_budget = budget;
  }
  q.max_intensity =
      q.profile_index >= 0 ? profiles[q.profile_index].carbon_threshold_g_per_kwh : kInf;
  if (q.carbon_budget) q.max_intensity = std::min(q.max_intensity, *q.carbon_budget);
  return q;
}

// ---------------------------------------------------------------------------
// Reconciler

std::string_view to_string(QosDecisionReason reason) noexcept {
  switch (reason) {
    case QosDecisionReason::kFirstAssignment:
      return "first-assignment";
    case QosDecisionReason::kUnchanged:
      return "unchanged";
    case QosDecisionReason::kHeldByBand:
      return "held-by-band";
    case QosDecisionReason::kHeldByDwell:
      return "held-by-dwell";
    case QosDecisionReason::kMovedDirtier:
      return "moved-dirtier";
    case QosDecisionReason::kMovedGreener:
      return "moved-greener";
    case QosDecisionReason::kNoData:
      return "no-data";
    case QosDecisionReason::kNoDataUnassigned:
      return "no-data-unassigned";
  }
  return "unchanged";
}

QosReconciler::QosReconciler(QosReconcilerConfig config) : config_(std::move(config)) {
  Where w("QosReconcilerConfig", "");
  if (!std::isfinite(config_.hysteresis_g_per_kwh) || config_.hysteresis_g_per_kwh < 0.0)
    (w / "hysteresis_g_per_kwh")
        .fail(fmt::format("{} must be finite and >= 0", num(config_.hysteresis_g_per_kwh)));
  if (!(config_.hysteresis_fraction >= 0.0 && config_.hysteresis_fraction < 1.0))
    (w / "hysteresis_fraction")
        .fail(fmt::format("{} must be in [0, 1)", num(config_.hysteresis_fraction)));
  if (config_.min_dwell_seconds < 0)
    (w / "min_dwell_seconds").fail(fmt::format("{} must be >= 0", config_.min_dwell_seconds));
}

double QosReconciler::band(int i) const {
  double t = profiles()[i].carbon_threshold_g_per_kwh;
  return std::max(config_.hysteresis_g_per_kwh, config_.hysteresis_fraction * t);
}

ZoneDecision QosReconciler::decide(std::int64_t now, const ZoneQosInput& in,
                                   const std::optional<ZoneQosState>& state) const {
  const QosProfileSet& set = profiles();
  ZoneDecision d;
  d.zone = in.zone;
  d.intensity_g_per_kwh = in.intensity_g_per_kwh;
  d.usable = in.usable && std::isfinite(in.intensity_g_per_kwh) && in.intensity_g_per_kwh >= 0.0;
  d.previous_index = state ? state->profile_index : -1;
  const double x = in.intensity_g_per_kwh;
  auto name = [&](int i) -> const std::string& { return set[i].name; };
  auto threshold = [&](int i) { return set[i].carbon_threshold_g_per_kwh; };

  if (!d.usable) {
    std::string why = !in.usable ? "marked unusable" : fmt::format("invalid value {}", num(x));
    if (state) {
      d.profile_index = state->profile_index;
      d.since_unix_seconds = state->since_unix_seconds;
      d.reason = QosDecisionReason::kNoData;
      d.detail = fmt::format("no usable intensity ({}): keeps {}", why, name(d.profile_index));
    } else {
      d.reason = QosDecisionReason::kNoDataUnassigned;
      d.detail = fmt::format("no usable intensity ({}) and no profile yet: none assigned", why);
    }
    return d;
  }

  d.raw_index = set.classify(x);
  if (!state) {
    d.profile_index = d.target_index = d.raw_index;
    d.changed = true;
    d.since_unix_seconds = now;
    d.reason = QosDecisionReason::kFirstAssignment;
    d.detail = x <= threshold(d.raw_index)
                   ? fmt::format("first assignment: {} gCO2/kWh is at or under {}'s {}", num(x),
                                 name(d.raw_index), num(threshold(d.raw_index)))
                   : fmt::format("first assignment: {} gCO2/kWh is above every threshold: {}",
                                 num(x), name(d.raw_index));
    return d;
  }

  const int c = state->profile_index;
  const int n = set.size();
  int target = c;
  std::string why;
  if (x > threshold(c) + band(c)) {
    // Dirtier: the greenest profile whose threshold + band the intensity is under.
    target = n - 1;
    for (int i = c + 1; i < n; ++i)
      if (x <= threshold(i) + band(i)) {
        target = i;
        break;
      }
    if (target != c)
      why = fmt::format("{} gCO2/kWh is above {}'s {} + band {} = {}", num(x), name(c),
                        num(threshold(c)), num(band(c)), num(threshold(c) + band(c)));
  } else {
    // Greener: the greenest profile whose threshold - band the intensity is below.
    for (int i = 0; i < c; ++i)
      if (x < threshold(i) - band(i)) {
        target = i;
        why = fmt::format("{} gCO2/kWh is below {}'s {} - band {} = {}", num(x), name(i),
                          num(threshold(i)), num(band(i)), num(threshold(i) - band(i)));
        break;
      }
  }
  d.target_index = target;
  d.previous_index = c;

  if (target == c) {
    d.profile_index = c;
    d.since_unix_seconds = state->since_unix_seconds;
    if (d.raw_index == c) {
      d.reason = QosDecisionReason::kUnchanged;
      d.detail =
          x > threshold(c)
              ? fmt::format("{} gCO2/kWh is above every threshold: stays {}", num(x), name(c))
              : fmt::format("{} gCO2/kWh is within {} (threshold {}): unchanged", num(x), name(c),
                            num(threshold(c)));
    } else if (d.raw_index > c) {
      d.reason = QosDecisionReason::kHeldByBand;
      d.detail = fmt::format(
          "{} gCO2/kWh is above {}'s {} but not above {} + band {} = {}: stays {}", num(x), name(c),
          num(threshold(c)), num(threshold(c)), num(band(c)), num(threshold(c) + band(c)), name(c));
    } else {
      const int r = d.raw_index;
      d.reason = QosDecisionReason::kHeldByBand;
      d.detail = fmt::format(
          "{} gCO2/kWh is at or under {}'s {} but not below {} - band {} = {}: stays {}", num(x),
          name(r), num(threshold(r)), num(threshold(r)), num(band(r)), num(threshold(r) - band(r)),
          name(c));
    }
    return d;
  }

  // Elapsed time since the last change, without overflow for any clock
  // values; a clock earlier than the last change counts as not elapsed.
  const std::int64_t since = state->since_unix_seconds;
  const bool forward = now >= since;
  const std::uint64_t elapsed =
      forward ? static_cast<std::uint64_t>(now) - static_cast<std::uint64_t>(since) : 0;
  if (!forward || elapsed < static_cast<std::uint64_t>(config_.min_dwell_seconds)) {
    d.profile_index = c;
    d.since_unix_seconds = since;
    d.reason = QosDecisionReason::kHeldByDwell;
    std::string wait =
        forward ? fmt::format(
                      "only {} s of the {} s minimum dwell have passed since the last "
                      "change",
                      elapsed, config_.min_dwell_seconds)
                : fmt::format("the clock ({}) is before the last change ({})", now, since);
    d.detail =
        fmt::format("{}: would move to {}, but {}: stays {}", why, name(target), wait, name(c));
    return d;
  }
  d.profile_index = target;
  d.changed = true;
  d.since_unix_seconds = now;
  d.reason = target > c ? QosDecisionReason::kMovedDirtier : QosDecisionReason::kMovedGreener;
  d.detail = fmt::format("{}: moves from {} to {}", why, name(c), name(target));
  return d;
}

std::vector<ZoneDecision> QosReconciler::reconcile(std::int64_t now,
                                                   std::span<const ZoneQosInput> zones) {
  std::set<std::string_view> seen;
  for (std::size_t i = 0; i < zones.size(); ++i) {
    if (zones[i].zone.empty())
      throw InvalidInput(fmt::format("reconcile: zones[{}]: empty zone id", i));
    if (!seen.insert(zones[i].zone).second)
      throw InvalidInput(
          fmt::format("reconcile: zones[{}]: zone \"{}\" appears twice", i, zones[i].zone));
  }
  std::vector<ZoneDecision> out;
  out.reserve(zones.size());
  for (const ZoneQosInput& z : zones) {
    auto it = zones_.find(z.zone);
    std::optional<ZoneQosState> st;
    if (it != zones_.end()) st = it->second;
    ZoneDecision d = decide(now, z, st);
    if (d.changed) zones_[z.zone] = ZoneQosState{d.profile_index, d.since_unix_seconds};
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<ZoneQosState> QosReconciler::state(std::string_view zone) const {
  auto it = zones_.find(zone);
  if (it == zones_.end()) return std::nullopt;
  return it->second;
}

void QosReconciler::restore(std::string_view zone, ZoneQosState st) {
  if (zone.empty()) throw InvalidInput("restore: empty zone id");
  if (st.profile_index < 0 || st.profile_index >= profiles().size())
    throw InvalidInput(fmt::format("restore: zone \"{}\": profile index {} is out of range [0, {})",
                                   zone, st.profile_index, profiles().size()));
  zones_[std::string(zone)] = st;
}

bool QosReconciler::forget(std::string_view zone) {
  auto it = zones_.find(zone);
  if (it == zones_.end()) return false;
  zones_.erase(it);
  return true;
}

std::vector<NodeWrite> planned_node_writes(std::span<const ZoneDecision> decisions,
                                           std::span<const NodeZone> nodes,
                                           const QosProfileSet& profiles) {
  std::map<std::string_view, const ZoneDecision*> by_zone;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const ZoneDecision& d = decisions[i];
    if (!by_zone.emplace(d.zone, &d).second)
      throw InvalidInput(
          fmt::format("planned_node_writes: decisions[{}]: zone \"{}\" appears twice", i, d.zone));
    if (d.profile_index >= profiles.size() || d.profile_index < -1)
      throw InvalidInput(fmt::format(
          "planned_node_writes: decisions[{}] (zone \"{}\"): profile index {} is out of range", i,
          d.zone, d.profile_index));
  }
  std::set<std::string_view> seen;
  std::vector<NodeWrite> out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeZone& nz = nodes[i];
    if (nz.node.empty())
      throw InvalidInput(fmt::format("planned_node_writes: nodes[{}]: empty node name", i));
    if (!seen.insert(nz.node).second)
      throw InvalidInput(
          fmt::format("planned_node_writes: nodes[{}]: node \"{}\" appears twice", i, nz.node));
    auto it = by_zone.find(nz.zone);
    if (it == by_zone.end() || it->second->profile_index < 0) continue;
    const ZoneDecision& d = *it->second;
    NodeWrite w;
    w.node = nz.node;
    w.zone = nz.zone;
    w.profile_changed = d.changed;
    w.labels.emplace_back(kQosProfileLabel, profiles[d.profile_index].name);
    if (d.usable)
      w.annotations.emplace_back(kCarbonIntensityAnnotation,
                                 fmt::format("{}", d.intensity_g_per_kwh));
    w.annotations.emplace_back(kQosUpdatedAnnotation, format_rfc3339(d.since_unix_seconds));
    std::sort(w.annotations.begin(), w.annotations.end());
    Json patch = Json::object();
    Json& meta = patch["metadata"];
    meta = Json::object();
    for (const auto& [k, v] : w.labels) meta["labels"][k] = v;
    for (const auto& [k, v] : w.annotations) meta["annotations"][k] = v;
    w.merge_patch = patch.dump();
    out.push_back(std::move(w));
  }
  return out;
}

CARBONKUBE_NAMESPACE_END
