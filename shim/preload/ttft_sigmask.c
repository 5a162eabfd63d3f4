/* ttft_sigmask.c — see ttft_sigmask.h: the log written safely from a
 * thread that blocks SIGBUS, and the mask calls that make the shim ask the
 * kernel again.
 *
 * What the shim cannot follow (docs/shim.md): a mask that blocks SIGBUS
 * only inside a signal handler (the handler's sa_mask, sigsuspend's mask)
 * while the thread's own mask does not, and a mask set with a raw
 * rt_sigprocmask system call. A write to a traced socket from such a
 * handler, at the moment the log is cut, is still fatal.
 */
#include "ttft_sigmask.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

TTFT_HIDDEN __thread uint8_t shim_t_bus __attribute__((tls_model("initial-exec")));
/* A window is open in this thread: SIGBUS unblocked by the shim. */
static __thread uint8_t t_window __attribute__((tls_model("initial-exec")));
/* The host's SIGBUSes that arrived in the window (one the thread's, one
 * the process's, at most), queued again at its end where each was. */
static __thread uint8_t t_held __attribute__((tls_model("initial-exec")));
static __thread siginfo_t t_held_si[2] __attribute__((tls_model("initial-exec")));
/* Where a SIGBUS was pending as the window opened: PEND_THREAD, PEND_PROC. */
static __thread uint8_t t_from __attribute__((tls_model("initial-exec")));
enum { PEND_THREAD = 1, PEND_PROC = 2 };

#define BUS_BIT (1ull << (SIGBUS - 1))

/* The kernel's mask is 64 bits; glibc's sigset_t is larger. */
static long raw_mask(int how, const uint64_t *set, uint64_t *old)
{
	return LIBC(syscall)(SYS_rt_sigprocmask, how, set, old, sizeof(uint64_t));
}

/* The hex mask after `key` in a /proc status text, 0 if absent. */
static uint64_t status_mask(const char *t, const char *key)
{
	for (const char *p = t; *p; p++) {
		size_t i = 0;
		while (key[i] && p[i] == key[i])
			i++;
		if (key[i])
			continue;
		uint64_t m = 0;
		for (p += i; *p == '\t' || *p == ' '; p++)
			;
		for (;; p++) {
			int d = *p >= '0' && *p <= '9'	 ? *p - '0'
				: *p >= 'a' && *p <= 'f' ? *p - 'a' + 10
							 : -1;
			if (d < 0)
				return m;
			m = m << 4 | (uint64_t)d;
		}
	}
	return 0;
}

/* A SIGBUS is pending: the thread's own (SigPnd), the process's (ShdPnd),
 * or both. The kernel hands the thread's over first. Unreadable: taken
 * for the thread's. */
static uint8_t pending_where(void)
{
	char t[4096];
	int fd = (int)LIBC(syscall)(SYS_openat, AT_FDCWD, "/proc/thread-self/status",
				    O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return PEND_THREAD;
	size_t n = 0;
	long r;
	while (n + 1 < sizeof t &&
	       (r = LIBC(syscall)(SYS_read, fd, t + n, sizeof t - 1 - n)) > 0)
		n += (size_t)r;
	LIBC(syscall)(SYS_close, fd);
	t[n] = 0;
	uint8_t w = 0;
	if (status_mask(t, "\nSigPnd:") & BUS_BIT)
		w |= PEND_THREAD;
	if (status_mask(t, "\nShdPnd:") & BUS_BIT)
		w |= PEND_PROC;
	return w ? w : PEND_THREAD;
}

TTFT_HIDDEN int shim_bus_enter_slow(void)
{
	/* A host signal handler that writes while our window is open: SIGBUS
	 * is deliverable already, and the window is the outer call's. */
	if (t_window)
		return 0;
	int e = errno;
	uint64_t bus = BUS_BIT, old = 0, pend = 0;
	/* A SIGBUS already pending is let through by the unblock: where it
	 * was pending is where it goes back (a process's stays the
	 * process's, for any of its threads). */
	t_from = 0;
	if (LIBC(syscall)(SYS_rt_sigpending, &pend, sizeof pend) == 0 && (pend & BUS_BIT))
		t_from = pending_where();
	/* Set before the unblock: a pending SIGBUS is delivered as the
	 * syscall returns, and the handler must know it is ours. Signal
	 * fence: orders it against the handler's read
	 * (shim_bus_window_signal), on this thread. */
	t_window = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	long r = raw_mask(SIG_UNBLOCK, &bus, &old);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (r != 0 || !(old & BUS_BIT)) {
		/* not blocked (the unblock changed nothing), or the kernel
		 * would not say (then ask again next time) */
		t_window = 0;
		shim_t_bus = r == 0 ? SHIM_BUS_OPEN : 0;
		errno = e;
		return 0;
	}
	shim_t_bus = SHIM_BUS_BLOCKED;
	errno = e;
	return 1;
}

TTFT_HIDDEN void shim_bus_leave_slow(void)
{
	int e = errno;
	uint64_t bus = BUS_BIT;
	raw_mask(SIG_BLOCK, &bus, NULL);
	/* Signal fence: the window closes after SIGBUS is blocked again
	 * (partner: shim_bus_window_signal's read and store). */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	for (int k = 0; k < t_held; k++) {
		/* pending again, with its own siginfo, blocked as the host
		 * wants: for its sigwait, sigpending or a later unblock. The
		 * thread's first (the kernel delivered it first), then the
		 * process's. */
		int proc = k == 0 ? !(t_from & PEND_THREAD) && (t_from & PEND_PROC)
				  : (t_from & (PEND_THREAD | PEND_PROC)) ==
					    (PEND_THREAD | PEND_PROC);
		long pid = getpid();
		if (!proc)
			LIBC(syscall)(SYS_rt_tgsigqueueinfo, pid, LIBC(syscall)(SYS_gettid),
				      (long)SIGBUS, &t_held_si[k]);
		else if (LIBC(syscall)(SYS_rt_sigqueueinfo, pid, (long)SIGBUS,
				       &t_held_si[k]) != 0)
			/* the kernel lets only the main thread queue a kill()'s
			 * siginfo: the process's signal, sent by itself */
			LIBC(syscall)(SYS_kill, pid, (long)SIGBUS);
	}
	t_held = 0;
	t_window = 0;
	errno = e;
}

TTFT_HIDDEN int shim_bus_window_signal(siginfo_t *si, void *uc)
{
	(void)uc;
	/* Signal fence: partner of the stores in enter/leave. */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (!t_window || !si)
		return 0;
	/* Held until the window closes: SIGBUS must stay deliverable while
	 * the log is touched. The thread's and the process's are kept
	 * apart; a third merges, as a blocked standard signal does in the
	 * kernel. */
	if (t_held < 2)
		t_held_si[t_held++] = *si;
	return 1;
}

/* ---- the calls that change the mask: forget what was known ---- */

/* The real functions, resolved on first use (before the constructor) or
 * by it: dlsym, like the other real functions. */
static struct {
	int (*sigprocmask)(int, const sigset_t *, sigset_t *);
	int (*pthread_sigmask)(int, const sigset_t *, sigset_t *);
	int (*sighold)(int);
	int (*sigrelse)(int);
	int (*sigblock)(int);
	int (*sigsetmask)(int);
	void (*siglongjmp)(sigjmp_buf, int);
	void (*longjmp)(jmp_buf, int);
	void (*longjmp_chk)(jmp_buf, int);
	int (*setcontext)(const ucontext_t *);
	int (*swapcontext)(ucontext_t *, const ucontext_t *);
} g_real;

#define REAL(m, sym) ((__typeof__(g_real.m))shim_real(&g_real.m, sym))

__attribute__((constructor)) static void sigmask_init(void)
{
	int e = errno;
	REAL(sigprocmask, "sigprocmask");
	REAL(pthread_sigmask, "pthread_sigmask");
	REAL(sighold, "sighold");
	REAL(sigrelse, "sigrelse");
	REAL(sigblock, "sigblock");
	REAL(sigsetmask, "sigsetmask");
	REAL(siglongjmp, "siglongjmp");
	REAL(longjmp, "longjmp");
	REAL(longjmp_chk, "__longjmp_chk");
	REAL(setcontext, "setcontext");
	REAL(swapcontext, "swapcontext");
	errno = e;
}

/* Whether the thread blocks SIGBUS may change: ask the kernel next time.
 * Before the call too: a handler that writes in between asks then. */
static void forget(void)
{
	shim_t_bus = 0;
	__atomic_signal_fence(__ATOMIC_SEQ_CST); /* partner: shim_bus_enter */
}

static int touches_bus(int how, const sigset_t *set)
{
	return set && (how == SIG_SETMASK || sigismember(set, SIGBUS) == 1);
}

TTFT_PUBLIC int sigprocmask(int how, const sigset_t *set, sigset_t *old)
{
	int bus = touches_bus(how, set);
	if (bus)
		forget();
	int r = REAL(sigprocmask, "sigprocmask")(how, set, old);
	if (bus)
		forget();
	return r;
}

TTFT_PUBLIC int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
	int bus = touches_bus(how, set);
	if (bus)
		forget();
	int r = REAL(pthread_sigmask, "pthread_sigmask")(how, set, old);
	if (bus)
		forget();
	return r;
}

TTFT_PUBLIC int sighold(int sig)
{
	forget();
	int r = REAL(sighold, "sighold")(sig);
	forget();
	return r;
}

TTFT_PUBLIC int sigrelse(int sig)
{
	forget();
	int r = REAL(sigrelse, "sigrelse")(sig);
	forget();
	return r;
}

TTFT_PUBLIC int sigblock(int mask)
{
	forget();
	int r = REAL(sigblock, "sigblock")(mask);
	forget();
	return r;
}

TTFT_PUBLIC int sigsetmask(int mask)
{
	forget();
	int r = REAL(sigsetmask, "sigsetmask")(mask);
	forget();
	return r;
}

/* A jump out of a host signal handler that interrupted a window: the
 * window ends here (SIGBUS blocked again, a held SIGBUS queued again), or
 * a jump that restores no mask would leave SIGBUS unblocked for the host. */
static void jumping(void)
{
	/* Signal fence: partner of enter's store (this thread's handler). */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	if (__builtin_expect(t_window, 0))
		shim_bus_leave_slow();
	forget();
}

/* A jump or a context switch may restore a mask saved earlier. */
TTFT_PUBLIC void siglongjmp(sigjmp_buf env, int val)
{
	jumping();
	REAL(siglongjmp, "siglongjmp")(env, val);
	__builtin_unreachable();
}

TTFT_PUBLIC void longjmp(jmp_buf env, int val)
{
	jumping();
	REAL(longjmp, "longjmp")(env, val);
	__builtin_unreachable();
}

void __longjmp_chk(jmp_buf env, int val);
TTFT_PUBLIC void __longjmp_chk(jmp_buf env, int val)
{
	jumping();
	REAL(longjmp_chk, "__longjmp_chk")(env, val);
	__builtin_unreachable();
}

TTFT_PUBLIC int setcontext(const ucontext_t *u)
{
	jumping();
	return REAL(setcontext, "setcontext")(u);
}

TTFT_PUBLIC int swapcontext(ucontext_t *o, const ucontext_t *u)
{
	forget();
	int r = REAL(swapcontext, "swapcontext")(o, u);
	forget();
	return r;
}
