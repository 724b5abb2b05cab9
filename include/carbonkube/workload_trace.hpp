// carbonkube/workload_trace.hpp: batch workload traces for the trace-driven
// simulator (simulator.hpp): the CSV format of the Azure trace bundled in
// data/workloads/ (arrival_time,length,cpus: hours since the start of the
// carbon data, run time in hours, vCPUs) and a seeded synthetic generator
// with the same shape. Cold path: parsed once, then read by the simulator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "carbonkube/kube.hpp"
#include "carbonkube/version.hpp"

CARBONKUBE_NAMESPACE_BEGIN

/// One batch job: it arrives arrival_hours after the start of the carbon
/// data, runs length_hours and holds cpus vCPUs throughout.
struct TraceJob {
  double arrival_hours = 0;
  double length_hours = 0;
  double cpus = 0;
  friend bool operator==(const TraceJob&, const TraceJob&) = default;
};

/// Parses a CSV whose header names the columns arrival_time, length and cpus
/// (any order, other columns ignored; CRLF or LF; a UTF-8 BOM). Rows are
/// sorted by arrival (stable) when they are not already. Throws InvalidInput
/// naming `source`, the line and the column for a missing column, a short
/// row, a value that is not a finite number, arrival_time < 0, length <= 0,
/// cpus <= 0, or no rows at all; Error(kLimitExceeded) naming the limit for
/// text over limits.max_bytes or more than limits.max_objects rows.
std::vector<TraceJob> parse_workload_csv(std::string_view text, std::string_view source,
                                         const ParseLimits& limits = {});
/// parse_workload_csv on a file's contents (throws Error kIo if unreadable).
std::vector<TraceJob> load_workload_csv(const std::string& path, const ParseLimits& limits = {});

struct SyntheticTraceOptions {
  std::size_t jobs = 10000;
  double hours = 8760;             // arrivals uniform in time over [0, hours), with
  double diurnal_amplitude = 0.5;  // a daily cycle of this relative amplitude (0..1)
  double mean_length_hours = 3.8;  // lengths exponential with this mean,
  double max_length_hours = 72;    // clamped to [5 min, max]
  std::uint64_t seed = 1;
};

/// A seeded synthetic trace (same seed, same jobs on every platform: the
/// generator draws from std::mt19937_64 with its own transforms, not the
/// library's distributions). cpus drawn from the Azure trace's sizes
/// {2, 4, 8, 24, 30}. Throws InvalidInput on a non-positive count or hours,
/// an amplitude outside [0, 1] or a non-positive length.
std::vector<TraceJob> synthetic_trace(const SyntheticTraceOptions& options);

CARBONKUBE_NAMESPACE_END
