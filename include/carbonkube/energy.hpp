// carbonkube/energy.hpp: the energy model. A node's power is linear from
// idle to max in its CPU utilisation (per vCPU), plus a constant memory term
// and per-GPU idle-to-max terms, times the site's PUE; its embodied carbon is
// amortised over the hardware's lifetime. attribute() splits one node's power
// among its pods by requested or measured share (Kepler-like), with the idle
// power either spread over the pods or kept as the node's own idle account.
// Defaults are Cloud Carbon Footprint's public coefficients
// (docs/carbon-accounting.md lists them and their sources); node labels or
// annotations override them per node.
//
// Who calls it: the ledger's feeder (a controller sampling pods every
// interval) and the simulator. attribute() allocates nothing when `out` is
// reused.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

// Cloud Carbon Footprint coefficients (average over the provider's
// instance families; SPECpower-derived).
inline constexpr double kCcfAwsMinWattsPerVcpu = 0.74;
inline constexpr double kCcfAwsMaxWattsPerVcpu = 3.5;
inline constexpr double kCcfGcpMinWattsPerVcpu = 0.71;
inline constexpr double kCcfGcpMaxWattsPerVcpu = 4.26;
inline constexpr double kCcfAzureMinWattsPerVcpu = 0.78;
inline constexpr double kCcfAzureMaxWattsPerVcpu = 3.76;
inline constexpr double kCcfMemoryWattsPerGb = 0.392;  // 0.000392 kWh per GB-hour
inline constexpr double kCcfAwsPue = 1.135;
inline constexpr double kCcfGcpPue = 1.1;
inline constexpr double kCcfAzurePue = 1.185;

/// Node labels or annotations (annotation wins) that override the defaults.
inline constexpr std::string_view kPowerIdleWattsPerVcpuKey =
    "carbon-kube.io/power-idle-watts-per-vcpu";
inline constexpr std::string_view kPowerMaxWattsPerVcpuKey =
    "carbon-kube.io/power-max-watts-per-vcpu";
inline constexpr std::string_view kPowerMemoryWattsPerGbKey =
    "carbon-kube.io/power-memory-watts-per-gb";
inline constexpr std::string_view kPowerGpuIdleWattsKey = "carbon-kube.io/power-gpu-idle-watts";
inline constexpr std::string_view kPowerGpuMaxWattsKey = "carbon-kube.io/power-gpu-max-watts";
inline constexpr std::string_view kPueKey = "carbon-kube.io/pue";
inline constexpr std::string_view kEmbodiedKgKey = "carbon-kube.io/embodied-kgco2e";
inline constexpr std::string_view kLifetimeYearsKey = "carbon-kube.io/lifetime-years";

struct NodePowerModel {
  double vcpus = 0;
  double idle_watts_per_vcpu = kCcfAwsMinWattsPerVcpu;
  double max_watts_per_vcpu = kCcfAwsMaxWattsPerVcpu;
  double memory_gb = 0;
  double memory_watts_per_gb = kCcfMemoryWattsPerGb;
  double gpus = 0;
  double gpu_idle_watts = 30.0;  // assumption: a data-centre GPU at rest
  double gpu_max_watts = 300.0;  // assumption: a 300 W board (PCIe A100/V100 class)
  double pue = kCcfAwsPue;       // facility power / IT power, >= 1
  /// Embodied emissions of the whole machine and its lifetime (CCF: 4 years).
  double embodied_kg = 1000.0;
  double lifetime_years = 4.0;

  /// Throws InvalidInput naming `where` and the field unless every value is
  /// finite, >= 0, max >= idle, pue >= 1 and lifetime > 0.
  void validate(std::string_view where) const;
  /// IT power at CPU utilisation u (0..1, clamped) and mean GPU utilisation g.
  double it_watts(double cpu_utilisation, double gpu_utilisation = 0) const;
  /// it_watts × PUE.
  double facility_watts(double cpu_utilisation, double gpu_utilisation = 0) const;
  /// Embodied emissions per hour of the whole machine, gCO2e.
  double embodied_g_per_hour() const;
};

/// The model for a node: vCPUs from allocatable cpu, memory from allocatable
/// memory, GPUs from nvidia.com/gpu or amd.com/gpu; coefficients from `base`
/// overridden by the node's labels and annotations above. Throws InvalidInput
/// naming the node and key on a malformed or out-of-range value.
NodePowerModel node_power_model(const Node& node, const NodePowerModel& base = {});

/// One pod's use of its node over an interval.
struct PodUsage {
  double cpu_cores = 0;        // requested or measured cores
  double memory_gb = 0;        // requested or measured GB
  double gpus = 0;             // GPUs held
  double gpu_utilisation = 0;  // 0..1 over the GPUs held
};

/// A pod's requests as usage (attribution by what it holds): cpu cores and
/// memory GB from its effective request as kube-scheduler computes it
/// (pod_requests, as written), GPUs from nvidia.com/gpu and amd.com/gpu;
/// gpu_utilisation is `gpu_utilisation` (requests say nothing about it).
/// For attribution by measured use, fill PodUsage from metrics instead.
PodUsage requested_usage(const Pod& pod, double gpu_utilisation = 1.0);

/// The pod label (else annotation) naming the tenant its emissions are
/// booked to in the ledger (UsageRecord::tenant); "" when absent.
inline constexpr std::string_view kTenantKey = "carbon-kube.io/tenant";
std::string tenant_of(const Pod& pod);

enum class IdleAttribution : std::uint8_t {
  /// Pods pay for the capacity they hold; the idle power of unused
  /// capacity is the node's own account (Attribution::idle_watts).
  kSeparate,
  /// All of the node's static power is spread over its pods in proportion
  /// to the static power their shares hold (nothing left idle while a pod runs).
  kProportional,
};

struct Attribution {
  double node_watts = 0;          // facility power of the node
  double idle_watts = 0;          // not attributed to any pod
  std::vector<double> pod_watts;  // facility power per pod, in input order
  /// pod_watts[i] share of the node's embodied emissions per hour, gCO2e
  /// (by the same shares as the static power).
  std::vector<double> pod_embodied_g_per_hour;
  double idle_embodied_g_per_hour = 0;
};

/// Splits the node's facility power among `pods`: each pod's dynamic CPU
/// power is its cores × (max − idle) per vCPU (scaled down when the pods'
/// cores exceed the node's), its GPU power its GPUs × utilisation × (max −
/// idle); static power (CPU idle, memory, GPU idle) goes by the pod's share
/// of each resource's capacity. Sum of pod_watts + idle_watts = node_watts.
/// Throws InvalidInput naming the pod index and field on a NaN, infinite or
/// negative usage.
void attribute(const NodePowerModel& model, std::span<const PodUsage> pods, IdleAttribution idle,
               Attribution& out);

CARBONKUBE_NAMESPACE_END
