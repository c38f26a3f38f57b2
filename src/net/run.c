#include "net/run.h"

#include <errno.h>
#include <string.h>

#include "net/network.h"
#include "util/cleanup.h"
#include "util/json.h"
#include "util/log.h"
#include "util/strutil.h"
#include "util/xalloc.h"

bool net_run_wanted(json_t *config)
{
	const char *mode = json_get_str(json_get_obj(config, "HostConfig"), "NetworkMode");
	return mode && strcmp(mode, "host") && strcmp(mode, "none") &&
	       !str_starts_with(mode, "container:");
}

/* Storage behind a struct net_container built from a record. */
struct from_record {
	struct net_attach *nets;
	size_t n_nets;
	const char ***aliases; /* per network */
	struct net_port_spec *ports;
	size_t n_ports;
	const char **links;
	size_t n_links;
};

static void from_record_release(struct from_record *f)
{
	for (size_t i = 0; i < f->n_nets; i++)
		free(f->aliases[i]);
	free(f->aliases);
	free(f->nets);
	free(f->ports);
	free(f->links);
}

static void add_network(struct from_record *f, const char *name, json_t *endpoint)
{
	size_t i = f->n_nets++;
	f->nets = xrealloc(f->nets, f->n_nets * sizeof(*f->nets));
	f->aliases = xrealloc(f->aliases, f->n_nets * sizeof(*f->aliases));
	json_t *al = json_get_arr(endpoint, "Aliases");
	f->aliases[i] = xcalloc(json_array_size(al) + 1, sizeof(char *));
	size_t n = 0, k;
	json_t *a;
	json_array_foreach(al, k, a)
		if (json_is_string(a))
			f->aliases[i][n++] = json_string_value(a);
	const char *mac = json_get_str(endpoint, "MacAddress");
	f->nets[i] = (struct net_attach){
		.network = name,
		.aliases = f->aliases[i],
		.n_aliases = n,
		.ip = json_get_str(json_get_obj(endpoint, "IPAMConfig"), "IPv4Address"),
		.mac = mac && *mac ? mac : NULL,
	};
}

static int add_port(struct from_record *f, const char *spec, bool exposed,
		    struct scow_error **err)
{
	struct net_port_spec p;
	if ((exposed ? net_port_parse_exposed(spec, &p, err) : net_port_parse(spec, &p, err)) < 0)
		return -1;
	f->ports = xrealloc(f->ports, (f->n_ports + 1) * sizeof(*f->ports));
	f->ports[f->n_ports++] = p;
	return 0;
}

static int from_record(json_t *config, struct from_record *f, struct scow_error **err)
{
	json_t *host = json_get_obj(config, "HostConfig");
	json_t *ec = json_get_obj(json_get_obj(config, "NetworkingConfig"), "EndpointsConfig");
	const char *mode = json_get_str(host, "NetworkMode");
	const char *first = str_eq(mode, "default") ? NET_DEFAULT : mode;
	add_network(f, first, json_object_get(ec, first));
	const char *name;
	json_t *endpoint;
	json_object_foreach(ec, name, endpoint)
		if (strcmp(name, first))
			add_network(f, name, endpoint);
	size_t i;
	json_t *v;
	json_array_foreach(json_get_arr(json_get_obj(config, "Scow"), "Publish"), i, v)
		if (json_is_string(v) && add_port(f, json_string_value(v), false, err) < 0)
			return -1;
	if (json_get_bool(host, "PublishAllPorts", false)) {
		json_object_foreach(json_get_obj(json_get_obj(config, "Config"), "ExposedPorts"), name, v)
			if (add_port(f, name, true, err) < 0)
				return -1;
	}
	json_t *links = json_get_arr(host, "Links");
	f->links = xcalloc(json_array_size(links) + 1, sizeof(char *));
	json_array_foreach(links, i, v)
		if (json_is_string(v))
			f->links[f->n_links++] = json_string_value(v);
	return 0;
}

int net_run_setup(const char *root, const char *runroot, const char *id, json_t *config,
		  const char *hosts_path, pid_t pid, uint64_t pid_start, json_t **ret_settings,
		  struct scow_error **err)
{
	struct from_record f = {0};
	if (from_record(config, &f, err) < 0) {
		from_record_release(&f);
		return -1;
	}
	json_t *cfg = json_get_obj(config, "Config");
	const char *name = json_get_str(config, "Name");
	const char *domain = json_get_str(cfg, "Domainname");
	struct net_container c = {
		.id = id,
		.name = name && name[0] == '/' ? name + 1 : name,
		.hostname = json_get_str(cfg, "Hostname"),
		.domainname = domain && *domain ? domain : NULL,
		.hosts_path = hosts_path,
		.pid = pid,
		.pid_start = pid_start,
		.nets = f.nets,
		.n_nets = f.n_nets,
		.ports = f.ports,
		.n_ports = f.n_ports,
		.links = f.links,
		.n_links = f.n_links,
	};
	struct net_store ns;
	int r = net_store_open(root, runroot, &ns, err);
	if (r == 0) {
		r = net_container_setup(&ns, &c, ret_settings, err);
		net_store_close(&ns);
	}
	from_record_release(&f);
	return r;
}

void net_run_teardown(const char *root, const char *runroot, const char *id,
		      char ***defer_links)
{
	struct net_store ns;
	_cleanup_error_ struct scow_error *e = NULL;
	if (net_store_open(root, runroot, &ns, &e) == 0) {
		if (net_container_teardown(&ns, id, defer_links, &e) < 0)
			log_warn("network teardown of %.12s: %s", id, e->msg);
		net_store_close(&ns);
	} else {
		log_warn("network teardown of %.12s: %s", id, e->msg);
	}
}
