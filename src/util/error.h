/* Errors: a function that can fail returns a negative value (or NULL) and
 * fills `struct scow_error **err`. Callers add context with error_wrap(); only
 * main() prints the final message, once. */
#pragma once

#include <stdarg.h>

struct scow_error {
	int errnum;	/* errno value behind the failure, 0 if none */
	int exit_code;	/* process exit status main() should use; 0 means 125 */
	char *msg;
};

/* Each returns -1 so that `return error_set(err, ...)` reads naturally. */
int error_set(struct scow_error **err, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Like error_set with errno, appending ": strerror(errno)". */
int error_errno(struct scow_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the existing message with "context: ". Keeps errnum/exit_code. */
int error_wrap(struct scow_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sets the exit status main() will use for this error (126, 127, ...). */
int error_set_exit(struct scow_error **err, int exit_code);

void error_free(struct scow_error *e);
void error_freep(struct scow_error **e);
