/* consumer_c.c: an outside C program built against the installed C ABI with
 * `pkg-config --cflags --libs carbonkube_c` (tests/package/run.cmake). */
#include <carbonkube.h>
#include <stdio.h>
#include <string.h>

static int must(ck_status s) {
  if (s != CK_OK) fprintf(stderr, "%s: %s\n", ck_status_name(s), ck_last_error());
  return s != CK_OK;
}

int main(void) {
  const char* names[] = {"small", "big"};
  const char* resources[] = {"cpu", "memory", "pods"};
  const int64_t cpu[] = {1000, 16000}, mem[] = {1LL << 30, 64LL << 30}, pods[] = {110, 110};
  const int64_t* alloc[] = {cpu, mem, pods};
  const char pod_text[] =
      "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-0\",\"namespace\":"
      "\"shop\"},\"spec\":{\"containers\":[{\"name\":\"c\",\"resources\":{\"requests\":"
      "{\"cpu\":\"2\",\"memory\":\"2Gi\"}}}]}}";
  ck_node_arrays na = CK_NODE_ARRAYS_INIT;
  ck_engine* engine;
  ck_cluster* cluster;
  ck_snapshot* snap;
  ck_pod* pod;
  ck_context* ctx;
  ck_pod_result res;
  if (ck_version_number() != CK_VERSION_NUMBER) return 1;
  na.count = 2;
  na.names = names;
  na.resource_count = 3;
  na.resource_names = resources;
  na.allocatable = alloc;
  if (must(ck_engine_create(&engine, NULL)) || must(ck_cluster_create(&cluster)) ||
      must(ck_cluster_apply_node_arrays(cluster, &na)) ||
      must(ck_snapshot_publish(&snap, cluster, engine, NULL)) ||
      must(ck_pod_create(&pod, snap, pod_text, strlen(pod_text))) ||
      must(ck_context_create(&ctx, 1)) ||
      must(ck_score_pod(&res, NULL, 0, NULL, 0, engine, snap, pod, ctx, NULL)))
    return 1;
  if (res.selected < 0) return 1;
  printf("placed %s on %s\n", ck_pod_key(pod), ck_snapshot_node_name(snap, (size_t)res.selected));
  ck_context_free(ctx);
  ck_pod_free(pod);
  ck_snapshot_free(snap);
  ck_cluster_free(cluster);
  ck_engine_free(engine);
  return 0;
}
