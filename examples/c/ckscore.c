/* ckscore.c: a host written in C that schedules like kube-scheduler through
 * carbonkube's C ABI. It keeps a cluster from Kubernetes objects, loads real
 * carbon intensity, and for each pending pod runs one scheduling cycle (one
 * ck_score_pod call for all nodes, never one call per node), assumes the pod
 * on the chosen node and publishes the next snapshot.
 *
 * Usage: ckscore --nodes F --pods F [--cnrs F] [--zones F] [--signals F]...
 *                [--at UNIX] [--config F]
 * Prints one JSON object per pending pod: {"pod", "selected", "total",
 * "feasible", "scores": {plugin: score}} (selected is null when no node fits).
 * Exit status 0, or 2 with the library's message on bad input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carbonkube.h"

static char* read_file(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  char* buf;
  long size;
  if (!f) {
    fprintf(stderr, "ckscore: cannot open %s\n", path);
    exit(2);
  }
  fseek(f, 0, SEEK_END);
  size = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = (char*)malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    fprintf(stderr, "ckscore: cannot read %s\n", path);
    exit(2);
  }
  buf[size] = '\0';
  fclose(f);
  *len = (size_t)size;
  return buf;
}

/* Every call goes through here: on an error, print the message and stop. */
static void must(ck_status status, const char* what) {
  if (status != CK_OK) {
    fprintf(stderr, "ckscore: %s: %s: %s\n", what, ck_status_name(status), ck_last_error());
    exit(2);
  }
}

static void apply_file(ck_cluster* cluster, const char* path) {
  size_t len;
  char* text = read_file(path, &len);
  must(ck_cluster_apply(NULL, cluster, text, len, path), path);
  free(text);
}

int main(int argc, char** argv) {
  const char *nodes = NULL, *pods = NULL, *cnrs = NULL, *zones = NULL, *config = NULL;
  const char* signal_files[16];
  int signal_count = 0, i;
  int64_t at = 0;
  ck_engine_options eo = CK_ENGINE_OPTIONS_INIT;
  ck_engine* engine;
  ck_signals* signals;
  ck_cluster* cluster;
  ck_snapshot* snapshot;
  ck_snapshot_options so = CK_SNAPSHOT_OPTIONS_INIT;
  ck_pod_list* pending;
  ck_context* context;
  ck_node_result* node_results;
  int64_t* scores;
  size_t node_count, plugins, p, k, len;
  char *config_text = NULL, *zones_text = NULL, *pods_text;

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--nodes") == 0)
      nodes = argv[i + 1];
    else if (strcmp(argv[i], "--pods") == 0)
      pods = argv[i + 1];
    else if (strcmp(argv[i], "--cnrs") == 0)
      cnrs = argv[i + 1];
    else if (strcmp(argv[i], "--zones") == 0)
      zones = argv[i + 1];
    else if (strcmp(argv[i], "--config") == 0)
      config = argv[i + 1];
    else if (strcmp(argv[i], "--at") == 0)
      at = strtoll(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--signals") == 0 && signal_count < 16)
      signal_files[signal_count++] = argv[i + 1];
    else {
      fprintf(stderr, "ckscore: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  if (i != argc || !nodes || !pods) {
    fprintf(stderr,
            "usage: ckscore --nodes F --pods F [--cnrs F] [--zones F] [--signals F]... "
            "[--at UNIX] [--config F]\n");
    return 2;
  }

  /* The engine: profiles, QoS profiles, zone map. Immutable, shared. */
  if (config) {
    config_text = read_file(config, &len);
    eo.scheduler_config = config_text;
    eo.scheduler_config_len = len;
  }
  if (zones) {
    zones_text = read_file(zones, &len);
    eo.zone_map = zones_text;
    eo.zone_map_len = len;
  }
  must(ck_engine_create(&engine, &eo), "engine");

  /* Carbon signals, from the formats the library parses. */
  must(ck_signals_create(&signals), "signals");
  for (i = 0; i < signal_count; ++i) {
    char* text = read_file(signal_files[i], &len);
    must(ck_signals_load(NULL, signals, CK_SIGNALS_ELECTRICITYMAPS_CSV, text, len, signal_files[i],
                         -1),
         signal_files[i]);
    free(text);
  }

  /* The cluster, as an informer would feed it. */
  must(ck_cluster_create(&cluster), "cluster");
  apply_file(cluster, nodes);
  apply_file(cluster, pods);
  if (cnrs) apply_file(cluster, cnrs);
  so.signals = signals;
  so.at = at;
  must(ck_snapshot_publish(&snapshot, cluster, engine, &so), "publish");

  /* The queue: the pending pods of the pods file, in order. */
  pods_text = read_file(pods, &len);
  must(ck_pod_list_create(&pending, snapshot, pods_text, len, pods), "pending pods");
  free(pods_text);

  /* Buffers sized once for the cluster, reused every cycle. */
  must(ck_context_create(&context, 1), "context");
  node_count = ck_snapshot_node_count(snapshot);
  /* Per-plugin scores are node-major with the scoring profile's width; size
   * the buffer for the widest profile (a pod picks its profile by
   * spec.schedulerName). */
  plugins = 0;
  for (k = 0; k < ck_engine_profile_count(engine); ++k)
    if (ck_engine_score_plugin_count(engine, k) > plugins)
      plugins = ck_engine_score_plugin_count(engine, k);
  node_results = (ck_node_result*)malloc(sizeof(ck_node_result) * (node_count ? node_count : 1));
  scores = (int64_t*)malloc(sizeof(int64_t) * (node_count * plugins + 1));

  for (p = 0; p < ck_pod_list_count(pending); ++p) {
    const ck_pod* pod = ck_pod_list_get(pending, p);
    ck_pod_result result;
    size_t width;
    int first;
    /* One scheduling cycle: every node filtered and scored in one call. */
    must(ck_score_pod(&result, node_results, node_count, scores, node_count * plugins, engine,
                      snapshot, pod, context, NULL),
         ck_pod_key(pod));
    printf("{\"pod\": \"%s\", \"selected\": ", ck_pod_key(pod));
    if (result.selected < 0) {
      printf("null, \"total\": 0, \"feasible\": 0, \"scores\": {}}\n");
      continue;
    }
    printf("\"%s\", \"total\": %lld, \"feasible\": %u, \"scores\": {",
           ck_snapshot_node_name(snapshot, (size_t)result.selected), (long long)result.total,
           result.feasible);
    width = ck_engine_score_plugin_count(engine, result.profile);
    for (k = 0, first = 1; k < width; ++k) {
      const int64_t score = scores[(size_t)result.selected * width + k];
      if (score < 0) continue; /* the plugin skipped this pod */
      printf("%s\"%s\": %lld", first ? "" : ", ",
             ck_engine_score_plugin_name(engine, result.profile, k), (long long)score);
      first = 0;
    }
    printf("}}\n");
    /* Assume the pod where it goes, then publish the next snapshot: the next
     * cycle sees its requests (kube-scheduler's assume). */
    must(ck_cluster_assume(cluster, snapshot, pod, (size_t)result.selected), "assume");
    {
      ck_snapshot* next;
      must(ck_snapshot_publish(&next, cluster, engine, &so), "publish");
      ck_snapshot_free(snapshot);
      snapshot = next;
    }
  }

  free(scores);
  free(node_results);
  ck_context_free(context);
  ck_pod_list_free(pending);
  ck_snapshot_free(snapshot);
  ck_cluster_free(cluster);
  ck_signals_free(signals);
  ck_engine_free(engine);
  free(config_text);
  free(zones_text);
  return 0;
}
