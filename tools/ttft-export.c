/* ttft-export — follow a ttftshim log that other processes write and serve
 * its requests' histograms on /metrics for Prometheus (docs/fleet.md). */
#include "ttft_cli.h"
#include "ttft_exporter.h"
#include "ttft_log.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-export [--listen ADDR] [--max-series N] [--replaced-wait S] [-q]\n"
"                   [LOG]\n"
"\n"
"Follows LOG (else $TTFT_LOG, else /dev/shm/ttftshim-UID.log) while other\n"
"processes write it, e.g. a service started with\n"
"  TTFT_LOG=LOG LD_PRELOAD=/path/to/libttftshim.so my-service\n"
"and serves each settled request's TTFT, queue, prefill, server_other,\n"
"decode and e2e seconds as histograms, with counters of requests, tokens,\n"
"desyncs and dropped records, on http://ADDR/metrics (Prometheus text, or\n"
"OpenMetrics with exemplars when the scraper asks for it). The log may\n"
"appear after the exporter starts, and may be replaced by a new one: the\n"
"old one is then read on while its requests in flight may end (said on\n"
"stderr, with what ended and what was counted incomplete).\n"
"\n"
"  --listen ADDR     PORT or :PORT listen on 127.0.0.1; HOST:PORT or\n"
"                    [V6]:PORT where given (0.0.0.0 to be scraped from other\n"
"                    hosts); port 0 picks a free one (default 127.0.0.1:9464)\n"
"  --max-series N    label sets before requests are folded into\n"
"                    peer=\"other\",path=\"other\" (default %d)\n"
"  --replaced-wait S a log replaced under its path is read on until\n"
"                    nothing of it is in flight (and its file removed),\n"
"                    or until no record came into it for S seconds (from\n"
"                    the switch at the earliest): what is still open then\n"
"                    is counted incomplete (default %g; a decimal above 0;\n"
"                    below 5 a healthy stream may be cut: the shim writes\n"
"                    a stream's token times in batches, up to 4.3 s apart)\n"
"  -q, --quiet       no start-up line on stderr\n"
"  -h, --help        this text\n"
"  --version         print the version\n"
"\n"
"It runs until SIGINT or SIGTERM. The address it listens on is printed on\n"
"stderr. See docs/fleet.md for the metrics, the cardinality rule and a\n"
"Prometheus configuration.\n"
"\n"
"exit status: 0 stopped by a signal; 1 it had stopped following the log\n"
"(said on stderr); 2 usage error: a bad flag or value, or an address it\n"
"cannot listen on.\n",
		TTFT_EXPORT_MAX_SERIES, (double)TTFT_FOLLOW_SPLIT_WAIT_NS / 1e9);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, 0, 'l'},
		{"max-series", required_argument, 0, 'm'},
		{"replaced-wait", required_argument, 0, 'w'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	const char *addr = "127.0.0.1:9464";
	long max_series = 0;
	double replaced_wait_s = 0; /* 0: the follower's default */
	int c, quiet = 0;
	char err[512];
	while ((c = getopt_long(argc, argv, "l:m:w:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			addr = optarg;
			break;
		case 'm':
			if (ttft_cli_long("max-series", optarg, 1, 100000, &max_series, err,
					  sizeof err) != 0) {
				fprintf(stderr, "ttft-export: %s (label sets)\n", err);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'w':
			if (ttft_cli_double("replaced-wait", optarg, 0, 1, 1e6, &replaced_wait_s,
					    err, sizeof err) != 0) {
				fprintf(stderr, "ttft-export: %s (seconds)\n", err);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return TTFT_EXIT_OK;
		case 'V':
			printf("ttft-export (%s)\n", ttft_version());
			return TTFT_EXIT_OK;
		default:
			fprintf(stderr, "ttft-export: see ttft-export --help\n");
			return TTFT_EXIT_USAGE;
		}
	}
	if (argc - optind > 1) {
		fprintf(stderr, "ttft-export: one log at a time (run one exporter a log)\n");
		return TTFT_EXIT_USAGE;
	}
	char defpath[4096];
	const char *path = optind < argc ? argv[optind]
					 : ttft_log_default_path(defpath, sizeof defpath);
	/* the signals wait for sigwait here, in every thread */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	static struct ttft_exporter e;
	/* rounded up: a wait above 0 is never 0 ns (the default) */
	if (ttft_exporter_start(&e, addr, path, (size_t)max_series,
				(int64_t)ceil(replaced_wait_s * 1e9), err, sizeof err) != 0) {
		fprintf(stderr, "ttft-export: --listen %s: %s\n", addr, err);
		return TTFT_EXIT_USAGE;
	}
	if (!quiet)
		fprintf(stderr, "ttft-export: following %s, serving http://%s/metrics\n", path,
			ttft_exporter_addr(&e));
	int sig = 0;
	sigwait(&set, &sig);
	ttft_exporter_stop(&e, 0, 0);
	int failed = e.fail[0] != 0;
	if (failed)
		fprintf(stderr, "ttft-export: it had stopped following the log: %s\n", e.fail);
	ttft_exporter_free(&e);
	return failed ? TTFT_EXIT_FAILED : TTFT_EXIT_OK;
}
