/* ttft-run — run any command under the shim with a private log, then print
 * the per-request TTFT analysis on stderr (CMD's own stdout stays clean). */

#include "ttft_analyze.h"
#include "ttft_env.h"
#include "ttft_exporter.h"
#include "ttft_scrape.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-run [--log PATH] [--json FILE] [--filter SPEC] [--metrics URL]\n"
"                [--metrics-interval MS] [--export ADDR [--export-linger S]\n"
"                [--export-max-series N]] [--quiet] -- CMD [ARGS...]\n"
"\n"
"Runs CMD with libttftshim.so preloaded and a fresh log, waits for it, then\n"
"prints the per-request TTFT table (see ttft-analyze) on stderr.\n"
"\n"
"  --log PATH      write the log to PATH and keep it (default: a private log\n"
"                  under /dev/shm, removed afterwards)\n"
"  --json FILE     also write the analysis as JSON to FILE ('-' = stdout)\n"
"  --filter SPEC   trace only matching connections: port:N, HOST:N, [V6]:N,\n"
"                  host:HOST, comma-separated (sets TTFT_FILTER)\n"
"  --metrics URL   sample the server's /metrics during the run into the same\n"
"                  log, so each request gets the server's queue / prefill\n"
"                  split where a window provably holds it alone; every\n"
"                  --metrics-interval MS, by default %d ms for vLLM and %d ms\n"
"                  for llama.cpp (docs/server-truth.md says why).\n"
"                  prom+http://PROMETHEUS:9090?job=J&instance=I reads the\n"
"                  replica's scrapes from a Prometheus server instead (its\n"
"                  scrape interval is the resolution; after CMD it waits for\n"
"                  one more scrape, wait_s=S at most, default 120;\n"
"                  docs/server-truth.md)\n"
"  --export ADDR   while CMD runs, serve its requests' histograms and counters\n"
"                  on http://ADDR/metrics for Prometheus (docs/fleet.md): PORT\n"
"                  or :PORT listen on 127.0.0.1, HOST:PORT where given (0.0.0.0\n"
"                  to be scraped from other hosts); port 0 picks a free one.\n"
"                  The address is printed on stderr\n"
"  --export-linger S  after CMD ends, keep serving until Prometheus has\n"
"                  scraped the final numbers once, S seconds at most (0)\n"
"  --export-max-series N  label sets before requests are folded into\n"
"                  peer=\"other\" (default %d)\n"
"  --quiet         no table on stderr (use with --json)\n"
"  -h, --help      this text\n"
"\n"
"The shim is found at $TTFT_SHIM, else next to this program.\n"
"exit status: CMD's own (128+N if a signal N ended it); 125 when ttft-run\n"
"itself failed (bad usage, no shim, log not creatable); 127 when CMD could\n"
"not be run.\n", TTFT_SCRAPE_VLLM_MS, TTFT_SCRAPE_LLAMACPP_MS,
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

static pid_t g_child;

static void forward(int sig)
{
	if (g_child > 0)
		kill(g_child, sig);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"log", required_argument, 0, 'l'},
		{"json", required_argument, 0, 'j'},
		{"filter", required_argument, 0, 'f'},
		{"quiet", no_argument, 0, 'q'},
		{"metrics", required_argument, 0, 'm'},
		{"metrics-interval", required_argument, 0, 'i'},
		{"export", required_argument, 0, 'x'},
		{"export-linger", required_argument, 0, 'L'},
		{"export-max-series", required_argument, 0, 'M'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *logpath = NULL, *jsonpath = NULL, *filter = NULL, *metrics = NULL;
	int interval = 0; /* by the server */
	const char *export_addr = NULL;
	int linger_s = 0;
	long max_series = 0;
	int quiet = 0, c;
	while ((c = getopt_long(argc, argv, "+l:j:f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'm': metrics = optarg; break;
		case 'i':
			interval = atoi(optarg);
			if (interval < 1 || interval > 60000) {
				fprintf(stderr, "ttft-run: --metrics-interval wants 1-60000 ms\n");
				return 125;
			}
			break;
		case 'x': export_addr = optarg; break;
		case 'L': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 3600) {
				fprintf(stderr, "ttft-run: --export-linger wants 0-3600 s, "
						"got '%s'\n", optarg);
				return 125;
			}
			linger_s = (int)v;
			break;
		}
		case 'M': {
			char *end;
			max_series = strtol(optarg, &end, 10);
			if (*end || max_series < 1 || max_series > 100000) {
				fprintf(stderr, "ttft-run: --export-max-series wants 1-100000, "
						"got '%s'\n", optarg);
				return 125;
			}
			break;
		}
		case 'l': logpath = optarg; break;
		case 'j': jsonpath = optarg; break;
		case 'f': filter = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 125;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ttft-run: no command given\n");
		usage(stderr);
		return 125;
	}
	char shim[PATH_MAX];
	if (find_shim(shim, sizeof shim) != 0) {
		fprintf(stderr, "ttft-run: cannot find libttftshim.so (looked at "
				"$TTFT_SHIM and next to ttft-run); run 'make' or "
				"set TTFT_SHIM\n");
		return 125;
	}
	char shim_abs[PATH_MAX];
	if (!realpath(shim, shim_abs))
		snprintf(shim_abs, sizeof shim_abs, "%s", shim);

	char privpath[128];
	int keep = logpath != NULL;
	if (!logpath) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(privpath, sizeof privpath, "/dev/shm/ttft-run.%ld.%ld.log",
			 (long)getpid(), (long)ts.tv_nsec);
		logpath = privpath;
	} else if (access(logpath, F_OK) == 0) {
		/* Replace an old log, but never a file that is not one. */
		struct ttft_log_view v;
		char err[512];
		if (ttft_log_view_open(&v, logpath, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-run: --log %s exists and is not a "
					"ttftshim log; not overwriting it\n", logpath);
			return 125;
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
		fprintf(stderr, "ttft-run: cannot create log %s: %s (%s)\n",
			logpath, why, strerror(errno));
		return 125;
	}
	ttft_log_close(&log);

	static struct ttft_exporter exporter;
	if (export_addr) {
		char err[512];
		if (ttft_exporter_start(&exporter, export_addr, logpath, (size_t)max_series, err,
					sizeof err) != 0) {
			fprintf(stderr, "ttft-run: --export: %s\n", err);
			if (!keep)
				unlink(logpath);
			return 125;
		}
		fprintf(stderr, "ttft-run: exporting on http://%s/metrics\n",
			ttft_exporter_addr(&exporter));
	}

	struct ttft_scraper scraper;
	if (metrics) {
		char err[512];
		if (ttft_scraper_start(&scraper, metrics, logpath, interval, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-run: %s\n", err);
			if (export_addr)
				ttft_exporter_free(&exporter);
			if (!keep)
				unlink(logpath);
			return 125;
		}
	}
	const char *old = getenv("LD_PRELOAD");
	char *preload;
	if (old && *old) {
		size_t n = strlen(shim_abs) + strlen(old) + 2;
		preload = malloc(n);
		snprintf(preload, n, "%s:%s", shim_abs, old);
	} else {
		preload = strdup(shim_abs);
	}
	pid_t pid = fork();
	if (pid < 0) {
		perror("ttft-run: fork");
		return 125;
	}
	if (pid == 0) {
		setenv("LD_PRELOAD", preload, 1);
		setenv("TTFT_LOG", logpath, 1);
		if (filter)
			setenv("TTFT_FILTER", filter, 1);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "ttft-run: cannot run '%s': %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	free(preload);
	g_child = pid;
	/* Like system(): Ctrl-C goes to CMD (same process group); we wait to
	 * print what it did. Termination requests are passed on. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	struct sigaction sa = {0};
	sa.sa_handler = forward;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("ttft-run: waitpid");
			return 125;
		}
	}
	if (metrics) {
		ttft_scraper_stop(&scraper);
		if (scraper.failures)
			fprintf(stderr, "ttft-run: warning: %u of %u /metrics snapshots failed "
					"(first: %s); the server split is null where they are "
					"missing\n", scraper.failures, scraper.snapshots,
				scraper.first_error);
	}
	if (export_addr) {
		/* after the scraper's last snapshot: the drain joins it */
		ttft_exporter_stop(&exporter, 1, linger_s * 1000);
		if (exporter.fail[0])
			fprintf(stderr, "ttft-run: warning: the exporter stopped following "
					"the log: %s\n", exporter.fail);
		ttft_exporter_free(&exporter);
	}
	int rc = WIFEXITED(status) ? WEXITSTATUS(status)
	       : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 125;

	struct ttft_analysis a;
	char err[512];
	if (ttft_analyze_file(logpath, NULL, &a, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-run: %s\n", err);
		if (!keep)
			unlink(logpath);
		return rc ? rc : 125;
	}
	if (!quiet) {
		size_t n = a.nreqs - a.nencrypted;
		fprintf(stderr, "\n== ttft-run: %zu HTTP request%s by '%s' ==\n",
			n, n == 1 ? "" : "s", argv[optind]);
		ttft_print_warnings(stderr, &a);
		ttft_print_table(stderr, &a);
		if (keep)
			fprintf(stderr, "log kept at %s\n", logpath);
	}
	if (jsonpath) {
		FILE *f = strcmp(jsonpath, "-") == 0 ? stdout : fopen(jsonpath, "w");
		struct ttft_json j;
		int bad = !f || ttft_json_init(&j, f, 0) != 0;
		if (f) {
			if (!bad) {
				ttft_analysis_json(&j, &a);
				bad = ttft_json_flush(&j) != 0;
			}
			ttft_json_free(&j);
			if (f != stdout && fclose(f) != 0)
				bad = 1;
		}
		if (bad) {
			fprintf(stderr, "ttft-run: cannot write JSON to %s: %s\n",
				jsonpath, strerror(errno));
			if (!rc)
				rc = 125;
		}
	}
	ttft_analysis_free(&a);
	if (!keep)
		unlink(logpath);
	return rc;
}
