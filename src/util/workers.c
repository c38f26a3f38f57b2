/* See workers.h. */
#include "util/workers.h"

#include <pthread.h>
#include <stdlib.h>

#include "util/xalloc.h"

void workers_run(size_t n, void *(*fn)(void *), void *arg)
{
	pthread_t *threads = xcalloc(n + 1, sizeof(pthread_t));
	size_t started = 0;
	for (; started < n; started++)
		if (pthread_create(&threads[started], NULL, fn, arg) != 0)
			break;
	if (started == 0) /* n == 0 too: fn finds no jobs, or takes them all */
		fn(arg);
	for (size_t i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	free(threads);
}

bool work_queue_take(struct work_queue *q, pthread_mutex_t *lock, size_t n, size_t *ret)
{
	pthread_mutex_lock(lock);
	size_t i = q->next++;
	pthread_mutex_unlock(lock);
	if (i >= n || atomic_load(&q->cancel))
		return false;
	*ret = i;
	return true;
}

void work_queue_fail(struct work_queue *q, pthread_mutex_t *lock, size_t i)
{
	pthread_mutex_lock(lock);
	if (q->first_failure < 0 && !atomic_load(&q->cancel))
		q->first_failure = (long)i;
	pthread_mutex_unlock(lock);
	atomic_store(&q->cancel, true);
}
