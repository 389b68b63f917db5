/*
 * The practical limit for facerpc's Health/Check: a single-threaded epoll
 * server speaking the same length-prefixed framing, decoding only the call id
 * and method of each request envelope, answering a pre-shaped
 * ResponseEnvelope, and writing all answers to one read with one write()
 * (as facerpc flushes once per read). No allocation per call.
 *
 *   epoll_health_server --unix PATH --tcp PORT      (both optional, at least one)
 *
 * Prints "ready" once listening; runs until SIGTERM/SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "wire_min.h"

#define MAX_EVENTS 64
#define IN_CAP (64 * 1024)
#define OUT_CAP (256 * 1024)

struct conn {
    int fd;
    int listener;          /* 1 for a listening socket */
    size_t in_len;
    size_t out_len, out_off;
    uint8_t in[IN_CAP];
    uint8_t out[OUT_CAP];
};

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) { (void)sig; stop_requested = 1; }

static void die(const char *what) { perror(what); exit(1); }

static int listen_unix(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(addr.sun_path)) { fprintf(stderr, "path too long\n"); exit(1); }
    strcpy(addr.sun_path, path);
    unlink(path);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind unix");
    if (listen(fd, 512) < 0) die("listen");
    return fd;
}

static int listen_tcp(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0) die("socket");
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind tcp");
    if (listen(fd, 512) < 0) die("listen");
    return fd;
}

static void add(int ep, struct conn *c, uint32_t events) {
    struct epoll_event ev = { .events = events, .data.ptr = c };
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
}

static void drop(struct conn *c) {
    close(c->fd);
    free(c);
}

/* Writes what is pending; returns -1 on a dead peer, else 0. */
static int flush_out(int ep, struct conn *c) {
    while (c->out_off < c->out_len) {
        ssize_t n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
        if (n < 0) {
            if (errno == EAGAIN) {
                struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c }; /* stop reading until the answers are out */
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                return 0;
            }
            return -1;
        }
        c->out_off += (size_t)n;
    }
    c->out_off = c->out_len = 0;
    return 0;
}

/* Answers every complete frame in c->in; returns -1 on a protocol error. */
static int serve_frames(struct conn *c) {
    size_t pos = 0;
    while (c->in_len - pos >= 4) {
        uint32_t len = wire_get_be32(c->in + pos);
        if (len > WIRE_MAX_FRAME) return -1;
        if (c->in_len - pos - 4 < len) break;
        const uint8_t *body = c->in + pos + 4;
        size_t p = 0;
        uint64_t call_id = 0;
        int is_health = 0;
        while (p < len) {
            uint64_t key;
            if (!wire_get_varint(body, len, &p, &key)) return -1;
            unsigned field = (unsigned)(key >> 3), type = (unsigned)(key & 7);
            if (field == 1 && type == 0) {
                if (!wire_get_varint(body, len, &p, &call_id)) return -1;
            } else if (field == 2 && type == 2) {
                uint64_t n;
                if (!wire_get_varint(body, len, &p, &n) || n > len - p) return -1;
                is_health = n == sizeof(WIRE_HEALTH_METHOD) - 1 && memcmp(body + p, WIRE_HEALTH_METHOD, n) == 0;
                p += n;
            } else if (!wire_skip(body, len, &p, type)) {
                return -1;
            }
        }
        if (!is_health || call_id == 0) return -1;
        if (OUT_CAP - c->out_len < 64) break; /* answer the rest after this write */
        c->out_len += wire_health_response(c->out + c->out_len, call_id);
        pos += 4 + len;
    }
    memmove(c->in, c->in + pos, c->in_len - pos);
    c->in_len -= pos;
    return 0;
}

int main(int argc, char **argv) {
    const char *unix_path = NULL;
    int tcp_port = -1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--unix")) unix_path = argv[i + 1];
        else if (!strcmp(argv[i], "--tcp")) tcp_port = atoi(argv[i + 1]);
        else { fprintf(stderr, "usage: %s [--unix PATH] [--tcp PORT]\n", argv[0]); return 2; }
    }
    if (!unix_path && tcp_port < 0) { fprintf(stderr, "give --unix and/or --tcp\n"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = { .sa_handler = on_signal };
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    if (unix_path) {
        struct conn *l = calloc(1, sizeof *l);
        l->fd = listen_unix(unix_path); l->listener = 1;
        add(ep, l, EPOLLIN);
    }
    if (tcp_port >= 0) {
        struct conn *l = calloc(1, sizeof *l);
        l->fd = listen_tcp(tcp_port); l->listener = 1;
        add(ep, l, EPOLLIN);
    }
    printf("ready\n");
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    while (!stop_requested) {
        int n = epoll_wait(ep, events, MAX_EVENTS, 200);
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c->listener) {
                int fd;
                while ((fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    int one = 1;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on Unix sockets */
                    struct conn *nc = malloc(sizeof *nc);
                    if (!nc) { close(fd); continue; }
                    nc->fd = fd; nc->listener = 0; nc->in_len = nc->out_len = nc->out_off = 0;
                    add(ep, nc, EPOLLIN);
                }
                continue;
            }
            if (events[i].events & EPOLLOUT) {
                if (flush_out(ep, c) < 0) { drop(c); continue; }
                if (c->out_len == 0) {
                    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                if (c->out_len) continue; /* back-pressure: read again once the answers are out */
                ssize_t got = read(c->fd, c->in + c->in_len, IN_CAP - c->in_len);
                if (got <= 0) {
                    if (got < 0 && errno == EAGAIN) continue;
                    drop(c);
                    continue;
                }
                c->in_len += (size_t)got;
                if (serve_frames(c) < 0 || flush_out(ep, c) < 0) { drop(c); continue; }
            }
        }
    }
    if (unix_path) unlink(unix_path);
    return 0;
}
