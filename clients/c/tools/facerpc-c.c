/*
 * facerpc-c: the C client's command line.
 *
 *   facerpc-c [--unix PATH | --tcp HOST:PORT] [--timeout S] health [--service S]
 *   facerpc-c [--unix PATH | --tcp HOST:PORT] [--timeout S] predict [--face-crop] IMG...
 *
 * Options may also follow the command. health prints the status and exits 0
 * for SERVING, 1 for NOT_SERVING or SERVICE_UNKNOWN, 2 when the server cannot
 * be reached or does not answer in time. predict prints one JSON object per
 * image and line; it exits 0, 1 when a call or file failed, 2 when unreachable.
 */
#include "facerpc_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest image file read; the request must fit in the server's frame limit. */
#define MAX_IMAGE_BYTES (FACERPC_DEFAULT_MAX_FRAME_BYTES - 1024u)

static void usage(FILE *f) {
    fputs("usage: facerpc-c [--unix PATH | --tcp HOST:PORT] [--timeout S] health [--service S]\n"
          "       facerpc-c [--unix PATH | --tcp HOST:PORT] [--timeout S] predict [--face-crop] IMG...\n",
          f);
}

static int read_file(const char *path, uint8_t **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    uint8_t *buf = malloc(MAX_IMAGE_BYTES + 1);
    size_t n = buf != NULL ? fread(buf, 1, MAX_IMAGE_BYTES + 1, f) : 0;
    int bad = buf == NULL || ferror(f);
    fclose(f);
    if (bad || n > MAX_IMAGE_BYTES) {
        free(buf);
        errno = bad ? EIO : EFBIG;
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

static int unreachable(facerpc_status st) {
    return st == FACERPC_ERR_CONNECT || st == FACERPC_ERR_TIMEOUT || st == FACERPC_ERR_CLOSED ||
           st == FACERPC_UNAVAILABLE || st == FACERPC_DEADLINE_EXCEEDED;
}

int main(int argc, char **argv) {
    const char *unix_path = NULL, *tcp = NULL, *service = "", *command = NULL;
    double timeout_s = -1;
    int face_crop = 0;
    const char **images = calloc((size_t)argc, sizeof *images);
    size_t n_images = 0;
    if (images == NULL) return 2;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            free(images);
            return 0;
        } else if (strcmp(a, "--unix") == 0 && next) {
            unix_path = argv[++i];
        } else if (strcmp(a, "--tcp") == 0 && next) {
            tcp = argv[++i];
        } else if (strcmp(a, "--service") == 0 && next) {
            service = argv[++i];
        } else if (strcmp(a, "--timeout") == 0 && next) {
            char *end;
            timeout_s = strtod(argv[++i], &end);
            if (*end != '\0' || !(timeout_s > 0)) {
                fprintf(stderr, "error: --timeout needs seconds > 0\n");
                free(images);
                return 2;
            }
        } else if (strcmp(a, "--face-crop") == 0) {
            face_crop = 1;
        } else if (a[0] == '-' && a[1] == '-') {
            fprintf(stderr, "error: unknown or incomplete option %s\n", a);
            usage(stderr);
            free(images);
            return 2;
        } else if (command == NULL) {
            command = a;
        } else {
            images[n_images++] = a;
        }
    }
    int health = command != NULL && strcmp(command, "health") == 0;
    int predict = command != NULL && strcmp(command, "predict") == 0;
    if ((!health && !predict) || (unix_path && tcp) || (health && n_images) || (predict && !n_images)) {
        usage(stderr);
        free(images);
        return 2;
    }
    char target[4200];
    if (tcp != NULL) snprintf(target, sizeof target, "tcp:%s", tcp);
    else if (unix_path != NULL) snprintf(target, sizeof target, "unix:%s", unix_path);
    if (timeout_s < 0) timeout_s = health ? 2.0 : 30.0;
    int timeout_ms = timeout_s * 1000 < 1 ? 1 : (timeout_s * 1000 > FACERPC_MAX_TIMEOUT_MS ? FACERPC_MAX_TIMEOUT_MS : (int)(timeout_s * 1000));

    facerpc_client *client = NULL;
    facerpc_status st = facerpc_connect(tcp || unix_path ? target : NULL, timeout_ms, &client);
    if (st != FACERPC_OK) {
        fprintf(stderr, "error: %s\n", facerpc_strerror(st));
        free(images);
        return 2;
    }
    int rc = 0;
    if (health) {
        facerpc_health h;
        st = facerpc_health_check(client, service, timeout_ms, &h);
        if (st != FACERPC_OK) {
            fprintf(stderr, "error: %s: %s\n", facerpc_strerror(st), facerpc_last_error(client));
            rc = 2;
        } else {
            puts(facerpc_health_name(h));
            rc = h == FACERPC_HEALTH_SERVING ? 0 : 1;
        }
    } else {
        facerpc_predict_options opts = {0};
        opts.face_crop = face_crop;
        for (size_t i = 0; i < n_images; i++) {
            uint8_t *data;
            size_t len;
            if (read_file(images[i], &data, &len) != 0) {
                fprintf(stderr, "error: %s: %s\n", images[i], strerror(errno));
                rc = 1;
                continue;
            }
            facerpc_predict_result *r = NULL;
            st = facerpc_predict(client, data, len, &opts, timeout_ms, &r);
            free(data);
            if (st != FACERPC_OK) {
                fprintf(stderr, "error: %s: %s: %s\n", images[i], facerpc_strerror(st), facerpc_last_error(client));
                if (unreachable(st) && st != FACERPC_DEADLINE_EXCEEDED && st != FACERPC_ERR_TIMEOUT) {
                    rc = 2;
                    break;
                }
                rc = 1;
                continue;
            }
            facerpc_predict_result_write_json(r, images[i], stdout);
            fputc('\n', stdout);
            fflush(stdout);
            facerpc_predict_result_free(r);
        }
    }
    facerpc_close(client);
    free(images);
    return rc;
}
