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
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <unistd.h>

static void raw_close(int fd) { syscall(SYS_close, fd); }

/* The seal: a 64-bit check of the record's other 120 bytes, kept in seal
 * (low half, never 0, stored last) and seal_hi. Four lanes (for speed),
 * each a chain of steps h = rotl((h ^ w) * K, 31) over 64-bit words, every
 * step a bijection in h and in w (the rotation carries a change in the
 * high bits down, where the next multiply spreads it); the lanes are
 * xor'd. So a record that differs in any one 8-byte word (every damaged
 * byte, a half-written line) never has the same seal, and other damage
 * passes with odds of about 2^-64. The seal's own bytes count as zero.
 * ~60 instructions (log version 1's byte-wise 32-bit hash took ~250). */
static inline uint64_t rec_word(const struct ttft_rec *rec, size_t i)
{
	uint64_t w;
	memcpy(&w, (const char *)rec + 8 * i, sizeof w);
	return w;
}

static inline uint64_t seal_step(uint64_t h, uint64_t w)
{
	h = (h ^ w) * 0x9e3779b97f4a7c15ull;
	return h << 31 | h >> 33;
}

uint64_t ttft_rec_seal(const struct ttft_rec *rec)
{
	_Static_assert(offsetof(struct ttft_rec, seal) == 0 &&
		       offsetof(struct ttft_rec, seal_hi) == 60, "seal words");
	uint64_t w0 = rec_word(rec, 0) >> 32;        /* kind, flags */
	uint64_t w7 = rec_word(rec, 7) & 0xffffffffu; /* seq */
	uint64_t h0 = 1, h1 = 2, h2 = 3, h3 = 4;
	h0 = seal_step(h0, w0);
	h1 = seal_step(h1, rec_word(rec, 1));
	h2 = seal_step(h2, rec_word(rec, 2));
	h3 = seal_step(h3, rec_word(rec, 3));
	h0 = seal_step(h0, rec_word(rec, 4));
	h1 = seal_step(h1, rec_word(rec, 5));
	h2 = seal_step(h2, rec_word(rec, 6));
	h3 = seal_step(h3, w7);
#pragma GCC unroll 2
	for (size_t i = 8; i < TTFT_REC_SIZE / 8; i += 4) {
		h0 = seal_step(h0, rec_word(rec, i));
		h1 = seal_step(h1, rec_word(rec, i + 1));
		h2 = seal_step(h2, rec_word(rec, i + 2));
		h3 = seal_step(h3, rec_word(rec, i + 3));
	}
	uint64_t k = h0 ^ h1 ^ h2 ^ h3;
	if ((uint32_t)k == 0)
		k |= 1; /* 0 means "not yet published" */
	return k;
}

int ttft_rec_sealed(const struct ttft_rec *rec)
{
	uint64_t k = ttft_rec_seal(rec);
	return rec->seal == (uint32_t)k && rec->seal_hi == (uint32_t)(k >> 32);
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

/* What a merge of several hosts' logs needs to know about this clock:
 * how exactly the anchor pair was read, what the kernel says of the wall
 * clock's error (modes 0: adjtimex only reads), which host and boot. */
static void clock_info(struct ttft_log_hdr *h, int64_t read_gap_ns)
{
	struct timex tx;
	memset(&tx, 0, sizeof tx);
	int st = adjtimex(&tx);
	h->anchor_err_ns = read_gap_ns / 2 + 1;
	h->clock_flags = TTFT_CLOCK_INFO;
	h->clock_state = st;
	if (st < 0 || st == TIME_ERROR || (tx.status & STA_UNSYNC))
		h->clock_flags |= TTFT_CLOCK_UNSYNC;
	h->ntp_maxerror_us = tx.maxerror;
	h->ntp_esterror_us = tx.esterror;
	struct utsname u;
	if (uname(&u) == 0) {
		size_t n = strnlen(u.nodename, sizeof h->host - 1);
		memcpy(h->host, u.nodename, n);
	}
	/* raw syscalls: the shim's own read() would trace itself */
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/sys/kernel/random/boot_id",
			      O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = syscall(SYS_read, fd, h->boot_id, sizeof h->boot_id - 1);
		while (n > 0 && (h->boot_id[n - 1] == '\n' || h->boot_id[n - 1] == 0))
			h->boot_id[--n] = 0;
		raw_close(fd);
	}
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
	clock_info(h, m1 - m0);
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
	uint64_t k = ttft_rec_seal(rec);
	rec->seal_hi = (uint32_t)(k >> 32);
	uint32_t seal = (uint32_t)k;
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
