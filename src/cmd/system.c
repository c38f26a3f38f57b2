/* version */
#include <stdio.h>
#include <sys/utsname.h>

#include "cmd/cmd.h"

const struct opt_def cmd_version_opts[] = {
	{"format", 'f', OPT_VALUE, "string", "Format the output using the given Go template", NULL},
	OPT_END,
};

int cmd_version(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	(void)ctx;
	(void)o;
	(void)err;
	struct utsname u;
	uname(&u);
	printf("Client:\n"
	       " Version:      %s\n"
	       " OS/Arch:      linux/%s\n"
	       " Daemon:       none (scow is daemonless)\n",
	       SCOW_VERSION, u.machine);
	return 0;
}
