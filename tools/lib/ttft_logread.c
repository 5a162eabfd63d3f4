/* ttft_logread.c — see ttft_logread.h. */
#include "ttft_logread.h"
#include "ttft_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define WINDOW 8192u /* records read at once: 1 MiB */

int ttft_log_view_open(struct ttft_log_view *v, const char *path, char *err,
		       size_t errlen)
{
	memset(v, 0, sizeof *v);
	v->fd = -1;
	/* O_NONBLOCK: a FIFO at the path (mkfifo, a wrong path) is refused
	 * below as not a regular file instead of blocking the open until a
	 * writer comes, which stopped the exporter's thread, its /metrics and
	 * its stop with it; a regular file reads the same either way */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot open log '%s': %s (%s)", path,
			 strerror(e),
			 e == ENOENT ? "run the program under the shim first, "
				       "e.g. ttft-run -- CMD, or set TTFT_LOG"
			 : e == EACCES || e == EPERM
				? "logs are created mode 0600 by the user who "
				  "ran the program: read it as that user"
				: "check the path");
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "'%s' is not a regular file", path);
		close(fd);
		return -1;
	}
	struct ttft_log_hdr h;
	ssize_t got = pread(fd, &h, sizeof h, 0);
	if ((size_t)st.st_size < TTFT_LOG_HDR_SIZE || got != (ssize_t)sizeof h) {
		snprintf(err, errlen,
			 "'%s' is too small to be a ttftshim log (%lld bytes; "
			 "a log is at least %u)", path, (long long)st.st_size,
			 TTFT_LOG_HDR_SIZE);
		close(fd);
		return -1;
	}
	if (memcmp(h.magic, TTFT_LOG_MAGIC, 8) != 0) {
		snprintf(err, errlen,
			 "'%s' is not a ttftshim log (bad magic); pass the "
			 "file named by TTFT_LOG", path);
		close(fd);
		return -1;
	}
	/* Version 2 differs in the seal, 2 and 3 in records version 4
	 * added (docs/log-format.md): the tools read all three. */
	if (h.version < 2 || h.version > TTFT_LOG_VERSION ||
	    h.rec_size != TTFT_REC_SIZE || h.hdr_size != TTFT_LOG_HDR_SIZE) {
		snprintf(err, errlen,
			 "'%s' is a ttftshim log of version %u (record %u "
			 "bytes); this tool reads versions 2 to %u: use the "
			 "tools of the same build as the shim", path, h.version,
			 h.rec_size, TTFT_LOG_VERSION);
		close(fd);
		return -1;
	}
	v->buf = malloc(TTFT_LOG_HDR_SIZE + (size_t)WINDOW * TTFT_REC_SIZE);
	if (!v->buf) {
		snprintf(err, errlen, "out of memory reading '%s'", path);
		close(fd);
		return -1;
	}
	memcpy(v->buf, &h, sizeof h);
	uint64_t fits = ((uint64_t)st.st_size - TTFT_LOG_HDR_SIZE) / TTFT_REC_SIZE;
	v->claimed = h.reserved < h.capacity ? h.reserved : h.capacity;
	v->n_slots = v->claimed;
	if (v->n_slots > fits) {
		/* A truncated copy of a log: read what is there, say so. */
		v->truncated = 1;
		v->n_slots = fits;
	}
	v->fd = fd;
	v->seal_v2 = h.version == 2;
	v->hdr = (const struct ttft_log_hdr *)v->buf;
	v->dropped = h.dropped;
	v->unwritable = h.unwritable;
	/* a writer counts unwritable, then dropped: a header read between
	 * the two (or a damaged one) holds more unwritable than dropped,
	 * every one of which was dropped */
	if (v->dropped < v->unwritable)
		v->dropped = v->unwritable;
	return 0;
}

void ttft_log_view_close(struct ttft_log_view *v)
{
	ttft_log_view_unmap(v);
	if (v->fd >= 0)
		close(v->fd);
	free(v->buf);
	memset(v, 0, sizeof *v);
	v->fd = -1;
}

int ttft_log_view_refresh(struct ttft_log_view *v)
{
	struct ttft_log_hdr h;
	struct stat st;
	ssize_t got;
	do
		got = pread(v->fd, &h, sizeof h, 0);
	while (got < 0 && errno == EINTR);
	if (got < 0 || fstat(v->fd, &st) != 0)
		return -1;
	if (got != (ssize_t)sizeof h) {
		/* emptied or cut under its writers (`: > run.log`): the state a
		 * short file reads as, not a failure (its errno was stale) */
		v->truncated = 1;
		return 0;
	}
	struct ttft_log_hdr *mine = (struct ttft_log_hdr *)v->buf;
	/* another log's header in the same file: what follows is not this
	 * log's (a review found a copy's records read on as its own) */
	if (v->rewritten || h.anchor_mono_ns != mine->anchor_mono_ns ||
	    h.anchor_real_ns != mine->anchor_real_ns ||
	    memcmp(h.boot_id, mine->boot_id, sizeof h.boot_id) != 0) {
		v->rewritten = 1;
		return 0;
	}
	uint64_t fits = st.st_size > TTFT_LOG_HDR_SIZE
		      ? ((uint64_t)st.st_size - TTFT_LOG_HDR_SIZE) / TTFT_REC_SIZE : 0;
	/* the last record taken, where the file holds its slot: still there,
	 * or the file holds other records under the same header (emptied and
	 * refilled from an older copy: a follower that read on would wait at
	 * its cursor while the writers write below it, a review found) */
	if (v->witness_seal && v->witness_slot < fits) {
		struct ttft_rec r;
		do
			got = pread(v->fd, &r, sizeof r,
				    (off_t)(TTFT_LOG_HDR_SIZE + v->witness_slot * TTFT_REC_SIZE));
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return -1;
		if (got != (ssize_t)sizeof r) { /* cut meanwhile */
			v->truncated = 1;
			return 0;
		}
		if (((uint64_t)r.seal | (uint64_t)r.seal_hi << 32) != v->witness_seal) {
			v->rewritten = 1;
			return 0;
		}
	}
	/* only the counters move; the rest was validated at open */
	if (h.reserved > mine->reserved)
		mine->reserved = h.reserved;
	if (h.dropped > mine->dropped)
		mine->dropped = h.dropped;
	if (h.next_conn > mine->next_conn)
		mine->next_conn = h.next_conn;
	/* the zeros of segments not allocated: without it a follower counted
	 * them unpublished as well as dropped (a review found) */
	if (h.unwritable > mine->unwritable)
		mine->unwritable = h.unwritable;
	uint64_t claimed = mine->reserved < mine->capacity ? mine->reserved : mine->capacity;
	if (claimed > v->claimed)
		v->claimed = claimed;
	uint64_t n = v->claimed;
	if (n > fits) {
		v->truncated = 1;
		n = fits;
	} else if (v->truncated) {
		/* whole again, the same log (its header, the witness): a
		 * follower reads on; the flag never cleared kept one down for
		 * good, a review found (what was lost meanwhile: slots it no
		 * longer holds read as zeros, counted; the writers that wrote
		 * into the cut file stopped writing, each says so at exit) */
		v->truncated = 0;
		v->refills++;
	}
	if (n > v->n_slots)
		v->n_slots = n;
	v->dropped = mine->dropped > mine->unwritable ? mine->dropped : mine->unwritable;
	v->unwritable = mine->unwritable;
	return 0;
}

void ttft_log_view_restart(struct ttft_log_view *v)
{
	v->unpublished = v->corrupt = v->zeros_explained = 0;
	v->nholes = 0;
	v->hole_t0 = 0;
	v->hole_open = 0;
}

int ttft_log_view_map(struct ttft_log_view *v)
{
	if (v->map)
		return 0;
	if (v->no_map || v->n_slots == 0 || v->n_slots > SIZE_MAX / TTFT_REC_SIZE - 1)
		return -1;
	/* The header's page is mapped too (offsets must be page-aligned);
	 * the records start right after it. */
	size_t len = TTFT_LOG_HDR_SIZE + (size_t)v->n_slots * TTFT_REC_SIZE;
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, v->fd, 0);
	if (m == MAP_FAILED)
		return -1;
	madvise(m, len, MADV_SEQUENTIAL);
	v->map = (const struct ttft_rec *)((const char *)m + TTFT_LOG_HDR_SIZE);
	v->map_len = len;
	return 0;
}

void ttft_log_view_unmap_range(struct ttft_log_view *v, uint64_t from, uint64_t to)
{
	if (!v->map || to <= from)
		return;
	/* whole pages inside the range only: a neighbour's slots stay */
	long page = sysconf(_SC_PAGESIZE);
	if (page <= 0)
		page = 4096;
	uintptr_t a = (uintptr_t)(v->map + from), b = (uintptr_t)(v->map + to);
	a = (a + (uintptr_t)page - 1) & ~(uintptr_t)(page - 1);
	b &= ~(uintptr_t)(page - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

void ttft_log_view_unmap(struct ttft_log_view *v)
{
	if (v->map)
		munmap((char *)v->map - TTFT_LOG_HDR_SIZE, v->map_len);
	v->map = NULL;
	v->map_len = 0;
}

size_t ttft_log_view_read(struct ttft_log_view *v, uint64_t i, struct ttft_rec *out,
			  size_t n)
{
	if (i >= v->n_slots)
		return 0;
	if (n > v->n_slots - i)
		n = (size_t)(v->n_slots - i);
	char *dst = (char *)out;
	size_t size = n * TTFT_REC_SIZE, off = 0;
	off_t at = (off_t)(TTFT_LOG_HDR_SIZE + i * TTFT_REC_SIZE);
	while (off < size) {
		ssize_t r = pread(v->fd, dst + off, size - off, at + (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	size_t got = off / TTFT_REC_SIZE;
	if (got < n) {
		/* the file shrank under us: what is gone is gone */
		v->truncated = 1;
		v->n_slots = i + got;
	}
	return got;
}

void ttft_log_view_hole_zero(struct ttft_log_view *v)
{
	v->hole_open = 1;
}

void ttft_log_view_hole_rec(struct ttft_log_view *v, int64_t t)
{
	if (v->hole_open) { /* records after lost ones: a hole */
		/* Slot order is not quite time order (a writer reads the
		 * clock before it takes its slot): the two records' times
		 * either way, widened by TTFT_LOG_HOLE_SLACK_NS. */
		int64_t lo = v->hole_t0 < t ? v->hole_t0 : t, hi = v->hole_t0 < t ? t : v->hole_t0;
		lo = lo > TTFT_LOG_HOLE_SLACK_NS ? lo - TTFT_LOG_HOLE_SLACK_NS : 0;
		hi += TTFT_LOG_HOLE_SLACK_NS;
		if (!v->hole_t0)
			lo = 0; /* no record before it: from the log's start */
		if (v->nholes < TTFT_LOG_HOLES) {
			v->holes[v->nholes][0] = lo;
			v->holes[v->nholes][1] = hi;
			v->nholes++;
		} else { /* stretched over what lies between */
			if (lo < v->holes[TTFT_LOG_HOLES - 1][0])
				v->holes[TTFT_LOG_HOLES - 1][0] = lo;
			if (hi > v->holes[TTFT_LOG_HOLES - 1][1])
				v->holes[TTFT_LOG_HOLES - 1][1] = hi;
		}
		v->hole_open = 0;
	}
	v->hole_t0 = t;
}

/* What the check found, counted: 1 intact; else 0. */
static int verdict(struct ttft_log_view *v, const struct ttft_rec *rec, int sealed)
{
	if (rec->seal == 0) {
		/* Zero slots are first those the writers said they could not
		 * allocate; only the rest are records still in flight. */
		if (v->zeros_explained < v->unwritable) {
			v->zeros_explained++;
			if (!v->holes_by_loop)
				ttft_log_view_hole_zero(v);
		} else {
			v->unpublished++;
		}
		return 0;
	}
	if (!sealed || rec->kind == TTFT_EV_NONE || rec->kind >= TTFT_EV__COUNT) {
		v->corrupt++;
		return 0;
	}
	if (!v->holes_by_loop)
		ttft_log_view_hole_rec(v, rec->t_ns);
	return 1;
}

int ttft_log_view_check(struct ttft_log_view *v, const struct ttft_rec *rec)
{
	return verdict(v, rec, rec->seal != 0 && (v->seal_v2 ? ttft_rec_sealed_as(2, rec)
								: ttft_rec_sealed(rec)));
}

int ttft_log_view_take(struct ttft_log_view *v, struct ttft_rec *dst, const struct ttft_rec *src)
{
	/* Relaxed: every thread picks the same function for a version; a
	 * race only picks it twice. [0]: versions 3 and 4, [1]: version 2. */
	static ttft_seal_take_fn take[2];
	int old = v->seal_v2 != 0;
	ttft_seal_take_fn t = __atomic_load_n(&take[old], __ATOMIC_RELAXED);
	if (__builtin_expect(!t, 0)) {
		t = ttft_seal_take_for(old ? 2 : TTFT_LOG_VERSION);
		__atomic_store_n(&take[old], t, __ATOMIC_RELAXED);
	}
	int sealed = t(dst, src);
	return verdict(v, dst, dst->seal != 0 && sealed);
}

int ttft_log_view_get(struct ttft_log_view *v, uint64_t i, struct ttft_rec *out)
{
	if (i >= v->n_slots)
		return 0;
	if (i < v->win0 || i >= v->win0 + v->nwin) {
		v->win0 = i;
		v->nwin = ttft_log_view_read(v, i, (struct ttft_rec *)(v->buf + TTFT_LOG_HDR_SIZE),
					     WINDOW);
		if (i >= v->n_slots)
			return 0;
	}
	memcpy(out, v->buf + TTFT_LOG_HDR_SIZE + (i - v->win0) * TTFT_REC_SIZE, sizeof *out);
	return ttft_log_view_check(v, out);
}

const char *ttft_kind_name(unsigned kind)
{
	static const char *const names[TTFT_EV__COUNT] = {
		[TTFT_EV_NONE] = "none",
		[TTFT_EV_CONNECT_BEGIN] = "connect_begin",
		[TTFT_EV_CONNECT_END] = "connect_end",
		[TTFT_EV_ESTABLISHED] = "established",
		[TTFT_EV_REQ_BEGIN] = "req_begin",
		[TTFT_EV_REQ_SENT] = "req_sent",
		[TTFT_EV_RESP_HEADERS] = "resp_headers",
		[TTFT_EV_SSE_TOKEN] = "sse_token",
		[TTFT_EV_SSE_EMPTY] = "sse_empty",
		[TTFT_EV_SSE_DONE] = "sse_done",
		[TTFT_EV_SSE_ERROR] = "sse_error",
		[TTFT_EV_RESP_END] = "resp_end",
		[TTFT_EV_CLOSE] = "close",
		[TTFT_EV_IO_ERROR] = "io_error",
		[TTFT_EV_DNS_BEGIN] = "dns_begin",
		[TTFT_EV_DNS_END] = "dns_end",
		[TTFT_EV_DESYNC] = "desync",
		[TTFT_EV_MARK] = "mark",
		[TTFT_EV_METRIC] = "metric",
		[TTFT_EV_SCRAPE] = "scrape",
		[TTFT_EV_TLS] = "tls",
		[TTFT_EV_TLS_WIRE] = "tls_wire",
		[TTFT_EV_SERVER_NUMBERS] = "server_numbers",
		[TTFT_EV_TRACEPARENT] = "traceparent",
		[TTFT_EV_INHERIT] = "inherit",
		[TTFT_EV_RESP_INTERIM] = "resp_interim",
		[TTFT_EV_AIO] = "aio",
	};
	return kind < TTFT_EV__COUNT ? names[kind] : "unknown";
}
