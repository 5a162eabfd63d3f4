/* ttft_sigmask.h — writing to the log from a thread that blocks SIGBUS.
 *
 * The SIGBUS guard (ttft_sigbus.c) survives a log truncated under the
 * host only where the fault can be delivered: the kernel kills a thread
 * that faults with SIGBUS blocked. So every access to the log's mapping is
 * bracketed: shim_bus_enter() opens a window in which SIGBUS is unblocked
 * for this thread when (and only when) the thread has it blocked, and
 * shim_bus_leave() closes it, restoring exactly the host's mask. A fault
 * in the window reaches the guard; a SIGBUS the host left pending is put
 * back pending, still blocked, when the window closes
 * (shim_bus_window_signal).
 *
 * Whether the thread blocks SIGBUS is kept per thread (one TLS byte): asked
 * of the kernel once (a raw rt_sigprocmask) and forgotten whenever the host
 * may change its mask through a call the shim sees (sigprocmask,
 * pthread_sigmask, siglongjmp/longjmp, setcontext, swapcontext). For the
 * common thread, which never blocks SIGBUS, the cost is one TLS load and a
 * compare on each side.
 */
#ifndef TTFT_SIGMASK_H
#define TTFT_SIGMASK_H

#include <signal.h>
#include <stdint.h>

#include "ttft_shim.h"

/* shim_t_bus: 0 = not known yet, SHIM_BUS_OPEN = SIGBUS deliverable,
 * SHIM_BUS_BLOCKED = the host blocks it in this thread. */
enum { SHIM_BUS_OPEN = 1, SHIM_BUS_BLOCKED = 2 };
extern TTFT_HIDDEN __thread uint8_t shim_t_bus
	__attribute__((tls_model("initial-exec")));

TTFT_HIDDEN int shim_bus_enter_slow(void);
TTFT_HIDDEN void shim_bus_leave_slow(void);

/* Before touching the log: 1 when a window was opened (pass it to
 * shim_bus_leave), else 0. Preserves errno. */
static inline int shim_bus_enter(void)
{
	if (__builtin_expect(shim_t_bus == SHIM_BUS_OPEN, 1))
		return 0;
	return shim_bus_enter_slow();
}

static inline void shim_bus_leave(int opened)
{
	if (__builtin_expect(opened, 0))
		shim_bus_leave_slow();
}

/* For the guard's handler: a SIGBUS that is not the log's fault arrived
 * while a window was open (the host had it blocked, so it was pending):
 * keep it, to be queued again with its own siginfo when the window closes
 * (pending and blocked, as the host wants), and return 1. 0 when no window
 * is open (the host's own disposition applies). */
TTFT_HIDDEN int shim_bus_window_signal(siginfo_t *si, void *uc);

#endif
