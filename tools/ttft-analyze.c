/* ttft-analyze — per-request TTFT breakdown from a ttftshim log, or from
 * the logs of several hosts on one wall clock. */
#include "ttft_analyze.h"
#include "ttft_merge.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-analyze [--json | --events] [--pid PID] [--path PREFIX] [LOG...]\n"
"\n"
"Reads a ttftshim log (LOG, else $TTFT_LOG, else /dev/shm/ttftshim-UID.log)\n"
"and prints one row per HTTP request: pid, conn, method, path, status,\n"
"start_s (CLOCK_MONOTONIC), start_unix_s, tokens, then dns, connect, send,\n"
"wait_headers, ttft, decode, e2e and the inter-token latency p50/p99\n"
"(milliseconds in the table, seconds in JSON), and app_gap: from the socket\n"
"read of the first token to the application's own mark of it (ttft-probe\n"
"marks it under the shim), and the server's own split when its /metrics\n"
"was sampled into the log (ttft-run --metrics): queue, prefill and the rest\n"
"(docs/server-truth.md). A summary follows.\n"
"\n"
"Given several logs (say one from each client host), it puts their requests\n"
"on one wall clock through each log's anchor (CLOCK_MONOTONIC read with\n"
"CLOCK_REALTIME when the log was made), prints each host's table, then each\n"
"host's and the overall summary, and how far the hosts' clocks may be apart\n"
"(docs/fleet.md); --json gives {\"logs\":[...],\"requests\":[...],\n"
"\"summary\":{...},\"clock_spread_s\":...} with every request in wall-clock\n"
"order and its \"host\".\n"
"\n"
"  --json           print {\"requests\":[...],\"summary\":{...},\"dropped\":N}\n"
"  --events         dump every record instead (time order), for debugging\n"
"  --pid PID        only requests made by process PID\n"
"  --path PREFIX    only requests whose path starts with PREFIX\n"
"  -h, --help       this text\n"
"\n"
"TTFT runs from the request's connect (when it opened the connection) or its\n"
"first byte (on a reused connection) to the return of the read that completed\n"
"the first SSE event carrying a non-empty token. See docs/phases.md.\n"
"\n"
"exit status: 0 ok; 1 bad usage; 2 the log is missing, unreadable or not a\n"
"ttftshim log; 3 the log is damaged (truncated or torn records): what could\n"
"be read is still printed.\n");
}

/* Several logs on one wall clock (ttft_merge.h). */
static int merge(char **paths, size_t n, const struct ttft_filter *flt, int json)
{
	struct ttft_merge_log *l = calloc(n, sizeof *l);
	if (!l) {
		fprintf(stderr, "ttft-analyze: out of memory\n");
		return 2;
	}
	int rc = 0;
	size_t done = 0;
	for (; done < n; done++) {
		char err[512];
		l[done].path = paths[done];
		if (ttft_analyze_file(paths[done], flt, &l[done].a, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-analyze: %s\n", err);
			rc = 2;
			break;
		}
		if (flt->path_prefix)
			l[done].a.nnotes = 0;
		if (l[done].a.truncated || l[done].a.corrupt)
			rc = 3;
	}
	if (rc != 2) {
		ttft_merge_prepare(l, n);
		int bad;
		if (json) {
			for (size_t i = 0; i < n; i++)
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
			rc = 2;
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
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	int json = 0, events = 0, c;
	struct ttft_filter flt = {0, NULL};
	while ((c = getopt_long(argc, argv, "jep:P:h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			events = 1;
			break;
		case 'j':
			json = 1;
			break;
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v <= 0) {
				fprintf(stderr, "ttft-analyze: --pid wants a "
						"process id, got '%s'\n", optarg);
				return 1;
			}
			flt.pid = (int)v;
			break;
		}
		case 'P':
			flt.path_prefix = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind > 1 && events) {
		fprintf(stderr, "ttft-analyze: --events reads one log at a time\n");
		return 1;
	}
	if (argc - optind > 1)
		return merge(argv + optind, (size_t)(argc - optind), &flt, json);
	char defpath[4096];
	const char *path = optind < argc ? argv[optind]
					 : ttft_log_default_path(defpath, sizeof defpath);
	char err[512];
	if (events)
		return ttft_dump_events(stdout, path, &flt, err, sizeof err) ? 2 : 0;
	struct ttft_analysis a;
	if (ttft_analyze_file(path, &flt, &a, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-analyze: %s\n", err);
		return 2;
	}
	if (flt.path_prefix)
		a.nnotes = 0; /* connection notes have no path: not asked for */
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
			return 2;
		}
	} else {
		if (a.nreqs == a.nencrypted)
			fprintf(stderr, "ttft-analyze: no HTTP requests in '%s'"
					"%s\n", path,
				flt.pid || flt.path_prefix ? " match the filters" : "");
		ttft_print_table(stdout, &a);
	}
	int damaged = a.truncated || a.corrupt;
	ttft_analysis_free(&a);
	if (fflush(stdout) != 0) {
		perror("ttft-analyze: writing output");
		return 2;
	}
	return damaged ? 3 : 0;
}
