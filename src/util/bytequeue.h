/* A bounded queue of bytes between one producer and one consumer thread,
 * in fixed slots: the producer's small writes are batched into a slot, and
 * the consumer reads each slot in place. It replaces a pipe between the
 * pull's inflating and extracting threads: one copy instead of two, and
 * no syscall or context switch per write. */
#pragma once

#include <stddef.h>

struct bytequeue;

struct bytequeue *bytequeue_new(unsigned slots, size_t slot_size);
void bytequeue_free(struct bytequeue *q);

/* Producer: copies data in, publishing slots as they fill; waits while all
 * are taken. -1 once the consumer has closed. */
int bytequeue_write(struct bytequeue *q, const void *data, size_t len);
/* Producer: publishes what is buffered and marks the end of the stream. */
void bytequeue_finish(struct bytequeue *q);

/* Consumer: the next chunk, valid until the next call; 0 at the end. The
 * previous chunk's slot is handed back to the producer. */
size_t bytequeue_read(struct bytequeue *q, const void **ret);
/* Consumer: stops reading; the producer's writes fail from now on. */
void bytequeue_close(struct bytequeue *q);
