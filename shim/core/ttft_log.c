/* ttft_log.c — create/open the shared-memory log and append records (the
 * reader is tools/lib/ttft_logread.c).
 *
 * This file is linked into the shim (which runs inside other programs) and
 * into the tools. It therefore uses no stdio, takes no lock and allocates
 * nothing; it closes its own fds with a raw syscall so that it never goes
 * through the shim's interposed close().
 */

#include "ttft_log.h"
#include "ttft_clock.h"
#include "ttft_fmt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void raw_close(int fd) { syscall(SYS_close, fd); }

/* A 32-bit hash of bytes 4..127 of the record (everything but the seal);
 * never 0, so 0 can mean "not yet published". */
uint32_t ttft_rec_seal(const struct ttft_rec *rec)
{
	const unsigned char *p = (const unsigned char *)rec + sizeof rec->seal;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < TTFT_REC_SIZE - sizeof rec->seal; i += 4) {
		uint32_t w;
		memcpy(&w, p + i, 4);
		h = (h ^ w) * 16777619u;
		h ^= h >> 15;
	}
	return h | 1u;
}

static int map_existing(struct ttft_log *log, int fd, const char **why)
{
	struct stat st;
	if (fstat(fd, &st) != 0) {
		*why = "cannot stat the log file";
		return -1;
	}
	if (st.st_uid != geteuid()) {
		*why = "the log file belongs to another user";
		return -1;
	}
	if ((size_t)st.st_size < TTFT_LOG_HDR_SIZE) {
		*why = "the file exists but is too small to be a ttftshim log";
		return -1;
	}
	void *m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		*why = "mmap of the log file failed";
		return -1;
	}
	struct ttft_log_hdr *h = m;
	/* Pairs with the release store of magic in create_new(): once we see
	 * the magic, the rest of the header is initialised. */
	uint64_t magic;
	__atomic_load((uint64_t *)(void *)h->magic, &magic, __ATOMIC_ACQUIRE);
	if (memcmp(&magic, TTFT_LOG_MAGIC, 8) != 0 ||
	    h->version != TTFT_LOG_VERSION || h->rec_size != TTFT_REC_SIZE ||
	    h->hdr_size != TTFT_LOG_HDR_SIZE ||
	    h->capacity > ((uint64_t)st.st_size - TTFT_LOG_HDR_SIZE) / TTFT_REC_SIZE) {
		munmap(m, (size_t)st.st_size);
		*why = "the file exists but is not a ttftshim log of this version";
		return -1;
	}
	log->hdr = h;
	log->recs = (struct ttft_rec *)((char *)m + TTFT_LOG_HDR_SIZE);
	log->map_size = (size_t)st.st_size;
	return 0;
}

/* Build a complete log in a private temporary file, then link() it into
 * place: other processes see either no file or a fully initialised one. */
static int create_new(const char *path, uint64_t cap_bytes, const char **why)
{
	/* "PATH.tmp.PID", without snprintf: this runs in the shim's
	 * constructor of every process. */
	static const char mid[] = ".tmp.";
	char tmp[4096], digits[24];
	size_t pl = strlen(path);
	size_t nd = ttft_fmt_uint(digits, (unsigned long long)getpid());
	if (pl + sizeof mid - 1 + nd >= sizeof tmp) {
		*why = "the log path is too long";
		return -1;
	}
	memcpy(tmp, path, pl);
	memcpy(tmp + pl, mid, sizeof mid - 1);
	memcpy(tmp + pl + sizeof mid - 1, digits, nd);
	tmp[pl + sizeof mid - 1 + nd] = 0;
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		*why = "cannot create the log file (is its directory writable?)";
		return -1;
	}
	uint64_t cap = cap_bytes / TTFT_REC_SIZE;
	if (cap < 16)
		cap = 16;
	size_t size = TTFT_LOG_HDR_SIZE + cap * TTFT_REC_SIZE;
	int rc = -1;
	void *m = MAP_FAILED;
	/* posix_fallocate, not ftruncate: a full tmpfs must fail here, at
	 * creation, rather than with SIGBUS in the middle of the program. */
	int fe = posix_fallocate(fd, 0, (off_t)size);
	if (fe != 0) {
		*why = fe == ENOSPC ? "no space for the log (TTFT_LOG_MB too large "
				      "for the filesystem?)"
				    : "cannot size the log file";
		goto out;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		*why = "mmap of the new log failed";
		goto out;
	}
	struct ttft_log_hdr *h = m;
	h->version = TTFT_LOG_VERSION;
	h->hdr_size = TTFT_LOG_HDR_SIZE;
	h->rec_size = TTFT_REC_SIZE;
	h->capacity = cap;
	int64_t m0 = ttft_clock_ns(CLOCK_MONOTONIC);
	int64_t r = ttft_clock_ns(CLOCK_REALTIME);
	int64_t m1 = ttft_clock_ns(CLOCK_MONOTONIC);
	h->anchor_mono_ns = m0 + (m1 - m0) / 2;
	h->anchor_real_ns = r;
	h->next_conn = 1;
	h->creator_pid = (int32_t)getpid();
	uint64_t magic;
	memcpy(&magic, TTFT_LOG_MAGIC, 8);
	/* Release: everything above is visible before the magic is. */
	__atomic_store((uint64_t *)(void *)h->magic, &magic, __ATOMIC_RELEASE);
	if (link(tmp, path) == 0) {
		rc = 0;
	} else if (errno == EEXIST) {
		rc = 1; /* another process won the race: use its file */
	} else {
		*why = "cannot link the new log into place";
	}
out:
	if (m != MAP_FAILED)
		munmap(m, size);
	unlink(tmp);
	raw_close(fd);
	return rc < 0 ? -1 : 0;
}

int ttft_log_open(struct ttft_log *log, const char *path, uint64_t cap_bytes,
		  const char **why)
{
	memset(log, 0, sizeof *log);
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0) {
			int rc = map_existing(log, fd, why);
			raw_close(fd);
			return rc;
		}
		if (errno != ENOENT) {
			*why = errno == ELOOP ? "the log path is a symbolic link"
					      : "cannot open the log file";
			return -1;
		}
		if (create_new(path, cap_bytes, why) != 0)
			return -1;
	}
	*why = "the log file vanished while it was being opened";
	return -1;
}

void ttft_log_close(struct ttft_log *log)
{
	if (log->hdr)
		munmap(log->hdr, log->map_size);
	memset(log, 0, sizeof *log);
}

struct ttft_rec *ttft_log_reserve(struct ttft_log *log)
{
	struct ttft_log_hdr *h = log->hdr;
	if (!h)
		return NULL;
	/* Relaxed: the counter only hands out distinct slots; what a slot
	 * holds is ordered by the seal's release store, not by this. */
	uint64_t i = __atomic_fetch_add(&h->reserved, 1, __ATOMIC_RELAXED);
	if (i >= h->capacity) {
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	return &log->recs[i];
}

void ttft_log_publish(struct ttft_rec *rec)
{
	uint32_t seal = ttft_rec_seal(rec);
	/* Release: the record's fields are visible before its seal. */
	__atomic_store_n(&rec->seal, seal, __ATOMIC_RELEASE);
}

uint64_t ttft_log_new_conn(struct ttft_log *log)
{
	if (!log->hdr)
		return 0;
	/* Relaxed: ids only need to be distinct. */
	return __atomic_fetch_add(&log->hdr->next_conn, 1, __ATOMIC_RELAXED);
}

const char *ttft_log_default_path(char *buf, size_t len)
{
	const char *env = getenv("TTFT_LOG");
	if (env && *env) {
		size_t n = strlen(env);
		if (n >= len)
			n = len - 1;
		memcpy(buf, env, n);
		buf[n] = 0;
		return buf;
	}
	/* No snprintf: this runs in the shim's constructor of every process. */
	static const char pre[] = "/dev/shm/ttftshim-", suf[] = ".log";
	char digits[16];
	int nd = 0;
	unsigned uid = (unsigned)getuid();
	do {
		digits[nd++] = (char)('0' + uid % 10);
		uid /= 10;
	} while (uid && nd < 15);
	if (len < sizeof pre + (size_t)nd + sizeof suf) {
		buf[0] = 0;
		return buf;
	}
	char *p = buf;
	memcpy(p, pre, sizeof pre - 1);
	p += sizeof pre - 1;
	while (nd)
		*p++ = digits[--nd];
	memcpy(p, suf, sizeof suf);
	return buf;
}
