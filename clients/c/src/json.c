/* The predict result as JSON, in the shape facerpc-py --json writes. */
#include "internal.h"

#include <math.h>
#include <stdio.h>

static void json_string(FILE *f, const char *s) {
    if (s == NULL) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* float32 carries about 7 significant digits; JSON has no NaN or infinity. */
static void json_float(FILE *f, float v) {
    if (isfinite(v)) fprintf(f, "%.7g", (double)v);
    else fputs("null", f);
}

int facerpc_predict_result_write_json(const facerpc_predict_result *r, const char *image, FILE *f) {
    if (r == NULL || f == NULL) return -1;
    fputs("{\"image\": ", f);
    json_string(f, image);
    fprintf(f, ", \"is_human\": %s, \"faces\": [", r->is_human ? "true" : "false");
    for (size_t i = 0; i < r->n_faces; i++) {
        const facerpc_face *face = &r->faces[i];
        fputs(i ? ", {\"box\": {\"x\": " : "{\"box\": {\"x\": ", f);
        json_float(f, face->box.x);
        fputs(", \"y\": ", f);
        json_float(f, face->box.y);
        fputs(", \"width\": ", f);
        json_float(f, face->box.width);
        fputs(", \"height\": ", f);
        json_float(f, face->box.height);
        fputs("}, \"score\": ", f);
        json_float(f, face->score);
        fputs(", \"landmarks\": [", f);
        for (size_t k = 0; k < face->n_landmarks; k++) {
            fputs(k ? ", [" : "[", f);
            json_float(f, face->landmarks[k].x);
            fputs(", ", f);
            json_float(f, face->landmarks[k].y);
            fputc(']', f);
        }
        fputs("], \"age\": ", f);
        if (face->has_age) {
            fputs("{\"years\": ", f);
            json_float(f, face->age_years);
            fputs(", \"bucket\": ", f);
            json_string(f, facerpc_age_bucket_name(face->age_bucket));
            fputs(", \"confidence\": ", f);
            json_float(f, face->age_confidence);
            fputc('}', f);
        } else {
            fputs("null", f);
        }
        fputs(", \"gender\": ", f);
        if (face->has_gender) {
            fputs("{\"label\": ", f);
            json_string(f, facerpc_gender_name(face->gender));
            fputs(", \"confidence\": ", f);
            json_float(f, face->gender_confidence);
            fputc('}', f);
        } else {
            fputs("null", f);
        }
        fputc('}', f);
    }
    const facerpc_timings *t = &r->timings;
    const struct { const char *name; float value; } stages[] = {
        {"decode", t->decode_ms}, {"detect", t->detect_ms}, {"align", t->align_ms}, {"queue", t->queue_ms},
        {"age", t->age_ms}, {"gender", t->gender_ms}, {"total", t->total_ms},
    };
    fputs("], \"timings_ms\": {", f);
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        fprintf(f, "%s\"%s\": ", i ? ", " : "", stages[i].name);
        json_float(f, stages[i].value);
    }
    fputc('}', f);
    fputc('}', f);
    return ferror(f) ? -1 : 0;
}
