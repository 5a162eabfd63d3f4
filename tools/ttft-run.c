/* ttft-run — run any command under the shim with a private log, then print
 * the per-request TTFT analysis on stderr (CMD's own stdout stays clean). */

#include "ttft_analyze.h"
#include "ttft_cli.h"
#include "ttft_env.h"
#include "ttft_exporter.h"
#include "ttft_filter.h"
#include "ttft_preloadable.h"
#include "ttft_scrape.h"
#include "ttft_sentinel.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-run [--log PATH] [--json FILE] [--filter SPEC] [--metrics-url URL]\n"
"                [--metrics-interval MS] [--export ADDR [--export-linger S]\n"
"                [--export-max-series N]] [-q] -- CMD [ARGS...]\n"
"\n"
"Runs CMD with libttftshim.so preloaded and a fresh log, waits for it, then\n"
"prints the per-request TTFT table (see ttft-analyze) on stderr.\n"
"\n"
"  --log PATH         write the log to PATH and keep it (default: a private\n"
"                     log under /dev/shm, removed afterwards)\n"
"  --json FILE        also write the analysis as JSON to FILE ('-' = stdout)\n"
"  --filter SPEC      trace only matching connections: port:N, HOST:N, [V6]:N,\n"
"                     host:HOST, comma-separated (sets TTFT_FILTER)\n"
"  --metrics-url URL  sample the server's /metrics during the run into the\n"
"                     same log, so each request gets the server's queue /\n"
"                     prefill split where a window provably holds it alone;\n"
"                     every --metrics-interval MS, by default %d ms for vLLM\n"
"                     and %d ms for llama.cpp (docs/server-truth.md says why;\n"
"                     --metrics URL, the old name, still works).\n"
"                     prom+http://PROMETHEUS:9090?job=J&instance=I reads the\n"
"                     replica's scrapes from a Prometheus server instead (its\n"
"                     scrape interval is the resolution; after CMD it waits\n"
"                     for one more scrape, wait_s=S at most, default 120;\n"
"                     docs/server-truth.md)\n"
"  --export ADDR      while CMD runs, serve its requests' histograms and\n"
"                     counters on http://ADDR/metrics for Prometheus\n"
"                     (docs/fleet.md): PORT or :PORT listen on 127.0.0.1,\n"
"                     HOST:PORT where given (0.0.0.0 to be scraped from other\n"
"                     hosts); port 0 picks a free one. The address is printed\n"
"                     on stderr\n"
"  --export-linger S  after CMD ends, keep serving until Prometheus has\n"
"                     scraped the final numbers once, S seconds at most (0)\n"
"  --export-max-series N  label sets before requests are folded into\n"
"                     peer=\"other\" (default %d)\n"
"  -q, --quiet        no table on stderr (use with --json)\n"
"  -h, --help         this text\n"
"  --version          print the version\n"
"\n"
"The shim is found at $TTFT_SHIM, else next to this program. Every flag is\n"
"checked and every output path tried before CMD starts. If the JSON (or,\n"
"without one, the table: stderr on a full disk) cannot be written at the\n"
"end, the private log is kept and its path printed.\n"
"Processes CMD leaves running in the background are waited for before the\n"
"analysis (Ctrl-C stops waiting and keeps the log); orphans of CMD's that\n"
"end while it runs are reaped at once. SIGTERM, SIGHUP,\n"
"SIGUSR1... sent to ttft-run alone are passed on to CMD; sent to its\n"
"process group, CMD took them already and gets no second copy.\n"
"\n"
"exit status: CMD's own once it ran (when signal N ended CMD, ttft-run\n"
"ends by signal N too, leaving no core file: a shell shows 128+N);\n"
"1 CMD succeeded but the analysis could not be made or written; 2 usage\n"
"error (bad flag or value, unwritable --json or --log, no shim, an exporter\n"
"or /metrics source that cannot start), found before CMD runs; 126 CMD is\n"
"not executable; 127 CMD was not found.\n", TTFT_SCRAPE_VLLM_MS, TTFT_SCRAPE_LLAMACPP_MS,
		TTFT_EXPORT_MAX_SERIES);
}

static int find_shim(char *out, size_t len)
{
	const char *env = getenv("TTFT_SHIM");
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return access(out, R_OK) == 0 ? 0 : -1;
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	char *dir = dirname(self);
	const char *cands[] = {"%s/libttftshim.so", "%s/../lib/libttftshim.so"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(out, len, cands[i], dir);
		if (access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* Whether paths a and b name one file, one still to be made included:
 * the same inode where either exists, else the same directory and name. */
static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	int ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
	if (ea || eb)
		return ea && eb && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
	char ca[PATH_MAX], cb[PATH_MAX], ra[PATH_MAX], rb[PATH_MAX];
	snprintf(ca, sizeof ca, "%s", a);
	snprintf(cb, sizeof cb, "%s", b);
	if (!realpath(dirname(ca), ra) || !realpath(dirname(cb), rb) || strcmp(ra, rb))
		return 0;
	snprintf(ca, sizeof ca, "%s", a);
	snprintf(cb, sizeof cb, "%s", b);
	return !strcmp(basename(ca), basename(cb));
}

static volatile sig_atomic_t g_child; /* CMD's pid while it runs, else 0 */
static volatile sig_atomic_t g_stop_waiting;
static volatile sig_atomic_t g_cmd_sig; /* the signal that ended CMD, else 0 */
/* The private log, for die_before_cmd ("" for a --log, kept anyway). */
static char g_private[128];
/* The helpers a stop after CMD cuts short, while they run (else NULL). */
static struct ttft_exporter *volatile g_exporter;
static struct ttft_scraper *volatile g_scraper;

/* Ctrl-C, SIGTERM, SIGHUP before CMD runs (the log is made; a slow
 * /metrics source keeps the scraper's first snapshot seconds): ttft-run
 * ends as the signal would end it, its private log removed first. */
static void die_before_cmd(int sig)
{
	if (g_private[0])
		unlink(g_private);
	signal(sig, SIG_DFL);
	raise(sig); /* blocked in its handler: delivered, by default, on return */
}

/* SIGTERM, SIGHUP, SIGUSR1 … (ttft_sentinel_sigs) while CMD runs: passed
 * on, unless it went to our process group (kill -TERM -PGID, a terminal's
 * hangup, CMD's own kill(0, …)), which CMD is in: it took it then, and a
 * second copy from us would be one it never gets without ttft-run (a
 * server that takes a second SIGTERM as "quit now"). A CMD that left the
 * group gets it from us. Never ttft-run's end: a SIGUSR1 that CMD sent
 * its group killed ttft-run (by default), its log left behind. */
static struct ttft_sentinel g_sentinel = {.ask = -1, .answer = -1};
static void forward(int sig, siginfo_t *info, void *uc)
{
	(void)uc;
	pid_t child = g_child;
	if (child <= 0)
		return;
	int saved = errno;
	int group = ttft_sentinel_took(&g_sentinel, sig, info) == 1;
	pid_t g = getpgid(child);
	if (!group || (g > 0 && g != getpgrp()))
		kill(child, sig);
	errno = saved;
}

/* Ctrl-C, Ctrl-\ while CMD runs: when CMD is in our process group the
 * terminal gave them to it too, and we only wait (as system() does); a CMD
 * that made a group of its own (timeout, setsid -w) would never see them,
 * so it gets them from us, its whole group where it leads one, as from a
 * terminal. */
static void pass_on_outside(int sig)
{
	pid_t child = g_child;
	if (child <= 0)
		return;
	int saved = errno;
	pid_t g = getpgid(child);
	if (g > 0 && g != getpgrp())
		kill(g == child ? -g : child, sig);
	errno = saved;
}

/* After CMD: stop waiting for its background processes, for Prometheus's
 * next scrape, for the exporter's last one (--export-linger); what ran is
 * still analysed. */
static void stop_waiting(int sig)
{
	(void)sig;
	g_stop_waiting = 1;
	if (g_exporter)
		ttft_exporter_cut(g_exporter);
	if (g_scraper)
		ttft_scraper_cut(g_scraper);
}

static const int g_stops[] = {SIGINT, SIGTERM, SIGHUP};
#define NSTOPS (sizeof g_stops / sizeof g_stops[0])

static void on_stops(void (*handler)(int), int flags)
{
	struct sigaction sa = {0};
	sa.sa_handler = handler;
	sa.sa_flags = flags;
	for (size_t i = 0; i < NSTOPS; i++)
		sigaction(g_stops[i], &sa, NULL);
}

/* CMD has exited; processes it left running in the background (sh -c
 * 'curl … &') were reparented to us (we are their subreaper) and may still
 * write to the log. Wait for them: the log is analysed (and a private one
 * removed) only when nothing writes to it any more. Ctrl-C stops waiting;
 * then the log is kept, and the user told why. Returns 1 if some still run. */
static int wait_for_background(const char *cmd)
{
	int st;
	pid_t r = waitpid(-1, &st, WNOHANG);
	while (r > 0)
		r = waitpid(-1, &st, WNOHANG);
	if (r < 0)
		return 0; /* ECHILD: none left */
	fprintf(stderr, "ttft-run: '%s' exited, but processes it started in the "
			"background still run and write to the log; waiting for them "
			"(Ctrl-C or SIGTERM stops waiting and keeps the log)\n", cmd);
	while (!g_stop_waiting) {
		if (waitpid(-1, &st, 0) < 0 && errno == ECHILD)
			return 0;
	}
	return 1;
}

/* Wait for CMD (pid) and return its status in *st; 0, or -1 (errno).
 * Meanwhile reap the processes adopted as subreaper that end before it
 * (an orphan of CMD's: a server a shell started and outlived): they are
 * ours to reap, and a CMD that starts and stops many of them would fill
 * the process table with zombies until it ended. waitid's WNOWAIT names a
 * child that has ended without reaping it: CMD is reaped by its own pid
 * (its status is ours to give), the sentinel by ttft_sentinel_stop (its
 * pid must not be anyone's before that), any other by its pid, which no
 * other thread of ours waits for. A signal's handler interrupts the wait
 * (EINTR), as it did waitpid(pid). */
static int wait_cmd(pid_t pid, int *st)
{
	for (;;) {
		siginfo_t si;
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.si_pid == pid)
			break;
		if (si.si_pid == g_sentinel.pid)
			ttft_sentinel_stop(&g_sentinel); /* killed: took() says "not known" */
		else if (si.si_pid > 0)
			while (waitpid(si.si_pid, NULL, WNOHANG) < 0 && errno == EINTR)
				;
	}
	while (waitpid(pid, st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* CMD's environment: ours with LD_PRELOAD, TTFT_LOG and (when given)
 * TTFT_FILTER set, each once, made before the fork: the child then calls
 * nothing that allocates between fork and exec, where a helper thread (the
 * exporter, the scraper) may hold a lock of the allocator's (setenv there
 * hung a child under ThreadSanitizer before it ran CMD). One block, freed
 * with free(); NULL when out of memory. */
static char **cmd_env(const char *preload, const char *logpath, const char *filter)
{
	const char *set[3][2] = {{"LD_PRELOAD", preload}, {"TTFT_LOG", logpath},
				 {"TTFT_FILTER", filter}};
	size_t n = 0, bytes = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	for (int i = 0; i < 3; i++)
		if (set[i][1])
			bytes += strlen(set[i][0]) + strlen(set[i][1]) + 2;
	char **env = malloc((n + 4) * sizeof *env + bytes);
	if (!env)
		return NULL;
	char *s = (char *)(env + n + 4);
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		int ours = 0;
		for (int i = 0; i < 3; i++) {
			size_t l = strlen(set[i][0]);
			ours |= set[i][1] && !strncmp(*e, set[i][0], l) && (*e)[l] == '=';
		}
		if (!ours)
			env[k++] = *e;
	}
	for (int i = 0; i < 3; i++)
		if (set[i][1]) {
			env[k++] = s;
			s += sprintf(s, "%s=%s", set[i][0], set[i][1]) + 1;
		}
	env[k] = NULL;
	return env;
}

/* After CMD: the scraper's last snapshot, then the exporter, which drains
 * the log (and lingers for a last scrape when asked). */
static void stop_helpers(struct ttft_scraper *scraper, struct ttft_exporter *exporter,
			 int linger_s)
{
	if (scraper) {
		ttft_scraper_stop(scraper);
		g_scraper = NULL;
		if (scraper->failures)
			fprintf(stderr, "ttft-run: warning: %u of %u /metrics snapshots failed "
					"(first: %s); the server split is null where they are "
					"missing\n", scraper->failures,
				scraper->snapshots + scraper->quiet,
				scraper->first_error);
	}
	if (exporter) {
		ttft_exporter_stop(exporter, 1, linger_s * 1000);
		g_exporter = NULL; /* before its wake pipe is closed */
		if (exporter->fail[0])
			fprintf(stderr, "ttft-run: warning: the exporter stopped following "
					"the log: %s\n", exporter->fail);
		ttft_exporter_free(exporter);
	}
}

/* The private log is removed on the way out, unless the data in it could
 * not be written anywhere else. Where a signal ended CMD, ttft-run ends by
 * it too: a shell loop around ttft-run stops at Ctrl-C as it would around
 * CMD (bash goes on after a child that exited 130). Without a core file:
 * CMD's is the one that counts. */
static int finish(const char *logpath, int keep, int rc)
{
	if (!keep)
		unlink(logpath);
	int sig = g_cmd_sig;
	if (sig && rc == 128 + sig) {
		fflush(NULL);
		struct rlimit none = {0, 0};
		setrlimit(RLIMIT_CORE, &none);
		signal(sig, SIG_DFL);
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, sig);
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		raise(sig);
	}
	return rc; /* or a signal whose default is not to end */
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"log", required_argument, 0, 'l'},
		{"json", required_argument, 0, 'j'},
		{"filter", required_argument, 0, 'f'},
		{"quiet", no_argument, 0, 'q'},
		{"metrics-url", required_argument, 0, 'm'},
		{"metrics", required_argument, 0, 'm'},
		{"metrics-interval", required_argument, 0, 'i'},
		{"export", required_argument, 0, 'x'},
		{"export-linger", required_argument, 0, 'L'},
		{"export-max-series", required_argument, 0, 'M'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *logpath = NULL, *jsonpath = NULL, *filter = NULL, *metrics = NULL;
	long interval = 0, linger_s = 0, max_series = 0; /* interval 0: by the server */
	const char *export_addr = NULL;
	const char *export_only = NULL; /* a flag that means something with --export only */
	int quiet = 0, c, idx = 0;
	char err[512];
	while ((c = getopt_long(argc, argv, "+l:j:f:qh", opts, &idx)) != -1) {
		switch (c) {
		case 'm': metrics = optarg; break;
		case 'i':
			if (ttft_cli_long("metrics-interval", optarg, 1, 60000, &interval, err,
					  sizeof err) != 0) {
				fprintf(stderr, "ttft-run: %s (milliseconds)\n", err);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'x': export_addr = optarg; break;
		case 'L':
			export_only = "--export-linger";
			if (ttft_cli_long("export-linger", optarg, 0, 3600, &linger_s, err,
					  sizeof err) != 0) {
				fprintf(stderr, "ttft-run: %s (seconds)\n", err);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'M':
			export_only = "--export-max-series";
			if (ttft_cli_long("export-max-series", optarg, 1, 100000, &max_series, err,
					  sizeof err) != 0) {
				fprintf(stderr, "ttft-run: %s (label sets)\n", err);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'l': logpath = optarg; break;
		case 'j': jsonpath = optarg; break;
		case 'f': filter = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return TTFT_EXIT_OK;
		case 'V': printf("ttft-run (%s)\n", ttft_version()); return TTFT_EXIT_OK;
		default:
			fprintf(stderr, "ttft-run: see ttft-run --help\n");
			return TTFT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ttft-run: no command given (ttft-run [options] -- CMD ARGS...)\n");
		return TTFT_EXIT_USAGE;
	}
	if (interval && !metrics) {
		fprintf(stderr, "ttft-run: --metrics-interval is a --metrics-url setting: "
				"add --metrics-url URL, or leave it out\n");
		return TTFT_EXIT_USAGE;
	}
	if (export_only && !export_addr) {
		fprintf(stderr, "ttft-run: %s is an --export setting: add --export ADDR, or "
				"leave it out\n", export_only);
		return TTFT_EXIT_USAGE;
	}
	if (metrics && strncmp(metrics, "http://", 7) && strncmp(metrics, "https://", 8) &&
	    strncmp(metrics, "prom+http://", 12) && strncmp(metrics, "prom+https://", 13)) {
		fprintf(stderr, "ttft-run: bad value '%s' for --metrics-url: want the server's "
				"URL, http://HOST:PORT, or prom+http://PROMETHEUS:PORT?job=… "
				"(ttft-probe's --metrics takes auto, on or off)\n", metrics);
		return TTFT_EXIT_USAGE;
	}
	if (filter) {
		struct ttft_addr_filters fs;
		if (ttft_addr_filters_parse(&fs, filter) != 0 || fs.n == 0) {
			fprintf(stderr, "ttft-run: bad value '%s' for --filter: want port:N, "
					"HOST:N, [V6]:N or host:HOST (an IP address or "
					"localhost), comma-separated, at most %d\n", filter,
				TTFT_MAX_ADDR_FILTERS);
			return TTFT_EXIT_USAGE;
		}
	}
	/* What CMD inherits and the shim obeys, unasked for on this command
	 * line: TTFT_DISABLE, a TTFT_FILTER that --filter does not replace.
	 * Either can make the answer "0 HTTP requests": said before CMD runs
	 * and under an empty table; a TTFT_FILTER the shim would refuse (and
	 * trace nothing) is refused here, as --filter is. */
	const char *env_filter = filter ? NULL : getenv("TTFT_FILTER");
	if (env_filter && !*env_filter)
		env_filter = NULL;
	if (env_filter) {
		struct ttft_addr_filters fs;
		if (ttft_addr_filters_parse(&fs, env_filter) != 0) {
			fprintf(stderr, "ttft-run: TTFT_FILTER='%s' (from the environment) "
					"is not understood, so the shim would trace nothing: "
					"fix it (port:N, HOST:N, [V6]:N or host:HOST, "
					"comma-separated), unset it, or replace it with "
					"--filter\n", env_filter);
			return TTFT_EXIT_USAGE;
		}
	}
	char hidden[700] = "";
	if (ttft_env_disabled())
		snprintf(hidden, sizeof hidden, "TTFT_DISABLE=%.100s is set: the shim "
			 "traces nothing (env -u TTFT_DISABLE ttft-run … traces)",
			 getenv("TTFT_DISABLE"));
	else if (env_filter)
		snprintf(hidden, sizeof hidden, "TTFT_FILTER='%.500s' from the environment: "
			 "only the connections it matches are traced (--filter "
			 "replaces it; env -u TTFT_FILTER traces all)", env_filter);
	if (hidden[0])
		fprintf(stderr, "ttft-run: warning: %s\n", hidden);
	char unseen[600];
	ttft_unpreloadable(argv[optind], unseen, sizeof unseen);
	if (unseen[0])
		fprintf(stderr, "ttft-run: warning: %s\n", unseen);
	if (jsonpath && ttft_output_check("json", jsonpath, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-run: %s\n", err);
		return TTFT_EXIT_USAGE;
	}
	if (jsonpath && logpath && strcmp(jsonpath, "-") && same_file(jsonpath, logpath)) {
		fprintf(stderr, "ttft-run: --json %s and --log %s name the same file: the "
				"JSON would replace the log it is made from; name another\n",
			jsonpath, logpath);
		return TTFT_EXIT_USAGE;
	}
	char shim[PATH_MAX];
	if (find_shim(shim, sizeof shim) != 0) {
		fprintf(stderr, "ttft-run: cannot find libttftshim.so (looked at "
				"$TTFT_SHIM and next to ttft-run); run 'make' or "
				"set TTFT_SHIM\n");
		return TTFT_EXIT_USAGE;
	}
	char shim_abs[PATH_MAX];
	if (!realpath(shim, shim_abs))
		snprintf(shim_abs, sizeof shim_abs, "%s", shim);

	/* From here a stop removes the private log before it ends ttft-run;
	 * a signal ttft-run was told to ignore stays ignored (CMD gets it so).
	 * SIGPIPE is ignored from here (CMD gets back the disposition it was
	 * given): a reader of stderr gone (… 2>&1 | head) ends no ttft-run
	 * that has a log to remove. */
	struct sigaction given[NSTOPS], given_pipe;
	int caught[NSTOPS];
	for (size_t i = 0; i < NSTOPS; i++) {
		sigaction(g_stops[i], NULL, &given[i]);
		caught[i] = given[i].sa_handler != SIG_IGN;
		if (caught[i])
			signal(g_stops[i], die_before_cmd);
	}
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGPIPE, &ign, &given_pipe);
	int keep = logpath != NULL;
	if (!logpath) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(g_private, sizeof g_private, "/dev/shm/ttft-run.%ld.%ld.log",
			 (long)getpid(), (long)ts.tv_nsec);
		logpath = g_private;
	} else if (access(logpath, F_OK) == 0) {
		/* Replace an old log, but never a file that is not one. */
		struct ttft_log_view v;
		if (ttft_log_view_open(&v, logpath, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-run: --log %s exists and is not a "
					"ttftshim log; not overwriting it\n", logpath);
			return TTFT_EXIT_USAGE;
		}
		ttft_log_view_close(&v);
		unlink(logpath);
	}
	/* Create it here so that a bad path fails before CMD runs. */
	struct ttft_log log;
	const char *why = NULL;
	uint64_t mb;
	if (ttft_env_log_mb(&mb) != 0)
		fprintf(stderr, "ttft-run: warning: TTFT_LOG_MB='%s' is not a whole number "
				"of MiB in 1-%u; the log gets the default %u MiB\n",
			getenv("TTFT_LOG_MB"), TTFT_LOG_MB_MAX, TTFT_LOG_DEFAULT_MB);
	if (ttft_log_open(&log, logpath, mb << 20, &why) != 0) {
		fprintf(stderr, "ttft-run: cannot create --log %s: %s (%s)\n",
			logpath, why, strerror(errno));
		return TTFT_EXIT_USAGE;
	}
	if (log.warning) /* the shim's processes find the log made: say it here */
		fprintf(stderr, "ttft-run: warning: %s\n", log.warning);
	ttft_log_close(&log);

	static struct ttft_exporter exporter;
	if (export_addr) {
		if (ttft_exporter_start(&exporter, export_addr, logpath, (size_t)max_series, 0,
					err, sizeof err) != 0) {
			fprintf(stderr, "ttft-run: --export: %s\n", err);
			return finish(logpath, keep, TTFT_EXIT_USAGE);
		}
		fprintf(stderr, "ttft-run: exporting on http://%s/metrics\n",
			ttft_exporter_addr(&exporter));
		g_exporter = &exporter;
	}
	struct ttft_scraper scraper;
	if (metrics) {
		if (ttft_scraper_start(&scraper, metrics, logpath, (int)interval, err,
				       sizeof err) != 0) {
			fprintf(stderr, "ttft-run: --metrics-url: %s\n", err);
			if (export_addr) {
				g_exporter = NULL;
				ttft_exporter_free(&exporter);
			}
			return finish(logpath, keep, TTFT_EXIT_USAGE);
		}
		g_scraper = &scraper;
	}
	const char *old = getenv("LD_PRELOAD");
	char *preload;
	if (old && *old) {
		size_t n = strlen(shim_abs) + strlen(old) + 2;
		preload = malloc(n);
		if (preload)
			snprintf(preload, n, "%s:%s", shim_abs, old);
	} else {
		preload = strdup(shim_abs);
	}
	char **env = preload ? cmd_env(preload, logpath, filter) : NULL;
	if (!env) {
		free(preload);
		fprintf(stderr, "ttft-run: out of memory\n");
		stop_helpers(metrics ? &scraper : NULL, export_addr ? &exporter : NULL, 0);
		return finish(logpath, keep, TTFT_EXIT_FAILED);
	}
	/* Orphans of CMD come to us, not to init: see wait_cmd and
	 * wait_for_background. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	/* A close-on-exec pipe tells whether CMD started: it closes unread on
	 * exec, or carries exec's errno. */
	int ep[2];
	sigset_t stops, mask;
	sigemptyset(&stops);
	for (size_t i = 0; i < NSTOPS; i++)
		sigaddset(&stops, g_stops[i]);
	/* no stop lands between fork and the child's own dispositions, nor
	 * between fork and ours for the time CMD runs */
	for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++)
		sigaddset(&stops, ttft_sentinel_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &stops, &mask);
	pid_t pid = pipe2(ep, O_CLOEXEC) == 0 ? fork() : -1;
	if (pid == 0) {
		/* CMD gets what ttft-run was given: a handler of ours would
		 * remove the log under it */
		for (size_t i = 0; i < NSTOPS; i++)
			if (caught[i])
				sigaction(g_stops[i], &given[i], NULL);
		sigaction(SIGPIPE, &given_pipe, NULL);
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
	} else if (pid > 0) {
		g_child = pid;
		/* after CMD's fork, with the signals it keeps blocked: one
		 * the group is sent from here is CMD's too; between the two
		 * forks it would be CMD's and not the sibling's (passed on:
		 * twice, as before the sibling), where the other order lost
		 * one sent before CMD was (the sibling's, not passed on) */
		(void)ttft_sentinel_start(&g_sentinel, argv);
		/* Like system(): Ctrl-C goes to CMD (same process group); we
		 * wait to print what it did (pass_on_outside: unless CMD left
		 * the group). Ignored when ttft-run was started so. Termination
		 * requests are passed on. A reader of our output that goes away
		 * (ttft-run … | head -1) must not kill us before the log is
		 * removed: SIGPIPE stays ignored. */
		struct sigaction sa = {0}, quit;
		sigaction(SIGQUIT, NULL, &quit);
		sa.sa_handler = caught[0] ? pass_on_outside : SIG_IGN; /* g_stops[0]: SIGINT */
		/* no SA_RESTART: the waits below retry on EINTR, and under
		 * ThreadSanitizer, which runs a handler only once the call it
		 * came in returns, a restarted waitpid held it until CMD had
		 * ended (the signal then passed on to nobody) */
		sa.sa_flags = 0;
		sigaction(SIGINT, &sa, NULL);
		sa.sa_handler = quit.sa_handler != SIG_IGN ? pass_on_outside : SIG_IGN;
		sigaction(SIGQUIT, &sa, NULL);
		sa.sa_handler = NULL;
		sa.sa_sigaction = forward;
		/* one at a time: they share the sibling's pipes */
		for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++)
			sigaddset(&sa.sa_mask, ttft_sentinel_sigs[i]);
		for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++) {
			int sig = ttft_sentinel_sigs[i];
			struct sigaction was;
			sigaction(sig, NULL, &was);
			/* one ttft-run was told to ignore, CMD ignores too */
			if (sig != SIGTERM && sig != SIGHUP && was.sa_handler == SIG_IGN)
				continue;
			sa.sa_flags = SA_SIGINFO;
			sigaction(sig, &sa, NULL);
		}
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
	} else {
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
	}
	if (pid < 0) {
		perror("ttft-run: fork");
		ttft_sentinel_stop(&g_sentinel);
		free(preload);
		free(env);
		stop_helpers(metrics ? &scraper : NULL, export_addr ? &exporter : NULL, 0);
		return finish(logpath, keep, TTFT_EXIT_FAILED);
	}
	if (pid == 0) {
		close(ep[0]);
		execvpe(argv[optind], argv + optind, env);
		int e = errno;
		(void)!write(ep[1], &e, sizeof e);
		_exit(e == ENOENT ? 127 : 126);
	}
	free(preload);
	free(env);
	close(ep[1]);
	int exec_errno = 0;
	ssize_t got;
	while ((got = read(ep[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (got == (ssize_t)sizeof exec_errno) {
		fprintf(stderr, "ttft-run: cannot run '%s': %s\n", argv[optind],
			strerror(exec_errno));
		waitpid(pid, NULL, 0);
		g_child = 0;
		ttft_sentinel_stop(&g_sentinel);
		stop_helpers(metrics ? &scraper : NULL, export_addr ? &exporter : NULL, 0);
		return finish(logpath, keep, exec_errno == ENOENT ? 127 : 126);
	}
	int status = 0;
	if (wait_cmd(pid, &status) != 0) {
		perror("ttft-run: waitpid");
		stop_helpers(metrics ? &scraper : NULL, export_addr ? &exporter : NULL, 0);
		return finish(logpath, keep, TTFT_EXIT_FAILED);
	}
	/* CMD is reaped: its pid may be anyone's now, and is never signalled */
	g_child = 0;
	ttft_sentinel_stop(&g_sentinel); /* not one of CMD's to wait for */
	/* nobody to pass them on to: ignored, so that none cuts the table's
	 * write short (EINTR; the stops' handlers restart, below) */
	for (int i = 0; i < TTFT_SENTINEL_NSIGS; i++)
		if (ttft_sentinel_sigs[i] != SIGTERM && ttft_sentinel_sigs[i] != SIGHUP)
			signal(ttft_sentinel_sigs[i], SIG_IGN);
	/* nobody left to pass them on to; no SA_RESTART while the background
	 * is waited for (waitpid returns EINTR) */
	on_stops(stop_waiting, 0);
	int rc = WIFEXITED(status) ? WEXITSTATUS(status)
	       : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : TTFT_EXIT_FAILED;
	if (WIFSIGNALED(status))
		g_cmd_sig = WTERMSIG(status);
	if (wait_for_background(argv[optind])) {
		if (!keep)
			fprintf(stderr, "ttft-run: background processes still write to "
					"%s: kept (remove it when they are done)\n", logpath);
		keep = 1;
	}
	/* a stop from here on ends no write of the table or the JSON halfway
	 * (stdio's gives up at EINTR) */
	on_stops(stop_waiting, SA_RESTART);
	/* after the background processes: the scraper's last snapshot, then
	 * the exporter's drain joins it */
	stop_helpers(metrics ? &scraper : NULL, export_addr ? &exporter : NULL, (int)linger_s);

	struct ttft_analysis a;
	if (ttft_analyze_file(logpath, NULL, &a, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-run: %s; the log is kept at %s\n", err, logpath);
		return finish(logpath, 1, rc ? rc : TTFT_EXIT_FAILED);
	}
	int table_lost = 0, json_written = 0;
	if (!quiet) {
		clearerr(stderr);
		size_t n = a.nreqs - a.nencrypted;
		fprintf(stderr, "\n== ttft-run: %zu HTTP request%s by '%s' ==\n",
			n, n == 1 ? "" : "s", argv[optind]);
		ttft_print_warnings(stderr, &a);
		ttft_print_table(stderr, &a);
		if (!n && hidden[0])
			fprintf(stderr, "ttft-run: no request traced: %s\n", hidden);
		if (!n && unseen[0])
			fprintf(stderr, "ttft-run: no request traced: %s\n", unseen);
		if (keep)
			fprintf(stderr, "log kept at %s\n", logpath);
		/* stderr on a full disk: the table went nowhere (a reader gone,
		 * a closed stderr: nobody wanted it) */
		table_lost = ferror(stderr) && errno != EPIPE && errno != EBADF;
	}
	if (jsonpath) {
		/* into a string, then replaced atomically */
		struct ttft_json j;
		char *s = NULL;
		if (ttft_json_init(&j, NULL, 0) == 0) {
			ttft_analysis_json(&j, &a);
			ttft_json_newline(&j);
			s = ttft_json_take(&j);
		}
		ttft_json_free(&j);
		err[0] = 0;
		if (s && ttft_write_atomic(jsonpath, s, strlen(s), err, sizeof err) != 0 &&
		    !strcmp(jsonpath, "-") && errno == EPIPE) {
			/* the reader went away (… | head): nobody wants the rest */
		} else if (!s || err[0]) {
			fprintf(stderr, "ttft-run: %s; the log is kept at %s (ttft-analyze "
					"--json %s reads it; remove it when done)\n",
				s ? err : "out of memory", logpath, logpath);
			keep = 1;
			if (!rc)
				rc = TTFT_EXIT_FAILED;
		} else {
			json_written = 1;
		}
		free(s);
	}
	if (table_lost && !json_written) {
		fprintf(stderr, "ttft-run: cannot write the table on stderr; the log is "
				"kept at %s (ttft-analyze reads it)\n", logpath);
		keep = 1;
		if (!rc)
			rc = TTFT_EXIT_FAILED;
	}
	ttft_analysis_free(&a);
	return finish(logpath, keep, rc);
}
