/* dlerror_host — a host whose first call is dlerror() (test_shim): prints
 * "dlerror: none" when nothing was left for it, else the message a
 * preloaded library's start-up left behind ("dlerror: <message>"), and
 * exits 0 or 1. Built with plain flags in every build, so that valgrind
 * can run it in the sanitizer builds too.
 */
#include <dlfcn.h>
#include <stdio.h>

int main(void)
{
	const char *e = dlerror();
	printf("dlerror: %s\n", e ? e : "none");
	return e != NULL;
}
