/* test_capi.c: every entry point of carbonkube.h from C11, with its error
 * paths (NULL arguments, malformed YAML/JSON, bad struct sizes, buffers too
 * small, unknown names, handles that do not belong together). Outcomes are
 * checked against the example cluster that `carbonkube score` explains
 * (scripts/run.sh): same profile, same data, same hour. */
#include <math.h>
#include <stdint.h>

#include "capi_test.h"

/* Pinned values: a change here breaks every compiled caller. */
_Static_assert(CK_OK == 0, "pinned");
_Static_assert(CK_ERROR_INVALID_ARGUMENT == 1, "pinned");
_Static_assert(CK_ERROR_INVALID_INPUT == 2, "pinned");
_Static_assert(CK_ERROR_LIMIT_EXCEEDED == 3, "pinned");
_Static_assert(CK_ERROR_NOT_FOUND == 4, "pinned");
_Static_assert(CK_ERROR_BUFFER_TOO_SMALL == 5, "pinned");
_Static_assert(CK_ERROR_MISMATCH == 6, "pinned");
_Static_assert(CK_ERROR_OUT_OF_MEMORY == 7, "pinned");
_Static_assert(CK_ERROR_INTERNAL == 8, "pinned");
_Static_assert(CK_READING_INCOMPLETE_WINDOW == 11, "pinned");
_Static_assert(CK_DECISION_NO_DATA_UNASSIGNED == 7, "pinned");
_Static_assert(CK_KIND_MARGINAL_LIFECYCLE == 3, "pinned");

static const int64_t kAt = 1689444000; /* 2023-07-15T18:00:00Z, as scripts/run.sh */

static const char kWebPod[] =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: web-7d9f, namespace: shop}\n"
    "spec:\n  containers:\n  - name: web\n"
    "    resources: {requests: {cpu: \"1\", memory: 2Gi}}\n";
static const char kHugePod[] =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: huge-0, namespace: batch}\n"
    "spec:\n  containers:\n  - name: huge\n"
    "    resources: {requests: {cpu: \"64\", memory: 512Gi}}\n";
static const char kFitBalanced[] =
    "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
    "profiles:\n- schedulerName: fit\n  percentageOfNodesToScore: 100\n  plugins:\n"
    "    multiPoint: {disabled: [{name: '*'}]}\n"
    "    filter: {enabled: [{name: NodeResourcesFit}]}\n"
    "    score: {enabled: [{name: NodeResourcesFit, weight: 2}, "
    "{name: NodeResourcesBalancedAllocation}]}\n"
    "- schedulerName: second\n";

static size_t len_of(const char* s) { return strlen(s); }

static void test_version_and_status(void) {
  char expected[32];
  CHECK(ck_version_number() == CK_VERSION_NUMBER);
  snprintf(expected, sizeof expected, "%d.%d.%d", CK_VERSION_MAJOR, CK_VERSION_MINOR,
           CK_VERSION_PATCH);
  CHECK(strcmp(ck_version_string(), expected) == 0);
  CHECK(strcmp(ck_status_name(CK_OK), "CK_OK") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_INVALID_ARGUMENT), "CK_ERROR_INVALID_ARGUMENT") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_INVALID_INPUT), "CK_ERROR_INVALID_INPUT") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_LIMIT_EXCEEDED), "CK_ERROR_LIMIT_EXCEEDED") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_NOT_FOUND), "CK_ERROR_NOT_FOUND") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_BUFFER_TOO_SMALL), "CK_ERROR_BUFFER_TOO_SMALL") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_MISMATCH), "CK_ERROR_MISMATCH") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_OUT_OF_MEMORY), "CK_ERROR_OUT_OF_MEMORY") == 0);
  CHECK(strcmp(ck_status_name(CK_ERROR_INTERNAL), "CK_ERROR_INTERNAL") == 0);
  CHECK(strcmp(ck_status_name((ck_status)99), "CK_UNKNOWN_STATUS") == 0);
  CHECK(ck_last_error() != NULL);
}

static void test_free_accepts_null(void) {
  ck_engine_free(NULL);
  ck_signals_free(NULL);
  ck_cluster_free(NULL);
  ck_snapshot_free(NULL);
  ck_pod_free(NULL);
  ck_context_free(NULL);
  ck_reconciler_free(NULL);
  CHECK(1);
}

static void test_engine(void) {
  ck_engine* engine = NULL;
  ck_engine* untouched = (ck_engine*)&untouched;
  size_t profile = 99;

  /* Defaults: the seed's katalyst-carbon-scheduler profile, three QoS profiles. */
  CHECK_OK(ck_engine_create(&engine, NULL));
  CHECK(strcmp(ck_last_error(), "") == 0);
  CHECK(ck_engine_profile_count(engine) == 1);
  CHECK(strcmp(ck_engine_profile_name(engine, 0), "katalyst-carbon-scheduler") == 0);
  CHECK(ck_engine_profile_name(engine, 1) == NULL);
  /* kube-scheduler's default plugins (the seed enables its own on top of
   * them), then the seed's, with the seed's weights. */
  CHECK(ck_engine_score_plugin_count(engine, 0) == 7);
  CHECK(strcmp(ck_engine_score_plugin_name(engine, 0, 0), "NodeResourcesFit") == 0);
  CHECK(ck_engine_score_plugin_weight(engine, 0, 0) == 15);
  CHECK(strcmp(ck_engine_score_plugin_name(engine, 0, 4), "CarbonAwareScore") == 0);
  CHECK(ck_engine_score_plugin_weight(engine, 0, 4) == 30);
  CHECK(strcmp(ck_engine_score_plugin_name(engine, 0, 6), "KatalystTopologyScore") == 0);
  CHECK(ck_engine_score_plugin_weight(engine, 0, 6) == 20);
  CHECK(ck_engine_score_plugin_name(engine, 0, 7) == NULL);
  CHECK(ck_engine_score_plugin_weight(engine, 0, 7) == 0);
  CHECK(ck_engine_score_plugin_count(engine, 7) == 0);
  CHECK(ck_engine_filter_plugin_count(engine, 0) == 7);
  CHECK(strcmp(ck_engine_filter_plugin_name(engine, 0, 0), "NodeUnschedulable") == 0);
  CHECK(strcmp(ck_engine_filter_plugin_name(engine, 0, 4), "CarbonAwareFilter") == 0);
  CHECK(ck_engine_filter_plugin_name(engine, 0, 99) == NULL);
  CHECK(ck_engine_qos_profile_count(engine) == 3);
  CHECK(strcmp(ck_engine_qos_profile_name(engine, 0), "green-guaranteed") == 0);
  CHECK(ck_engine_qos_profile_threshold(engine, 0) == 100.0);
  CHECK(ck_engine_qos_profile_threshold(engine, 2) == 500.0);
  CHECK(ck_engine_qos_profile_name(engine, 3) == NULL);
  CHECK(isnan(ck_engine_qos_profile_threshold(engine, 3)));
  CHECK(ck_engine_zone_count(engine) == 0);
  CHECK(ck_engine_zone_name(engine, 0) == NULL);
  CHECK_OK(ck_engine_find_profile(&profile, engine, "katalyst-carbon-scheduler",
                                  len_of("katalyst-carbon-scheduler")));
  CHECK(profile == 0);
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "no profile has schedulerName \"nope\"",
              ck_engine_find_profile(&profile, engine, "nope", 4));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
              ck_engine_find_profile(NULL, engine, "x", 1));
  ck_engine_free(engine);

  /* Accessors on NULL. */
  CHECK(ck_engine_profile_count(NULL) == 0);
  CHECK(ck_engine_profile_name(NULL, 0) == NULL);
  CHECK(ck_engine_qos_profile_count(NULL) == 0);

  /* Two profiles, weights from the configuration. */
  {
    ck_engine_options o = CK_ENGINE_OPTIONS_INIT;
    o.scheduler_config = kFitBalanced;
    o.scheduler_config_len = len_of(kFitBalanced);
    CHECK_OK(ck_engine_create(&engine, &o));
    CHECK(ck_engine_profile_count(engine) == 2);
    CHECK(strcmp(ck_engine_profile_name(engine, 1), "second") == 0);
    CHECK(ck_engine_score_plugin_count(engine, 0) == 2);
    CHECK(ck_engine_score_plugin_weight(engine, 0, 0) == 2);
    CHECK(ck_engine_filter_plugin_count(engine, 0) == 1);
    CHECK_OK(ck_engine_find_profile(&profile, engine, "second", 6));
    CHECK(profile == 1);
    ck_engine_free(engine);
  }

  /* Errors: nothing is written to *out. */
  {
    ck_engine_options o = CK_ENGINE_OPTIONS_INIT;
    const char bad_yaml[] = "profiles: [ {schedulerName: x";
    const char bad_plugin[] =
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- plugins:\n    score: {enabled: [{name: NoSuchPlugin}]}\n";
    const char bad_weight[] =
        "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
        "profiles:\n- plugins:\n    score: {enabled: [{name: NodeResourcesFit, weight: -3}]}\n";
    const char bad_zones[] = "kind: ZoneMap\nunknownZone: sometimes\n";
    const char bad_qos[] = "katalyst:\n  qosProfiles:\n    green: {carbonThreshold: -5}\n";

    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_engine_create(NULL, NULL));
    engine = untouched;
    o.scheduler_config = bad_yaml;
    o.scheduler_config_len = len_of(bad_yaml);
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "scheduler_config", ck_engine_create(&engine, &o));
    CHECK(engine == untouched);
    o.scheduler_config = bad_plugin;
    o.scheduler_config_len = len_of(bad_plugin);
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "NoSuchPlugin", ck_engine_create(&engine, &o));
    o.scheduler_config = bad_weight;
    o.scheduler_config_len = len_of(bad_weight);
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "weight", ck_engine_create(&engine, &o));
    o.scheduler_config = NULL;
    o.scheduler_config_len = 5;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "scheduler_config is NULL",
                ck_engine_create(&engine, &o));
    o.scheduler_config_len = 0;
    o.zone_map = bad_zones;
    o.zone_map_len = len_of(bad_zones);
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "unknownZone", ck_engine_create(&engine, &o));
    o.zone_map = NULL;
    o.zone_map_len = 0;
    o.qos_profiles = bad_qos;
    o.qos_profiles_len = len_of(bad_qos);
    CHECK(ck_engine_create(&engine, &o) == CK_ERROR_INVALID_INPUT);
    CHECK(strlen(ck_last_error()) > 0);
    o.qos_profiles = NULL;
    o.qos_profiles_len = 0;
    o.max_signal_age_seconds = -1;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "max_signal_age_seconds", ck_engine_create(&engine, &o));
    o.max_signal_age_seconds = 0;
    o.max_g_per_kwh = NAN;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "max_g_per_kwh", ck_engine_create(&engine, &o));
    o.max_g_per_kwh = 0;
    o.struct_size = 4;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "struct_size", ck_engine_create(&engine, &o));
    CHECK(engine == untouched);
  }

  /* A caller compiled against a newer header: a larger struct is accepted
   * when the fields this version does not know are zero. */
  {
    struct {
      ck_engine_options base;
      int64_t newer_field;
    } newer;
    memset(&newer, 0, sizeof newer);
    newer.base.struct_size = sizeof newer;
    CHECK_OK(ck_engine_create(&engine, &newer.base));
    ck_engine_free(engine);
    newer.newer_field = 1;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "does not know", ck_engine_create(&engine, &newer.base));
  }
}

static ck_engine* example_engine(void) {
  size_t len = 0;
  char* zones = ck_test_read("examples/config/zones.yaml", &len);
  ck_engine_options o = CK_ENGINE_OPTIONS_INIT;
  ck_engine* engine = NULL;
  o.zone_map = zones;
  o.zone_map_len = len;
  CHECK_OK(ck_engine_create(&engine, &o));
  free(zones);
  return engine;
}

static ck_signals* example_signals(void) {
  const char* files[] = {"data/carbon/electricitymaps/US-CAL-CISO_2023_hourly.csv",
                         "data/carbon/electricitymaps/ES_2023_hourly.csv",
                         "data/carbon/electricitymaps/NO_2023_hourly.csv"};
  ck_signals* signals = NULL;
  size_t i;
  CHECK_OK(ck_signals_create(&signals));
  for (i = 0; i < 3; ++i) {
    size_t len = 0, skipped = 99;
    char* text = ck_test_read(files[i], &len);
    CHECK_OK(ck_signals_load(&skipped, signals, CK_SIGNALS_ELECTRICITYMAPS_CSV, text, len, files[i],
                             -1));
    CHECK(skipped < 100);
    free(text);
  }
  return signals;
}

static void test_signals(void) {
  ck_engine* engine = example_engine();
  ck_signals* signals = example_signals();
  ck_zone_reading r;
  size_t len = 0;
  CHECK(ck_engine_zone_count(engine) == 3);
  CHECK(ck_signals_zone_count(signals) == 3);
  CHECK(ck_signals_newest_time(signals) == 1704063600); /* 2023-12-31T23:00Z */
  CHECK(ck_signals_newest_time(NULL) == 0);
  CHECK(ck_signals_zone_count(NULL) == 0);

  CHECK_OK(ck_signals_evaluate(&r, signals, engine, "ES", 2, kAt));
  CHECK(r.usable == 1 && r.status == CK_READING_OK);
  CHECK(r.g_per_kwh > 50 && r.g_per_kwh < 400);
  CHECK(r.kind == CK_KIND_AVERAGE_LIFECYCLE);
  CHECK(r.age_seconds == 0);
  CHECK_OK(ck_signals_evaluate(&r, signals, engine, "XX", 2, kAt));
  CHECK(r.usable == 0 && r.status == CK_READING_MISSING_ZONE && isnan(r.g_per_kwh));
  CHECK_OK(ck_signals_evaluate(&r, signals, engine, "ES", 2, kAt + 365 * 86400));
  CHECK(r.usable == 0 && r.status == CK_READING_STALE);
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
              ck_signals_evaluate(NULL, signals, engine, "ES", 2, kAt));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "engine is NULL",
              ck_signals_evaluate(&r, signals, NULL, "ES", 2, kAt));

  /* Every other loader, on its real wire format. */
  {
    struct {
      const char* file;
      ck_signal_format format;
    } inputs[] = {
        {"tests/fixtures/signals/electricitymaps_history.json", CK_SIGNALS_ELECTRICITYMAPS_JSON},
        {"tests/fixtures/signals/watttime_historical.json", CK_SIGNALS_WATTTIME_JSON},
        {"tests/fixtures/signals/uk_national.json", CK_SIGNALS_UK_CARBON_INTENSITY_JSON},
        {"tests/fixtures/signals/carbonaware_bylocation.json", CK_SIGNALS_CARBON_AWARE_SDK_JSON}};
    size_t i;
    for (i = 0; i < sizeof inputs / sizeof inputs[0]; ++i) {
      ck_signals* s = NULL;
      char* text = ck_test_read(inputs[i].file, &len);
      CHECK_OK(ck_signals_create(&s));
      CHECK_OK(ck_signals_load(NULL, s, inputs[i].format, text, len, inputs[i].file, -1));
      CHECK(ck_signals_zone_count(s) >= 1);
      CHECK(ck_signals_newest_time(s) > 1500000000);
      ck_signals_free(s);
      free(text);
    }
  }

  /* Errors add nothing. */
  {
    const char bad_json[] = "{\"zone\": \"DE\", \"history\": [";
    const size_t zones_before = ck_signals_zone_count(signals);
    const int64_t newest_before = ck_signals_newest_time(signals);
    ck_signal_point nan_point = {kAt, NAN, 0};
    ck_signal_point negative_point = {kAt, -4.0, 0};
    ck_signal_point good[2] = {{kAt + 3600, 12.5, 0}, {kAt, 10.0, 1}};
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "bad.json",
                ck_signals_load(NULL, signals, CK_SIGNALS_ELECTRICITYMAPS_JSON, bad_json,
                                len_of(bad_json), "bad.json", -1));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "format 42",
                ck_signals_load(NULL, signals, (ck_signal_format)42, "{}", 2, NULL, -1));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "kind 9",
                ck_signals_load(NULL, signals, CK_SIGNALS_ELECTRICITYMAPS_CSV, "x", 1, NULL, 9));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "average intensities",
                ck_signals_load(NULL, signals, CK_SIGNALS_ELECTRICITYMAPS_CSV, "x", 1, NULL,
                                CK_KIND_MARGINAL_DIRECT));
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "garbage.csv",
                ck_signals_load(NULL, signals, CK_SIGNALS_ELECTRICITYMAPS_CSV, "a,b\n1,2\n", 8,
                                "garbage.csv", -1));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "signals is NULL",
                ck_signals_load(NULL, NULL, CK_SIGNALS_WATTTIME_JSON, "{}", 2, NULL, -1));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "text is NULL",
                ck_signals_load(NULL, signals, CK_SIGNALS_WATTTIME_JSON, NULL, 3, NULL, -1));
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "intensity nan",
                ck_signals_add_points(signals, "DE", 2, CK_KIND_AVERAGE_DIRECT, &nan_point, 1));
    CHECK_FAILS(
        CK_ERROR_INVALID_INPUT, "intensity -4",
        ck_signals_add_points(signals, "DE", 2, CK_KIND_AVERAGE_DIRECT, &negative_point, 1));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "zone is empty",
                ck_signals_add_points(signals, "", 0, CK_KIND_AVERAGE_DIRECT, good, 2));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "kind -1",
                ck_signals_add_points(signals, "DE", 2, (ck_intensity_kind)-1, good, 2));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "points is NULL",
                ck_signals_add_points(signals, "DE", 2, CK_KIND_AVERAGE_DIRECT, NULL, 2));
    CHECK(ck_signals_zone_count(signals) == zones_before);
    CHECK(ck_signals_newest_time(signals) == newest_before);

    /* Plain arrays, unsorted: the newest point is what evaluation uses. */
    CHECK_OK(ck_signals_add_points(signals, "DE", 2, CK_KIND_AVERAGE_DIRECT, good, 2));
    CHECK(ck_signals_zone_count(signals) == zones_before + 1);
    CHECK_OK(ck_signals_evaluate(&r, signals, engine, "DE", 2, kAt + 3600));
    CHECK(r.usable == 1 && r.g_per_kwh == 12.5 && r.kind == CK_KIND_AVERAGE_DIRECT);
  }
  ck_signals_free(signals);
  ck_engine_free(engine);
}

static ck_cluster* example_cluster(void) {
  const char* files[] = {"examples/cluster/nodes.json", "examples/cluster/pods.yaml",
                         "examples/cluster/cnrs.yaml"};
  ck_cluster* cluster = NULL;
  size_t i;
  CHECK_OK(ck_cluster_create(&cluster));
  for (i = 0; i < 3; ++i) {
    size_t len = 0;
    char* text = ck_test_read(files[i], &len);
    CHECK_OK(ck_cluster_apply(NULL, cluster, text, len, files[i]));
    free(text);
  }
  return cluster;
}

static void test_cluster(void) {
  ck_cluster* cluster = NULL;
  ck_apply_counts counts;
  size_t len = 0;
  char* nodes = ck_test_read("examples/cluster/nodes.json", &len);
  CHECK_OK(ck_cluster_create(&cluster));
  CHECK_OK(ck_cluster_apply(&counts, cluster, nodes, len, "nodes.json"));
  CHECK(counts.nodes == 6 && counts.pods == 0 && counts.topology == 0 && counts.skipped == 0);
  CHECK(ck_cluster_node_count(cluster) == 6);
  /* Applying again upserts: no duplicates. */
  CHECK_OK(ck_cluster_apply(&counts, cluster, nodes, len, "nodes.json"));
  CHECK(ck_cluster_node_count(cluster) == 6);
  free(nodes);
  {
    char* pods = ck_test_read("examples/cluster/pods.yaml", &len);
    CHECK_OK(ck_cluster_apply(&counts, cluster, pods, len, "pods.yaml"));
    /* Nine pods; three bound and running count as usage (report-28391 has
     * Succeeded, five are pending). */
    CHECK(counts.pods == 9);
    CHECK(ck_cluster_pod_count(cluster) == 3);
    free(pods);
  }
  {
    char* cnrs = ck_test_read("examples/cluster/cnrs.yaml", &len);
    CHECK_OK(ck_cluster_apply(&counts, cluster, cnrs, len, "cnrs.yaml"));
    CHECK(counts.topology == 6 && counts.nodes == 0);
    free(cnrs);
  }

  /* Malformed input applies nothing. */
  {
    const char broken[] = "{\"kind\": \"List\", \"items\": [{\"kind\": \"Node\"";
    const char bad_quantity[] =
        "{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"n9\"},"
        " \"status\": {\"allocatable\": {\"cpu\": \"4x\"}}}";
    const char configmap[] =
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", "
        "\"metadata\": {\"name\": \"c\"}}";
    const size_t before = ck_cluster_node_count(cluster);
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "broken.json",
                ck_cluster_apply(&counts, cluster, broken, len_of(broken), "broken.json"));
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "cpu",
                ck_cluster_apply(&counts, cluster, bad_quantity, len_of(bad_quantity), NULL));
    CHECK(ck_cluster_node_count(cluster) == before);
    CHECK_OK(ck_cluster_apply(&counts, cluster, configmap, len_of(configmap), NULL));
    CHECK(counts.skipped == 1 && counts.nodes == 0);
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "cluster is NULL",
                ck_cluster_apply(NULL, NULL, configmap, len_of(configmap), NULL));
  }

  /* Removal. */
  CHECK_OK(ck_cluster_remove_node(cluster, "es-1b", 5));
  CHECK(ck_cluster_node_count(cluster) == 5);
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "no node \"es-1b\"", ck_cluster_remove_node(cluster, "es-1b", 5));
  CHECK_OK(ck_cluster_remove_pod(cluster, "shop/api-0", 10));
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "namespace/name", ck_cluster_remove_pod(cluster, "api-0", 5));
  CHECK(ck_cluster_node_count(NULL) == 0 && ck_cluster_pod_count(NULL) == 0);
  ck_cluster_free(cluster);
}

static void test_arrays(void) {
  ck_cluster* cluster = NULL;
  ck_engine* engine = NULL;
  ck_snapshot* snap = NULL;
  ck_engine_options eo = CK_ENGINE_OPTIONS_INIT;
  const char* names[] = {"a", "b", "c"};
  const char* labels[] = {"topology.kubernetes.io/zone=z1,tier=gold", NULL, "tier=silver"};
  const char* resources[] = {"cpu", "memory", "pods"};
  const int64_t cpu[] = {4000, 8000, 2000};
  const int64_t mem[] = {8LL << 30, 16LL << 30, 4LL << 30};
  const int64_t pods[] = {110, 110, 110};
  const int64_t* alloc[] = {cpu, mem, pods};
  ck_node_arrays na = CK_NODE_ARRAYS_INIT;
  ck_pod_arrays pa = CK_POD_ARRAYS_INIT;
  const char* pod_names[] = {"p0", "p1"};
  const char* pod_nodes[] = {"b", ""};
  const char* pod_resources[] = {"cpu", "memory"};
  const int64_t pcpu[] = {7000, 100};
  const int64_t pmem[] = {1LL << 30, 1LL << 20};
  const int64_t* preq[] = {pcpu, pmem};

  eo.scheduler_config = kFitBalanced;
  eo.scheduler_config_len = len_of(kFitBalanced);
  CHECK_OK(ck_engine_create(&engine, &eo));
  CHECK_OK(ck_cluster_create(&cluster));
  na.count = 3;
  na.names = names;
  na.labels = labels;
  na.resource_count = 3;
  na.resource_names = resources;
  na.allocatable = alloc;
  CHECK_OK(ck_cluster_apply_node_arrays(cluster, &na));
  CHECK(ck_cluster_node_count(cluster) == 3);
  pa.count = 2;
  pa.names = pod_names;
  pa.node_names = pod_nodes;
  pa.resource_count = 2;
  pa.resource_names = pod_resources;
  pa.requests = preq;
  CHECK_OK(ck_cluster_apply_pod_arrays(cluster, &pa));
  CHECK(ck_cluster_pod_count(cluster) == 1); /* p1 is pending */

  /* The bound pod leaves 1 CPU on node b: a 2-CPU pod fits a (4 CPU) and,
   * exactly, c (2 CPU). */
  CHECK_OK(ck_snapshot_publish(&snap, cluster, engine, NULL));
  CHECK(ck_snapshot_node_count(snap) == 3);
  {
    const char pod_text[] =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
        "{\"cpu\":\"2\",\"memory\":\"1Gi\"}}}]}}";
    ck_pod* pod = NULL;
    ck_context* ctx = NULL;
    ck_pod_result res;
    ck_node_result nodes[3];
    size_t b = 9;
    CHECK_OK(ck_pod_create(&pod, snap, pod_text, len_of(pod_text)));
    CHECK(strcmp(ck_pod_key(pod), "default/x") == 0);
    CHECK_OK(ck_context_create(&ctx, 7));
    CHECK_OK(ck_score_pod(&res, nodes, 3, NULL, 0, engine, snap, pod, ctx, NULL));
    CHECK_OK(ck_snapshot_find_node(&b, snap, "b", 1));
    CHECK(nodes[b].state == CK_NODE_INFEASIBLE && nodes[b].failed_filter == 0);
    CHECK(res.feasible == 2 && res.selected >= 0 && (size_t)res.selected != b);
    ck_context_free(ctx);
    ck_pod_free(pod);
  }
  ck_snapshot_free(snap);

  /* Errors. */
  {
    const char* bad_labels[] = {"novalue", NULL, NULL};
    const char* dup_labels[] = {"k=1,k=2", NULL, NULL};
    const int64_t negative[] = {-1, 1, 1};
    const int64_t* bad_alloc[] = {negative, mem, pods};
    const int64_t* null_column[] = {cpu, NULL, pods};
    const char* null_names[] = {"a", NULL, "c"};
    ck_node_arrays bad = na;
    const size_t before = ck_cluster_node_count(cluster);
    bad.labels = bad_labels;
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "key=value", ck_cluster_apply_node_arrays(cluster, &bad));
    bad.labels = dup_labels;
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "twice", ck_cluster_apply_node_arrays(cluster, &bad));
    bad.labels = NULL;
    bad.allocatable = bad_alloc;
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "-1", ck_cluster_apply_node_arrays(cluster, &bad));
    bad.allocatable = null_column;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "memory", ck_cluster_apply_node_arrays(cluster, &bad));
    bad.allocatable = alloc;
    bad.names = null_names;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "names[1]", ck_cluster_apply_node_arrays(cluster, &bad));
    bad.names = NULL;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "nodes.names",
                ck_cluster_apply_node_arrays(cluster, &bad));
    bad = na;
    bad.struct_size = 1;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "struct_size",
                ck_cluster_apply_node_arrays(cluster, &bad));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "nodes is NULL",
                ck_cluster_apply_node_arrays(cluster, NULL));
    CHECK(ck_cluster_node_count(cluster) == before);
  }
  {
    const char* missing_node[] = {"nowhere", ""};
    const int64_t negative[] = {-5, 1};
    const int64_t* bad_req[] = {negative, pmem};
    ck_pod_arrays bad = pa;
    bad.requests = bad_req;
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "-5", ck_cluster_apply_pod_arrays(cluster, &bad));
    bad.requests = preq;
    bad.names = NULL;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "names", ck_cluster_apply_pod_arrays(cluster, &bad));
    bad.names = pod_names;
    bad.node_names = missing_node;
    /* A pod bound to a node not (yet) known is registered, as an informer
     * would see it; it counts once the node appears. */
    CHECK_OK(ck_cluster_apply_pod_arrays(cluster, &bad));
    CHECK(ck_cluster_pod_count(cluster) == 1);
  }
  ck_cluster_free(cluster);
  ck_engine_free(engine);
}

/* Sum of weight * score over the plugins that scored, as
 * ck_node_result.total (-1: the plugin skipped the pod). */
static int64_t weighted(const ck_engine* e, size_t profile, const int64_t* row, size_t plugins) {
  int64_t total = 0;
  size_t p;
  for (p = 0; p < plugins; ++p) {
    CHECK(row[p] == -1 || (row[p] >= 0 && row[p] <= 100));
    if (row[p] >= 0) total += ck_engine_score_plugin_weight(e, profile, p) * row[p];
  }
  return total;
}

static void test_scoring(void) {
  ck_engine* engine = example_engine();
  ck_signals* signals = example_signals();
  ck_cluster* cluster = example_cluster();
  ck_snapshot* snap = NULL;
  ck_snapshot_options so = CK_SNAPSHOT_OPTIONS_INIT;
  ck_pod* web = NULL;
  ck_pod* huge = NULL;
  ck_context* ctx = NULL;
  ck_pod_result res;
  ck_node_result nodes[6];
  int64_t scores[6 * 7];
  const size_t plugins = ck_engine_score_plugin_count(engine, 0);
  size_t n, i, len = 0;
  char buf[8192];
  so.signals = signals;
  so.at = kAt;
  CHECK_OK(ck_snapshot_publish(&snap, cluster, engine, &so));
  n = ck_snapshot_node_count(snap);
  CHECK(n == 6 && plugins == 7);
  CHECK(ck_snapshot_time(snap) == kAt);
  CHECK(strcmp(ck_snapshot_node_name(snap, 0), "es-1a") == 0);
  CHECK(ck_snapshot_node_name(snap, 6) == NULL);
  CHECK_OK(ck_snapshot_find_node(&i, snap, "no-1a", 5));
  CHECK(strcmp(ck_snapshot_node_name(snap, i), "no-1a") == 0);
  CHECK(ck_snapshot_node_zone(snap, i) >= 0);
  CHECK(strcmp(ck_engine_zone_name(engine, (size_t)ck_snapshot_node_zone(snap, i)), "NO") == 0);
  CHECK(ck_snapshot_node_zone(snap, 99) == -1);
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "no node \"nope\"", ck_snapshot_find_node(&i, snap, "nope", 4));
  {
    ck_zone_reading r;
    CHECK_OK(ck_snapshot_zone_reading(&r, snap, 0));
    CHECK(r.usable == 1 && r.g_per_kwh > 0);
    CHECK_FAILS(CK_ERROR_NOT_FOUND, "zone index 3", ck_snapshot_zone_reading(&r, snap, 3));
  }
  CHECK(ck_snapshot_node_count(NULL) == 0 && ck_snapshot_time(NULL) == 0);

  /* Pods. */
  CHECK_OK(ck_pod_create(&web, snap, kWebPod, len_of(kWebPod)));
  CHECK_OK(ck_pod_create(&huge, snap, kHugePod, len_of(kHugePod)));
  CHECK(strcmp(ck_pod_key(web), "shop/web-7d9f") == 0);
  CHECK(ck_pod_key(NULL) == NULL);
  {
    ck_pod* p = NULL;
    const char two[] =
        "---\nkind: Pod\napiVersion: v1\nmetadata: {name: a}\n"
        "spec: {containers: [{name: c}]}\n---\nkind: Pod\napiVersion: v1\n"
        "metadata: {name: b}\nspec: {containers: [{name: c}]}\n";
    const char bad_annotation[] =
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\n  annotations:\n"
        "    carbon-kube.io/qos-profile: gold\n"
        "spec:\n  containers: [{name: c}]\n";
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "exactly one Pod",
                ck_pod_create(&p, snap, two, len_of(two)));
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "pod", ck_pod_create(&p, snap, "{\"kind\": ", 9));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "snapshot is NULL",
                ck_pod_create(&p, NULL, kWebPod, len_of(kWebPod)));
    CHECK(p == NULL);
    /* A malformed carbon annotation is found when the pod is scored. */
    CHECK_OK(ck_pod_create(&p, snap, bad_annotation, len_of(bad_annotation)));
    CHECK_OK(ck_context_create(&ctx, 1));
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "unknown profile \"gold\"",
                ck_score_pod(&res, NULL, 0, NULL, 0, engine, snap, p, ctx, NULL));
    ck_context_free(ctx);
    ck_pod_free(p);
  }

  /* The pending pods of a PodList-shaped file, in order. */
  {
    ck_pod_list* list = NULL;
    char* text = ck_test_read("examples/cluster/pods.yaml", &len);
    const char* keys[] = {"shop/web-7d9f", "ml/trainer-0", "batch/etl-4411", "batch/huge-0",
                          "default/debug-shell"};
    CHECK_OK(ck_pod_list_create(&list, snap, text, len, "pods.yaml"));
    CHECK(ck_pod_list_count(list) == 5);
    for (i = 0; i < 5 && i < ck_pod_list_count(list); ++i) {
      CHECK(strcmp(ck_pod_key(ck_pod_list_get(list, i)), keys[i]) == 0);
      CHECK(ck_pod_list_pods(list)[i] == ck_pod_list_get(list, i));
    }
    CHECK(ck_pod_list_get(list, 5) == NULL);
    CHECK(ck_pod_list_count(NULL) == 0 && ck_pod_list_get(NULL, 0) == NULL &&
          ck_pod_list_pods(NULL) == NULL);
    {
      ck_pod_result out[5];
      CHECK_OK(ck_context_create(&ctx, 1));
      CHECK_OK(ck_score_batch(out, 5, NULL, 0, engine, snap, ck_pod_list_pods(list), 5, ctx, NULL));
      CHECK(out[3].selected == -1 && out[0].selected >= 0);
      ck_context_free(ctx);
    }
    ck_pod_list_free(list);
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "bad.yaml",
                ck_pod_list_create(&list, snap, "[1, 2", 5, "bad.yaml"));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "snapshot is NULL",
                ck_pod_list_create(&list, NULL, text, len, NULL));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
                ck_pod_list_create(NULL, snap, text, len, NULL));
    free(text);
    ck_pod_list_free(NULL);
  }

  /* One pod: as `carbonkube score` (scripts/run.sh) places shop/web-7d9f. */
  CHECK_OK(ck_context_create(&ctx, 1));
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "scored no pod", ck_context_explain(&len, buf, sizeof buf, ctx));
  CHECK_OK(ck_score_pod(&res, nodes, 6, scores, 42, engine, snap, web, ctx, NULL));
  CHECK(res.status == CK_OK && res.profile == 0 && res.processed == 6);
  CHECK(res.selected >= 0 &&
        strcmp(ck_snapshot_node_name(snap, (size_t)res.selected), "no-1a") == 0);
  {
    size_t feasible = 0;
    for (i = 0; i < n; ++i) {
      CHECK(nodes[i].state != CK_NODE_NOT_EVALUATED);
      if (nodes[i].state == CK_NODE_FEASIBLE) {
        ++feasible;
        CHECK(nodes[i].failed_filter == -1);
        CHECK(nodes[i].total == weighted(engine, 0, scores + i * plugins, plugins));
        CHECK(nodes[i].total <= res.total);
      } else {
        size_t j;
        CHECK(nodes[i].failed_filter >= 0 &&
              (size_t)nodes[i].failed_filter < ck_engine_filter_plugin_count(engine, 0));
        CHECK(nodes[i].reasons != 0);
        for (j = 0; j < plugins; ++j) CHECK(scores[i * plugins + j] == -1);
        CHECK_OK(ck_context_node_reasons(&len, buf, sizeof buf, ctx, i));
        CHECK(len > 0 &&
              strncmp(buf, ck_engine_filter_plugin_name(engine, 0, (size_t)nodes[i].failed_filter),
                      strlen(ck_engine_filter_plugin_name(engine, 0,
                                                          (size_t)nodes[i].failed_filter))) == 0);
      }
    }
    CHECK(feasible == res.feasible && feasible == 4);
    /* NodeAffinity (plugin 1) skips a pod without preferred terms: -1, not 0. */
    CHECK(strcmp(ck_engine_score_plugin_name(engine, 0, 1), "NodeAffinity") == 0);
    CHECK(scores[(size_t)res.selected * plugins + 1] == -1);
    CHECK(nodes[res.selected].total == res.total);
  }
  CHECK_OK(ck_context_node_reasons(&len, buf, sizeof buf, ctx, (size_t)res.selected));
  CHECK(len == 0 && buf[0] == '\0');
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "node index 6",
              ck_context_node_reasons(&len, buf, sizeof buf, ctx, 6));
  /* Explanation JSON, with the two-call buffer protocol. */
  {
    size_t need = 0;
    char small[8] = "xxxxxxx";
    char* json;
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "bytes",
                ck_context_explain(&need, small, sizeof small, ctx));
    CHECK(need > sizeof small && strcmp(small, "xxxxxxx") == 0);
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "bytes", ck_context_explain(&need, NULL, 0, ctx));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "buffer is NULL",
                ck_context_explain(&need, NULL, 5, ctx));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out_len is NULL",
                ck_context_explain(NULL, small, sizeof small, ctx));
    json = (char*)malloc(need + 1);
    CHECK_OK(ck_context_explain(&len, json, need + 1, ctx));
    CHECK(len == need && json[len] == '\0');
    CHECK(strstr(json, "\"pod\":\"shop/web-7d9f\"") != NULL);
    CHECK(strstr(json, "\"selected\":\"no-1a\"") != NULL);
    CHECK(strstr(json, "\"CarbonAwareScore\"") != NULL);
    free(json);
  }

  /* Buffers too small: a status, nothing written. */
  {
    ck_pod_result before;
    memset(&before, 0x5a, sizeof before);
    res = before;
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "out_nodes holds 5 values; 6 are needed",
                ck_score_pod(&res, nodes, 5, NULL, 0, engine, snap, web, ctx, NULL));
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "out_scores holds 41 values; 42 are needed",
                ck_score_pod(&res, NULL, 0, scores, 41, engine, snap, web, ctx, NULL));
    CHECK(memcmp(&res, &before, sizeof res) == 0);
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "pod is NULL",
                ck_score_pod(&res, NULL, 0, NULL, 0, engine, snap, NULL, ctx, NULL));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "context is NULL",
                ck_score_pod(&res, NULL, 0, NULL, 0, engine, snap, web, NULL, NULL));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
                ck_score_pod(NULL, NULL, 0, NULL, 0, engine, snap, web, ctx, NULL));
  }
  /* Options: an explicit profile; one out of range. */
  {
    ck_score_options o = CK_SCORE_OPTIONS_INIT;
    o.profile = 0;
    CHECK_OK(ck_score_pod(&res, NULL, 0, NULL, 0, engine, snap, web, ctx, &o));
    CHECK(res.profile == 0);
    o.profile = 3;
    CHECK_FAILS(CK_ERROR_NOT_FOUND, "profile 3",
                ck_score_pod(&res, NULL, 0, NULL, 0, engine, snap, web, ctx, &o));
    o.struct_size = 0;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "struct_size",
                ck_score_pod(&res, NULL, 0, NULL, 0, engine, snap, web, ctx, &o));
  }
  /* A pod that fits nowhere. */
  CHECK_OK(ck_score_pod(&res, nodes, 6, NULL, 0, engine, snap, huge, ctx, NULL));
  CHECK(res.selected == -1 && res.feasible == 0 && res.total == 0);
  for (i = 0; i < n; ++i) CHECK(nodes[i].state == CK_NODE_INFEASIBLE);
  CHECK_OK(ck_context_node_reasons(&len, buf, sizeof buf, ctx, 0));
  CHECK(strstr(buf, "Insufficient cpu") != NULL);

  /* Batch: the same totals as one pod at a time; a bad pod does not stop it. */
  {
    const ck_pod* batch[3] = {web, huge, web};
    ck_pod_result out[3];
    int64_t totals[3 * 6];
    ck_node_result single[6];
    CHECK_OK(ck_score_batch(out, 3, totals, 18, engine, snap, batch, 3, ctx, NULL));
    CHECK(out[0].selected == out[2].selected || out[0].total == out[2].total);
    CHECK(out[1].selected == -1 && out[1].status == CK_OK);
    CHECK_OK(ck_score_pod(&res, single, 6, NULL, 0, engine, snap, web, ctx, NULL));
    CHECK(out[0].total == res.total && out[0].feasible == res.feasible);
    for (i = 0; i < n; ++i) {
      CHECK(totals[i] == (single[i].state == CK_NODE_FEASIBLE ? single[i].total : -1));
      CHECK(totals[6 + i] == -1);
      CHECK(totals[12 + i] == totals[i]);
    }
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "out holds 2 values",
                ck_score_batch(out, 2, NULL, 0, engine, snap, batch, 3, ctx, NULL));
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "out_totals holds 17 values; 18 are needed",
                ck_score_batch(out, 3, totals, 17, engine, snap, batch, 3, ctx, NULL));
    batch[1] = NULL;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "pods[1] is NULL",
                ck_score_batch(out, 3, NULL, 0, engine, snap, batch, 3, ctx, NULL));
    CHECK_OK(ck_score_batch(out, 0, NULL, 0, engine, snap, NULL, 0, ctx, NULL));
    /* Batch calls record no explanation. */
    CHECK_FAILS(CK_ERROR_NOT_FOUND, "scored no pod",
                ck_context_explain(&len, buf, sizeof buf, ctx));
  }

  /* Handles that do not belong together. */
  {
    ck_engine* other = NULL;
    ck_pod_result out[1];
    const ck_pod* batch[1] = {web};
    CHECK_OK(ck_engine_create(&other, NULL));
    CHECK_FAILS(CK_ERROR_MISMATCH, "another engine",
                ck_score_pod(&res, NULL, 0, NULL, 0, other, snap, web, ctx, NULL));
    CHECK_FAILS(CK_ERROR_MISMATCH, "another engine",
                ck_score_batch(out, 1, NULL, 0, other, snap, batch, 1, ctx, NULL));
    ck_engine_free(other);
  }

  /* Assume, then publish: kube-scheduler's queue, one pod at a time. The
   * old snapshot is untouched and stays usable after the cluster is freed. */
  {
    ck_snapshot* next = NULL;
    ck_node_result after[6];
    size_t chosen;
    CHECK_OK(ck_score_pod(&res, nodes, 6, NULL, 0, engine, snap, web, ctx, NULL));
    chosen = (size_t)res.selected;
    CHECK_OK(ck_cluster_assume(cluster, snap, web, chosen));
    CHECK_FAILS(CK_ERROR_NOT_FOUND, "node", ck_cluster_assume(cluster, snap, web, 6));
    CHECK_OK(ck_snapshot_publish(&next, cluster, engine, &so));
    ck_cluster_free(cluster);
    ck_signals_free(signals);
    CHECK_OK(ck_score_pod(&res, after, 6, NULL, 0, engine, next, web, ctx, NULL));
    /* The chosen node has less room now: its total cannot rise. */
    CHECK(after[chosen].state != CK_NODE_FEASIBLE || after[chosen].total <= nodes[chosen].total);
    CHECK(after[chosen].total != nodes[chosen].total || after[chosen].state != nodes[chosen].state);
    CHECK_OK(ck_score_pod(&res, after, 6, NULL, 0, engine, snap, web, ctx, NULL));
    CHECK(after[chosen].total == nodes[chosen].total);
    ck_snapshot_free(next);
  }
  ck_context_free(ctx);
  ck_pod_free(web);
  ck_pod_free(huge);
  ck_snapshot_free(snap);
  ck_engine_free(engine);
}

static void test_recompile_after_new_resource(void) {
  ck_engine* engine = NULL;
  ck_cluster* cluster = NULL;
  ck_snapshot* first = NULL;
  ck_snapshot* second = NULL;
  ck_pod* pod = NULL;
  ck_context* ctx = NULL;
  ck_pod_result res;
  const char* names[] = {"n0"};
  const char* resources[] = {"cpu", "memory", "pods", "example.com/fpga"};
  const int64_t cpu[] = {4000}, mem[] = {8LL << 30}, pods[] = {110}, fpga[] = {2};
  const int64_t* alloc[] = {cpu, mem, pods, fpga};
  ck_node_arrays na = CK_NODE_ARRAYS_INIT;
  CHECK_OK(ck_engine_create(&engine, NULL));
  CHECK_OK(ck_cluster_create(&cluster));
  na.count = 1;
  na.names = names;
  na.resource_count = 3;
  na.resource_names = resources;
  na.allocatable = alloc;
  CHECK_OK(ck_cluster_apply_node_arrays(cluster, &na));
  CHECK_OK(ck_snapshot_publish(&first, cluster, engine, NULL));
  CHECK_OK(ck_pod_create(&pod, first, kWebPod, len_of(kWebPod)));
  na.resource_count = 4;
  CHECK_OK(ck_cluster_apply_node_arrays(cluster, &na));
  CHECK_OK(ck_snapshot_publish(&second, cluster, engine, NULL));
  CHECK_OK(ck_context_create(&ctx, 1));
  CHECK_OK(ck_score_pod(&res, NULL, 0, NULL, 0, engine, first, pod, ctx, NULL));
  CHECK_FAILS(CK_ERROR_MISMATCH, "ck_pod_create",
              ck_score_pod(&res, NULL, 0, NULL, 0, engine, second, pod, ctx, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_context_create(NULL, 1));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_cluster_create(NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_signals_create(NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "cluster is NULL",
              ck_snapshot_publish(&second, NULL, engine, NULL));
  ck_context_free(ctx);
  ck_pod_free(pod);
  ck_snapshot_free(first);
  ck_snapshot_free(second);
  ck_cluster_free(cluster);
  ck_engine_free(engine);
}

static void test_reconciler(void) {
  ck_engine* engine = NULL;
  ck_reconciler* rec = NULL;
  ck_zone_decision d[3];
  ck_zone_input zones[3] = {{"ES", 150.0, 1}, {"NO", 30.0, 1}, {"DE", 0.0, 0}};
  ck_reconciler_options o = CK_RECONCILER_OPTIONS_INIT;
  const int64_t t0 = 1700000000;
  CHECK_OK(ck_engine_create(&engine, NULL));
  CHECK_OK(ck_reconciler_create(&rec, engine, NULL));
  CHECK_OK(ck_reconciler_reconcile(d, 3, rec, t0, zones, 3));
  CHECK(d[0].reason == CK_DECISION_FIRST_ASSIGNMENT && d[0].changed == 1 && d[0].previous == -1);
  CHECK(strcmp(ck_engine_qos_profile_name(engine, (size_t)d[0].profile), "mixed-burstable") == 0);
  CHECK(strcmp(ck_engine_qos_profile_name(engine, (size_t)d[1].profile), "green-guaranteed") == 0);
  CHECK(d[2].reason == CK_DECISION_NO_DATA_UNASSIGNED && d[2].profile == -1);
  CHECK(d[0].since_unix_seconds == t0);
  /* Greener a minute later: held by the minimum dwell time (900 s). */
  zones[0].g_per_kwh = 40.0;
  CHECK_OK(ck_reconciler_reconcile(d, 3, rec, t0 + 60, zones, 3));
  CHECK(d[0].reason == CK_DECISION_HELD_BY_DWELL && d[0].changed == 0);
  CHECK_OK(ck_reconciler_reconcile(d, 3, rec, t0 + 1000, zones, 3));
  CHECK(d[0].reason == CK_DECISION_MOVED_GREENER && d[0].changed == 1);
  CHECK(strcmp(ck_decision_reason_name(d[0].reason), "moved-greener") == 0);
  CHECK(strcmp(ck_decision_reason_name(99), "unknown") == 0);
  CHECK(strcmp(ck_decision_reason_name(-1), "unknown") == 0);
  /* Errors change no state. */
  {
    ck_zone_input dup[2] = {{"ES", 400.0, 1}, {"ES", 400.0, 1}};
    ck_zone_input empty[1] = {{"", 10.0, 1}};
    ck_zone_input null_zone[1] = {{NULL, 10.0, 1}};
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "ES",
                ck_reconciler_reconcile(d, 2, rec, t0 + 5000, dup, 2));
    CHECK(ck_reconciler_reconcile(d, 1, rec, t0 + 5000, empty, 1) == CK_ERROR_INVALID_INPUT);
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "zones[0].zone is NULL",
                ck_reconciler_reconcile(d, 1, rec, t0 + 5000, null_zone, 1));
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "out holds 2 values",
                ck_reconciler_reconcile(d, 2, rec, t0 + 5000, zones, 3));
    CHECK_OK(ck_reconciler_reconcile(d, 3, rec, t0 + 5000, zones, 3));
    CHECK(d[0].reason == CK_DECISION_UNCHANGED && d[0].previous == d[0].profile);
  }
  ck_reconciler_free(rec);
  o.min_dwell_seconds = -5;
  CHECK(ck_reconciler_create(&rec, engine, &o) == CK_ERROR_INVALID_INPUT);
  CHECK(strstr(ck_last_error(), "dwell") != NULL);
  o = (ck_reconciler_options)CK_RECONCILER_OPTIONS_INIT;
  o.hysteresis_fraction = 1.5;
  CHECK(ck_reconciler_create(&rec, engine, &o) != CK_OK);
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "engine is NULL", ck_reconciler_create(&rec, NULL, NULL));
  ck_engine_free(engine);
}

/* Forecasts from the bundled 2023 data, and plans checked against a brute
 * force over every start on a small curve. */
static void test_forecast_and_planner(void) {
  ck_signals* signals = example_signals();
  double f[24], naive[24], perfect[24];
  ck_plan plan;
  ck_run runs[8];
  const int64_t issue = 1689379200; /* 2023-07-15T00:00:00Z */
  int i;
  CHECK_OK(ck_signals_forecast(naive, 24, signals, "ES", 2, issue, CK_FORECAST_SEASONAL_NAIVE));
  CHECK_OK(ck_signals_forecast(perfect, 24, signals, "ES", 2, issue - 86400, CK_FORECAST_PERFECT));
  for (i = 0; i < 24; ++i) CHECK(naive[i] == perfect[i]); /* yesterday, hour by hour */
  CHECK_OK(ck_signals_forecast(f, 24, signals, "ES", 2, issue, CK_FORECAST_RIDGE));
  for (i = 0; i < 24; ++i) CHECK(isfinite(f[i]) && f[i] >= 0 && f[i] < 1000);
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "XX",
              ck_signals_forecast(f, 24, signals, "XX", 2, issue, CK_FORECAST_RIDGE));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "hour boundary",
              ck_signals_forecast(f, 24, signals, "ES", 2, issue + 60, CK_FORECAST_RIDGE));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "1..168",
              ck_signals_forecast(f, 0, signals, "ES", 2, issue, CK_FORECAST_RIDGE));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ck_forecast_model",
              ck_signals_forecast(f, 24, signals, "ES", 2, issue, (ck_forecast_model)9));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "history",
              ck_signals_forecast(f, 24, signals, "ES", 2, issue + 400 * 86400,
                                  CK_FORECAST_SEASONAL_NAIVE));

  {
    /* Hourly curve; a 2-hour job with a 10-hour window. */
    const double curve[12] = {300, 280, 250, 90, 80, 200, 60, 400, 400, 400, 400, 400};
    ck_job job = CK_JOB_INIT;
    double best = 1e300;
    int64_t best_start = -1, s;
    job.arrival = 0;
    job.duration_seconds = 7200;
    job.deadline = 10 * 3600;
    job.power_kw = 2.0;
    for (s = 0; s + 2 <= 10; ++s) { /* hour starts suffice: constant power, hourly cells */
      double g = 2.0 * (curve[s] + curve[s + 1]);
      if (g < best) best = g, best_start = s * 3600;
    }
    CHECK_OK(ck_plan_job(&plan, runs, 8, 0, 3600, curve, 12, &job));
    CHECK(plan.start == best_start && plan.run_count == 1 && plan.immediate == 0);
    CHECK(fabs(plan.expected_g - best) < 1e-9);
    CHECK(fabs(plan.immediate_g - 2.0 * (300 + 280)) < 1e-9);
    CHECK(runs[0].start == best_start && runs[0].end == best_start + 7200);
    /* Interruptible: the two cleanest hours of the window (60 and 80). */
    job.interruptible = 1;
    CHECK_OK(ck_plan_job(&plan, runs, 8, 0, 3600, curve, 12, &job));
    CHECK(plan.run_count == 2 && runs[0].start == 4 * 3600 && runs[1].start == 6 * 3600);
    CHECK(fabs(plan.expected_g - 2.0 * (80 + 60)) < 1e-9);
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "out_runs",
                ck_plan_job(&plan, runs, 1, 0, 3600, curve, 12, &job));
    job.interruptible = 0;
    job.deadline = 3600; /* shorter than the job */
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "deadline",
                ck_plan_job(&plan, runs, 8, 0, 3600, curve, 12, &job));
    job.deadline = 20 * 3600; /* past the curve */
    CHECK_FAILS(CK_ERROR_INVALID_INPUT, "", ck_plan_job(&plan, runs, 8, 0, 3600, curve, 12, &job));
    job.deadline = 10 * 3600;
    {
      const double bad[2] = {1.0, NAN};
      CHECK_FAILS(CK_ERROR_INVALID_INPUT, "", ck_plan_job(&plan, runs, 8, 0, 3600, bad, 2, &job));
    }
    {
      /* Runs partial in the arrival cell, the deadline cell and the last cell
       * used: duration / step + 3 = 4 runs. */
      const double c2[6] = {1, 100, 4, 3, 100, 2};
      ck_job j2 = CK_JOB_INIT;
      j2.arrival = 3599;
      j2.duration_seconds = 5400;
      j2.deadline = 18001;
      j2.interruptible = 1;
      CHECK_OK(ck_plan_job(&plan, runs, 5400 / 3600 + 3, 0, 3600, c2, 6, &j2));
      CHECK(plan.run_count == 4 && runs[0].start >= 3599 && runs[3].end <= 18001);
    }
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "job is NULL",
                ck_plan_job(&plan, runs, 8, 0, 3600, curve, 12, NULL));
    job.struct_size = 4;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "struct_size",
                ck_plan_job(&plan, runs, 8, 0, 3600, curve, 12, &job));
  }
  ck_signals_free(signals);
}

/* A node name that is not UTF-8, from plain arrays: scoring and the JSON
 * explanation still work (found by fuzz/targets/fuzz_capi.cpp). */
static void test_non_utf8_names(void) {
  ck_engine* engine;
  ck_cluster* cluster;
  ck_snapshot* snap;
  ck_pod* pod;
  ck_context* ctx;
  ck_pod_result r;
  size_t len = 0;
  char buffer[4096];
  const char* names[1] = {"bad\xff\xfename"};
  const char* resources[3] = {"cpu", "memory", "pods"};
  const int64_t cpu[1] = {4000}, mem[1] = {(int64_t)8 << 30}, pods[1] = {110};
  const int64_t* alloc[3] = {cpu, mem, pods};
  ck_node_arrays a = CK_NODE_ARRAYS_INIT;
  a.count = 1;
  a.names = names;
  a.resource_count = 3;
  a.resource_names = resources;
  a.allocatable = alloc;
  CHECK_OK(ck_engine_create(&engine, NULL));
  CHECK_OK(ck_cluster_create(&cluster));
  CHECK_OK(ck_cluster_apply_node_arrays(cluster, &a));
  CHECK_OK(ck_snapshot_publish(&snap, cluster, engine, NULL));
  CHECK_OK(ck_pod_create(&pod, snap, kWebPod, len_of(kWebPod)));
  CHECK_OK(ck_context_create(&ctx, 1));
  CHECK_OK(ck_score_pod(&r, NULL, 0, NULL, 0, engine, snap, pod, ctx, NULL));
  CHECK(r.selected == 0);
  CHECK_OK(ck_context_explain(&len, buffer, sizeof buffer, ctx));
  CHECK(strstr(buffer, "\"bad\xef\xbf\xbd") != NULL); /* U+FFFD */
  ck_context_free(ctx);
  ck_pod_free(pod);
  ck_snapshot_free(snap);
  ck_cluster_free(cluster);
  ck_engine_free(engine);
}

/* The allocator: the seed's carbon rule on an external recommendation, the
 * built-in recommender and the RL, learning, save/restore, errors. */
static void test_allocator(void) {
  ck_allocator* a;
  ck_allocator_options o = CK_ALLOCATOR_OPTIONS_INIT;
  ck_workload w = CK_WORKLOAD_INIT;
  ck_allocation r;
  ck_allocation_outcome outcome = CK_ALLOCATION_OUTCOME_INIT;
  ck_recommendation ext;
  double rewards[2];
  size_t len = 0, len2 = 0;
  char *saved, *again;
  int32_t counted = -1;
  int i;
  const double gib = 1073741824.0;
  const int64_t t0 = 1672531200;

  memset(&ext, 0, sizeof ext);
  ext.target.cpu_cores = 1.0;
  ext.target.memory_bytes = 2 * gib;
  ext.lower_bound.cpu_cores = 0.5;
  ext.lower_bound.memory_bytes = 1 * gib;
  ext.upper_bound.cpu_cores = 2.0;
  ext.upper_bound.memory_bytes = 4 * gib;
  ext.uncapped_target = ext.target;
  ext.has_data = 1;

  o.use_rl = 0;
  CHECK_OK(ck_allocator_create(&a, &o));
  w.namespace_name = "shop";
  w.name = "web";
  w.external = &ext;
  w.intensity_g_per_kwh = 450; /* dirty: x0.8 CPU, x0.9 memory */
  CHECK_OK(ck_allocator_allocate(&r, a, &w));
  CHECK(r.carbon_band == CK_BAND_DIRTY && r.used_rl == 0 && r.decision_id == 0);
  CHECK(fabs(r.requests.cpu_cores - 0.8) < 1e-12 && fabs(r.requests.memory_bytes - 1.8 * gib) < 1);
  w.intensity_g_per_kwh = 50; /* green: x1.2 / x1.1 and the priority boost */
  CHECK_OK(ck_allocator_allocate(&r, a, &w));
  CHECK(r.carbon_band == CK_BAND_GREEN && r.priority_boost == 1);
  CHECK(fabs(r.requests.cpu_cores - 1.2) < 1e-12);
  w.intensity_g_per_kwh = -1; /* unknown: neutral */
  CHECK_OK(ck_allocator_allocate(&r, a, &w));
  CHECK(r.carbon_band == CK_BAND_UNKNOWN && r.requests.cpu_cores == 1.0);
  w.sla_tier = CK_SLA_CRITICAL;
  w.resource_guarantee = 1.0;
  w.intensity_g_per_kwh = 450; /* critical: never below the target */
  CHECK_OK(ck_allocator_allocate(&r, a, &w));
  CHECK(r.requests.cpu_cores == 1.0 && r.requests.memory_bytes == 2 * gib);
  w.sla_tier = 7;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "sla_tier", ck_allocator_allocate(&r, a, &w));
  w.sla_tier = CK_SLA_STANDARD;
  w.name = NULL;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "name", ck_allocator_allocate(&r, a, &w));
  w.name = "web";
  ext.target.cpu_cores = NAN;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "finite", ck_allocator_allocate(&r, a, &w));
  ext.target.cpu_cores = 1.0;
  ck_allocator_free(a);

  o.threshold_g_per_kwh = 50; /* below the green threshold */
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "threshold", ck_allocator_create(&a, &o));

  /* The built-in recommender and the RL. */
  o = (ck_allocator_options)CK_ALLOCATOR_OPTIONS_INIT;
  o.seed = 7;
  CHECK_OK(ck_allocator_create(&a, &o));
  for (i = 0; i < 2 * 288; ++i)
    CHECK_OK(ck_allocator_add_usage(a, "prod", "api", NULL, t0 + 300 * i, 0.5 + 0.3 * sin(i / 20.0),
                                    1.0, 1 * gib));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "prod/api",
              ck_allocator_add_usage(a, "prod", "api", NULL, t0, 1.0, 1.0, gib));
  CHECK_OK(ck_allocator_record_oom(&counted, a, "prod", "api", NULL, t0 + 2 * 86400 - 60, gib));
  CHECK(counted == 1);
  w = (ck_workload)CK_WORKLOAD_INIT;
  w.namespace_name = "prod";
  w.name = "api";
  w.unix_seconds = t0 + 2 * 86400;
  w.mean_cpu_cores = 0.5;
  w.peak_cpu_cores = 0.8;
  CHECK_OK(ck_allocator_allocate(&r, a, &w));
  CHECK(r.used_rl == 1 && r.decision_id != 0 && r.base.has_data == 1);
  CHECK(r.requests.cpu_cores >= r.base.lower_bound.cpu_cores * (1 - 1e-9));
  CHECK(r.requests.cpu_cores <= r.base.upper_bound.cpu_cores * (1 + 1e-9));
  CHECK(r.cpu_propensity > 0 && r.cpu_propensity <= 1);
  outcome.cpu_slack_fraction = 0.3;
  CHECK_OK(ck_allocator_learn(rewards, a, r.decision_id, &outcome));
  CHECK(isfinite(rewards[0]) && isfinite(rewards[1]));
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "no pending decision",
              ck_allocator_learn(NULL, a, r.decision_id, &outcome));

  CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "needed", ck_allocator_save(&len, NULL, 0, a));
  saved = malloc(len + 1);
  CHECK_OK(ck_allocator_save(&len, saved, len + 1, a));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "", ck_allocator_restore(a, "{not json", 9));
  CHECK_OK(ck_allocator_restore(a, saved, len));
  CHECK(ck_allocator_save(&len2, NULL, 0, a) == CK_ERROR_BUFFER_TOO_SMALL);
  CHECK(len2 == len);
  again = malloc(len2 + 1);
  CHECK_OK(ck_allocator_save(&len2, again, len2 + 1, a));
  CHECK(strcmp(saved, again) == 0); /* the failed restore changed nothing */
  free(saved);
  free(again);
  ck_allocator_free(a);
  ck_allocator_free(NULL);
}

/* ------------------------------------------------------------------------
 * Ledger, budgets, the budget hook, migration advisor, metrics, limits. */

_Static_assert(CK_BUDGET_DEFER == 2, "pinned");
_Static_assert(CK_SCOPE_ZONE == 3, "pinned");
_Static_assert(CK_MIGRATION_FINISHED == 8, "pinned");

static const char kShopProfile[] =
    "apiVersion: carbon.katalyst.io/v1alpha1\nkind: CarbonProfile\n"
    "metadata: {name: shop, namespace: shop}\n"
    "spec:\n  carbonBudget: {dailyLimit: 0.05, threshold: 300, greenThreshold: 100}\n"
    "  migrationPolicy: {enabled: true, strategy: carbon-aware, cooldownPeriod: 10m, "
    "maxMigrationsPerHour: 1}\n";

static void test_ledger(void) {
  ck_ledger* ledger = NULL;
  ck_ledger* untouched = (ck_ledger*)&untouched;
  ck_ledger_options o = CK_LEDGER_OPTIONS_INIT;
  ck_usage_record u = CK_USAGE_RECORD_INIT;
  ck_carbon_totals t;
  ck_budget_status b;
  double sci = 0;
  const double curve[2] = {100.0, 200.0};
  const int64_t t0 = 1672531200; /* 2023-01-01T00:00:00Z */
  size_t len = 0;
  char buf[512];

  CHECK_OK(ck_ledger_create(&ledger, NULL));
  ck_ledger_free(ledger);
  o.base.pue = 0.5;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "pue", ck_ledger_create(&untouched, &o));
  o = (ck_ledger_options)CK_LEDGER_OPTIONS_INIT;
  o.idle_attribution = 7;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "idle_attribution 7", ck_ledger_create(&untouched, &o));
  o = (ck_ledger_options)CK_LEDGER_OPTIONS_INIT;
  o.warn_fraction = 0;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "warn_fraction", ck_ledger_create(&untouched, &o));
  o = (ck_ledger_options)CK_LEDGER_OPTIONS_INIT;
  o.struct_size = 4;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "struct_size", ck_ledger_create(&untouched, &o));
  CHECK(untouched == (ck_ledger*)&untouched);
  CHECK_OK(ck_ledger_create(&ledger, NULL));

  /* 1 kW over [00:30, 01:30) of a 100 then 200 g/kWh curve: 0.5 kWh at
   * each, 150 g; embodied 10 g/h for 1 h. */
  u.pod = "ns/p";
  u.namespace_name = "ns";
  u.tenant = "team-a";
  u.zone = "ES";
  u.start = t0 + 1800;
  u.end = t0 + 5400;
  u.watts = 1000;
  u.embodied_g_per_hour = 10;
  CHECK_OK(ck_ledger_record(ledger, &u, t0, 3600, curve, 2, CK_KIND_AVERAGE_LIFECYCLE));
  CHECK_OK(ck_ledger_day(&t, ledger, CK_SCOPE_POD, "ns/p", 4, t0));
  CHECK(fabs(t.energy_kwh - 1.0) < 1e-9 && fabs(t.operational_g - 150.0) < 1e-9);
  CHECK(fabs(t.embodied_g - 10.0) < 1e-9 && fabs(t.total_g - 160.0) < 1e-9 && t.seconds == 3600);
  CHECK_OK(ck_ledger_month(&t, ledger, CK_SCOPE_TENANT, "team-a", 6, 2023, 1));
  CHECK(fabs(t.total_g - 160.0) < 1e-9);
  CHECK_OK(ck_ledger_month(&t, ledger, CK_SCOPE_TENANT, "team-a", 6, 2023, 2));
  CHECK(t.total_g == 0.0);
  CHECK_OK(ck_ledger_total(&t, ledger, CK_SCOPE_ZONE, "ES", 2));
  CHECK(fabs(t.operational_g - 150.0) < 1e-9);
  CHECK_OK(ck_ledger_total(&t, ledger, CK_SCOPE_NAMESPACE, "nobody", 6));
  CHECK(t.total_g == 0.0 && t.seconds == 0);
  CHECK_OK(ck_sci(&sci, &t, 1.0));
  CHECK(sci == 0.0);
  CHECK_OK(ck_ledger_total(&t, ledger, CK_SCOPE_NAMESPACE, "ns", 2));
  CHECK_OK(ck_sci(&sci, &t, 4.0)); /* per 4 functional units */
  CHECK(fabs(sci - 40.0) < 1e-9);
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "functional units", ck_sci(&sci, &t, 0.0));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "functional units", ck_sci(&sci, &t, NAN));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "totals is NULL", ck_sci(&sci, NULL, 1.0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "scope 9",
              ck_ledger_total(&t, ledger, (ck_ledger_scope)9, "ns", 2));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "month 13",
              ck_ledger_month(&t, ledger, CK_SCOPE_POD, "ns/p", 4, 2023, 13));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "name is NULL",
              ck_ledger_day(&t, ledger, CK_SCOPE_POD, NULL, 4, t0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ledger is NULL",
              ck_ledger_day(&t, NULL, CK_SCOPE_POD, "ns/p", 4, t0));

  /* Record errors: nothing is booked. */
  u.watts = -1;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "ns/p", ck_ledger_record(ledger, &u, t0, 3600, curve, 2, -1));
  u.watts = 1000;
  u.end = t0 + 4 * 3600; /* past the curve */
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "", ck_ledger_record(ledger, &u, t0, 3600, curve, 2, -1));
  u.end = t0 + 5400;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "kind",
              ck_ledger_record(ledger, &u, t0, 3600, curve, 2, CK_KIND_MARGINAL_DIRECT));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "kind 4",
              ck_ledger_record(ledger, &u, t0, 3600, curve, 2, 4));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "values is NULL",
              ck_ledger_record(ledger, &u, t0, 3600, NULL, 2, -1));
  u.pod = NULL;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "usage->pod is NULL",
              ck_ledger_record(ledger, &u, t0, 3600, curve, 2, -1));
  u.pod = "ns/p";
  CHECK_OK(ck_ledger_total(&t, ledger, CK_SCOPE_POD, "ns/p", 4));
  CHECK(fabs(t.total_g - 160.0) < 1e-9);

  /* Budgets: 0.1 kg a day; a second record crosses it mid-interval. */
  CHECK_OK(ck_ledger_set_daily_limit(ledger, "ns", 2, 0.1));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "", ck_ledger_set_daily_limit(ledger, "ns", 2, -1));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "namespace is empty",
              ck_ledger_set_daily_limit(ledger, "", 0, 1));
  CHECK_OK(ck_ledger_budget(&b, ledger, "ns", 2, t0 + 7000));
  CHECK(b.exceeded == 1 && fabs(b.used_kg - 0.16) < 1e-12 && fabs(b.fraction - 1.6) < 1e-9);
  CHECK(b.day_start == t0 && b.limit_kg == 0.1);
  CHECK_OK(ck_ledger_budget(&b, ledger, "free", 4, t0));
  CHECK(isinf(b.limit_kg) && b.exceeded == 0 && b.fraction == 0.0 && b.has_exceeded_at == 0);
  CHECK_OK(ck_ledger_set_profile(ledger, kShopProfile, len_of(kShopProfile), "shop.yaml"));
  CHECK_OK(ck_ledger_budget(&b, ledger, "shop", 4, t0));
  CHECK(b.limit_kg == 0.05);
  CHECK_FAILS(
      CK_ERROR_INVALID_INPUT, "bad.yaml",
      ck_ledger_set_profile(ledger, "spec: {carbonBudget: {dailyLimit: x}}", 37, "bad.yaml"));
  CHECK_OK(ck_ledger_skipped(&len, buf, sizeof buf, ledger));
  CHECK(len == 0);
  ck_ledger_free(ledger);
}

/* Accounting a real cluster (examples/cluster) for an hour on the bundled
 * data: every watt of the nodes is booked somewhere (pods or _idle), so the
 * zones' energy adds up to the nodes' power over the hour. */
static void test_ledger_account(void) {
  ck_engine* engine = example_engine();
  ck_signals* signals = example_signals();
  ck_ledger* ledger = NULL;
  ck_account_result r;
  ck_carbon_totals t;
  size_t len = 0, nlen = 0;
  char* nodes = ck_test_read("examples/cluster/nodes.json", &nlen);
  char* pods = ck_test_read("examples/cluster/pods.yaml", &len);
  char* both = (char*)malloc(nlen + len + 8);
  const char* zones[] = {"US-CAL-CISO", "ES", "NO"};
  double kwh = 0;
  size_t i;
  ck_cluster* tiny = NULL;
  ck_limits lim = CK_LIMITS_INIT;
  /* Two YAML documents: the pod list and the node list (JSON is YAML). */
  memcpy(both, pods, len);
  memcpy(both + len, "\n---\n", 5);
  memcpy(both + len + 5, nodes, nlen);
  both[nlen + 5 + len] = '\0';
  CHECK_OK(ck_ledger_create(&ledger, NULL));
  CHECK_OK(ck_ledger_account(&r, ledger, engine, signals, NULL, both, nlen + 5 + len, "cluster",
                             kAt - 3600, kAt));
  /* api-0, db-0, cache-0; report-28391 has Succeeded, the rest are pending. */
  CHECK(r.pods_booked == 3 && r.pods_skipped == 0 && r.node_watts > 0);
  for (i = 0; i < 3; ++i) {
    CHECK_OK(ck_ledger_total(&t, ledger, CK_SCOPE_ZONE, zones[i], strlen(zones[i])));
    CHECK(t.energy_kwh > 0);
    kwh += t.energy_kwh;
  }
  CHECK(fabs(kwh - r.node_watts / 1000.0) < 1e-6 * kwh);
  CHECK_OK(ck_ledger_total(&t, ledger, CK_SCOPE_NAMESPACE, "shop", 4));
  CHECK(t.operational_g > 0 && t.embodied_g > 0 && t.seconds == 3 * 3600);
  CHECK_OK(ck_ledger_total(&t, ledger, CK_SCOPE_NAMESPACE, "batch", 5));
  CHECK(t.total_g == 0.0);
  /* Limits of the cluster handle apply to the objects parsed. */
  CHECK_OK(ck_cluster_create(&tiny));
  lim.max_bytes = 100;
  CHECK_OK(ck_cluster_set_limits(&lim, tiny, &lim));
  CHECK(lim.max_bytes == 100 && lim.max_objects == 1000000 && lim.max_depth == 128);
  CHECK_FAILS(CK_ERROR_LIMIT_EXCEEDED, "over the limit of 100 bytes",
              ck_ledger_account(&r, ledger, engine, signals, tiny, both, nlen + 5 + len, "cluster",
                                kAt - 3600, kAt));
  CHECK_FAILS(CK_ERROR_LIMIT_EXCEEDED, "over the limit of 100 bytes",
              ck_cluster_apply(NULL, tiny, both, nlen + 5 + len, "cluster"));
  CHECK(ck_cluster_node_count(tiny) == 0);
  lim.max_bytes = 0;
  lim.max_objects = 3;
  CHECK_OK(ck_cluster_set_limits(NULL, tiny, &lim));
  CHECK_FAILS(CK_ERROR_LIMIT_EXCEEDED, "limit of 3 objects",
              ck_cluster_apply(NULL, tiny, both, nlen + 5 + len, "cluster"));
  CHECK_OK(ck_cluster_set_limits(&lim, tiny, NULL)); /* back to the defaults */
  CHECK(lim.max_objects == 1000000);
  CHECK_OK(ck_cluster_apply(NULL, tiny, both, nlen + 5 + len, "cluster"));
  lim.struct_size = 3;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ck_limits.struct_size",
              ck_cluster_set_limits(NULL, tiny, &lim));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "cluster is NULL",
              ck_cluster_set_limits(NULL, NULL, NULL));
  {
    /* The engine's limits apply to the Pods parsed for it; an older
     * caller's engine options (without `limits`) still work. */
    ck_engine_options eo = CK_ENGINE_OPTIONS_INIT;
    ck_engine* limited = NULL;
    ck_snapshot* snap = NULL;
    ck_pod_list* list = NULL;
    ck_limits el = CK_LIMITS_INIT;
    el.max_objects = 2;
    eo.limits = &el;
    CHECK_OK(ck_engine_create(&limited, &eo));
    CHECK_OK(ck_snapshot_publish(&snap, tiny, limited, NULL));
    CHECK_FAILS(CK_ERROR_LIMIT_EXCEEDED, "limit of 2 objects",
                ck_pod_list_create(&list, snap, pods, len, "pods.yaml"));
    CHECK(list == NULL);
    ck_snapshot_free(snap);
    ck_engine_free(limited);
    eo.limits = NULL;
    eo.struct_size = offsetof(ck_engine_options, limits);
    CHECK_OK(ck_engine_create(&limited, &eo));
    CHECK_OK(ck_snapshot_publish(&snap, tiny, limited, NULL));
    CHECK_OK(ck_pod_list_create(&list, snap, pods, len, "pods.yaml"));
    CHECK(ck_pod_list_count(list) == 5);
    ck_pod_list_free(list);
    ck_snapshot_free(snap);
    ck_engine_free(limited);
    /* ... and to its configuration. */
    el.max_objects = 0;
    el.max_bytes = 10;
    eo = (ck_engine_options)CK_ENGINE_OPTIONS_INIT;
    eo.limits = &el;
    eo.zone_map = "regions: {us-west-1: US-CAL-CISO}\n";
    eo.zone_map_len = strlen(eo.zone_map);
    CHECK_FAILS(CK_ERROR_LIMIT_EXCEEDED, "zone_map", ck_engine_create(&limited, &eo));
    eo.zone_map = NULL;
    eo.zone_map_len = 0;
    eo.qos_profiles = kShopProfile;
    eo.qos_profiles_len = len_of(kShopProfile);
    CHECK_FAILS(CK_ERROR_LIMIT_EXCEEDED, "qos_profiles", ck_engine_create(&limited, &eo));
    el.struct_size = 1;
    eo = (ck_engine_options)CK_ENGINE_OPTIONS_INIT;
    eo.limits = &el;
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ck_limits.struct_size",
                ck_engine_create(&limited, &eo));
  }
  {
    ck_limits sl = CK_LIMITS_INIT;
    size_t skipped = 0;
    char* text = ck_test_read("data/carbon/electricitymaps/ES_2023_hourly.csv", &len);
    sl.max_bytes = 1000;
    CHECK_OK(ck_signals_set_limits(NULL, signals, &sl));
    CHECK_FAILS(CK_ERROR_LIMIT_EXCEEDED, "limit of 1000 bytes",
                ck_signals_load(&skipped, signals, CK_SIGNALS_ELECTRICITYMAPS_CSV, text, len,
                                "es.csv", -1));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "signals is NULL",
                ck_signals_set_limits(NULL, NULL, NULL));
    /* Format detection: the one rule of the library, and CK_SIGNALS_AUTO. */
    {
      ck_signal_format f = CK_SIGNALS_AUTO;
      ck_signals* fresh = NULL;
      const char watttime[] = "{\"data\": [{\"point_time\": \"2024-01-01T00:00:00Z\"}]}";
      const char uk[] = "{\"data\": [{\"intensity\": {\"actual\": 1}}]}";
      CHECK_OK(ck_signals_detect_format(&f, text, len, "es.csv"));
      CHECK(f == CK_SIGNALS_ELECTRICITYMAPS_CSV);
      CHECK_OK(ck_signals_detect_format(&f, text, len, NULL)); /* by its header */
      CHECK(f == CK_SIGNALS_ELECTRICITYMAPS_CSV);
      CHECK_OK(ck_signals_detect_format(&f, watttime, len_of(watttime), "wt.json"));
      CHECK(f == CK_SIGNALS_WATTTIME_JSON);
      CHECK_OK(ck_signals_detect_format(&f, uk, len_of(uk), NULL));
      CHECK(f == CK_SIGNALS_UK_CARBON_INTENSITY_JSON);
      CHECK_FAILS(CK_ERROR_INVALID_INPUT, "mystery.json: cannot tell the carbon data format",
                  ck_signals_detect_format(&f, "{}", 2, "mystery.json"));
      CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
                  ck_signals_detect_format(NULL, "{}", 2, NULL));
      CHECK_OK(ck_signals_create(&fresh));
      CHECK_OK(ck_signals_load(&skipped, fresh, CK_SIGNALS_AUTO, text, len, "ES_2023.csv", -1));
      CHECK(ck_signals_zone_count(fresh) == 1 && ck_signals_newest_time(fresh) == 1704063600);
      CHECK_FAILS(CK_ERROR_INVALID_INPUT, "x.json: cannot tell",
                  ck_signals_load(&skipped, fresh, CK_SIGNALS_AUTO, "{}", 2, "x.json", -1));
      ck_signals_free(fresh);
    }
    free(text);
  }
  /* Errors. */
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "bad.json",
              ck_ledger_account(&r, ledger, engine, signals, NULL, "{\"kind\": ", 9, "bad.json",
                                kAt - 3600, kAt));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "signals is NULL",
              ck_ledger_account(&r, ledger, engine, NULL, NULL, both, 1, NULL, kAt - 3600, kAt));
  {
    ck_engine* no_zones = NULL;
    CHECK_OK(ck_engine_create(&no_zones, NULL));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "zone map",
                ck_ledger_account(&r, ledger, no_zones, signals, NULL, both, nlen + 5 + len, NULL,
                                  kAt - 3600, kAt));
    ck_engine_free(no_zones);
  }
  ck_cluster_free(tiny);
  free(both);
  free(nodes);
  free(pods);
  ck_ledger_free(ledger);
  ck_signals_free(signals);
  ck_engine_free(engine);
}

static size_t score_plugin(const ck_engine* e, const char* name) {
  size_t p;
  for (p = 0; p < ck_engine_score_plugin_count(e, 0); ++p)
    if (strcmp(ck_engine_score_plugin_name(e, 0, p), name) == 0) return p;
  return SIZE_MAX;
}

/* The budget hook through a snapshot published with a ledger: the example
 * cluster at the example hour, namespace shop over its 0.05 kg budget. */
static void test_budget_hook(void) {
  ck_engine* engine = example_engine();
  ck_signals* signals = example_signals();
  ck_cluster* cluster = example_cluster();
  ck_ledger* ledger = NULL;
  ck_snapshot *plain = NULL, *over = NULL;
  ck_snapshot_options so = CK_SNAPSHOT_OPTIONS_INIT;
  ck_usage_record u = CK_USAGE_RECORD_INIT;
  ck_pod *web = NULL, *batch = NULL;
  ck_context* ctx = NULL;
  ck_pod_result res;
  ck_node_result nodes[6];
  int64_t scores[6 * 7];
  ck_budget_advice a;
  const size_t plugins = ck_engine_score_plugin_count(engine, 0);
  const size_t carbon = score_plugin(engine, "CarbonAwareScore");
  size_t i, len = 0, need = 0;
  char buf[1024];
  const char deferrable[] =
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7d9f\n  namespace: shop\n"
      "  annotations: {carbon-kube.io/expected-duration: 1h, carbon-kube.io/max-delay: 48h}\n"
      "spec:\n  containers:\n  - name: web\n"
      "    resources: {requests: {cpu: \"1\", memory: 2Gi}}\n";
  CHECK(carbon < plugins);
  CHECK_OK(ck_ledger_create(&ledger, NULL));
  CHECK_OK(ck_ledger_set_profile(ledger, kShopProfile, len_of(kShopProfile), "shop.yaml"));
  /* 1 kW in Spain over the hour before: ~0.1 kg, over 0.05. */
  u.pod = "shop/earlier";
  u.namespace_name = "shop";
  u.zone = "ES";
  u.start = kAt - 3600;
  u.end = kAt;
  u.watts = 1000;
  CHECK_OK(ck_ledger_record_signals(ledger, &u, signals));
  u.zone = "XX";
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "zone \"XX\"", ck_ledger_record_signals(ledger, &u, signals));

  so.signals = signals;
  so.at = kAt;
  CHECK_OK(ck_snapshot_publish(&plain, cluster, engine, &so));
  so.ledger = ledger;
  CHECK_OK(ck_snapshot_publish(&over, cluster, engine, &so));
  ck_ledger_free(ledger); /* the snapshot keeps its own copy of the states */
  CHECK_OK(ck_pod_create(&web, over, kWebPod, len_of(kWebPod)));
  CHECK_OK(ck_pod_create(&batch, over, deferrable, len_of(deferrable)));
  CHECK_OK(ck_context_create(&ctx, 1));

  /* Not deferrable: placed, the zones above 100 g/kWh score 0. */
  CHECK_OK(ck_score_pod(&res, nodes, 6, scores, 42, engine, plain, web, ctx, NULL));
  CHECK(res.selected >= 0 &&
        strcmp(ck_snapshot_node_name(plain, (size_t)res.selected), "no-1a") == 0);
  {
    /* Feasible nodes outside Norway (California 221, Spain 114 g/kWh at
     * this hour, both above greenThreshold 100) drop to 0; Norway keeps its score. */
    int64_t plain_scores[6 * 7];
    int32_t feasible[6];
    size_t dirty = 0;
    memcpy(plain_scores, scores, sizeof scores);
    for (i = 0; i < 6; ++i) feasible[i] = nodes[i].state == CK_NODE_FEASIBLE;
    CHECK_OK(ck_score_pod(&res, nodes, 6, scores, 42, engine, over, web, ctx, NULL));
    CHECK(res.selected >= 0 &&
          strcmp(ck_snapshot_node_name(over, (size_t)res.selected), "no-1a") == 0);
    for (i = 0; i < 6; ++i) {
      if (!feasible[i]) continue;
      if (strncmp(ck_snapshot_node_name(over, i), "no-", 3) == 0) {
        CHECK(scores[i * plugins + carbon] == plain_scores[i * plugins + carbon]);
      } else {
        ++dirty;
        CHECK(plain_scores[i * plugins + carbon] > 0);
        CHECK(scores[i * plugins + carbon] == 0);
      }
    }
    CHECK(dirty >= 2);
  }
  CHECK_OK(ck_snapshot_budget_advice(&a, NULL, NULL, 0, over, web));
  CHECK(a.action == CK_BUDGET_PREFER_GREENER && a.max_intensity_g_per_kwh == 100.0);
  CHECK_OK(ck_snapshot_budget_advice(&a, NULL, NULL, 0, plain, web));
  CHECK(a.action == CK_BUDGET_NONE && isinf(a.max_intensity_g_per_kwh));

  /* Deferrable: every node fails CarbonAwareFilter, with the reason. */
  CHECK_OK(ck_score_pod(&res, nodes, 6, NULL, 0, engine, over, batch, ctx, NULL));
  CHECK(res.selected == -1 && res.feasible == 0);
  {
    /* The 4 nodes it fits on fail the budget; the others fail as before. */
    size_t deferred = 0;
    for (i = 0; i < 6; ++i) {
      CHECK(nodes[i].state == CK_NODE_INFEASIBLE);
      CHECK_OK(ck_context_node_reasons(&len, buf, sizeof buf, ctx, i));
      if (strstr(buf, "CarbonAwareFilter") != buf) continue;
      ++deferred;
      CHECK(strstr(buf, "over budget") != NULL);
      CHECK(strstr(buf, "deferred until 2023-07-16T00:00:00Z") != NULL);
    }
    CHECK(deferred == 4);
  }
  memset(&a, 0, sizeof a);
  CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "bytes",
              ck_snapshot_budget_advice(&a, &need, buf, 4, over, batch));
  CHECK(a.action == CK_BUDGET_NONE && need > 4); /* nothing written */
  CHECK_OK(ck_snapshot_budget_advice(&a, &len, buf, sizeof buf, over, batch));
  CHECK(a.action == CK_BUDGET_DEFER && a.defer_until == 1689465600 && len == need);
  CHECK(strstr(buf, "namespace shop used") != NULL);
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "pod is NULL",
              ck_snapshot_budget_advice(&a, NULL, NULL, 0, over, NULL));
  /* An older caller's snapshot options (without `ledger`) still work. */
  {
    ck_snapshot* old = NULL;
    ck_snapshot_options v1 = CK_SNAPSHOT_OPTIONS_INIT;
    v1.struct_size = offsetof(ck_snapshot_options, ledger);
    v1.signals = signals;
    CHECK_OK(ck_snapshot_publish(&old, cluster, engine, &v1));
    ck_snapshot_free(old);
  }

  /* Metrics from the snapshot and decisions. */
  {
    ck_metrics* m = NULL;
    char* text;
    CHECK_OK(ck_metrics_create(&m));
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "bytes", ck_metrics_render(&need, NULL, 0, m));
    CHECK_OK(ck_metrics_set_snapshot(m, over));
    CHECK_OK(ck_metrics_count_decision(m, over, web, 1));
    CHECK_OK(ck_metrics_count_decision(m, over, batch, 0));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "scheduled is 2",
                ck_metrics_count_decision(m, over, web, 2));
    CHECK_OK(ck_metrics_set_qos_guarantee(m, "shop", "web-7d9f", "green-guaranteed", 1));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "met is 5",
                ck_metrics_set_qos_guarantee(m, "shop", "web-7d9f", "green-guaranteed", 5));
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "pod is NULL",
                ck_metrics_set_qos_guarantee(m, "shop", NULL, "green-guaranteed", 1));
    CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "bytes", ck_metrics_render(&need, NULL, 0, m));
    text = (char*)malloc(need + 1);
    CHECK_OK(ck_metrics_render(&len, text, need + 1, m));
    CHECK(len == need);
    CHECK(strstr(text, "# TYPE carbon_intensity_gco2_kwh gauge\n") != NULL);
    CHECK(strstr(text, "carbon_intensity_gco2_kwh{zone=\"NO\",kind=") != NULL);
    CHECK(
        strstr(
            text,
            "carbonkube_scheduling_decisions_total{qos_class=\"none\",result=\"scheduled\"} 1\n") !=
        NULL);
    CHECK(strstr(text,
                 "carbonkube_scheduling_decisions_total{qos_class=\"none\",result="
                 "\"unschedulable\"} 1\n") != NULL);
    CHECK(strstr(text,
                 "katalyst_qos_guarantee_met{namespace=\"shop\",pod=\"web-7d9f\",qos_class=\"green-"
                 "guaranteed\"} 1\n") != NULL);
    free(text);
    CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "snapshot is NULL", ck_metrics_set_snapshot(m, NULL));
    {
      ck_engine* no_zones = NULL;
      ck_snapshot* neutral = NULL;
      CHECK_OK(ck_engine_create(&no_zones, NULL));
      CHECK_OK(ck_snapshot_publish(&neutral, cluster, no_zones, NULL));
      CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "no carbon data", ck_metrics_set_snapshot(m, neutral));
      ck_snapshot_free(neutral);
      ck_engine_free(no_zones);
    }
    ck_metrics_free(m);
  }
  ck_context_free(ctx);
  ck_pod_free(web);
  ck_pod_free(batch);
  ck_snapshot_free(plain);
  ck_snapshot_free(over);
  ck_cluster_free(cluster);
  ck_signals_free(signals);
  ck_engine_free(engine);
}

/* Migration: 1 kW with 2 h left in a 400 g/kWh zone, a 100 g/kWh zone
 * available, 60 s restart: staying 800 g; moving 1 kW x (7200 + 60) s at
 * 100 g/kWh = 201.67 g of which 1.67 g is the restart. */
static void test_migration_and_metrics(void) {
  ck_migration_advisor* adv = NULL;
  ck_migration_advisor* untouched = (ck_migration_advisor*)&untouched;
  ck_migration_options o = CK_MIGRATION_OPTIONS_INIT;
  ck_migration_candidate c[2] = {CK_MIGRATION_CANDIDATE_INIT, CK_MIGRATION_CANDIDATE_INIT};
  ck_migration_recommendation r[2];
  double dirty[12], green[12];
  ck_zone_outlook z[2];
  const int64_t now = 1689444000;
  ck_ledger* ledger = NULL;
  ck_metrics* m = NULL;
  size_t i, len = 0;
  char buf[1024];
  char* text;
  for (i = 0; i < 12; ++i) {
    dirty[i] = 400;
    green[i] = 100;
  }
  z[0] = (ck_zone_outlook){"DIRTY", now, 3600, dirty, 12};
  z[1] = (ck_zone_outlook){"GREEN", now, 3600, green, 12};
  c[0].pod = "batch/a";
  c[0].zone = "DIRTY";
  c[0].power_kw = 1;
  c[0].remaining_seconds = 7200;
  c[0].policy = CK_MIGRATION_AGGRESSIVE;
  c[1] = c[0];
  c[1].pod = "batch/b";
  c[1].policy = CK_MIGRATION_DISABLED;
  CHECK_OK(
      ck_migration_advisor_create_from_profile(&adv, kShopProfile, len_of(kShopProfile), NULL));
  CHECK_OK(ck_migration_advise(r, 2, adv, now, c, 2, z, 2));
  CHECK(r[0].recommended == 1 && r[0].reason == CK_MIGRATION_RECOMMENDED && r[0].to_zone == 1);
  CHECK(r[0].horizon_seconds == 7200);
  CHECK(fabs(r[0].stay_g - 800.0) < 1e-9);
  CHECK(fabs(r[0].move_g - 1000.0 * 7260.0 / 3600.0 / 10.0) < 1e-9);
  CHECK(fabs(r[0].move_cost_g - 100.0 * 60.0 / 3600.0) < 1e-9);
  CHECK(fabs(r[0].net_saving_g - (r[0].stay_g - r[0].move_g)) < 1e-12);
  CHECK(fabs(r[0].saving_fraction - r[0].net_saving_g / r[0].stay_g) < 1e-12);
  CHECK(r[1].recommended == 0 && r[1].reason == CK_MIGRATION_POLICY_DISABLED);
  CHECK(strcmp(ck_migration_reason_name(r[1].reason), "policy-disabled") == 0);
  CHECK(strcmp(ck_migration_reason_name(99), "unknown") == 0);
  CHECK_OK(ck_migration_detail(&len, buf, sizeof buf, adv, 0));
  CHECK(strstr(buf, "GREEN") != NULL);
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "2 recommendations",
              ck_migration_detail(&len, buf, sizeof buf, adv, 2));

  /* Metrics count the round's recommended moves. */
  CHECK_OK(ck_metrics_create(&m));
  CHECK_OK(ck_metrics_count_migrations(m, adv));
  CHECK_OK(ck_ledger_create(&ledger, NULL));
  CHECK_OK(ck_ledger_set_profile(ledger, kShopProfile, len_of(kShopProfile), NULL));
  CHECK_OK(ck_metrics_set_ledger(m, ledger, now));
  ck_ledger_free(ledger); /* the metrics keep a copy */
  CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "bytes", ck_metrics_render(&len, NULL, 0, m));
  text = (char*)malloc(len + 1);
  CHECK_OK(ck_metrics_render(&len, text, len + 1, m));
  CHECK(strstr(
            text,
            "carbonkube_migrations_recommended_total{from_zone=\"DIRTY\",to_zone=\"GREEN\"} 1\n") !=
        NULL);
  CHECK(strstr(text, "katalyst_daily_carbon_budget_kg{namespace=\"shop\"} 0.05\n") != NULL);
  free(text);
  ck_metrics_free(m);

  /* The profile allows one migration an hour, with a 10 min cooldown. */
  CHECK_OK(ck_migration_record(adv, "batch/a", 7, now));
  CHECK(ck_migration_count_last_hour(adv, now) == 1 &&
        ck_migration_count_last_hour(NULL, now) == 0);
  c[1].policy = CK_MIGRATION_AGGRESSIVE;
  CHECK_OK(ck_migration_advise(r, 2, adv, now + 60, c, 2, z, 2));
  CHECK(r[0].reason == CK_MIGRATION_COOLDOWN && r[1].reason == CK_MIGRATION_RATE_LIMITED);
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "pod is empty", ck_migration_record(adv, "", 0, now));

  /* Errors. */
  CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "out holds 1",
              ck_migration_advise(r, 1, adv, now, c, 2, z, 2));
  c[1].pod = "batch/a";
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "batch/a", ck_migration_advise(r, 2, adv, now, c, 2, z, 2));
  c[1].pod = "batch/b";
  c[1].policy = 9;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "policy 9",
              ck_migration_advise(r, 2, adv, now, c, 2, z, 2));
  c[1].policy = CK_MIGRATION_CONSERVATIVE;
  c[1].power_kw = NAN;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "", ck_migration_advise(r, 2, adv, now, c, 2, z, 2));
  c[1].power_kw = 1;
  green[3] = -5;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "GREEN", ck_migration_advise(r, 2, adv, now, c, 2, z, 2));
  green[3] = 100;
  c[0].struct_size = 2;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "struct_size",
              ck_migration_advise(r, 2, adv, now, c, 2, z, 2));
  ck_migration_advisor_free(adv);
  o.horizon_seconds = 0;
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "horizon", ck_migration_advisor_create(&untouched, &o));
  CHECK_FAILS(CK_ERROR_INVALID_INPUT, "bad.yaml",
              ck_migration_advisor_create_from_profile(&untouched, "spec: [", 7, "bad.yaml"));
  CHECK(untouched == (ck_migration_advisor*)&untouched);
  o = (ck_migration_options)CK_MIGRATION_OPTIONS_INIT;
  o.enabled = 0;
  CHECK_OK(ck_migration_advisor_create(&adv, &o));
  c[0].struct_size = sizeof(ck_migration_candidate);
  CHECK_OK(ck_migration_advise(r, 1, adv, now, c, 1, z, 2));
  CHECK(r[0].recommended == 0 && r[0].reason == CK_MIGRATION_REASON_DISABLED);
  ck_migration_advisor_free(adv);
  ck_migration_advisor_free(NULL);
  ck_metrics_free(NULL);
  ck_ledger_free(NULL);
}

/* Every NULL handle, output and string of the ledger, advisor and metrics
 * entry points, and a pod on a node the objects do not have. */
static void test_ledger_null_arguments(void) {
  ck_ledger* ledger = NULL;
  ck_migration_advisor* adv = NULL;
  ck_metrics* m = NULL;
  ck_engine* engine = example_engine();
  ck_signals* signals = example_signals();
  ck_carbon_totals t;
  ck_budget_status b;
  ck_budget_advice a;
  ck_account_result r;
  ck_usage_record u = CK_USAGE_RECORD_INIT;
  ck_migration_candidate c = CK_MIGRATION_CANDIDATE_INIT;
  ck_migration_recommendation rec;
  ck_zone_outlook z = {"ES", 0, 3600, NULL, 4};
  size_t len = 0;
  char small[4];
  const char ghost[] =
      "apiVersion: v1\nkind: Pod\nmetadata: {name: lost, namespace: shop}\n"
      "spec: {nodeName: ghost, containers: [{name: c, resources: {requests: {cpu: \"1\"}}}]}\n"
      "status: {phase: Running}\n";
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_ledger_create(NULL, NULL));
  CHECK_OK(ck_ledger_create(&ledger, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ledger is NULL",
              ck_ledger_set_daily_limit(NULL, "ns", 2, 1.0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "namespace_name is NULL",
              ck_ledger_set_daily_limit(ledger, NULL, 2, 1.0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ledger is NULL",
              ck_ledger_set_profile(NULL, kShopProfile, len_of(kShopProfile), NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "usage is NULL",
              ck_ledger_record_signals(ledger, NULL, signals));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "signals is NULL",
              ck_ledger_record_signals(ledger, &u, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
              ck_ledger_account(NULL, ledger, engine, signals, NULL, ghost, len_of(ghost), NULL,
                                kAt - 3600, kAt));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "engine is NULL",
              ck_ledger_account(&r, ledger, NULL, signals, NULL, ghost, len_of(ghost), NULL,
                                kAt - 3600, kAt));
  /* A pod on a node the objects do not have is skipped, with the reason. */
  CHECK_OK(ck_ledger_account(&r, ledger, engine, signals, NULL, ghost, len_of(ghost), "ghost.yaml",
                             kAt - 3600, kAt));
  CHECK(r.pods_booked == 0 && r.pods_skipped == 1 && r.node_watts == 0.0);
  CHECK_FAILS(CK_ERROR_BUFFER_TOO_SMALL, "bytes",
              ck_ledger_skipped(&len, small, sizeof small, ledger));
  {
    char* why = (char*)malloc(len + 1);
    CHECK_OK(ck_ledger_skipped(&len, why, len + 1, ledger));
    CHECK(strstr(why, "shop/lost") == why && strstr(why, "ghost") != NULL);
    free(why);
  }
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ledger is NULL", ck_ledger_skipped(&len, NULL, 0, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
              ck_ledger_month(NULL, ledger, CK_SCOPE_POD, "a", 1, 2023, 1));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
              ck_ledger_total(NULL, ledger, CK_SCOPE_POD, "a", 1));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ledger is NULL",
              ck_ledger_total(&t, NULL, CK_SCOPE_POD, "a", 1));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_ledger_budget(NULL, ledger, "a", 1, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ledger is NULL", ck_ledger_budget(&b, NULL, "a", 1, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_sci(NULL, &t, 1.0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL",
              ck_snapshot_budget_advice(NULL, NULL, NULL, 0, NULL, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "snapshot is NULL",
              ck_snapshot_budget_advice(&a, NULL, NULL, 0, NULL, NULL));

  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_migration_advisor_create(NULL, NULL));
  CHECK_FAILS(
      CK_ERROR_INVALID_ARGUMENT, "out is NULL",
      ck_migration_advisor_create_from_profile(NULL, kShopProfile, len_of(kShopProfile), NULL));
  CHECK_OK(ck_migration_advisor_create(&adv, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "advisor is NULL",
              ck_migration_advise(&rec, 1, NULL, 0, &c, 1, NULL, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "candidates is NULL",
              ck_migration_advise(&rec, 1, adv, 0, NULL, 1, NULL, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "zones is NULL",
              ck_migration_advise(&rec, 1, adv, 0, &c, 1, NULL, 1));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "candidate pod is NULL",
              ck_migration_advise(&rec, 1, adv, 0, &c, 1, NULL, 0));
  c.pod = "a/b";
  c.zone = "ES";
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "zone outlook's values is NULL",
              ck_migration_advise(&rec, 1, adv, 0, &c, 1, &z, 1));
  z.zone = NULL;
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "zone outlook's zone is NULL",
              ck_migration_advise(&rec, 1, adv, 0, &c, 1, &z, 1));
  CHECK_OK(ck_migration_advise(NULL, 0, adv, 0, NULL, 0, NULL, 0)); /* an empty round */
  CHECK_FAILS(CK_ERROR_NOT_FOUND, "0 recommendations",
              ck_migration_detail(&len, small, sizeof small, adv, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "advisor is NULL",
              ck_migration_detail(&len, small, sizeof small, NULL, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "advisor is NULL", ck_migration_record(NULL, "a", 1, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "pod is NULL", ck_migration_record(adv, NULL, 1, 0));

  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out is NULL", ck_metrics_create(NULL));
  CHECK_OK(ck_metrics_create(&m));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "ledger is NULL", ck_metrics_set_ledger(m, NULL, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "metrics is NULL", ck_metrics_set_ledger(NULL, ledger, 0));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "advisor is NULL", ck_metrics_count_migrations(m, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "snapshot is NULL",
              ck_metrics_count_decision(m, NULL, NULL, 1));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "metrics is NULL",
              ck_metrics_render(&len, small, sizeof small, NULL));
  CHECK_FAILS(CK_ERROR_INVALID_ARGUMENT, "out_len is NULL",
              ck_metrics_render(NULL, small, sizeof small, m));
  ck_metrics_free(m);
  ck_migration_advisor_free(adv);
  ck_ledger_free(ledger);
  ck_signals_free(signals);
  ck_engine_free(engine);
}

int main(void) {
  test_version_and_status();
  test_free_accepts_null();
  test_engine();
  test_signals();
  test_cluster();
  test_arrays();
  test_scoring();
  test_recompile_after_new_resource();
  test_reconciler();
  test_forecast_and_planner();
  test_non_utf8_names();
  test_allocator();
  test_ledger();
  test_ledger_account();
  test_budget_hook();
  test_migration_and_metrics();
  test_ledger_null_arguments();
  return ck_test_report("test_capi");
}
