/* inherit_host — a program that finds its connection already open: it
 * sends streamed requests on an fd it inherited across exec (test_shim_inherit).
 *
 *   inherit_host FD N    N streamed requests, one after the other, on FD
 *   inherit_host --handoff PORT
 *                        connects to 127.0.0.1:PORT, sends a streamed
 *                        request, posix_spawns itself with the socket as
 *                        fd 20 (file actions: adddup2, addclose) to read
 *                        the answer, closes its own copy, and only then
 *                        lets the child read (a byte on a pipe)
 *   inherit_host --handoff-late PORT
 *                        the same, but the child looks at the socket
 *                        first (a peek) and only then the parent closes
 *   inherit_host --read FD PIPEFD [BACKFD]
 *                        the child: peeks and says so on BACKFD (when
 *                        given), waits for the parent's byte, reads the
 *                        answer
 *
 * Prints "tokens K" for each response (-1 if the connection ended first).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char req[] = "POST /v1/completions?tokens=3 HTTP/1.1\r\n"
			  "Host: x\r\nContent-Length: 15\r\n\r\n{\"stream\":true}";

static int answer(int fd)
{
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

static int stream(int fd)
{
	if (write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1)
		return -1;
	return answer(fd);
}

static int handoff(const char *self, int port, int late)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), pp[2], qq[2] = {-1, -1};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || fd == 20 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    write(fd, req, sizeof req - 1) != (ssize_t)sizeof req - 1 || pipe(pp) != 0 ||
	    (late && pipe(qq) != 0))
		return 1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd, 20);
	posix_spawn_file_actions_addclose(&fa, fd);
	posix_spawn_file_actions_addclose(&fa, pp[1]);
	if (late)
		posix_spawn_file_actions_addclose(&fa, qq[0]);
	char pfd[16], qfd[16];
	snprintf(pfd, sizeof pfd, "%d", pp[0]);
	snprintf(qfd, sizeof qfd, "%d", qq[1]);
	char *av[] = {(char *)self, "--read", "20", pfd, late ? qfd : NULL, NULL};
	pid_t c;
	char b;
	int spawned = posix_spawn(&c, self, &fa, NULL, av, environ);
	posix_spawn_file_actions_destroy(&fa); /* LeakSanitizer counts it */
	if (spawned != 0 || (late && (close(qq[1]) != 0 || read(qq[0], &b, 1) != 1)))
		return 1;
	close(fd); /* the parent's copy: the child's lives on */
	close(pp[0]);
	if (write(pp[1], "x", 1) != 1)
		return 1;
	int st;
	waitpid(c, &st, 0);
	printf("child %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: inherit_host FD N\n");
		return 2;
	}
	if (!strcmp(argv[1], "--handoff"))
		return handoff(argv[0], atoi(argv[2]), 0);
	if (!strcmp(argv[1], "--handoff-late"))
		return handoff(argv[0], atoi(argv[2]), 1);
	if (!strcmp(argv[1], "--read") && argc >= 4) {
		char b;
		/* a peek: the shim's first use of the inherited socket */
		if (argc == 5 && (recv(atoi(argv[2]), &b, 1, MSG_PEEK | MSG_DONTWAIT),
				  write(atoi(argv[4]), "x", 1) != 1))
			return 1;
		if (read(atoi(argv[3]), &b, 1) != 1) /* the parent closed its copy */
			return 1;
		printf("tokens %d\n", answer(atoi(argv[2])));
		return 0;
	}
	int fd = atoi(argv[1]), n = atoi(argv[2]);
	for (int i = 0; i < n; i++)
		printf("tokens %d\n", stream(fd));
	return 0;
}
