/* The connection: connect, frames, and the unary call that everything else uses. */
#define _GNU_SOURCE
#include "internal.h"
#include "rpc.pb-c.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct facerpc_client {
    bool unix_socket;
    char *path;              /* unix */
    char *host, *port;       /* tcp */
    int fd;                  /* -1 while disconnected; reopened by the next call */
    uint64_t next_id;
    uint32_t max_frame;
    /* A frame being read; kept across calls, since a call that timed out may
     * leave half a frame in the socket that the next call must finish. */
    uint8_t header[4];
    size_t header_got;
    uint8_t *body;
    size_t body_len, body_got;
    /* A call-0 status announcing that the server is closing the connection. */
    int goaway_code;
    char goaway_message[256];
    char last_error[512];
    char *authorization;     /* "Bearer <token>", or NULL */
};

facerpc_status facerpc__fail(facerpc_client *client, facerpc_status status, const char *fmt, ...) {
    if (client != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(client->last_error, sizeof client->last_error, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *facerpc_last_error(const facerpc_client *client) { return client != NULL ? client->last_error : ""; }

void facerpc_set_max_frame_bytes(facerpc_client *client, uint32_t max_bytes) {
    if (client != NULL && max_bytes > 0) client->max_frame = max_bytes;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining_ms(int64_t deadline) {
    int64_t left = deadline - now_ms();
    if (left < 0) return 0;
    return left > INT32_MAX ? INT32_MAX : (int)left;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, remaining_ms(deadline));
        if (n > 0) return 1;
        if (n == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

static void reset_read(facerpc_client *c) {
    free(c->body);
    c->body = NULL;
    c->header_got = c->body_len = c->body_got = 0;
}

static void disconnect(facerpc_client *c) {
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    reset_read(c);
    c->goaway_code = 0;
    c->goaway_message[0] = '\0';
}

/* ---- connecting ------------------------------------------------------- */

static char *dup_range(const char *s, size_t n) {
    char *r = malloc(n + 1);
    if (r != NULL) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static facerpc_status parse_target(facerpc_client *c, const char *target) {
    char fallback[108];
    if (target == NULL) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        if (xdg != NULL && *xdg != '\0')
            snprintf(fallback, sizeof fallback, "%s/facerpc/facerpc.sock", xdg);
        else
            snprintf(fallback, sizeof fallback, "/tmp/facerpc-%u/facerpc.sock", (unsigned)getuid());
        target = fallback;
    }
    bool tcp = false;
    if (strncmp(target, "unix:", 5) == 0) {
        target += 5;
    } else if (strncmp(target, "tcp:", 4) == 0) {
        target += 4;
        tcp = true;
    } else {
        tcp = strchr(target, '/') == NULL && strchr(target, ':') != NULL;
    }
    if (!tcp) {
        if (*target == '\0' || strlen(target) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return facerpc__fail(c, FACERPC_ERR_ARGUMENT, "bad unix socket path '%s'", target);
        c->unix_socket = true;
        c->path = facerpc__strdup(target);
        return c->path != NULL ? FACERPC_OK : FACERPC_ERR_NOMEM;
    }
    const char *colon = strrchr(target, ':');
    if (colon == NULL || colon == target || colon[1] == '\0')
        return facerpc__fail(c, FACERPC_ERR_ARGUMENT, "not a HOST:PORT address: '%s'", target);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535)
        return facerpc__fail(c, FACERPC_ERR_ARGUMENT, "bad port in '%s'", target);
    const char *host = target;
    size_t host_len = (size_t)(colon - target);
    if (host_len >= 2 && host[0] == '[' && host[host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    c->host = dup_range(host, host_len);
    c->port = dup_range(colon + 1, strlen(colon + 1));
    if (c->host == NULL || c->port == NULL) return FACERPC_ERR_NOMEM;
    return FACERPC_OK;
}

/* Non-blocking connect with a deadline. */
static int connect_addr(const struct sockaddr *addr, socklen_t len, int family, int64_t deadline, int *err) {
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    if (connect(fd, addr, len) == 0) return fd;
    if (errno == EINPROGRESS || errno == EAGAIN) {
        int ready = wait_fd(fd, POLLOUT, deadline);
        if (ready == 1) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) return fd;
            *err = soerr != 0 ? soerr : errno;
        } else {
            *err = ready == 0 ? ETIMEDOUT : errno;
        }
    } else {
        *err = errno;
    }
    close(fd);
    return -1;
}

static facerpc_status open_connection(facerpc_client *c, int64_t deadline) {
    int err = 0;
    if (c->unix_socket) {
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        memcpy(addr.sun_path, c->path, strlen(c->path) + 1);
        c->fd = connect_addr((struct sockaddr *)&addr, sizeof addr, AF_UNIX, deadline, &err);
        if (c->fd < 0) return facerpc__fail(c, FACERPC_ERR_CONNECT, "cannot connect to unix:%s: %s", c->path, strerror(err));
        return FACERPC_OK;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *list = NULL;
    int rc = getaddrinfo(c->host, c->port, &hints, &list);
    if (rc != 0)
        return facerpc__fail(c, FACERPC_ERR_CONNECT, "cannot resolve %s: %s", c->host, gai_strerror(rc));
    for (struct addrinfo *a = list; a != NULL && c->fd < 0; a = a->ai_next)
        c->fd = connect_addr(a->ai_addr, a->ai_addrlen, a->ai_family, deadline, &err);
    freeaddrinfo(list);
    if (c->fd < 0)
        return facerpc__fail(c, FACERPC_ERR_CONNECT, "cannot connect to tcp:%s:%s: %s", c->host, c->port, strerror(err));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return FACERPC_OK;
}

facerpc_status facerpc_connect(const char *target, int timeout_ms, facerpc_client **out) {
    if (out == NULL) return FACERPC_ERR_ARGUMENT;
    *out = NULL;
    facerpc_client *c = calloc(1, sizeof *c);
    if (c == NULL) return FACERPC_ERR_NOMEM;
    c->fd = -1;
    c->next_id = 1;
    c->max_frame = FACERPC_DEFAULT_MAX_FRAME_BYTES;
    facerpc_status st = parse_target(c, target);
    if (st == FACERPC_OK)
        st = open_connection(c, now_ms() + (timeout_ms > 0 ? timeout_ms : FACERPC_DEFAULT_CONNECT_MS));
    if (st != FACERPC_OK) {
        facerpc_close(c);
        return st;
    }
    *out = c;
    return FACERPC_OK;
}

void facerpc_close(facerpc_client *c) {
    if (c == NULL) return;
    disconnect(c);
    free(c->path);
    free(c->host);
    free(c->port);
    free(c->authorization);
    free(c);
}

facerpc_status facerpc_set_token(facerpc_client *c, const char *token) {
    if (c == NULL) return FACERPC_ERR_ARGUMENT;
    size_t len = token == NULL ? 0 : strlen(token);
    if (len > 4096) return facerpc__fail(c, FACERPC_ERR_ARGUMENT, "token longer than 4096 bytes");
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)token[i] < 0x21 || (unsigned char)token[i] > 0x7e)
            return facerpc__fail(c, FACERPC_ERR_ARGUMENT, "token holds a space or control character");
    }
    char *value = NULL;
    if (len > 0) {
        value = malloc(len + sizeof "Bearer ");
        if (value == NULL) return facerpc__fail(c, FACERPC_ERR_NOMEM, "out of memory");
        memcpy(value, "Bearer ", 7);
        memcpy(value + 7, token, len + 1);
    }
    free(c->authorization);
    c->authorization = value;
    return FACERPC_OK;
}

/* ---- frames ----------------------------------------------------------- */

/* Sends all of buf, or fails; a partly sent frame would corrupt the stream,
 * so any failure (timeout included) closes the connection. */
static facerpc_status send_all(facerpc_client *c, const uint8_t *buf, size_t len, int64_t deadline) {
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(c->fd, buf + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int ready = wait_fd(c->fd, POLLOUT, deadline);
            if (ready == 1) continue;
            disconnect(c);
            if (ready == 0) return facerpc__fail(c, FACERPC_ERR_TIMEOUT, "deadline passed while sending");
            return facerpc__fail(c, FACERPC_ERR_CLOSED, "poll: %s", strerror(errno));
        }
        /* The server may have closed the connection for a reason it sent on
         * call 0 (e.g. this frame was over its limit): keep the read side so
         * the caller can read that reason; the next call reconnects. */
        int e = errno;
        shutdown(c->fd, SHUT_WR);
        return facerpc__fail(c, FACERPC_ERR_CLOSED, "connection lost while sending: %s", strerror(e));
    }
    return FACERPC_OK;
}

static facerpc_status closed_by_server(facerpc_client *c) {
    if (c->goaway_code != 0) {
        int code = c->goaway_code;
        facerpc__fail(c, (facerpc_status)code, "%s", c->goaway_message);
        disconnect(c);
        return (facerpc_status)code;
    }
    disconnect(c);
    return facerpc__fail(c, FACERPC_ERR_CLOSED, "connection closed by the server");
}

/* Reads into dst up to want bytes; OK when all arrived. */
static facerpc_status read_some(facerpc_client *c, uint8_t *dst, size_t want, size_t *got, int64_t deadline) {
    while (*got < want) {
        ssize_t n = recv(c->fd, dst + *got, want - *got, 0);
        if (n > 0) {
            *got += (size_t)n;
            continue;
        }
        if (n == 0) return closed_by_server(c);
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int ready = wait_fd(c->fd, POLLIN, deadline);
            if (ready == 1) continue;
            if (ready == 0) return facerpc__fail(c, FACERPC_ERR_TIMEOUT, "no answer before the deadline");
        }
        if (errno == ECONNRESET || errno == EPIPE) return closed_by_server(c);
        int e = errno;
        disconnect(c);
        return facerpc__fail(c, FACERPC_ERR_CLOSED, "connection lost: %s", strerror(e));
    }
    return FACERPC_OK;
}

/* Reads one ResponseEnvelope (caller frees it with the same budget). */
static facerpc_status read_envelope(facerpc_client *c, int64_t deadline, facerpc_budget *budget,
                                    Facerpc__V1__ResponseEnvelope **out) {
    facerpc_status st;
    if (c->header_got < 4) {
        if ((st = read_some(c, c->header, 4, &c->header_got, deadline)) != FACERPC_OK) return st;
        uint32_t len = (uint32_t)c->header[0] << 24 | (uint32_t)c->header[1] << 16 | (uint32_t)c->header[2] << 8 | c->header[3];
        if (len > c->max_frame) {
            disconnect(c);
            return facerpc__fail(c, FACERPC_ERR_PROTOCOL, "server sent a frame of %u bytes, over the limit of %u bytes", len, c->max_frame);
        }
        c->body_len = len;
        c->body_got = 0;
        if (len > 0 && (c->body = malloc(len)) == NULL) {
            disconnect(c);
            return facerpc__fail(c, FACERPC_ERR_NOMEM, "no memory for a frame of %u bytes", len);
        }
    }
    if ((st = read_some(c, c->body, c->body_len, &c->body_got, deadline)) != FACERPC_OK) return st;
    facerpc__budget_init(budget, FACERPC_MAX_DECODE_BYTES);
    *out = facerpc__v1__response_envelope__unpack(&budget->allocator, c->body_len, c->body);
    reset_read(c);
    if (*out == NULL) {
        disconnect(c);
        return facerpc__fail(c, FACERPC_ERR_PROTOCOL, "undecodable response envelope");
    }
    return FACERPC_OK;
}

static facerpc_status send_envelope(facerpc_client *c, const Facerpc__V1__RequestEnvelope *env, int64_t deadline) {
    size_t len = facerpc__v1__request_envelope__get_packed_size(env);
    if (len > c->max_frame)
        return facerpc__fail(c, FACERPC_RESOURCE_EXHAUSTED, "request of %zu bytes exceeds the frame limit of %u bytes", len, c->max_frame);
    uint8_t *frame = malloc(4 + len);
    if (frame == NULL) return facerpc__fail(c, FACERPC_ERR_NOMEM, "no memory for a request of %zu bytes", len);
    frame[0] = (uint8_t)(len >> 24);
    frame[1] = (uint8_t)(len >> 16);
    frame[2] = (uint8_t)(len >> 8);
    frame[3] = (uint8_t)len;
    facerpc__v1__request_envelope__pack(env, frame + 4);
    facerpc_status st = send_all(c, frame, 4 + len, deadline);
    free(frame);
    return st;
}

static void send_cancel(facerpc_client *c, uint64_t call_id) {
    if (c->fd < 0) return;
    Facerpc__V1__RequestEnvelope env = FACERPC__V1__REQUEST_ENVELOPE__INIT;
    env.call_id = call_id;
    env.cancel = 1;
    char saved[sizeof c->last_error];
    memcpy(saved, c->last_error, sizeof saved);
    send_envelope(c, &env, now_ms() + 100);  /* best effort: on failure the connection is dropped */
    memcpy(c->last_error, saved, sizeof saved);
}

/* ---- the unary call --------------------------------------------------- */

/* Sends a call and waits for its one response. On OK, *response and *response_len
 * hold a malloc'd copy of the response payload. */
facerpc_status facerpc_call_unary(facerpc_client *c, const char *method, const uint8_t *request, size_t request_len,
                                  int timeout_ms, uint8_t **response, size_t *response_len) {
    if (c == NULL) return FACERPC_ERR_ARGUMENT;
    if (response != NULL) *response = NULL;
    if (response_len != NULL) *response_len = 0;
    c->last_error[0] = '\0';
    if (method == NULL || *method == '\0' || strlen(method) > FACERPC_MAX_METHOD_BYTES || (request == NULL && request_len > 0))
        return facerpc__fail(c, FACERPC_ERR_ARGUMENT, "bad method or request");
    if (timeout_ms <= 0) timeout_ms = FACERPC_DEFAULT_TIMEOUT_MS;
    if (timeout_ms > FACERPC_MAX_TIMEOUT_MS) timeout_ms = FACERPC_MAX_TIMEOUT_MS;
    int64_t deadline = now_ms() + timeout_ms;
    int64_t local_deadline = deadline + FACERPC_LOCAL_GRACE_MS;

    facerpc_status st;
    if (c->fd < 0) {
        int64_t connect_deadline = now_ms() + FACERPC_DEFAULT_CONNECT_MS;
        if ((st = open_connection(c, connect_deadline < deadline ? connect_deadline : deadline)) != FACERPC_OK) return st;
    }

    Facerpc__V1__RequestEnvelope env = FACERPC__V1__REQUEST_ENVELOPE__INIT;
    env.call_id = c->next_id++;
    env.method = (char *)method;
    env.timeout_micros = (uint64_t)timeout_ms * 1000u;
    env.payload.data = (uint8_t *)request;
    env.payload.len = request_len;
    Facerpc__V1__MetadataEntry auth = FACERPC__V1__METADATA_ENTRY__INIT;
    Facerpc__V1__MetadataEntry *entries[1] = {&auth};
    if (c->authorization != NULL) {
        auth.key = (char *)"authorization";
        auth.value = c->authorization;
        env.n_metadata = 1;
        env.metadata = entries;
    }
    st = send_envelope(c, &env, local_deadline);
    /* After a failed send the read side may still hold the server's reason. */
    if (st != FACERPC_OK && !(st == FACERPC_ERR_CLOSED && c->fd >= 0)) return st;
    bool send_failed = st != FACERPC_OK;

    for (;;) {
        facerpc_budget budget;
        Facerpc__V1__ResponseEnvelope *r = NULL;
        st = read_envelope(c, local_deadline, &budget, &r);
        if (st == FACERPC_ERR_TIMEOUT && send_failed) {
            disconnect(c);
            return facerpc__fail(c, FACERPC_ERR_CLOSED, "connection lost while sending");
        }
        if (st == FACERPC_ERR_TIMEOUT) {
            send_cancel(c, env.call_id);
            return facerpc__fail(c, st, "no answer within %d ms (client-side deadline)", timeout_ms);
        }
        if (st != FACERPC_OK) return st;
        if (r->call_id == 0) {
            /* INVALID_ARGUMENT on call 0 leaves the connection usable; other
             * codes say the server is closing it: remember why. */
            if (r->status != NULL && r->status->code != 0 && r->status->code != FACERPC_INVALID_ARGUMENT) {
                c->goaway_code = r->status->code <= 16 ? (int)r->status->code : FACERPC_UNKNOWN;
                snprintf(c->goaway_message, sizeof c->goaway_message, "%s", r->status->message ? r->status->message : "");
            }
        } else if (r->call_id == env.call_id) {
            if (r->status != NULL && r->status->code != 0) {
                facerpc_status code = r->status->code <= 16 ? (facerpc_status)r->status->code : FACERPC_UNKNOWN;
                facerpc__fail(c, code, "%s", r->status->message ? r->status->message : "");
                facerpc__v1__response_envelope__free_unpacked(r, &budget.allocator);
                return code;
            }
            st = FACERPC_OK;
            if (r->payload.len > 0 && response != NULL) {
                *response = malloc(r->payload.len);
                if (*response == NULL) {
                    st = facerpc__fail(c, FACERPC_ERR_NOMEM, "no memory for the response");
                } else {
                    memcpy(*response, r->payload.data, r->payload.len);
                    if (response_len != NULL) *response_len = r->payload.len;
                }
            }
            facerpc__v1__response_envelope__free_unpacked(r, &budget.allocator);
            return st;
        }
        /* Any other id is a late answer to a call that already gave up. */
        facerpc__v1__response_envelope__free_unpacked(r, &budget.allocator);
    }
}
