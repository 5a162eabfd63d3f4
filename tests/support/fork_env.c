/* fork_env.so — preloaded into ttft-run by test_cli: says on stderr when
 * a forked child changes its environment before it execs (setenv, putenv,
 * unsetenv, clearenv). Those allocate, and ttft-run forks CMD while a
 * helper thread (the exporter, the scraper) may hold an allocator lock:
 * its child must call nothing of the kind between fork and exec. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

static volatile int g_child;

static void child(void)
{
	g_child = 1;
}

__attribute__((constructor)) static void init(void)
{
	pthread_atfork(NULL, NULL, child);
}

static void *next(const char *name)
{
	if (g_child) {
		static const char m[] = "fork_env: the environment changed between fork and exec\n";
		(void)!write(2, m, sizeof m - 1);
	}
	return dlsym(RTLD_NEXT, name);
}

int setenv(const char *n, const char *v, int o)
{
	int (*f)(const char *, const char *, int) =
		(int (*)(const char *, const char *, int))next("setenv");
	return f(n, v, o);
}

int putenv(char *s)
{
	int (*f)(char *) = (int (*)(char *))next("putenv");
	return f(s);
}

int unsetenv(const char *n)
{
	int (*f)(const char *) = (int (*)(const char *))next("unsetenv");
	return f(n);
}

int clearenv(void)
{
	int (*f)(void) = (int (*)(void))next("clearenv");
	return f();
}
