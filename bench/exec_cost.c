/* exec_cost.c — what the shim adds to every exec'd process: fork + exec +
 * exit of /bin/true, timed from the parent, without the shim, with it
 * (the constructor: real functions, the log's header, and the scan for
 * inherited connections over stdin/stdout/stderr), and with it while the
 * process inherits 64 more fds, one of them a connected TCP socket that is
 * adopted (docs/shim.md, "How it follows a connection"). Median of
 * batches; a figure, never a pass/fail.
 *
 * usage: exec_cost LIBTTFTSHIM.so [EXECS]
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double child_cpu_us(void)
{
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + ru.ru_utime.tv_usec +
	       ru.ru_stime.tv_usec;
}

/* Median over batches of the µs one fork+exec+exit+wait takes; *cpu: the
 * children's own CPU time (user + system) per exec, over all batches. */
static double run(char **env, int execs, double *cpu)
{
	enum { BATCHES = 9 };
	double per[BATCHES];
	double c0 = child_cpu_us();
	char *argv[] = {"true", NULL};
	for (int b = 0; b < BATCHES; b++) {
		double t0 = now_us();
		for (int i = 0; i < execs / BATCHES; i++) {
			pid_t p;
			if (posix_spawn(&p, "/bin/true", NULL, NULL, argv, env) != 0) {
				perror("posix_spawn");
				exit(1);
			}
			int st;
			waitpid(p, &st, 0);
		}
		per[b] = (now_us() - t0) / (execs / BATCHES);
	}
	*cpu = (child_cpu_us() - c0) / (execs / BATCHES * BATCHES);
	qsort(per, BATCHES, sizeof *per, cmp);
	return per[BATCHES / 2];
}

/* Instructions /bin/true runs in user space (callgrind: exact, unlike the
 * times on a busy machine), -1 without valgrind. */
static long instructions(char **env)
{
	int pfd[2];
	if (pipe(pfd))
		return -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	char *argv[] = {"valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
			"/bin/true", NULL};
	pid_t p;
	int rc = posix_spawnp(&p, "valgrind", &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (rc != 0) {
		close(pfd[0]);
		return -1;
	}
	char buf[8192];
	size_t n = 0;
	ssize_t r;
	while (n + 1 < sizeof buf && (r = read(pfd[0], buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(pfd[0]);
	int st;
	waitpid(p, &st, 0);
	const char *c = strstr(buf, "Collected :");
	return c ? atol(c + strlen("Collected :")) : -1;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: exec_cost LIBTTFTSHIM.so [EXECS]\n");
		return 2;
	}
	int execs = argc > 2 ? atoi(argv[2]) : 900;
	char log[] = "/dev/shm/ttft-exec-cost.XXXXXX";
	int lf = mkstemp(log);
	if (lf < 0)
		return 1;
	close(lf);
	unlink(log); /* the shim creates it */
	char pre[4200], tl[sizeof log + 16];
	snprintf(pre, sizeof pre, "LD_PRELOAD=%s", argv[1]);
	snprintf(tl, sizeof tl, "TTFT_LOG=%s", log);
	char *plain[] = {"PATH=/usr/bin:/bin", NULL};
	char *shim[] = {"PATH=/usr/bin:/bin", pre, tl, NULL};

	double ca, cb, cc, cd;
	double a = run(plain, execs, &ca);
	double b = run(shim, execs, &cb);
	long ia = instructions(plain), ib = instructions(shim);

	/* 64 more fds: 62 pipe ends, a listening socket and a connection */
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof sa;
	if (bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 4) ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl))
		return 1;
	int cs = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(cs, (struct sockaddr *)&sa, sizeof sa))
		return 1;
	int pf[62];
	for (int i = 0; i < 62; i += 2)
		if (pipe(pf + i))
			return 1;
	double c = run(shim, execs, &cc);
	double d = run(plain, execs, &cd);
	long ic = instructions(shim), id = instructions(plain);

	printf("exec cost (fork + exec + exit of /bin/true; wall: median of 9 batches of %d;\n"
	       "cpu: the child's user + system time):\n", execs / 9);
	printf("                                         wall us    cpu us\n");
	printf("  without the shim, 3 fds               %8.1f  %8.1f\n", a, ca);
	printf("  with the shim, 3 fds                  %8.1f  %8.1f   (+%.1f cpu)\n", b, cb,
	       cb - ca);
	printf("  without the shim, 67 fds              %8.1f  %8.1f\n", d, cd);
	printf("  with the shim, 67 fds, 1 connection   %8.1f  %8.1f   (+%.1f cpu)\n", c, cc,
	       cc - cd);
	if (ia > 0 && ib > 0 && ic > 0 && id > 0) {
		printf("  instructions of the whole process (callgrind, user space):\n");
		printf("    3 fds:  %ld without the shim, %ld with (+%ld)\n", ia, ib, ib - ia);
		printf("    67 fds: %ld without the shim, %ld with (+%ld; +%ld for the 64 "
		       "more fds and the connection)\n", id, ic, ic - id, (ic - id) - (ib - ia));
	} else {
		printf("  (instructions: valgrind not found)\n");
	}
	for (int i = 0; i < 62; i++)
		close(pf[i]);
	close(cs);
	close(ls);
	unlink(log);
	return 0;
}
