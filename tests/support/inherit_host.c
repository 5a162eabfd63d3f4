/* inherit_host — a program that finds its connection already open: it
 * sends streamed requests on an fd it inherited across exec (test_shim_inherit).
 *
 *   inherit_host FD N    N streamed requests, one after the other, on FD
 *
 * Prints "tokens K" for each response (-1 if the connection ended first).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int stream(int fd)
{
	static const char req[] = "POST /v1/completions?tokens=3 HTTP/1.1\r\n"
				  "Host: x\r\nContent-Length: 15\r\n\r\n{\"stream\":true}";
	if (write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1)
		return -1;
	static char buf[1 << 16];
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
		if (r <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = 0;
		if (strstr(buf, "\r\n0\r\n\r\n"))
			break;
	}
	int tokens = 0;
	for (char *p = buf; (p = strstr(p, "\"text\":\" t")); p++)
		tokens++;
	return tokens;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: inherit_host FD N\n");
		return 2;
	}
	int fd = atoi(argv[1]), n = atoi(argv[2]);
	for (int i = 0; i < n; i++)
		printf("tokens %d\n", stream(fd));
	return 0;
}
