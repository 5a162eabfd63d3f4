/* ttft_shim.h — internals shared by the shim's files (not installed).
 *
 * Layering (after cwrap's socket_wrapper): the public wrapper (send) does the
 * fast-path check, then the logic here (shim_on_sent), which records events;
 * the real function is reached through libc_* pointers resolved with
 * dlsym(RTLD_NEXT), so the shim never calls itself.
 */
#ifndef TTFT_SHIM_H
#define TTFT_SHIM_H


#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netdb.h>

#include "ttft_http.h"

#define TTFT_HIDDEN __attribute__((visibility("hidden")))
#define TTFT_PUBLIC __attribute__((visibility("default")))

/* fds at or above this are never traced (documented in docs/shim.md). */
#define TTFT_MAX_FD 8192

/* shim_fd.tls: what the connection's bytes are. */
enum { SHIM_PLAIN = 0, SHIM_TLS_DARK = 1, SHIM_TLS_TAPPED = 2 };

struct shim_fd {
	uint32_t traced;          /* read with acquire, set with release */
	uint8_t pending;          /* non-blocking connect not yet seen done */
	uint8_t tx_started;       /* a byte was sent: the TLS test is done */
	uint8_t tls;              /* SHIM_*: TLS ciphertext never reaches the
	                             sniffer; a tapped TLS library feeds it */
	uint8_t wire_eof;         /* TLS: the socket read returned 0 */
	int64_t t_wire_rx;        /* TLS: return of the last ciphertext read */
	uint64_t conn;
	struct ttft_http_tx tx;   /* touched only by sending calls */
	struct ttft_http_rx rx;   /* touched only by receiving calls */
};

extern TTFT_HIDDEN struct shim_fd shim_fds[TTFT_MAX_FD];

/* The real functions. */
struct shim_libc {
	int (*connect)(int, const struct sockaddr *, socklen_t);
	ssize_t (*send)(int, const void *, size_t, int);
	ssize_t (*sendto)(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
	ssize_t (*sendmsg)(int, const struct msghdr *, int);
	int (*sendmmsg)(int, struct mmsghdr *, unsigned, int);
	ssize_t (*write)(int, const void *, size_t);
	ssize_t (*writev)(int, const struct iovec *, int);
	ssize_t (*recv)(int, void *, size_t, int);
	ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *,
			    socklen_t *);
	ssize_t (*recvmsg)(int, struct msghdr *, int);
	int (*recvmmsg)(int, struct mmsghdr *, unsigned, int, struct timespec *);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*readv)(int, const struct iovec *, int);
	ssize_t (*read_chk)(int, void *, size_t, size_t);
	ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
	ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int,
				struct sockaddr *, socklen_t *);
	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*getsockopt)(int, int, int, void *, socklen_t *);
	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	int (*socket)(int, int, int);
	int (*accept)(int, struct sockaddr *, socklen_t *);
	int (*accept4)(int, struct sockaddr *, socklen_t *, int);
	int (*dup)(int);
};

extern TTFT_HIDDEN struct shim_libc shim_libc;

/* Resolve the real function NAME into shim_libc.NAME if not yet done (calls
 * can arrive before the constructor, from other libraries' constructors). */
TTFT_HIDDEN void *shim_resolve(const char *name);
#define LIBC(fn, sym)                                                        \
	({                                                                   \
		if (__builtin_expect(shim_libc.fn == NULL, 0))               \
			shim_libc.fn =                                       \
				(__typeof__(shim_libc.fn))shim_resolve(sym); \
		shim_libc.fn;                                                \
	})

static inline int shim_is_traced(int fd)
{
	/* Acquire: pairs with the release in shim_on_connect, so the fd's
	 * state is initialised before we act on it. */
	return (unsigned)fd < TTFT_MAX_FD &&
	       __atomic_load_n(&shim_fds[fd].traced, __ATOMIC_ACQUIRE);
}

TTFT_HIDDEN int64_t shim_now(void);

/* Logic behind the wrappers; all preserve errno. */
TTFT_HIDDEN int shim_wants(int fd, const struct sockaddr *sa, socklen_t len);
TTFT_HIDDEN void shim_connect_begin(int fd, const struct sockaddr *sa,
				    int64_t t);
TTFT_HIDDEN void shim_connect_end(int fd, int ret, int err, int64_t t);
TTFT_HIDDEN void shim_established(int fd, int64_t t);
TTFT_HIDDEN void shim_connect_failed(int fd, int soerr, int64_t t);
TTFT_HIDDEN void shim_on_sent(int fd, const struct iovec *iov, int iovcnt,
			      ssize_t ret, int err, int64_t t0, int64_t t1);
TTFT_HIDDEN void shim_on_recv(int fd, const struct iovec *iov, int iovcnt,
			      ssize_t ret, int err, int flags, int64_t t1);
TTFT_HIDDEN void shim_on_close(int fd, int64_t t);
TTFT_HIDDEN void shim_forget(int fd);
TTFT_HIDDEN int shim_in_vfork_child(void);
TTFT_HIDDEN void shim_dns(int end, const char *host, int ret, int64_t t);

/* For the TLS taps (ttft_ssl.c). */
TTFT_HIDDEN int shim_tracing(void);
TTFT_HIDDEN void shim_put(uint16_t kind, uint16_t flags, int64_t t, int fd,
			  int err, uint64_t conn, int64_t a, int64_t b,
			  uint32_t seq, const char *text, size_t tlen);
/* Plaintext a TLS library handed over for the connection on fd. */
TTFT_HIDDEN void shim_plain_sent(int fd, const void *p, size_t n, int64_t t0,
				 int64_t t1);
TTFT_HIDDEN void shim_plain_recv(int fd, const void *p, size_t n, int64_t t1);
TTFT_HIDDEN void shim_plain_eof(int fd, int64_t t1);
/* The first bytes sent on fd (n of them, up to TTFT_TLS_HELLO) start a TLS
 * record: mark fd as TLS and tap the TLS library object that wrote it. */
#define TTFT_TLS_HELLO 43
TTFT_HIDDEN void shim_tls_hello(int fd, const uint8_t *p, size_t n, int64_t t);

#endif
