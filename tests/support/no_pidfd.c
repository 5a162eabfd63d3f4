/* no_pidfd.so — preloaded after the shim by test_shim_fd: a libc without
 * glibc 2.36's pidfd calls, as the shim finds the next definition
 * (RTLD_NEXT) where the library built here is preloaded under an older
 * glibc: each says ENOSYS, as the shim's lazy resolution does when no
 * libc has the name. */
#include <errno.h>
#include <sys/types.h>

int pidfd_open(pid_t pid, unsigned flags)
{
	(void)pid;
	(void)flags;
	errno = ENOSYS;
	return -1;
}

int pidfd_getfd(int pidfd, int targetfd, unsigned flags)
{
	(void)pidfd;
	(void)targetfd;
	(void)flags;
	errno = ENOSYS;
	return -1;
}
