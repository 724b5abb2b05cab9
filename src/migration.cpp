// The migration advisor: stay-versus-move emissions over a horizon, policy
// thresholds, per-pod cooldown and the hourly rate limit.
#include "carbonkube/migration.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "carbonkube/error.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kKeepHistory = 86400;

bool covers(const IntensityCurve* c, std::int64_t a, std::int64_t b) {
  return c && a >= c->start() && b <= c->end();
}

double grams(const IntensityCurve& c, double kw, std::int64_t a, std::int64_t b) {
  return kw * c.integral(a, b) / 3600.0;
}

}  // namespace

std::string_view to_string(MigrationReason reason) noexcept {
  switch (reason) {
    case MigrationReason::kRecommended:
      return "recommended";
    case MigrationReason::kMigrationDisabled:
      return "migration-disabled";
    case MigrationReason::kPolicyDisabled:
      return "policy-disabled";
    case MigrationReason::kNoOutlook:
      return "no-outlook";
    case MigrationReason::kNoGreenerZone:
      return "no-greener-zone";
    case MigrationReason::kSavingTooSmall:
      return "saving-too-small";
    case MigrationReason::kCooldown:
      return "cooldown";
    case MigrationReason::kRateLimited:
      return "rate-limited";
    case MigrationReason::kFinished:
      return "finished";
  }
  return "unknown";
}

MigrationAdvisor::MigrationAdvisor(MigrationOptions options) : options_(std::move(options)) {
  auto check = [](double v, std::string_view field) {
    if (!std::isfinite(v) || v < 0)
      throw InvalidInput(
          fmt::format("migration options: {} is {}: must be finite and >= 0", field, v));
  };
  if (options_.horizon_seconds <= 0)
    throw InvalidInput(fmt::format("migration options: horizon_seconds is {}: must be > 0",
                                   options_.horizon_seconds));
  check(options_.aggressive_min_fraction, "aggressive_min_fraction");
  check(options_.conservative_min_fraction, "conservative_min_fraction");
  check(options_.min_saving_g, "min_saving_g");
  check(options_.settings.cooldown_seconds, "cooldownPeriod");
  if (options_.settings.strategy != "carbon-aware")
    throw InvalidInput(fmt::format(
        "migration options: strategy \"{}\" is unknown (the only strategy is carbon-aware)",
        options_.settings.strategy));
  if (options_.settings.max_per_hour < 0)
    throw InvalidInput(fmt::format("migration options: maxMigrationsPerHour is {}: must be >= 0",
                                   options_.settings.max_per_hour));
}

MigrationOptions migration_options(const CarbonProfile& profile) {
  MigrationOptions o;
  o.settings = profile.migration;
  return o;
}

MigrationPolicy migration_policy(const Pod& pod, const QosProfileSet& profiles) {
  const PodCarbonQos q = pod_carbon_qos(pod, profiles);
  return q.profile_index < 0 ? MigrationPolicy::kConservative : profiles[q.profile_index].migration;
}

void MigrationAdvisor::record_migration(std::string_view pod, std::int64_t t) {
  last_move_.insert_or_assign(std::string(pod), t);
  moves_.insert(std::upper_bound(moves_.begin(), moves_.end(), t), t);
  while (!moves_.empty() && moves_.front() < moves_.back() - kKeepHistory) moves_.pop_front();
}

int MigrationAdvisor::migrations_in_last_hour(std::int64_t now) const {
  return static_cast<int>(std::count_if(
      moves_.begin(), moves_.end(), [now](std::int64_t t) { return t > now - kHour && t <= now; }));
}

std::vector<MigrationRecommendation> MigrationAdvisor::advise(
    std::int64_t now, std::span<const MigrationCandidate> candidates,
    std::span<const ZoneOutlook> zones) const {
  std::map<std::string_view, const IntensityCurve*> curves;
  for (const ZoneOutlook& z : zones) {
    if (z.zone.empty() || !z.curve)
      throw InvalidInput(
          fmt::format("migration advisor: zone outlook \"{}\" has no curve", z.zone));
    if (!curves.emplace(z.zone, z.curve).second)
      throw InvalidInput(fmt::format("migration advisor: zone \"{}\" given twice", z.zone));
  }
  std::set<std::string_view> seen;
  for (const MigrationCandidate& c : candidates) {
    if (c.pod.empty() || c.zone.empty())
      throw InvalidInput(
          fmt::format("migration candidate \"{}\": pod and zone are required", c.pod));
    if (!seen.insert(c.pod).second)
      throw InvalidInput(fmt::format("migration candidate {}: given twice", c.pod));
    if (!std::isfinite(c.power_kw) || c.power_kw < 0)
      throw InvalidInput(
          fmt::format("migration candidate {}: power_kw is {}: must be finite and "
                      ">= 0",
                      c.pod, c.power_kw));
    if (c.remaining_seconds < 0 || c.restart_seconds < 0 || c.lost_work_seconds < 0)
      throw InvalidInput(fmt::format(
          "migration candidate {}: remaining, restart and lost-work seconds must be >= 0", c.pod));
  }

  std::vector<MigrationRecommendation> out(candidates.size());
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const MigrationCandidate& c = candidates[i];
    MigrationRecommendation& r = out[i];
    r.pod = c.pod;
    r.from_zone = c.zone;
    r.horizon_seconds = std::min(c.remaining_seconds, options_.horizon_seconds);
    if (r.horizon_seconds == 0) {
      r.reason = MigrationReason::kFinished;
      r.detail = fmt::format("{}: nothing left to run", c.pod);
      continue;
    }
    auto here = curves.find(c.zone);
    const std::int64_t stay_end = now + r.horizon_seconds;
    if (here == curves.end() || !covers(here->second, now, stay_end)) {
      r.reason = MigrationReason::kNoOutlook;
      r.detail = fmt::format("{}: no intensity outlook for zone {} over the next {} s", c.pod,
                             c.zone, r.horizon_seconds);
      continue;
    }
    r.stay_g = grams(*here->second, c.power_kw, now, stay_end);
    // The best destination by net saving.
    const std::int64_t overhead = c.restart_seconds + c.lost_work_seconds;
    const std::int64_t move_end = stay_end + overhead;
    bool found = false;
    for (const auto& [zone, curve] : curves) {
      if (zone == c.zone || !covers(curve, now, move_end)) continue;
      const double move = grams(*curve, c.power_kw, now, move_end);
      if (!found || r.stay_g - move > r.net_saving_g) {
        found = true;
        r.to_zone = std::string(zone);
        r.move_g = move;
        r.move_cost_g = grams(*curve, c.power_kw, now, now + overhead);
        r.net_saving_g = r.stay_g - move;
      }
    }
    r.saving_fraction = r.stay_g > 0 ? r.net_saving_g / r.stay_g : 0.0;
    const std::string numbers =
        found ? fmt::format(
                    "{} -> {}: stay {:.1f} g, move {:.1f} g (restart and redone work "
                    "{:.1f} g), net saving {:.1f} g ({:.1f}%) over {} s",
                    c.zone, r.to_zone, r.stay_g, r.move_g, r.move_cost_g, r.net_saving_g,
                    100.0 * r.saving_fraction, r.horizon_seconds)
              : fmt::format("{}: stay {:.1f} g over {} s, no other zone has an outlook", c.zone,
                            r.stay_g, r.horizon_seconds);
    const double min_fraction = c.policy == MigrationPolicy::kAggressive
                                    ? options_.aggressive_min_fraction
                                    : options_.conservative_min_fraction;
    if (!options_.settings.enabled) {
      r.reason = MigrationReason::kMigrationDisabled;
    } else if (c.policy == MigrationPolicy::kDisabled) {
      r.reason = MigrationReason::kPolicyDisabled;
    } else if (!found || r.net_saving_g <= 0) {
      r.reason = MigrationReason::kNoGreenerZone;
    } else if (r.saving_fraction < min_fraction || r.net_saving_g < options_.min_saving_g) {
      r.reason = MigrationReason::kSavingTooSmall;
    } else if (auto last = last_move_.find(c.pod);
               last != last_move_.end() &&
               static_cast<double>(now - last->second) < options_.settings.cooldown_seconds) {
      r.reason = MigrationReason::kCooldown;
    } else {
      r.reason = MigrationReason::kRecommended;
      r.recommended = true;
    }
    r.detail = fmt::format("{}: {}; {}", c.pod, to_string(r.reason), numbers);
  }

  // The hourly limit, largest savings first.
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (out[i].recommended) order.push_back(i);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return out[a].net_saving_g > out[b].net_saving_g;
  });
  int room = std::max(0, options_.settings.max_per_hour - migrations_in_last_hour(now));
  for (std::size_t i : order) {
    if (room > 0) {
      --room;
      continue;
    }
    out[i].recommended = false;
    out[i].reason = MigrationReason::kRateLimited;
    out[i].detail = fmt::format("{}: rate-limited (maxMigrationsPerHour {}); {}", out[i].pod,
                                options_.settings.max_per_hour,
                                out[i].detail.substr(out[i].detail.find("; ") + 2));
  }
  return out;
}

CARBONKUBE_NAMESPACE_END
