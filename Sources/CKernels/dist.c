/*
 * dist.c -- the processes of a data-parallel run: Open MPI's libmpi loaded at run time
 * (dlopen), so that the library starts, as one process, on machines without MPI; a
 * process that mpirun did not start never loads it. A watchdog thread ends a rank that
 * waits too long in a collective (a peer that hangs), so a run never hangs for good.
 *
 * MPI's handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are, in Open MPI's ABI, the
 * addresses of exported objects (ompi_mpi_comm_world, ...), so no header is needed to
 * build this file; the names follow /usr/include/<arch>/mpi/mpi.h of libopenmpi-dev.
 */
#define _GNU_SOURCE /* clock_gettime, nanosleep, RTLD_* */
#include "backend_impl.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef void *mpi_handle; /* MPI_Comm, MPI_Datatype, MPI_Op, MPI_Errhandler */
#define MPI_IN_PLACE_ ((void *)1)
#define MPI_TEXT 1024 /* >= MPI_MAX_LIBRARY_VERSION_STRING, _ERROR_STRING, _PROCESSOR_NAME */

/* The entry points and predefined objects used, resolved with dlsym. */
#define MPI_FUNCTIONS(X)                                                                   \
    X(MPI_Init, int, (int *, char ***))                                                     \
    X(MPI_Finalize, int, (void))                                                            \
    X(MPI_Comm_rank, int, (mpi_handle, int *))                                              \
    X(MPI_Comm_size, int, (mpi_handle, int *))                                              \
    X(MPI_Comm_set_errhandler, int, (mpi_handle, mpi_handle))                               \
    X(MPI_Allreduce, int, (const void *, void *, int, mpi_handle, mpi_handle, mpi_handle))  \
    X(MPI_Bcast, int, (void *, int, mpi_handle, int, mpi_handle))                           \
    X(MPI_Barrier, int, (mpi_handle))                                                       \
    X(MPI_Abort, int, (mpi_handle, int))                                                    \
    X(MPI_Error_string, int, (int, char *, int *))                                          \
    X(MPI_Get_library_version, int, (char *, int *))                                        \
    X(MPI_Get_processor_name, int, (char *, int *))
#define MPI_OBJECTS(X)                                                                     \
    X(ompi_mpi_comm_world) X(ompi_mpi_float) X(ompi_mpi_double) X(ompi_mpi_byte)           \
    X(ompi_mpi_op_sum) X(ompi_mpi_errors_return)

typedef struct mpi_api {
#define MPI_POINTER(name, ret, args) ret(*name) args;
    MPI_FUNCTIONS(MPI_POINTER)
#undef MPI_POINTER
#define MPI_OBJECT(name) mpi_handle name;
    MPI_OBJECTS(MPI_OBJECT)
#undef MPI_OBJECT
} mpi_api;

static mpi_api api;
static const mpi_api *loaded;
static char load_error[600];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void) {
    /* RTLD_GLOBAL: Open MPI's own plugins (mca_*.so) resolve symbols of libmpi */
    void *lib = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(load_error, sizeof load_error,
                 "Open MPI's library does not load (%s; on Debian: apt install openmpi-bin)",
                 dlerror());
        return;
    }
#define MPI_RESOLVE(name, ret, args)                                                       \
    *(void **)&api.name = dlsym(lib, #name);                                               \
    if (!api.name) {                                                                       \
        snprintf(load_error, sizeof load_error, "libmpi.so.40 lacks %s", #name);            \
        return;                                                                            \
    }
    MPI_FUNCTIONS(MPI_RESOLVE)
#undef MPI_RESOLVE
#define MPI_RESOLVE_OBJECT(name)                                                           \
    api.name = dlsym(lib, #name);                                                          \
    if (!api.name) {                                                                       \
        snprintf(load_error, sizeof load_error,                                           \
                 "libmpi.so.40 lacks %s (not Open MPI's library?)", #name);               \
        return;                                                                            \
    }
    MPI_OBJECTS(MPI_RESOLVE_OBJECT)
#undef MPI_RESOLVE_OBJECT
    loaded = &api; /* stays loaded for the life of the process */
}

static const mpi_api *mpi_load(void) {
    pthread_once(&once, load);
    return loaded;
}

/* ---------------------------------------------------------------- the handle */

struct ck_dist {
    const mpi_api *mpi; /* NULL: one process, no MPI */
    int rank, size;
    char description[MPI_TEXT + 64];
    float *staging;      /* host copy of device buffers (grown on demand) */
    size_t staging_count;
    double timeout;      /* seconds a watched collective may wait; 0 = forever */
    pthread_t watchdog;
    int watching;        /* the watchdog thread runs */
    atomic_int stop;     /* asks the watchdog to end */
    _Atomic double since; /* when the current watched collective began (0: none) */
    const char *_Atomic what; /* its name */
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *watch(void *arg) {
    ck_dist *d = arg;
    while (!atomic_load(&d->stop)) {
        nanosleep(&(struct timespec){.tv_nsec = 200000000}, NULL);
        double since = atomic_load(&d->since);
        if (since > 0 && now() - since > d->timeout) {
            fprintf(stderr,
                    "rank %d of %d: waited %.0f s for the other ranks in %s: one of them died "
                    "or hangs; stopping (VAE_MPI_TIMEOUT sets the limit)\n",
                    d->rank, d->size, d->timeout, atomic_load(&d->what));
            fflush(stderr);
            _exit(1); /* mpirun sees a rank fail and ends the others */
        }
    }
    return NULL;
}

/* Marks a watched collective's start (what != NULL) or end (NULL). */
static void watched(ck_dist *d, const char *what) {
    if (!d->watching) return;
    if (what) atomic_store(&d->what, what);
    atomic_store(&d->since, what ? now() : 0.0);
}

static ck_status mpi_fail(const ck_dist *d, int code, const char *what) {
    char text[MPI_TEXT] = "";
    int n = 0;
    if (d->mpi->MPI_Error_string(code, text, &n) != 0) snprintf(text, sizeof text, "error %d", code);
    return ck_fail(CK_ERR_BACKEND, "MPI: %s failed on rank %d of %d: %s", what, d->rank, d->size,
                   text);
}

/* Which launcher started this process: 1 Open MPI (or PMIx), 0 none, -1 another MPI's. */
static int launched(void) {
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK")) return 1;
    if (getenv("PMI_RANK") || getenv("PMI_SIZE")) return -1;
    return 0;
}

ck_status ck_dist_open(double timeout, ck_dist **out) {
    if (!out) return ck_fail(CK_ERR_ARGUMENT, "ck_dist_open: out is NULL");
    *out = NULL;
    if (!(timeout >= 0)) return ck_fail(CK_ERR_ARGUMENT, "ck_dist_open: timeout %g < 0", timeout);
    int how = launched();
    if (how < 0)
        return ck_fail(CK_ERR_UNAVAILABLE,
                       "started by an MPI launcher other than Open MPI's (PMI_RANK is set); "
                       "run under Open MPI's mpirun");
    ck_dist *d = calloc(1, sizeof *d);
    if (!d) return ck_fail(CK_ERR_MEMORY, "ck_dist_open: out of memory");
    d->size = 1;
    d->timeout = timeout;
    if (how == 0) {
        snprintf(d->description, sizeof d->description, "one process (not started by mpirun)");
        *out = d;
        return CK_OK;
    }
    const mpi_api *mpi = mpi_load();
    if (!mpi) {
        free(d);
        return ck_fail(CK_ERR_UNAVAILABLE, "started by mpirun, but %s", load_error);
    }
    d->mpi = mpi;
    int rc = mpi->MPI_Init(NULL, NULL);
    if (rc != 0) {
        free(d);
        return ck_fail(CK_ERR_BACKEND, "MPI: MPI_Init failed (error %d)", rc);
    }
    mpi->MPI_Comm_set_errhandler(mpi->ompi_mpi_comm_world, mpi->ompi_mpi_errors_return);
    mpi->MPI_Comm_rank(mpi->ompi_mpi_comm_world, &d->rank);
    mpi->MPI_Comm_size(mpi->ompi_mpi_comm_world, &d->size);
    char version[MPI_TEXT] = "", host[MPI_TEXT] = "";
    int n = 0;
    mpi->MPI_Get_library_version(version, &n);
    mpi->MPI_Get_processor_name(host, &n);
    version[strcspn(version, ",\n")] = 0;
    snprintf(d->description, sizeof d->description, "rank %d of %d on %s (%s)", d->rank, d->size,
             host, version);
    if (timeout > 0 && d->size > 1) {
        d->watching = pthread_create(&d->watchdog, NULL, watch, d) == 0;
    }
    *out = d;
    return CK_OK;
}

void ck_dist_close(ck_dist *dist) {
    if (!dist) return;
    if (dist->watching) {
        atomic_store(&dist->stop, 1);
        pthread_join(dist->watchdog, NULL);
    }
    if (dist->mpi) dist->mpi->MPI_Finalize();
    free(dist->staging);
    free(dist);
}

int ck_dist_rank(const ck_dist *dist) { return dist ? dist->rank : 0; }

int ck_dist_size(const ck_dist *dist) { return dist ? dist->size : 1; }

const char *ck_dist_description(const ck_dist *dist) { return dist ? dist->description : ""; }

ck_status ck_dist_probe(char *text, size_t capacity) {
    if (!text || capacity == 0) return ck_fail(CK_ERR_ARGUMENT, "ck_dist_probe: no text buffer");
    text[0] = 0;
    const mpi_api *mpi = mpi_load();
    if (!mpi) {
        snprintf(text, capacity, "%s", load_error);
        return ck_fail(CK_ERR_UNAVAILABLE, "%s", load_error);
    }
    char version[MPI_TEXT] = "";
    int n = 0;
    mpi->MPI_Get_library_version(version, &n);
    version[strcspn(version, ",\n")] = 0;
    snprintf(text, capacity, "%s", version);
    return CK_OK;
}

/* ---------------------------------------------------------------- collectives */

/* The largest count one MPI call takes (an int); longer ranges go in chunks. */
static const size_t chunk_max = (size_t)1 << 30;

/* Host floats for count floats of a buffer: the buffer itself on the CPU, else staging. */
static float *host_floats(ck_dist *d, ck_buffer *b, size_t offset, size_t count) {
    if (b->host) return b->host + offset;
    if (d->staging_count < count) {
        float *p = realloc(d->staging, count * sizeof(float));
        if (!p) return NULL;
        d->staging = p;
        d->staging_count = count;
    }
    return d->staging;
}

static ck_status buffer_range(const char *fn, const ck_buffer *b, size_t offset, size_t count) {
    if (!b) return ck_fail(CK_ERR_ARGUMENT, "%s: buffer is NULL", fn);
    if (offset > b->count || count > b->count - offset)
        return ck_fail(CK_ERR_SHAPE, "%s: range [%zu, %zu) outside a buffer of %zu floats", fn,
                       offset, offset + count, b->count);
    return CK_OK;
}

static ck_status allreduce(ck_dist *dist, ck_buffer *buffer, size_t offset, size_t count) {
    float *x = host_floats(dist, buffer, offset, count);
    if (!x) return ck_fail(CK_ERR_MEMORY, "ck_dist_allreduce_sum: no host memory for %zu floats", count);
    if (!buffer->host) {
        ck_status s = buffer->backend->ops->buffer_read(buffer, offset, count, x);
        if (s) return s;
    }
    const mpi_api *m = dist->mpi;
    watched(dist, "a sum of floats (MPI_Allreduce)");
    for (size_t at = 0; at < count; at += chunk_max) {
        int n = (int)(count - at < chunk_max ? count - at : chunk_max);
        int rc = m->MPI_Allreduce(MPI_IN_PLACE_, x + at, n, m->ompi_mpi_float, m->ompi_mpi_op_sum,
                                  m->ompi_mpi_comm_world);
        if (rc != 0) {
            watched(dist, NULL);
            return mpi_fail(dist, rc, "MPI_Allreduce");
        }
    }
    watched(dist, NULL);
    return buffer->host ? CK_OK : buffer->backend->ops->buffer_write(buffer, offset, count, x);
}

ck_status ck_dist_allreduce_sum(ck_dist *dist, ck_buffer *buffer, size_t offset, size_t count) {
    ck_status s = buffer_range(__func__, buffer, offset, count);
    if (s) return s;
    if (!dist || !dist->mpi || dist->size == 1 || count == 0) return CK_OK;
    PROFILED(allreduce(dist, buffer, offset, count), "%s %zu floats, %d ranks", __func__, count,
             dist->size);
}

ck_status ck_dist_allreduce_sum_host(ck_dist *dist, double *values, size_t count) {
    if (!values && count) return ck_fail(CK_ERR_ARGUMENT, "ck_dist_allreduce_sum_host: values is NULL");
    if (count > (size_t)INT_MAX)
        return ck_fail(CK_ERR_ARGUMENT, "ck_dist_allreduce_sum_host: %zu values is too many", count);
    if (!dist || !dist->mpi || dist->size == 1 || count == 0) return CK_OK;
    const mpi_api *m = dist->mpi;
    watched(dist, "a sum of doubles (MPI_Allreduce)");
    int rc = m->MPI_Allreduce(MPI_IN_PLACE_, values, (int)count, m->ompi_mpi_double,
                              m->ompi_mpi_op_sum, m->ompi_mpi_comm_world);
    watched(dist, NULL);
    return rc == 0 ? CK_OK : mpi_fail(dist, rc, "MPI_Allreduce");
}

static ck_status bcast(ck_dist *d, void *bytes, size_t count, int root) {
    const mpi_api *m = d->mpi;
    for (size_t at = 0; at < count; at += chunk_max) {
        int n = (int)(count - at < chunk_max ? count - at : chunk_max);
        int rc = m->MPI_Bcast((char *)bytes + at, n, m->ompi_mpi_byte, root, m->ompi_mpi_comm_world);
        if (rc != 0) return mpi_fail(d, rc, "MPI_Bcast");
    }
    return CK_OK;
}

static ck_status root_check(const char *fn, const ck_dist *d, int root) {
    int size = ck_dist_size(d);
    if (root < 0 || root >= size)
        return ck_fail(CK_ERR_ARGUMENT, "%s: root %d outside 0..%d", fn, root, size - 1);
    return CK_OK;
}

ck_status ck_dist_broadcast(ck_dist *dist, ck_buffer *buffer, size_t offset, size_t count, int root) {
    ck_status s = buffer_range(__func__, buffer, offset, count);
    if (!s) s = root_check(__func__, dist, root);
    if (s) return s;
    if (!dist || !dist->mpi || dist->size == 1 || count == 0) return CK_OK;
    float *x = host_floats(dist, buffer, offset, count);
    if (!x) return ck_fail(CK_ERR_MEMORY, "ck_dist_broadcast: no host memory for %zu floats", count);
    if (!buffer->host && dist->rank == root) {
        s = buffer->backend->ops->buffer_read(buffer, offset, count, x);
        if (s) return s;
    }
    watched(dist, "a broadcast of floats (MPI_Bcast)");
    s = bcast(dist, x, count * sizeof(float), root);
    watched(dist, NULL);
    if (s || buffer->host || dist->rank == root) return s;
    return buffer->backend->ops->buffer_write(buffer, offset, count, x);
}

ck_status ck_dist_broadcast_host(ck_dist *dist, void *bytes, size_t count, int root) {
    if (!bytes && count) return ck_fail(CK_ERR_ARGUMENT, "ck_dist_broadcast_host: bytes is NULL");
    ck_status s = root_check(__func__, dist, root);
    if (s || !dist || !dist->mpi || dist->size == 1 || count == 0) return s;
    watched(dist, "a broadcast (MPI_Bcast)");
    s = bcast(dist, bytes, count, root);
    watched(dist, NULL);
    return s;
}

/* FNV-1a over 64-bit words (and the tail bytes). */
static uint64_t hash_bytes(const void *bytes, size_t count) {
    const unsigned char *p = bytes;
    uint64_t h = 0xCBF29CE484222325ull;
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001B3ull;
    }
    for (; i < count; i++) h = (h ^ p[i]) * 0x100000001B3ull;
    return h ^ (uint64_t)count;
}

ck_status ck_dist_agree(ck_dist *dist, const void *bytes, size_t count, int *agree) {
    if (!agree) return ck_fail(CK_ERR_ARGUMENT, "ck_dist_agree: agree is NULL");
    *agree = 1;
    if (!bytes && count) return ck_fail(CK_ERR_ARGUMENT, "ck_dist_agree: bytes is NULL");
    if (!dist || !dist->mpi || dist->size == 1) return CK_OK;
    uint64_t mine = hash_bytes(bytes, count), root = mine;
    watched(dist, "a comparison of weights (MPI_Bcast)");
    ck_status s = bcast(dist, &root, sizeof root, 0);
    watched(dist, NULL);
    if (s) return s;
    double differ = root != mine;
    s = ck_dist_allreduce_sum_host(dist, &differ, 1);
    if (s) return s;
    *agree = differ == 0;
    return CK_OK;
}

ck_status ck_dist_barrier(ck_dist *dist) {
    if (!dist || !dist->mpi || dist->size == 1) return CK_OK;
    int rc = dist->mpi->MPI_Barrier(dist->mpi->ompi_mpi_comm_world);
    return rc == 0 ? CK_OK : mpi_fail(dist, rc, "MPI_Barrier");
}
