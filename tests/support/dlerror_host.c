/* dlerror_host — what a host's dlerror() says around the shim's own
 * lookups (test_shim). Built with plain flags in every build, so that
 * valgrind can run it in the sanitizer builds too.
 *
 *   dlerror_host
 *       the first call is dlerror(): prints "dlerror: none" when nothing
 *       was left for it, else the message a preloaded library's start-up
 *       left behind ("dlerror: <message>"); exits 0 or 1.
 *   dlerror_host tls CALLER [own] [thread]
 *       loads CALLER (a library whose caller_read() makes the process's
 *       first SSL_read: tests/support/fake_ssl_caller.c), then, with
 *       "own", fails a dlopen of its own; then calls caller_read() and
 *       prints "read N" and what dlerror() says then. With "thread", all
 *       that on a second thread (dlerror() is per thread).
 *   dlerror_host printf [own]
 *       stdout on a loopback connection (traced), "own" as above, then a
 *       fortified printf to it (the process's first: the shim looks
 *       libc's __vsnprintf_chk up); prints what dlerror() says on stderr.
 * In both, what it prints must be the same with and without the shim:
 * "dlerror: none", or its own failed dlopen's message.
 */
#include "loopback.h"
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int __printf_chk(int flag, const char *fmt, ...);

static void own_failure(int own)
{
	if (own && dlopen("libttft-no-such-library.so.9", RTLD_NOW))
		fprintf(stderr, "dlerror_host: the missing library loaded\n");
}

static int said(FILE *to)
{
	const char *e = dlerror();
	fprintf(to, "dlerror: %s\n", e ? e : "none");
	fflush(to);
	return 0;
}

static int tls(const char *caller, int own)
{
	void *h = dlopen(caller, RTLD_NOW | RTLD_LOCAL);
	int (*fn)(void) = h ? (int (*)(void))dlsym(h, "caller_read") : NULL;
	if (!fn) {
		fprintf(stderr, "dlerror_host: cannot load %s: %s\n", caller,
			dlerror());
		return 2;
	}
	own_failure(own);
	int r = fn();
	printf("read %d\n", r);
	return said(stdout);
}

static int fortified(int own)
{
	int l, c = loopback_connect(&l);
	if (c < 0)
		return 2;
	fflush(stdout);
	if (dup2(c, 1) != 1)
		return 2;
	own_failure(own);
	__printf_chk(1, "GET /%s HTTP/1.1\r\n\r\n", "x");
	fflush(stdout);
	return said(stderr);
}

struct tls_args {
	const char *caller;
	int own, rc;
};

static void *tls_thread(void *arg)
{
	struct tls_args *a = arg;
	a->rc = tls(a->caller, a->own);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "tls") == 0) {
		struct tls_args a = {argv[2], 0, 2};
		int thread = 0;
		for (int i = 3; i < argc; i++) {
			a.own |= strcmp(argv[i], "own") == 0;
			thread |= strcmp(argv[i], "thread") == 0;
		}
		pthread_t t;
		if (!thread)
			tls_thread(&a);
		else if (pthread_create(&t, NULL, tls_thread, &a) ||
			 pthread_join(t, NULL))
			return 2;
		return a.rc;
	}
	if (argc >= 2 && strcmp(argv[1], "printf") == 0)
		return fortified(argc > 2 && strcmp(argv[2], "own") == 0);
	const char *e = dlerror();
	printf("dlerror: %s\n", e ? e : "none");
	return e != NULL;
}
