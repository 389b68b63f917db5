#include "internal.h"

#include <stdlib.h>
#include <string.h>

const char *facerpc_strerror(facerpc_status status) {
    switch (status) {
    case FACERPC_OK: return "OK";
    case FACERPC_CANCELLED: return "CANCELLED";
    case FACERPC_UNKNOWN: return "UNKNOWN";
    case FACERPC_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case FACERPC_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case FACERPC_NOT_FOUND: return "NOT_FOUND";
    case FACERPC_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case FACERPC_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case FACERPC_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case FACERPC_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case FACERPC_ABORTED: return "ABORTED";
    case FACERPC_OUT_OF_RANGE: return "OUT_OF_RANGE";
    case FACERPC_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case FACERPC_INTERNAL: return "INTERNAL";
    case FACERPC_UNAVAILABLE: return "UNAVAILABLE";
    case FACERPC_DATA_LOSS: return "DATA_LOSS";
    case FACERPC_UNAUTHENTICATED: return "UNAUTHENTICATED";
    case FACERPC_ERR_CONNECT: return "connect failed";
    case FACERPC_ERR_TIMEOUT: return "timed out (client-side deadline)";
    case FACERPC_ERR_PROTOCOL: return "protocol error";
    case FACERPC_ERR_CLOSED: return "connection lost";
    case FACERPC_ERR_ARGUMENT: return "invalid argument";
    case FACERPC_ERR_NOMEM: return "out of memory";
    }
    return "unknown status";
}

const char *facerpc_health_name(facerpc_health health) {
    switch (health) {
    case FACERPC_HEALTH_SERVING: return "SERVING";
    case FACERPC_HEALTH_NOT_SERVING: return "NOT_SERVING";
    case FACERPC_HEALTH_SERVICE_UNKNOWN: return "SERVICE_UNKNOWN";
    case FACERPC_HEALTH_UNKNOWN: break;
    }
    return "UNKNOWN";
}

const char *facerpc_gender_name(facerpc_gender gender) {
    switch (gender) {
    case FACERPC_GENDER_FEMALE: return "female";
    case FACERPC_GENDER_MALE: return "male";
    case FACERPC_GENDER_UNSPECIFIED: break;
    }
    return NULL;
}

const char *facerpc_age_bucket_name(int bucket) {
    static const char *const names[] = {"0-2", "4-6", "8-12", "15-20", "25-32", "38-43", "48-53", "60-100"};
    if (bucket < 1 || bucket > 8) return NULL;
    return names[bucket - 1];
}

char *facerpc__strdup(const char *s) {
    if (s == NULL) s = "";
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy != NULL) memcpy(copy, s, n);
    return copy;
}

/* Each block carries its size in front so the budget can be given back. */
typedef union { size_t size; max_align_t align; } budget_header;

static void *budget_alloc(void *data, size_t size) {
    facerpc_budget *b = data;
    size_t left = b->used < b->limit ? b->limit - b->used : 0;
    if (left < sizeof(budget_header) || size > left - sizeof(budget_header)) return NULL;
    budget_header *h = malloc(sizeof(budget_header) + size);
    if (h == NULL) return NULL;
    h->size = size;
    b->used += size + sizeof(budget_header);
    return h + 1;
}

static void budget_free(void *data, void *ptr) {
    facerpc_budget *b = data;
    if (ptr == NULL) return;
    budget_header *h = (budget_header *)ptr - 1;
    b->used -= h->size + sizeof(budget_header);
    free(h);
}

void facerpc__budget_init(facerpc_budget *budget, size_t limit) {
    budget->allocator.alloc = budget_alloc;
    budget->allocator.free = budget_free;
    budget->allocator.allocator_data = budget;
    budget->used = 0;
    budget->limit = limit;
}
