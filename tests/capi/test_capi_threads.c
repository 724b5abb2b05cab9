/* test_capi_threads.c: many threads score on one engine and one snapshot
 * (each with its own context) while the main thread keeps updating the
 * cluster and publishing new snapshots; every thread's results equal the
 * serial ones, and each thread's ck_last_error is its own. Run under TSan by
 * scripts/test.sh (label "concurrency"). */
#include <pthread.h>
#include <stdint.h>

#include "capi_test.h"

enum { kThreads = 4, kRounds = 200, kNodes = 64 };

static const char kPod[] =
    "apiVersion: v1\nkind: Pod\nmetadata: {name: w, namespace: t}\n"
    "spec:\n  containers:\n  - name: c\n    resources: {requests: {cpu: 300m, memory: 512Mi}}\n";

typedef struct shared_state {
  const ck_engine* engine;
  const ck_snapshot* snapshot;
  const ck_pod* pod;
  int64_t expected_totals[kNodes];
  int64_t expected_selected;
} shared_state;

typedef struct thread_result {
  int mismatches;
  int error_leaks; /* another thread's message seen as ours */
} thread_result;

typedef struct thread_arg {
  shared_state* shared;
  thread_result result;
  int index;
} thread_arg;

static void* score_loop(void* p) {
  thread_arg* arg = (thread_arg*)p;
  shared_state* s = arg->shared;
  ck_context* ctx = NULL;
  ck_node_result nodes[kNodes];
  ck_pod_result res;
  size_t found;
  int round, i;
  if (ck_context_create(&ctx, 1) != CK_OK) {
    arg->result.mismatches = -1;
    return NULL;
  }
  for (round = 0; round < kRounds; ++round) {
    if (ck_score_pod(&res, nodes, kNodes, NULL, 0, s->engine, s->snapshot, s->pod, ctx, NULL) !=
        CK_OK) {
      ++arg->result.mismatches;
      continue;
    }
    if (strcmp(ck_last_error(), "") != 0) ++arg->result.error_leaks;
    for (i = 0; i < kNodes; ++i)
      if (nodes[i].total != s->expected_totals[i]) ++arg->result.mismatches;
    /* Ties are broken by the context's own random state: same seed, same
     * sequence, so the first round matches the serial run. */
    if (round == 0 && res.selected != s->expected_selected) ++arg->result.mismatches;
    /* An error on this thread names this thread's node, never another's. */
    if (round % 50 == arg->index) {
      char name[32];
      snprintf(name, sizeof name, "missing-%d", arg->index);
      if (ck_snapshot_find_node(&found, s->snapshot, name, strlen(name)) != CK_ERROR_NOT_FOUND ||
          strstr(ck_last_error(), name) == NULL)
        ++arg->result.error_leaks;
    }
  }
  ck_context_free(ctx);
  return NULL;
}

int main(void) {
  ck_engine* engine = NULL;
  ck_cluster* cluster = NULL;
  ck_snapshot* snap = NULL;
  ck_pod* pod = NULL;
  ck_context* ctx = NULL;
  ck_pod_result res;
  ck_node_result nodes[kNodes];
  shared_state shared;
  thread_arg args[kThreads];
  pthread_t threads[kThreads];
  char names_buf[kNodes][16];
  const char* names[kNodes];
  int64_t cpu[kNodes], mem[kNodes], pods[kNodes];
  const char* resources[] = {"cpu", "memory", "pods"};
  const int64_t* alloc[] = {cpu, mem, pods};
  ck_node_arrays na = CK_NODE_ARRAYS_INIT;
  int i, t;

  for (i = 0; i < kNodes; ++i) {
    snprintf(names_buf[i], sizeof names_buf[i], "node-%d", i);
    names[i] = names_buf[i];
    cpu[i] = 2000 + 1000 * (i % 7);
    mem[i] = (int64_t)(4 + i % 5) << 30;
    pods[i] = 110;
  }
  na.count = kNodes;
  na.names = names;
  na.resource_count = 3;
  na.resource_names = resources;
  na.allocatable = alloc;
  CHECK_OK(ck_engine_create(&engine, NULL));
  CHECK_OK(ck_cluster_create(&cluster));
  CHECK_OK(ck_cluster_apply_node_arrays(cluster, &na));
  CHECK_OK(ck_snapshot_publish(&snap, cluster, engine, NULL));
  CHECK_OK(ck_pod_create(&pod, snap, kPod, strlen(kPod)));

  /* The serial reference. */
  CHECK_OK(ck_context_create(&ctx, 1));
  CHECK_OK(ck_score_pod(&res, nodes, kNodes, NULL, 0, engine, snap, pod, ctx, NULL));
  ck_context_free(ctx);
  shared.engine = engine;
  shared.snapshot = snap;
  shared.pod = pod;
  shared.expected_selected = res.selected;
  for (i = 0; i < kNodes; ++i) shared.expected_totals[i] = nodes[i].total;

  for (t = 0; t < kThreads; ++t) {
    args[t].shared = &shared;
    args[t].index = t;
    args[t].result.mismatches = 0;
    args[t].result.error_leaks = 0;
    CHECK(pthread_create(&threads[t], NULL, score_loop, &args[t]) == 0);
  }
  /* Meanwhile the writer changes the cluster and publishes: readers of the
   * old snapshot must see nothing of it. */
  for (i = 0; i < 50; ++i) {
    ck_snapshot* next = NULL;
    cpu[i % kNodes] += 100;
    CHECK_OK(ck_cluster_apply_node_arrays(cluster, &na));
    CHECK_OK(ck_cluster_assume(cluster, snap, pod, (size_t)(i % kNodes)));
    CHECK_OK(ck_snapshot_publish(&next, cluster, engine, NULL));
    ck_snapshot_free(next);
  }
  for (t = 0; t < kThreads; ++t) {
    CHECK(pthread_join(threads[t], NULL) == 0);
    CHECK(args[t].result.mismatches == 0);
    CHECK(args[t].result.error_leaks == 0);
  }
  ck_pod_free(pod);
  ck_snapshot_free(snap);
  ck_cluster_free(cluster);
  ck_engine_free(engine);
  return ck_test_report("test_capi_threads");
}
