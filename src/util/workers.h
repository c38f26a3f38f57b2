/* A pool of threads that take jobs from a queue of the caller's (pull's
 * and push's layers). */
#pragma once

#include <stddef.h>

/* Runs fn(arg) on n threads at once and waits for them all. fn takes jobs
 * until none are left, so when no thread can be started the calling
 * thread runs it alone and the work still gets done. */
void workers_run(size_t n, void *(*fn)(void *), void *arg);
