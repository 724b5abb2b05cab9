// carbonkube/qos.hpp: carbon-aware QoS profiles (green-guaranteed,
// mixed-burstable, dirty-besteffort), how they are configured (the
// CarbonProfile custom resource carbon.katalyst.io/v1alpha1 and the Helm
// values `katalyst.qosProfiles`), which profile a pod asks for (carbon-kube.io,
// Katalyst and Koordinator annotations and labels), and the zone reconciler
// that gives each carbon zone a profile with hysteresis and a minimum dwell
// time, plus the node labels and annotations a controller would write for it.
// Cold path: strings and allocation are fine here; see docs/qos.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

// ---------------------------------------------------------------------------
// Profiles

/// How eagerly pods of a profile are moved when their zone gets dirtier.
enum class MigrationPolicy : std::uint8_t { kAggressive, kConservative, kDisabled };

/// "aggressive", "conservative", "disabled".
std::string_view to_string(MigrationPolicy policy) noexcept;

struct QosProfile {
  /// A valid label value (it is written as the node label carbon-kube.io/qos-profile).
  std::string name;
  /// The highest grid carbon intensity (gCO2/kWh) this profile accepts.
  double carbon_threshold_g_per_kwh = 0.0;
  /// Fraction of the request the profile guarantees, 0..1 (the seed's percent / 100).
  double resource_guarantee = 1.0;
  std::int32_t priority = 0;
  /// The threshold is a preference, not a limit: pods may run above it.
  bool tolerate_high_carbon = false;
  MigrationPolicy migration = MigrationPolicy::kDisabled;
  /// Target power usage effectiveness of the data centres it prefers (>= 1).
  double pue_target = 1.0;
};

inline constexpr std::string_view kGreenGuaranteed = "green-guaranteed";
inline constexpr std::string_view kMixedBurstable = "mixed-burstable";
inline constexpr std::string_view kDirtyBestEffort = "dirty-besteffort";

/// Profiles ordered from greenest to dirtiest; thresholds strictly increase.
/// Immutable once built; every constructor validates.
class QosProfileSet {
 public:
  /// The seed's three profiles (docs/qos.md): green-guaranteed 100 gCO2/kWh,
  /// 100 %, priority 1000, migration disabled, PUE 1.2; mixed-burstable 300,
  /// 80 %, 500, conservative, PUE 1.4; dirty-besteffort 500, 50 %, 100,
  /// aggressive, tolerates high carbon, PUE 1.6.
  static QosProfileSet defaults();

  /// Validates: at least one profile, unique names that are valid label
  /// values, finite thresholds > 0 strictly increasing, guarantees in 0..1,
  /// finite PUE targets >= 1. Throws InvalidInput naming `source` and the
  /// profile's field.
  explicit QosProfileSet(std::vector<QosProfile> profiles,
                         std::string_view source = "QosProfileSet");

  std::span<const QosProfile> profiles() const { return profiles_; }
  int size() const { return static_cast<int>(profiles_.size()); }
  const QosProfile& operator[](int index) const {
    return profiles_[static_cast<std::size_t>(index)];
  }
  /// Index of the profile with this name, or -1.
  int find(std::string_view name) const;
  /// The greenest profile whose threshold `intensity` is at or under; the
  /// dirtiest profile when it is above every threshold. No hysteresis.
  int classify(double intensity_g_per_kwh) const;

 private:
  std::vector<QosProfile> profiles_;
};

/// QosProfileSet::defaults(), built once.
const QosProfileSet& default_qos_profiles();

// ---------------------------------------------------------------------------
// CarbonProfile (carbon.katalyst.io/v1alpha1) and the Helm values

struct CarbonBudget {
  double daily_limit_kg = 100.0;       // spec.carbonBudget.dailyLimit, kg CO2 per day
  double threshold_g_per_kwh = 300.0;  // spec.carbonBudget.threshold: above it is "dirty"
  double green_threshold_g_per_kwh =
      100.0;  // spec.carbonBudget.greenThreshold: below it is "green"
};

struct MigrationSettings {
  bool enabled = true;
  std::string strategy = "carbon-aware";  // the only strategy defined so far
  double cooldown_seconds = 300.0;        // cooldownPeriod, a Go duration ("5m")
  std::int32_t max_per_hour = 10;         // maxMigrationsPerHour
};

struct CarbonProfile {
  std::string name;
  std::string namespace_name = "default";
  CarbonBudget budget;
  QosProfileSet profiles = QosProfileSet::defaults();
  MigrationSettings migration;
};

/// Parses one CarbonProfile object (YAML or JSON, exactly one document).
/// spec is strict: unknown fields are errors. Absent fields and absent
/// qosMapping entries take the seed's defaults (priority, migration policy,
/// PUE and tolerance always come from the defaults: the CRD does not carry
/// them). Throws InvalidInput naming `source` and the field.
CarbonProfile parse_carbon_profile(std::string_view text, std::string_view source,
                                   const ParseLimits& limits = {});

/// Parses the profiles from Helm values (YAML or JSON):
/// katalyst.qosProfiles.{greenGuaranteed,mixedBurstable,dirtyBestEffort}.
/// {carbonThreshold, resourceGuarantee (percent), priority, migrationEnabled}
/// plus the carbonkube extensions migrationPolicy, pueTarget,
/// tolerateHighCarbon. Everything under katalyst.qosProfiles is strict;
/// other values are the chart's business and are ignored. Absent profiles and
/// fields take the seed's defaults. Throws InvalidInput naming the field.
QosProfileSet parse_helm_qos_profiles(std::string_view text, std::string_view source,
                                      const ParseLimits& limits = {});

/// Parses a Go duration ("300ms", "5m", "1h30m", "1.5h", "0"); returns seconds.
/// Throws InvalidInput (the message quotes the text) on bad syntax or overflow.
double parse_go_duration(std::string_view text);

// ---------------------------------------------------------------------------
// Pod -> requested profile

/// Annotations and labels carbonkube reads and writes.
inline constexpr std::string_view kQosProfileAnnotation = "carbon-kube.io/qos-profile";
inline constexpr std::string_view kTolerateHighCarbonAnnotation =
    "carbon-kube.io/tolerate-high-carbon";
inline constexpr std::string_view kCarbonBudgetAnnotation = "carbon-kube.io/carbon-budget";
/// The annotation the seed design's integration test puts on its pod; read
/// as an alias of carbon-kube.io/qos-profile (which wins when both are set).
inline constexpr std::string_view kSeedQosClassAnnotation = "katalyst.io/qos-class";
inline constexpr std::string_view kKatalystQosLevelKey = "katalyst.kubewharf.io/qos_level";
inline constexpr std::string_view kKatalystMemoryEnhancementKey =
    "katalyst.kubewharf.io/memory_enhancement";
inline constexpr std::string_view kKatalystNumaNumberKey = "katalyst.kubewharf.io/numa_number";
inline constexpr std::string_view kKoordinatorQosClassLabel = "koordinator.sh/qosClass";
/// Node label and annotations written by the reconciler's controller.
inline constexpr std::string_view kQosProfileLabel = "carbon-kube.io/qos-profile";
inline constexpr std::string_view kCarbonIntensityAnnotation = "carbon-kube.io/carbon-intensity";
inline constexpr std::string_view kQosUpdatedAnnotation = "carbon-kube.io/qos-updated";

enum class KatalystQosLevel : std::uint8_t {
  kNone,  // no katalyst.kubewharf.io/qos_level
  kDedicatedCores,
  kSharedCores,
  kReclaimedCores,
  kSystemCores,
};
/// "" (kNone), "dedicated_cores", "shared_cores", "reclaimed_cores", "system_cores".
std::string_view to_string(KatalystQosLevel level) noexcept;
/// The level named by `text` (exactly as Katalyst spells it), or nullopt.
std::optional<KatalystQosLevel> parse_katalyst_qos_level(std::string_view text) noexcept;

enum class KoordinatorQosClass : std::uint8_t { kNone, kLSE, kLSR, kLS, kBE, kSystem };
/// "" (kNone), "LSE", "LSR", "LS", "BE", "SYSTEM".
std::string_view to_string(KoordinatorQosClass qos_class) noexcept;
std::optional<KoordinatorQosClass> parse_koordinator_qos_class(std::string_view text) noexcept;

/// NUMA zones per node that carbonkube handles (Katalyst rejects NUMA ids
/// above 63: pkg/scheduler/plugins/noderesourcetopology maxNUMAId); also the
/// largest katalyst.kubewharf.io/numa_number.
inline constexpr std::size_t kMaxNumaZones = 64;

/// A pod's Katalyst NUMA options, from two annotations:
/// - katalyst.kubewharf.io/memory_enhancement, a JSON object of strings such
///   as {"numa_binding":"true","numa_exclusive":"true"}. Katalyst reads it as
///   map[string]string, so every value must be a string; numa_binding and
///   numa_exclusive must be "true" or "false". Other keys (oom_priority,
///   rss_overuse_threshold, ...) are ignored.
/// - katalyst.kubewharf.io/numa_number, an integer 0..kMaxNumaZones.
/// An empty annotation counts as absent.
struct KatalystMemoryEnhancement {
  bool present = false;  // memory_enhancement was set
  bool numa_binding = false;
  /// As written; Katalyst's IsPodNumaExclusive also needs numa_binding and
  /// dedicated_cores (pod_topology_request applies that).
  bool numa_exclusive = false;
  /// katalyst.kubewharf.io/numa_number when set: the exact number of NUMA
  /// zones to bind to (0: any).
  std::optional<std::int32_t> numa_number;
};

/// Where a pod's profile came from, highest precedence first.
enum class QosSource : std::uint8_t {
  kNone,                  // nothing asked for: profile_index -1
  kCarbonKubeAnnotation,  // carbon-kube.io/qos-profile
  kSeedQosClass,          // katalyst.io/qos-class (the seed's alias)
  kKatalystQosLevel,      // katalyst.kubewharf.io/qos_level
  kKoordinatorQosClass,   // koordinator.sh/qosClass
};
std::string_view to_string(QosSource source) noexcept;

struct PodCarbonQos {
  /// Index into the profile set; -1 when the pod asks for no profile.
  int profile_index = -1;
  /// The highest intensity (gCO2/kWh) the pod accepts: the profile's
  /// threshold capped by carbon-kube.io/carbon-budget; +inf when neither.
  double max_intensity = std::numeric_limits<double>::infinity();
  /// The pod may run above max_intensity (a preference, not a limit).
  bool tolerate_high_carbon = false;
  QosSource source = QosSource::kNone;
  KatalystQosLevel level = KatalystQosLevel::kNone;
  KoordinatorQosClass koordinator = KoordinatorQosClass::kNone;
  std::optional<double> carbon_budget;  // carbon-kube.io/carbon-budget
  KatalystMemoryEnhancement memory;
};

/// The pod's Katalyst QoS level: the annotation katalyst.kubewharf.io/qos_level,
/// else the label of the same name. Throws InvalidInput naming the pod and the
/// key on an unknown value.
KatalystQosLevel katalyst_qos_level(const Pod& pod);
/// The label koordinator.sh/qosClass. Throws InvalidInput on an unknown value.
KoordinatorQosClass koordinator_qos_class(const Pod& pod);
/// Parses katalyst.kubewharf.io/memory_enhancement and
/// katalyst.kubewharf.io/numa_number (see KatalystMemoryEnhancement). Throws
/// InvalidInput naming the pod, the annotation and the key on malformed JSON,
/// a non-string value, a flag other than "true"/"false" or a bad numa_number.
KatalystMemoryEnhancement katalyst_memory_enhancement(const Pod& pod);

/// The carbon QoS a pod asks for. Precedence: carbon-kube.io/qos-profile,
/// then its alias katalyst.io/qos-class, then Katalyst's qos_level (dedicated_cores ->
/// green-guaranteed, shared_cores -> mixed-burstable, reclaimed_cores -> dirty-besteffort,
/// system_cores -> no profile, tolerant), then Koordinator's qosClass (LSE,
/// LSR -> green-guaranteed, LS -> mixed-burstable, BE -> dirty-besteffort,
/// SYSTEM -> no profile, tolerant). carbon-kube.io/tolerate-high-carbon
/// ("true"/"false") overrides the tolerance. Throws InvalidInput naming the
/// pod and the annotation or label on a bad value. See docs/qos.md.
PodCarbonQos pod_carbon_qos(const Pod& pod, const QosProfileSet& profiles = default_qos_profiles());

// ---------------------------------------------------------------------------
// Zone reconciler

struct QosReconcilerConfig {
  QosProfileSet profiles = QosProfileSet::defaults();
  /// Hysteresis band around each threshold T, in gCO2/kWh:
  /// max(hysteresis_g_per_kwh, hysteresis_fraction * T). Defaults: 20 and 0.
  double hysteresis_g_per_kwh = 20.0;
  double hysteresis_fraction = 0.0;
  /// No change sooner than this after the last change (not for the first assignment).
  std::int64_t min_dwell_seconds = 15 * 60;
};

/// One zone's carbon signal for a reconcile round.
struct ZoneQosInput {
  std::string zone;
  double intensity_g_per_kwh = 0.0;
  /// False for missing, stale or estimated-beyond-trust data. Non-finite or
  /// negative intensities are treated as unusable too.
  bool usable = true;
};

enum class QosDecisionReason : std::uint8_t {
  kFirstAssignment,   // first usable data for the zone
  kUnchanged,         // the intensity is within the current profile's range
  kHeldByBand,        // a different profile's range, but not past the band
  kHeldByDwell,       // past the band, but the minimum dwell has not elapsed
  kMovedDirtier,      // above the current threshold + band
  kMovedGreener,      // below the target threshold - band
  kNoData,            // unusable data: the current profile is kept
  kNoDataUnassigned,  // unusable data and no profile yet: none is assigned
};
/// "first-assignment", "unchanged", "held-by-band", "held-by-dwell",
/// "moved-dirtier", "moved-greener", "no-data", "no-data-unassigned".
std::string_view to_string(QosDecisionReason reason) noexcept;

struct ZoneDecision {
  std::string zone;
  int profile_index = -1;   // the profile the zone should have; -1 only with kNoDataUnassigned
  int previous_index = -1;  // before this round; -1 when the zone had none
  bool changed = false;
  QosDecisionReason reason = QosDecisionReason::kNoDataUnassigned;
  /// What the intensity alone gives (QosProfileSet::classify); -1 without usable data.
  int raw_index = -1;
  /// Where the band rule alone would put the zone (differs from profile_index
  /// only when held by dwell); -1 without usable data.
  int target_index = -1;
  double intensity_g_per_kwh = std::numeric_limits<double>::quiet_NaN();
  bool usable = false;
  std::int64_t since_unix_seconds = 0;  // when profile_index was assigned
  std::string detail;                   // one readable sentence with the numbers
};

struct ZoneQosState {
  int profile_index = -1;
  std::int64_t since_unix_seconds = 0;
};

/// Gives each carbon zone a QoS profile. Deterministic: the decision depends
/// only on the configuration, the zone's state and the inputs. Not
/// thread-safe (one controller loop owns it).
class QosReconciler {
 public:
  /// Validates the configuration (band and fraction finite and >= 0,
  /// fraction < 1, dwell >= 0); throws InvalidInput naming the field.
  explicit QosReconciler(QosReconcilerConfig config = {});

  const QosReconcilerConfig& config() const { return config_; }
  const QosProfileSet& profiles() const { return config_.profiles; }
  /// The hysteresis band around profile i's threshold.
  double band(int profile_index) const;

  /// One round at time `now` (Unix seconds). Returns a decision per input, in
  /// input order; zones not in the input keep their state. Throws
  /// InvalidInput (before changing any state) when a zone appears twice or
  /// a zone id is empty.
  std::vector<ZoneDecision> reconcile(std::int64_t now_unix_seconds,
                                      std::span<const ZoneQosInput> zones);

  std::optional<ZoneQosState> state(std::string_view zone) const;
  /// Seeds a zone's state, e.g. from the labels a previous run wrote.
  void restore(std::string_view zone, ZoneQosState state);
  bool forget(std::string_view zone);
  std::size_t zone_count() const { return zones_.size(); }

 private:
  ZoneDecision decide(std::int64_t now, const ZoneQosInput& in,
                      const std::optional<ZoneQosState>& state) const;

  QosReconcilerConfig config_;
  std::map<std::string, ZoneQosState, std::less<>> zones_;
};

/// A node and the carbon zone it is in.
struct NodeZone {
  std::string node;
  std::string zone;
};

/// What a controller would write to one node (plain data; nothing is written).
struct NodeWrite {
  std::string node;
  std::string zone;
  bool profile_changed = false;  // the zone's profile changed this round
  StringMap labels;              // to set, sorted by key
  StringMap annotations;         // to set, sorted by key
  /// The same as a JSON merge patch: {"metadata":{"labels":{..},"annotations":{..}}}.
  std::string merge_patch;
};

/// For every node whose zone has a decision with a profile: the label
/// carbon-kube.io/qos-profile=<name>, the annotation carbon-kube.io/qos-updated
/// (RFC 3339, UTC: when the profile was assigned) and, when this round's data
/// was usable, carbon-kube.io/carbon-intensity. Nodes in zones without a
/// decision or without a profile are left out. Output in `nodes` order.
/// Throws InvalidInput on duplicate nodes or zones, or an out-of-range profile.
std::vector<NodeWrite> planned_node_writes(std::span<const ZoneDecision> decisions,
                                           std::span<const NodeZone> nodes,
                                           const QosProfileSet& profiles);

CARBONKUBE_NAMESPACE_END
