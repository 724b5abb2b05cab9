// carbonkube/migration.hpp: the migration advisor. For running pods it
// estimates, over a horizon, the emissions of staying in the current zone
// against moving to each other zone (restart time and redone work included,
// paid in the destination), and recommends the best move when the net saving
// clears the pod's migration policy (aggressive / conservative / disabled,
// qos.hpp), the pod's cooldown has passed and the cluster's hourly limit has
// room (CarbonProfile spec.migrationPolicy: enabled, cooldownPeriod,
// maxMigrationsPerHour). Every candidate gets a recommendation with the
// numbers behind it, recommended or not.
//
// Who calls it: a controller loop every few minutes with zone forecasts
// (planner.hpp IntensityCurve from forecast.hpp). The advisor never moves a
// pod; the host calls record_migration() when it does. Not thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/planner.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// A running pod that could move.
struct MigrationCandidate {
  std::string pod;      // "namespace/name"
  std::string zone;     // its grid zone now
  double power_kw = 0;  // facility power (energy.hpp); assumed the same after a move
  /// Expected remaining run time; the horizon is the smaller of this and
  /// MigrationOptions::horizon_seconds.
  std::int64_t remaining_seconds = 0;
  /// Start-up time in the destination (scheduling, image pull, warm-up):
  /// drawn at full power without progress.
  std::int64_t restart_seconds = 60;
  /// Work since the last checkpoint, redone in the destination.
  std::int64_t lost_work_seconds = 0;
  MigrationPolicy policy = MigrationPolicy::kConservative;  // of the pod's QoS profile
};

/// A zone's expected intensity from now on.
struct ZoneOutlook {
  std::string zone;
  const IntensityCurve* curve = nullptr;  // not owned; must outlive advise()
};

struct MigrationOptions {
  MigrationSettings settings;  // enabled, cooldown_seconds, max_per_hour
  std::int64_t horizon_seconds = 6 * 3600;
  /// Least net saving, as a fraction of staying, per policy.
  double aggressive_min_fraction = 0.05;
  double conservative_min_fraction = 0.25;
  double min_saving_g = 1.0;  // and at least this many grams
};

/// The advisor's options from a CarbonProfile: spec.migrationPolicy
/// (enabled, cooldownPeriod, maxMigrationsPerHour); the rest default.
MigrationOptions migration_options(const CarbonProfile& profile);
/// The migration policy of the pod's carbon QoS profile (pod_carbon_qos);
/// kConservative when the pod asks for no profile. Throws InvalidInput on
/// the pod's malformed QoS annotations.
MigrationPolicy migration_policy(const Pod& pod,
                                 const QosProfileSet& profiles = default_qos_profiles());

enum class MigrationReason : std::uint8_t {
  kRecommended,
  kMigrationDisabled,  // spec.migrationPolicy.enabled is false
  kPolicyDisabled,     // the pod's profile has migration disabled
  kNoOutlook,          // no usable curve for the pod's zone over the horizon
  kNoGreenerZone,      // no other zone saves anything
  kSavingTooSmall,     // the best move does not clear the policy's threshold
  kCooldown,           // the pod moved less than cooldownPeriod ago
  kRateLimited,        // maxMigrationsPerHour reached
  kFinished,           // nothing left to run
};
std::string_view to_string(MigrationReason reason) noexcept;

struct MigrationRecommendation {
  std::string pod;
  std::string from_zone;
  std::string to_zone;  // the best destination ("" when none was found)
  bool recommended = false;
  MigrationReason reason = MigrationReason::kNoGreenerZone;
  std::int64_t horizon_seconds = 0;
  double stay_g = 0;           // emissions of staying over the horizon
  double move_g = 0;           // of moving: restart + redone work + the horizon's work
  double move_cost_g = 0;      // the restart and redone-work part of move_g
  double net_saving_g = 0;     // stay_g − move_g
  double saving_fraction = 0;  // net_saving_g / stay_g (0 when stay_g is 0)
  std::string detail;          // one sentence with the numbers
};

class MigrationAdvisor {
 public:
  /// Throws InvalidInput naming the field unless the horizon is > 0, the
  /// fractions and min_saving_g finite and >= 0, cooldown >= 0,
  /// max_per_hour >= 0 and the strategy "carbon-aware" (the only one).
  explicit MigrationAdvisor(MigrationOptions options = {});
  const MigrationOptions& options() const { return options_; }

  /// One round at `now`: a recommendation per candidate, in input order.
  /// Recommended moves are granted the hourly limit's room in order of net
  /// saving (largest first). Throws InvalidInput on a candidate with an empty
  /// pod or zone, a duplicate pod, power NaN/inf/negative or negative times,
  /// or an outlook with a null curve or a duplicate zone.
  std::vector<MigrationRecommendation> advise(std::int64_t now,
                                              std::span<const MigrationCandidate> candidates,
                                              std::span<const ZoneOutlook> zones) const;

  /// The host moved `pod` at `t`: starts its cooldown and counts against
  /// the hourly limit.
  void record_migration(std::string_view pod, std::int64_t t);
  /// Migrations recorded in (now − 1 h, now].
  int migrations_in_last_hour(std::int64_t now) const;

 private:
  MigrationOptions options_;
  std::map<std::string, std::int64_t, std::less<>> last_move_;
  std::deque<std::int64_t> moves_;  // times, ascending (trimmed to the last day)
};

CARBONKUBE_NAMESPACE_END
