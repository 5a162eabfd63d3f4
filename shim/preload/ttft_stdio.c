/* ttft_stdio.c — requests written with stdio on a socket stream.
 *
 * stdio sends its buffer through libc's internal write, which no preloaded
 * library can see: bash's `printf ... >&3` (a line-buffered stdout dup'ed
 * onto a socket) reaches the socket without a call the shim wraps. So for a
 * stream whose fd is traced, the output calls are watched instead: the
 * stream's pending bytes P before the call (copied: the call may reuse the
 * buffer), the bytes the call adds D, and the pending bytes after it N. What
 * went to the socket is the front of P+D, all but its last |N| bytes.
 * Formatted calls are formatted here first (vsnprintf into a stack buffer)
 * and written with fwrite, so that D is known; the output is the same.
 * When something does not fit (pending or formatted text above
 * SHIM_STDIO_MAX) the bytes are reported as unseen, never guessed.
 *
 * For every other stream each wrapper is one load and a compare, then the
 * real function.
 */
#include "ttft_shim.h"
#include "ttft_stdio.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>

/* <stdio.h> may define these as macros; here they are the functions. */
#undef fwrite_unlocked
#undef fputs_unlocked
#undef fputc_unlocked
#undef putc_unlocked
#undef putchar_unlocked
#undef putc
#undef putchar

int __printf_chk(int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);

static size_t pending(const FILE *f)
{
	return f->_IO_write_ptr > f->_IO_write_base
		       ? (size_t)(f->_IO_write_ptr - f->_IO_write_base)
		       : 0;
}

struct watch {
	int fd;
	int64_t t0;
	size_t n;              /* pending bytes before the call */
	int ok;                /* they fit in buf */
	char buf[SHIM_STDIO_MAX];
};

static void watch_begin(FILE *f, struct watch *w)
{
	shim_stdio_watch(f); /* flushed, seen, at exit (ttft_stdio_exit.c) */
	w->fd = f->_fileno;
	w->n = pending(f);
	w->ok = w->n <= sizeof w->buf;
	if (w->ok && w->n)
		memcpy(w->buf, f->_IO_write_base, w->n);
	w->t0 = shim_now();
}

/* After the call added d/dn (ok = 0: the bytes are not known). */
static void watch_end(FILE *f, struct watch *w, const char *d, size_t dn,
		      int ok)
{
	int e = errno;
	int64_t t1 = shim_now();
	size_t after = pending(f), total = w->n + dn;
	if (!ok || !w->ok || after > total) {
		/* unknown bytes may have gone out: the framing is lost */
		if (!ok || after != total)
			shim_on_sent_unseen(w->fd, SSIZE_MAX, 0, w->t0, t1);
		errno = e;
		return;
	}
	size_t sent = total - after;
	struct iovec iov[2] = {
		{w->buf, sent < w->n ? sent : w->n},
		{(void *)d, sent > w->n ? sent - w->n : 0},
	};
	if (sent)
		shim_on_sent(w->fd, iov, 2, (ssize_t)sent, 0, w->t0, t1);
	errno = e;
}

/* f is never NULL here: these functions are declared nonnull, and glibc
 * would crash on it as the host expects. */
#define WATCHED(f) __builtin_expect(shim_slot((f)->_fileno) != 0, 0)

/* The stream stdout names now, or NULL before the constructor found it
 * (then nothing is watched: nothing is traced yet either). */
static FILE *out_stream(void)
{
	FILE **p = shim_stdout;
	return p ? *p : NULL;
}

#define WATCHED_STDOUT() (out_stream() && WATCHED(out_stream()))

SHIM_COLD static size_t fwrite_traced(const void *p, size_t size, size_t n,
				      FILE *f, int unlocked)
{
	struct watch w;
	watch_begin(f, &w);
	size_t r = unlocked ? LIBC(fwrite_unlocked)(p, size, n, f)
			    : LIBC(fwrite)(p, size, n, f);
	/* items written: a short count means an error; the buffer says how
	 * much left it */
	watch_end(f, &w, p, r * size, 1);
	return r;
}

TTFT_PUBLIC size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
	if (!WATCHED(f))
		return LIBC(fwrite)(p, size, n, f);
	return fwrite_traced(p, size, n, f, 0);
}

TTFT_PUBLIC size_t fwrite_unlocked(const void *p, size_t size, size_t n,
				   FILE *f)
{
	if (!WATCHED(f))
		return LIBC(fwrite_unlocked)(p, size, n, f);
	return fwrite_traced(p, size, n, f, 1);
}

SHIM_COLD static int fputs_traced(const char *s, FILE *f, int unlocked)
{
	struct watch w;
	watch_begin(f, &w);
	int r = unlocked ? LIBC(fputs_unlocked)(s, f) : LIBC(fputs)(s, f);
	watch_end(f, &w, s, r == EOF ? 0 : strlen(s), r != EOF);
	return r;
}

TTFT_PUBLIC int fputs(const char *s, FILE *f)
{
	if (!WATCHED(f))
		return LIBC(fputs)(s, f);
	return fputs_traced(s, f, 0);
}

TTFT_PUBLIC int fputs_unlocked(const char *s, FILE *f)
{
	if (!WATCHED(f))
		return LIBC(fputs_unlocked)(s, f);
	return fputs_traced(s, f, 1);
}

/* The real puts (its one lock over the string and its newline, its
 * return value); the bytes it adds are the string and a newline. */
SHIM_COLD static int puts_traced(const char *s, FILE *f)
{
	char text[SHIM_STDIO_MAX];
	size_t n = strlen(s);
	int fits = n < sizeof text;
	if (fits) {
		memcpy(text, s, n);
		text[n] = '\n';
	}
	struct watch w;
	watch_begin(f, &w);
	int r = LIBC(puts)(s);
	watch_end(f, &w, text, r == EOF || !fits ? 0 : n + 1, fits && r != EOF);
	return r;
}

TTFT_PUBLIC int puts(const char *s)
{
	if (!WATCHED_STDOUT())
		return LIBC(puts)(s);
	return puts_traced(s, out_stream());
}

SHIM_COLD static int putc_traced(int c, FILE *f, int which)
{
	struct watch w;
	watch_begin(f, &w);
	int r = which == 0 ? LIBC(fputc)(c, f)
	      : which == 1 ? LIBC(putc)(c, f)
	      : which == 2 ? LIBC(fputc_unlocked)(c, f)
			   : LIBC(putc_unlocked)(c, f);
	char ch = (char)c;
	watch_end(f, &w, &ch, r == EOF ? 0 : 1, r != EOF);
	return r;
}

TTFT_PUBLIC int fputc(int c, FILE *f)
{
	if (!WATCHED(f))
		return LIBC(fputc)(c, f);
	return putc_traced(c, f, 0);
}

TTFT_PUBLIC int putc(int c, FILE *f)
{
	if (!WATCHED(f))
		return LIBC(putc)(c, f);
	return putc_traced(c, f, 1);
}

TTFT_PUBLIC int fputc_unlocked(int c, FILE *f)
{
	if (!WATCHED(f))
		return LIBC(fputc_unlocked)(c, f);
	return putc_traced(c, f, 2);
}

TTFT_PUBLIC int putc_unlocked(int c, FILE *f)
{
	if (!WATCHED(f))
		return LIBC(putc_unlocked)(c, f);
	return putc_traced(c, f, 3);
}

/* glibc's inline putc_unlocked, putchar_unlocked and fputc_unlocked
 * (<bits/stdio.h> under optimization: __putc_unlocked_body) write into
 * the buffer themselves and call __overflow when it is full: it sends the
 * buffer with libc's internal write, and adds c (EOF: only flushes). */
int __overflow(FILE *f, int c);

SHIM_COLD static int overflow_traced(FILE *f, int c)
{
	struct watch w;
	watch_begin(f, &w);
	int r = LIBC(overflow)(f, c);
	char ch = (char)c;
	watch_end(f, &w, &ch, r == EOF || c == EOF ? 0 : 1, r != EOF);
	return r;
}

TTFT_PUBLIC int __overflow(FILE *f, int c)
{
	if (!WATCHED(f))
		return LIBC(overflow)(f, c);
	return overflow_traced(f, c);
}

TTFT_PUBLIC int putchar(int c)
{
	if (!WATCHED_STDOUT())
		return LIBC(putchar)(c);
	return putc_traced(c, out_stream(), 1);
}

TTFT_PUBLIC int putchar_unlocked(int c)
{
	if (!WATCHED_STDOUT())
		return LIBC(putchar_unlocked)(c);
	return putc_traced(c, out_stream(), 3);
}

/* libc's own __vsnprintf_chk, found on the first fortified call on a
 * watched stream: the next one in line may be an interposer's (a
 * sanitizer's) that drops the fortify checks the host's own call gets
 * from libc. That one if libc cannot be asked. */
TTFT_HIDDEN shim_vsnprintf_chk_fn shim_libc_vsnprintf_chk(void)
{
	static shim_vsnprintf_chk_fn f;
	shim_vsnprintf_chk_fn g = __atomic_load_n(&f, __ATOMIC_RELAXED);
	if (__builtin_expect(g != NULL, 1))
		return g;
	int e = errno;
	struct shim_dlq q;
	shim_dlq_begin(&q);
	void *h = dlopen("libc.so.6", RTLD_NOLOAD | RTLD_LAZY);
	if (h) {
		g = (shim_vsnprintf_chk_fn)dlsym(h, "__vsnprintf_chk");
		dlclose(h);
	}
	shim_dlq_end(&q);
	if (!g)
		g = LIBC(vsnprintf_chk);
	errno = e;
	__atomic_store_n(&f, g, __ATOMIC_RELAXED);
	return g;
}

/* Formatted output to a watched stream: formatted here, written with
 * fwrite, so the bytes are known. Longer than the stack buffer: the real
 * function writes it, and what it flushed is reported as unseen. */
SHIM_COLD static int vfprintf_traced(FILE *f, int flag, const char *fmt,
				     va_list ap)
{
	char text[SHIM_STDIO_MAX];
	va_list copy;
	va_copy(copy, ap);
	/* vsnprintf inside the host's own formatted-output call, on its
	 * thread, where it is already in stdio: the bytes it writes, known.
	 * A fortified call (flag >= 0) formats fortified, with its flag: its
	 * checks (%n in a writable format, …) stop the host as they would. */
	int n = flag < 0 ? LIBC(vsnprintf)(text, sizeof text, fmt, copy)
			 : shim_libc_vsnprintf_chk()(text, sizeof text, flag,
						     sizeof text, fmt, copy);
	va_end(copy);
	if (n < 0 || (size_t)n >= sizeof text) {
		struct watch w;
		watch_begin(f, &w);
		int r = flag < 0 ? LIBC(vfprintf)(f, fmt, ap)
				 : LIBC(vfprintf_chk)(f, flag, fmt, ap);
		watch_end(f, &w, NULL, 0, 0);
		return r;
	}
	return fwrite_traced(text, 1, (size_t)n, f, 0) == (size_t)n ? n : -1;
}

TTFT_PUBLIC int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	if (!WATCHED(f))
		return LIBC(vfprintf)(f, fmt, ap);
	return vfprintf_traced(f, -1, fmt, ap);
}

TTFT_PUBLIC int vprintf(const char *fmt, va_list ap)
{
	if (!WATCHED_STDOUT())
		return LIBC(vprintf)(fmt, ap);
	return vfprintf_traced(out_stream(), -1, fmt, ap);
}

TTFT_PUBLIC int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = WATCHED(f) ? vfprintf_traced(f, -1, fmt, ap)
			   : LIBC(vfprintf)(f, fmt, ap);
	va_end(ap);
	return r;
}

TTFT_PUBLIC int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = WATCHED_STDOUT() ? vfprintf_traced(out_stream(), -1, fmt, ap)
				: LIBC(vprintf)(fmt, ap);
	va_end(ap);
	return r;
}

/* The fortified entry points (-D_FORTIFY_SOURCE builds: bash, curl). */
TTFT_PUBLIC int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	if (!WATCHED(f))
		return LIBC(vfprintf_chk)(f, flag, fmt, ap);
	return vfprintf_traced(f, flag, fmt, ap);
}

TTFT_PUBLIC int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	if (!WATCHED_STDOUT())
		return LIBC(vprintf_chk)(flag, fmt, ap);
	return vfprintf_traced(out_stream(), flag, fmt, ap);
}

TTFT_PUBLIC int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = WATCHED(f) ? vfprintf_traced(f, flag, fmt, ap)
			   : LIBC(vfprintf_chk)(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

TTFT_PUBLIC int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = WATCHED_STDOUT() ? vfprintf_traced(out_stream(), flag, fmt, ap)
				: LIBC(vprintf_chk)(flag, fmt, ap);
	va_end(ap);
	return r;
}
