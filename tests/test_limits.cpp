// Input-size limits (ParseLimits) on every parser a hostile input reaches:
// for each parser and each limit that applies to it, the input at the limit
// is accepted and the limit one below it is refused with
// Error(kLimitExceeded) whose message names the limit (max_bytes,
// max_objects, max_depth) and its value. Inputs are the real files in the
// repository (examples/, tests/fixtures/, data/), so the limits are checked
// against what users load. Also the CLI's --max-input-bytes, --max-objects
// and --max-depth.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>

#include "carbonkube/allocator.hpp"
#include "carbonkube/error.hpp"
#include "carbonkube/kube.hpp"
#include "carbonkube/profile.hpp"
#include "carbonkube/qos.hpp"
#include "carbonkube/recommender.hpp"
#include "carbonkube/rl.hpp"
#include "carbonkube/signals.hpp"
#include "carbonkube/topology.hpp"
#include "carbonkube/workload_trace.hpp"
#include "cli.hpp"
#include "fixtures.hpp"

using namespace carbonkube;
using ck_test::contains;

namespace {

using Parse = std::function<void(std::string_view text, const ParseLimits& limits)>;

std::string repo_path(const std::string& rel) {
  return std::string(CARBONKUBE_SOURCE_DIR) + "/" + rel;
}
std::string repo_file(const std::string& rel) { return read_file(repo_path(rel)); }

// The message of the kLimitExceeded error parse throws; "" (and a failed
// check) when it throws anything else or nothing.
std::string limit_error(const Parse& parse, std::string_view text, const ParseLimits& limits) {
  try {
    parse(text, limits);
  } catch (const Error& e) {
    CHECK_MESSAGE(e.kind() == ErrorKind::kLimitExceeded, e.what());
    return e.what();
  }
  FAIL_CHECK("accepted an input over the limit");
  return {};
}

void check_byte_limit(const Parse& parse, const std::string& text) {
  ParseLimits at;
  at.max_bytes = text.size();
  CHECK_NOTHROW(parse(text, at));
  ParseLimits below;
  below.max_bytes = text.size() - 1;
  const std::string e = limit_error(parse, text, below);
  CHECK_MESSAGE(
      contains(e, "over the limit of " + std::to_string(text.size() - 1) + " bytes (max_bytes)"),
      e);
}

// The least max_depth that accepts text is its depth d (searched from 0);
// d - 1 is refused naming max_depth and d - 1.
void check_depth_limit(const Parse& parse, const std::string& text) {
  std::size_t depth = 0;
  for (;; ++depth) {
    REQUIRE_MESSAGE(depth <= 64, "not accepted at any depth up to 64");
    ParseLimits l;
    l.max_depth = depth;
    try {
      parse(text, l);
      break;
    } catch (const Error& e) {
      REQUIRE_MESSAGE(e.kind() == ErrorKind::kLimitExceeded, e.what());
    }
  }
  REQUIRE(depth >= 1);  // every document is at least one object deep
  ParseLimits below;
  below.max_depth = depth - 1;
  const std::string e = limit_error(parse, text, below);
  CHECK_MESSAGE(contains(e, "limit of " + std::to_string(depth - 1)), e);
  CHECK_MESSAGE(contains(e, "max_depth"), e);
}

// check_byte_limit and check_depth_limit on each of the repository's files.
void check_document_limits(const Parse& parse, std::initializer_list<const char*> files) {
  for (const char* file : files) {
    CAPTURE(std::string(file));
    const std::string text = repo_file(file);
    check_byte_limit(parse, text);
    check_depth_limit(parse, text);
  }
}

void check_object_limit(const Parse& parse, const std::string& text, std::size_t count,
                        const std::string& unit) {
  ParseLimits at;
  at.max_objects = count;
  CHECK_NOTHROW(parse(text, at));
  ParseLimits below;
  below.max_objects = count - 1;
  const std::string e = limit_error(parse, text, below);
  CHECK_MESSAGE(contains(e, "more than the limit of " + std::to_string(count - 1) + " " + unit +
                                " (max_objects)"),
                e);
}

SignalLoadOptions with(const ParseLimits& limits) {
  SignalLoadOptions o;
  o.limits = limits;
  return o;
}

std::size_t points_of(const SignalLoad& load) {
  std::size_t n = 0;
  for (const auto& s : load.series) n += s.points.size() + s.forecast.size();
  return n;
}

}  // namespace

TEST_CASE("limits: Node and Pod objects (kubectl JSON and YAML)") {
  for (const char* file : {"examples/cluster/nodes.json", "examples/cluster/pods.yaml"}) {
    CAPTURE(std::string(file));
    const std::string text = repo_file(file);
    const Parse parse = [](std::string_view t, const ParseLimits& l) {
      parse_kube_objects(t, "objects", l);
    };
    const KubeObjects all = parse_kube_objects(text, file);
    check_byte_limit(parse, text);
    check_depth_limit(parse, text);
    check_object_limit(parse, text, all.nodes.size() + all.pods.size(), "objects");
  }
}

TEST_CASE("limits: KubeSchedulerConfiguration") {
  check_document_limits(
      [](std::string_view t, const ParseLimits& l) { parse_scheduler_config(t, "config", l); },
      {"examples/cluster/scheduler.yaml", "examples/config/katalyst-carbon-scheduler.yaml"});
}

TEST_CASE("limits: CarbonProfile and the Helm chart's QoS profiles") {
  check_document_limits(
      [](std::string_view t, const ParseLimits& l) { parse_carbon_profile(t, "profile", l); },
      {"examples/config/carbon-profile.yaml"});
  check_document_limits(
      [](std::string_view t, const ParseLimits& l) { parse_helm_qos_profiles(t, "values", l); },
      {"examples/config/helm-values.yaml"});
}

TEST_CASE("limits: zone map") {
  check_document_limits(
      [](std::string_view t, const ParseLimits& l) { ZoneMap::parse(t, "zones", l); },
      {"examples/config/zones.yaml", "tests/fixtures/signals/zonemap.yaml"});
}

TEST_CASE("limits: CustomNodeResources (topology)") {
  const std::string text = repo_file("examples/cluster/cnrs.yaml");
  const Parse parse = [](std::string_view t, const ParseLimits& l) {
    parse_topologies(t, "cnrs", l);
  };
  check_byte_limit(parse, text);
  check_depth_limit(parse, text);
  check_object_limit(parse, text, parse_topologies(text, "cnrs").nodes.size(), "objects");
}

TEST_CASE("limits: every carbon-signal format") {
  const char* const files[] = {
      "electricitymaps_portal_sample.csv",
      "electricitymaps_latest.json",
      "electricitymaps_history.json",
      "electricitymaps_forecast.json",
      "watttime_forecast.json",
      "watttime_historical.json",
      "uk_national.json",
      "uk_regional.json",
      "carbonaware_bylocation.json",
      "carbonaware_forecast.json",
  };
  for (const char* file : files) {
    CAPTURE(std::string(file));
    const std::string text = repo_file(std::string("tests/fixtures/signals/") + file);
    const SignalFormat format = detect_signal_format(text, file).value();
    const Parse parse = [format](std::string_view t, const ParseLimits& l) {
      load_signals(t, "signals", format, IntensityScope::kLifecycle, with(l));
    };
    check_byte_limit(parse, text);
    if (format != SignalFormat::kElectricityMapsCsv) check_depth_limit(parse, text);
    const std::size_t points = points_of(load_signals(text, file, format));
    REQUIRE(points > 0);
    check_object_limit(parse, text, points, "points");
  }
}

TEST_CASE("limits: workload traces") {
  const std::string text = "arrival_time,length,cpus\n0,1,2\n0.5,2,4\n1,0.25,8\n";
  const Parse parse = [](std::string_view t, const ParseLimits& l) {
    parse_workload_csv(t, "trace", l);
  };
  check_byte_limit(parse, text);
  check_object_limit(parse, text, 3, "jobs");
  // the bundled trace's first kilobyte, cut at a line end
  std::string azure = repo_file("data/workloads/azure-100k.csv").substr(0, 1024);
  azure.resize(azure.rfind('\n') + 1);
  check_byte_limit(parse, azure);
  check_object_limit(parse, azure, parse_workload_csv(azure, "azure").size(), "jobs");
}

TEST_CASE("limits: saved RL optimizer and allocator state") {
  RlOptimizer rl;
  const std::string state = rl.save();
  const Parse parse = [](std::string_view t, const ParseLimits& l) {
    RlOptimizer::restore(t, "state", l);
  };
  check_byte_limit(parse, state);
  check_depth_limit(parse, state);
  const Parse allocator = [](std::string_view t, const ParseLimits& l) {
    CarbonAwareResourceAllocator a;
    a.restore_optimizer(t, "state", l);
  };
  check_byte_limit(allocator, state);
  check_depth_limit(allocator, state);
}

TEST_CASE("limits: container recommendations (VPA)") {
  const std::string vpa =
      R"({"containerRecommendations": [{"containerName": "app", "target": {"cpu": "250m",)"
      R"( "memory": "256Mi"}}]})";
  const Parse parse = [](std::string_view t, const ParseLimits& l) {
    parse_container_recommendations(t, "vpa", l);
  };
  check_byte_limit(parse, vpa);
  check_depth_limit(parse, vpa);
}

TEST_CASE("limits: read_file stops at max_bytes while reading") {
  const std::string path = repo_path("examples/config/zones.yaml");
  const std::size_t size = read_file(path).size();
  ParseLimits at;
  at.max_bytes = size;
  CHECK(read_file(path, at).size() == size);
  ParseLimits below;
  below.max_bytes = size - 1;
  try {
    read_file(path, below);
    FAIL("read past the limit");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::kLimitExceeded);
    CHECK(
        contains(e.what(), "over the limit of " + std::to_string(size - 1) + " bytes (max_bytes)"));
  }
}

TEST_CASE("limits: the CLI's --max-input-bytes, --max-objects and --max-depth") {
  auto run = [](std::vector<std::string> args, std::string* err_text) {
    std::ostringstream out, err;
    const int rc = cli::run(args, out, err);
    *err_text = err.str();
    return rc;
  };
  const std::string nodes = repo_path("examples/cluster/nodes.json");
  const std::size_t size = read_file(nodes).size();
  const std::size_t count = parse_kube_objects(read_file(nodes), "n").nodes.size();
  std::string err;
  CHECK(run({"score", "--nodes", nodes, "--max-input-bytes", std::to_string(size)}, &err) == 0);
  CHECK(run({"score", "--nodes", nodes, "--max-input-bytes", std::to_string(size - 1)}, &err) == 2);
  CHECK(contains(err, "over the limit of " + std::to_string(size - 1) + " bytes (max_bytes)"));
  CHECK(run({"score", "--max-objects", std::to_string(count), "--nodes", nodes}, &err) == 0);
  CHECK(run({"score", "--max-objects", std::to_string(count - 1), "--nodes", nodes}, &err) == 2);
  CHECK(contains(err,
                 "more than the limit of " + std::to_string(count - 1) + " objects (max_objects)"));
  CHECK(run({"score", "--nodes", nodes, "--max-depth", "2"}, &err) == 2);
  CHECK(contains(err, "limit of 2 (max_depth)"));
  // the limits reach the carbon signals and the zone map too
  const std::string csv = repo_path("data/carbon/electricitymaps/ES_2023_hourly.csv");
  CHECK(run({"score", "--nodes", nodes, "--signals", csv, "--zones",
             repo_path("examples/config/zones.yaml"), "--max-objects", "100"},
            &err) == 2);
  CHECK(contains(err, "more than the limit of 100 points (max_objects)"));
  // a bad value is a usage error naming the flag; limits are per run
  CHECK(run({"score", "--nodes", nodes, "--max-depth", "0"}, &err) == 2);
  CHECK(contains(err, "--max-depth: \"0\" is not a positive integer"));
  CHECK(run({"score", "--nodes", nodes, "--max-input-bytes"}, &err) == 2);
  CHECK(contains(err, "--max-input-bytes needs a value"));
  CHECK(run({"score", "--nodes", nodes}, &err) == 0);
}
