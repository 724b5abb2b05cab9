// Fuzz target: workload traces (parse_workload_csv: the arrival_time,length,
// cpus CSV the simulator and `carbonkube plan --trace` replay). Oracles: a
// parsed trace is non-empty, sorted by arrival, and every job is finite with
// arrival >= 0, length > 0 and cpus > 0.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "carbonkube/workload_trace.hpp"
#include "fuzz_common.hpp"

using namespace carbonkube;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = ck_fuzz::as_text(data, size);
  std::vector<TraceJob> jobs;
  if (!ck_fuzz::expect_ok_or_error([&] { jobs = parse_workload_csv(text, ck_fuzz::kSource); }))
    return 0;
  ck_fuzz::check(!jobs.empty(), "an accepted trace without jobs");
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const TraceJob& j = jobs[i];
    ck_fuzz::check(std::isfinite(j.arrival_hours) && j.arrival_hours >= 0, "arrival < 0");
    ck_fuzz::check(std::isfinite(j.length_hours) && j.length_hours > 0, "length <= 0");
    ck_fuzz::check(std::isfinite(j.cpus) && j.cpus > 0, "cpus <= 0");
    if (i > 0) ck_fuzz::check(jobs[i - 1].arrival_hours <= j.arrival_hours, "not sorted");
  }
  return 0;
}
