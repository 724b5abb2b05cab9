/* carbonkube.h: the stable C ABI of carbonkube, for hosts that are not C++
 * (Go through cgo, Rust, C). It covers what a scheduler, an extender or a
 * QoS controller needs: an engine compiled from a KubeSchedulerConfiguration
 * and carbon profiles, a cluster kept current from Kubernetes objects (JSON
 * or YAML bytes, or plain arrays), carbon signals, immutable snapshots,
 * scoring one pod or a batch of pods into caller buffers, the reasons behind
 * a result, the zone QoS reconciler, forecasts and the temporal planner, the
 * allocator, the carbon ledger with daily budgets (and the budget hook the
 * carbon plugins apply), the migration advisor and Prometheus metrics.
 *
 * Conventions (docs/c-api.md has the whole story):
 * - Everything is prefixed ck_ / CK_. Handles are opaque; each has a create
 *   and a free function, and every free accepts NULL.
 * - Functions return ck_status. On an error the outputs are untouched and
 *   ck_last_error() returns a message naming what is wrong (thread-local,
 *   never NULL, owned by the library, valid until the thread's next call).
 * - Output parameters come first and are named out*.
 * - Options structs begin with `size_t struct_size`; initialise them with
 *   their CK_..._INIT macro so that fields appended in later versions keep
 *   their defaults for callers compiled against this header.
 * - Batch calls take pointer + length and write into caller memory whose
 *   required size is documented; a buffer that is too small gives
 *   CK_ERROR_BUFFER_TOO_SMALL and nothing is written.
 * - Strings passed in are (pointer, length) and need not be NUL-terminated,
 *   except where a parameter is documented as a C string. Strings returned
 *   are NUL-terminated and owned by the handle they come from.
 * - No function calls back into the caller; none keeps a pointer to caller
 *   memory after it returns.
 *
 * Stability: functions and types are only ever added. Existing struct fields
 * keep their offsets; enum values are pinned. tests/abi/ guards this. */
#ifndef CARBONKUBE_H
#define CARBONKUBE_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(CK_BUILDING_LIBRARY)
#define CK_API __declspec(dllexport)
#else
#define CK_API __declspec(dllimport)
#endif
#else
#define CK_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Version */

#define CK_VERSION_MAJOR 0
#define CK_VERSION_MINOR 1
#define CK_VERSION_PATCH 0
/* MAJOR * 10000 + MINOR * 100 + PATCH. */
#define CK_VERSION_NUMBER (CK_VERSION_MAJOR * 10000 + CK_VERSION_MINOR * 100 + CK_VERSION_PATCH)

/* The version of the library linked at run time; compare with
 * CK_VERSION_NUMBER to detect a header/library mismatch. */
CK_API uint32_t ck_version_number(void);
/* "0.1.0". Static storage. */
CK_API const char* ck_version_string(void);

/* ------------------------------------------------------------------------
 * Status and errors */

typedef enum ck_status {
  CK_OK = 0,
  CK_ERROR_INVALID_ARGUMENT = 1, /* NULL where a value is required, bad enum, bad struct_size */
  CK_ERROR_INVALID_INPUT = 2,    /* malformed YAML/JSON or a bad value in it */
  CK_ERROR_LIMIT_EXCEEDED = 3,   /* input larger than a limit */
  CK_ERROR_NOT_FOUND = 4,        /* unknown node, pod, profile or zone */
  CK_ERROR_BUFFER_TOO_SMALL = 5, /* a caller buffer is smaller than documented */
  CK_ERROR_MISMATCH = 6,         /* handles that do not belong together */
  CK_ERROR_OUT_OF_MEMORY = 7,
  CK_ERROR_INTERNAL = 8 /* a bug in carbonkube: please report it */
} ck_status;

/* The message of the last error on the calling thread ("" after a success).
 * Never NULL; owned by the library; valid until this thread's next ck_ call. */
CK_API const char* ck_last_error(void);
/* "CK_OK", "CK_ERROR_INVALID_INPUT", ...; "CK_UNKNOWN_STATUS" for others. */
CK_API const char* ck_status_name(ck_status status);

/* ------------------------------------------------------------------------
 * Engine: scheduling profiles, carbon QoS profiles, zone map, signal policy.
 * Ownership: created by ck_engine_create, freed by ck_engine_free.
 * Thread safety: immutable; any number of threads may use one engine. */

typedef struct ck_engine ck_engine;
typedef struct ck_limits ck_limits; /* defined under "Input limits" */

typedef struct ck_engine_options {
  size_t struct_size; /* sizeof(ck_engine_options) */
  /* KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1 or v1beta3),
   * YAML or JSON. NULL: the seed's katalyst-carbon-scheduler profile. A
   * configuration without profiles gives kube-scheduler's default profile. */
  const char* scheduler_config;
  size_t scheduler_config_len;
  /* Carbon QoS profiles: a CarbonProfile object (carbon-kube.io/v1alpha1) or
   * Helm values with katalyst.qosProfiles. NULL: the seed's three profiles. */
  const char* qos_profiles;
  size_t qos_profiles_len;
  /* The ZoneMap from node labels to grid zones (docs/carbon-scoring.md).
   * NULL: no zones, scoring is carbon-neutral. */
  const char* zone_map;
  size_t zone_map_len;
  /* Signal policy: older data is stale (default 7200 s); values above
   * max_g_per_kwh are rejected as implausible (default 2500). 0 keeps the
   * default. */
  int64_t max_signal_age_seconds;
  double max_g_per_kwh;
  /* Added in 0.1 (limits): the input limits of the documents above and of
   * the Pods parsed for this engine (ck_pod_create, ck_pod_list_create);
   * NULL: the defaults. See "Input limits" below. */
  const ck_limits* limits;
} ck_engine_options;

#define CK_ENGINE_OPTIONS_INIT \
  { sizeof(ck_engine_options), NULL, 0, NULL, 0, NULL, 0, 0, 0.0, NULL }

/* Compiles an engine. Errors name the document and field at fault. */
CK_API ck_status ck_engine_create(ck_engine** out, const ck_engine_options* options);
CK_API void ck_engine_free(ck_engine* engine);

/* Scheduling profiles, in configuration order. */
CK_API size_t ck_engine_profile_count(const ck_engine* engine);
/* The schedulerName of profile `profile`, or NULL when out of range. */
CK_API const char* ck_engine_profile_name(const ck_engine* engine, size_t profile);
CK_API ck_status ck_engine_find_profile(size_t* out, const ck_engine* engine,
                                        const char* scheduler_name, size_t scheduler_name_len);
/* Score plugins of a profile: their number (the width of per-plugin score
 * buffers), their names and weights. NULL / 0 when out of range. */
CK_API size_t ck_engine_score_plugin_count(const ck_engine* engine, size_t profile);
CK_API const char* ck_engine_score_plugin_name(const ck_engine* engine, size_t profile,
                                               size_t plugin);
CK_API int64_t ck_engine_score_plugin_weight(const ck_engine* engine, size_t profile,
                                             size_t plugin);
/* Filter plugins of a profile, as ck_node_result::failed_filter indexes them. */
CK_API size_t ck_engine_filter_plugin_count(const ck_engine* engine, size_t profile);
CK_API const char* ck_engine_filter_plugin_name(const ck_engine* engine, size_t profile,
                                                size_t plugin);
/* Carbon QoS profiles, greenest first. */
CK_API size_t ck_engine_qos_profile_count(const ck_engine* engine);
CK_API const char* ck_engine_qos_profile_name(const ck_engine* engine, size_t qos_profile);
CK_API double ck_engine_qos_profile_threshold(const ck_engine* engine, size_t qos_profile);
/* Grid zones of the zone map, in index order. */
CK_API size_t ck_engine_zone_count(const ck_engine* engine);
CK_API const char* ck_engine_zone_name(const ck_engine* engine, size_t zone);

/* ------------------------------------------------------------------------
 * Carbon signals: per grid zone intensity series, each of one kind.
 * Ownership: ck_signals_create / ck_signals_free.
 * Thread safety: one thread at a time (loading, and publishing snapshots
 * from it); published snapshots keep their own copy-on-write view, so scoring
 * never races with loading. */

typedef struct ck_signals ck_signals;

typedef enum ck_signal_format {
  CK_SIGNALS_AUTO = -1,                /* detect it: ck_signals_detect_format */
  CK_SIGNALS_ELECTRICITYMAPS_CSV = 0,  /* data-portal CSV */
  CK_SIGNALS_ELECTRICITYMAPS_JSON = 1, /* API v3 latest / history / forecast */
  CK_SIGNALS_WATTTIME_JSON = 2,        /* v3 forecast / historical */
  CK_SIGNALS_UK_CARBON_INTENSITY_JSON = 3,
  CK_SIGNALS_CARBON_AWARE_SDK_JSON = 4
} ck_signal_format;

typedef enum ck_intensity_kind {
  CK_KIND_AVERAGE_DIRECT = 0,
  CK_KIND_AVERAGE_LIFECYCLE = 1,
  CK_KIND_MARGINAL_DIRECT = 2,
  CK_KIND_MARGINAL_LIFECYCLE = 3
} ck_intensity_kind;

typedef struct ck_signal_point {
  int64_t unix_seconds;
  double g_per_kwh;
  int32_t estimated; /* 0 or 1 */
} ck_signal_point;

CK_API ck_status ck_signals_create(ck_signals** out);
CK_API void ck_signals_free(ck_signals* signals);
/* Parses `text` in `format` and merges its series (later points replace
 * earlier ones with the same time). `source` (a C string, may be NULL) names
 * the input in messages; format CK_SIGNALS_AUTO detects the format from the
 * text and `source` (ck_signals_detect_format). For the CSV, `kind` picks the column (direct or
 * lifecycle, average basis); for the Carbon Aware SDK it is the data's kind;
 * other formats state their kind and `kind` must be -1 or match it.
 * *out_skipped (may be NULL) counts the points without a value. On an error
 * nothing is added. */
CK_API ck_status ck_signals_load(size_t* out_skipped, ck_signals* signals, ck_signal_format format,
                                 const char* text, size_t text_len, const char* source,
                                 int32_t kind);
/* The format of a carbon-signal file or response body, as the CLI and
 * Python tell it (format CK_SIGNALS_AUTO of ck_signals_load does the same):
 * a `name` (C string, may be NULL) ending in ".csv" or text starting with the
 * portal CSV's "Datetime (UTC)" column is the Electricity Maps CSV; else the
 * first of these JSON keys present decides: "point_time" WattTime,
 * "forecastData" or "location" Carbon Aware SDK, "intensity" UK Carbon
 * Intensity, "carbonIntensity" Electricity Maps. No match:
 * CK_ERROR_INVALID_INPUT naming the source. */
CK_API ck_status ck_signals_detect_format(ck_signal_format* out, const char* text, size_t text_len,
                                          const char* name);
/* Adds history points of one zone from plain arrays (sorted or not). Every
 * value must be finite and >= 0. */
CK_API ck_status ck_signals_add_points(ck_signals* signals, const char* zone, size_t zone_len,
                                       ck_intensity_kind kind, const ck_signal_point* points,
                                       size_t count);
CK_API size_t ck_signals_zone_count(const ck_signals* signals);
/* The newest history point's time over all zones; 0 without points. */
CK_API int64_t ck_signals_newest_time(const ck_signals* signals);

typedef enum ck_reading_status {
  CK_READING_OK = 0,
  CK_READING_MISSING_ZONE = 1,
  CK_READING_NO_DATA = 2,
  CK_READING_STALE = 3,
  CK_READING_FUTURE = 4,
  CK_READING_NOT_FINITE = 5,
  CK_READING_NEGATIVE = 6,
  CK_READING_BELOW_MIN = 7,
  CK_READING_ABOVE_MAX = 8,
  CK_READING_WRONG_KIND = 9,
  CK_READING_ESTIMATED_REJECTED = 10,
  CK_READING_INCOMPLETE_WINDOW = 11
} ck_reading_status;

typedef struct ck_zone_reading {
  int32_t usable;        /* 1: g_per_kwh can be scheduled on */
  int32_t status;        /* ck_reading_status */
  double g_per_kwh;      /* NaN when not usable */
  int64_t age_seconds;   /* at minus the point's time */
  int32_t estimated;     /* 0 or 1 */
  int32_t from_forecast; /* 0 or 1 */
  int32_t kind;          /* ck_intensity_kind */
} ck_zone_reading;

/* The engine's policy applied to `zone` at unix time `at`. A zone without
 * data is not an error: the reading says CK_READING_MISSING_ZONE. */
CK_API ck_status ck_signals_evaluate(ck_zone_reading* out, const ck_signals* signals,
                                     const ck_engine* engine, const char* zone, size_t zone_len,
                                     int64_t at);

/* ------------------------------------------------------------------------
 * Cluster: the single-writer state that Node, Pod and CustomNodeResource
 * events update, and from which immutable snapshots are published.
 * Ownership: ck_cluster_create / ck_cluster_free.
 * Thread safety: one thread at a time; snapshots it published are independent. */

typedef struct ck_cluster ck_cluster;

CK_API ck_status ck_cluster_create(ck_cluster** out);
CK_API void ck_cluster_free(ck_cluster* cluster);

typedef struct ck_apply_counts {
  size_t nodes;    /* Node objects upserted */
  size_t pods;     /* Pod objects upserted (pending ones are not usage) */
  size_t topology; /* CustomNodeResource objects upserted */
  size_t skipped;  /* objects of other kinds */
} ck_apply_counts;

/* Upserts every Node, Pod and CustomNodeResource in `text`: JSON or YAML as
 * `kubectl get -o json|yaml` prints (a single object, a List, or a stream of
 * documents). `source` (C string, may be NULL) names it in messages.
 * `out` may be NULL. Atomic: on an error nothing is applied. */
CK_API ck_status ck_cluster_apply(ck_apply_counts* out, ck_cluster* cluster, const char* text,
                                  size_t text_len, const char* source);
/* Removes a node by name, or a pod by "namespace/name"; CK_ERROR_NOT_FOUND
 * when absent (a pending or terminal pod was never kept: an informer's delete
 * of one gives CK_ERROR_NOT_FOUND, which a host may ignore). A removed node's
 * pods stay registered and count again if it returns. */
CK_API ck_status ck_cluster_remove_node(ck_cluster* cluster, const char* name, size_t name_len);
CK_API ck_status ck_cluster_remove_pod(ck_cluster* cluster, const char* key, size_t key_len);

/* Nodes from plain arrays: node i is names[i] with labels[i] (a C string of
 * comma-separated key=value pairs, or NULL) and, for each resource r,
 * allocatable[r][i] in base units (cpu in millicores, memory in bytes).
 * Upserts like ck_cluster_apply. */
typedef struct ck_node_arrays {
  size_t struct_size; /* sizeof(ck_node_arrays) */
  size_t count;
  const char* const* names;          /* count C strings */
  const char* const* labels;         /* count C strings or NULL */
  size_t resource_count;             /* resources per node */
  const char* const* resource_names; /* "cpu", "memory", "pods", "nvidia.com/gpu", ... */
  const int64_t* const* allocatable; /* resource_count arrays of count values */
} ck_node_arrays;
#define CK_NODE_ARRAYS_INIT \
  { sizeof(ck_node_arrays), 0, NULL, NULL, 0, NULL, NULL }

/* Pods from plain arrays: pod i is namespaces[i]/names[i] with one container
 * requesting requests[r][i] of each resource (base units), bound to
 * node_names[i] (a C string; NULL or "" for a pending pod). */
typedef struct ck_pod_arrays {
  size_t struct_size; /* sizeof(ck_pod_arrays) */
  size_t count;
  const char* const* namespaces; /* count C strings, or NULL for "default" */
  const char* const* names;      /* count C strings */
  const char* const* node_names; /* count C strings or NULL */
  size_t resource_count;
  const char* const* resource_names;
  const int64_t* const* requests; /* resource_count arrays of count values */
} ck_pod_arrays;
#define CK_POD_ARRAYS_INIT \
  { sizeof(ck_pod_arrays), 0, NULL, NULL, NULL, 0, NULL, NULL }

CK_API ck_status ck_cluster_apply_node_arrays(ck_cluster* cluster, const ck_node_arrays* nodes);
CK_API ck_status ck_cluster_apply_pod_arrays(ck_cluster* cluster, const ck_pod_arrays* pods);

/* Nodes, and pods that count as usage (bound or assumed, not terminal);
 * pending and terminal pods are not kept. 0 for NULL. */
CK_API size_t ck_cluster_node_count(const ck_cluster* cluster);
CK_API size_t ck_cluster_pod_count(const ck_cluster* cluster);

/* ------------------------------------------------------------------------
 * Snapshot: an immutable picture of the cluster plus the carbon and topology
 * conditions at one time, compiled for one engine.
 * Ownership: ck_snapshot_publish / ck_snapshot_free. Independent of the
 * cluster, signals and engine handles afterwards: any of them may be changed
 * or freed (the snapshot keeps what it needs alive).
 * Thread safety: immutable; any number of threads may score against it. */

typedef struct ck_snapshot ck_snapshot;
typedef struct ck_ledger ck_ledger;

typedef struct ck_snapshot_options {
  size_t struct_size; /* sizeof(ck_snapshot_options) */
  /* Carbon signals to evaluate (NULL: carbon-neutral). */
  const ck_signals* signals;
  /* Unix time the intensities are for; 0: the signals' newest point. */
  int64_t at;
  /* Added in 0.1 (ledger): the carbon ledger whose budget states (each
   * namespace's daily budget on the UTC day of `at`) the carbon plugins
   * apply: the budget hook of docs/carbon-accounting.md. NULL: none. The
   * snapshot copies the states; the ledger may change or be freed after. */
  const struct ck_ledger* ledger;
} ck_snapshot_options;
#define CK_SNAPSHOT_OPTIONS_INIT \
  { sizeof(ck_snapshot_options), NULL, 0, NULL }

/* Publishes the cluster's current state. Unchanged columns are shared with
 * earlier snapshots (copy-on-write), so this is cheap after a small update.
 * Fails with CK_ERROR_NOT_FOUND when the zone map's unknownZone is error and
 * a node has no zone. */
CK_API ck_status ck_snapshot_publish(ck_snapshot** out, ck_cluster* cluster,
                                     const ck_engine* engine, const ck_snapshot_options* options);
CK_API void ck_snapshot_free(ck_snapshot* snapshot);
CK_API size_t ck_snapshot_node_count(const ck_snapshot* snapshot);
/* Node i's name (NULL when out of range); owned by the snapshot. */
CK_API const char* ck_snapshot_node_name(const ck_snapshot* snapshot, size_t node);
CK_API ck_status ck_snapshot_find_node(size_t* out, const ck_snapshot* snapshot, const char* name,
                                       size_t name_len);
/* Node i's grid zone index in the engine's zone map, -1 for none. */
CK_API int32_t ck_snapshot_node_zone(const ck_snapshot* snapshot, size_t node);
/* The reading of zone `zone` (an engine zone index) in this snapshot. */
CK_API ck_status ck_snapshot_zone_reading(ck_zone_reading* out, const ck_snapshot* snapshot,
                                          size_t zone);
/* The unix time the snapshot's intensities are for. */
CK_API int64_t ck_snapshot_time(const ck_snapshot* snapshot);

/* ------------------------------------------------------------------------
 * Pod: a Pod object parsed and compiled against a snapshot, to score many
 * times. Valid for later snapshots of the same cluster as long as no new
 * resource name appeared (else scoring gives CK_ERROR_MISMATCH: recompile).
 * Ownership: ck_pod_create / ck_pod_free.
 * Thread safety: immutable; any number of threads may score it. */

typedef struct ck_pod ck_pod;

/* Parses exactly one Pod (JSON or YAML) and compiles it. */
CK_API ck_status ck_pod_create(ck_pod** out, const ck_snapshot* snapshot, const char* text,
                               size_t text_len);
CK_API void ck_pod_free(ck_pod* pod);
/* "namespace/name"; owned by the pod. */
CK_API const char* ck_pod_key(const ck_pod* pod);

/* The pending Pods (not bound, not terminal) of a text: a List, a PodList, a
 * single Pod or a stream of documents, JSON or YAML, as `kubectl get pods -o
 * json|yaml` prints; bound, terminal and non-Pod objects are skipped. Each is
 * compiled against `snapshot` like ck_pod_create. `source` (C string, may be
 * NULL) names the text in messages. One bad Pod fails the whole call.
 * Ownership: ck_pod_list_create / ck_pod_list_free; the pods it holds are
 * owned by the list (never pass them to ck_pod_free).
 * Thread safety: immutable; any number of threads may score its pods. */
typedef struct ck_pod_list ck_pod_list;

CK_API ck_status ck_pod_list_create(ck_pod_list** out, const ck_snapshot* snapshot,
                                    const char* text, size_t text_len, const char* source);
CK_API void ck_pod_list_free(ck_pod_list* list);
/* Pods in text order. 0 for NULL. */
CK_API size_t ck_pod_list_count(const ck_pod_list* list);
/* Pod i, borrowed from the list (valid while it lives); NULL when out of
 * range. ck_pod_list_pods gives the array itself, for ck_score_batch. */
CK_API const ck_pod* ck_pod_list_get(const ck_pod_list* list, size_t i);
CK_API const ck_pod* const* ck_pod_list_pods(const ck_pod_list* list);

/* ------------------------------------------------------------------------
 * Scoring context: one thread's scratch memory, random state (ties are broken
 * uniformly at random under the seed) and rotating start node, as
 * kube-scheduler keeps between cycles. Also holds the last cycle's results
 * for ck_context_explain.
 * Ownership: ck_context_create / ck_context_free.
 * Thread safety: one thread at a time; give each scoring thread its own. */

typedef struct ck_context ck_context;

CK_API ck_status ck_context_create(ck_context** out, uint64_t seed);
CK_API void ck_context_free(ck_context* context);

/* A pod's result. */
typedef struct ck_pod_result {
  int64_t selected;   /* node index, or -1: no feasible node */
  int64_t total;      /* the selected node's weighted total score */
  uint32_t feasible;  /* feasible nodes found (and scored) */
  uint32_t processed; /* nodes the filters examined */
  int32_t status;     /* ck_status of this pod (batch: a bad pod does not stop the others) */
  uint32_t profile;   /* the profile that scored it */
} ck_pod_result;

typedef enum ck_node_state {
  CK_NODE_NOT_EVALUATED = 0, /* percentageOfNodesToScore was reached first */
  CK_NODE_FEASIBLE = 1,
  CK_NODE_INFEASIBLE = 2
} ck_node_state;

/* One node's outcome for one pod. */
typedef struct ck_node_result {
  int64_t total;         /* weighted total; 0 unless feasible */
  int32_t state;         /* ck_node_state */
  int32_t failed_filter; /* filter plugin index when infeasible, else -1 */
  uint32_t reasons;      /* the failed filter's reason bits (ck_context_explain spells them) */
  uint32_t reserved;
} ck_node_result;

/* Which profile scores a pod. */
#define CK_PROFILE_BY_SCHEDULER_NAME SIZE_MAX

typedef struct ck_score_options {
  size_t struct_size; /* sizeof(ck_score_options) */
  /* Profile index, or CK_PROFILE_BY_SCHEDULER_NAME (the default): the profile
   * named by the pod's spec.schedulerName, else the first. */
  size_t profile;
} ck_score_options;
#define CK_SCORE_OPTIONS_INIT \
  { sizeof(ck_score_options), CK_PROFILE_BY_SCHEDULER_NAME }

/* Scores one pod: Filter, Score, NormalizeScore, weighted sum, selection.
 * out_nodes (may be NULL) receives one ck_node_result per snapshot node:
 * nodes_len must be >= ck_snapshot_node_count. out_scores (may be NULL)
 * receives the per-plugin scores, node-major: out_scores[node *
 * plugins + p] with plugins = ck_engine_score_plugin_count(profile) of the
 * profile that scores the pod (out->profile; size the buffer for the widest
 * profile when pods choose theirs by schedulerName); it must hold node_count
 * * plugins values (scores_len). Scores are 0..100 after normalisation; -1
 * marks an entry without a score: the node is not feasible, or the plugin
 * skipped the pod (kube-scheduler's PreScore Skip, e.g. NodeAffinity for a
 * pod without preferred terms), so that a real 0 is never confused with
 * "not scored". options may be NULL. A malformed carbon or Katalyst
 * annotation on the pod is CK_ERROR_INVALID_INPUT. */
CK_API ck_status ck_score_pod(ck_pod_result* out, ck_node_result* out_nodes, size_t nodes_len,
                              int64_t* out_scores, size_t scores_len, const ck_engine* engine,
                              const ck_snapshot* snapshot, const ck_pod* pod, ck_context* context,
                              const ck_score_options* options);

/* Scores `count` pods independently against the same snapshot (nothing is
 * assumed bound between them: bind the chosen pod, publish, score again for
 * kube-scheduler's one-at-a-time queue). out receives one ck_pod_result per
 * pod (out_len >= count). out_totals (may be NULL) receives each pod's
 * weighted totals per node, pod-major: out_totals[pod * nodes + node], -1
 * where the node is not feasible; totals_len >= count * node_count. A pod
 * that fails gets its status in out[i].status and the call goes on; the
 * call returns the first such status (ck_last_error has its message). */
CK_API ck_status ck_score_batch(ck_pod_result* out, size_t out_len, int64_t* out_totals,
                                size_t totals_len, const ck_engine* engine,
                                const ck_snapshot* snapshot, const ck_pod* const* pods,
                                size_t count, ck_context* context, const ck_score_options* options);

/* The context's last ck_score_pod explained as JSON: {"pod", "selected",
 * "nodes": [{"name", "evaluated", "feasible", "failedPlugin", "reasons",
 * "scores", "total"}]}. Writes at most buffer_len bytes including the NUL;
 * *out_len (required) gets the length without the NUL. With a buffer that is
 * too small (or NULL with buffer_len 0) nothing is written and the status is
 * CK_ERROR_BUFFER_TOO_SMALL: call again with *out_len + 1 bytes.
 * CK_ERROR_NOT_FOUND when the context has scored no pod (batch calls do not
 * record explanations). */
CK_API ck_status ck_context_explain(size_t* out_len, char* buffer, size_t buffer_len,
                                    const ck_context* context);
/* The reasons one node failed in the context's last ck_score_pod, as
 * "Plugin: reason; reason" ("" for a feasible or unevaluated node). Same
 * buffer rules as ck_context_explain. */
CK_API ck_status ck_context_node_reasons(size_t* out_len, char* buffer, size_t buffer_len,
                                         const ck_context* context, size_t node);

/* Records that `pod` is placed on node `node` of `snapshot` (kube-scheduler's
 * assume): its requests count on that node in the next published snapshot. */
CK_API ck_status ck_cluster_assume(ck_cluster* cluster, const ck_snapshot* snapshot,
                                   const ck_pod* pod, size_t node);

/* ------------------------------------------------------------------------
 * QoS reconciler: gives each grid zone a carbon QoS profile with hysteresis
 * and a minimum dwell time (docs/qos.md).
 * Ownership: ck_reconciler_create / ck_reconciler_free.
 * Thread safety: one thread at a time (one controller loop owns it). */

typedef struct ck_reconciler ck_reconciler;

typedef struct ck_reconciler_options {
  size_t struct_size;          /* sizeof(ck_reconciler_options) */
  double hysteresis_g_per_kwh; /* default 20 */
  double hysteresis_fraction;  /* default 0; 0 <= f < 1 */
  int64_t min_dwell_seconds;   /* default 900 */
} ck_reconciler_options;
#define CK_RECONCILER_OPTIONS_INIT \
  { sizeof(ck_reconciler_options), 20.0, 0.0, 900 }

typedef struct ck_zone_input {
  const char* zone; /* C string */
  double g_per_kwh;
  int32_t usable; /* 0: missing or stale data, the zone keeps its profile */
} ck_zone_input;

typedef enum ck_decision_reason {
  CK_DECISION_FIRST_ASSIGNMENT = 0,
  CK_DECISION_UNCHANGED = 1,
  CK_DECISION_HELD_BY_BAND = 2,
  CK_DECISION_HELD_BY_DWELL = 3,
  CK_DECISION_MOVED_DIRTIER = 4,
  CK_DECISION_MOVED_GREENER = 5,
  CK_DECISION_NO_DATA = 6,
  CK_DECISION_NO_DATA_UNASSIGNED = 7
} ck_decision_reason;

typedef struct ck_zone_decision {
  int32_t profile;  /* QoS profile index, -1 only with NO_DATA_UNASSIGNED */
  int32_t previous; /* before this round, -1 for none */
  int32_t changed;  /* 0 or 1 */
  int32_t reason;   /* ck_decision_reason */
  int64_t since_unix_seconds;
} ck_zone_decision;

/* The engine's QoS profiles with these hysteresis settings (options may be
 * NULL for the defaults). */
CK_API ck_status ck_reconciler_create(ck_reconciler** out, const ck_engine* engine,
                                      const ck_reconciler_options* options);
CK_API void ck_reconciler_free(ck_reconciler* reconciler);
/* One round at unix time `now`: one decision per input, in input order
 * (out_len >= count). A zone listed twice or an empty zone id is
 * CK_ERROR_INVALID_INPUT and changes no state. */
CK_API ck_status ck_reconciler_reconcile(ck_zone_decision* out, size_t out_len,
                                         ck_reconciler* reconciler, int64_t now,
                                         const ck_zone_input* zones, size_t count);
/* "moved-dirtier", ...; "unknown" for others. Static storage. */
CK_API const char* ck_decision_reason_name(int32_t reason);

/* ------------------------------------------------------------------------
 * Forecasts and the temporal planner (docs/carbon-accounting.md): when
 * should deferrable work run? Plain functions over caller memory.
 * Thread safety: as their handle arguments (ck_signals: not while it is
 * being loaded). */

typedef enum ck_forecast_model {
  CK_FORECAST_SEASONAL_NAIVE = 0, /* the same hour of the latest known day */
  CK_FORECAST_RIDGE = 1,          /* per-lead-hour ridge regression on lags, hour, weekday */
  CK_FORECAST_PERFECT = 2         /* the recorded values themselves: the perfect-knowledge bound */
} ck_forecast_model;

/* Forecasts `zone`'s intensity (g/kWh) for the out_len hours from
 * issue_time, a UTC hour boundary, from the zone's history in `signals`
 * resampled hourly with its gaps filled. Only hours before issue_time are
 * read (PERFECT reads the hours it returns). out_len is 1..168. Errors:
 * CK_ERROR_NOT_FOUND for a zone without data; CK_ERROR_INVALID_INPUT when
 * the history is too short before issue_time (seasonal-naive: 1 day;
 * ridge: 8 days) or does not reach it, or issue_time is not an hour boundary. */
CK_API ck_status ck_signals_forecast(double* out, size_t out_len, const ck_signals* signals,
                                     const char* zone, size_t zone_len, int64_t issue_time,
                                     ck_forecast_model model);

/* A job to place in time. Times are unix seconds. */
typedef struct ck_job {
  size_t struct_size;       /* sizeof(ck_job) */
  int64_t arrival;          /* earliest start */
  int64_t duration_seconds; /* run time, > 0 */
  int64_t deadline;         /* latest completion, >= arrival + duration */
  int32_t interruptible;    /* 1: may stop and resume on curve steps */
  double power_kw;          /* average facility power while running (default 1) */
} ck_job;
#define CK_JOB_INIT \
  { sizeof(ck_job), 0, 0, 0, 0, 1.0 }

typedef struct ck_run {
  int64_t start;
  int64_t end;
} ck_run;

typedef struct ck_plan {
  int64_t start;      /* when the job starts: when its scheduling gate lifts */
  double expected_g;  /* gCO2 of the plan on the curve */
  double immediate_g; /* gCO2 if it started at arrival and ran through */
  size_t run_count;   /* runs written to out_runs (1 unless interruptible) */
  int32_t immediate;  /* 1: no window to choose from (deadline = arrival + duration) */
} ck_plan;

/* Plans `job` on the intensity curve values[i] (g/kWh) over [curve_start +
 * i * step_seconds, curve_start + (i + 1) * step_seconds): the start (or,
 * interruptible, the runs) within [arrival, deadline) with the least
 * emissions; ties go to the earliest. out_runs receives the runs: runs_len
 * >= 1 suffices for a job that is not interruptible, and duration_seconds /
 * step_seconds + 3 always does (runs may be partial in the arrival cell, the
 * deadline cell and the last cell used), as does count + 1. Errors: CK_ERROR_INVALID_INPUT for a
 * malformed job or curve (non-finite or negative values) or a window outside
 * the curve; CK_ERROR_BUFFER_TOO_SMALL (nothing written; the message says
 * how many runs) when out_runs is too short. */
CK_API ck_status ck_plan_job(ck_plan* out, ck_run* out_runs, size_t runs_len, int64_t curve_start,
                             int64_t step_seconds, const double* values, size_t count,
                             const ck_job* job);

/* ------------------------------------------------------------------------
 * Allocator: sizes a workload's containers (docs/allocator.md): a VPA-grade
 * recommendation (built in, fed with ck_allocator_add_usage, or given from
 * outside), the seed's carbon rule, then an online RL optimizer behind a
 * safety shield that learns from what followed (ck_allocator_learn).
 * Amounts: CPU in cores, memory in bytes. Unknown values (intensity, usage)
 * are given as a negative number.
 * Ownership: ck_allocator_create / ck_allocator_free.
 * Thread safety: one thread at a time (one controller loop owns it). */

typedef struct ck_allocator ck_allocator;

typedef struct ck_resources {
  double cpu_cores;
  double memory_bytes;
} ck_resources;

/* Katalyst KVPA / VPA recommendation fields. */
typedef struct ck_recommendation {
  ck_resources target;
  ck_resources lower_bound;
  ck_resources upper_bound;
  ck_resources uncapped_target;
  double confidence_days;
  int32_t has_data; /* 0: no usage seen yet (minimums, upper bound at the cap) */
} ck_recommendation;

typedef enum ck_sla_tier {
  CK_SLA_CRITICAL = 0, /* never sized below the base target */
  CK_SLA_STANDARD = 1,
  CK_SLA_BEST_EFFORT = 2
} ck_sla_tier;

typedef enum ck_carbon_band {
  CK_BAND_GREEN = 0,
  CK_BAND_NEUTRAL = 1,
  CK_BAND_DIRTY = 2,
  CK_BAND_UNKNOWN = 3 /* no usable intensity: the carbon step is neutral */
} ck_carbon_band;

typedef struct ck_allocator_options {
  size_t struct_size;               /* sizeof(ck_allocator_options) */
  double threshold_g_per_kwh;       /* dirty above (CarbonProfile carbonBudget.threshold) */
  double green_threshold_g_per_kwh; /* green below (carbonBudget.greenThreshold) */
  int32_t use_rl;                   /* 0: stop after the carbon rule */
  uint64_t seed;                    /* the RL's exploration */
} ck_allocator_options;
#define CK_ALLOCATOR_OPTIONS_INIT \
  { sizeof(ck_allocator_options), 300.0, 100.0, 1, 1 }

/* What the caller knows about one workload at decision time. */
typedef struct ck_workload {
  size_t struct_size;         /* sizeof(ck_workload) */
  const char* namespace_name; /* C string, NULL: "default" */
  const char* name;           /* C string, required */
  const char* container;      /* C string, NULL: "main" */
  int32_t sla_tier;           /* ck_sla_tier */
  double resource_guarantee;  /* fraction of the base target always kept, 0..1 */
  ck_resources min_resources; /* absolute floors */
  double intensity_g_per_kwh; /* where it runs now; < 0: unknown */
  double forecast_g_per_kwh;  /* expected over the next hours; < 0: unknown */
  int64_t unix_seconds;
  const ck_recommendation* external; /* NULL: the built-in recommender's */
  double mean_cpu_cores;             /* usage over the last interval; < 0: unknown */
  double peak_cpu_cores;
  double mean_memory_bytes;
  double peak_memory_bytes;
  double throttled_fraction;
  double oom_kills;
  double slo_latency_ratio;
} ck_workload;
#define CK_WORKLOAD_INIT                                                                          \
  {                                                                                               \
    sizeof(ck_workload), NULL, NULL, NULL, CK_SLA_STANDARD, 0.8, {0.0, 0.0}, -1.0, -1.0, 0, NULL, \
        -1.0, -1.0, -1.0, -1.0, 0.0, 0.0, 0.0                                                     \
  }

typedef struct ck_allocation {
  ck_resources requests;  /* what to apply */
  ck_recommendation base; /* the base recommendation */
  int32_t carbon_band;    /* ck_carbon_band of the intensity */
  int32_t priority_boost; /* the seed's: 1 in a green zone */
  double cpu_scale;       /* the carbon rule's factors */
  double memory_scale;
  int32_t used_rl;
  int32_t explored;      /* the RL explored (an epsilon draw) */
  uint64_t decision_id;  /* for ck_allocator_learn; 0 when the RL was not used */
  double cpu_multiplier; /* the RL's action on the carbon-adjusted target */
  double memory_multiplier;
  double cpu_propensity; /* probability the policy had of its actions */
  double memory_propensity;
} ck_allocation;

typedef struct ck_allocation_outcome {
  size_t struct_size;           /* sizeof(ck_allocation_outcome) */
  double cpu_slack_fraction;    /* mean (allocation - usage) / allocation */
  double memory_slack_fraction; /* same for memory */
  double throttled_fraction;    /* 0..1 */
  double oom_kills;
  double slo_violation_fraction; /* 0..1 */
} ck_allocation_outcome;
#define CK_ALLOCATION_OUTCOME_INIT \
  { sizeof(ck_allocation_outcome), 0.0, 0.0, 0.0, 0.0, 0.0 }

CK_API ck_status ck_allocator_create(ck_allocator** out, const ck_allocator_options* options);
CK_API void ck_allocator_free(ck_allocator* allocator);
/* One usage sample of a container (VPA weighs CPU samples by the request).
 * NaN, negative or out-of-order samples: CK_ERROR_INVALID_INPUT naming the
 * workload. */
CK_API ck_status ck_allocator_add_usage(ck_allocator* allocator, const char* namespace_name,
                                        const char* name, const char* container,
                                        int64_t unix_seconds, double cpu_cores,
                                        double cpu_request_cores, double memory_bytes);
/* An OOM kill; *out_counted (may be NULL) is 0 when VPA's rule ignores it. */
CK_API ck_status ck_allocator_record_oom(int32_t* out_counted, ck_allocator* allocator,
                                         const char* namespace_name, const char* name,
                                         const char* container, int64_t unix_seconds,
                                         double memory_request_bytes);
/* Base recommendation -> carbon rule -> RL (when enabled and the base has data). */
CK_API ck_status ck_allocator_allocate(ck_allocation* out, ck_allocator* allocator,
                                       const ck_workload* workload);
/* What followed the decision `decision_id` (each is learned once; the
 * allocator keeps the latest 4,096 unlearned ones). out_rewards (may be
 * NULL) receives the CPU and memory rewards. Unknown id: CK_ERROR_NOT_FOUND. */
CK_API ck_status ck_allocator_learn(double* out_rewards, ck_allocator* allocator,
                                    uint64_t decision_id, const ck_allocation_outcome* outcome);
/* The RL state in its versioned text format (two-call protocol, as
 * ck_context_explain), and its restoration (CK_ERROR_INVALID_INPUT on a
 * malformed or other-version state; nothing changes then). */
CK_API ck_status ck_allocator_save(size_t* out_len, char* buffer, size_t buffer_len,
                                   const ck_allocator* allocator);
CK_API ck_status ck_allocator_restore(ck_allocator* allocator, const char* text, size_t text_len);

/* ------------------------------------------------------------------------
 * Input limits: the most text, objects (items across all documents) and
 * nesting depth a parser accepts. Larger input fails with
 * CK_ERROR_LIMIT_EXCEEDED and a message naming the limit. Limits belong to
 * the handle that parses: ck_cluster (ck_cluster_apply, ck_ledger_account
 * with it), ck_signals (ck_signals_load), and the engine (ck_engine_options.
 * limits: its configuration, ck_pod_create, ck_pod_list_create). Defaults: 1 GiB, 1,000,000
 * objects, depth 128. A field of 0 keeps the default. */

typedef struct ck_limits {
  size_t struct_size; /* sizeof(ck_limits) */
  size_t max_bytes;
  size_t max_objects;
  size_t max_depth;
} ck_limits;
#define CK_LIMITS_INIT \
  { sizeof(ck_limits), 0, 0, 0 }

/* Sets the limits of later calls on the handle (limits NULL: the defaults).
 * *out (may be NULL) receives the limits now in force. */
CK_API ck_status ck_cluster_set_limits(ck_limits* out, ck_cluster* cluster,
                                       const ck_limits* limits);
CK_API ck_status ck_signals_set_limits(ck_limits* out, ck_signals* signals,
                                       const ck_limits* limits);

/* ------------------------------------------------------------------------
 * Carbon ledger, daily budgets and SCI (docs/carbon-accounting.md): power ×
 * grid intensity integrated over time per pod, namespace, tenant and zone
 * for each UTC day, embodied emissions amortised, budgets from CarbonProfile
 * (spec.carbonBudget), the budget hook, and the Green Software Foundation's
 * Software Carbon Intensity. Energy in kWh, emissions in gCO2e, budgets in kg.
 * Ownership: ck_ledger_create / ck_ledger_free.
 * Thread safety: one thread at a time (one feeder owns it). */

typedef enum ck_idle_attribution {
  CK_IDLE_SEPARATE = 0,    /* unused capacity's idle power is the node's own (_idle/<node>) */
  CK_IDLE_PROPORTIONAL = 1 /* all static power spread over the node's pods */
} ck_idle_attribution;

/* A node's linear power model (energy.hpp NodePowerModel). Node labels and
 * annotations carbon-kube.io/power-* , pue, embodied-kgco2e and
 * lifetime-years override it per node. */
typedef struct ck_power_model {
  double idle_watts_per_vcpu; /* default 0.74 (Cloud Carbon Footprint, AWS) */
  double max_watts_per_vcpu;  /* default 3.5 */
  double memory_watts_per_gb; /* default 0.392 */
  double gpu_idle_watts;      /* default 30 */
  double gpu_max_watts;       /* default 300 */
  double pue;                 /* default 1.135, >= 1 */
  double embodied_kg;         /* the whole machine's, default 1000 */
  double lifetime_years;      /* default 4 */
} ck_power_model;

typedef struct ck_ledger_options {
  size_t struct_size; /* sizeof(ck_ledger_options) */
  ck_power_model base;
  int32_t idle_attribution; /* ck_idle_attribution */
  int32_t book_idle;        /* 1: book idle power to namespace "_idle" */
  double gpu_utilisation;   /* assumed for pods attributed by request, 0..1 */
  double warn_fraction;     /* the budget hook's "near": used / limit >= this */
} ck_ledger_options;
#define CK_LEDGER_OPTIONS_INIT                                                      \
  {                                                                                 \
    sizeof(ck_ledger_options), {0.74, 3.5, 0.392, 30.0, 300.0, 1.135, 1000.0, 4.0}, \
        CK_IDLE_SEPARATE, 1, 1.0, 0.8                                               \
  }

CK_API ck_status ck_ledger_create(ck_ledger** out, const ck_ledger_options* options);
CK_API void ck_ledger_free(ck_ledger* ledger);

/* A namespace's daily limit in kg (finite, > 0); replaces an earlier one. */
CK_API ck_status ck_ledger_set_daily_limit(ck_ledger* ledger, const char* namespace_name,
                                           size_t namespace_len, double kg);
/* A CarbonProfile object (YAML or JSON): its namespace's daily limit
 * (spec.carbonBudget.dailyLimit) and the thresholds the budget hook uses
 * (greenThreshold). `source` (C string, may be NULL) names it in messages. */
CK_API ck_status ck_ledger_set_profile(ck_ledger* ledger, const char* text, size_t text_len,
                                       const char* source);

/* A pod's use over [start, end) in one grid zone. */
typedef struct ck_usage_record {
  size_t struct_size;         /* sizeof(ck_usage_record) */
  const char* pod;            /* C string "namespace/name", required */
  const char* namespace_name; /* C string, required */
  const char* tenant;         /* C string or NULL */
  const char* zone;           /* C string, required */
  int64_t start;              /* unix seconds */
  int64_t end;
  double watts;               /* facility power attributed to the pod */
  double embodied_g_per_hour; /* its share of the node's embodied emissions */
} ck_usage_record;
#define CK_USAGE_RECORD_INIT \
  { sizeof(ck_usage_record), NULL, NULL, NULL, NULL, 0, 0, 0.0, 0.0 }

/* Integrates `usage` against the intensity curve values[i] (g/kWh) over
 * [curve_start + i * step_seconds, ...) of kind `kind` (ck_intensity_kind,
 * or -1 unknown) and books it on each UTC day it touches. The first curve
 * with a kind fixes the ledger's; a curve of another kind is
 * CK_ERROR_INVALID_INPUT naming both (an account never mixes kinds). An interval outside the curve,
 * an empty pod or namespace, end < start, or NaN / negative power is CK_ERROR_INVALID_INPUT;
 * nothing is booked then. */
CK_API ck_status ck_ledger_record(ck_ledger* ledger, const ck_usage_record* usage,
                                  int64_t curve_start, int64_t step_seconds, const double* values,
                                  size_t count, int32_t kind);
/* The same against the zone's history in `signals` (resampled hourly, gaps
 * filled; its kind). CK_ERROR_NOT_FOUND for a zone without data. */
CK_API ck_status ck_ledger_record_signals(ck_ledger* ledger, const ck_usage_record* usage,
                                          const ck_signals* signals);

typedef struct ck_account_result {
  size_t pods_booked;
  size_t pods_skipped; /* on an unknown node, or a node without a zone or data */
  double node_watts;   /* facility power of the nodes booked */
} ck_account_result;

/* Books [t0, t1) for every bound, non-terminal Pod in `objects` (Nodes and
 * Pods as `kubectl get nodes,pods -o json|yaml` prints them, parsed within
 * `cluster`'s limits, or the defaults with cluster NULL): each node's power
 * model (the ledger's base, overridden by its labels), the pods' shares by
 * request, the node's zone by the engine's zone map, the zone's history in
 * `signals`. Skipped pods are counted; ck_ledger_skipped spells them. */
CK_API ck_status ck_ledger_account(ck_account_result* out, ck_ledger* ledger,
                                   const ck_engine* engine, const ck_signals* signals,
                                   const ck_cluster* cluster, const char* objects,
                                   size_t objects_len, const char* source, int64_t t0, int64_t t1);
/* The last ck_ledger_account's skipped pods, "<pod>: <why>" one per line
 * (the first 100); the two-call buffer protocol of ck_context_explain. */
CK_API ck_status ck_ledger_skipped(size_t* out_len, char* buffer, size_t buffer_len,
                                   const ck_ledger* ledger);

typedef enum ck_ledger_scope {
  CK_SCOPE_POD = 0, /* "namespace/name" */
  CK_SCOPE_NAMESPACE = 1,
  CK_SCOPE_TENANT = 2,
  CK_SCOPE_ZONE = 3
} ck_ledger_scope;

typedef struct ck_carbon_totals {
  double energy_kwh;
  double operational_g; /* integral of power x intensity */
  double embodied_g;
  double total_g;  /* operational + embodied */
  int64_t seconds; /* pod-seconds recorded */
} ck_carbon_totals;

/* Totals of the UTC day containing t, of a calendar month (UTC, month
 * 1..12), and of everything recorded. Unknown names give zeros. */
CK_API ck_status ck_ledger_day(ck_carbon_totals* out, const ck_ledger* ledger,
                               ck_ledger_scope scope, const char* name, size_t name_len, int64_t t);
CK_API ck_status ck_ledger_month(ck_carbon_totals* out, const ck_ledger* ledger,
                                 ck_ledger_scope scope, const char* name, size_t name_len,
                                 int32_t year, int32_t month);
CK_API ck_status ck_ledger_total(ck_carbon_totals* out, const ck_ledger* ledger,
                                 ck_ledger_scope scope, const char* name, size_t name_len);
/* Software Carbon Intensity (GSF): (E*I + M) / R per functional unit from
 * totals; functional_units must be finite and > 0. */
CK_API ck_status ck_sci(double* out, const ck_carbon_totals* totals, double functional_units);

typedef struct ck_budget_status {
  int64_t day_start;       /* the UTC midnight of the day */
  double limit_kg;         /* +inf without a limit */
  double used_kg;          /* operational + embodied */
  double fraction;         /* used / limit, 0 without a limit */
  int32_t exceeded;        /* 0 or 1 */
  int32_t has_exceeded_at; /* 1: exceeded_at holds when it crossed the limit */
  int64_t exceeded_at;
} ck_budget_status;

/* The namespace's budget on the UTC day containing t. */
CK_API ck_status ck_ledger_budget(ck_budget_status* out, const ck_ledger* ledger,
                                  const char* namespace_name, size_t namespace_len, int64_t t);

typedef enum ck_budget_action {
  CK_BUDGET_NONE = 0,           /* within budget */
  CK_BUDGET_PREFER_GREENER = 1, /* near or over: zones above the ceiling score lowest */
  CK_BUDGET_DEFER = 2           /* over budget and deferrable: wait for the reset */
} ck_budget_action;

typedef struct ck_budget_advice {
  int32_t action;                 /* ck_budget_action */
  double max_intensity_g_per_kwh; /* the preference's ceiling; +inf with NONE */
  int64_t defer_until;            /* DEFER: the next UTC midnight; else 0 */
} ck_budget_advice;

/* The budget hook for `pod` in a snapshot published with a ledger (what the
 * carbon plugins apply when it is scored). out_reason_len may be NULL (no
 * reason wanted); else the reason sentence follows the two-call buffer
 * protocol and `out` is written only when it fits. A malformed deferral
 * annotation is CK_ERROR_INVALID_INPUT. */
CK_API ck_status ck_snapshot_budget_advice(ck_budget_advice* out, size_t* out_reason_len,
                                           char* reason, size_t reason_len,
                                           const ck_snapshot* snapshot, const ck_pod* pod);

/* ------------------------------------------------------------------------
 * Migration advisor (docs/carbon-accounting.md): for running pods, the
 * emissions over a horizon of staying against moving to each other zone
 * (restart and redone work included), recommended when the net saving
 * clears the pod's policy, its cooldown has passed and the hourly limit has
 * room. The advisor never moves a pod: call ck_migration_record when you do.
 * Ownership: ck_migration_advisor_create / ck_migration_advisor_free.
 * Thread safety: one thread at a time. */

typedef struct ck_migration_advisor ck_migration_advisor;

typedef enum ck_migration_policy {
  CK_MIGRATION_AGGRESSIVE = 0,
  CK_MIGRATION_CONSERVATIVE = 1,
  CK_MIGRATION_DISABLED = 2
} ck_migration_policy;

typedef struct ck_migration_options {
  size_t struct_size;             /* sizeof(ck_migration_options) */
  int32_t enabled;                /* spec.migrationPolicy.enabled */
  int32_t max_per_hour;           /* maxMigrationsPerHour, >= 0 */
  double cooldown_seconds;        /* cooldownPeriod, >= 0 */
  int64_t horizon_seconds;        /* > 0 */
  double aggressive_min_fraction; /* least net saving / staying, per policy */
  double conservative_min_fraction;
  double min_saving_g; /* and at least this many grams */
} ck_migration_options;
#define CK_MIGRATION_OPTIONS_INIT \
  { sizeof(ck_migration_options), 1, 10, 300.0, 21600, 0.05, 0.25, 1.0 }

/* options NULL: the defaults above. */
CK_API ck_status ck_migration_advisor_create(ck_migration_advisor** out,
                                             const ck_migration_options* options);
/* From a CarbonProfile object's spec.migrationPolicy (YAML or JSON). */
CK_API ck_status ck_migration_advisor_create_from_profile(ck_migration_advisor** out,
                                                          const char* text, size_t text_len,
                                                          const char* source);
CK_API void ck_migration_advisor_free(ck_migration_advisor* advisor);

typedef struct ck_migration_candidate {
  size_t struct_size; /* sizeof(ck_migration_candidate) */
  const char* pod;    /* C string "namespace/name" */
  const char* zone;   /* C string: its grid zone now */
  double power_kw;    /* facility power, the same after a move */
  int64_t remaining_seconds;
  int64_t restart_seconds;   /* start-up in the destination, at full power */
  int64_t lost_work_seconds; /* work since the last checkpoint, redone */
  int32_t policy;            /* ck_migration_policy of the pod's QoS profile */
} ck_migration_candidate;
#define CK_MIGRATION_CANDIDATE_INIT \
  { sizeof(ck_migration_candidate), NULL, NULL, 0.0, 0, 60, 0, CK_MIGRATION_CONSERVATIVE }

/* A zone's expected intensity from now on: values[i] over [start + i *
 * step_seconds, ...) (e.g. history then ck_signals_forecast). */
typedef struct ck_zone_outlook {
  const char* zone; /* C string */
  int64_t start;
  int64_t step_seconds;
  const double* values;
  size_t count;
} ck_zone_outlook;

typedef enum ck_migration_reason {
  CK_MIGRATION_RECOMMENDED = 0,
  CK_MIGRATION_REASON_DISABLED = 1, /* spec.migrationPolicy.enabled is false */
  CK_MIGRATION_POLICY_DISABLED = 2, /* the pod's profile has migration disabled */
  CK_MIGRATION_NO_OUTLOOK = 3,
  CK_MIGRATION_NO_GREENER_ZONE = 4,
  CK_MIGRATION_SAVING_TOO_SMALL = 5,
  CK_MIGRATION_COOLDOWN = 6,
  CK_MIGRATION_RATE_LIMITED = 7,
  CK_MIGRATION_FINISHED = 8
} ck_migration_reason;

typedef struct ck_migration_recommendation {
  int32_t recommended; /* 0 or 1 */
  int32_t reason;      /* ck_migration_reason */
  int32_t to_zone;     /* index into the outlooks of the best destination, -1 none */
  int32_t reserved;
  int64_t horizon_seconds;
  double stay_g;          /* emissions of staying over the horizon */
  double move_g;          /* of moving: restart + redone work + the horizon's work */
  double move_cost_g;     /* the restart and redone-work part of move_g */
  double net_saving_g;    /* stay_g - move_g */
  double saving_fraction; /* net_saving_g / stay_g (0 when stay_g is 0) */
} ck_migration_recommendation;

/* One round at `now`: one recommendation per candidate (out_len >= count).
 * A candidate with an empty pod or zone, a duplicate pod, bad power or
 * times, or a malformed or duplicate outlook is CK_ERROR_INVALID_INPUT. */
CK_API ck_status ck_migration_advise(ck_migration_recommendation* out, size_t out_len,
                                     ck_migration_advisor* advisor, int64_t now,
                                     const ck_migration_candidate* candidates, size_t count,
                                     const ck_zone_outlook* zones, size_t zone_count);
/* The sentence behind recommendation i of the last round (two-call buffer
 * protocol); CK_ERROR_NOT_FOUND when i is out of range. */
CK_API ck_status ck_migration_detail(size_t* out_len, char* buffer, size_t buffer_len,
                                     const ck_migration_advisor* advisor, size_t i);
/* The host moved `pod` at `t`: starts its cooldown, counts against the hour. */
CK_API ck_status ck_migration_record(ck_migration_advisor* advisor, const char* pod, size_t pod_len,
                                     int64_t t);
/* Migrations recorded in (now - 1 h, now]; 0 for NULL. */
CK_API int32_t ck_migration_count_last_hour(const ck_migration_advisor* advisor, int64_t now);
/* "recommended", "cooldown", ...; "unknown" for others. Static storage. */
CK_API const char* ck_migration_reason_name(int32_t reason);

/* ------------------------------------------------------------------------
 * Metrics: the Prometheus text exposition (format 0.0.4) of the engine's
 * state under the seed's metric names (docs/carbon-accounting.md).
 * Ownership: ck_metrics_create / ck_metrics_free.
 * Thread safety: one thread at a time. */

typedef struct ck_metrics ck_metrics;

CK_API ck_status ck_metrics_create(ck_metrics** out);
CK_API void ck_metrics_free(ck_metrics* metrics);
/* Zone intensities (carbon_intensity_gco2_kwh, carbonkube_carbon_signal_usable)
 * from a snapshot published with signals and a zone map. */
CK_API ck_status ck_metrics_set_snapshot(ck_metrics* metrics, const ck_snapshot* snapshot);
/* Budgets at `now` and energy / emissions totals, copied from the ledger. */
CK_API ck_status ck_metrics_set_ledger(ck_metrics* metrics, const ck_ledger* ledger, int64_t now);
/* Adds the recommended moves of the advisor's last round to the counters. */
CK_API ck_status ck_metrics_count_migrations(ck_metrics* metrics,
                                             const ck_migration_advisor* advisor);
/* One scheduling decision for `pod` (its QoS class from the snapshot's
 * engine profiles): scheduled 1, unschedulable 0. */
CK_API ck_status ck_metrics_count_decision(ck_metrics* metrics, const ck_snapshot* snapshot,
                                           const ck_pod* pod, int32_t scheduled);
/* katalyst_qos_guarantee_met for one pod (C strings; met 0 or 1). */
CK_API ck_status ck_metrics_set_qos_guarantee(ck_metrics* metrics, const char* namespace_name,
                                              const char* pod, const char* qos_class, int32_t met);
/* The text (two-call buffer protocol). */
CK_API ck_status ck_metrics_render(size_t* out_len, char* buffer, size_t buffer_len,
                                   const ck_metrics* metrics);

#ifdef __cplusplus
}
#endif

#endif /* CARBONKUBE_H */
