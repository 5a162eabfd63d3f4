/* eintr_falloc.so — preloaded before the shim by test_shim_log: a libc
 * whose fallocate() is interrupted by a signal every other call (EINTR,
 * nothing allocated), as tmpfs's is while a host's interval timer fires
 * faster than a call takes. The calls that go through allocate as the
 * kernel does. */
#define _GNU_SOURCE
#include <errno.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

static unsigned long g_calls;

int fallocate(int fd, int mode, off_t off, off_t len)
{
	if (__atomic_fetch_add(&g_calls, 1, __ATOMIC_RELAXED) % 2 == 0) {
		errno = EINTR;
		return -1;
	}
	return (int)syscall(SYS_fallocate, fd, mode, off, len);
}

int fallocate64(int fd, int mode, off_t off, off_t len)
{
	return fallocate(fd, mode, off, len);
}
