/* fixture_client.c — see fixture_client.h. */
#include "fixture_client.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t tu_fixture_spawn(const char *build, const char *args, const char *truth, int *port,
		       char *err, size_t errlen)
{
	int p[2];
	if (pipe(p) != 0) {
		snprintf(err, errlen, "pipe for fixture-server: out of descriptors?");
		return -1;
	}
	pid_t parent = getpid();
	pid_t c = fork();
	if (c < 0) {
		snprintf(err, errlen, "cannot fork fixture-server");
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(1);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		char cmd[4096];
		snprintf(cmd, sizeof cmd, "exec %s/fixture-server --port 0 --truth %s %s", build,
			 truth, args ? args : "");
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	/* its "port N" line comes once it listens: no polling, no sleep */
	char line[64] = "";
	FILE *f = fdopen(p[0], "r");
	int ok = fgets(line, sizeof line, f) != NULL && sscanf(line, "port %d", port) == 1;
	fclose(f);
	if (!ok) {
		kill(c, SIGTERM);
		waitpid(c, NULL, 0);
		snprintf(err, errlen, "%s/fixture-server %s did not start (run make?)", build,
			 args ? args : "");
		return -1;
	}
	return c;
}

static int64_t ns(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static void str(const cJSON *o, const char *k, char *out, size_t n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static int by_n(const void *a, const void *b)
{
	const struct tu_treq *x = a, *y = b;
	return (x->n > y->n) - (x->n < y->n);
}

static void add_request(struct tu_truth *t, const cJSON *o)
{
	t->req = realloc(t->req, (t->nreq + 1) * sizeof *t->req);
	struct tu_treq *r = &t->req[t->nreq++];
	memset(r, 0, sizeof *r);
	r->n = (int)ns(o, "n");
	r->conn = (int)ns(o, "conn");
	r->status = (int)ns(o, "status");
	r->prompt_tokens = (int)ns(o, "prompt_tokens");
	r->sched_ns = ns(o, "sched_ns");
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "queue_s");
	const cJSON *pf = cJSON_GetObjectItemCaseSensitive(o, "prefill_s");
	r->queue_s = cJSON_IsNumber(q) ? q->valuedouble : NAN;
	r->prefill_s = cJSON_IsNumber(pf) ? pf->valuedouble : NAN;
	str(o, "trace_id", r->trace_id, sizeof r->trace_id);
	r->closed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "closed"));
	str(o, "method", r->method, sizeof r->method);
	str(o, "path", r->path, sizeof r->path);
	r->accept_ns = ns(o, "accept_ns");
	r->recv_first_ns = ns(o, "recv_first_ns");
	r->recv_ns = ns(o, "recv_ns");
	r->hdr_ns = ns(o, "hdr_ns");
	r->role_ns = ns(o, "role_ns");
	r->error_ns = ns(o, "error_ns");
	r->usage_ns = ns(o, "usage_ns");
	r->done_ns = ns(o, "done_ns");
	r->fin_ns = ns(o, "fin_ns");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(o, "tok_ns"), *x;
	r->tok = malloc(((size_t)cJSON_GetArraySize(tok) + 1) * sizeof *r->tok);
	cJSON_ArrayForEach(x, tok)
		r->tok[r->ntok++] = (int64_t)x->valuedouble;
}

int tu_truth_load(const char *path, struct tu_truth *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read the fixture's truth %s", path);
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break; /* the fixture is still writing it */
		cJSON *o = cJSON_Parse(line);
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "event");
		if (!cJSON_IsString(ev)) {
			snprintf(err, errlen, "%s: not a truth line: %.80s", path, line);
			cJSON_Delete(o);
			rc = -1;
			break;
		}
		if (!strcmp(ev->valuestring, "start")) {
			t->start_ns = ns(o, "t_ns");
		} else if (!strcmp(ev->valuestring, "listen")) {
			t->listen_ns = ns(o, "t_ns");
		} else if (!strcmp(ev->valuestring, "line")) {
			t->lines = realloc(t->lines, (t->nlines + 1) * sizeof *t->lines);
			const cJSON *tx = cJSON_GetObjectItemCaseSensitive(o, "text");
			t->lines[t->nlines++] = (struct tu_tline){
				ns(o, "t_ns"), strdup(cJSON_IsString(tx) ? tx->valuestring : "")};
		} else if (!strcmp(ev->valuestring, "request")) {
			add_request(t, o);
		}
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	if (t->nreq)
		qsort(t->req, t->nreq, sizeof *t->req, by_n);
	if (rc)
		tu_truth_free(t);
	return rc;
}

void tu_truth_free(struct tu_truth *t)
{
	for (size_t i = 0; i < t->nreq; i++)
		free(t->req[i].tok);
	for (size_t i = 0; i < t->nlines; i++)
		free(t->lines[i].text);
	free(t->req);
	free(t->lines);
	memset(t, 0, sizeof *t);
}

const struct tu_treq *tu_truth_req(const struct tu_truth *t, const char *prefix, size_t k)
{
	for (size_t i = 0; i < t->nreq; i++)
		if (!strncmp(t->req[i].path, prefix, strlen(prefix)) && k-- == 0)
			return &t->req[i];
	return NULL;
}

size_t tu_truth_count(const struct tu_truth *t, const char *prefix)
{
	size_t n = 0;
	for (size_t i = 0; i < t->nreq; i++)
		n += !strncmp(t->req[i].path, prefix, strlen(prefix));
	return n;
}

const struct tu_tline *tu_truth_line(const struct tu_truth *t, const char *needle)
{
	for (size_t i = 0; i < t->nlines; i++)
		if (strstr(t->lines[i].text, needle))
			return &t->lines[i];
	return NULL;
}
