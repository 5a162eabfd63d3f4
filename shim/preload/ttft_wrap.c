/* ttft_wrap.c — the interposed libc functions.
 *
 * Each wrapper leaves at once for an fd the shim does not trace (one bounds
 * check and one load). For a traced fd it timestamps around the real call,
 * hands the bytes to the sniffer, and returns exactly what libc returned
 * with errno as libc left it.
 */
#include "ttft_shim.h"

#include <errno.h>
#include <unistd.h>

/* glibc's fortify entry points have no public prototypes. */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *alen);

/* Run CALL for a traced fd, then report the bytes of IOV/IOVCNT sent. */
#define SENT(fd, CALL, IOV, IOVCNT)                                      \
	do {                                                             \
		int64_t t0_ = shim_now();                                \
		ssize_t r_ = (CALL);                                     \
		int e_ = errno;                                          \
		shim_on_sent(fd, IOV, IOVCNT, r_, e_, t0_, shim_now());  \
		errno = e_;                                              \
		return r_;                                               \
	} while (0)

#define RECEIVED(fd, CALL, IOV, IOVCNT, FLAGS)                           \
	do {                                                             \
		ssize_t r_ = (CALL);                                     \
		int e_ = errno;                                          \
		shim_on_recv(fd, IOV, IOVCNT, r_, e_, FLAGS, shim_now()); \
		errno = e_;                                              \
		return r_;                                               \
	} while (0)

TTFT_PUBLIC int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) =
		LIBC(connect, "connect");
	if (shim_is_traced(fd) && shim_fds[fd].pending) {
		/* Polling a non-blocking connect by calling it again. */
		int r = real(fd, sa, len);
		int e = errno;
		int64_t t = shim_now();
		if (r == 0 || e == EISCONN)
			shim_established(fd, t);
		else if (e != EALREADY && e != EINPROGRESS && e != EINTR)
			shim_connect_failed(fd, e, t);
		errno = e;
		return r;
	}
	if (!shim_wants(fd, sa, len)) {
		shim_forget(fd);
		return real(fd, sa, len);
	}
	shim_connect_begin(fd, sa, shim_now());
	int r = real(fd, sa, len);
	int e = errno;
	shim_connect_end(fd, r, e, shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (!shim_is_traced(fd))
		return LIBC(send, "send")(fd, buf, len, flags);
	struct iovec iov = {(void *)buf, len};
	SENT(fd, LIBC(send, "send")(fd, buf, len, flags), &iov, 1);
}

TTFT_PUBLIC ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *sa, socklen_t alen)
{
	if (!shim_is_traced(fd))
		return LIBC(sendto, "sendto")(fd, buf, len, flags, sa, alen);
	struct iovec iov = {(void *)buf, len};
	SENT(fd, LIBC(sendto, "sendto")(fd, buf, len, flags, sa, alen), &iov, 1);
}

TTFT_PUBLIC ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (!shim_is_traced(fd) || !msg)
		return LIBC(sendmsg, "sendmsg")(fd, msg, flags);
	SENT(fd, LIBC(sendmsg, "sendmsg")(fd, msg, flags), msg->msg_iov,
	     (int)msg->msg_iovlen);
}

TTFT_PUBLIC int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	if (!shim_is_traced(fd) || !vec)
		return LIBC(sendmmsg, "sendmmsg")(fd, vec, vlen, flags);
	int64_t t0 = shim_now();
	int r = LIBC(sendmmsg, "sendmmsg")(fd, vec, vlen, flags);
	int e = errno;
	int64_t t1 = shim_now();
	if (r < 0)
		shim_on_sent(fd, NULL, 0, r, e, t0, t1);
	for (int i = 0; i < r; i++)
		shim_on_sent(fd, vec[i].msg_hdr.msg_iov,
			     (int)vec[i].msg_hdr.msg_iovlen, vec[i].msg_len, 0,
			     t0, t1);
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t write(int fd, const void *buf, size_t len)
{
	if (!shim_is_traced(fd))
		return LIBC(write, "write")(fd, buf, len);
	struct iovec iov = {(void *)buf, len};
	SENT(fd, LIBC(write, "write")(fd, buf, len), &iov, 1);
}

TTFT_PUBLIC ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (!shim_is_traced(fd))
		return LIBC(writev, "writev")(fd, iov, cnt);
	SENT(fd, LIBC(writev, "writev")(fd, iov, cnt), iov, cnt);
}

TTFT_PUBLIC ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	if (!shim_is_traced(fd))
		return LIBC(recv, "recv")(fd, buf, len, flags);
	struct iovec iov = {buf, len};
	RECEIVED(fd, LIBC(recv, "recv")(fd, buf, len, flags), &iov, 1, flags);
}

TTFT_PUBLIC ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			     struct sockaddr *sa, socklen_t *alen)
{
	if (!shim_is_traced(fd))
		return LIBC(recvfrom, "recvfrom")(fd, buf, len, flags, sa, alen);
	struct iovec iov = {buf, len};
	RECEIVED(fd, LIBC(recvfrom, "recvfrom")(fd, buf, len, flags, sa, alen),
		 &iov, 1, flags);
}

TTFT_PUBLIC ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (!shim_is_traced(fd) || !msg)
		return LIBC(recvmsg, "recvmsg")(fd, msg, flags);
	RECEIVED(fd, LIBC(recvmsg, "recvmsg")(fd, msg, flags), msg->msg_iov,
		 (int)msg->msg_iovlen, flags);
}

TTFT_PUBLIC int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
			 struct timespec *timeout)
{
	if (!shim_is_traced(fd) || !vec)
		return LIBC(recvmmsg, "recvmmsg")(fd, vec, vlen, flags, timeout);
	int r = LIBC(recvmmsg, "recvmmsg")(fd, vec, vlen, flags, timeout);
	int e = errno;
	int64_t t1 = shim_now();
	if (r < 0)
		shim_on_recv(fd, NULL, 0, r, e, flags, t1);
	for (int i = 0; i < r; i++)
		shim_on_recv(fd, vec[i].msg_hdr.msg_iov,
			     (int)vec[i].msg_hdr.msg_iovlen, vec[i].msg_len, 0,
			     flags, t1);
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t read(int fd, void *buf, size_t len)
{
	if (!shim_is_traced(fd))
		return LIBC(read, "read")(fd, buf, len);
	struct iovec iov = {buf, len};
	RECEIVED(fd, LIBC(read, "read")(fd, buf, len), &iov, 1, 0);
}

TTFT_PUBLIC ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	if (!shim_is_traced(fd))
		return LIBC(readv, "readv")(fd, iov, cnt);
	RECEIVED(fd, LIBC(readv, "readv")(fd, iov, cnt), iov, cnt, 0);
}

TTFT_PUBLIC ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (!shim_is_traced(fd))
		return LIBC(read_chk, "__read_chk")(fd, buf, len, buflen);
	struct iovec iov = {buf, len};
	RECEIVED(fd, LIBC(read_chk, "__read_chk")(fd, buf, len, buflen), &iov,
		 1, 0);
}

TTFT_PUBLIC ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			       int flags)
{
	if (!shim_is_traced(fd))
		return LIBC(recv_chk, "__recv_chk")(fd, buf, len, buflen, flags);
	struct iovec iov = {buf, len};
	RECEIVED(fd, LIBC(recv_chk, "__recv_chk")(fd, buf, len, buflen, flags),
		 &iov, 1, flags);
}

TTFT_PUBLIC ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
				   size_t buflen, int flags,
				   struct sockaddr *sa, socklen_t *alen)
{
	if (!shim_is_traced(fd))
		return LIBC(recvfrom_chk, "__recvfrom_chk")(fd, buf, len, buflen,
							    flags, sa, alen);
	struct iovec iov = {buf, len};
	RECEIVED(fd,
		 LIBC(recvfrom_chk, "__recvfrom_chk")(fd, buf, len, buflen,
						      flags, sa, alen),
		 &iov, 1, flags);
}

TTFT_PUBLIC int close(int fd)
{
	if (shim_is_traced(fd) && !shim_in_vfork_child())
		shim_on_close(fd, shim_now());
	return LIBC(close, "close")(fd);
}

TTFT_PUBLIC int close_range(unsigned first, unsigned last, int flags)
{
	/* With CLOSE_RANGE_CLOEXEC nothing closes now, only at exec, where
	 * the shim's state goes away with the old image. */
	if (!(flags & CLOSE_RANGE_CLOEXEC) && first < TTFT_MAX_FD &&
	    !shim_in_vfork_child()) {
		unsigned end = last < TTFT_MAX_FD - 1 ? last : TTFT_MAX_FD - 1;
		int64_t t = 0;
		for (unsigned fd = first; fd <= end; fd++) {
			if (shim_is_traced((int)fd)) {
				if (!t)
					t = shim_now();
				shim_on_close((int)fd, t);
			}
		}
	}
	int (*real)(unsigned, unsigned, int) = LIBC(close_range, "close_range");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	return real(first, last, flags);
}

TTFT_PUBLIC int dup2(int oldfd, int newfd)
{
	if (oldfd != newfd && shim_is_traced(newfd) && !shim_in_vfork_child())
		shim_on_close(newfd, shim_now());
	return LIBC(dup2, "dup2")(oldfd, newfd);
}

TTFT_PUBLIC int dup3(int oldfd, int newfd, int flags)
{
	if (oldfd != newfd && shim_is_traced(newfd) && !shim_in_vfork_child())
		shim_on_close(newfd, shim_now());
	return LIBC(dup3, "dup3")(oldfd, newfd, flags);
}

TTFT_PUBLIC int getsockopt(int fd, int level, int name, void *val,
			   socklen_t *len)
{
	int r = LIBC(getsockopt, "getsockopt")(fd, level, name, val, len);
	if (r != 0 || level != SOL_SOCKET || name != SO_ERROR || !val ||
	    !len || *len < sizeof(int) || !shim_is_traced(fd) ||
	    !shim_fds[fd].pending)
		return r;
	int e = errno;
	int soerr = *(int *)val;
	int64_t t = shim_now();
	if (soerr == 0) {
		/* SO_ERROR is also 0 while the handshake is still running;
		 * only a peer address proves it finished. */
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
			shim_established(fd, t);
	} else {
		shim_connect_failed(fd, soerr, t);
	}
	errno = e;
	return r;
}

TTFT_PUBLIC int getaddrinfo(const char *node, const char *service,
			    const struct addrinfo *hints,
			    struct addrinfo **res)
{
	int (*real)(const char *, const char *, const struct addrinfo *,
		    struct addrinfo **) = LIBC(getaddrinfo, "getaddrinfo");
	int e = errno;
	shim_dns(0, node, 0, shim_now());
	errno = e;
	int r = real(node, service, hints, res);
	e = errno;
	shim_dns(1, node, r, shim_now());
	errno = e;
	return r;
}

/* New fds: a number whose close the shim did not see (fclose, a raw
 * syscall, closefrom) must not inherit a stale traced state. */
TTFT_PUBLIC int socket(int domain, int type, int protocol)
{
	int r = LIBC(socket, "socket")(domain, type, protocol);
	shim_forget(r);
	return r;
}

TTFT_PUBLIC int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	int r = LIBC(accept, "accept")(fd, sa, len);
	shim_forget(r);
	return r;
}

TTFT_PUBLIC int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	int r = LIBC(accept4, "accept4")(fd, sa, len, flags);
	shim_forget(r);
	return r;
}

TTFT_PUBLIC int dup(int fd)
{
	int r = LIBC(dup, "dup")(fd);
	shim_forget(r);
	return r;
}
