/* tls_two — one process, three "OpenSSL"s, each loaded RTLD_LOCAL behind
 * its own caller library (fake_ssl_caller.c), as CPython loads _ssl and a
 * wheel that bundles another copy: the real libssl 3, a second OpenSSL 3
 * ABI and an OpenSSL 1.1 ABI (both fake_ssl.c). Each SSL_read must reach
 * its caller's own copy, with or without the shim; prints what each
 * returned. The process itself links no TLS library.
 *   usage: tls_two DIR   (DIR holds libcaller{real,3,11}.so) */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int call(const char *dir, const char *lib, const char *fname)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/libcaller%s.so", dir, lib);
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	int (*fn)(void) = h ? (int (*)(void))dlsym(h, fname) : NULL;
	if (!fn) {
		fprintf(stderr, "tls_two: cannot load %s: %s\n", path, dlerror());
		return -999;
	}
	return fn();
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: tls_two DIR\n");
		return 2;
	}
	int real = call(argv[1], "real", "caller_read");
	int fake3 = call(argv[1], "3", "caller_read");
	int fake11 = call(argv[1], "11", "caller_read");
	errno = 0;
	int tail = call(argv[1], "3", "caller_read_tail");
	printf("real %d fake3 %d fake11 %d tail %d%s%s\n", real, fake3, fake11,
	       tail, tail < 0 ? " " : "", tail < 0 ? strerror(errno) : "");
	return 0;
}
