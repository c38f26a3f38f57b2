/* curl: the usual names, redirected to the lazily loaded table (see util/lazylib.h).
 * Include after the library's own headers. */
#pragma once

#include "util/lazylib.h"
/* curl's type-checking macros would hide the redirection. */
#undef curl_easy_setopt
#undef curl_easy_getinfo

#define curl_global_init (lazy_curl()->curl_global_init)
#define curl_easy_init (lazy_curl()->curl_easy_init)
#define curl_easy_cleanup (lazy_curl()->curl_easy_cleanup)
#define curl_easy_reset (lazy_curl()->curl_easy_reset)
#define curl_easy_setopt (lazy_curl()->curl_easy_setopt)
#define curl_easy_perform (lazy_curl()->curl_easy_perform)
#define curl_easy_getinfo (lazy_curl()->curl_easy_getinfo)
#define curl_easy_strerror (lazy_curl()->curl_easy_strerror)
#define curl_easy_escape (lazy_curl()->curl_easy_escape)
#define curl_free (lazy_curl()->curl_free)
#define curl_slist_append (lazy_curl()->curl_slist_append)
#define curl_slist_free_all (lazy_curl()->curl_slist_free_all)
#define curl_url (lazy_curl()->curl_url)
#define curl_url_cleanup (lazy_curl()->curl_url_cleanup)
#define curl_url_set (lazy_curl()->curl_url_set)
#define curl_url_get (lazy_curl()->curl_url_get)
