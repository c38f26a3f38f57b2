/* Signal names as Docker accepts them: "SIGTERM", "TERM", "15",
 * "SIGRTMIN+3". */
#pragma once

#include "util/error.h"

int signal_parse(const char *s, int *ret, struct scow_error **err);
/* "SIGTERM" (static storage; "SIGRTMIN+N" in a static buffer). */
const char *signal_name(int sig);
