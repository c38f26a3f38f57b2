/* The attach protocol between a container's supervisor and its clients
 * (scow attach): a SOCK_SEQPACKET unix socket at
 * RUNROOT/containers/<id>/attach.sock. Every message is a header and up to
 * ATTACH_DATA_MAX bytes.
 *
 *   client -> supervisor: HELLO (flags: which streams), IN (input),
 *                         WINSIZE (a, b = rows, cols), SIGNAL (a = signal)
 *   supervisor -> client: OUT (a = 1 stdout, 2 stderr), EXIT (a = status)
 *
 * A client that cannot keep up is dropped rather than let it stall the
 * container. Detaching is the client closing its socket. */
#pragma once

#include <stdint.h>

#define ATTACH_SOCKET "attach.sock"
#define ATTACH_DATA_MAX (32u << 10)
#define ATTACH_MAX_CLIENTS 16

enum attach_type {
	ATTACH_HELLO = 1,
	ATTACH_IN,
	ATTACH_OUT,
	ATTACH_EXIT,
	ATTACH_WINSIZE,
	ATTACH_SIGNAL,
};

enum attach_flags {
	ATTACH_WANT_STDIN = 1,
	ATTACH_WANT_STDOUT = 2,
	ATTACH_WANT_STDERR = 4,
};

struct attach_hdr {
	uint8_t type;
	uint8_t pad[3];
	int32_t a, b;
};
