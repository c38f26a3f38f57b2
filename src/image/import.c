/* import's data path (see create.h): a stream into a base layer, and the
 * download of a URL. */
#include "image/create.h"

#include <archive.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "image/archive.h"
#include "util/cleanup.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/lazy_archive.h"
#include "util/lazy_curl.h"

#define READ_CHUNK (1u << 20)

/* ---- reading ----------------------------------------------------------------------- */

struct source {
	int fd;
	unsigned char *buf;
	size_t first; /* sniffed bytes at buf, not handed out yet */
};

static ssize_t read_retry(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static la_ssize_t raw_read(struct archive *a, void *opaque, const void **ret)
{
	struct source *src = opaque;
	*ret = src->buf;
	if (src->first) {
		la_ssize_t n = (la_ssize_t)src->first;
		src->first = 0;
		return n;
	}
	ssize_t n = read_retry(src->fd, src->buf, READ_CHUNK);
	if (n < 0)
		archive_set_error(a, errno, "read: %s", strerror(errno));
	return n;
}

/* bzip2 and xz: inflated by libarchive (its "raw" format is the stream
 * itself), then fed as a plain tar. A libarchive built without the library
 * would run an external program: refused. */
static int feed_filtered(struct layer_import *li, struct source *src, bool bzip2,
			 struct scow_error **err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return error_set(err, ENOMEM, "libarchive: cannot allocate a reader");
	int r = bzip2 ? archive_read_support_filter_bzip2(a) : archive_read_support_filter_xz(a);
	if (r != ARCHIVE_OK) {
		archive_read_free(a);
		return error_set(err, ENOTSUP, "this libarchive cannot inflate %s by itself",
				 bzip2 ? "bzip2" : "xz");
	}
	struct archive_entry *ae;
	if (archive_read_support_format_raw(a) != ARCHIVE_OK ||
	    archive_read_open(a, src, NULL, raw_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &ae) != ARCHIVE_OK) {
		error_set(err, EINVAL, "%s: %s", bzip2 ? "bzip2" : "xz", archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			error_set(err, EINVAL, "%s: %s", bzip2 ? "bzip2" : "xz", archive_error_string(a));
			archive_read_free(a);
			return -1;
		}
		if (len && layer_import_feed(li, buf, len) < 0)
			break; /* finish tells why */
	}
	archive_read_free(a);
	return 0;
}

static int feed_fd(struct layer_import *li, struct source *src, struct scow_error **err)
{
	size_t n = src->first;
	src->first = 0;
	for (;;) {
		if (n && layer_import_feed(li, src->buf, n) < 0)
			return 0; /* finish tells why */
		ssize_t k = read_retry(src->fd, src->buf, READ_CHUNK);
		if (k < 0)
			return error_errno(err, "read");
		if (k == 0)
			return 0;
		n = (size_t)k;
	}
}

int image_import_layer(struct image_store *s, int fd, struct layer_info *ret,
		       struct scow_error **err)
{
	if (lazy_archive_load(err) < 0)
		return -1;
	_cleanup_free_ unsigned char *buf = xmalloc(READ_CHUNK);
	struct source src = {.fd = fd, .buf = buf};
	while (src.first < 6) {
		ssize_t k = read_retry(fd, buf + src.first, READ_CHUNK - src.first);
		if (k < 0)
			return error_errno(err, "read");
		if (k == 0)
			break;
		src.first += (size_t)k;
	}
	static const unsigned char xz_magic[] = {0xfd, '7', 'z', 'X', 'Z', 0};
	bool bzip2 = src.first >= 3 && memcmp(buf, "BZh", 3) == 0;
	bool xz = src.first >= 6 && memcmp(buf, xz_magic, 6) == 0;
	struct layer_import *li = NULL;
	if (layer_import_start(s, &li, err) < 0)
		return -1;
	int r = bzip2 || xz ? feed_filtered(li, &src, bzip2, err) : feed_fd(li, &src, err);
	struct layer_info info;
	if (r == 0)
		r = layer_import_finish(li, &info, err);
	if (r == 0)
		r = layer_import_commit(li, "", &info, err);
	layer_import_free(li);
	if (r == 0)
		*ret = info;
	return r;
}

/* ---- downloading ------------------------------------------------------------------- */

struct image_fetch {
	char *url;
	int wfd;
	CURL *curl;
	pthread_t thread;
	CURLcode rc;
	long status;
	bool reader_gone;
	char errbuf[CURL_ERROR_SIZE];
};

static size_t on_body(char *data, size_t size, size_t n, void *opaque)
{
	struct image_fetch *f = opaque;
	size_t len = size * n, off = 0;
	while (off < len) {
		ssize_t w = send(f->wfd, data + off, len - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			f->reader_gone = true;
			return 0; /* aborts the transfer */
		}
		off += (size_t)w;
	}
	return len;
}

static void *fetch_main(void *opaque)
{
	struct image_fetch *f = opaque;
	f->rc = curl_easy_perform(f->curl);
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &f->status);
	/* EOF for the reader, whatever happened; the result is checked later. */
	closep(&f->wfd);
	f->wfd = -1;
	return NULL;
}

static void fetch_free(struct image_fetch *f)
{
	if (f->curl)
		curl_easy_cleanup(f->curl);
	if (f->wfd >= 0)
		close(f->wfd);
	free(f->url);
	free(f);
}

int image_fetch_start(const char *url, struct image_fetch **ret, int *ret_fd,
		      struct scow_error **err)
{
	if (lazy_curl_load(err) < 0)
		return -1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return error_errno(err, "socketpair");
	struct image_fetch *f = xcalloc(1, sizeof(*f));
	f->url = xstrdup(url);
	f->wfd = sv[1];
	f->curl = curl_easy_init();
	if (!f->curl) {
		close(sv[0]);
		fetch_free(f);
		return error_set(err, ENOMEM, "curl: cannot start a transfer");
	}
	CURL *c = f->curl;
	curl_easy_setopt(c, CURLOPT_URL, f->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "scow");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	if (pthread_create(&f->thread, NULL, fetch_main, f) != 0) {
		close(sv[0]);
		fetch_free(f);
		return error_set(err, EAGAIN, "cannot start a thread");
	}
	*ret = f;
	*ret_fd = sv[0];
	return 0;
}

int image_fetch_finish(struct image_fetch *f, struct scow_error **err)
{
	/* The caller has closed its end (or read it to EOF): a transfer
	 * still running fails on its next write. */
	pthread_join(f->thread, NULL);
	int r = 0;
	if (f->rc != CURLE_OK && !f->reader_gone) {
		if (f->rc == CURLE_HTTP_RETURNED_ERROR)
			r = error_set(err, EIO, "Get \"%s\": HTTP status %ld", f->url, f->status);
		else
			r = error_set(err, EIO, "Get \"%s\": %s", f->url,
				      f->errbuf[0] ? f->errbuf : curl_easy_strerror(f->rc));
	}
	log_debug("import: download of %s: curl %d, HTTP %ld", f->url, (int)f->rc, f->status);
	fetch_free(f);
	return r;
}
