/* stdio_host — requests written with stdio calls whose bytes leave inside
 * libc, where no preloaded library sees a write (test_shim_stdio).
 *
 *   stdio_host exit FD      fdopen(FD) and fprintf the request; return from
 *                           main: libc's exit flush sends it
 *   stdio_host stdout       printf the request to stdout (not a tty: fully
 *                           buffered); exit() sends it
 *   stdio_host dprintf FD   dprintf the request, then read the response
 *                           on FD and print "tokens N"
 *   stdio_host raw FD       the same with syscall(SYS_write): truly unseen
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REQ "POST /v1/completions?tokens=4 HTTP/1.1\r\nHost: x\r\n" \
	    "Content-Length: 2\r\nConnection: close\r\n\r\n{}"

static int tokens(int fd)
{
	static char buf[1 << 16];
	size_t n = 0;
	ssize_t r;
	while (n + 1 < sizeof buf && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	int k = 0;
	for (char *p = buf; (p = strstr(p, "\"text\":\" t")); p++)
		k++;
	return k;
}

int main(int argc, char **argv)
{
	const char *m = argc > 1 ? argv[1] : "";
	int fd = argc > 2 ? atoi(argv[2]) : -1;
	if (!strcmp(m, "exit") && fd >= 0) {
		FILE *f = fdopen(fd, "w");
		if (!f)
			return 2;
		fprintf(f, "%s", REQ);
		return 0; /* the request is still in f's buffer */
	}
	if (!strcmp(m, "stdout")) {
		printf("%s", REQ);
		exit(0);
	}
	if (!strcmp(m, "dprintf") && fd >= 0) {
		if (dprintf(fd, "%s", REQ) < 0)
			return 2;
		printf("tokens %d\n", tokens(fd));
		return 0;
	}
	if (!strcmp(m, "raw") && fd >= 0) {
		if (syscall(SYS_write, fd, REQ, sizeof REQ - 1) != (long)sizeof REQ - 1)
			return 2;
		printf("tokens %d\n", tokens(fd));
		return 0;
	}
	fprintf(stderr, "usage: stdio_host exit FD | stdout | dprintf FD | raw FD\n");
	return 2;
}
