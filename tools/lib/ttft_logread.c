/* ttft_logread.c — see ttft_logread.h. */
#include "ttft_logread.h"

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
	int fd = open(path, O_RDONLY | O_CLOEXEC);
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
	if (h.version != TTFT_LOG_VERSION || h.rec_size != TTFT_REC_SIZE ||
	    h.hdr_size != TTFT_LOG_HDR_SIZE) {
		snprintf(err, errlen,
			 "'%s' is a ttftshim log of version %u (record %u "
			 "bytes); this tool reads version %u: use the tools "
			 "of the same build as the shim", path, h.version,
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
	v->hdr = (const struct ttft_log_hdr *)v->buf;
	v->dropped = h.dropped;
	v->unwritable = h.unwritable;
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
	if (pread(v->fd, &h, sizeof h, 0) != (ssize_t)sizeof h || fstat(v->fd, &st) != 0)
		return -1;
	struct ttft_log_hdr *mine = (struct ttft_log_hdr *)v->buf;
	/* only the counters move; the rest was validated at open */
	if (h.reserved > mine->reserved)
		mine->reserved = h.reserved;
	if (h.dropped > mine->dropped)
		mine->dropped = h.dropped;
	if (h.next_conn > mine->next_conn)
		mine->next_conn = h.next_conn;
	uint64_t fits = st.st_size > TTFT_LOG_HDR_SIZE
		      ? ((uint64_t)st.st_size - TTFT_LOG_HDR_SIZE) / TTFT_REC_SIZE : 0;
	uint64_t claimed = mine->reserved < mine->capacity ? mine->reserved : mine->capacity;
	if (claimed > v->claimed)
		v->claimed = claimed;
	uint64_t n = v->claimed;
	if (n > fits) {
		v->truncated = 1;
		n = fits;
	}
	if (n > v->n_slots)
		v->n_slots = n;
	v->dropped = mine->dropped;
	return 0;
}

void ttft_log_view_restart(struct ttft_log_view *v)
{
	v->unpublished = v->corrupt = v->zeros_explained = 0;
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

/* What the check found, counted: 1 intact; else 0. */
static int verdict(struct ttft_log_view *v, const struct ttft_rec *rec, int sealed)
{
	if (rec->seal == 0) {
		/* Zero slots are first those the writers said they could not
		 * allocate; only the rest are records still in flight. */
		if (v->zeros_explained < v->unwritable)
			v->zeros_explained++;
		else
			v->unpublished++;
		return 0;
	}
	if (!sealed || rec->kind == TTFT_EV_NONE || rec->kind >= TTFT_EV__COUNT) {
		v->corrupt++;
		return 0;
	}
	return 1;
}

int ttft_log_view_check(struct ttft_log_view *v, const struct ttft_rec *rec)
{
	return verdict(v, rec, rec->seal != 0 && ttft_rec_sealed(rec));
}

/* The copy and the seal in one pass over the record's 16 words: the seal's
 * four lanes are the four 64-bit lanes of a 256-bit vector (lane j takes
 * words j, j + 4, j + 8, j + 12, as ttft_rec_seal's h0..h3 do), where the
 * CPU multiplies 64-bit lanes (AVX-512 DQ and VL); else the copy, then
 * ttft_rec_sealed. Either gives ttft_rec_sealed's answer. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TAKE_AVX512 1
__attribute__((target("avx2,avx512f,avx512dq,avx512vl")))
static int take_avx512(struct ttft_rec *dst, const struct ttft_rec *src)
{
	const __m256i *s = (const __m256i *)(const void *)src;
	__m256i a = _mm256_loadu_si256(s), b = _mm256_loadu_si256(s + 1);
	__m256i c = _mm256_loadu_si256(s + 2), d = _mm256_loadu_si256(s + 3);
	__m256i *o = (__m256i *)(void *)dst;
	_mm256_storeu_si256(o, a);
	_mm256_storeu_si256(o + 1, b);
	_mm256_storeu_si256(o + 2, c);
	_mm256_storeu_si256(o + 3, d);
	/* the seal's own bytes read as zero: word 0 keeps kind and flags,
	 * word 7 keeps seq */
	a = _mm256_mask_srli_epi64(a, 0x1, a, 32);
	b = _mm256_mask_and_epi64(b, 0x8, b, _mm256_set1_epi64x(0xffffffff));
	const __m256i k = _mm256_set1_epi64x((long long)0x9e3779b97f4a7c15ull);
	__m256i h = _mm256_set_epi64x(4, 3, 2, 1);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, a), k), 31);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, b), k), 31);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, c), k), 31);
	h = _mm256_rol_epi64(_mm256_mullo_epi64(_mm256_xor_si256(h, d), k), 31);
	__m128i x = _mm_xor_si128(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
	uint64_t sum = (uint64_t)_mm_cvtsi128_si64(x) ^ (uint64_t)_mm_extract_epi64(x, 1);
	if ((uint32_t)sum == 0)
		sum |= 1;
	return dst->seal == (uint32_t)sum && dst->seal_hi == (uint32_t)(sum >> 32);
}
#endif

static int take_plain(struct ttft_rec *dst, const struct ttft_rec *src)
{
	*dst = *src;
	return ttft_rec_sealed(dst);
}

static int (*pick_take(void))(struct ttft_rec *, const struct ttft_rec *)
{
#ifdef TAKE_AVX512
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
		return take_avx512;
#endif
	return take_plain;
}

int ttft_log_view_take(struct ttft_log_view *v, struct ttft_rec *dst, const struct ttft_rec *src)
{
	/* Relaxed: every thread picks the same function; a race only picks
	 * it twice. */
	static int (*take)(struct ttft_rec *, const struct ttft_rec *);
	int (*t)(struct ttft_rec *, const struct ttft_rec *) =
		__atomic_load_n(&take, __ATOMIC_RELAXED);
	if (__builtin_expect(!t, 0)) {
		t = pick_take();
		__atomic_store_n(&take, t, __ATOMIC_RELAXED);
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
	};
	return kind < TTFT_EV__COUNT ? names[kind] : "unknown";
}
