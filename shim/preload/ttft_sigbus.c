/* ttft_sigbus.c — a log truncated under a running program must not kill it.
 *
 * Writers store into a shared mapping of the log file. When someone empties
 * the file (`: > run.log`), the pages past the new end vanish and the next
 * store raises SIGBUS. Nothing protects a regular tmpfs file from that: seals
 * (F_SEAL_SHRINK) exist only for memfds, and a memfd cannot be linked into
 * /dev/shm (EXDEV); a lease only delays the truncation; permissions do not
 * stop the owner or root. So the shim keeps a SIGBUS handler. A fault inside
 * the log's mappings replaces them with anonymous memory (ttft_log_fault) and
 * returns: the store completes harmlessly, the process stops writing to the
 * log and counts what it did not write. Every other SIGBUS goes to the host's
 * own disposition, as if the shim were not there.
 *
 * The host's SIGBUS disposition is kept in g_host: its sigaction()/signal()
 * calls for SIGBUS update g_host (and the flags and mask the kernel applies
 * to our handler) and show it back to it, so it sees what it set.
 *
 * exec keeps an ignored SIGBUS ignored and resets a caught one: for a host
 * that ignores it, the exec wrappers at the end ignore it just before.
 *
 * A thread that blocks SIGBUS would be killed by the kernel on a fault it
 * cannot deliver: its log writes unblock SIGBUS around them
 * (ttft_sigmask.h). Not covered (docs/shim.md): a host that sets SIGBUS
 * with a raw rt_sigaction syscall.
 */
#include "ttft_shim.h"
#include "ttft_sigmask.h"

#include <errno.h>
#include <stddef.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

TTFT_HIDDEN int shim_sigbus_on;
static struct sigaction g_host;

#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000 /* the kernel's; glibc keeps it to itself */
#endif

static void bus_handler(int sig, siginfo_t *si, void *uc);

static int is_function(const struct sigaction *h)
{
	return h->sa_handler != SIG_DFL && h->sa_handler != SIG_IGN;
}

/* Our handler, with the host's mask and flags when it has a handler of its
 * own (the kernel applies them on delivery, before we pass it on). */
static int install(const struct sigaction *host)
{
	struct sigaction ours;
	memset(&ours, 0, sizeof ours);
	ours.sa_sigaction = bus_handler;
	ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&ours.sa_mask);
	if (is_function(host)) {
		ours.sa_mask = host->sa_mask;
		ours.sa_flags = SA_SIGINFO |
				(host->sa_flags & (SA_ONSTACK | SA_RESTART | SA_NODEFER));
	}
	return LIBC(sigaction)(SIGBUS, &ours, NULL);
}

static void real_default(void)
{
	struct sigaction d;
	memset(&d, 0, sizeof d);
	d.sa_handler = SIG_DFL;
	LIBC(sigaction)(SIGBUS, &d, NULL);
}

static void bus_handler(int sig, siginfo_t *si, void *uc)
{
	int e = errno;
	/* si_code > 0: raised by the kernel for a fault at si_addr. */
	int fault = si && si->si_code > 0;
	if (fault && shim_log_fault(si->si_addr)) {
		errno = e;
		return;
	}
	/* The host's SIGBUS, pending while it blocked it, let through by
	 * the shim's window around a log write: pending and blocked again. */
	if (!fault && shim_bus_window_signal(si, uc)) {
		errno = e;
		return;
	}
	struct sigaction h = g_host;
	if (h.sa_handler == SIG_IGN) {
		/* A fault cannot be ignored: the kernel kills. Let it. */
		if (fault)
			real_default();
		return;
	}
	if (h.sa_handler == SIG_DFL) {
		/* Returning from a fault runs the faulting instruction again,
		 * now under the default action; a signal sent by kill() is
		 * raised again, pending until we return. */
		real_default();
		if (!fault)
			syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGBUS);
		return;
	}
	if (h.sa_flags & SA_RESETHAND) {
		/* as the kernel does: the handler only, flags and mask kept */
		g_host.sa_handler = SIG_DFL;
		install(&g_host);
	}
	if (h.sa_flags & SA_SIGINFO)
		h.sa_sigaction(sig, si, uc);
	else
		h.sa_handler(sig);
}

TTFT_HIDDEN void shim_sigbus_install(void)
{
	struct sigaction cur;
	if (LIBC(sigaction)(SIGBUS, NULL, &cur) != 0)
		return;
	g_host = cur;
	if (install(&cur) == 0)
		shim_sigbus_on = 1;
}

TTFT_HIDDEN int shim_sigbus_sigaction(int sig, const struct sigaction *act,
				      struct sigaction *old)
{
	(void)sig;
	struct sigaction prev = g_host;
	if (act) {
		struct sigaction next = *act;
		/* Our own handler, handed back by a host that found it with a
		 * raw query: it means "what was there", the default. */
		if ((next.sa_flags & SA_SIGINFO) && next.sa_sigaction == bus_handler) {
			memset(&next, 0, sizeof next);
			next.sa_handler = SIG_DFL;
		}
		if (install(&next) != 0)
			return -1;
		/* kept as the kernel would hold it, for what reads it back:
		 * libc's flag and restorer (what it installed ours with), no
		 * SIGKILL or SIGSTOP in the mask */
		struct sigaction k;
		if (LIBC(sigaction)(SIGBUS, NULL, &k) == 0) {
			next.sa_flags |= k.sa_flags & SA_RESTORER;
			next.sa_restorer = k.sa_restorer;
		}
		sigdelset(&next.sa_mask, SIGKILL);
		sigdelset(&next.sa_mask, SIGSTOP);
		g_host = next;
	}
	if (old)
		*old = prev;
	return 0;
}

/* signal() and friends, as glibc builds them on sigaction. */
TTFT_HIDDEN sighandler_t shim_sigbus_signal(int sig, sighandler_t h, int flags)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = h;
	sigemptyset(&act.sa_mask);
	if (!(flags & SA_NODEFER))
		sigaddset(&act.sa_mask, sig);
	act.sa_flags = flags;
	if (shim_sigbus_sigaction(sig, &act, &old) != 0)
		return SIG_ERR;
	return old.sa_handler;
}

TTFT_PUBLIC int sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	if (__builtin_expect(sig != SIGBUS || !shim_sigbus_on, 1))
		return LIBC(sigaction)(sig, act, old);
	return shim_sigbus_sigaction(sig, act, old);
}

TTFT_PUBLIC sighandler_t signal(int sig, sighandler_t h)
{
	if (__builtin_expect(sig != SIGBUS || !shim_sigbus_on, 1))
		return LIBC(signal)(sig, h);
	return shim_sigbus_signal(sig, h, SA_RESTART);
}

TTFT_PUBLIC sighandler_t bsd_signal(int sig, sighandler_t h)
{
	if (__builtin_expect(sig != SIGBUS || !shim_sigbus_on, 1))
		return LIBC(bsd_signal)(sig, h);
	return shim_sigbus_signal(sig, h, SA_RESTART);
}

TTFT_PUBLIC sighandler_t sysv_signal(int sig, sighandler_t h)
{
	if (__builtin_expect(sig != SIGBUS || !shim_sigbus_on, 1))
		return LIBC(sysv_signal)(sig, h);
	return shim_sigbus_signal(sig, h, SA_RESETHAND | SA_NODEFER);
}

/* System V sigset: SIG_HOLD blocks the signal (no disposition change);
 * anything else installs it and unblocks the signal. */
TTFT_PUBLIC sighandler_t sigset(int sig, sighandler_t h)
{
	if (sig == SIGBUS)
		shim_t_bus = 0; /* it may block or unblock SIGBUS */
	if (__builtin_expect(sig != SIGBUS || !shim_sigbus_on || h == SIG_HOLD, 1)) {
		sighandler_t r = LIBC(sigset)(sig, h);
		if (sig == SIGBUS)
			shim_t_bus = 0;
		return r;
	}
	sigset_t m, was;
	sigemptyset(&m);
	sigaddset(&m, SIGBUS);
	sighandler_t old = shim_sigbus_signal(sig, h, 0);
	if (old != SIG_ERR && pthread_sigmask(SIG_UNBLOCK, &m, &was) == 0 &&
	    sigismember(&was, SIGBUS))
		return SIG_HOLD;
	return old;
}

/* ---- exec: an ignored SIGBUS is inherited ----
 *
 * exec resets a caught signal to its default and keeps an ignored one
 * ignored; the shim's handler is a caught one. So a host that ignores
 * SIGBUS would hand its programs the default (death) instead. Each exec
 * (and posix_spawn and popen, which exec in a child and return once it
 * did) sets SIGBUS ignored just before, where the host has it ignored,
 * and puts the shim's handler back if it returns: a window of the call's
 * length, in which a store into a log truncated at that instant would
 * not be caught (exec ends the image). Not system(): it returns when its
 * command has ended, a window as long as the command (and it is a
 * cancellation point); its command gets the default (docs/shim.md). */

/* Calls in progress that set SIGBUS ignored (several threads may spawn
 * at once: the last one out puts the guard back). */
static int g_ign_calls;

/* spawning: 1 for posix_spawn and popen, counted (they return); 0 for
 * the exec calls, which return only on failure and may run in a vfork
 * child, whose stores land in its parent's memory: not counted. */
static int ign_for_exec(int spawning)
{
	if (!shim_sigbus_on || g_host.sa_handler != SIG_IGN)
		return 0;
	struct sigaction ign;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	int e = errno;
	if (spawning)
		__atomic_fetch_add(&g_ign_calls, 1, __ATOMIC_ACQ_REL);
	LIBC(sigaction)(SIGBUS, &ign, NULL);
	errno = e;
	return 1 + spawning;
}

static void back_after_exec(int was)
{
	if (!was)
		return;
	int e = errno;
	if ((was == 1 || __atomic_sub_fetch(&g_ign_calls, 1, __ATOMIC_ACQ_REL) == 0) &&
	    g_host.sa_handler == SIG_IGN)
		install(&g_host);
	errno = e;
}

static struct {
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*posix_spawn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			   const posix_spawnattr_t *, char *const[], char *const[]);
	int (*posix_spawnp)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			    const posix_spawnattr_t *, char *const[], char *const[]);
	FILE *(*popen)(const char *, const char *);
} g_exec;

#define EXEC_REAL(m, sym) ((__typeof__(g_exec.m))shim_real(&g_exec.m, sym))
/* the calls that return once their child is running */
#define SPAWNING(m)                                                          \
	(offsetof(__typeof__(g_exec), m) >= offsetof(__typeof__(g_exec), posix_spawn))

/* Resolved before the host runs: a vfork child's exec must not be the
 * first call (dlsym there would run in the parent's memory). */
__attribute__((constructor)) static void exec_init(void)
{
	int e = errno;
	EXEC_REAL(execve, "execve");
	EXEC_REAL(execv, "execv");
	EXEC_REAL(execvp, "execvp");
	EXEC_REAL(execvpe, "execvpe");
	EXEC_REAL(fexecve, "fexecve");
	EXEC_REAL(execveat, "execveat");
	EXEC_REAL(posix_spawn, "posix_spawn");
	EXEC_REAL(posix_spawnp, "posix_spawnp");
	EXEC_REAL(popen, "popen");
	errno = e;
}

/* The call, with SIGBUS ignored around it when the host ignores it. */
#define EXEC_CALL(T, ERR, m, sym, ...)                                       \
	do {                                                                 \
		__typeof__(g_exec.m) f_ = EXEC_REAL(m, sym);                 \
		if (!f_) { /* not in this libc */                            \
			errno = ENOSYS;                                      \
			return ERR;                                          \
		}                                                            \
		/* a child may hold this process's sockets now (a vfork  \
		 * child's exec counts in its parent's memory) */        \
		shim_count_fork();                                           \
		/* token times kept go first: an exec ends every thread (a \
		 * spawn, only this thread's, as at a fork) */              \
		shim_batches_write(SPAWNING(m));                             \
		int was_ = ign_for_exec(SPAWNING(m));                        \
		T r_ = f_(__VA_ARGS__);                                      \
		back_after_exec(was_);                                       \
		return r_;                                                   \
	} while (0)

TTFT_PUBLIC int execve(const char *p, char *const a[], char *const e[])
{
	EXEC_CALL(int, -1, execve, "execve", p, a, e);
}

TTFT_PUBLIC int execv(const char *p, char *const a[])
{
	EXEC_CALL(int, -1, execv, "execv", p, a);
}

TTFT_PUBLIC int execvp(const char *p, char *const a[])
{
	EXEC_CALL(int, -1, execvp, "execvp", p, a);
}

TTFT_PUBLIC int execvpe(const char *p, char *const a[], char *const e[])
{
	EXEC_CALL(int, -1, execvpe, "execvpe", p, a, e);
}

TTFT_PUBLIC int fexecve(int fd, char *const a[], char *const e[])
{
	EXEC_CALL(int, -1, fexecve, "fexecve", fd, a, e);
}

TTFT_PUBLIC int execveat(int d, const char *p, char *const a[],
			 char *const e[], int fl)
{
	EXEC_CALL(int, -1, execveat, "execveat", d, p, a, e, fl);
}

/* execl, execle, execlp: their arguments into an array (on the stack, as
 * glibc does), then the calls above. */
#define ARGV_OF(arg, ap, argv, n)                                            \
	size_t n = 1;                                                        \
	va_start(ap, arg);                                                   \
	while (va_arg(ap, const char *))                                     \
		n++;                                                         \
	va_end(ap);                                                          \
	const char *argv[n + 1];                                             \
	argv[0] = arg;                                                       \
	va_start(ap, arg);                                                   \
	for (size_t i_ = 1; i_ <= n; i_++)                                   \
		argv[i_] = va_arg(ap, const char *)

TTFT_PUBLIC int execl(const char *p, const char *arg, ...)
{
	va_list ap;
	ARGV_OF(arg, ap, argv, n);
	va_end(ap);
	return execv(p, (char *const *)argv);
}

TTFT_PUBLIC int execlp(const char *p, const char *arg, ...)
{
	va_list ap;
	ARGV_OF(arg, ap, argv, n);
	va_end(ap);
	return execvp(p, (char *const *)argv);
}

TTFT_PUBLIC int execle(const char *p, const char *arg, ...)
{
	va_list ap;
	ARGV_OF(arg, ap, argv, n);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return execve(p, (char *const *)argv, envp);
}

TTFT_PUBLIC int posix_spawn(pid_t *pid, const char *p,
			    const posix_spawn_file_actions_t *fa,
			    const posix_spawnattr_t *at, char *const a[],
			    char *const e[])
{
	EXEC_CALL(int, ENOSYS, posix_spawn, "posix_spawn", pid, p, fa, at, a, e);
}

TTFT_PUBLIC int posix_spawnp(pid_t *pid, const char *p,
			     const posix_spawn_file_actions_t *fa,
			     const posix_spawnattr_t *at, char *const a[],
			     char *const e[])
{
	EXEC_CALL(int, ENOSYS, posix_spawnp, "posix_spawnp", pid, p, fa, at, a, e);
}

static FILE *popen_spawn(const char *cmd, const char *mode)
{
	EXEC_CALL(FILE *, NULL, popen, "popen", cmd, mode);
}

/* The pipe's end the caller keeps is a number glibc opened inside
 * itself (its pipe2, which no preloaded library sees): fresh all the same
 * (shim_fresh: stale state for it dropped). */
TTFT_PUBLIC FILE *popen(const char *cmd, const char *mode)
{
	FILE *f = popen_spawn(cmd, mode);
	if (f)
		shim_fresh(f->_fileno);
	return f;
}
