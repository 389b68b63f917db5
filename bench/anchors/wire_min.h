/*
 * Just enough of facerpc's wire format (docs/PROTOCOL.md) for the RPC
 * benchmark: 4-byte big-endian length frames around hand-encoded
 * RequestEnvelope / ResponseEnvelope protobufs. Shared by the C anchor server
 * and the load generator so that neither spends time in a protobuf library:
 * the anchor is meant to be the practical limit of the framing itself.
 */
#ifndef FACERPC_BENCH_WIRE_MIN_H
#define FACERPC_BENCH_WIRE_MIN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WIRE_HEALTH_METHOD "/facerpc.v1.Health/Check"
/* Frames larger than this are a protocol error here (health frames are ~40 bytes). */
#define WIRE_MAX_FRAME 4096

static inline size_t wire_put_varint(uint8_t *out, uint64_t value) {
    size_t n = 0;
    while (value >= 0x80) { out[n++] = (uint8_t)(value | 0x80); value >>= 7; }
    out[n++] = (uint8_t)value;
    return n;
}

/* Reads a varint at *pos (< end); returns 0 on truncation. */
static inline int wire_get_varint(const uint8_t *buf, size_t end, size_t *pos, uint64_t *value) {
    uint64_t result = 0;
    for (int shift = 0; shift < 64 && *pos < end; shift += 7) {
        uint8_t byte = buf[(*pos)++];
        result |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) { *value = result; return 1; }
    }
    return 0;
}

static inline void wire_put_be32(uint8_t *out, uint32_t v) {
    out[0] = (uint8_t)(v >> 24); out[1] = (uint8_t)(v >> 16); out[2] = (uint8_t)(v >> 8); out[3] = (uint8_t)v;
}

static inline uint32_t wire_get_be32(const uint8_t *in) {
    return ((uint32_t)in[0] << 24) | ((uint32_t)in[1] << 16) | ((uint32_t)in[2] << 8) | in[3];
}

/* Skips one field of wire type `type` at *pos; returns 0 if malformed. */
static inline int wire_skip(const uint8_t *buf, size_t end, size_t *pos, unsigned type) {
    uint64_t v;
    switch (type) {
    case 0: return wire_get_varint(buf, end, pos, &v);
    case 1: if (end - *pos < 8) return 0; *pos += 8; return 1;
    case 2: if (!wire_get_varint(buf, end, pos, &v) || v > end - *pos) return 0; *pos += v; return 1;
    case 5: if (end - *pos < 4) return 0; *pos += 4; return 1;
    default: return 0;
    }
}

/* One framed RequestEnvelope {call_id, method}, with an empty payload
 * (an empty HealthCheckRequest: service ""). Returns the frame length. */
static inline size_t wire_health_request(uint8_t *out, uint64_t call_id) {
    uint8_t *body = out + 4;
    size_t n = 0;
    body[n++] = 0x08;                               /* call_id = 1, varint */
    n += wire_put_varint(body + n, call_id);
    body[n++] = 0x12;                               /* method = 2, bytes */
    body[n++] = (uint8_t)(sizeof(WIRE_HEALTH_METHOD) - 1);
    memcpy(body + n, WIRE_HEALTH_METHOD, sizeof(WIRE_HEALTH_METHOD) - 1);
    n += sizeof(WIRE_HEALTH_METHOD) - 1;
    wire_put_be32(out, (uint32_t)n);
    return n + 4;
}

/* One framed ResponseEnvelope {call_id, status{code 0}, payload
 * HealthCheckResponse{SERVING}, end_of_stream}. Returns the frame length. */
static inline size_t wire_health_response(uint8_t *out, uint64_t call_id) {
    uint8_t *body = out + 4;
    size_t n = 0;
    body[n++] = 0x08;                               /* call_id */
    n += wire_put_varint(body + n, call_id);
    body[n++] = 0x12; body[n++] = 0x00;             /* status {} (code OK) */
    body[n++] = 0x1a; body[n++] = 0x02;             /* payload */
    body[n++] = 0x08; body[n++] = 0x01;             /*   status = SERVING */
    body[n++] = 0x20; body[n++] = 0x01;             /* end_of_stream = true */
    wire_put_be32(out, (uint32_t)n);
    return n + 4;
}
#endif
