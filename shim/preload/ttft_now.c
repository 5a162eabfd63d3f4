/* ttft_now.c — the shim's clock (shim_now): CLOCK_MONOTONIC in integer
 * nanoseconds, read without ever writing errno.
 *
 * Runs inside other people's processes: no locks, no allocation, no stdio
 * on the path that reads it.
 */
#include "ttft_shim.h"

#include <dlfcn.h>
#include <errno.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <time.h>

/* The clock every record's time comes from: CLOCK_MONOTONIC, read so
 * that errno is never written, since the read path leaves the host's
 * errno unread (shim_on_recv1): the vDSO's clock_gettime called directly
 * (it returns an error rather than set errno; glibc's wrapper around it
 * would set errno where it fails, as under a filter that refuses the
 * syscall it falls back to), else the syscall made here (no vDSO: under
 * valgrind, before the constructor). Where neither is known (another
 * architecture), glibc's, errno kept. A clock that cannot be read gives
 * 0. */
typedef int (*vdso_clock_fn)(clockid_t, struct timespec *);
static vdso_clock_fn g_vdso_clock;

TTFT_HIDDEN void shim_clock_init(void)
{
#if defined(__x86_64__)
	const char *name = "__vdso_clock_gettime", *ver = "LINUX_2.6";
#elif defined(__aarch64__)
	const char *name = "__kernel_clock_gettime", *ver = "LINUX_2.6.39";
#else
	const char *name = NULL, *ver = NULL;
#endif
	/* No vDSO (valgrind, vdso=0): not asked for. A NOLOAD dlopen of a
	 * name nothing loaded has searches the library path for that file
	 * (the host's LD_LIBRARY_PATH, the cache, the system's directories)
	 * and leaves its failure for the host's next dlerror() (seen under
	 * valgrind: "linux-vdso.so.1: cannot open shared object file"). */
	if (!name || !getauxval(AT_SYSINFO_EHDR))
		return;
	struct shim_dlq q;
	shim_dlq_begin(&q);
	void *h = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	vdso_clock_fn f = NULL;
	if (h) {
		f = (vdso_clock_fn)dlvsym(h, name, ver);
		dlclose(h); /* NOLOAD: a reference dropped, the vDSO stays */
	}
	/* A failure (a vDSO the loader did not name so: a namespace of
	 * dlmopen's) is the shim's, not the host's: taken here where
	 * shim_dlq_end cannot (another libc). */
	if (!q.slot && (!h || !f))
		(void)dlerror();
	shim_dlq_end(&q);
	struct timespec ts;
	if (f && f(CLOCK_MONOTONIC, &ts) == 0)
		__atomic_store_n(&g_vdso_clock, f, __ATOMIC_RELAXED);
}

static inline __attribute__((always_inline)) int64_t clock_syscall(void)
{
	struct timespec ts;
#if defined(__x86_64__)
	long r;
	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "0"((long)SYS_clock_gettime), "D"((long)CLOCK_MONOTONIC), "S"(&ts)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = SYS_clock_gettime;
	register long x0 __asm__("x0") = CLOCK_MONOTONIC;
	register long x1 __asm__("x1") = (long)&ts;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
	long r = x0;
#else
	int e = errno;
	long r = clock_gettime(CLOCK_MONOTONIC, &ts);
	errno = e;
#endif
	return r == 0 ? (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec : 0;
}

TTFT_HIDDEN int64_t shim_now(void)
{
	vdso_clock_fn f = __atomic_load_n(&g_vdso_clock, __ATOMIC_RELAXED);
	struct timespec ts;
	if (__builtin_expect(f != NULL, 1)) {
		if (__builtin_expect(f(CLOCK_MONOTONIC, &ts) == 0, 1))
			return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
		return 0;
	}
	return clock_syscall();
}
