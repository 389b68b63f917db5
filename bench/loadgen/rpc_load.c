/*
 * Closed-loop load generator for facerpc's framing (docs/PROTOCOL.md):
 * C connections, each keeping D Health/Check calls in flight, over a Unix
 * socket or TCP, for a fixed time after a warm-up. One thread, epoll, no
 * protobuf library (bench/anchors/wire_min.h), so that it costs the same
 * against facerpc and the C anchor. New calls replacing the answers of one
 * read go out in one write(), as a pipelining client would send them.
 *
 *   rpc_load (--unix PATH | --tcp HOST:PORT) [--conns 1] [--depth 1]
 *            [--seconds 5] [--warmup 1]
 *
 * Prints one JSON object: calls, seconds, calls_per_second, p50_us, p99_us,
 * errors (a non-OK status, a wrong payload or a closed connection).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../anchors/wire_min.h"

#define MAX_CONNS 256
#define MAX_DEPTH 128
#define SLOT_BITS 8            /* call_id = (sequence << SLOT_BITS) | slot */
#define IN_CAP (64 * 1024)

struct conn {
    int fd;
    size_t in_len;
    uint64_t sequence;
    uint64_t sent_at[1 << SLOT_BITS];
    uint8_t in[IN_CAP];
    uint8_t out[MAX_DEPTH * 64];
    size_t out_len;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int connect_to(const char *unix_path, const char *host, int port) {
    int fd;
    if (unix_path) {
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        strncpy(addr.sun_path, unix_path, sizeof addr.sun_path - 1);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); exit(1); }
    } else {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
        inet_pton(AF_INET, host, &addr.sin_addr);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { perror("connect"); exit(1); }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    return fd;
}

static void queue_call(struct conn *c, unsigned slot, uint64_t t) {
    c->sequence++;
    uint64_t call_id = (c->sequence << SLOT_BITS) | slot;
    c->sent_at[slot] = t;
    c->out_len += wire_health_request(c->out + c->out_len, call_id);
}

static int write_all(int fd, const uint8_t *buf, size_t len) {
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0) { if (n < 0 && errno == EINTR) continue; return -1; }
        buf += n; len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *unix_path = NULL, *tcp = NULL;
    int conns = 1, depth = 1;
    double seconds = 5, warmup = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--unix")) unix_path = argv[i + 1];
        else if (!strcmp(argv[i], "--tcp")) tcp = argv[i + 1];
        else if (!strcmp(argv[i], "--conns")) conns = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--depth")) depth = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--warmup")) warmup = atof(argv[i + 1]);
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if ((!unix_path) == (!tcp) || conns < 1 || conns > MAX_CONNS || depth < 1 || depth > MAX_DEPTH || seconds <= 0) {
        fprintf(stderr, "usage: %s (--unix PATH | --tcp HOST:PORT) [--conns 1..%d] [--depth 1..%d] [--seconds S] [--warmup S]\n",
                argv[0], MAX_CONNS, MAX_DEPTH);
        return 2;
    }
    char host[256] = "127.0.0.1";
    int port = 0;
    if (tcp) {
        const char *colon = strrchr(tcp, ':');
        if (!colon || (size_t)(colon - tcp) >= sizeof host) { fprintf(stderr, "bad --tcp\n"); return 2; }
        memcpy(host, tcp, (size_t)(colon - tcp)); host[colon - tcp] = 0;
        port = atoi(colon + 1);
    }

    int ep = epoll_create1(0);
    struct conn *all = calloc((size_t)conns, sizeof *all);
    uint64_t start = now_ns();
    for (int i = 0; i < conns; i++) {
        struct conn *c = &all[i];
        c->fd = connect_to(unix_path, host, port);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        for (int s = 0; s < depth; s++) queue_call(c, (unsigned)s, start);
        if (write_all(c->fd, c->out, c->out_len) < 0) { perror("write"); return 1; }
        c->out_len = 0;
    }

    uint64_t measure_from = start + (uint64_t)(warmup * 1e9);
    uint64_t measure_to = measure_from + (uint64_t)(seconds * 1e9);
    size_t cap = 1 << 20, count = 0;
    uint32_t *latencies = malloc(cap * sizeof *latencies);
    uint64_t errors = 0;
    struct epoll_event events[MAX_CONNS];
    int done = 0;
    while (!done) {
        int n = epoll_wait(ep, events, MAX_CONNS, 1000);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) { fprintf(stderr, "no answer for 1 s\n"); errors++; break; }
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            ssize_t got = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
            if (got <= 0) { fprintf(stderr, "connection closed by the server\n"); errors++; done = 1; break; }
            c->in_len += (size_t)got;
            uint64_t t = now_ns();
            int measuring = t >= measure_from && t < measure_to;
            size_t pos = 0;
            while (c->in_len - pos >= 4) {
                uint32_t len = wire_get_be32(c->in + pos);
                if (len > WIRE_MAX_FRAME) { fprintf(stderr, "oversized frame\n"); return 1; }
                if (c->in_len - pos - 4 < len) break;
                const uint8_t *body = c->in + pos + 4;
                size_t p = 0;
                uint64_t call_id = 0, code = 0, key, v;
                int serving = 0;
                while (p < len && wire_get_varint(body, len, &p, &key)) {
                    unsigned field = (unsigned)(key >> 3), type = (unsigned)(key & 7);
                    if (field == 1 && type == 0) { wire_get_varint(body, len, &p, &call_id); }
                    else if ((field == 2 || field == 3) && type == 2) {
                        if (!wire_get_varint(body, len, &p, &v) || v > len - p) break;
                        size_t q = p, end = p + (size_t)v;
                        while (q < end && wire_get_varint(body, end, &q, &key)) {
                            if ((key >> 3) == 1 && (key & 7) == 0) {
                                wire_get_varint(body, end, &q, &v);
                                if (field == 2) code = v; else serving = v == 1;
                            } else if (!wire_skip(body, end, &q, (unsigned)(key & 7))) break;
                        }
                        p = end;
                    } else if (!wire_skip(body, len, &p, type)) break;
                }
                pos += 4 + len;
                if (call_id == 0 || code != 0 || !serving) { errors++; fprintf(stderr, "bad answer: call %llu code %llu\n", (unsigned long long)call_id, (unsigned long long)code); continue; }
                unsigned slot = (unsigned)(call_id & ((1u << SLOT_BITS) - 1));
                if (measuring) {
                    if (count == cap) { cap *= 2; latencies = realloc(latencies, cap * sizeof *latencies); }
                    uint64_t ns = t - c->sent_at[slot];
                    latencies[count++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
                }
                if (t < measure_to) queue_call(c, slot, t);
            }
            memmove(c->in, c->in + pos, c->in_len - pos);
            c->in_len -= pos;
            if (c->out_len) {
                if (write_all(c->fd, c->out, c->out_len) < 0) { fprintf(stderr, "write failed\n"); errors++; done = 1; break; }
                c->out_len = 0;
            }
        }
        if (now_ns() >= measure_to) done = 1;
    }
    qsort(latencies, count, sizeof *latencies, cmp_u32);
    double p50 = count ? latencies[count / 2] / 1000.0 : 0;
    double p99 = count ? latencies[(size_t)(count * 0.99)] / 1000.0 : 0;
    printf("{\"calls\": %zu, \"seconds\": %.3f, \"calls_per_second\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"errors\": %llu}\n",
           count, seconds, count / seconds, p50, p99, (unsigned long long)errors);
    return errors ? 1 : 0;
}
