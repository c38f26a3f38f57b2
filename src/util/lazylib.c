/* This file uses the real library names, so it includes lazylib.h only. */
#include "util/lazylib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* SONAMEs of Debian 12's runtime packages; CMake may override them. */
#ifndef LAZY_SONAME_CURL
#define LAZY_SONAME_CURL "libcurl.so.4"
#endif
#ifndef LAZY_SONAME_ARCHIVE
#define LAZY_SONAME_ARCHIVE "libarchive.so.13"
#endif
#ifndef LAZY_SONAME_CRYPTO
#define LAZY_SONAME_CRYPTO "libcrypto.so.3"
#endif
#ifndef LAZY_SONAME_ISAL
#define LAZY_SONAME_ISAL "libisal.so.2"
#endif
#ifndef LAZY_SONAME_ZSTD
#define LAZY_SONAME_ZSTD "libzstd.so.1"
#endif
#ifndef LAZY_SONAME_NFT
#define LAZY_SONAME_NFT "libnftables.so.1"
#endif

struct lazy_lib {
	const char *soname;
	const char *const *names; /* NULL-terminated */
	void **slots;		  /* the table, as an array of pointers */
	pthread_once_t once;
	char error[512];
	int ok;
};

/* Every entry of a table is a function pointer of one size, so a table can
 * be filled as an array of pointers in declaration order. */
static void load(struct lazy_lib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(l->error, sizeof(l->error), "load %s: %s", l->soname, dlerror());
		return;
	}
	for (size_t i = 0; l->names[i]; i++) {
		void *sym = dlsym(h, l->names[i]);
		if (!sym) {
			snprintf(l->error, sizeof(l->error), "%s has no %s", l->soname, l->names[i]);
			return;
		}
		l->slots[i] = sym;
	}
	l->ok = 1;
}

#define LAZY_NAME(ret, name, params) #name,

#define LAZY_DEFINE(lib, SONAME, FUNCS)                                                            \
	static struct lazy_##lib lib##_table;                                                      \
	static const char *const lib##_names[] = {FUNCS(LAZY_NAME) NULL};                          \
	static struct lazy_lib lib##_lib = {SONAME, lib##_names, (void **)&lib##_table,           \
					    PTHREAD_ONCE_INIT, "", 0};                              \
	static void lib##_once(void)                                                               \
	{                                                                                          \
		load(&lib##_lib);                                                                  \
	}                                                                                          \
	int lazy_##lib##_load(struct scow_error **err)                                             \
	{                                                                                          \
		pthread_once(&lib##_lib.once, lib##_once);                                         \
		return lib##_lib.ok ? 0 : error_set(err, ENOENT, "%s", lib##_lib.error);           \
	}                                                                                          \
	const struct lazy_##lib *lazy_##lib(void)                                                  \
	{                                                                                          \
		if (!lib##_lib.ok && lazy_##lib##_load(NULL) < 0) {                                \
			fprintf(stderr, "scow: %s\n", lib##_lib.error);                            \
			abort();                                                                   \
		}                                                                                  \
		return &lib##_table;                                                               \
	}

_Static_assert(sizeof(void (*)(void)) == sizeof(void *), "function pointers as data pointers");

LAZY_DEFINE(curl, LAZY_SONAME_CURL, LAZY_CURL_FUNCS)
LAZY_DEFINE(archive, LAZY_SONAME_ARCHIVE, LAZY_ARCHIVE_FUNCS)
LAZY_DEFINE(crypto, LAZY_SONAME_CRYPTO, LAZY_CRYPTO_FUNCS)
LAZY_DEFINE(isal, LAZY_SONAME_ISAL, LAZY_ISAL_FUNCS)
LAZY_DEFINE(zstd, LAZY_SONAME_ZSTD, LAZY_ZSTD_FUNCS)
LAZY_DEFINE(nft, LAZY_SONAME_NFT, LAZY_NFT_FUNCS)
