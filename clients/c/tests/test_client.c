/*
 * Tests of libfacerpc-client and facerpc-c against a real facerpc server,
 * which this program starts itself ($FACERPC_BIN) on a temporary Unix socket
 * and a free TCP port, with --enable-debug-service. Without the binary every
 * test is skipped and the reason printed. The last line is
 * "N passed, N failed, N skipped"; the exit status is 1 if any test failed.
 */
#define _GNU_SOURCE
#include "facerpc_client.h"
#include "debug.pb-c.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int passed, failed, skipped;
static int current_failed, current_skipped;
static double slow = 1;  /* timing bounds are loosened under valgrind */

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);        \
            current_failed = 1;                                                      \
        }                                                                            \
    } while (0)

#define CHECK_STATUS(got, want)                                                                        \
    do {                                                                                               \
        facerpc_status got_ = (got);                                                                   \
        if (got_ != (want)) {                                                                          \
            fprintf(stderr, "  FAIL %s:%d: %s is %s (%d), want %s\n", __FILE__, __LINE__, #got,        \
                    facerpc_strerror(got_), (int)got_, facerpc_strerror(want));                        \
            current_failed = 1;                                                                        \
        }                                                                                              \
    } while (0)

#define SKIP(...)                                           \
    do {                                                    \
        fprintf(stderr, "  SKIP: ");                        \
        fprintf(stderr, __VA_ARGS__);                       \
        fputc('\n', stderr);                                \
        current_skipped = 1;                                \
        return;                                             \
    } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the server ------------------------------------------------------- */

typedef struct server {
    pid_t pid;
    char unix_target[300], tcp_target[300], dir[64];
} server;

static server main_server = {.pid = -1};
/* The main server's addresses and folder, used by most tests. */
static char *unix_target = main_server.unix_target, *tcp_target = main_server.tcp_target, *tmp_dir = main_server.dir;
static char server_missing[600];

/* Starts a server with `extra` arguments (NULL-terminated, at most 4). */
static int start_server(server *s, const char *const *extra) {
    const char *bin = getenv("FACERPC_BIN");
    if (bin == NULL || *bin == '\0') bin = "../../.build/debug/facerpc";
    if (access(bin, X_OK) != 0) {
        snprintf(server_missing, sizeof server_missing,
                 "facerpc server binary not found at %s (build it with `swift build --product facerpc` or set FACERPC_BIN)", bin);
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "/tmp/facerpc-c-test-XXXXXX");
    if (mkdtemp(s->dir) == NULL) return -1;
    char sock[200];
    snprintf(sock, sizeof sock, "%s/s.sock", s->dir);
    const char *models = getenv("FACERPC_MODELS_DIR");
    const char *argv[24] = {bin, "serve", "--unix", sock, "--tcp", "127.0.0.1:0", "--enable-debug-service", "--models",
                            models && *models ? models : "/nonexistent", "--log-level", "warning", "--drain-grace", "1"};
    int argc = 13;
    for (int i = 0; extra != NULL && extra[i] != NULL && argc < 22; i++) argv[argc++] = extra[i];
    argv[argc] = NULL;
    int out[2];
    if (pipe(out) != 0) return -1;
    s->pid = fork();
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  /* never outlive a crashed test */
        dup2(out[1], 1);
        close(out[0]);
        close(out[1]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(out[1]);
    char buf[4096];
    size_t len = 0;
    double deadline = now_s() + 60;
    int got_unix = 0, got_tcp = 0;
    while (!(got_unix && got_tcp) && now_s() < deadline && len < sizeof buf - 1) {
        struct pollfd p = {.fd = out[0], .events = POLLIN};
        if (poll(&p, 1, 500) <= 0) continue;
        ssize_t n = read(out[0], buf + len, sizeof buf - 1 - len);
        if (n <= 0) break;
        len += (size_t)n;
        buf[len] = '\0';
        for (char *line = buf, *end; (end = strchr(line, '\n')) != NULL; line = end + 1) {
            int n_line = (int)(end - line);
            if (strncmp(line, "listening on unix:", 18) == 0) {
                snprintf(s->unix_target, sizeof s->unix_target, "unix:%.*s", n_line - 18, line + 18);
                got_unix = 1;
            } else if (strncmp(line, "listening on tcp:", 17) == 0) {
                snprintf(s->tcp_target, sizeof s->tcp_target, "tcp:%.*s", n_line - 17, line + 17);
                got_tcp = 1;
            }
        }
    }
    /* Later output is not read: the server only prints its listeners there, so
     * the pipe cannot fill. */
    close(out[0]);
    if (!(got_unix && got_tcp)) {
        snprintf(server_missing, sizeof server_missing, "server %s did not report its listeners", bin);
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = -1;
        return -1;
    }
    return 0;
}

/* SIGTERM, wait; the exit status (the server exits 0 after draining). */
static int stop_server(server *s) {
    if (s->pid < 0) return -1;
    int status = 0;
    kill(s->pid, SIGTERM);
    waitpid(s->pid, &status, 0);
    s->pid = -1;
    rmdir(s->dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- helpers ---------------------------------------------------------- */

/* A TCP listener that never accepts: connects succeed (backlog), nothing is answered. */
static int silent_listener(char *target, size_t cap) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 4) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    snprintf(target, cap, "127.0.0.1:%u", ntohs(a.sin_port));
    return fd;
}

static facerpc_status sleep_call(facerpc_client *c, uint32_t millis, const char *echo, int timeout_ms, char *echoed, size_t cap) {
    Facerpc__V1__SleepRequest req = FACERPC__V1__SLEEP_REQUEST__INIT;
    req.millis = millis;
    req.echo.data = (uint8_t *)echo;
    req.echo.len = strlen(echo);
    size_t len = facerpc__v1__sleep_request__get_packed_size(&req);
    uint8_t *buf = malloc(len + 1);
    if (buf == NULL) return FACERPC_ERR_NOMEM;
    facerpc__v1__sleep_request__pack(&req, buf);
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    facerpc_status st = facerpc_call_unary(c, "/facerpc.v1.Debug/Sleep", buf, len, timeout_ms, &answer, &answer_len);
    free(buf);
    if (st == FACERPC_OK && echoed != NULL) {
        Facerpc__V1__SleepResponse *r = facerpc__v1__sleep_response__unpack(NULL, answer_len, answer);
        echoed[0] = '\0';
        if (r != NULL) {
            snprintf(echoed, cap, "%.*s", (int)r->echo.len, (const char *)r->echo.data);
            facerpc__v1__sleep_response__free_unpacked(r, NULL);
        }
    }
    free(answer);
    return st;
}

/* Runs facerpc-c with arguments; returns its exit status, -1 if it did not run. */
static int run_tool(const char *const *args) {
    const char *tool = getenv("FACERPC_C_TOOL");
    if (tool == NULL) tool = "build/facerpc-c";
    const char *argv[16] = {tool};
    int n = 1;
    for (; args[n - 1] != NULL && n < 15; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execv(tool, (char *const *)argv);
        _exit(127);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

/* ---- tests ------------------------------------------------------------ */

static void test_strerror_covers_every_code(void) {
    for (int code = 0; code <= 16; code++) {
        const char *s = facerpc_strerror((facerpc_status)code);
        CHECK(s != NULL && strcmp(s, "unknown status") != 0);
    }
    CHECK(strcmp(facerpc_strerror(FACERPC_UNIMPLEMENTED), "UNIMPLEMENTED") == 0);
    CHECK(strcmp(facerpc_strerror(FACERPC_ERR_CONNECT), "connect failed") == 0);
    CHECK(strcmp(facerpc_age_bucket_name(5), "25-32") == 0 && facerpc_age_bucket_name(0) == NULL);
    CHECK(strcmp(facerpc_gender_name(FACERPC_GENDER_MALE), "male") == 0);
}

static void health_on(const char *target) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(target, 2000, &c), FACERPC_OK);
    if (c == NULL) return;
    facerpc_health h = FACERPC_HEALTH_UNKNOWN;
    CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);
    CHECK(h == FACERPC_HEALTH_SERVING);
    CHECK_STATUS(facerpc_health_check(c, "no-such-model", 2000, &h), FACERPC_OK);
    CHECK(h == FACERPC_HEALTH_SERVICE_UNKNOWN);
    CHECK(strcmp(facerpc_last_error(c), "") == 0);
    facerpc_close(c);
}

static void test_health_unix(void) { health_on(unix_target); }
static void test_health_tcp(void) { health_on(tcp_target); }

static void test_host_port_without_prefix(void) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(tcp_target + 4, 2000, &c), FACERPC_OK);
    facerpc_health h = FACERPC_HEALTH_UNKNOWN;
    if (c != NULL) CHECK_STATUS(facerpc_health_check(c, NULL, 2000, &h), FACERPC_OK);
    CHECK(h == FACERPC_HEALTH_SERVING);
    facerpc_close(c);
}

static void test_dead_socket(void) {
    facerpc_client *c = (facerpc_client *)1;
    char path[300];
    snprintf(path, sizeof path, "%s/nothing.sock", tmp_dir);
    CHECK_STATUS(facerpc_connect(path, 1000, &c), FACERPC_ERR_CONNECT);
    CHECK(c == NULL);
    /* A port that was just free: nothing listens there. */
    char target[64];
    int fd = silent_listener(target, sizeof target);
    CHECK(fd >= 0);
    close(fd);
    CHECK_STATUS(facerpc_connect(target, 1000, &c), FACERPC_ERR_CONNECT);
    CHECK(c == NULL);
    CHECK_STATUS(facerpc_connect("tcp:127.0.0.1:notaport", 1000, &c), FACERPC_ERR_ARGUMENT);
}

static void test_sleep_echo(void) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(unix_target, 2000, &c), FACERPC_OK);
    if (c == NULL) return;
    char echoed[64];
    CHECK_STATUS(sleep_call(c, 5, "hello", 5000, echoed, sizeof echoed), FACERPC_OK);
    CHECK(strcmp(echoed, "hello") == 0);
    facerpc_close(c);
}

static void test_deadline_exceeded(void) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(unix_target, 2000, &c), FACERPC_OK);
    if (c == NULL) return;
    double start = now_s();
    CHECK_STATUS(sleep_call(c, 3000, "late", 300, NULL, 0), FACERPC_DEADLINE_EXCEEDED);
    double elapsed = now_s() - start;
    CHECK(elapsed >= 0.25 && elapsed < 1.5 * slow);
    /* The connection is still good. */
    char echoed[64];
    CHECK_STATUS(sleep_call(c, 1, "after", 5000, echoed, sizeof echoed), FACERPC_OK);
    CHECK(strcmp(echoed, "after") == 0);
    facerpc_close(c);
}

static void test_local_timeout(void) {
    char target[64];
    int fd = silent_listener(target, sizeof target);
    CHECK(fd >= 0);
    if (fd < 0) return;
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(target, 2000, &c), FACERPC_OK);
    if (c != NULL) {
        facerpc_health h;
        double start = now_s();
        CHECK_STATUS(facerpc_health_check(c, "", 300, &h), FACERPC_ERR_TIMEOUT);
        double elapsed = now_s() - start;
        CHECK(elapsed >= 0.3 && elapsed < 2.0 * slow);
        CHECK(strstr(facerpc_last_error(c), "client-side") != NULL);
        facerpc_close(c);
    }
    close(fd);
}

static void test_unknown_method(void) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(tcp_target, 2000, &c), FACERPC_OK);
    if (c == NULL) return;
    uint8_t *answer = (uint8_t *)1;
    size_t len = 99;
    CHECK_STATUS(facerpc_call_unary(c, "/facerpc.v1.Nope/Nothing", NULL, 0, 2000, &answer, &len), FACERPC_UNIMPLEMENTED);
    CHECK(answer == NULL && len == 0);
    CHECK(strlen(facerpc_last_error(c)) > 0);
    /* Bad payload: the server's INVALID_ARGUMENT comes through. */
    const uint8_t junk[] = {0xff, 0xff, 0xff};
    CHECK_STATUS(facerpc_call_unary(c, "/facerpc.v1.Debug/Sleep", junk, sizeof junk, 2000, NULL, NULL), FACERPC_INVALID_ARGUMENT);
    facerpc_close(c);
}

static void test_request_over_frame_limit(void) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(unix_target, 2000, &c), FACERPC_OK);
    if (c == NULL) return;
    facerpc_set_max_frame_bytes(c, 1024);
    static uint8_t big[2048];
    CHECK_STATUS(facerpc_call_unary(c, "/facerpc.v1.Debug/Sleep", big, sizeof big, 2000, NULL, NULL), FACERPC_RESOURCE_EXHAUSTED);
    facerpc_health h;
    CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);
    facerpc_close(c);
}

static void *oversized_server(void *arg) {
    int lst = *(int *)arg;
    int fd = accept(lst, NULL, NULL);
    if (fd < 0) return NULL;
    char buf[512];
    (void)!recv(fd, buf, sizeof buf, 0);
    const uint8_t header[4] = {0x04, 0x00, 0x00, 0x00}; /* 64 MiB announced, nothing sent */
    (void)!send(fd, header, 4, MSG_NOSIGNAL);
    (void)!recv(fd, buf, sizeof buf, 0); /* until the client hangs up */
    close(fd);
    return NULL;
}

static void test_oversized_incoming_frame(void) {
    char target[64];
    int lst = silent_listener(target, sizeof target);
    CHECK(lst >= 0);
    if (lst < 0) return;
    pthread_t t;
    pthread_create(&t, NULL, oversized_server, &lst);
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(target, 2000, &c), FACERPC_OK);
    if (c != NULL) {
        facerpc_set_max_frame_bytes(c, 1 << 20);
        facerpc_health h;
        CHECK_STATUS(facerpc_health_check(c, "", 5000, &h), FACERPC_ERR_PROTOCOL);
        CHECK(strstr(facerpc_last_error(c), "limit") != NULL);
        facerpc_close(c);
    }
    pthread_join(t, NULL);
    close(lst);
}

static int read_file(const char *path, uint8_t **data, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return -1;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > (1 << 22)) {
        fclose(f);
        return -1;
    }
    *data = malloc((size_t)st.st_size + 1);
    *len = *data ? fread(*data, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    return *data ? 0 : -1;
}

static void test_predict(void) {
    const char *image = "../../../shared/data/detection/demo_smahesh29/man1.jpg";
    uint8_t *jpeg;
    size_t len;
    if (read_file(image, &jpeg, &len) != 0) SKIP("test image %s not found", image);
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(unix_target, 2000, &c), FACERPC_OK);
    if (c == NULL) {
        free(jpeg);
        return;
    }
    facerpc_predict_result *r = (facerpc_predict_result *)1;
    facerpc_predict_options opts = {.include_distributions = 1};
    facerpc_status st = facerpc_predict(c, jpeg, len, &opts, 60000, &r);
    free(jpeg);
    if (st == FACERPC_UNIMPLEMENTED) {
        CHECK(r == NULL);
        char msg[512];
        snprintf(msg, sizeof msg, "%s", facerpc_last_error(c));
        facerpc_close(c);
        SKIP("server does not implement Predictor/Predict yet (UNIMPLEMENTED: %s)", msg);
    }
    if (st != FACERPC_OK && getenv("FACERPC_MODELS_DIR") == NULL) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s: %s", facerpc_strerror(st), facerpc_last_error(c));
        facerpc_close(c);
        SKIP("predict failed with no models installed (set FACERPC_MODELS_DIR): %s", msg);
    }
    CHECK_STATUS(st, FACERPC_OK);
    if (st == FACERPC_OK) {
        CHECK(r->is_human && r->n_faces >= 1);
        CHECK(r->image_width > 0 && r->image_height > 0);
        for (size_t i = 0; i < r->n_faces; i++) {
            const facerpc_face *f = &r->faces[i];
            CHECK(f->box.width > 0 && f->box.height > 0);
            CHECK(f->score > 0 && f->score <= 1);
            CHECK(f->has_age && f->age_years >= 0 && f->age_years <= 120);
            CHECK(f->age_confidence >= 0 && f->age_confidence <= 1 && f->n_age_distribution > 0);
            CHECK(f->has_gender && facerpc_gender_name(f->gender) != NULL);
            CHECK(f->n_gender_distribution == 2);
        }
        FILE *mem = tmpfile();
        CHECK(facerpc_predict_result_write_json(r, "man1.jpg", mem) == 0);
        fclose(mem);
        facerpc_predict_result_free(r);
    }
    facerpc_close(c);
}

static void test_predict_json_shape(void) {
    /* The writer on a result built by hand: exact text, escapes and nulls. */
    facerpc_point marks[1] = {{1.5f, 2}};
    facerpc_face face = {.box = {10, 20, 30.5f, 40}, .score = 0.75f, .n_landmarks = 1, .landmarks = marks,
                         .has_age = 1, .age_years = 31.25f, .age_bucket = 5, .age_confidence = 0.5f,
                         .has_gender = 0};
    facerpc_predict_result r = {.n_faces = 1, .faces = &face, .is_human = 1, .timings = {.total_ms = 12.5f}};
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    CHECK(facerpc_predict_result_write_json(&r, "a\"b.jpg", mem) == 0);
    fclose(mem);
    const char *want =
        "{\"image\": \"a\\\"b.jpg\", \"is_human\": true, \"faces\": [{\"box\": {\"x\": 10, \"y\": 20, \"width\": 30.5, "
        "\"height\": 40}, \"score\": 0.75, \"landmarks\": [[1.5, 2]], \"age\": {\"years\": 31.25, \"bucket\": \"25-32\", "
        "\"confidence\": 0.5}, \"gender\": null}], \"timings_ms\": {\"decode\": 0, \"detect\": 0, \"align\": 0, "
        "\"queue\": 0, \"age\": 0, \"gender\": 0, \"total\": 12.5}}";
    CHECK(text != NULL && strcmp(text, want) == 0);
    if (text != NULL && strcmp(text, want) != 0) fprintf(stderr, "  got  %s\n  want %s\n", text, want);
    free(text);
}

static void test_train_status(void) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(unix_target, 2000, &c), FACERPC_OK);
    if (c == NULL) return;
    facerpc_train_status *s = (facerpc_train_status *)1;
    facerpc_status st = facerpc_train_status_get(c, "no-such-job", 5000, &s);
    CHECK(s == NULL);
    if (st == FACERPC_UNIMPLEMENTED) {
        facerpc_close(c);
        SKIP("server does not implement Training/GetStatus yet");
    }
    CHECK_STATUS(st, FACERPC_NOT_FOUND);
    facerpc_close(c);
}

static void test_cli_exit_codes(void) {
    const char *unix_path = unix_target + 5;
    CHECK(run_tool((const char *[]){"--unix", unix_path, "health", NULL}) == 0);
    CHECK(run_tool((const char *[]){"health", "--tcp", tcp_target + 4, NULL}) == 0);
    CHECK(run_tool((const char *[]){"--unix", unix_path, "health", "--service", "no-such-model", NULL}) == 1);
    char dead[300];
    snprintf(dead, sizeof dead, "%s/nothing.sock", tmp_dir);
    CHECK(run_tool((const char *[]){"--unix", dead, "health", NULL}) == 2);
    char target[64];
    int fd = silent_listener(target, sizeof target);
    CHECK(run_tool((const char *[]){"--tcp", target, "--timeout", "0.3", "health", NULL}) == 2);
    close(fd);
    CHECK(run_tool((const char *[]){"--unix", dead, "predict", "/nonexistent.jpg", NULL}) == 2);
    CHECK(run_tool((const char *[]){"--unix", unix_path, "predict", "/nonexistent.jpg", NULL}) == 1);
    CHECK(run_tool((const char *[]){"bogus", NULL}) == 2);
}

static void test_server_frame_limit(void) {
    server s;
    if (start_server(&s, (const char *[]){"--max-frame-bytes", "1024", NULL}) != 0) {
        CHECK(!"server started");
        return;
    }
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(s.unix_target, 2000, &c), FACERPC_OK);
    if (c != NULL) {
        static char big[4097];
        memset(big, 'x', sizeof big - 1);
        /* The server answers on call 0 and closes; the call gets that status. */
        CHECK_STATUS(sleep_call(c, 1, big, 5000, NULL, 0), FACERPC_RESOURCE_EXHAUSTED);
        facerpc_health h;
        CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);  /* reconnected */
        CHECK(h == FACERPC_HEALTH_SERVING);
        facerpc_close(c);
    }
    CHECK(stop_server(&s) == 0);
}

static void test_auth_token(void) {
    char token_path[] = "/tmp/facerpc-c-token-XXXXXX";
    int fd = mkstemp(token_path);
    const char *token = "c-client-test-token-0123456789";
    CHECK(fd >= 0 && write(fd, token, strlen(token)) == (ssize_t)strlen(token));
    close(fd);
    server s;
    if (start_server(&s, (const char *[]){"--auth-token-file", token_path, NULL}) != 0) {
        CHECK(!"server started");
        unlink(token_path);
        return;
    }
    facerpc_client *c = NULL;
    facerpc_health h;
    CHECK_STATUS(facerpc_connect(s.tcp_target, 2000, &c), FACERPC_OK);
    if (c != NULL) {
        CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_UNAUTHENTICATED);
        CHECK_STATUS(facerpc_set_token(c, "wrong-token-wrong-token"), FACERPC_OK);
        CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_UNAUTHENTICATED);
        CHECK_STATUS(facerpc_set_token(c, "has space"), FACERPC_ERR_ARGUMENT);
        CHECK_STATUS(facerpc_set_token(c, token), FACERPC_OK);
        CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);
        CHECK(h == FACERPC_HEALTH_SERVING);
        facerpc_close(c);
    }
    /* The Unix socket is guarded by its file mode and does not ask. */
    CHECK_STATUS(facerpc_connect(s.unix_target, 2000, &c), FACERPC_OK);
    if (c != NULL) {
        CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);
        facerpc_close(c);
    }
    CHECK(stop_server(&s) == 0);
    unlink(token_path);
}

static void test_reconnect_after_idle_close(void) {
    server s;
    if (start_server(&s, (const char *[]){"--idle-timeout", "0.5", NULL}) != 0) {
        CHECK(!"server started");
        return;
    }
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(s.tcp_target, 2000, &c), FACERPC_OK);
    if (c != NULL) {
        facerpc_health h;
        CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);
        usleep(1500 * 1000);  /* the server sends UNAVAILABLE on call 0 and closes */
        /* The first call after that finds the connection gone: UNAVAILABLE
         * (the server's reason) or lost; the one after reconnects. */
        facerpc_status st = facerpc_health_check(c, "", 2000, &h);
        CHECK(st == FACERPC_OK || st == FACERPC_UNAVAILABLE || st == FACERPC_ERR_CLOSED);
        CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);
        CHECK(h == FACERPC_HEALTH_SERVING);
        facerpc_close(c);
    }
    CHECK(stop_server(&s) == 0);
}

/* Last: stops the server under a live connection. */
static void test_server_drain(void) {
    facerpc_client *c = NULL;
    CHECK_STATUS(facerpc_connect(unix_target, 2000, &c), FACERPC_OK);
    if (c == NULL) return;
    facerpc_health h;
    CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_OK);
    CHECK(stop_server(&main_server) == 0);
    facerpc_status st = facerpc_health_check(c, "", 2000, &h);
    /* The connection is gone and the socket removed: lost or refused, never OK. */
    CHECK(st == FACERPC_ERR_CLOSED || st == FACERPC_ERR_CONNECT || st == FACERPC_UNAVAILABLE);
    CHECK_STATUS(facerpc_health_check(c, "", 2000, &h), FACERPC_ERR_CONNECT);
    facerpc_close(c);
}

typedef struct {
    const char *name;
    void (*fn)(void);
    int needs_server;
} test_case;

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    if (getenv("FACERPC_TEST_SLOW") != NULL) slow = 4;
    static const test_case tests[] = {
        {"strerror_covers_every_code", test_strerror_covers_every_code, 0},
        {"predict_json_shape", test_predict_json_shape, 0},
        {"local_timeout", test_local_timeout, 0},
        {"oversized_incoming_frame", test_oversized_incoming_frame, 0},
        {"health_unix", test_health_unix, 1},
        {"health_tcp", test_health_tcp, 1},
        {"host_port_without_prefix", test_host_port_without_prefix, 1},
        {"dead_socket", test_dead_socket, 1},
        {"sleep_echo", test_sleep_echo, 1},
        {"deadline_exceeded", test_deadline_exceeded, 1},
        {"unknown_method", test_unknown_method, 1},
        {"request_over_frame_limit", test_request_over_frame_limit, 1},
        {"predict", test_predict, 1},
        {"train_status", test_train_status, 1},
        {"cli_exit_codes", test_cli_exit_codes, 1},
        {"server_frame_limit", test_server_frame_limit, 1},
        {"auth_token", test_auth_token, 1},
        {"reconnect_after_idle_close", test_reconnect_after_idle_close, 1},
        {"server_drain", test_server_drain, 1},
    };
    int have_server = start_server(&main_server, NULL) == 0;
    if (!have_server) fprintf(stderr, "note: %s; server tests are skipped\n", server_missing);
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        current_failed = current_skipped = 0;
        fprintf(stderr, "test %s\n", tests[i].name);
        if (tests[i].needs_server && !have_server) {
            fprintf(stderr, "  SKIP: %s\n", server_missing);
            current_skipped = 1;
        } else {
            tests[i].fn();
        }
        if (current_failed) failed++;
        else if (current_skipped) skipped++;
        else passed++;
    }
    if (main_server.pid > 0) stop_server(&main_server);
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
