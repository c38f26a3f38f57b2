#include "util/bytequeue.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct bytequeue {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	unsigned nslots;
	size_t slot_size;
	unsigned char **buf;
	size_t *len;
	/* Monotonic counts; slot i of a count is count % nslots. */
	unsigned long published; /* filled by the producer */
	unsigned long taken;	 /* handed to the consumer */
	unsigned long released;	 /* given back by the consumer */
	size_t fill;		 /* bytes in the producer's current slot */
	bool finished, closed, holding;
};

struct bytequeue *bytequeue_new(unsigned slots, size_t slot_size)
{
	struct bytequeue *q = xcalloc(1, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->changed, NULL);
	q->nslots = slots;
	q->slot_size = slot_size;
	q->buf = xcalloc(slots, sizeof(*q->buf));
	q->len = xcalloc(slots, sizeof(*q->len));
	for (unsigned i = 0; i < slots; i++)
		q->buf[i] = xmalloc(slot_size);
	return q;
}

void bytequeue_free(struct bytequeue *q)
{
	if (!q)
		return;
	for (unsigned i = 0; i < q->nslots; i++)
		free(q->buf[i]);
	free(q->buf);
	free(q->len);
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

/* The producer's slot is free once the consumer released what was there. */
static bool producer_slot_free(const struct bytequeue *q)
{
	return q->published - q->released < q->nslots;
}

static void publish_locked(struct bytequeue *q)
{
	q->len[q->published % q->nslots] = q->fill;
	q->published++;
	q->fill = 0;
	pthread_cond_broadcast(&q->changed);
}

int bytequeue_write(struct bytequeue *q, const void *data, size_t len)
{
	const unsigned char *p = data;
	while (len > 0) {
		if (q->fill == 0) {
			pthread_mutex_lock(&q->lock);
			while (!producer_slot_free(q) && !q->closed)
				pthread_cond_wait(&q->changed, &q->lock);
			bool closed = q->closed;
			pthread_mutex_unlock(&q->lock);
			if (closed)
				return -1;
		}
		/* The slot is ours alone until published: copy without the lock. */
		size_t n = q->slot_size - q->fill;
		if (n > len)
			n = len;
		memcpy(q->buf[q->published % q->nslots] + q->fill, p, n);
		q->fill += n;
		p += n;
		len -= n;
		if (q->fill == q->slot_size) {
			pthread_mutex_lock(&q->lock);
			publish_locked(q);
			pthread_mutex_unlock(&q->lock);
		}
	}
	return 0;
}

void bytequeue_finish(struct bytequeue *q)
{
	pthread_mutex_lock(&q->lock);
	if (q->fill > 0 && producer_slot_free(q))
		publish_locked(q);
	q->finished = true;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

size_t bytequeue_read(struct bytequeue *q, const void **ret)
{
	pthread_mutex_lock(&q->lock);
	if (q->holding) {
		q->released++;
		q->holding = false;
		pthread_cond_broadcast(&q->changed);
	}
	while (q->taken == q->published && !q->finished)
		pthread_cond_wait(&q->changed, &q->lock);
	size_t n = 0;
	if (q->taken < q->published) {
		unsigned slot = (unsigned)(q->taken % q->nslots);
		*ret = q->buf[slot];
		n = q->len[slot];
		q->taken++;
		q->holding = true;
	}
	pthread_mutex_unlock(&q->lock);
	return n;
}

void bytequeue_close(struct bytequeue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}
