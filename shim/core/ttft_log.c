/* ttft_log.c — create/open the shared-memory log and append records (the
 * reader is tools/lib/ttft_logread.c).
 *
 * This file is linked into the shim (which runs inside other programs) and
 * into the tools. It therefore uses no stdio, takes no lock and allocates
 * nothing; it opens and closes its own fds with raw syscalls so that it
 * never goes through the shim's interposed open() and close().
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels say EINVAL */
#endif

/* The writer's file calls are raw syscalls: inside the shim, open() and
 * close() are the shim's own wrappers. */
static int raw_open(const char *path, int flags, mode_t mode)
{
	return (int)syscall(SYS_openat, AT_FDCWD, path, flags, mode);
}

static void raw_close(int fd) { syscall(SYS_close, fd); }

/* Records per segment: 1 MiB of them, more for logs of 1 GiB or more
 * (TTFT_LOG_MB/512 MiB: fewer than TTFT_LOG_MAX_SEGS segments always cover
 * the capacity). */
static unsigned seg_shift_for(uint64_t capacity)
{
	unsigned shift = 13; /* 8192 records = 1 MiB */
	while ((capacity >> shift) >= TTFT_LOG_MAX_SEGS)
		shift++;
	return shift;
}

/* Records per chunk: 512 (64 KiB) while TTFT_LOG_MAX_CHUNKS of them
 * cover the capacity (logs up to 64 MiB), else the power of two that
 * does; never more than a segment, so a chunk lies in one. */
static unsigned chunk_shift_for(uint64_t capacity, unsigned seg_shift)
{
	unsigned shift = TTFT_LOG_MIN_CHUNK_SHIFT;
	while (shift < seg_shift && ((capacity - 1) >> shift) >= TTFT_LOG_MAX_CHUNKS)
		shift++;
	return shift;
}

static uint64_t ns_ino(const char *link);
static int timens_mono(int64_t *ns, uint64_t *ino);

/* Was h's log made in a time namespace whose CLOCK_MONOTONIC is not this
 * process's? One readlink when it is this one's; an older log, or a
 * namespace not known here, is taken as this one's (as ever). */
static int other_clock(const struct ttft_log_hdr *h)
{
	if (!(h->clock_flags & TTFT_CLOCK_TIMENS))
		return 0;
	uint64_t mine = ns_ino("/proc/self/ns/time");
	if (!mine || mine == h->timens_ino)
		return 0;
	int64_t off;
	return timens_mono(&off, &mine) == 0 && off != h->timens_mono_ns;
}

static int map_header(struct ttft_log *log, int fd, const char **why)
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
	void *m = mmap(NULL, TTFT_LOG_HDR_SIZE, PROT_READ | PROT_WRITE,
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
	uint64_t cap = h->capacity;
	if (memcmp(&magic, TTFT_LOG_MAGIC, 8) != 0 ||
	    h->version != TTFT_LOG_VERSION || h->rec_size != TTFT_REC_SIZE ||
	    h->hdr_size != TTFT_LOG_HDR_SIZE || cap == 0 ||
	    cap > ((uint64_t)st.st_size - TTFT_LOG_HDR_SIZE) / TTFT_REC_SIZE) {
		munmap(m, TTFT_LOG_HDR_SIZE);
		*why = "the file exists but is not a ttftshim log of this version";
		return -1;
	}
	if (other_clock(h)) {
		munmap(m, TTFT_LOG_HDR_SIZE);
		*why = "the log was made in another time namespace, whose CLOCK_MONOTONIC "
		       "differs from this process's: its times would not be the log's "
		       "(give this namespace its own log)";
		return -1;
	}
	log->hdr = h;
	log->slots = log->capacity = cap;
	log->seg_shift = seg_shift_for(cap);
	log->seg_mask = ((uint64_t)1 << log->seg_shift) - 1;
	log->chunk_shift = chunk_shift_for(cap, log->seg_shift);
	log->chunk_mask = ((uint64_t)1 << log->chunk_shift) - 1;
	log->dev = (uint64_t)st.st_dev;
	log->ino = (uint64_t)st.st_ino;
	return 0;
}

/* The inode of a /proc/self/ns link ("time:[4026531834]"), 0: none (no
 * time namespaces in this kernel, no /proc). */
static uint64_t ns_ino(const char *link)
{
	char b[64];
	ssize_t n = syscall(SYS_readlinkat, AT_FDCWD, link, b, sizeof b - 1);
	if (n <= 0)
		return 0;
	b[n] = 0;
	const char *p = strchr(b, '[');
	if (!p)
		return 0;
	uint64_t v = 0;
	for (p++; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	return *p == ']' ? v : 0;
}

/* The CLOCK_MONOTONIC offset of this process's time namespace, from
 * /proc/self/timens_offsets ("monotonic <s> <ns>", Linux 5.6+), and that
 * namespace's inode: 0 and *ns, *ino set, -1 when not known (no time
 * namespaces, no /proc; or between an unshare(CLONE_NEWTIME) and the
 * next exec or fork, where the file shows the children's namespace, not
 * this process's). Raw syscalls, no stdio: the shim's own. */
static int timens_mono(int64_t *ns, uint64_t *ino)
{
	*ino = ns_ino("/proc/self/ns/time");
	if (!*ino || ns_ino("/proc/self/ns/time_for_children") != *ino)
		return -1;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/timens_offsets",
			      O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char b[256];
	ssize_t n = syscall(SYS_read, fd, b, sizeof b - 1);
	raw_close(fd);
	if (n <= 0)
		return -1;
	b[n] = 0;
	static const char key[] = "monotonic";
	for (char *line = b; *line;) {
		if (!strncmp(line, key, sizeof key - 1) &&
		    (line[sizeof key - 1] == ' ' || line[sizeof key - 1] == '\t')) {
			char *p = line + sizeof key - 1;
			int64_t v[2];
			for (int k = 0; k < 2; k++) {
				while (*p == ' ' || *p == '\t')
					p++;
				int neg = *p == '-';
				p += neg;
				if (*p < '0' || *p > '9')
					return -1;
				int64_t x = 0;
				while (*p >= '0' && *p <= '9') {
					if (x > (INT64_MAX - 9) / 10)
						return -1;
					x = x * 10 + (*p++ - '0');
				}
				v[k] = neg ? -x : x;
			}
			if (v[0] > INT64_MAX / 1000000000 - 1 || v[0] < INT64_MIN / 1000000000 + 1)
				return -1;
			*ns = v[0] * 1000000000 + v[1];
			return 0;
		}
		char *nl = strchr(line, '\n');
		if (!nl)
			break;
		line = nl + 1;
	}
	return -1;
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
	if (timens_mono(&h->timens_mono_ns, &h->timens_ino) == 0)
		h->clock_flags |= TTFT_CLOCK_TIMENS;
	else
		h->timens_mono_ns = 0, h->timens_ino = 0;
}

/* Build a complete log in a private temporary file, then link() it into
 * place: other processes see either no file or a fully initialised one.
 * The record space is sized but not allocated: writers allocate each
 * segment before they map it. */
static int create_new(struct ttft_log *log, const char *path,
		      uint64_t cap_bytes, const char **why)
{
	/* "PATH.tmp.PID", without snprintf: this runs in the shim's
	 * constructor of every process. */
	static const char mid[] = ".tmp.";
	char tmp[TTFT_LOG_PATH_MAX + 32], digits[24];
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
	int fd = raw_open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
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
	/* A file grown past the process's file size limit (ulimit -f)
	 * raises SIGXFSZ, whose default action ends it: the host would die
	 * before its main. No log then (segments stay inside this size, so
	 * only its creation can cross the limit). */
	struct rlimit fl;
	if (getrlimit(RLIMIT_FSIZE, &fl) == 0 && fl.rlim_cur != RLIM_INFINITY &&
	    fl.rlim_cur < size) {
		errno = EFBIG;
		*why = "the file size limit (ulimit -f) is below the log's size: "
		       "raise it, or set TTFT_LOG_MB below it";
		goto out;
	}
	/* The header page is allocated now, so that writing it can never
	 * fault on a full filesystem; the rest only gets a size. */
	int fe = posix_fallocate(fd, 0, TTFT_LOG_HDR_SIZE);
	if (fe != 0 || ftruncate(fd, (off_t)size) != 0) {
		*why = fe == ENOSPC ? "no space for the log's header (the "
				      "filesystem is full)"
				    : "cannot size the log file (TTFT_LOG_MB too "
				      "large for the filesystem?)";
		goto out;
	}
	struct statvfs vfs;
	if (fstatvfs(fd, &vfs) == 0 &&
	    !ttft_log_room_ok((uint64_t)vfs.f_bavail * vfs.f_frsize,
			      (uint64_t)vfs.f_blocks * vfs.f_frsize,
			      size - TTFT_LOG_HDR_SIZE))
		log->warning = "the filesystem has less free space than the log "
			       "may grow to, and the log leaves a quarter of it "
			       "(1 GiB at most) free for the programs; events "
			       "that do not fit are counted as dropped";
	else if (seg_shift_for(cap) > 13)
		log->warning = "a log of 1 GiB or more grows in segments of "
			       "TTFT_LOG_MB/512 MiB, and every traced process "
			       "maps at least one (128 MiB at 65536): under a "
			       "tight ulimit -v, keep TTFT_LOG_MB under 1024";
	m = mmap(NULL, TTFT_LOG_HDR_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
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
		munmap(m, TTFT_LOG_HDR_SIZE);
	unlink(tmp);
	raw_close(fd);
	return rc < 0 ? -1 : 0;
}

int ttft_log_open(struct ttft_log *log, const char *path, uint64_t cap_bytes,
		  const char **why)
{
	memset(log, 0, sizeof *log);
	return ttft_log_open_zeroed(log, path, cap_bytes, why);
}

int ttft_log_open_zeroed(struct ttft_log *log, const char *path,
			 uint64_t cap_bytes, const char **why)
{
	size_t plen = strlen(path);
	if (plen == 0 || plen >= sizeof log->path) {
		*why = "the log path is empty or too long";
		return -1;
	}
	memcpy(log->path, path, plen + 1);
	for (int attempt = 0; attempt < 2; attempt++) {
		/* Only a regular file is ever opened: opening a terminal would
		 * give a session leader its controlling terminal, a FIFO would
		 * release a writer blocked on it, a device may block or act. */
		struct stat st;
		if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(st.st_mode)) {
			*why = S_ISLNK(st.st_mode) ? "the log path is a symbolic link"
						   : "the log path is not a regular file";
			return -1;
		}
		int fd = raw_open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
					O_NOCTTY | O_NONBLOCK, 0);
		if (fd >= 0) {
			int rc = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)
					 ? (*why = "the log path is not a regular file", -1)
					 : map_header(log, fd, why);
			raw_close(fd);
			return rc;
		}
		if (errno != ENOENT) {
			*why = errno == ELOOP ? "the log path is a symbolic link"
					      : "cannot open the log file";
			return -1;
		}
		if (create_new(log, path, cap_bytes, why) != 0)
			return -1;
	}
	*why = "the log file vanished while it was being opened";
	return -1;
}

static size_t seg_bytes(const struct ttft_log *log, size_t s)
{
	uint64_t per = (uint64_t)1 << log->seg_shift;
	uint64_t first = (uint64_t)s << log->seg_shift;
	uint64_t n = log->slots - first < per ? log->slots - first : per;
	return (size_t)(n * TTFT_REC_SIZE);
}

void ttft_log_close(struct ttft_log *log)
{
	if (log->hdr) {
		for (size_t s = 0; s < TTFT_LOG_MAX_SEGS; s++)
			if (log->segs[s] && log->segs[s] != TTFT_LOG_SEG_FAILED)
				munmap(log->segs[s], seg_bytes(log, s));
		munmap(log->hdr, TTFT_LOG_HDR_SIZE);
	}
	memset(log, 0, sizeof *log);
}

/* Would allocating [off, off + len) of the log leave its filesystem the
 * free space it keeps for others (a quarter, at most 1 GiB)? The log
 * shares it with the host (/dev/shm: the host's own shared memory,
 * Docker's 64 MiB), so it never takes that last part (docs/log-format.md). A range already allocated (another process mapped
 * it first: no hole in it) takes nothing more. */
static int leaves_room(int fd, off_t off, size_t len)
{
	off_t hole = lseek(fd, off, SEEK_HOLE);
	if (hole >= off + (off_t)len)
		return 1;
	struct statvfs vfs;
	if (fstatvfs(fd, &vfs) != 0 || vfs.f_blocks == 0)
		return 1; /* nothing known: as before */
	uint64_t bs = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
	return ttft_log_room_ok((uint64_t)vfs.f_bavail * bs,
				(uint64_t)vfs.f_blocks * bs, len);
}

/* Allocate [off, off + len) of the log's file: 0, or -1 with errno (a
 * filesystem that cannot allocate, EOPNOTSUPP, is the caller's to let
 * pass). In 64 KiB pieces, each tried again when a signal interrupts it:
 * tmpfs gives a whole call up, and undoes it, at a pending signal, so a
 * host whose interval timer fires every 100 µs had a 1 MiB call fail
 * nearly every time and the segment's 8,192 records dropped (a review);
 * a piece is ~16 pages, what is done stays done, and a call that is
 * interrupted 64 times in a row fails as before. */
static int alloc_range(int fd, off_t off, size_t len)
{
	const size_t piece = 64 << 10;
	for (size_t done = 0; done < len;) {
		size_t n = len - done < piece ? len - done : piece;
		int r, tries = 0;
		while ((r = fallocate(fd, 0, off + (off_t)done, (off_t)n)) != 0 &&
		       errno == EINTR && ++tries < 64)
			;
		if (r != 0)
			return -1;
		done += n;
	}
	return 0;
}

/* Map segment s of the file we opened (never of a file that replaced it
 * under the same path), allocating its pages first. Several threads may
 * race here: one mapping wins, the others are undone. */
__attribute__((noinline, cold)) static struct ttft_rec *
map_segment(struct ttft_log *log, size_t s)
{
	struct ttft_rec *got = NULL;
	size_t len = seg_bytes(log, s);
	off_t off = (off_t)TTFT_LOG_HDR_SIZE + ((off_t)s << log->seg_shift) *
					       (off_t)TTFT_REC_SIZE;
	int e = errno;
	int fd = raw_open(log->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
					     O_NONBLOCK, 0);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_dev != log->dev ||
	    (uint64_t)st.st_ino != log->ino || st.st_size < off + (off_t)len ||
	    !leaves_room(fd, off, len) ||
	    /* tmpfs and ext4 allocate; a filesystem that cannot just maps */
	    (alloc_range(fd, off, len) != 0 && errno != EOPNOTSUPP)) {
		got = TTFT_LOG_SEG_FAILED;
	} else {
		void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       fd, off);
		got = m == MAP_FAILED ? TTFT_LOG_SEG_FAILED : m;
	}
	if (fd >= 0)
		raw_close(fd);
	errno = e;
	struct ttft_rec *expect = NULL;
	/* Acq_rel: publishes the new mapping to other threads' acquire loads
	 * in ttft_log_reserve; on failure, acquires the winner's. */
	if (!__atomic_compare_exchange_n(&log->segs[s], &expect, got, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		if (got != TTFT_LOG_SEG_FAILED)
			munmap(got, len);
		return expect;
	}
	return got;
}

struct ttft_rec *ttft_log_slot_cold(struct ttft_log *log, uint64_t i)
{
	struct ttft_log_hdr *h = log->hdr;
	if (i >= __atomic_load_n(&log->capacity, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	size_t s = (size_t)(i >> log->seg_shift);
	/* Acquire: pairs with the CAS in map_segment. */
	struct ttft_rec *seg = __atomic_load_n(&log->segs[s], __ATOMIC_ACQUIRE);
	if (seg == NULL)
		seg = map_segment(log, s);
	if (seg == TTFT_LOG_SEG_FAILED) {
		__atomic_fetch_add(&h->unwritable, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&h->dropped, 1, __ATOMIC_RELAXED);
		return NULL;
	}
	/* The chunk's pages, mapped in one call rather than by a fault every
	 * 32 records: kernels before 5.14 refuse (EINVAL), a cut file
	 * fails without a signal (EFAULT), and either way the writes then
	 * fault as they always did. Threads that race here populate the same
	 * pages and publish the same pointer. */
	size_t c = (size_t)(i >> log->chunk_shift);
	uint64_t first = (uint64_t)c << log->chunk_shift;
	struct ttft_rec *cp = &seg[first & log->seg_mask];
	uint64_t n = log->slots - first < log->chunk_mask + 1 ? log->slots - first
							     : log->chunk_mask + 1;
	int e = errno;
	madvise(cp, (size_t)(n * TTFT_REC_SIZE), MADV_POPULATE_WRITE);
	errno = e;
	/* Release: the segment's mapping (acquired above) before the
	 * pointer into it, for the fast path's acquire load. */
	__atomic_store_n(&log->chunks[c], cp, __ATOMIC_RELEASE);
	return &cp[i & log->chunk_mask];
}

struct ttft_rec *ttft_log_reserve(struct ttft_log *log)
{
	return ttft_log_reserve_inline(log);
}

void ttft_log_publish(struct ttft_rec *rec)
{
	ttft_log_publish_inline(rec);
}

uint64_t ttft_log_new_conn(struct ttft_log *log)
{
	if (!log->hdr || __atomic_load_n(&log->detached, __ATOMIC_RELAXED))
		return 0;
	/* Relaxed: ids only need to be distinct. 0 means "no connection":
	 * never handed out, even from a header whose counter was damaged to
	 * 0 (every record of the connection would have said none). */
	uint64_t id = __atomic_fetch_add(&log->hdr->next_conn, 1, __ATOMIC_RELAXED);
	if (id == 0)
		id = __atomic_fetch_add(&log->hdr->next_conn, 1, __ATOMIC_RELAXED);
	return id;
}

static int inside(const void *addr, const void *base, size_t len)
{
	const char *a = addr, *b = base;
	return a >= b && a < b + len;
}

static void *anon_over(void *base, size_t len)
{
	return mmap(base, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
}

uint64_t ttft_log_lost(const struct ttft_log *log)
{
	if (!log->hdr || !__atomic_load_n(&log->detached, __ATOMIC_RELAXED))
		return 0;
	return __atomic_load_n(&log->hdr->dropped, __ATOMIC_RELAXED);
}

int ttft_log_fault(struct ttft_log *log, const void *addr)
{
	if (!log->hdr)
		return 0;
	int ours = inside(addr, log->hdr, TTFT_LOG_HDR_SIZE);
	for (size_t s = 0; !ours && s < TTFT_LOG_MAX_SEGS; s++) {
		struct ttft_rec *seg = __atomic_load_n(&log->segs[s], __ATOMIC_ACQUIRE);
		ours = seg && seg != TTFT_LOG_SEG_FAILED &&
		       inside(addr, seg, seg_bytes(log, s));
	}
	if (!ours)
		return 0;
	/* Relaxed: writers that miss it write into the anonymous pages. */
	__atomic_store_n(&log->detached, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&log->capacity, 0, __ATOMIC_RELAXED);
	int e = errno;
	anon_over(log->hdr, TTFT_LOG_HDR_SIZE);
	for (size_t s = 0; s < TTFT_LOG_MAX_SEGS; s++) {
		struct ttft_rec *seg = __atomic_load_n(&log->segs[s], __ATOMIC_ACQUIRE);
		if (seg && seg != TTFT_LOG_SEG_FAILED)
			anon_over(seg, seg_bytes(log, s));
	}
	errno = e;
	return 1;
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
