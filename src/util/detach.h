/* Detach keys (Docker's --detach-keys, default "ctrl-p,ctrl-q"): leaving
 * an attached terminal without stopping the container. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct detach_keys {
	unsigned char seq[16];
	size_t n;
	size_t matched; /* bytes of seq seen so far, held back */
};

/* "ctrl-p,ctrl-q", "ctrl-a,x", ... NULL gives the default. */
int detach_keys_parse(const char *s, struct detach_keys *ret, struct scow_error **err);
/* Filters input: copies to out (capacity 2*len + 16) what is not part of
 * the sequence (held bytes come out once the sequence breaks), sets
 * *detach when it completes. Returns the bytes in out. */
size_t detach_keys_filter(struct detach_keys *k, const unsigned char *in, size_t len,
			  unsigned char *out, bool *detach);
