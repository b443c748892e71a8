/*
 * profile.c -- the opt-in operation profile (CK_PROFILE=1): wall-clock and process CPU time
 * per operation and shape, accumulated by the PROFILED macro of api.c and printed by
 * ck_profile_report. A small table searched linearly: profiling is for looking, not for
 * production runs.
 */
#include "backend_impl.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int ck_profile_on = 0;

#define PROFILE_KEYS 256

typedef struct {
    char key[128];
    double wall, cpu;
    long calls;
} profile_row;

static profile_row rows[PROFILE_KEYS];
static int row_count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void read_env(void) {
    const char *v = getenv("CK_PROFILE");
    ck_profile_on = v && *v && strcmp(v, "0") != 0;
}

void ck_profile_init(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_env);
}

int ck_profile_enabled(void) {
    ck_profile_init();
    return ck_profile_on;
}

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

ck_profile_mark ck_profile_begin(void) {
    return (ck_profile_mark){clock_s(CLOCK_MONOTONIC), clock_s(CLOCK_PROCESS_CPUTIME_ID)};
}

void ck_profile_end(ck_profile_mark mark, const char *key) {
    double wall = clock_s(CLOCK_MONOTONIC) - mark.wall;
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - mark.cpu;
    pthread_mutex_lock(&lock);
    int i = 0;
    while (i < row_count && strcmp(rows[i].key, key) != 0) i++;
    if (i == row_count && row_count < PROFILE_KEYS) {
        snprintf(rows[i].key, sizeof rows[i].key, "%s", key);
        row_count++;
    }
    if (i < row_count) {
        rows[i].wall += wall;
        rows[i].cpu += cpu;
        rows[i].calls++;
    }
    pthread_mutex_unlock(&lock);
}

static int by_wall(const void *a, const void *b) {
    double x = ((const profile_row *)a)->wall, y = ((const profile_row *)b)->wall;
    return x < y ? 1 : x > y ? -1 : 0;
}

void ck_profile_report(const char *title, int steps) {
    if (!ck_profile_enabled()) return;
    pthread_mutex_lock(&lock);
    double per = steps > 1 ? (double)steps : 1.0, wall = 0, cpu = 0;
    qsort(rows, (size_t)row_count, sizeof rows[0], by_wall);
    fprintf(stderr, "\n== CK_PROFILE %s (ms%s)\n%-58s %9s %9s %7s %9s\n", title ? title : "",
            steps > 1 ? " per step" : "", "operation", "wall", "cpu", "calls", "ms/call");
    for (int i = 0; i < row_count; i++) {
        const profile_row *r = &rows[i];
        wall += r->wall;
        cpu += r->cpu;
        fprintf(stderr, "%-58s %9.3f %9.3f %7.0f %9.4f\n", r->key, 1e3 * r->wall / per,
                1e3 * r->cpu / per, r->calls / per, 1e3 * r->wall / (double)r->calls);
    }
    fprintf(stderr, "%-58s %9.3f %9.3f\n", "total", 1e3 * wall / per, 1e3 * cpu / per);
    row_count = 0;
    memset(rows, 0, sizeof rows);
    pthread_mutex_unlock(&lock);
}

void ck_profile_reset(void) {
    pthread_mutex_lock(&lock);
    row_count = 0;
    memset(rows, 0, sizeof rows);
    pthread_mutex_unlock(&lock);
}
