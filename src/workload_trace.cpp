// Workload traces: the arrival_time,length,cpus CSV and a seeded generator.
#include "carbonkube/workload_trace.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <random>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "document.hpp"

CARBONKUBE_NAMESPACE_BEGIN

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::array<double, 5> kAzureCpus = {2, 4, 8, 24, 30};
// Shares of the sizes above in the bundled Azure trace (rounded).
constexpr std::array<double, 5> kAzureCpuShares = {0.30, 0.45, 0.15, 0.05, 0.05};
constexpr double kMinLengthHours = 5.0 / 60.0;
constexpr double kPi = 3.14159265358979323846;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (true) {
    const std::size_t c = line.find(',', pos);
    out.push_back(trim(line.substr(pos, c == std::string_view::npos ? line.npos : c - pos)));
    if (c == std::string_view::npos) break;
    pos = c + 1;
  }
  return out;
}

double number(std::string_view text, std::string_view source, std::size_t line,
              std::string_view column) {
  double d = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || !std::isfinite(d))
    throw InvalidInput(
        fmt::format("{}: line {}: {}: \"{}\" is not a finite number", source, line, column, text));
  return d;
}

// A uniform double in [0, 1) from 53 bits: the same on every platform.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::vector<TraceJob> parse_workload_csv(std::string_view text, std::string_view source,
                                         const ParseLimits& limits) {
  detail::check_input_size(text, source, limits);
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  std::vector<TraceJob> jobs;
  std::size_t pos = 0, line_no = 0;
  std::size_t col_arrival = 0, col_length = 0, col_cpus = 0, ncols = 0;
  bool header = false;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    const std::string_view line = trim(text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::vector<std::string_view> f = split(line);
    if (!header) {
      constexpr std::size_t kMissing = static_cast<std::size_t>(-1);
      std::size_t a = kMissing, l = kMissing, c = kMissing;
      for (std::size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "arrival_time") a = i;
        if (f[i] == "length") l = i;
        if (f[i] == "cpus") c = i;
      }
      for (auto [idx, name] :
           {std::pair{a, "arrival_time"}, std::pair{l, "length"}, std::pair{c, "cpus"}})
        if (idx == kMissing)
          throw InvalidInput(
              fmt::format("{}: line {}: the header has no column \"{}\"", source, line_no, name));
      col_arrival = a;
      col_length = l;
      col_cpus = c;
      ncols = std::max({a, l, c}) + 1;
      header = true;
      continue;
    }
    if (f.size() < ncols)
      throw InvalidInput(fmt::format("{}: line {}: {} fields, expected at least {}", source,
                                     line_no, f.size(), ncols));
    TraceJob j{number(f[col_arrival], source, line_no, "arrival_time"),
               number(f[col_length], source, line_no, "length"),
               number(f[col_cpus], source, line_no, "cpus")};
    if (j.arrival_hours < 0)
      throw InvalidInput(
          fmt::format("{}: line {}: arrival_time must be >= 0 hours", source, line_no));
    if (j.length_hours <= 0)
      throw InvalidInput(fmt::format("{}: line {}: length must be > 0 hours", source, line_no));
    if (j.cpus <= 0)
      throw InvalidInput(fmt::format("{}: line {}: cpus must be > 0", source, line_no));
    if (jobs.size() >= limits.max_objects)
      throw Error(ErrorKind::kLimitExceeded,
                  fmt::format("{}: line {}: more than the limit of {} jobs (max_objects)", source,
                              line_no, limits.max_objects));
    jobs.push_back(j);
  }
  if (!header) throw InvalidInput(fmt::format("{}: empty (no header)", source));
  if (jobs.empty()) throw InvalidInput(fmt::format("{}: no jobs after the header", source));
  if (!std::is_sorted(jobs.begin(), jobs.end(), [](const TraceJob& x, const TraceJob& y) {
        return x.arrival_hours < y.arrival_hours;
      }))
    std::stable_sort(jobs.begin(), jobs.end(), [](const TraceJob& x, const TraceJob& y) {
      return x.arrival_hours < y.arrival_hours;
    });
  return jobs;
}

std::vector<TraceJob> load_workload_csv(const std::string& path, const ParseLimits& limits) {
  return parse_workload_csv(read_file(path, limits), path, limits);
}

std::vector<TraceJob> synthetic_trace(const SyntheticTraceOptions& o) {
  if (o.jobs == 0) throw InvalidInput("synthetic trace: jobs must be > 0");
  if (!(o.hours > 0) || !std::isfinite(o.hours))
    throw InvalidInput("synthetic trace: hours must be finite and > 0");
  if (!(o.diurnal_amplitude >= 0 && o.diurnal_amplitude <= 1))
    throw InvalidInput("synthetic trace: diurnal_amplitude must be in [0, 1]");
  if (!(o.mean_length_hours > 0) || !std::isfinite(o.mean_length_hours) ||
      !(o.max_length_hours >= kMinLengthHours) || !std::isfinite(o.max_length_hours))
    throw InvalidInput(
        "synthetic trace: mean_length_hours must be > 0 and max_length_hours >= 5 minutes");
  std::mt19937_64 rng(o.seed);
  std::vector<TraceJob> jobs(o.jobs);
  for (TraceJob& j : jobs) {
    // Arrival: rejection sampling of 1 + a·sin(2π t / 24) (peak mid-day).
    double t = 0;
    do {
      t = uniform(rng) * o.hours;
    } while (uniform(rng) * (1 + o.diurnal_amplitude) >
             1 + o.diurnal_amplitude * std::sin(2 * kPi * (t - 6) / 24));
    j.arrival_hours = t;
    const double len = -std::log1p(-uniform(rng)) * o.mean_length_hours;
    j.length_hours = std::clamp(len, kMinLengthHours, o.max_length_hours);
    double u = uniform(rng);
    j.cpus = kAzureCpus.back();
    for (std::size_t k = 0; k < kAzureCpus.size(); ++k) {
      if (u < kAzureCpuShares[k]) {
        j.cpus = kAzureCpus[k];
        break;
      }
      u -= kAzureCpuShares[k];
    }
  }
  std::sort(jobs.begin(), jobs.end(),
            [](const TraceJob& x, const TraceJob& y) { return x.arrival_hours < y.arrival_hours; });
  return jobs;
}

CARBONKUBE_NAMESPACE_END
