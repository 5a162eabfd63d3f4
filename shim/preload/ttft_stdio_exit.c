/* ttft_stdio_exit.c — stdio bytes that leave inside libc, made seen.
 *
 * exit() (and a return from main) flushes every stream in _IO_cleanup,
 * with libc's internal write: a request left pending in a stream on a
 * traced socket (`printf 'GET …'` without a newline, an fdopen'ed stream
 * never flushed) went out unseen. glibc runs the shared objects'
 * destructors before that flush, so the shim's destructor flushes the
 * traced streams it has watched first, through the same watched fflush
 * as a host's own call: the bytes, their order on the wire and the host's
 * output are the same; only their moment moves to just before libc's own
 * flush would have sent them.
 *
 * The watched streams: a fixed table (SHIM_STDIO_STREAMS), filled by the
 * output wrappers (ttft_stdio.c) the first time they see a stream on a
 * traced fd, emptied by fclose and fcloseall. A stream beyond the table is
 * flushed by libc, unseen, as before (its bytes are marked unseen, never
 * guessed: docs/shim.md). So is one that shares its socket with another
 * watched stream with bytes pending (libc's flush order, newest stream
 * first, is not known here) or whose lock another thread holds (libc's
 * exit flush takes no stream lock; the shim must not wait for one).
 *
 * dprintf/vdprintf format into a stream of their own and flush it inside
 * libc: formatted here first (as the other formatted calls are) so the
 * bytes are known, then written by the real function.
 */
#include "ttft_shim.h"
#include "ttft_stdio.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define SHIM_STDIO_STREAMS 64

static FILE *g_streams[SHIM_STDIO_STREAMS];
TTFT_HIDDEN int shim_stdio_any;

TTFT_HIDDEN void shim_stdio_watch(FILE *f)
{
	/* Relaxed: the table holds pointers only; the destructor runs
	 * after every use (exit), and fclose takes an entry out. */
	for (int i = 0; i < SHIM_STDIO_STREAMS; i++)
		if (__atomic_load_n(&g_streams[i], __ATOMIC_RELAXED) == f)
			return;
	for (int i = 0; i < SHIM_STDIO_STREAMS; i++) {
		FILE *none = NULL;
		if (__atomic_compare_exchange_n(&g_streams[i], &none, f, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			/* Relaxed: partner of shim_stdio_closing's load; a
			 * close races with the watched call on the same
			 * stream only in a host that already misuses it */
			__atomic_store_n(&shim_stdio_any, 1, __ATOMIC_RELAXED);
			return;
		}
	}
}

TTFT_HIDDEN void shim_stdio_forget(FILE *f)
{
	for (int i = 0; i < SHIM_STDIO_STREAMS; i++) {
		FILE *g = f;
		__atomic_compare_exchange_n(&g_streams[i], &g, NULL, 0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED);
	}
}

/* The socket under fd (st_dev, st_ino), 0 when fstat fails. */
static unsigned long long sock_id(int fd)
{
	struct stat st;
	if (LIBC(syscall)(SYS_fstat, fd, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev << 32 ^ st.st_ino;
}

__attribute__((destructor)) static void stdio_exit_flush(void)
{
	if (!shim_on)
		return;
	int e = errno;
	FILE *f[SHIM_STDIO_STREAMS];
	unsigned long long id[SHIM_STDIO_STREAMS];
	int n = 0;
	for (int i = 0; i < SHIM_STDIO_STREAMS; i++) {
		FILE *g = __atomic_exchange_n(&g_streams[i], NULL, __ATOMIC_RELAXED);
		/* still on a traced fd, with bytes pending: what libc's exit
		 * flush would send next */
		if (g && shim_slot(g->_fileno) && g->_IO_write_ptr > g->_IO_write_base) {
			f[n] = g;
			id[n++] = sock_id(g->_fileno);
		}
	}
	for (int i = 0; i < n; i++) {
		/* Two streams with bytes for one socket: libc flushes them in
		 * its own order (newest stream first), which the shim cannot
		 * know; both are left to it, unseen. */
		int shared = !id[i];
		for (int j = 0; j < n && !shared; j++)
			shared = j != i && id[j] == id[i];
		/* A stream another thread holds locked: libc's exit flush takes
		 * no lock; waiting for it would hang the exit. Left to libc. */
		if (shared || ftrylockfile(f[i]) != 0)
			continue;
		fflush(f[i]);
		funlockfile(f[i]);
	}
	errno = e;
}

/* ---- fcloseall, dprintf, vdprintf: resolved here ---- */

static struct {
	int (*fcloseall)(void);
	int (*vdprintf)(int, const char *, va_list);
	int (*vdprintf_chk)(int, int, const char *, va_list);
} g_real;

#define REAL(m, sym) ((__typeof__(g_real.m))shim_real(&g_real.m, sym))

__attribute__((constructor)) static void stdio_exit_init(void)
{
	int e = errno;
	REAL(fcloseall, "fcloseall");
	REAL(vdprintf, "vdprintf");
	REAL(vdprintf_chk, "__vdprintf_chk");
	errno = e;
}

TTFT_PUBLIC int fcloseall(void)
{
	/* every stream goes: none may be flushed at exit any more */
	for (int i = 0; i < SHIM_STDIO_STREAMS; i++)
		__atomic_store_n(&g_streams[i], NULL, __ATOMIC_RELAXED);
	return REAL(fcloseall, "fcloseall")();
}

/* flag < 0: vdprintf, else __vdprintf_chk with it (the real function
 * writes, with its own checks). */
static int real_vdprintf(int fd, int flag, const char *fmt, va_list ap)
{
	if (flag < 0)
		return REAL(vdprintf, "vdprintf")(fd, fmt, ap);
	return REAL(vdprintf_chk, "__vdprintf_chk")(fd, flag, fmt, ap);
}

SHIM_COLD static int vdprintf_traced(int fd, int flag, const char *fmt, va_list ap)
{
	char text[SHIM_STDIO_MAX];
	va_list copy;
	va_copy(copy, ap);
	/* as vfprintf_traced: inside the host's own formatted-output call,
	 * fortified for a fortified call (its checks stop the host first) */
	int n = flag < 0 ? LIBC(vsnprintf)(text, sizeof text, fmt, copy)
			 : shim_libc_vsnprintf_chk()(text, sizeof text, flag,
						     sizeof text, fmt, copy);
	va_end(copy);
	int64_t t0 = shim_now();
	int r = real_vdprintf(fd, flag, fmt, ap);
	int e = errno;
	int64_t t1 = shim_now();
	if (r >= 0 && r == n && (size_t)n < sizeof text) {
		struct iovec iov = {text, (size_t)n};
		if (n)
			shim_on_sent(fd, &iov, 1, n, 0, t0, t1);
	} else if (r != 0) {
		/* too long to copy, or a failure after some bytes: unseen */
		shim_on_sent_unseen(fd, SSIZE_MAX, 0, t0, t1);
	}
	errno = e;
	return r;
}

TTFT_PUBLIC int vdprintf(int fd, const char *fmt, va_list ap)
{
	if (__builtin_expect(shim_slot(fd) == 0, 1))
		return REAL(vdprintf, "vdprintf")(fd, fmt, ap);
	return vdprintf_traced(fd, -1, fmt, ap);
}

TTFT_PUBLIC int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = shim_slot(fd) ? vdprintf_traced(fd, -1, fmt, ap)
			      : REAL(vdprintf, "vdprintf")(fd, fmt, ap);
	va_end(ap);
	return r;
}

/* The fortified forms (-D_FORTIFY_SOURCE builds). */
int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap);
int __dprintf_chk(int fd, int flag, const char *fmt, ...);

TTFT_PUBLIC int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
	if (__builtin_expect(shim_slot(fd) == 0, 1))
		return REAL(vdprintf_chk, "__vdprintf_chk")(fd, flag, fmt, ap);
	return vdprintf_traced(fd, flag < 0 ? 0 : flag, fmt, ap);
}

TTFT_PUBLIC int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = shim_slot(fd) ? vdprintf_traced(fd, flag < 0 ? 0 : flag, fmt, ap)
			      : REAL(vdprintf_chk, "__vdprintf_chk")(fd, flag, fmt, ap);
	va_end(ap);
	return r;
}
