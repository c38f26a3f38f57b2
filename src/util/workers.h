/* A pool of threads that take jobs from a queue of the caller's (pull's
 * and push's layers). */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* Runs fn(arg) on n threads at once and waits for them all. fn takes jobs
 * until none are left, so when no thread can be started the calling
 * thread runs it alone and the work still gets done. */
void workers_run(size_t n, void *(*fn)(void *), void *arg);

/* The queue the workers share: jobs 0..n-1 taken in order under the
 * caller's lock (which may guard its progress output too); the first job
 * to fail keeps its error and stops the others, which also look at cancel
 * between the steps of a job. */
struct work_queue {
	size_t next;
	long first_failure; /* the job whose error is the one to report; -1 */
	atomic_bool cancel;
};
#define WORK_QUEUE_INIT {.next = 0, .first_failure = -1}
/* The next job's index into *ret; false when none is left or cancelled. */
bool work_queue_take(struct work_queue *q, pthread_mutex_t *lock, size_t n, size_t *ret);
/* Job i failed: the first such is kept, the rest are stopped. */
void work_queue_fail(struct work_queue *q, pthread_mutex_t *lock, size_t i);
