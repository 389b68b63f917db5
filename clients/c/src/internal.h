/* Internal interfaces of libfacerpc-client; not installed. */
#ifndef FACERPC_INTERNAL_H
#define FACERPC_INTERNAL_H

#include "facerpc_client.h"
#include <protobuf-c/protobuf-c.h>

/* Default deadline of a call, and of a connect, in milliseconds. */
#define FACERPC_DEFAULT_TIMEOUT_MS 30000
#define FACERPC_DEFAULT_CONNECT_MS 5000
/* The client waits this long past a deadline before giving up locally, so
 * that the server's own DEADLINE_EXCEEDED normally arrives first. */
#define FACERPC_LOCAL_GRACE_MS 250
/* Longest method path the server accepts. */
#define FACERPC_MAX_METHOD_BYTES 256

/* Sets the client's last error message (printf-style) and returns `status`. */
facerpc_status facerpc__fail(facerpc_client *client, facerpc_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A protobuf-c allocator that refuses to hand out more than `limit` bytes in
 * all, so a hostile frame cannot make protobuf-c allocate without bound. */
typedef struct facerpc_budget {
    ProtobufCAllocator allocator;
    size_t used;
    size_t limit;
} facerpc_budget;

void facerpc__budget_init(facerpc_budget *budget, size_t limit);

/* Duplicates a string (NULL -> ""), NULL on out-of-memory. */
char *facerpc__strdup(const char *s);

#endif
