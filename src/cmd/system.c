/* version */
#include <stdio.h>
#include <sys/utsname.h>

#include "cmd/cmd.h"
#include "cmd/common.h"
#include "util/cleanup.h"
#include "util/format.h"
#include "util/json.h"

const struct opt_def cmd_version_opts[] = {
	{"format", 'f', OPT_VALUE, "string", "Format the output using the given Go template", NULL},
	OPT_END,
};

int cmd_version(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	(void)ctx;
	struct utsname u;
	uname(&u);
	const char *format = opt_str(o, "format");
	if (format && *format) {
		/* Docker's shape; there is no daemon, so no Server. */
		_cleanup_json_ json_t *items =
			json_pack("[{s{s{ss} ss ss ss} sn}]", "Client", "Platform", "Name", "scow",
				  "Version", SCOW_VERSION, "Os", "linux", "Arch", u.machine, "Server");
		if (format_inspect(stdout, format, items, err) < 0)
			return cmd_fail(err);
		return 0;
	}
	printf("Client:\n"
	       " Version:      %s\n"
	       " OS/Arch:      linux/%s\n"
	       " Daemon:       none (scow is daemonless)\n",
	       SCOW_VERSION, u.machine);
	return 0;
}
