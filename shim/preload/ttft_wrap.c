/* ttft_wrap.c — the interposed libc functions.
 *
 * Every wrapper of an fd call starts with the same fast path: a bounds
 * check, one load from the fd table and a tail call to the real function
 * when the fd is not traced. Everything else (timestamps, the sniffer, the
 * lazy symbol lookup) lives in cold functions the fast path never enters.
 * For a traced fd the cold function times the real call, hands the bytes to
 * the sniffer and returns exactly what libc returned, errno included.
 *
 * The calls that hand out an fd number (open, socket, pipe, dup, ...) check
 * the number they return: if the table still holds a connection for it,
 * its close went unseen (a raw syscall, fclose, closefrom in a library) and
 * the entry is dropped, so a file's bytes are never parsed as HTTP.
 */
#include "ttft_shim.h"
#include "ttft_stdio.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

/* glibc's fortify entry points have no public prototypes without
 * _FORTIFY_SOURCE (the shim is built without it). */
ssize_t __read_chk(int fd, void *buf, size_t nbytes, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen,
		       int flags, struct sockaddr *addr, socklen_t *alen);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
/* glibc 2.36's pidfd calls, declared here: <sys/pidfd.h> is newer than
 * some libcs the shim is built against. */
int pidfd_open(pid_t pid, unsigned flags);
int pidfd_getfd(int pidfd, int targetfd, unsigned flags);

/* SCM_PIDFD (Linux 6.5): a pidfd in a received message's control data;
 * older headers lack the name. */
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

/* ---- the real functions, resolved lazily until the constructor runs ---- */

#define SHIM_LAZY(m, sym, ret, err, params, args)                            \
	static ret lazy_##m params                                           \
	{                                                                    \
		ret(*real_) params = (ret(*) params)shim_resolve(sym);       \
		if (!real_) {                                                \
			errno = ENOSYS;                                      \
			return err;                                          \
		}                                                            \
		__atomic_store_n(&shim_libc.m, real_, __ATOMIC_RELAXED);     \
		return real_ args;                                           \
	}
SHIM_FIXED(SHIM_LAZY)
#undef SHIM_LAZY

/* The variadic ones read the optional argument the way glibc does: the
 * mode of open when it creates, one word for fcntl, six for syscall. */
#define SHIM_RESOLVE_OR_ENOSYS(m, sym, err)                                  \
	__typeof__(shim_libc.m) f = (__typeof__(shim_libc.m))shim_resolve(sym); \
	if (!f) {                                                            \
		errno = ENOSYS;                                              \
		return err;                                                  \
	}                                                                    \
	__atomic_store_n(&shim_libc.m, f, __ATOMIC_RELAXED)

static int open_mode(int flags, va_list ap)
{
	return __OPEN_NEEDS_MODE(flags) ? va_arg(ap, int) : 0;
}

#define SHIM_LAZY_OPEN(m, sym)                                               \
	static int lazy_##m(const char *p, int fl, ...)                      \
	{                                                                    \
		va_list ap;                                                  \
		va_start(ap, fl);                                            \
		int mode = open_mode(fl, ap);                                \
		va_end(ap);                                                  \
		SHIM_RESOLVE_OR_ENOSYS(m, sym, -1);                          \
		return f(p, fl, mode);                                       \
	}
#define SHIM_LAZY_OPENAT(m, sym)                                             \
	static int lazy_##m(int d, const char *p, int fl, ...)               \
	{                                                                    \
		va_list ap;                                                  \
		va_start(ap, fl);                                            \
		int mode = open_mode(fl, ap);                                \
		va_end(ap);                                                  \
		SHIM_RESOLVE_OR_ENOSYS(m, sym, -1);                          \
		return f(d, p, fl, mode);                                    \
	}
#define SHIM_LAZY_FCNTL(m, sym)                                              \
	static int lazy_##m(int fd, int cmd, ...)                            \
	{                                                                    \
		va_list ap;                                                  \
		va_start(ap, cmd);                                           \
		unsigned long arg = va_arg(ap, unsigned long);               \
		va_end(ap);                                                  \
		SHIM_RESOLVE_OR_ENOSYS(m, sym, -1);                          \
		return f(fd, cmd, arg);                                      \
	}
SHIM_LAZY_OPEN(open, "open")
SHIM_LAZY_OPEN(open64, "open64")
SHIM_LAZY_OPENAT(openat, "openat")
SHIM_LAZY_OPENAT(openat64, "openat64")
SHIM_LAZY_FCNTL(fcntl, "fcntl")
SHIM_LAZY_FCNTL(fcntl64, "fcntl64")

static long lazy_syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), g = va_arg(ap, long);
	va_end(ap);
	SHIM_RESOLVE_OR_ENOSYS(syscall, "syscall", -1);
	return f(n, a, b, c, d, e, g);
}

static void lazy_closefrom(int lowfd)
{
	void (*f)(int) = (void (*)(int))shim_resolve("closefrom");
	if (f) {
		__atomic_store_n(&shim_libc.closefrom, f, __ATOMIC_RELAXED);
		f(lowfd);
	}
}

TTFT_HIDDEN struct shim_libc shim_libc = {
#define SHIM_INIT(m, sym, ret, err, params, args) .m = lazy_##m,
	SHIM_FIXED(SHIM_INIT)
#undef SHIM_INIT
#define SHIM_VINIT(m, sym, ret, params) .m = lazy_##m,
	SHIM_VARIADIC(SHIM_VINIT)
#undef SHIM_VINIT
	.closefrom = lazy_closefrom,
};

/* The constructor resolves everything at once, so that later calls never
 * go through dlsym (which may allocate) at an awkward moment. */
TTFT_HIDDEN FILE **shim_stdout;

TTFT_HIDDEN void shim_resolve_all(void)
{
	struct shim_dlq q;
	shim_dlq_begin(&q);
	shim_stdout = (FILE **)dlsym(RTLD_DEFAULT, "stdout");
	shim_dlq_end(&q);
#define SHIM_RES(m, sym, ...)                                                \
	{                                                                    \
		void *f = shim_resolve(sym);                                 \
		if (f)                                                       \
			__atomic_store_n(&shim_libc.m,                       \
					 (__typeof__(shim_libc.m))f,         \
					 __ATOMIC_RELAXED);                  \
	}
	SHIM_FIXED(SHIM_RES)
	SHIM_VARIADIC(SHIM_RES)
	SHIM_RES(closefrom, "closefrom")
#undef SHIM_RES
}

#define UNTRACED(fd) __builtin_expect(shim_slot(fd) == 0, 1)
#define UNTRACED_SLOT(slot) __builtin_expect((slot) == 0, 1)

/* The stream's part of what a send with these flags sent: with MSG_OOB
 * the last byte the call sent is TCP's urgent byte (the kernel puts the
 * urgent mark after it), which a peer without SO_OOBINLINE takes out of
 * the stream: the sniffer is not fed it, as a recv(MSG_OOB)'s byte is
 * not (send tests the flag before the call, send_traced). */
static inline __attribute__((always_inline)) ssize_t stream_part(ssize_t r,
								 int flags)
{
	return r - (r > 0 && (flags & MSG_OOB));
}

/* Run CALL for a traced fd, then report the bytes of IOV/IOVCNT sent (to
 * fd's connection if it began connecting before the call: shim_on_sent). */
#define SENT(fd, CALL, IOV, IOVCNT)                                          \
	do {                                                                 \
		int64_t t0_ = shim_now();                                    \
		ssize_t r_ = (CALL);                                         \
		int e_ = errno;                                              \
		shim_on_sent(fd, IOV, IOVCNT, r_, e_, t0_, shim_now());      \
		errno = e_;                                                  \
		return r_;                                                   \
	} while (0)

/* The same for one buffer. */
#define SENT1(fd, CALL, BUF, LEN)                                            \
	do {                                                                 \
		int64_t t0_ = shim_now();                                    \
		ssize_t r_ = (CALL);                                         \
		int e_ = errno;                                              \
		shim_on_sent1(fd, BUF, LEN, r_, e_, t0_, shim_now());        \
		errno = e_;                                                  \
		return r_;                                                   \
	} while (0)

/* The same for a send with flags: the host gets the call's return, the
 * sniffer the stream's part of it (stream_part). */
#define SENT1F(fd, CALL, BUF, LEN, FLAGS)                                    \
	do {                                                                 \
		int64_t t0_ = shim_now();                                    \
		ssize_t r_ = (CALL);                                         \
		int e_ = errno;                                              \
		shim_on_sent1(fd, BUF, LEN, stream_part(r_, FLAGS), e_, t0_,  \
			      shim_now());                                   \
		errno = e_;                                                  \
		return r_;                                                   \
	} while (0)

/* The same for bytes received into one buffer. */
#define RECEIVED1(fd, slot, CALL, BUF, LEN, FLAGS)                           \
	do {                                                                 \
		struct shim_held h_ = shim_hold_slot(slot);                  \
		ssize_t r_ = (CALL);                                         \
		/* errno: kept by shim_on_recv1 (the clock never sets it) */ \
		shim_on_recv1(fd, h_, BUF, LEN, r_, FLAGS, shim_now());      \
		return r_;                                                   \
	} while (0)

#define RECEIVED(fd, CALL, IOV, IOVCNT, FLAGS)                               \
	do {                                                                 \
		struct shim_held h_ = shim_hold(fd);                         \
		ssize_t r_ = (CALL);                                         \
		int e_ = errno;                                              \
		shim_on_recv(fd, h_, IOV, IOVCNT, r_, e_, FLAGS, shim_now()); \
		errno = e_;                                                  \
		return r_;                                                   \
	} while (0)

/* ---- connect ---- */

/* Whether the len (16 to 128) bytes at p can be read now: 1 yes, 0 no
 * (EFAULT), -1 not known. The kernel reads 8 bytes for rt_sigprocmask
 * with an unknown `how`, which it then refuses with EINVAL, changing
 * nothing: the first 8 (the family, port and the start of the address,
 * bytes a client always sets), and where the range crosses into another
 * page (it spans two at most) the last 8 too. A filter that refuses the
 * call itself leaves it unknown. errno is the caller's to keep. */
SHIM_COLD static int shim_readable(const void *p, socklen_t len)
{
	const char *ends[2] = {p, (const char *)p + len - 8};
	long pg = 4096; /* the smallest page: a larger one only crosses less */
	int n = ((uintptr_t)p & (uintptr_t)(pg - 1)) + len > (uintptr_t)pg ? 2 : 1;
	for (int i = 0; i < n; i++) {
		long r = LIBC(syscall)(SYS_rt_sigprocmask, -1L, ends[i], NULL,
				       (long)sizeof(uint64_t));
		if (r == 0 || errno != EINVAL)
			return r != 0 && errno == EFAULT ? 0 : -1;
	}
	return 1;
}

SHIM_COLD static int connect_traced(int fd, const struct sockaddr *sa,
				    socklen_t len)
{
	int (*real)(int, const struct sockaddr *, socklen_t) = LIBC(connect);
	uint32_t forks = shim_forks_now();
	if (shim_slot(fd)) {
		int64_t t = shim_now();
		int r = real(fd, sa, len);
		int e = errno;
		int64_t t1 = shim_now();
		if (shim_pending(fd)) {
			/* Polling a non-blocking connect by calling it again:
			 * EISCONN is the portable "it finished". */
			if (r == 0 || e == EISCONN)
				shim_established(fd, t1);
			else if (e != EALREADY && e != EINPROGRESS && e != EINTR)
				shim_connect_failed(fd, e, t1);
		} else if (r == 0 && sa && sa->sa_family == AF_UNSPEC) {
			/* Dissolving the association ends the connection. */
			shim_closing(fd, t);
		} else if (r == 0 || e == EINPROGRESS) {
			/* A connected stream socket answers EISCONN: this is
			 * a new socket whose old number's close went unseen. */
			shim_stale(fd);
			if (shim_wants(fd, sa, len)) {
				shim_connect_begin(fd, sa, t, forks);
				shim_connect_end(fd, r, e, t1);
			}
		}
		errno = e;
		return r;
	}
	/* The address is the host's to get wrong (an invalid pointer fails
	 * the call with EFAULT; read unasked, it had killed the host with
	 * SIGSEGV): shorter than an IPv4 address or longer than the kernel
	 * takes, it is nothing the shim traces; else the kernel is asked
	 * first whether it can read it. */
	int e0 = errno;
	if (!sa || len < sizeof(struct sockaddr_in) ||
	    len > sizeof(struct sockaddr_storage))
		return real(fd, sa, len);
	int readable = shim_readable(sa, len);
	errno = e0;
	if (readable == 0)
		return real(fd, sa, len); /* the kernel's EFAULT */
	if (readable > 0) {
		/* the connect in the log before the call, as it begins: a
		 * live reader sees it under way, and a blocking one's DNS
		 * lookup is its own (a review: written at the return, a
		 * connect blocked past the follower's lag let another
		 * thread take its lookup) */
		if (!shim_wants(fd, sa, len)) {
			errno = e0;
			return real(fd, sa, len);
		}
		shim_connect_begin(fd, sa, shim_now(), forks);
		errno = e0;
		int r = real(fd, sa, len);
		int e = errno;
		shim_connect_end(fd, r, e, shim_now());
		errno = e;
		return r;
	}
	/* not known (a seccomp filter refused the question): read only once
	 * the kernel has, the connect stamped where it begins and written
	 * where it returns */
	int64_t t = shim_now();
	int r = real(fd, sa, len);
	int e = errno;
	int64_t t1 = shim_now();
	if (shim_addr_was_read(r, e, len) && shim_wants(fd, sa, len)) {
		shim_connect_begin(fd, sa, t, forks);
		shim_connect_end(fd, r, e, t1);
	}
	errno = e;
	return r;
}

TTFT_PUBLIC int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!shim_on && UNTRACED(fd))
		return LIBC(connect)(fd, sa, len);
	return connect_traced(fd, sa, len);
}

/* ---- sending ---- */

/* A send with MSG_OOB (rare): its urgent byte kept from the sniffer. */
SHIM_COLD static ssize_t send_oob_traced(int fd, const void *buf, size_t len,
					 int flags)
{
	SENT1F(fd, LIBC(send)(fd, buf, len, flags), buf, len, flags);
}

/* The flag is tested before the call, while it is in a register: the
 * usual send keeps nothing more alive across it (stream_part after the
 * call cost every traced send ~7 instructions). */
SHIM_TRACED static ssize_t send_traced(int fd, const void *buf, size_t len,
				     int flags)
{
	if (__builtin_expect(flags & MSG_OOB, 0))
		return send_oob_traced(fd, buf, len, flags);
	SENT1(fd, LIBC(send)(fd, buf, len, flags), buf, len);
}

TTFT_PUBLIC ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	if (UNTRACED(fd))
		return LIBC(send)(fd, buf, len, flags);
	return send_traced(fd, buf, len, flags);
}

SHIM_COLD static ssize_t sendto_traced(int fd, const void *buf, size_t len,
				       int flags, const struct sockaddr *sa,
				       socklen_t alen)
{
	SENT1F(fd, LIBC(sendto)(fd, buf, len, flags, sa, alen), buf, len, flags);
}

/* TCP Fast Open: sendto/sendmsg with MSG_FASTOPEN and an address connect
 * and send in one call, on a socket no connect() was seen for (its
 * request was invisible, and the log said nothing was missing). The
 * connection begins where the call does and is set up where it returns
 * when the kernel says it is by then (a blocking call); returned with the
 * handshake under way (non-blocking, the data in the SYN), when it ends
 * is not known; on EINPROGRESS (non-blocking, no cookie: nothing sent)
 * it is pending as a non-blocking connect's. */
SHIM_COLD static ssize_t fastopen_traced(int fd, const void *buf, size_t len,
					 const struct msghdr *msg, int flags,
					 const struct sockaddr *sa,
					 socklen_t alen)
{
	/* msg and the address are read only once the kernel has (as
	 * connect's) */
	uint32_t forks = shim_forks_now();
	int64_t t0 = shim_now();
	ssize_t r = msg ? LIBC(sendmsg)(fd, msg, flags)
			: LIBC(sendto)(fd, buf, len, flags, sa, alen);
	int e = errno;
	int64_t t1 = shim_now();
	if (msg) {
		if (!shim_call_read_args(r, e))
			goto out;
		sa = msg->msg_name;
		alen = msg->msg_namelen;
		if (alen > sizeof(struct sockaddr_storage)) /* the kernel's clip */
			alen = sizeof(struct sockaddr_storage);
	}
	if (shim_addr_was_read(r, e, alen) && shim_wants(fd, sa, alen)) {
		shim_connect_begin(fd, sa, t0, forks);
		if (r >= 0 && !shim_tcp_established(fd))
			/* sent in the SYN, the handshake not done yet */
			shim_connect_end_unknown(fd, t1);
		else
			shim_connect_end(fd, r < 0 ? -1 : 0, e, t1);
		if (r < 0) /* msg may be what made it fail (EFAULT) */
			shim_on_sent(fd, NULL, 0, r, e, t0, t1);
		else if (msg)
			shim_on_sent(fd, msg->msg_iov, (int)msg->msg_iovlen,
				     stream_part(r, flags), e, t0, t1);
		else
			shim_on_sent1(fd, buf, len, stream_part(r, flags), e, t0,
				      t1);
	}
out:
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t sendto(int fd, const void *buf, size_t len, int flags,
			   const struct sockaddr *sa, socklen_t alen)
{
	if (UNTRACED(fd)) {
		if (__builtin_expect(!(flags & MSG_FASTOPEN) || !sa, 1))
			return LIBC(sendto)(fd, buf, len, flags, sa, alen);
		return fastopen_traced(fd, buf, len, NULL, flags, sa, alen);
	}
	return sendto_traced(fd, buf, len, flags, sa, alen);
}

SHIM_COLD static ssize_t sendmsg_traced(int fd, const struct msghdr *msg,
					int flags)
{
	if (!msg)
		return LIBC(sendmsg)(fd, msg, flags);
	int64_t t0 = shim_now();
	ssize_t r = LIBC(sendmsg)(fd, msg, flags);
	int e = errno;
	/* failed: msg may be what the kernel refused (EFAULT), never read */
	if (r < 0)
		shim_on_sent(fd, NULL, 0, r, e, t0, shim_now());
	else
		shim_on_sent(fd, msg->msg_iov, (int)msg->msg_iovlen,
			     stream_part(r, flags), e, t0, shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	if (UNTRACED(fd)) {
		if (__builtin_expect(!(flags & MSG_FASTOPEN) || !msg, 1))
			return LIBC(sendmsg)(fd, msg, flags);
		return fastopen_traced(fd, NULL, 0, msg, flags, NULL, 0);
	}
	return sendmsg_traced(fd, msg, flags);
}

SHIM_COLD static int sendmmsg_traced(int fd, struct mmsghdr *vec,
				     unsigned vlen, int flags)
{
	if (!vec)
		return LIBC(sendmmsg)(fd, vec, vlen, flags);
	int64_t t0 = shim_now();
	int r = LIBC(sendmmsg)(fd, vec, vlen, flags);
	int e = errno;
	int64_t t1 = shim_now();
	if (r < 0)
		shim_on_sent(fd, NULL, 0, r, e, t0, t1);
	for (int i = 0; i < r; i++)
		shim_on_sent(fd, vec[i].msg_hdr.msg_iov,
			     (int)vec[i].msg_hdr.msg_iovlen,
			     stream_part(vec[i].msg_len, flags), 0, t0, t1);
	errno = e;
	return r;
}

TTFT_PUBLIC int sendmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags)
{
	if (UNTRACED(fd))
		return LIBC(sendmmsg)(fd, vec, vlen, flags);
	return sendmmsg_traced(fd, vec, vlen, flags);
}

SHIM_TRACED static ssize_t write_traced(int fd, const void *buf, size_t len)
{
	SENT1(fd, LIBC(write)(fd, buf, len), buf, len);
}

TTFT_PUBLIC ssize_t write(int fd, const void *buf, size_t len)
{
	if (UNTRACED(fd))
		return LIBC(write)(fd, buf, len);
	return write_traced(fd, buf, len);
}

SHIM_COLD static ssize_t writev_traced(int fd, const struct iovec *iov,
				       int cnt)
{
	SENT(fd, LIBC(writev)(fd, iov, cnt), iov, cnt);
}

TTFT_PUBLIC ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	if (UNTRACED(fd))
		return LIBC(writev)(fd, iov, cnt);
	return writev_traced(fd, iov, cnt);
}

SHIM_COLD static ssize_t pwritev2_traced(int fd, const struct iovec *iov, int cnt,
					 off64_t off, int flags, int big)
{
	SENT(fd, big ? LIBC(pwritev64v2)(fd, iov, cnt, off, flags)
		     : LIBC(pwritev2)(fd, iov, cnt, (off_t)off, flags),
	     iov, cnt);
}

TTFT_PUBLIC ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	if (UNTRACED(fd))
		return LIBC(pwritev2)(fd, iov, cnt, off, flags);
	return pwritev2_traced(fd, iov, cnt, off, flags, 0);
}

TTFT_PUBLIC ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off,
				int flags)
{
	if (UNTRACED(fd))
		return LIBC(pwritev64v2)(fd, iov, cnt, off, flags);
	return pwritev2_traced(fd, iov, cnt, off, flags, 1);
}

/* Bytes that go from a file (sendfile) or a pipe (splice) straight to the
 * socket: the shim counts them against the request body it expects. */
SHIM_COLD static ssize_t sendfile_traced(int out, int in, off_t *off,
					 size_t n, int is64)
{
	int64_t t0 = shim_now();
	ssize_t r = is64 ? LIBC(sendfile64)(out, in, off, n)
			 : LIBC(sendfile)(out, in, off, n);
	int e = errno;
	shim_on_sent_unseen(out, r, e, t0, shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	if (UNTRACED(out))
		return LIBC(sendfile)(out, in, off, n);
	return sendfile_traced(out, in, off, n, 0);
}

TTFT_PUBLIC ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	if (UNTRACED(out))
		return LIBC(sendfile64)(out, in, off, n);
	return sendfile_traced(out, in, off, n, 1);
}

/* splice from a traced socket: the bytes go into a pipe the shim cannot
 * read without taking them, so it peeks at them first (never blocking, at
 * most one buffer) and splices no more than it saw: bytes that arrive
 * between the peek and the splice would otherwise pass unseen (a busy
 * machine makes that likely). A short splice is within splice's contract;
 * the caller asks again. Only when nothing was there to peek at does a
 * (blocking) splice take bytes the shim did not see; they are reported as
 * unseen. */
#define SHIM_PEEK 4096

SHIM_COLD static ssize_t splice_traced(int in, loff_t *ioff, int out,
				       loff_t *ooff, size_t len, unsigned fl)
{
	char peek[SHIM_PEEK];
	ssize_t seen = 0;
	struct shim_held hin = shim_hold(in);
	int traced_in = hin.slot != 0, traced_out = shim_slot(out) != 0;
	if (traced_in && len) {
		int e = errno;
		seen = LIBC(recv)(in, peek, len < sizeof peek ? len : sizeof peek,
				  MSG_PEEK | MSG_DONTWAIT);
		if (seen < 0)
			seen = 0;
		errno = e;
	}
	if (seen > 0 && (size_t)seen < len)
		len = (size_t)seen;
	int64_t t0 = shim_now();
	ssize_t r = LIBC(splice)(in, ioff, out, ooff, len, fl);
	int e = errno;
	int64_t t1 = shim_now();
	if (traced_out)
		shim_on_sent_unseen(out, r, e, t0, t1);
	if (traced_in) {
		struct iovec iov = {peek, r > 0 && r < seen ? (size_t)r : (size_t)seen};
		if (r <= 0) {
			iov.iov_len = len;
			shim_on_recv(in, hin, &iov, 1, r, e, 0, t1);
		} else {
			shim_on_recv(in, hin, &iov, 1, (ssize_t)iov.iov_len, 0,
				     0, t1);
			if (r > seen)
				shim_on_recv_unseen(in, t1);
		}
	}
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t splice(int in, loff_t *ioff, int out, loff_t *ooff,
			   size_t len, unsigned fl)
{
	if (UNTRACED(in) && UNTRACED(out))
		return LIBC(splice)(in, ioff, out, ooff, len, fl);
	return splice_traced(in, ioff, out, ooff, len, fl);
}

/* ---- receiving ---- */

/* slot last: the arguments stay in the registers the call's are in */
SHIM_TRACED static ssize_t recv_traced(int fd, void *buf, size_t len,
				       int flags, unsigned slot)
{
	RECEIVED1(fd, slot, LIBC(recv)(fd, buf, len, flags), buf, len, flags);
}

TTFT_PUBLIC ssize_t recv(int fd, void *buf, size_t len, int flags)
{
	unsigned slot = shim_slot(fd);
	if (UNTRACED_SLOT(slot))
		return LIBC(recv)(fd, buf, len, flags);
	return recv_traced(fd, buf, len, flags, slot);
}

SHIM_TRACED static ssize_t recvfrom_traced(int fd, unsigned slot, void *buf,
					   size_t len, int flags,
					   struct sockaddr *sa, socklen_t *alen)
{
	RECEIVED1(fd, slot, LIBC(recvfrom)(fd, buf, len, flags, sa, alen), buf, len,
		  flags);
}

TTFT_PUBLIC ssize_t recvfrom(int fd, void *buf, size_t len, int flags,
			     struct sockaddr *sa, socklen_t *alen)
{
	unsigned slot = shim_slot(fd);
	if (UNTRACED_SLOT(slot))
		return LIBC(recvfrom)(fd, buf, len, flags, sa, alen);
	return recvfrom_traced(fd, slot, buf, len, flags, sa, alen);
}

/* fds received in control data (SCM_RIGHTS, SCM_PIDFD) are new numbers:
 * stale state for each is dropped (see "new fd numbers" below). Called
 * only after the call succeeded: the kernel has then read and written
 * *msg, set msg_controllen to the bytes it filled and written every
 * header within them (MSG_CTRUNC cuts the list there; the fds it could
 * not pass on it closed itself). Headers are copied out: nothing says
 * the host's buffer is aligned. */
static void fresh_received(const struct msghdr *msg)
{
	const unsigned char *p = msg->msg_control;
	size_t left = msg->msg_controllen;
	while (left >= sizeof(struct cmsghdr)) {
		struct cmsghdr h;
		memcpy(&h, p, sizeof h);
		if (h.cmsg_len < CMSG_LEN(0) || h.cmsg_len > left)
			return;
		if (h.cmsg_level == SOL_SOCKET &&
		    (h.cmsg_type == SCM_RIGHTS || h.cmsg_type == SCM_PIDFD)) {
			size_t n = (h.cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < n; i++) {
				int fd;
				memcpy(&fd, p + CMSG_LEN(0) + i * sizeof fd,
				       sizeof fd);
				shim_fresh(fd);
			}
		}
		size_t step = CMSG_ALIGN(h.cmsg_len);
		if (step >= left)
			return;
		p += step;
		left -= step;
	}
}

/* ret, with errno as the call left it */
SHIM_COLD static ssize_t recvmsg_fds(const struct msghdr *msg, ssize_t ret)
{
	int e = errno;
	fresh_received(msg);
	errno = e;
	return ret;
}

SHIM_COLD static int recvmmsg_fds_from(const struct mmsghdr *vec, int i,
					int ret)
{
	int e = errno;
	for (; i < ret; i++)
		fresh_received(&vec[i].msg_hdr);
	errno = e;
	return ret;
}

/* Not cold: a UDP server's every batch comes here (one load a message
 * when none carries control data). */
__attribute__((noinline)) static int recvmmsg_fds(const struct mmsghdr *vec,
						 int ret)
{
	for (int i = 0; i < ret; i++)
		if (vec[i].msg_hdr.msg_controllen)
			return recvmmsg_fds_from(vec, i, ret);
	return ret;
}

SHIM_COLD static ssize_t recvmsg_traced(int fd, struct msghdr *msg, int flags)
{
	if (!msg)
		return LIBC(recvmsg)(fd, msg, flags);
	struct shim_held h = shim_hold(fd);
	ssize_t r = LIBC(recvmsg)(fd, msg, flags);
	int e = errno;
	/* failed: msg may be what the kernel refused (EFAULT), never read */
	if (r < 0) {
		shim_on_recv(fd, h, NULL, 0, r, e, flags, shim_now());
		errno = e;
		return r;
	}
	/* MSG_TRUNC in the result: the datagram-style cut lost bytes. */
	int f = flags | (msg->msg_flags & MSG_TRUNC);
	shim_on_recv(fd, h, msg->msg_iov, (int)msg->msg_iovlen, r, e, f,
		     shim_now());
	errno = e;
	return r;
}

/* No fd of this process was ever traced (map_fd raises shim_fd_hi before
 * it maps one): none is traced now and no number holds stale state, so a
 * receive is the call alone, whatever fds it brings. One load: less than
 * UNTRACED's bounds check and table load, and still a tail call. */
#define NOTHING_TRACED_YET()                                                 \
	__builtin_expect(__atomic_load_n(&shim_fd_hi, __ATOMIC_RELAXED) == 0, 1)

/* Untraced (a Unix socket is: the only kind that passes fds): the call,
 * then its control data looked at only if it has any. *msg is read only
 * after the kernel has (before, an unreadable one would be SIGSEGV where
 * the kernel says EFAULT). A traced fd is a TCP socket: no fds come. */
SHIM_COLD static ssize_t recvmsg_untraced(int fd, struct msghdr *msg, int flags)
{
	ssize_t r = LIBC(recvmsg)(fd, msg, flags);
	if (r >= 0 && msg->msg_controllen != 0)
		return recvmsg_fds(msg, r);
	return r;
}

TTFT_PUBLIC ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	if (NOTHING_TRACED_YET())
		return LIBC(recvmsg)(fd, msg, flags);
	if (UNTRACED(fd))
		return recvmsg_untraced(fd, msg, flags);
	return recvmsg_traced(fd, msg, flags);
}

SHIM_COLD static int recvmmsg_traced(int fd, struct mmsghdr *vec,
				     unsigned vlen, int flags,
				     struct timespec *timeout)
{
	if (!vec)
		return LIBC(recvmmsg)(fd, vec, vlen, flags, timeout);
	struct shim_held h = shim_hold(fd);
	int r = LIBC(recvmmsg)(fd, vec, vlen, flags, timeout);
	int e = errno;
	int64_t t1 = shim_now();
	if (r < 0)
		shim_on_recv(fd, h, NULL, 0, r, e, flags, t1);
	for (int i = 0; i < r; i++)
		shim_on_recv(fd, h, vec[i].msg_hdr.msg_iov,
			     (int)vec[i].msg_hdr.msg_iovlen, vec[i].msg_len, 0,
			     flags, t1);
	errno = e;
	return r;
}

TTFT_PUBLIC int recvmmsg(int fd, struct mmsghdr *vec, unsigned vlen, int flags,
			 struct timespec *timeout)
{
	if (NOTHING_TRACED_YET())
		return LIBC(recvmmsg)(fd, vec, vlen, flags, timeout);
	if (UNTRACED(fd)) {
		int r = LIBC(recvmmsg)(fd, vec, vlen, flags, timeout);
		if (r > 0)
			return recvmmsg_fds(vec, r);
		return r;
	}
	return recvmmsg_traced(fd, vec, vlen, flags, timeout);
}

SHIM_TRACED static ssize_t read_traced(int fd, void *buf, size_t len,
				       unsigned slot)
{
	RECEIVED1(fd, slot, LIBC(read)(fd, buf, len), buf, len, 0);
}

TTFT_PUBLIC ssize_t read(int fd, void *buf, size_t len)
{
	unsigned slot = shim_slot(fd);
	if (UNTRACED_SLOT(slot))
		return LIBC(read)(fd, buf, len);
	return read_traced(fd, buf, len, slot);
}

SHIM_COLD static ssize_t readv_traced(int fd, const struct iovec *iov, int cnt)
{
	RECEIVED(fd, LIBC(readv)(fd, iov, cnt), iov, cnt, 0);
}

TTFT_PUBLIC ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	if (UNTRACED(fd))
		return LIBC(readv)(fd, iov, cnt);
	return readv_traced(fd, iov, cnt);
}

/* preadv2/pwritev2 at offset -1 read and write a socket as readv/writev
 * do (with RWF_ flags, not MSG_ ones); any other offset on a socket is
 * ESPIPE: nothing moved. */
SHIM_COLD static ssize_t preadv2_traced(int fd, const struct iovec *iov, int cnt,
					off64_t off, int flags, int big)
{
	RECEIVED(fd, big ? LIBC(preadv64v2)(fd, iov, cnt, off, flags)
			 : LIBC(preadv2)(fd, iov, cnt, (off_t)off, flags),
		 iov, cnt, 0);
}

TTFT_PUBLIC ssize_t preadv2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
	if (UNTRACED(fd))
		return LIBC(preadv2)(fd, iov, cnt, off, flags);
	return preadv2_traced(fd, iov, cnt, off, flags, 0);
}

TTFT_PUBLIC ssize_t preadv64v2(int fd, const struct iovec *iov, int cnt, off64_t off,
			       int flags)
{
	if (UNTRACED(fd))
		return LIBC(preadv64v2)(fd, iov, cnt, off, flags);
	return preadv2_traced(fd, iov, cnt, off, flags, 1);
}

/* ---- POSIX AIO ---- */

/* glibc's aio_read/aio_write/lio_listio hand each request to threads of
 * its own, whose pread/pwrite are system calls inside libc: the shim sees
 * none of that I/O. A traced fd submitted is said (shim_aio: its rows
 * say their I/O went through AIO, not timed), then the call goes on to
 * the real one as a tail call: its return, errno and the aiocb are the
 * host's. The aiocb is read as glibc reads it first thing; a list only
 * for a mode glibc goes on to read it for. */
/* p, as the compiler may not assume it: glibc declares these arguments
 * nonnull, and a NULL check would go (a host's NULL is glibc's fault to
 * take, not the shim's) */
static inline const void *opaque(const void *p)
{
	__asm__("" : "+r"(p));
	return p;
}

SHIM_COLD static void aio_said(int fd, int opcode)
{
	if (!UNTRACED(fd) && (opcode == LIO_READ || opcode == LIO_WRITE))
		shim_aio(fd, opcode == LIO_READ ? TTFT_AIO_READ : TTFT_AIO_WRITE);
}

TTFT_PUBLIC int aio_read(struct aiocb *cb)
{
	if (opaque(cb))
		aio_said(cb->aio_fildes, LIO_READ);
	return LIBC(aio_read)(cb);
}

TTFT_PUBLIC int aio_read64(struct aiocb64 *cb)
{
	if (opaque(cb))
		aio_said(cb->aio_fildes, LIO_READ);
	return LIBC(aio_read64)(cb);
}

TTFT_PUBLIC int aio_write(struct aiocb *cb)
{
	if (opaque(cb))
		aio_said(cb->aio_fildes, LIO_WRITE);
	return LIBC(aio_write)(cb);
}

TTFT_PUBLIC int aio_write64(struct aiocb64 *cb)
{
	if (opaque(cb))
		aio_said(cb->aio_fildes, LIO_WRITE);
	return LIBC(aio_write64)(cb);
}

TTFT_PUBLIC int lio_listio(int mode, struct aiocb *const list[], int n,
			   struct sigevent *sev)
{
	if (opaque(list) && (mode == LIO_WAIT || mode == LIO_NOWAIT))
		for (int i = 0; i < n; i++)
			if (list[i])
				aio_said(list[i]->aio_fildes, list[i]->aio_lio_opcode);
	return LIBC(lio_listio)(mode, list, n, sev);
}

TTFT_PUBLIC int lio_listio64(int mode, struct aiocb64 *const list[], int n,
			     struct sigevent *sev)
{
	if (opaque(list) && (mode == LIO_WAIT || mode == LIO_NOWAIT))
		for (int i = 0; i < n; i++)
			if (list[i])
				aio_said(list[i]->aio_fildes, list[i]->aio_lio_opcode);
	return LIBC(lio_listio64)(mode, list, n, sev);
}

SHIM_COLD static ssize_t read_chk_traced(int fd, void *buf, size_t len,
					 size_t buflen)
{
	RECEIVED1(fd, shim_slot(fd), LIBC(read_chk)(fd, buf, len, buflen), buf, len, 0);
}

TTFT_PUBLIC ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	if (UNTRACED(fd))
		return LIBC(read_chk)(fd, buf, len, buflen);
	return read_chk_traced(fd, buf, len, buflen);
}

SHIM_COLD static ssize_t recv_chk_traced(int fd, void *buf, size_t len,
					 size_t buflen, int flags)
{
	RECEIVED1(fd, shim_slot(fd), LIBC(recv_chk)(fd, buf, len, buflen, flags), buf, len,
		  flags);
}

TTFT_PUBLIC ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen,
			       int flags)
{
	if (UNTRACED(fd))
		return LIBC(recv_chk)(fd, buf, len, buflen, flags);
	return recv_chk_traced(fd, buf, len, buflen, flags);
}

SHIM_COLD static ssize_t recvfrom_chk_traced(int fd, void *buf, size_t len,
					     size_t buflen, int flags,
					     struct sockaddr *sa,
					     socklen_t *alen)
{
	RECEIVED1(fd, shim_slot(fd), LIBC(recvfrom_chk)(fd, buf, len, buflen, flags, sa, alen),
		  buf, len, flags);
}

TTFT_PUBLIC ssize_t __recvfrom_chk(int fd, void *buf, size_t len,
				   size_t buflen, int flags,
				   struct sockaddr *sa, socklen_t *alen)
{
	if (UNTRACED(fd))
		return LIBC(recvfrom_chk)(fd, buf, len, buflen, flags, sa, alen);
	return recvfrom_chk_traced(fd, buf, len, buflen, flags, sa, alen);
}

/* ---- fd lifetime ---- */

SHIM_COLD static int close_traced(int fd)
{
	/* Before the real close: once the number is free, another thread's
	 * socket()+connect() may claim it. */
	int e = errno; /* its calls may fail (a seccomp filter): not the host's */
	shim_closing(fd, shim_now());
	errno = e;
	return LIBC(close)(fd);
}

TTFT_PUBLIC int close(int fd)
{
	if (UNTRACED(fd))
		return LIBC(close)(fd);
	return close_traced(fd);
}

/* The traced fds in [first, last] are closing now. */
static void closing_range(unsigned first, unsigned last)
{
	unsigned hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_RELAXED);
	if (first >= hi)
		return;
	unsigned end = last < hi - 1 ? last : hi - 1;
	int64_t t = 0;
	int e = errno;
	for (unsigned fd = first; fd <= end; fd++) {
		if (shim_slot((int)fd)) {
			if (!t)
				t = shim_now();
			shim_closing((int)fd, t);
		}
	}
	errno = e;
}

/* Whether close_range(first, last, flags) closes anything now. The table
 * is dropped before the call (after it, another thread may already have
 * the numbers again), so the calls the kernel refuses (EINVAL: unknown
 * flags, first > last) are told apart first: they close nothing and the
 * connections stay traced. With CLOSE_RANGE_CLOEXEC nothing closes now,
 * only at exec, where the shim's state goes away with the old image. */
static int range_closes(unsigned first, unsigned last, unsigned flags)
{
	return first <= last &&
	       !(flags & ~(unsigned)(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC)) &&
	       !(flags & CLOSE_RANGE_CLOEXEC);
}

TTFT_PUBLIC int close_range(unsigned first, unsigned last, int flags)
{
	if (range_closes(first, last, (unsigned)flags))
		closing_range(first, last);
	return LIBC(close_range)(first, last, flags);
}

TTFT_PUBLIC void closefrom(int lowfd)
{
	if (lowfd >= 0)
		closing_range((unsigned)lowfd, ~0u);
	LIBC(closefrom)(lowfd);
}

/* A stream's fd without a call: fileno() may set errno (a stream with no
 * fd), which the host must not see changed. */
static int stream_fd(FILE *f)
{
	return f ? f->_fileno : -1;
}

/* stdio writes through libc's internal write, which no preloaded library
 * sees. A program that writes a request to a socket with stdio (bash's
 * printf >&3) flushes the stream: what a flush sends is the pending buffer,
 * still in place when the call returns. (A flush inside fwrite/printf is
 * watched in ttft_stdio.c, the one at exit in ttft_stdio_exit.c.) */
static void stream_sent(FILE *f, const char *base, const char *ptr,
			int64_t t0, int64_t t1)
{
	if (ptr > base) {
		struct iovec iov = {(void *)base, (size_t)(ptr - base)};
		shim_on_sent(f->_fileno, &iov, 1, ptr - base, 0, t0, t1);
	}
}

SHIM_COLD static int fflush_traced(FILE *f, int unlocked)
{
	const char *base = f->_IO_write_base, *ptr = f->_IO_write_ptr;
	int64_t t0 = shim_now();
	int r = unlocked ? LIBC(fflush_unlocked)(f) : LIBC(fflush)(f);
	int e = errno;
	if (r == 0)
		stream_sent(f, base, ptr, t0, shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC int fflush(FILE *f)
{
	if (UNTRACED(stream_fd(f)))
		return LIBC(fflush)(f);
	return fflush_traced(f, 0);
}

TTFT_PUBLIC int fflush_unlocked(FILE *f)
{
	if (UNTRACED(stream_fd(f)))
		return LIBC(fflush_unlocked)(f);
	return fflush_traced(f, 1);
}

/* fclose flushes and closes the fd inside libc: the pending bytes count as
 * sent, and the fd closes before the number is free. */
SHIM_COLD static int fclose_traced(FILE *f)
{
	int64_t t = shim_now();
	int e = errno;
	stream_sent(f, f->_IO_write_base, f->_IO_write_ptr, t, t);
	shim_closing(f->_fileno, t);
	errno = e;
	return LIBC(fclose)(f);
}

TTFT_PUBLIC int fclose(FILE *f)
{
	shim_stdio_closing(f); /* not to be flushed at exit */
	if (UNTRACED(stream_fd(f)))
		return LIBC(fclose)(f);
	return fclose_traced(f);
}

SHIM_COLD static int dup_after(int oldfd, int r, int replaced, int64_t t)
{
	int e = errno;
	if (r >= 0)
		shim_dup(oldfd, r, replaced, t);
	errno = e;
	return r;
}

TTFT_PUBLIC int dup(int fd)
{
	int r = LIBC(dup)(fd);
	if (UNTRACED(fd) && UNTRACED(r))
		return r;
	return dup_after(fd, r, 0, 0);
}

TTFT_PUBLIC int dup2(int oldfd, int newfd)
{
	if (UNTRACED(oldfd) && UNTRACED(newfd))
		return LIBC(dup2)(oldfd, newfd);
	int64_t t = shim_now();
	return dup_after(oldfd, LIBC(dup2)(oldfd, newfd), 1, t);
}

TTFT_PUBLIC int dup3(int oldfd, int newfd, int flags)
{
	if (UNTRACED(oldfd) && UNTRACED(newfd))
		return LIBC(dup3)(oldfd, newfd, flags);
	int64_t t = shim_now();
	return dup_after(oldfd, LIBC(dup3)(oldfd, newfd, flags), 1, t);
}

/* fcntl passes its third argument through as one word (what glibc does). */
TTFT_PUBLIC int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return LIBC(fcntl)(fd, cmd, arg);
	int r = LIBC(fcntl)(fd, cmd, arg);
	if (UNTRACED(fd) && UNTRACED(r))
		return r;
	return dup_after(fd, r, 0, 0);
}

TTFT_PUBLIC int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	unsigned long arg = va_arg(ap, unsigned long);
	va_end(ap);
	if (cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC)
		return LIBC(fcntl64)(fd, cmd, arg);
	int r = LIBC(fcntl64)(fd, cmd, arg);
	if (UNTRACED(fd) && UNTRACED(r))
		return r;
	return dup_after(fd, r, 0, 0);
}

/* syscall(): Node's libuv closes sockets with syscall(SYS_close, fd).
 * Numbers that close, duplicate or hand out fds are followed; the rest
 * (futex, gettid, ...) leave after one table lookup. */
enum { SYS_KIND_NONE, SYS_KIND_CLOSE, SYS_KIND_RANGE, SYS_KIND_DUP,
       SYS_KIND_DUP2, SYS_KIND_NEW, SYS_KIND_PAIR, SYS_KIND_MSG };

static int sys_kind(long n)
{
	switch (n) {
	case SYS_close: return SYS_KIND_CLOSE;
#ifdef SYS_close_range
	case SYS_close_range: return SYS_KIND_RANGE;
#endif
	case SYS_dup: return SYS_KIND_DUP;
	case SYS_dup2:
	case SYS_dup3: return SYS_KIND_DUP2;
	case SYS_fcntl: return SYS_KIND_DUP; /* F_DUPFD only, checked below */
	case SYS_open:
	case SYS_openat:
#ifdef SYS_openat2
	case SYS_openat2:
#endif
	case SYS_creat:
	case SYS_socket:
	case SYS_accept:
	case SYS_accept4:
	case SYS_eventfd:
	case SYS_eventfd2:
	case SYS_epoll_create:
	case SYS_epoll_create1:
	case SYS_memfd_create:
	case SYS_timerfd_create:
	case SYS_signalfd:
	case SYS_signalfd4:
	case SYS_inotify_init:
	case SYS_inotify_init1:
#ifdef SYS_pidfd_open
	case SYS_pidfd_open:
#endif
#ifdef SYS_pidfd_getfd
	case SYS_pidfd_getfd:
#endif
	case SYS_perf_event_open:
	case SYS_userfaultfd:
	case SYS_fanotify_init: return SYS_KIND_NEW;
	case SYS_pipe:
	case SYS_pipe2:
	case SYS_socketpair: return SYS_KIND_PAIR;
	case SYS_recvmsg:
	case SYS_recvmmsg: return SYS_KIND_MSG;
	default: return SYS_KIND_NONE;
	}
}

SHIM_COLD static long syscall_fd(int kind, long n, long a, long b, long c,
				 long d, long e, long g)
{
	long (*real)(long, ...) = LIBC(syscall);
	long r;
	int err;
	switch (kind) {
	case SYS_KIND_CLOSE:
		if (!UNTRACED((int)a)) {
			err = errno; /* its calls may fail (a seccomp filter) */
			shim_closing((int)a, shim_now());
			errno = err;
		}
		return real(n, a, b, c, d, e, g);
	case SYS_KIND_RANGE:
		if (range_closes((unsigned)a, (unsigned)b, (unsigned)c))
			closing_range((unsigned)a, (unsigned)b);
		return real(n, a, b, c, d, e, g);
	case SYS_KIND_DUP:
		if (n == SYS_fcntl && b != F_DUPFD && b != F_DUPFD_CLOEXEC)
			return real(n, a, b, c, d, e, g);
		r = real(n, a, b, c, d, e, g);
		return r == (int)r && !(UNTRACED((int)a) && UNTRACED((int)r))
			       ? dup_after((int)a, (int)r, 0, 0)
			       : r;
	case SYS_KIND_DUP2: {
		int64_t t = shim_now();
		r = real(n, a, b, c, d, e, g);
		return r == (int)r ? dup_after((int)a, (int)r, 1, t) : r;
	}
	case SYS_KIND_NEW:
		r = real(n, a, b, c, d, e, g);
		err = errno;
		if (r == (int)r)
			shim_fresh((int)r);
		errno = err;
		return r;
	case SYS_KIND_MSG: /* fds received, as recvmsg/recvmmsg's */
		r = real(n, a, b, c, d, e, g);
		if (n == SYS_recvmsg && r >= 0 &&
		    ((const struct msghdr *)b)->msg_controllen)
			return recvmsg_fds((const struct msghdr *)b, r);
		if (n == SYS_recvmmsg && r > 0)
			return recvmmsg_fds((const struct mmsghdr *)b, (int)r);
		return r;
	default: /* SYS_KIND_PAIR: the fds are in the array at a (or d) */
		r = real(n, a, b, c, d, e, g);
		if (r == 0) {
			const int *fds = (const int *)(n == SYS_socketpair ? d : a);
			err = errno;
			shim_fresh(fds[0]);
			shim_fresh(fds[1]);
			errno = err;
		}
		return r;
	}
}

TTFT_PUBLIC long syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), g = va_arg(ap, long);
	va_end(ap);
	int kind = sys_kind(n);
	if (__builtin_expect(kind == SYS_KIND_NONE, 1))
		return LIBC(syscall)(n, a, b, c, d, e, g);
	return syscall_fd(kind, n, a, b, c, d, e, g);
}

/* ---- new fd numbers ---- */

#define FRESH(CALL)                                                          \
	do {                                                                 \
		int r_ = (CALL);                                             \
		shim_fresh(r_);                                              \
		return r_;                                                   \
	} while (0)

#define FRESH_OPEN(m, ...)                                                   \
	va_list ap;                                                          \
	va_start(ap, flags);                                                 \
	int mode = open_mode(flags, ap);                                     \
	va_end(ap);                                                          \
	FRESH(LIBC(m)(__VA_ARGS__, mode))

TTFT_PUBLIC int open(const char *path, int flags, ...)
{
	FRESH_OPEN(open, path, flags);
}

TTFT_PUBLIC int open64(const char *path, int flags, ...)
{
	FRESH_OPEN(open64, path, flags);
}

TTFT_PUBLIC int openat(int dirfd, const char *path, int flags, ...)
{
	FRESH_OPEN(openat, dirfd, path, flags);
}

TTFT_PUBLIC int openat64(int dirfd, const char *path, int flags, ...)
{
	FRESH_OPEN(openat64, dirfd, path, flags);
}

TTFT_PUBLIC int __open_2(const char *path, int flags)
{
	FRESH(LIBC(open_2)(path, flags));
}

TTFT_PUBLIC int __open64_2(const char *path, int flags)
{
	FRESH(LIBC(open64_2)(path, flags));
}

TTFT_PUBLIC int __openat_2(int dirfd, const char *path, int flags)
{
	FRESH(LIBC(openat_2)(dirfd, path, flags));
}

TTFT_PUBLIC int __openat64_2(int dirfd, const char *path, int flags)
{
	FRESH(LIBC(openat64_2)(dirfd, path, flags));
}

TTFT_PUBLIC int creat(const char *path, mode_t mode)
{
	FRESH(LIBC(creat)(path, mode));
}

TTFT_PUBLIC int creat64(const char *path, mode_t mode)
{
	FRESH(LIBC(creat64)(path, mode));
}

TTFT_PUBLIC int socket(int domain, int type, int protocol)
{
	FRESH(LIBC(socket)(domain, type, protocol));
}

TTFT_PUBLIC int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	FRESH(LIBC(accept)(fd, sa, len));
}

TTFT_PUBLIC int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	FRESH(LIBC(accept4)(fd, sa, len, flags));
}

TTFT_PUBLIC int eventfd(unsigned initval, int flags)
{
	FRESH(LIBC(eventfd)(initval, flags));
}

TTFT_PUBLIC int timerfd_create(int clockid, int flags)
{
	FRESH(LIBC(timerfd_create)(clockid, flags));
}

TTFT_PUBLIC int signalfd(int fd, const sigset_t *mask, int flags)
{
	FRESH(LIBC(signalfd)(fd, mask, flags));
}

TTFT_PUBLIC int epoll_create(int size)
{
	FRESH(LIBC(epoll_create)(size));
}

TTFT_PUBLIC int epoll_create1(int flags)
{
	FRESH(LIBC(epoll_create1)(flags));
}

TTFT_PUBLIC int memfd_create(const char *name, unsigned flags)
{
	FRESH(LIBC(memfd_create)(name, flags));
}

TTFT_PUBLIC int inotify_init(void)
{
	FRESH(LIBC(inotify_init)());
}

TTFT_PUBLIC int inotify_init1(int flags)
{
	FRESH(LIBC(inotify_init1)(flags));
}

TTFT_PUBLIC int mkstemp(char *tmpl)
{
	FRESH(LIBC(mkstemp)(tmpl));
}

TTFT_PUBLIC int mkstemp64(char *tmpl)
{
	FRESH(LIBC(mkstemp64)(tmpl));
}

TTFT_PUBLIC int mkostemp(char *tmpl, int flags)
{
	FRESH(LIBC(mkostemp)(tmpl, flags));
}

TTFT_PUBLIC int mkostemp64(char *tmpl, int flags)
{
	FRESH(LIBC(mkostemp64)(tmpl, flags));
}

TTFT_PUBLIC int mkstemps(char *tmpl, int suffixlen)
{
	FRESH(LIBC(mkstemps)(tmpl, suffixlen));
}

TTFT_PUBLIC int mkstemps64(char *tmpl, int suffixlen)
{
	FRESH(LIBC(mkstemps64)(tmpl, suffixlen));
}

TTFT_PUBLIC int mkostemps(char *tmpl, int suffixlen, int flags)
{
	FRESH(LIBC(mkostemps)(tmpl, suffixlen, flags));
}

TTFT_PUBLIC int mkostemps64(char *tmpl, int suffixlen, int flags)
{
	FRESH(LIBC(mkostemps64)(tmpl, suffixlen, flags));
}

/* glibc opens these inside itself (its own open, which no preloaded
 * library sees): the number they hand out is fresh all the same */
TTFT_PUBLIC int shm_open(const char *name, int oflag, mode_t mode)
{
	FRESH(LIBC(shm_open)(name, oflag, mode));
}

TTFT_PUBLIC int posix_openpt(int oflag)
{
	FRESH(LIBC(posix_openpt)(oflag));
}

TTFT_PUBLIC int getpt(void)
{
	FRESH(LIBC(getpt)());
}

/* glibc 2.36's. Under an older libc (a library built here preloaded into
 * an older container) the name is the shim's alone, and a host that
 * looks it up finds it: the call is then the system call itself, as the
 * host's fallback would make it (libc's ENOSYS, when it has none, asked
 * of the kernel: the same answer where the kernel has none either). */
#ifdef SYS_pidfd_open
TTFT_PUBLIC int pidfd_open(pid_t pid, unsigned flags)
{
	int r = LIBC(pidfd_open)(pid, flags);
	if (r < 0 && errno == ENOSYS)
		r = (int)LIBC(syscall)(SYS_pidfd_open, (long)pid, (long)flags, 0L, 0L, 0L, 0L);
	shim_fresh(r);
	return r;
}
#endif

#ifdef SYS_pidfd_getfd
/* a copy of another process's fd (or our own), at a number of ours */
TTFT_PUBLIC int pidfd_getfd(int pidfd, int targetfd, unsigned flags)
{
	int r = LIBC(pidfd_getfd)(pidfd, targetfd, flags);
	if (r < 0 && errno == ENOSYS)
		r = (int)LIBC(syscall)(SYS_pidfd_getfd, (long)pidfd, (long)targetfd,
				       (long)flags, 0L, 0L, 0L);
	shim_fresh(r);
	return r;
}
#endif

static void fresh_pair(int r, const int *fds)
{
	if (r == 0) {
		shim_fresh(fds[0]);
		shim_fresh(fds[1]);
	}
}

TTFT_PUBLIC int pipe(int fds[2])
{
	int r = LIBC(pipe)(fds);
	fresh_pair(r, fds);
	return r;
}

TTFT_PUBLIC int pipe2(int fds[2], int flags)
{
	int r = LIBC(pipe2)(fds, flags);
	fresh_pair(r, fds);
	return r;
}

TTFT_PUBLIC int socketpair(int domain, int type, int protocol, int fds[2])
{
	int r = LIBC(socketpair)(domain, type, protocol, fds);
	fresh_pair(r, fds);
	return r;
}

TTFT_PUBLIC FILE *fopen(const char *path, const char *mode)
{
	FILE *f = LIBC(fopen)(path, mode);
	shim_fresh(stream_fd(f));
	return f;
}

TTFT_PUBLIC FILE *fopen64(const char *path, const char *mode)
{
	FILE *f = LIBC(fopen64)(path, mode);
	shim_fresh(stream_fd(f));
	return f;
}

TTFT_PUBLIC FILE *tmpfile(void)
{
	FILE *f = LIBC(tmpfile)();
	shim_fresh(stream_fd(f));
	return f;
}

TTFT_PUBLIC FILE *tmpfile64(void)
{
	FILE *f = LIBC(tmpfile64)();
	shim_fresh(stream_fd(f));
	return f;
}

/* freopen closes the stream's old fd inside libc, then opens another. */
TTFT_PUBLIC FILE *freopen(const char *path, const char *mode, FILE *stream)
{
	int old = stream_fd(stream);
	if (!UNTRACED(old)) {
		int e = errno; /* its calls may fail (a seccomp filter) */
		shim_closing(old, shim_now());
		errno = e;
	}
	FILE *f = LIBC(freopen)(path, mode, stream);
	shim_fresh(stream_fd(f));
	return f;
}

TTFT_PUBLIC FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
	int old = stream_fd(stream);
	if (!UNTRACED(old)) {
		int e = errno; /* its calls may fail (a seccomp filter) */
		shim_closing(old, shim_now());
		errno = e;
	}
	FILE *f = LIBC(freopen64)(path, mode, stream);
	shim_fresh(stream_fd(f));
	return f;
}

/* ---- the rest ---- */

SHIM_COLD static int getsockopt_traced(int fd, int level, int name, void *val,
				       socklen_t *len)
{
	int r = LIBC(getsockopt)(fd, level, name, val, len);
	if (r != 0 || level != SOL_SOCKET || name != SO_ERROR || !val ||
	    !len || *len < sizeof(int) || !shim_pending(fd))
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

TTFT_PUBLIC int getsockopt(int fd, int level, int name, void *val,
			   socklen_t *len)
{
	if (UNTRACED(fd))
		return LIBC(getsockopt)(fd, level, name, val, len);
	return getsockopt_traced(fd, level, name, val, len);
}

SHIM_COLD static int getaddrinfo_traced(const char *node, const char *service,
					const struct addrinfo *hints,
					struct addrinfo **res)
{
	int e = errno;
	shim_dns(0, node, 0, shim_now());
	errno = e;
	int r = LIBC(getaddrinfo)(node, service, hints, res);
	e = errno;
	shim_dns(1, node, r, shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC int getaddrinfo(const char *node, const char *service,
			    const struct addrinfo *hints,
			    struct addrinfo **res)
{
	if (!shim_on)
		return LIBC(getaddrinfo)(node, service, hints, res);
	return getaddrinfo_traced(node, service, hints, res);
}
