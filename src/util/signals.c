#include "util/signals.h"

#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/strutil.h"

static const struct {
	const char *name;
	int sig;
} table[] = {
	{"ABRT", SIGABRT}, {"ALRM", SIGALRM}, {"BUS", SIGBUS},	   {"CHLD", SIGCHLD},
	{"CLD", SIGCHLD},  {"CONT", SIGCONT}, {"FPE", SIGFPE},	   {"HUP", SIGHUP},
	{"ILL", SIGILL},   {"INT", SIGINT},   {"IO", SIGIO},	   {"IOT", SIGIOT},
	{"KILL", SIGKILL}, {"PIPE", SIGPIPE}, {"POLL", SIGPOLL},   {"PROF", SIGPROF},
	{"PWR", SIGPWR},   {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV},   {"STKFLT", SIGSTKFLT},
	{"STOP", SIGSTOP}, {"SYS", SIGSYS},   {"TERM", SIGTERM},   {"TRAP", SIGTRAP},
	{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},   {"URG", SIGURG},
	{"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"VTALRM", SIGVTALRM}, {"WINCH", SIGWINCH},
	{"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},
};

int signal_parse(const char *s, int *ret, struct scow_error **err)
{
	long long n;
	if (str_to_ll(s, 1, SIGRTMAX, &n)) {
		*ret = (int)n;
		return 0;
	}
	const char *name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcasecmp(name, table[i].name) == 0) {
			*ret = table[i].sig;
			return 0;
		}
	if (strncasecmp(name, "RTMIN", 5) == 0 || strncasecmp(name, "RTMAX", 5) == 0) {
		bool min = strncasecmp(name, "RTMIN", 5) == 0;
		long long off = 0;
		const char *rest = name + 5;
		if (*rest && (*rest != (min ? '+' : '-') || !str_to_ll(rest + 1, 0, 64, &off)))
			return error_set(err, EINVAL, "invalid signal: %s", s);
		int sig = min ? SIGRTMIN + (int)off : SIGRTMAX - (int)off;
		if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
			*ret = sig;
			return 0;
		}
	}
	return error_set(err, EINVAL, "invalid signal: %s", s);
}

const char *signal_name(int sig)
{
	static char buf[32];
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].sig == sig && strcmp(table[i].name, "CLD") != 0 &&
		    strcmp(table[i].name, "IOT") != 0 && strcmp(table[i].name, "POLL") != 0) {
			snprintf(buf, sizeof(buf), "SIG%s", table[i].name);
			return buf;
		}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	snprintf(buf, sizeof(buf), "%d", sig);
	return buf;
}
