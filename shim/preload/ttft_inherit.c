/* ttft_inherit.c — connections a program image finds open when it starts.
 *
 * exec keeps a process's fds but not its memory: a shell that connected
 * (`exec 3<>/dev/tcp/HOST/PORT`) and then runs `cat <&3`, or a supervisor
 * that hands a connected socket to the program it runs, leaves the new
 * image's shim knowing nothing of them. So the constructor lists the
 * process's fds once and adopts each connected TCP socket the filter wants
 * (shim_adopt): a CONNECT_BEGIN marked TTFT_F_INHERITED whose time is when
 * it was found, never a connect time, and the socket's inode, by which
 * the analyzer finds the connection it continues.
 *
 * Cost, paid by every exec'd process (bench/exec_cost.sh): openat, one
 * getdents64 per 4 KiB of names and close on /proc/self/fd, then one
 * getpeername per fd (ENOTSOCK for files, pipes and ttys, ENOTCONN for
 * listening and unconnected sockets); for a connected INET socket also
 * SO_TYPE and fstat. Raw system calls only: no allocation, no stdio, no
 * opendir. Without /proc, the fds below 64 are tried instead.
 */
#include "ttft_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SCAN_NO_PROC 64 /* fds tried when /proc/self/fd cannot be read */

static void try_fd(int fd, int64_t t)
{
	if (fd < 0 || fd >= TTFT_MAX_FD || shim_is_traced(fd))
		return;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return; /* not a socket, or not connected */
	if (!shim_wants(fd, (struct sockaddr *)&ss, len))
		return; /* not TCP over IPv4/IPv6, or filtered out */
	shim_adopt(fd, (struct sockaddr *)&ss, shim_sock_ino(fd), t);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static int parse_fd(const char *s)
{
	int v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (TTFT_MAX_FD - 9) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

TTFT_HIDDEN void shim_inherit_scan(void)
{
	int e = errno;
	int64_t t = shim_now();
	long dfd = LIBC(syscall)(SYS_openat, AT_FDCWD, "/proc/self/fd",
				 O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		for (int fd = 0; fd < SCAN_NO_PROC; fd++)
			try_fd(fd, t);
		errno = e;
		return;
	}
	/* 8-byte aligned: the kernel writes 64-bit fields into it */
	uint64_t buf[512];
	long n;
	while ((n = LIBC(syscall)(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			const struct linux_dirent64 *d = (const void *)((char *)buf + off);
			off += d->d_reclen;
			int fd = parse_fd(d->d_name);
			if (fd != (int)dfd)
				try_fd(fd, t);
		}
	}
	LIBC(syscall)(SYS_close, dfd);
	errno = e;
}
