/*
 * threadpool.c -- a persistent pool of pthreads. The caller is thread 0; workers
 * 1..threads-1 wait for a new generation number, run the task with their fixed index,
 * and count down. Workers spin briefly before sleeping so that back-to-back operations
 * of a training step do not pay a futex wake-up each.
 */
#include "cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN_ROUNDS 20000

struct cpu_pool {
    int threads;
    pthread_t *workers;
    pthread_mutex_t lock;     /* guards sleeping on wake/done */
    pthread_cond_t wake;      /* signalled when generation advances or on shutdown */
    pthread_cond_t done;      /* signalled when the last worker finishes */
    pthread_mutex_t run_lock; /* one cpu_pool_run at a time */
    atomic_uint generation;
    atomic_int pending;       /* workers still running the current task */
    atomic_int stop;
    cpu_task task;
    void *ctx;
};

typedef struct {
    cpu_pool *pool;
    int tid;
} worker_arg;

static void *worker_main(void *p) {
    worker_arg *arg = p;
    cpu_pool *pool = arg->pool;
    int tid = arg->tid;
    free(arg);
    unsigned seen = 0;
    for (;;) {
        unsigned gen;
        int spins = 0;
        while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
               !atomic_load(&pool->stop) && spins < SPIN_ROUNDS) {
            spins++;
            if ((spins & 255) == 0) sched_yield();
        }
        if (gen == seen && !atomic_load(&pool->stop)) {
            pthread_mutex_lock(&pool->lock);
            while ((gen = atomic_load(&pool->generation)) == seen && !atomic_load(&pool->stop))
                pthread_cond_wait(&pool->wake, &pool->lock);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->stop)) return NULL;
        seen = gen;
        pool->task(pool->ctx, tid, pool->threads);
        if (atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool->lock);
            pthread_cond_signal(&pool->done);
            pthread_mutex_unlock(&pool->lock);
        }
    }
}

cpu_pool *cpu_pool_new(int threads) {
    cpu_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->threads = threads < 1 ? 1 : threads;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pthread_cond_init(&pool->done, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->pending, 0);
    atomic_init(&pool->stop, 0);
    if (pool->threads > 1) {
        pool->workers = calloc((size_t)pool->threads - 1, sizeof *pool->workers);
        if (!pool->workers) {
            free(pool);
            return NULL;
        }
        for (int t = 1; t < pool->threads; t++) {
            worker_arg *arg = malloc(sizeof *arg);
            if (arg) {
                arg->pool = pool;
                arg->tid = t;
            }
            if (!arg || pthread_create(&pool->workers[t - 1], NULL, worker_main, arg) != 0) {
                free(arg);
                pool->threads = t; /* join only the workers that did start */
                cpu_pool_free(pool);
                return NULL;
            }
        }
    }
    return pool;
}

void cpu_pool_free(cpu_pool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int t = 1; t < pool->threads; t++) pthread_join(pool->workers[t - 1], NULL);
    free(pool->workers);
    pthread_mutex_destroy(&pool->lock);
    pthread_mutex_destroy(&pool->run_lock);
    pthread_cond_destroy(&pool->wake);
    pthread_cond_destroy(&pool->done);
    free(pool);
}

int cpu_pool_threads(const cpu_pool *pool) { return pool->threads; }

void cpu_pool_run(cpu_pool *pool, cpu_task task, void *ctx) {
    if (pool->threads == 1) {
        task(ctx, 0, 1);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pool->task = task;
    pool->ctx = ctx;
    atomic_store(&pool->pending, pool->threads - 1);
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    task(ctx, 0, pool->threads);
    int spins = 0;
    while (atomic_load_explicit(&pool->pending, memory_order_acquire) > 0 && spins < SPIN_ROUNDS) {
        spins++;
        if ((spins & 255) == 0) sched_yield();
    }
    if (atomic_load(&pool->pending) > 0) {
        pthread_mutex_lock(&pool->lock);
        while (atomic_load(&pool->pending) > 0) pthread_cond_wait(&pool->done, &pool->lock);
        pthread_mutex_unlock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->run_lock);
}

void cpu_parallel(cpu_state *st, size_t n, cpu_task task, void *ctx) {
    if (n < CPU_PARALLEL_MIN || st->threads == 1) {
        task(ctx, 0, 1);
        return;
    }
    cpu_pool_run(st->pool, task, ctx);
}

static void ew_task(void *ctx, int tid, int threads) {
    const cpu_ew *j = ctx;
    size_t b, e;
    cpu_split(j->count, tid, threads, &b, &e);
    if (e > b) j->range(j, b, e);
}

void cpu_ew_run(cpu_state *st, const cpu_ew *job) {
    cpu_parallel(st, job->count, ew_task, (void *)job);
}
