/*
 * libfacerpc-client: a C client for the facerpc age and gender server.
 *
 * One facerpc_client is one connection (Unix socket or TCP) speaking the
 * protocol of docs/PROTOCOL.md: 4-byte big-endian length + protobuf envelope.
 * Calls are synchronous and every call takes a deadline in milliseconds: it is
 * sent to the server and also enforced locally, so no call blocks much longer
 * than its deadline even when the server is gone. A lost connection is reopened
 * on the next call.
 *
 * Thread safety: a facerpc_client must not be used by two threads at once;
 * use one client per thread (or a lock around it).
 *
 * Memory: results are owned by the caller and freed with the matching
 * facerpc_*_free function; strings in results stay valid until then.
 */
#ifndef FACERPC_CLIENT_H
#define FACERPC_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FACERPC_API __attribute__((visibility("default")))
#else
#define FACERPC_API
#endif

/** Default limit on a frame body in either direction: 4 MiB, the server's default. */
#define FACERPC_DEFAULT_MAX_FRAME_BYTES (4u * 1024u * 1024u)
/** Most memory one decoded response may take (protobuf-c's unpacked form). */
#define FACERPC_MAX_DECODE_BYTES (64u * 1024u * 1024u)
/** Deadlines above the server's 1 h limit are clamped to it. */
#define FACERPC_MAX_TIMEOUT_MS (3600 * 1000)

/**
 * Result of every call. 0..16 are the gRPC status codes the server sends
 * (numbering as in gRPC); values from 100 are found by the client itself.
 */
typedef enum facerpc_status {
    FACERPC_OK = 0,
    FACERPC_CANCELLED = 1,
    FACERPC_UNKNOWN = 2,
    FACERPC_INVALID_ARGUMENT = 3,
    FACERPC_DEADLINE_EXCEEDED = 4,
    FACERPC_NOT_FOUND = 5,
    FACERPC_ALREADY_EXISTS = 6,
    FACERPC_PERMISSION_DENIED = 7,
    FACERPC_RESOURCE_EXHAUSTED = 8,
    FACERPC_FAILED_PRECONDITION = 9,
    FACERPC_ABORTED = 10,
    FACERPC_OUT_OF_RANGE = 11,
    FACERPC_UNIMPLEMENTED = 12,
    FACERPC_INTERNAL = 13,
    FACERPC_UNAVAILABLE = 14,
    FACERPC_DATA_LOSS = 15,
    FACERPC_UNAUTHENTICATED = 16,

    /** Could not connect (no such socket, refused, unresolvable host, connect timed out). */
    FACERPC_ERR_CONNECT = 100,
    /** The call's deadline passed locally without an answer (the call was cancelled). */
    FACERPC_ERR_TIMEOUT = 101,
    /** The server broke the protocol: frame over the size limit, undecodable envelope or
     *  message. The connection is closed. */
    FACERPC_ERR_PROTOCOL = 102,
    /** The connection was lost (closed by the server, reset) before the answer. */
    FACERPC_ERR_CLOSED = 103,
    /** A bad argument from the caller (NULL pointer, bad target, oversized request). */
    FACERPC_ERR_ARGUMENT = 104,
    /** Out of memory, or a response that would decode to more than FACERPC_MAX_DECODE_BYTES. */
    FACERPC_ERR_NOMEM = 105
} facerpc_status;

/** A constant description of a status ("UNIMPLEMENTED", "connect failed", ...). Never NULL. */
FACERPC_API const char *facerpc_strerror(facerpc_status status);

typedef struct facerpc_client facerpc_client;

/**
 * Connects to `target`: "unix:PATH", "tcp:HOST:PORT", "HOST:PORT", or a path
 * containing '/'. NULL means the server's default socket
 * ($XDG_RUNTIME_DIR/facerpc/facerpc.sock, else /tmp/facerpc-UID/facerpc.sock).
 * Waits at most `timeout_ms` (<= 0: 5000). On success *out is set; free it with
 * facerpc_close. Returns FACERPC_ERR_CONNECT or FACERPC_ERR_ARGUMENT on failure
 * (*out is then NULL).
 */
FACERPC_API facerpc_status facerpc_connect(const char *target, int timeout_ms, facerpc_client **out);

/** Closes the connection and frees the client. NULL is allowed. */
FACERPC_API void facerpc_close(facerpc_client *client);

/* Presents `token` on every later call as the metadata
 * "authorization: Bearer <token>", for a server started with
 * --auth-token-file (it is required on TCP there; the Unix socket does not ask).
 * The token is copied; NULL or "" stops sending one. Returns FACERPC_ERR_ARGUMENT
 * for a token longer than 4096 bytes or holding a control character. */
FACERPC_API facerpc_status facerpc_set_token(facerpc_client *client, const char *token);

/**
 * Sets the largest frame body accepted from the server and sent to it
 * (default FACERPC_DEFAULT_MAX_FRAME_BYTES). A larger incoming frame fails
 * the call with FACERPC_ERR_PROTOCOL before anything is allocated for it.
 */
FACERPC_API void facerpc_set_max_frame_bytes(facerpc_client *client, uint32_t max_bytes);

/**
 * The message of the last failed call on this client (the server's status
 * message, or what the client found wrong); "" after a success. Valid until
 * the next call on the client.
 */
FACERPC_API const char *facerpc_last_error(const facerpc_client *client);

/* ---- generic calls ---------------------------------------------------- */

/**
 * Calls a unary method with an encoded request message and returns the
 * encoded response in *response (malloc'd; free() it; NULL when empty) and
 * *response_len. Use it for methods this header has no wrapper for, e.g.
 * "/facerpc.v1.Debug/Sleep". `timeout_ms` <= 0 means 30000.
 */
FACERPC_API facerpc_status facerpc_call_unary(facerpc_client *client, const char *method,
                                              const uint8_t *request, size_t request_len,
                                              int timeout_ms, uint8_t **response, size_t *response_len);

/* ---- health ----------------------------------------------------------- */

typedef enum facerpc_health {
    FACERPC_HEALTH_UNKNOWN = 0,
    FACERPC_HEALTH_SERVING = 1,
    FACERPC_HEALTH_NOT_SERVING = 2,
    FACERPC_HEALTH_SERVICE_UNKNOWN = 3
} facerpc_health;

/** "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" or "UNKNOWN". */
FACERPC_API const char *facerpc_health_name(facerpc_health health);

/**
 * Health/Check of `service` ("" or NULL: the whole server; else a model name).
 * An unknown service gives FACERPC_OK with FACERPC_HEALTH_SERVICE_UNKNOWN.
 */
FACERPC_API facerpc_status facerpc_health_check(facerpc_client *client, const char *service,
                                                int timeout_ms, facerpc_health *out);

/* ---- predict ---------------------------------------------------------- */

typedef enum facerpc_gender {
    FACERPC_GENDER_UNSPECIFIED = 0,
    FACERPC_GENDER_FEMALE = 1,
    FACERPC_GENDER_MALE = 2
} facerpc_gender;

/** "female", "male", or NULL for anything else. */
FACERPC_API const char *facerpc_gender_name(facerpc_gender gender);

/** The Levi-Hassner bucket's name ("0-2", ..., "60-100") for AgeBucket 1..8; NULL otherwise. */
FACERPC_API const char *facerpc_age_bucket_name(int bucket);

typedef struct facerpc_box { float x, y, width, height; } facerpc_box; /* pixels; (x, y) top-left */
typedef struct facerpc_point { float x, y; } facerpc_point;

typedef struct facerpc_face {
    facerpc_box box;
    float score;
    /** Five points (left eye, right eye, nose, left and right mouth corner), if the detector gave them. */
    size_t n_landmarks;
    facerpc_point *landmarks;
    int has_age;                 /* the fields below are 0 when not */
    float age_years;             /* expected age */
    int age_bucket;              /* AgeBucket enum value; see facerpc_age_bucket_name */
    float age_confidence;        /* probability mass of the bucket */
    size_t n_age_distribution;   /* only with include_distributions */
    float *age_distribution;
    int has_gender;
    facerpc_gender gender;
    float gender_confidence;
    size_t n_gender_distribution; /* [female, male], only with include_distributions */
    float *gender_distribution;
} facerpc_face;

typedef struct facerpc_timings {
    float decode_ms, detect_ms, align_ms, queue_ms, age_ms, gender_ms, total_ms;
} facerpc_timings;

typedef struct facerpc_predict_result {
    size_t n_faces;
    facerpc_face *faces;
    int is_human;                /* at least one face found */
    facerpc_timings timings;
    uint32_t image_width, image_height;
    char *age_model;             /* the models that answered; never NULL */
    char *gender_model;
} facerpc_predict_result;

/** Zero-initialise (or pass NULL) for the server's defaults. */
typedef struct facerpc_predict_options {
    const char *age_model;       /* NULL or "": "age" */
    const char *gender_model;    /* NULL or "": "gender" */
    int face_crop;               /* the image is one face: skip detection */
    float min_face_size;         /* pixels; 0: server default */
    float score_threshold;       /* [0, 1]; 0: server default */
    int include_distributions;
    uint32_t max_faces;          /* 0: server default */
} facerpc_predict_options;

/**
 * Ages and genders of the faces in a JPEG. On FACERPC_OK *out is a result to
 * free with facerpc_predict_result_free; otherwise *out is NULL.
 * `timeout_ms` <= 0 means 30000.
 */
FACERPC_API facerpc_status facerpc_predict(facerpc_client *client, const uint8_t *jpeg, size_t jpeg_len,
                                           const facerpc_predict_options *options, int timeout_ms,
                                           facerpc_predict_result **out);

FACERPC_API void facerpc_predict_result_free(facerpc_predict_result *result);

/**
 * Writes `result` as one line of JSON (no newline) to `out`:
 * {"image", "is_human", "faces": [{"box": {"x","y","width","height"}, "score",
 * "landmarks": [[x,y],...], "age": {"years","bucket","confidence"}|null,
 * "gender": {"label","confidence"}|null}], "timings_ms": {...}}.
 * `image` may be NULL (written as null). Returns 0, or -1 on a write error.
 */
FACERPC_API int facerpc_predict_result_write_json(const facerpc_predict_result *result, const char *image, FILE *out);

/* ---- training --------------------------------------------------------- */

typedef enum facerpc_train_state {
    FACERPC_TRAIN_UNSPECIFIED = 0,
    FACERPC_TRAIN_QUEUED = 1,
    FACERPC_TRAIN_RUNNING = 2,
    FACERPC_TRAIN_SUCCEEDED = 3,
    FACERPC_TRAIN_FAILED = 4,
    FACERPC_TRAIN_CANCELLED = 5
} facerpc_train_state;

typedef struct facerpc_train_status {
    char *job_id;
    char *model;
    facerpc_train_state state;
    uint64_t step, total_steps;
    uint32_t epoch;
    float loss, loss_avg, train_accuracy, val_accuracy, learning_rate, examples_per_second, eta_seconds;
    char *checkpoint;
    char *error;
    char *version;
} facerpc_train_status;

/**
 * Training/GetStatus of job `job` ("" or NULL: the newest). On FACERPC_OK *out
 * is set (free with facerpc_train_status_free); an unknown job is FACERPC_NOT_FOUND.
 */
FACERPC_API facerpc_status facerpc_train_status_get(facerpc_client *client, const char *job, int timeout_ms,
                                                    facerpc_train_status **out);

FACERPC_API void facerpc_train_status_free(facerpc_train_status *status);

#ifdef __cplusplus
}
#endif
#endif /* FACERPC_CLIENT_H */
