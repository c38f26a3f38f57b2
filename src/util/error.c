#include "util/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static int error_replace(struct scow_error **err, int errnum, char *msg)
{
	if (!err) {
		free(msg);
		return -1;
	}
	int exit_code = 0;
	if (*err) {
		exit_code = (*err)->exit_code;
		error_free(*err);
	}
	struct scow_error *e = xcalloc(1, sizeof(*e));
	e->errnum = errnum;
	e->exit_code = exit_code;
	e->msg = msg;
	*err = e;
	return -1;
}

int error_set(struct scow_error **err, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	return error_replace(err, errnum, msg);
}

int error_errno(struct scow_error **err, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = xvasprintf(fmt, ap);
	va_end(ap);
	char *msg = xasprintf("%s: %s", ctx, strerror(saved));
	free(ctx);
	errno = saved;
	return error_replace(err, saved, msg);
}

int error_wrap(struct scow_error **err, const char *fmt, ...)
{
	if (!err || !*err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	char *ctx = xvasprintf(fmt, ap);
	va_end(ap);
	char *msg = xasprintf("%s: %s", ctx, (*err)->msg);
	free(ctx);
	free((*err)->msg);
	(*err)->msg = msg;
	return -1;
}

int error_set_exit(struct scow_error **err, int exit_code)
{
	if (err && *err)
		(*err)->exit_code = exit_code;
	return -1;
}

void error_free(struct scow_error *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}

void error_freep(struct scow_error **e)
{
	error_free(*e);
	*e = NULL;
}
