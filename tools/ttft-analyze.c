/* ttft-analyze — per-request TTFT breakdown from a ttftshim log, or from
 * the logs of several hosts on one wall clock. */
#include "ttft_analyze.h"
#include "ttft_cli.h"
#include "ttft_merge.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ttft_charts.h"
#include "ttft_trace.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-analyze [--json | --events] [--pid PID] [--path PREFIX] [-q]\n"
"                    [--trace FILE] [--svg FILE] [LOG...]\n"
"\n"
"Reads a ttftshim log (LOG, else $TTFT_LOG, else /dev/shm/ttftshim-UID.log)\n"
"and prints one row per HTTP request: pid, conn, method, path, status,\n"
"start_s (CLOCK_MONOTONIC), start_unix_s, tokens (the server's usage, else\n"
"its token events counted: at least that many, '≥N'; JSON tokens_source),\n"
"then dns, connect, send, wait_headers, ttft, decode, e2e and the\n"
"inter-token latency p50/p99 (milliseconds in the table, seconds in JSON),\n"
"and app_gap: from the socket read of the first token to the application's\n"
"own mark of it (ttft-probe marks it under the shim), and the server's own\n"
"split when its /metrics was sampled into the log (ttft-run\n"
"--metrics-url): queue, prefill and the rest (docs/server-truth.md). A\n"
"summary follows.\n"
"\n"
"Given several logs (say one from each client host), it puts their requests\n"
"on one wall clock through each log's anchor (CLOCK_MONOTONIC read with\n"
"CLOCK_REALTIME when the log was made), prints each host's table, then each\n"
"host's and the overall summary, and how far the hosts' clocks may be apart\n"
"(docs/fleet.md); --json gives {\"logs\":[...],\"requests\":[...],\n"
"\"summary\":{...},\"clock_spread_s\":...} with every request in wall-clock\n"
"order and its \"host\".\n"
"\n"
"  --json           print {\"requests\":[...],\"summary\":{...},\"dropped\":N,...}\n"
"  --events         dump every record instead (time order), for debugging\n"
"  --pid PID        only requests made by process PID\n"
"  --path PREFIX    only requests whose path starts with PREFIX (through a\n"
"                   proxy, the path of its http://HOST/... target too)\n"
"  --trace FILE     also write Chrome trace-event JSON (ui.perfetto.dev,\n"
"                   chrome://tracing): a track per connection (pipelined\n"
"                   requests that overlap: a track each), phases as\n"
"                   slices, tokens as instant events (one log)\n"
"  --svg FILE       also write the per-request waterfall as SVG (the first\n"
"                   200 requests; one log)\n"
"  -q, --quiet      no warnings on stderr (dropped events, damage)\n"
"  -h, --help       this text\n"
"  --version        print the version\n"
"\n"
"TTFT runs from the request's connect (when it opened the connection) or its\n"
"first byte (on a reused connection) to the return of the read that completed\n"
"the first SSE event carrying a non-empty token. See docs/phases.md.\n"
"\n"
"environment: TTFT_LOG_READER=map or =pread reads the log through a\n"
"mapping or with pread; by default a log of 32 MiB or more is read the\n"
"way its first pages cost this machine less (docs/log-format.md). The\n"
"output is the same either way.\n"
"\n"
"exit status: 0 ok; 1 the output could not be written; 2 usage error: a\n"
"bad flag or value, a log that is missing, unreadable or not a ttftshim\n"
"log, one log given twice (the same file, or a copy of it), or a --trace\n"
"or --svg file that cannot be written; 3 the log is damaged (truncated or\n"
"torn records): what could be read is still printed.\n");
}

/* Write a document the library made (NULL: it ran out of memory). */
static int write_doc(const char *path, char *doc)
{
	FILE *f = doc ? fopen(path, "w") : NULL;
	int rc = 0;
	if (!doc) {
		fprintf(stderr, "ttft-analyze: out of memory writing --svg %s\n", path);
		rc = -1;
	} else if (!f || fputs(doc, f) < 0 || fclose(f) != 0) {
		fprintf(stderr, "ttft-analyze: cannot write --svg %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	free(doc);
	return rc;
}

static int write_trace(const char *path, const struct ttft_analysis *a)
{
	FILE *f = fopen(path, "w");
	struct ttft_json j;
	if (!f || ttft_json_init(&j, f, 0) != 0) {
		fprintf(stderr, "ttft-analyze: cannot write --trace %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	int bad = ttft_trace_json(&j, a) != 0 || ttft_json_flush(&j) != 0;
	ttft_json_free(&j);
	bad |= fclose(f) != 0;
	if (bad)
		fprintf(stderr, "ttft-analyze: cannot write --trace %s: %s\n", path, strerror(errno));
	return bad ? -1 : 0;
}

static int write_waterfall(const char *path, const struct ttft_analysis *a, const char *log)
{
	enum { MAX_ROWS = 200 };
	struct ttft_wf *w = calloc(MAX_ROWS, sizeof *w);
	if (!w)
		return write_doc(path, NULL);
	size_t n = ttft_wf_from_analysis(a, w, MAX_ROWS);
	char sub[512];
	snprintf(sub, sizeof sub, "%zu of %zu requests in %.300s; server split as the server "
		 "reported it (order within the server's part schematic)", n, a->nreqs, log);
	int rc = write_doc(path, ttft_waterfall_svg("Where each request's time went", sub, w, n));
	free(w);
	return rc;
}

/* The log before logs[i] that is the same (one file given twice: *file
 * = 1; or a copy of it), else i. */
static size_t twice(char **paths, const struct ttft_merge_log *l, size_t i, int *file)
{
	struct stat a, b;
	int known = stat(paths[i], &a) == 0;
	for (size_t j = 0; j < i; j++) {
		*file = known && stat(paths[j], &b) == 0 && a.st_dev == b.st_dev &&
			a.st_ino == b.st_ino;
		if (*file || ttft_merge_same_log(&l[j].a, &l[i].a))
			return j;
	}
	return i;
}

/* Several logs on one wall clock (ttft_merge.h). */
static int merge(char **paths, size_t n, const struct ttft_filter *flt, int json, int quiet)
{
	struct ttft_merge_log *l = calloc(n, sizeof *l);
	if (!l) {
		fprintf(stderr, "ttft-analyze: out of memory\n");
		return TTFT_EXIT_FAILED;
	}
	int rc = 0;
	size_t done = 0;
	for (; done < n; done++) {
		char err[512];
		l[done].path = paths[done];
		if (ttft_analyze_file(paths[done], flt, &l[done].a, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-analyze: %s\n", err);
			rc = TTFT_EXIT_USAGE;
			break;
		}
		int file = 0;
		size_t same = twice(paths, l, done, &file);
		if (same < done) {
			fprintf(stderr, "ttft-analyze: %s and %s are one log (%s): its "
				"requests would be counted twice; give each log once\n",
				paths[same], paths[done], file ? "the same file" : "a copy: "
				"the same header, created together by one process on one "
				"boot");
			done++; /* its analysis is freed below */
			rc = TTFT_EXIT_USAGE;
			break;
		}
		if (flt->path_prefix)
			l[done].a.nnotes = 0;
		if (l[done].a.truncated || l[done].a.corrupt)
			rc = TTFT_EXIT_DAMAGED;
	}
	if (rc != TTFT_EXIT_USAGE) {
		ttft_merge_prepare(l, n);
		int bad;
		if (json) {
			for (size_t i = 0; i < n && !quiet; i++)
				ttft_print_warnings(stderr, &l[i].a);
			struct ttft_json j;
			bad = ttft_json_init(&j, stdout, 0) != 0 || ttft_merge_json(&j, l, n) != 0;
			bad |= ttft_json_flush(&j) != 0;
			ttft_json_free(&j);
		} else {
			bad = ttft_merge_print(stdout, l, n) != 0;
		}
		if (bad || fflush(stdout) != 0) {
			fprintf(stderr, "ttft-analyze: writing the report failed (out of memory "
					"or output closed)\n");
			rc = TTFT_EXIT_FAILED;
		}
	}
	for (size_t i = 0; i < done; i++)
		ttft_analysis_free(&l[i].a);
	free(l);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, 0, 'j'},
		{"events", no_argument, 0, 'e'},
		{"pid", required_argument, 0, 'p'},
		{"path", required_argument, 0, 'P'},
		{"trace", required_argument, 0, 't'},
		{"svg", required_argument, 0, 's'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	int json = 0, events = 0, quiet = 0, c;
	const char *trace = NULL, *svg = NULL;
	struct ttft_filter flt = {0, NULL};
	while ((c = getopt_long(argc, argv, "jep:P:t:s:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			events = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'p': {
			long v;
			char err[160];
			if (ttft_cli_long("pid", optarg, 1, INT_MAX, &v, err, sizeof err) != 0) {
				fprintf(stderr, "ttft-analyze: %s (a process id)\n", err);
				return TTFT_EXIT_USAGE;
			}
			flt.pid = (int)v;
			break;
		}
		case 'P':
			flt.path_prefix = optarg;
			break;
		case 't':
			trace = optarg;
			break;
		case 's':
			svg = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return TTFT_EXIT_OK;
		case 'V':
			printf("ttft-analyze (%s)\n", ttft_version());
			return TTFT_EXIT_OK;
		default:
			fprintf(stderr, "ttft-analyze: see ttft-analyze --help\n");
			return TTFT_EXIT_USAGE;
		}
	}
	if (argc - optind > 1 && events) {
		fprintf(stderr, "ttft-analyze: --events reads one log at a time\n");
		return TTFT_EXIT_USAGE;
	}
	if (argc - optind > 1 && (trace || svg)) {
		fprintf(stderr, "ttft-analyze: --trace and --svg read one log at a time\n");
		return TTFT_EXIT_USAGE;
	}
	if (argc - optind > 1)
		return merge(argv + optind, (size_t)(argc - optind), &flt, json, quiet);
	char defpath[4096];
	const char *path = optind < argc ? argv[optind]
					 : ttft_log_default_path(defpath, sizeof defpath);
	char err[512];
	/* the files it will write, before the log is read */
	if ((trace && ttft_output_check("trace", trace, err, sizeof err) != 0) ||
	    (svg && ttft_output_check("svg", svg, err, sizeof err) != 0)) {
		fprintf(stderr, "ttft-analyze: %s\n", err);
		return TTFT_EXIT_USAGE;
	}
	if (events)
		return ttft_dump_events(stdout, path, &flt, err, sizeof err) ? TTFT_EXIT_USAGE
									      : TTFT_EXIT_OK;
	struct ttft_analysis a;
	if (ttft_analyze_file_opt(path, &flt, trace ? TTFT_ANALYZE_ALL_TOKENS : 0, &a, err,
				  sizeof err) != 0) {
		fprintf(stderr, "ttft-analyze: %s\n", err);
		return TTFT_EXIT_USAGE;
	}
	if (flt.path_prefix)
		a.nnotes = 0; /* connection notes have no path: not asked for */
	if (!quiet)
		ttft_print_warnings(stderr, &a);
	if (json) {
		struct ttft_json j;
		int bad = ttft_json_init(&j, stdout, 0) != 0;
		if (!bad) {
			ttft_analysis_json(&j, &a);
			bad = ttft_json_flush(&j) != 0;
		}
		ttft_json_free(&j);
		if (bad) {
			perror("ttft-analyze: writing the JSON");
			ttft_analysis_free(&a);
			return TTFT_EXIT_FAILED;
		}
	} else {
		if (a.nreqs == a.nencrypted)
			fprintf(stderr, "ttft-analyze: no HTTP requests in '%s'"
					"%s\n", path,
				flt.pid || flt.path_prefix ? " match the filters" : "");
		ttft_print_table(stdout, &a);
	}
	int rc = TTFT_EXIT_OK;
	/* a file named on the command line that cannot be used */
	if (trace && write_trace(trace, &a) != 0)
		rc = TTFT_EXIT_USAGE;
	if (svg && write_waterfall(svg, &a, path) != 0)
		rc = TTFT_EXIT_USAGE;
	int damaged = a.truncated || a.corrupt;
	ttft_analysis_free(&a);
	if (fflush(stdout) != 0) {
		perror("ttft-analyze: writing output");
		return TTFT_EXIT_FAILED;
	}
	return rc ? rc : damaged ? TTFT_EXIT_DAMAGED : TTFT_EXIT_OK;
}
