/* The supervisor's side of attach (see attach.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

struct attach_server;

/* What clients' messages turn into. */
struct attach_sink {
	void (*input)(void *opaque, const void *buf, size_t len);
	void (*winsize)(void *opaque, int rows, int cols);
	void (*signal)(void *opaque, int sig);
	void *opaque;
};

/* Listens on dirfd/attach.sock (dirfd: the container's runroot dir). */
int attach_server_open(int dirfd, struct attach_server **ret, struct scow_error **err);
int attach_server_listen_fd(const struct attach_server *as);
/* A new client: its fd (to watch), or -1. */
int attach_server_accept(struct attach_server *as);
bool attach_server_is_client(const struct attach_server *as, int fd);
/* One message from client fd; false when the client is gone (closed). */
bool attach_server_receive(struct attach_server *as, int fd, const struct attach_sink *sink);
/* Output of stream 1 or 2 to every client that wants it. */
void attach_server_broadcast(struct attach_server *as, int stream, const void *buf, size_t len);
/* The container's exit status to every client, then closes them all. */
void attach_server_exit(struct attach_server *as, int code);
void attach_server_close(struct attach_server *as);
