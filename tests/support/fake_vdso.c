/* fake_vdso.so — preloaded ahead of libttftshim.so (test_shim), it makes
 * the shim's vDSO lookup fail where the kernel gave a vDSO, as under a
 * loader namespace that does not name it so: with FAKE_VDSO=dlopen the
 * NOLOAD dlopen of "linux-vdso.so.1" fails, with FAKE_VDSO=dlvsym the
 * lookup of the clock's symbol does. Each failure is glibc's own (a real
 * dlopen of a file that is not there, a real dlvsym of a name the vDSO
 * does not have), so it leaves glibc's dlerror() message as the real one
 * would. It says on stderr each time it refused, so that a test can tell
 * its condition was met. Everything else goes to glibc unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mode_is(const char *m)
{
	const char *v = getenv("FAKE_VDSO");
	return v && !strcmp(v, m);
}

void *dlopen(const char *name, int flags)
{
	void *(*real)(const char *, int) =
		(void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
	if (name && !strcmp(name, "linux-vdso.so.1") && mode_is("dlopen")) {
		void *h = real("linux-vdso.so.1-not-here", flags);
		fprintf(stderr, "fake_vdso: dlopen(%s) refused\n", name);
		return h;
	}
	return real(name, flags);
}

void *dlvsym(void *h, const char *name, const char *ver)
{
	void *(*real)(void *, const char *, const char *) =
		(void *(*)(void *, const char *, const char *))dlsym(RTLD_NEXT, "dlvsym");
	if ((!strcmp(name, "__vdso_clock_gettime") ||
		     !strcmp(name, "__kernel_clock_gettime")) && mode_is("dlvsym")) {
		void *f = real(h, "fake_vdso_no_such_symbol", ver);
		fprintf(stderr, "fake_vdso: dlvsym(%s) refused\n", name);
		return f;
	}
	return real(h, name, ver);
}
