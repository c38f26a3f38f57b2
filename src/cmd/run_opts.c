/* The options of run and create, declared once. */
#include "cmd/run.h"

#define RUN_CREATE_OPTS                                                                            \
	{"attach", 'a', OPT_LIST, "list", "Attach to STDIN, STDOUT or STDERR", NULL},              \
	{"blkio-weight", 0, OPT_VALUE, "uint16",                                                  \
	 "Block IO (relative weight), between 10 and 1000, or 0 to disable", "0"},                \
	{"cap-add", 0, OPT_LIST, "list", "Add Linux capabilities", NULL},                         \
	{"cap-drop", 0, OPT_LIST, "list", "Drop Linux capabilities", NULL},                       \
	{"cgroup-parent", 0, OPT_VALUE, "string", "Optional parent cgroup for the container", NULL}, \
	{"cgroupns", 0, OPT_VALUE, "string", "Cgroup namespace to use (host|private)", NULL},      \
	{"cidfile", 0, OPT_VALUE, "string", "Write the container ID to the file", NULL},           \
	{"cpu-period", 0, OPT_VALUE, "int", "Limit CPU CFS (Completely Fair Scheduler) period",    \
	 NULL},                                                                                    \
	{"cpu-quota", 0, OPT_VALUE, "int", "Limit CPU CFS (Completely Fair Scheduler) quota",      \
	 NULL},                                                                                    \
	{"cpu-shares", 'c', OPT_VALUE, "int", "CPU shares (relative weight)", NULL},               \
	{"cpus", 0, OPT_VALUE, "decimal", "Number of CPUs", NULL},                                 \
	{"cpuset-cpus", 0, OPT_VALUE, "string", "CPUs in which to allow execution (0-3, 0,1)",     \
	 NULL},                                                                                    \
	{"cpuset-mems", 0, OPT_VALUE, "string", "MEMs in which to allow execution (0-3, 0,1)",     \
	 NULL},                                                                                    \
	{"device", 0, OPT_LIST, "list", "Add a host device to the container", NULL},              \
	{"device-cgroup-rule", 0, OPT_LIST, "list", "Add a rule to the cgroup allowed devices list", \
	 NULL},                                                                                    \
	{"device-read-bps", 0, OPT_LIST, "list",                                                  \
	 "Limit read rate (bytes per second) from a device", "[]"},                               \
	{"device-read-iops", 0, OPT_LIST, "list", "Limit read rate (IO per second) from a device", \
	 "[]"},                                                                                    \
	{"device-write-bps", 0, OPT_LIST, "list",                                                 \
	 "Limit write rate (bytes per second) to a device", "[]"},                                \
	{"device-write-iops", 0, OPT_LIST, "list", "Limit write rate (IO per second) to a device", \
	 "[]"},                                                                                    \
	{"domainname", 0, OPT_VALUE, "string", "Container NIS domain name", NULL},                 \
	{"entrypoint", 0, OPT_VALUE, "string", "Overwrite the default ENTRYPOINT of the image",    \
	 NULL},                                                                                    \
	{"env", 'e', OPT_LIST, "list", "Set environment variables", NULL},                        \
	{"env-file", 0, OPT_LIST, "list", "Read in a file of environment variables", NULL},       \
	{"group-add", 0, OPT_LIST, "list", "Add additional groups to join", NULL},                \
	{"hostname", 'h', OPT_VALUE, "string", "Container host name", NULL},                       \
	{"init", 0, OPT_BOOL, NULL,                                                               \
	 "Run an init inside the container that forwards signals and reaps processes", NULL},     \
	{"interactive", 'i', OPT_BOOL, NULL, "Keep STDIN open even if not attached", NULL},        \
	{"label", 'l', OPT_LIST, "list", "Set meta data on a container", NULL},                   \
	{"label-file", 0, OPT_LIST, "list", "Read in a line delimited file of labels", NULL},     \
	{"log-driver", 0, OPT_VALUE, "string", "Logging driver for the container (json-file, none)", \
	 NULL},                                                                                    \
	{"log-opt", 0, OPT_LIST, "list", "Log driver options (max-size, max-file)", NULL},        \
	{"memory", 'm', OPT_VALUE, "bytes", "Memory limit", NULL},                                \
	{"memory-reservation", 0, OPT_VALUE, "bytes", "Memory soft limit", NULL},                 \
	{"memory-swap", 0, OPT_VALUE, "bytes",                                                    \
	 "Swap limit equal to memory plus swap: '-1' to enable unlimited swap", NULL},            \
	{"mount", 0, OPT_LIST, "mount", "Attach a filesystem mount to the container", NULL},      \
	{"name", 0, OPT_VALUE, "string", "Assign a name to the container", NULL},                  \
	{"network", 0, OPT_LIST, "network", "Connect a container to a network", NULL},             \
	{"net", 0, OPT_LIST, "network", "Connect a container to a network (alias of --network)",   \
	 NULL},                                                                                    \
	{"network-alias", 0, OPT_LIST, "list", "Add network-scoped alias for the container", NULL}, \
	{"ip", 0, OPT_VALUE, "string", "IPv4 address (e.g., 172.30.100.104)", NULL},               \
	{"mac-address", 0, OPT_VALUE, "string", "Container MAC address (e.g., 92:d0:c6:0a:29:33)", \
	 NULL},                                                                                    \
	{"publish", 'p', OPT_LIST, "list", "Publish a container's port(s) to the host", NULL},     \
	{"publish-all", 'P', OPT_BOOL, NULL, "Publish all exposed ports to random ports", NULL},   \
	{"expose", 0, OPT_LIST, "list", "Expose a port or a range of ports", NULL},               \
	{"link", 0, OPT_LIST, "list", "Add link to another container", NULL},                     \
	{"add-host", 0, OPT_LIST, "list", "Add a custom host-to-IP mapping (host:ip)", NULL},      \
	{"dns", 0, OPT_LIST, "list", "Set custom DNS servers", NULL},                             \
	{"dns-search", 0, OPT_LIST, "list", "Set custom DNS search domains", NULL},               \
	{"dns-option", 0, OPT_LIST, "list", "Set DNS options", NULL},                             \
	{"dns-opt", 0, OPT_LIST, "list", "Set DNS options (alias of --dns-option)", NULL},        \
	{"oom-kill-disable", 0, OPT_BOOL, NULL, "Disable OOM Killer", NULL},                      \
	{"oom-score-adj", 0, OPT_VALUE, "int", "Tune host's OOM preferences (-1000 to 1000)",      \
	 NULL},                                                                                    \
	{"pids-limit", 0, OPT_VALUE, "int", "Tune container pids limit (set -1 for unlimited)",    \
	 NULL},                                                                                    \
	{"platform", 0, OPT_VALUE, "string", "Set platform if server is multi-platform capable",   \
	 NULL},                                                                                    \
	{"privileged", 0, OPT_BOOL, NULL, "Give extended privileges to this container", NULL},     \
	{"pull", 0, OPT_VALUE, "string", "Pull image before running (\"always\", \"missing\", "    \
					 "\"never\")",                                             \
	 "\"missing\""},                                                                           \
	{"quiet", 'q', OPT_BOOL, NULL, "Suppress the pull output", NULL},                         \
	{"read-only", 0, OPT_BOOL, NULL, "Mount the container's root filesystem as read only",     \
	 NULL},                                                                                    \
	{"rm", 0, OPT_BOOL, NULL, "Automatically remove the container when it exits", NULL},       \
	{"security-opt", 0, OPT_LIST, "list", "Security Options", NULL},                          \
	{"stop-signal", 0, OPT_VALUE, "string", "Signal to stop the container", NULL},             \
	{"stop-timeout", 0, OPT_VALUE, "int", "Timeout (in seconds) to stop a container", NULL},   \
	{"sysctl", 0, OPT_LIST, "map", "Sysctl options", NULL},                                   \
	{"tmpfs", 0, OPT_LIST, "list", "Mount a tmpfs directory", NULL},                          \
	{"tty", 't', OPT_BOOL, NULL, "Allocate a pseudo-TTY", NULL},                              \
	{"ulimit", 0, OPT_LIST, "ulimit", "Ulimit options", NULL},                                \
	{"user", 'u', OPT_VALUE, "string", "Username or UID (format: <name|uid>[:<group|gid>])",   \
	 NULL},                                                                                    \
	{"volume", 'v', OPT_LIST, "list", "Bind mount a volume", NULL},                           \
	{"volumes-from", 0, OPT_LIST, "list", "Mount volumes from the specified container(s)",     \
	 NULL},                                                                                    \
	{"workdir", 'w', OPT_VALUE, "string", "Working directory inside the container", NULL}

const struct opt_def cmd_create_opts[] = {
	RUN_CREATE_OPTS,
	OPT_END,
};

const struct opt_def cmd_run_opts[] = {
	RUN_CREATE_OPTS,
	{"detach", 'd', OPT_BOOL, NULL, "Run container in background and print container ID", NULL},
	{"detach-keys", 0, OPT_VALUE, "string", "Override the key sequence for detaching a container",
	 NULL},
	{"sig-proxy", 0, OPT_BOOL, NULL, "Proxy received signals to the process", "true"},
	OPT_END,
};
