/* scow port CONTAINER [PRIVATE_PORT[/PROTO]]: the published ports of a
 * running container, as its start set them up. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cmd/containers.h"
#include "net/ports.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/strutil.h"

const struct opt_def cmd_port_opts[] = {OPT_END};

int cmd_port(struct scow_ctx *ctx, const struct opts *o, struct scow_error **err)
{
	struct container_store cs;
	if (cmd_open_containers(ctx, &cs, err) < 0)
		return cmd_fail(err);
	struct container c;
	int r = cmd_load_container(&cs, o->args[0], false, &c, err);
	container_store_close(&cs);
	if (r < 0)
		return cmd_fail(err);
	bool up = c.status == CTR_RUNNING || c.status == CTR_PAUSED;
	json_t *ports = up ? json_get_obj(json_get_obj(c.runtime, "NetworkSettings"), "Ports") : NULL;
	const char *filter = o->nargs > 1 ? o->args[1] : NULL;
	_cleanup_strv_ char **lines = net_ports_port_lines(ports, filter);
	if (filter && !lines[0]) {
		error_set(err, ENOENT, "No public port '%s%s' published for %s", filter,
			  strchr(filter, '/') ? "" : "/tcp", o->args[0]);
		container_release(&c);
		return cmd_fail(err);
	}
	for (size_t i = 0; lines[i]; i++)
		printf("%s\n", lines[i]);
	container_release(&c);
	return 0;
}
