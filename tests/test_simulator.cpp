// The trace-driven simulator and workload traces: conservation (every job
// runs once, energy adds up), the oracle never beaten by its forecast-driven
// counterpart (and equal to a brute force over starts), zero slack equals
// the baseline, determinism under a seed, bad inputs, the CLI's report files.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/planner.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/simulator.hpp"
#include "carbonkube/workload_trace.hpp"
#include "cli.hpp"

using namespace carbonkube;

namespace {

const char* const kZones[] = {"US-CAL-CISO", "ES", "NO", "BR"};

std::string zone_file(const std::string& zone) {
  return std::string(CARBONKUBE_SOURCE_DIR) + "/data/carbon/electricitymaps/" + zone +
         "_2023_hourly.csv";
}

const CarbonSignals& bundled() {
  static const CarbonSignals s = [] {
    CarbonSignals out;
    for (const char* z : kZones) {
      const std::string f = zone_file(z);
      out.add(load_electricitymaps_csv(read_file(f), f, IntensityScope::kLifecycle).series);
    }
    return out;
  }();
  return s;
}

std::vector<ClusterZone> cluster(std::vector<std::string> zones, std::size_t nodes) {
  std::vector<ClusterZone> out;
  for (auto& z : zones) {
    ClusterZone c;
    c.zone = z;
    c.nodes = nodes;
    out.push_back(c);
  }
  return out;
}

// A few weeks of synthetic jobs, after the forecasters' warm-up.
std::vector<TraceJob> trace(std::size_t jobs, std::uint64_t seed, double hours = 24 * 40) {
  SyntheticTraceOptions o;
  o.jobs = jobs;
  o.hours = hours;
  o.seed = seed;
  return synthetic_trace(o);
}

PolicyResult run(Simulator& sim, const std::string& name, std::optional<double> slack = {}) {
  auto p = parse_policy(name);
  REQUIRE(p);
  return sim.run(*p, slack);
}

}  // namespace

TEST_CASE("simulator: workload CSV parses the Azure format and refuses bad rows") {
  const auto jobs = parse_workload_csv(
      "\xEF\xBB\xBF"
      "cpus,arrival_time,length\r\n4,1.5,2\n2,0.5,0.25\n",
      "t.csv");
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0] == TraceJob{0.5, 0.25, 2});  // sorted by arrival
  CHECK(jobs[1] == TraceJob{1.5, 2, 4});
  auto err = [](const std::string& text) {
    try {
      parse_workload_csv(text, "w.csv");
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(err("arrival_time,length\n1,2\n").find("no column \"cpus\"") != std::string::npos);
  CHECK(err("arrival_time,length,cpus\n1,nan,2\n").find("line 2: length") != std::string::npos);
  CHECK(err("arrival_time,length,cpus\n-1,1,2\n").find("arrival_time must be >= 0") !=
        std::string::npos);
  CHECK(err("arrival_time,length,cpus\n1,0,2\n").find("length must be > 0") != std::string::npos);
  CHECK(err("arrival_time,length,cpus\n1,1,0\n").find("cpus must be > 0") != std::string::npos);
  CHECK(err("arrival_time,length,cpus\n1,1\n").find("2 fields") != std::string::npos);
  CHECK(err("arrival_time,length,cpus\n").find("no jobs") != std::string::npos);
  CHECK(err("").find("empty") != std::string::npos);

  const auto azure =
      load_workload_csv(std::string(CARBONKUBE_SOURCE_DIR) + "/data/workloads/azure-100k.csv");
  CHECK(azure.size() == 99988);
  double sum = 0;
  for (const TraceJob& j : azure) sum += j.length_hours;
  CHECK(sum / static_cast<double>(azure.size()) == doctest::Approx(3.8).epsilon(0.05));
}

TEST_CASE("simulator: synthetic traces are deterministic under a seed") {
  const auto a = trace(500, 7), b = trace(500, 7), c = trace(500, 8);
  CHECK(a == b);
  CHECK(a != c);
  for (const TraceJob& j : a) {
    CHECK(j.arrival_hours >= 0);
    CHECK(j.arrival_hours < 24 * 40);
    CHECK(j.length_hours > 0);
    CHECK(j.length_hours <= 72);
    CHECK(j.cpus >= 2);
  }
  CHECK(std::is_sorted(a.begin(), a.end(), [](const TraceJob& x, const TraceJob& y) {
    return x.arrival_hours < y.arrival_hours;
  }));
  SyntheticTraceOptions bad;
  bad.jobs = 0;
  CHECK_THROWS_AS(synthetic_trace(bad), InvalidInput);
  bad.jobs = 1;
  bad.diurnal_amplitude = 2;
  CHECK_THROWS_AS(synthetic_trace(bad), InvalidInput);
}

TEST_CASE("simulator: conservation: every job runs exactly once and energy adds up") {
  const auto jobs = trace(3000, 3);
  SimOptions o;
  o.record_jobs = true;
  // A tight cluster (2 nodes of 64 vCPUs per zone) so that jobs wait.
  Simulator sim(bundled(), cluster({"US-CAL-CISO", "ES", "NO", "BR"}, 2), jobs, o);
  double energy = -1;
  for (const SimPolicy& p : standard_policies()) {
    CAPTURE(p.name);
    const PolicyResult r = sim.run(p);
    REQUIRE(r.jobs + r.excluded == jobs.size());
    REQUIRE(r.jobs_out.size() == r.jobs);
    double kwh = 0, g = 0;
    std::size_t misses = 0;
    for (std::size_t i = 0; i < r.jobs_out.size(); ++i) {
      const JobOutcome& out = r.jobs_out[i];
      const TraceJob& t = jobs[i];
      const std::int64_t arrival = sim.start() + std::llround(t.arrival_hours * 3600);
      const std::int64_t duration = std::llround(t.length_hours * 3600);
      CHECK(out.start >= arrival);
      CHECK(out.end - out.start == duration);
      // Facility power: cpus x max W per vCPU x PUE (CCF), attributed by request.
      CHECK(out.kwh == doctest::Approx(t.cpus * kCcfAwsMaxWattsPerVcpu * kCcfAwsPue / 1000.0 *
                                       static_cast<double>(duration) / 3600.0));
      if (out.end > arrival + duration + std::llround(r.slack_hours * 3600)) ++misses;
      kwh += out.kwh;
      g += out.g;
    }
    CHECK(kwh == doctest::Approx(r.energy_kwh));
    CHECK(g / 1000 == doctest::Approx(r.kg));
    CHECK(misses == r.deadline_misses);
    double zk = 0, zkg = 0, mk = 0;
    std::size_t zj = 0, mj = 0;
    for (const ZoneResult& z : r.zones) {
      zk += z.energy_kwh;
      zkg += z.kg;
      zj += z.jobs;
      CHECK(z.utilisation >= 0);
      CHECK(z.utilisation <= 1);
      CHECK(z.idle_kwh > 0);
    }
    for (const MonthResult& m : r.months) {
      mk += m.energy_kwh;
      mj += m.jobs;
    }
    CHECK(zj == r.jobs);
    CHECK(mj == r.jobs);
    CHECK(zk == doctest::Approx(r.energy_kwh));
    CHECK(mk == doctest::Approx(r.energy_kwh));
    CHECK(zkg == doctest::Approx(r.kg));
    // Node capacity is never exceeded: replay the reservations.
    std::vector<std::vector<double>> used(4 * 2);
    for (const JobOutcome& out : r.jobs_out) {
      auto& u = used[out.zone * 2 + out.node];
      const auto h0 = static_cast<std::size_t>((out.start - sim.start()) / 3600);
      const auto h1 = static_cast<std::size_t>((out.end - sim.start() + 3599) / 3600);
      if (u.size() < h1) u.resize(h1, 0);
      for (std::size_t h = h0; h < h1; ++h)
        u[h] += jobs[static_cast<std::size_t>(&out - r.jobs_out.data())].cpus;
    }
    for (const auto& u : used)
      for (double v : u) CHECK(v <= 64.0 + 1e-9);
    // The same jobs in every policy: the same energy (same power model everywhere).
    if (energy < 0) energy = r.energy_kwh;
    CHECK(r.energy_kwh == doctest::Approx(energy));
    CHECK(std::isfinite(r.kg));
    CHECK(r.p95_wait_hours >= 0);
    CHECK(r.mean_wait_hours <= r.max_wait_hours);
  }
}

TEST_CASE("simulator: zero slack equals the baseline for temporal shifting") {
  for (std::size_t nodes : {1u, 8u}) {
    CAPTURE(nodes);
    SimOptions o;
    o.record_jobs = true;
    Simulator sim(bundled(), cluster({"US-CAL-CISO", "ES", "NO", "BR"}, nodes), trace(2500, 11), o);
    const PolicyResult base = run(sim, "baseline", 0.0);
    for (const char* name : {"temporal", "temporal-oracle"}) {
      CAPTURE(name);
      const PolicyResult r = run(sim, name, 0.0);
      CHECK(r.kg == base.kg);
      CHECK(r.mean_wait_hours == base.mean_wait_hours);
      REQUIRE(r.jobs_out.size() == base.jobs_out.size());
      bool same = true;
      for (std::size_t i = 0; i < r.jobs_out.size(); ++i)
        same = same && r.jobs_out[i].start == base.jobs_out[i].start &&
               r.jobs_out[i].zone == base.jobs_out[i].zone &&
               r.jobs_out[i].node == base.jobs_out[i].node;
      CHECK(same);
    }
    // With slack, shifting does save against the baseline.
    CHECK(run(sim, "temporal-oracle", 24.0).kg < base.kg);
  }
}

TEST_CASE("simulator: the oracle is never beaten by its forecast-driven counterpart") {
  // Ample capacity, so that no job is displaced by another and each job's
  // choice is the planner's alone.
  SimOptions o;
  o.record_jobs = true;
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    Simulator sim(bundled(), cluster({"US-CAL-CISO", "ES", "NO", "BR"}, 100), trace(1500, seed), o);
    for (const char* name : {"carbon-placement", "temporal", "temporal+placement"}) {
      CAPTURE(name);
      const PolicyResult f = run(sim, name);
      const PolicyResult p = run(sim, std::string(name) + "-oracle");
      CHECK(f.capacity_waits == 0);
      CHECK(p.capacity_waits == 0);
      CHECK(p.kg <= f.kg + 1e-9);
      if (std::string(name) != "temporal") {  // temporal's zone is LeastAllocated's: same in both
        for (std::size_t i = 0; i < f.jobs_out.size(); ++i)
          CHECK(p.jobs_out[i].g <= f.jobs_out[i].g + 1e-6);
      }
    }
  }
}

TEST_CASE("simulator: the temporal oracle equals a brute force over start times") {
  // One zone, ample capacity: each job's emissions must be the least over
  // every start in its window (the arrival, each hour boundary, the latest
  // start), scored on the actual data.
  SimOptions o;
  o.record_jobs = true;
  const auto jobs = trace(300, 5);
  Simulator sim(bundled(), cluster({"ES"}, 50), jobs, o);
  const PolicyResult r = run(sim, "temporal-oracle", 12.0);
  const HourlyGrid& g = sim.grids()[0];
  const IntensityCurve actual = IntensityCurve::from_grid(g);
  std::size_t checked = 0;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    PlannedJob pj;
    pj.arrival = sim.start() + std::llround(jobs[i].arrival_hours * 3600);
    pj.duration_seconds = std::llround(jobs[i].length_hours * 3600);
    pj.deadline = pj.arrival + pj.duration_seconds + 12 * 3600;
    pj.power_kw = r.jobs_out[i].kwh * 3600.0 / static_cast<double>(pj.duration_seconds);
    if (pj.arrival < sim.first_issue()) continue;
    std::vector<std::int64_t> starts = {pj.arrival, pj.deadline - pj.duration_seconds};
    // Every start on an hour boundary and every start whose end is on one.
    for (std::int64_t t = (pj.arrival / 3600) * 3600; t <= pj.deadline; t += 3600) {
      starts.push_back(t);
      starts.push_back(t - pj.duration_seconds);
    }
    double best = 1e300;
    for (std::int64_t s : starts) {
      if (s < pj.arrival || s + pj.duration_seconds > pj.deadline) continue;
      const Run run{s, s + pj.duration_seconds};
      best = std::min(best, emissions_g(actual, pj, std::span<const Run>(&run, 1)));
    }
    CHECK(r.jobs_out[i].g == doctest::Approx(best).epsilon(1e-9));
    ++checked;
  }
  CHECK(checked > 200);
}

TEST_CASE("simulator: deterministic: the same inputs give the same results") {
  auto once = [] {
    Simulator sim(bundled(), cluster({"ES", "NO"}, 2), trace(1500, 42));
    std::vector<double> out;
    for (const SimPolicy& p : standard_policies()) {
      const PolicyResult r = sim.run(p);
      out.insert(out.end(), {r.kg, r.mean_wait_hours, r.p95_wait_hours,
                             static_cast<double>(r.deadline_misses), r.idle_kg});
    }
    return out;
  };
  CHECK(once() == once());
}

TEST_CASE("simulator: bad clusters, traces and options are refused with a clear message") {
  auto msg = [](auto&& f) {
    try {
      f();
    } catch (const InvalidInput& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const auto jobs = trace(50, 1);
  CHECK(msg([&] { Simulator(bundled(), cluster({"XX"}, 1), jobs); }).find("zone \"XX\"") !=
        std::string::npos);
  CHECK(msg([&] {
          Simulator(bundled(), cluster({"ES", "ES"}, 1), jobs);
        }).find("twice") != std::string::npos);
  CHECK(msg([&] { Simulator(bundled(), cluster({"ES"}, 0), jobs); }).find("nodes must be > 0") !=
        std::string::npos);
  CHECK(msg([&] { Simulator(bundled(), {}, jobs); }).find("no zones") != std::string::npos);
  CHECK(msg([&] { Simulator(bundled(), cluster({"ES"}, 1), {}); }).find("no jobs") !=
        std::string::npos);
  CHECK(msg([&] {
          Simulator(bundled(), cluster({"ES"}, 1), {{1, 1, 100}});
        }).find("needs 100 vCPUs") != std::string::npos);
  CHECK(msg([&] {
          Simulator(bundled(), cluster({"ES"}, 1), {{1, std::nan(""), 2}});
        }).find("job 0") != std::string::npos);
  CHECK(msg([&] {
          Simulator(bundled(), cluster({"ES"}, 1), {{9000, 1, 2}});
        }).find("no job of the trace") != std::string::npos);
  SimOptions o;
  o.slack_hours = -1;
  CHECK(msg([&] { Simulator(bundled(), cluster({"ES"}, 1), jobs, o); }).find("slack_hours") !=
        std::string::npos);
  Simulator sim(bundled(), cluster({"ES"}, 1), jobs);
  CHECK(msg([&] { run(sim, "temporal", -2.0); }).find("slack") != std::string::npos);
  CHECK_FALSE(parse_policy("fastest"));
  // A cluster far too small: the wait limit names the job, never loops.
  o = {};
  o.max_wait_hours = 2;
  std::vector<TraceJob> burst(20, TraceJob{200, 10, 60});
  Simulator tiny(bundled(), cluster({"ES"}, 1), burst, o);
  CHECK(msg([&] { run(tiny, "baseline"); }).find("too small") != std::string::npos);
}

TEST_CASE("simulator: carbonkube simulate writes the report files and a summary") {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / "carbonkube-test-simulate";
  std::filesystem::remove_all(dir);
  std::ostringstream out, err;
  const int rc =
      cli::run({"simulate", "--synthetic", "800", "--seed", "3", "--signals", zone_file("ES"),
                zone_file("NO"), "--nodes", "2", "--slack-sweep", "0,12", "--out", dir.string()},
               out, err);
  INFO(err.str());
  REQUIRE(rc == 0);
  CHECK(out.str().find("temporal+placement-oracle") != std::string::npos);
  for (const char* f : {"results.json", "summary.csv", "zones.csv", "months.csv", "sweep.csv",
                        "intensity.csv", "starts.csv"})
    CHECK(std::filesystem::exists(dir / f));
  std::ifstream in(dir / "results.json");
  const nlohmann::json j = nlohmann::json::parse(in);
  CHECK(j["policies"].size() == 7);
  CHECK(j["command"].get<std::string>().rfind("carbonkube simulate --synthetic 800", 0) == 0);
  CHECK(j["sweep"].size() == 10);  // 5 policies (baseline + 4 shifting) x 2 slacks
  CHECK(j["policies"][0]["savingPercent"].get<double>() == 0.0);
  std::ostringstream o2, e2;
  CHECK(cli::run({"simulate", "--signals", zone_file("ES")}, o2, e2) == 2);
  CHECK(cli::run(
            {"simulate", "--synthetic", "10", "--signals", zone_file("ES"), "--policies", "nope"},
            o2, e2) == 2);
  std::filesystem::remove_all(dir);
}
