/* scow's own entries in an upper dir (see upper.h). */
#include "layers/upper.h"

#include <string.h>

#include "util/cleanup.h"

static const char *rel(const char *dir)
{
	while (*dir == '/')
		dir++;
	return dir;
}

bool layers_upper_stub_file(const char *dir, const char *name)
{
	return strcmp(rel(dir), "etc") == 0 &&
	       (strcmp(name, "hosts") == 0 || strcmp(name, "hostname") == 0 ||
		strcmp(name, "resolv.conf") == 0);
}

bool layers_upper_setup_dir(const char *dir, const char *name)
{
	static const char *const dirs[] = {"dev", "etc", "proc", "sys"};
	if (*rel(dir))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (strcmp(name, dirs[i]) == 0)
			return true;
	return false;
}
