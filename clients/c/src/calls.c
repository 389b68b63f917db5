/* The typed calls: encode the request, call, decode into the public structs. */
#include "internal.h"
#include "health.pb-c.h"
#include "predict.pb-c.h"
#include "train.pb-c.h"

#include <stdlib.h>
#include <string.h>

#define METHOD_HEALTH_CHECK "/facerpc.v1.Health/Check"
#define METHOD_PREDICT "/facerpc.v1.Predictor/Predict"
#define METHOD_TRAIN_STATUS "/facerpc.v1.Training/GetStatus"

/* Packs a message into a malloc'd buffer (NULL with *len 0 for an empty one). */
static facerpc_status pack(facerpc_client *c, const ProtobufCMessage *m, uint8_t **buf, size_t *len) {
    *len = protobuf_c_message_get_packed_size(m);
    *buf = NULL;
    if (*len == 0) return FACERPC_OK;
    if ((*buf = malloc(*len)) == NULL) return facerpc__fail(c, FACERPC_ERR_NOMEM, "no memory for a request of %zu bytes", *len);
    protobuf_c_message_pack(m, *buf);
    return FACERPC_OK;
}

/* Calls `method` with message `req`; on OK *resp is the decoded response (free
 * with protobuf_c_message_free_unpacked(*resp, &budget->allocator)). */
static facerpc_status call(facerpc_client *c, const char *method, const ProtobufCMessage *req,
                           const ProtobufCMessageDescriptor *resp_desc, int timeout_ms, facerpc_budget *budget,
                           ProtobufCMessage **resp) {
    uint8_t *buf, *answer = NULL;
    size_t len, answer_len = 0;
    *resp = NULL;
    facerpc_status st = pack(c, req, &buf, &len);
    if (st != FACERPC_OK) return st;
    st = facerpc_call_unary(c, method, buf, len, timeout_ms, &answer, &answer_len);
    free(buf);
    if (st != FACERPC_OK) return st;
    facerpc__budget_init(budget, FACERPC_MAX_DECODE_BYTES);
    *resp = protobuf_c_message_unpack(resp_desc, &budget->allocator, answer_len, answer);
    free(answer);
    if (*resp == NULL) return facerpc__fail(c, FACERPC_ERR_PROTOCOL, "undecodable %s", resp_desc->name);
    return FACERPC_OK;
}

facerpc_status facerpc_health_check(facerpc_client *c, const char *service, int timeout_ms, facerpc_health *out) {
    if (c == NULL || out == NULL) return FACERPC_ERR_ARGUMENT;
    *out = FACERPC_HEALTH_UNKNOWN;
    Facerpc__V1__HealthCheckRequest req = FACERPC__V1__HEALTH_CHECK_REQUEST__INIT;
    req.service = (char *)(service != NULL ? service : "");
    facerpc_budget budget;
    ProtobufCMessage *m;
    facerpc_status st = call(c, METHOD_HEALTH_CHECK, &req.base, &facerpc__v1__health_check_response__descriptor, timeout_ms, &budget, &m);
    if (st == FACERPC_NOT_FOUND) {  /* grpc.health.v1: an unknown service is an answer, not a failure */
        facerpc__fail(c, FACERPC_OK, "%s", "");
        *out = FACERPC_HEALTH_SERVICE_UNKNOWN;
        return FACERPC_OK;
    }
    if (st != FACERPC_OK) return st;
    int status = ((Facerpc__V1__HealthCheckResponse *)m)->status;
    *out = status >= 0 && status <= 3 ? (facerpc_health)status : FACERPC_HEALTH_UNKNOWN;
    protobuf_c_message_free_unpacked(m, &budget.allocator);
    return FACERPC_OK;
}

/* ---- predict ---------------------------------------------------------- */

static float *copy_floats(const float *src, size_t n) {
    if (n == 0) return NULL;
    float *dst = malloc(n * sizeof *dst);
    if (dst != NULL) memcpy(dst, src, n * sizeof *dst);
    return dst;
}

static int copy_face(facerpc_face *dst, const Facerpc__V1__Face *src) {
    if (src->box != NULL) {
        dst->box.x = src->box->x;
        dst->box.y = src->box->y;
        dst->box.width = src->box->width;
        dst->box.height = src->box->height;
    }
    dst->score = src->score;
    if (src->n_landmarks > 0) {
        if ((dst->landmarks = calloc(src->n_landmarks, sizeof *dst->landmarks)) == NULL) return -1;
        dst->n_landmarks = src->n_landmarks;
        for (size_t i = 0; i < src->n_landmarks; i++) {
            dst->landmarks[i].x = src->landmarks[i]->x;
            dst->landmarks[i].y = src->landmarks[i]->y;
        }
    }
    if (src->age != NULL) {
        dst->has_age = 1;
        dst->age_years = src->age->years;
        dst->age_bucket = src->age->bucket;
        dst->age_confidence = src->age->confidence;
        if (src->age->n_distribution > 0) {
            if ((dst->age_distribution = copy_floats(src->age->distribution, src->age->n_distribution)) == NULL) return -1;
            dst->n_age_distribution = src->age->n_distribution;
        }
    }
    if (src->gender != NULL) {
        dst->has_gender = 1;
        int g = src->gender->label;
        dst->gender = g == 1 || g == 2 ? (facerpc_gender)g : FACERPC_GENDER_UNSPECIFIED;
        dst->gender_confidence = src->gender->confidence;
        if (src->gender->n_distribution > 0) {
            if ((dst->gender_distribution = copy_floats(src->gender->distribution, src->gender->n_distribution)) == NULL) return -1;
            dst->n_gender_distribution = src->gender->n_distribution;
        }
    }
    return 0;
}

void facerpc_predict_result_free(facerpc_predict_result *r) {
    if (r == NULL) return;
    for (size_t i = 0; i < r->n_faces; i++) {
        free(r->faces[i].landmarks);
        free(r->faces[i].age_distribution);
        free(r->faces[i].gender_distribution);
    }
    free(r->faces);
    free(r->age_model);
    free(r->gender_model);
    free(r);
}

facerpc_status facerpc_predict(facerpc_client *c, const uint8_t *jpeg, size_t jpeg_len,
                               const facerpc_predict_options *options, int timeout_ms, facerpc_predict_result **out) {
    if (c == NULL || out == NULL || (jpeg == NULL && jpeg_len > 0)) return FACERPC_ERR_ARGUMENT;
    *out = NULL;
    Facerpc__V1__PredictOptions opts = FACERPC__V1__PREDICT_OPTIONS__INIT;
    if (options != NULL) {
        opts.age_model = (char *)(options->age_model != NULL ? options->age_model : "");
        opts.gender_model = (char *)(options->gender_model != NULL ? options->gender_model : "");
        opts.face_crop = options->face_crop != 0;
        opts.min_face_size = options->min_face_size;
        opts.score_threshold = options->score_threshold;
        opts.include_distributions = options->include_distributions != 0;
        opts.max_faces = options->max_faces;
    }
    Facerpc__V1__PredictRequest req = FACERPC__V1__PREDICT_REQUEST__INIT;
    req.image_case = FACERPC__V1__PREDICT_REQUEST__IMAGE_JPEG;
    req.jpeg.data = (uint8_t *)jpeg;
    req.jpeg.len = jpeg_len;
    req.options = &opts;
    facerpc_budget budget;
    ProtobufCMessage *m;
    facerpc_status st = call(c, METHOD_PREDICT, &req.base, &facerpc__v1__predict_response__descriptor, timeout_ms, &budget, &m);
    if (st != FACERPC_OK) return st;
    const Facerpc__V1__PredictResponse *resp = (const Facerpc__V1__PredictResponse *)m;

    facerpc_predict_result *r = calloc(1, sizeof *r);
    int failed = r == NULL;
    if (!failed && resp->n_faces > 0) {
        r->faces = calloc(resp->n_faces, sizeof *r->faces);
        failed = r->faces == NULL;
        for (size_t i = 0; !failed && i < resp->n_faces; i++) {
            r->n_faces = i + 1;  /* so a partial result frees correctly */
            failed = copy_face(&r->faces[i], resp->faces[i]) != 0;
        }
    }
    if (!failed) {
        r->is_human = resp->is_human != 0;
        if (resp->timings != NULL) {
            const Facerpc__V1__Timings *t = resp->timings;
            r->timings = (facerpc_timings){t->decode_ms, t->detect_ms, t->align_ms, t->queue_ms, t->age_ms, t->gender_ms, t->total_ms};
        }
        r->image_width = resp->image_width;
        r->image_height = resp->image_height;
        r->age_model = facerpc__strdup(resp->age_model);
        r->gender_model = facerpc__strdup(resp->gender_model);
        failed = r->age_model == NULL || r->gender_model == NULL;
    }
    protobuf_c_message_free_unpacked(m, &budget.allocator);
    if (failed) {
        facerpc_predict_result_free(r);
        return facerpc__fail(c, FACERPC_ERR_NOMEM, "no memory for the predict result");
    }
    *out = r;
    return FACERPC_OK;
}

/* ---- training --------------------------------------------------------- */

void facerpc_train_status_free(facerpc_train_status *s) {
    if (s == NULL) return;
    free(s->job_id);
    free(s->model);
    free(s->checkpoint);
    free(s->error);
    free(s->version);
    free(s);
}

facerpc_status facerpc_train_status_get(facerpc_client *c, const char *job, int timeout_ms, facerpc_train_status **out) {
    if (c == NULL || out == NULL) return FACERPC_ERR_ARGUMENT;
    *out = NULL;
    Facerpc__V1__TrainJobRequest req = FACERPC__V1__TRAIN_JOB_REQUEST__INIT;
    req.job_id = (char *)(job != NULL ? job : "");
    facerpc_budget budget;
    ProtobufCMessage *m;
    facerpc_status st = call(c, METHOD_TRAIN_STATUS, &req.base, &facerpc__v1__train_status__descriptor, timeout_ms, &budget, &m);
    if (st != FACERPC_OK) return st;
    const Facerpc__V1__TrainStatus *t = (const Facerpc__V1__TrainStatus *)m;
    facerpc_train_status *s = calloc(1, sizeof *s);
    if (s != NULL) {
        s->job_id = facerpc__strdup(t->job_id);
        s->model = facerpc__strdup(t->model);
        s->state = t->state >= 0 && t->state <= 5 ? (facerpc_train_state)t->state : FACERPC_TRAIN_UNSPECIFIED;
        s->step = t->step;
        s->total_steps = t->total_steps;
        s->epoch = t->epoch;
        s->loss = t->loss;
        s->loss_avg = t->loss_avg;
        s->train_accuracy = t->train_accuracy;
        s->val_accuracy = t->val_accuracy;
        s->learning_rate = t->learning_rate;
        s->examples_per_second = t->examples_per_second;
        s->eta_seconds = t->eta_seconds;
        s->checkpoint = facerpc__strdup(t->checkpoint);
        s->error = facerpc__strdup(t->error);
        s->version = facerpc__strdup(t->version);
    }
    protobuf_c_message_free_unpacked(m, &budget.allocator);
    if (s == NULL || !s->job_id || !s->model || !s->checkpoint || !s->error || !s->version) {
        facerpc_train_status_free(s);
        return facerpc__fail(c, FACERPC_ERR_NOMEM, "no memory for the training status");
    }
    *out = s;
    return FACERPC_OK;
}
