/* cold_sanity.c — see cold_sanity.h. */
#include "cold_sanity.h"
#include "ttft_clock.h"

#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* The few NVML entry points used, by their C ABI. */
typedef int (*nvml_init_t)(void);
typedef int (*nvml_handle_t)(unsigned, void **);
typedef int (*nvml_name_t)(void *, char *, unsigned);
struct nvml_mem { unsigned long long total, free, used; };
typedef int (*nvml_meminfo_t)(void *, struct nvml_mem *);
struct nvml_util { unsigned gpu, memory; };
typedef int (*nvml_util_t)(void *, struct nvml_util *);

static struct {
	int tried, ok;
	void *dev;
	nvml_name_t name;
	nvml_meminfo_t mem;
	nvml_util_t util;
} nv;

static void nvml_open(void)
{
	if (nv.tried)
		return;
	nv.tried = 1;
	void *h = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return;
	nvml_init_t init = (nvml_init_t)dlsym(h, "nvmlInit_v2");
	nvml_handle_t get = (nvml_handle_t)dlsym(h, "nvmlDeviceGetHandleByIndex_v2");
	nv.name = (nvml_name_t)dlsym(h, "nvmlDeviceGetName");
	nv.mem = (nvml_meminfo_t)dlsym(h, "nvmlDeviceGetMemoryInfo");
	nv.util = (nvml_util_t)dlsym(h, "nvmlDeviceGetUtilizationRates");
	if (!init || !get || !nv.name || !nv.mem || !nv.util || init() != 0 ||
	    get(0, &nv.dev) != 0)
		return;
	nv.ok = 1;
}

static int from_smi(struct gpu_snap *g)
{
	FILE *p = popen("nvidia-smi --query-gpu=name,memory.used,memory.total,"
			"utilization.gpu --format=csv,noheader,nounits -i 0 2>/dev/null", "r");
	if (!p)
		return 0;
	char line[256] = "";
	int ok = fgets(line, sizeof line, p) != NULL;
	pclose(p);
	if (!ok)
		return 0;
	char *f[4];
	int n = 0;
	for (char *s = strtok(line, ","); s && n < 4; s = strtok(NULL, ","))
		f[n++] = s;
	if (n < 4)
		return 0;
	snprintf(g->name, sizeof g->name, "%s", f[0]);
	g->mem_used_mib = atof(f[1]);
	g->mem_total_mib = atof(f[2]);
	g->util_pct = atof(f[3]);
	snprintf(g->source, sizeof g->source, "nvidia-smi");
	return 1;
}

void sanity_gpu(struct gpu_snap *g)
{
	memset(g, 0, sizeof *g);
	nvml_open();
	if (nv.ok) {
		struct nvml_mem m;
		struct nvml_util u;
		if (nv.name(nv.dev, g->name, sizeof g->name) == 0 &&
		    nv.mem(nv.dev, &m) == 0 && nv.util(nv.dev, &u) == 0) {
			g->present = 1;
			g->mem_used_mib = (double)m.used / 1048576.0;
			g->mem_total_mib = (double)m.total / 1048576.0;
			g->util_pct = u.gpu;
			snprintf(g->source, sizeof g->source, "nvml");
			return;
		}
	}
	if (from_smi(g)) {
		g->present = 1;
		return;
	}
	snprintf(g->name, sizeof g->name, "no GPU");
	snprintf(g->source, sizeof g->source, "none");
}

static unsigned long long group_ticks(pid_t pgid)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	unsigned long long sum = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[64], buf[1024];
		snprintf(path, sizeof path, "/proc/%.20s/stat", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[n] = 0;
		char *rp = strrchr(buf, ')');
		if (!rp)
			continue;
		/* after ")": state ppid pgrp ... utime(14) stime(15) */
		long pgrp = 0;
		unsigned long long ut = 0, st = 0;
		if (sscanf(rp + 2, "%*c %*d %ld %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &pgrp, &ut, &st) == 3 && pgrp == pgid)
			sum += ut + st;
	}
	closedir(d);
	return sum;
}

void sanity_cpu(pid_t pgid, struct cpu_snap *c)
{
	memset(c, 0, sizeof *c);
	c->t = (double)ttft_now_ns() / 1e9;
	FILE *f = fopen("/proc/stat", "r");
	if (f) {
		unsigned long long v[10] = {0};
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
			for (int i = 0; i < 8; i++)
				c->total += v[i];
			c->idle = v[3] + v[4];
		}
		fclose(f);
	}
	if (pgid > 0)
		c->group_ticks = group_ticks(pgid);
}

void sanity_host(struct host_snap *h)
{
	memset(h, 0, sizeof *h);
	h->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &h->load1) != 1)
			h->load1 = 0;
		fclose(f);
	}
	f = fopen("/proc/stat", "r");
	if (f) {
		unsigned long long v[8] = {0};
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
			for (int i = 0; i < 8; i++)
				h->total += v[i];
			h->steal = v[7];
		}
		fclose(f);
	}
}

double sanity_steal_pct(const struct host_snap *a, const struct host_snap *b)
{
	unsigned long long dt = b->total - a->total;
	return dt && b->steal >= a->steal ? 100.0 * (double)(b->steal - a->steal) / (double)dt : 0;
}

void sanity_cpu_between(const struct cpu_snap *a, const struct cpu_snap *b,
			double *sys_pct, double *group_pct)
{
	unsigned long long dt = b->total - a->total, di = b->idle - a->idle;
	/* no tick or no time between the two: not measured, never 0% */
	*sys_pct = dt ? 100.0 * (double)(dt - di) / (double)dt : NAN;
	double wall = b->t - a->t;
	double hz = (double)sysconf(_SC_CLK_TCK);
	*group_pct = wall > 0 ? 100.0 * (double)(b->group_ticks - a->group_ticks) / hz / wall : NAN;
}

void sanity_cpu_name(char *out, size_t n)
{
	char model[160] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f)) {
			if (!strncmp(line, "model name", 10)) {
				char *c = strchr(line, ':');
				if (c) {
					snprintf(model, sizeof model, "%s", c + 2);
					model[strcspn(model, "\n")] = 0;
				}
				break;
			}
		}
		fclose(f);
	}
	snprintf(out, n, "%s, %ld cores", model, sysconf(_SC_NPROCESSORS_ONLN));
}

void sanity_os_name(char *out, size_t n)
{
	struct utsname u;
	uname(&u);
	char pretty[128] = "";
	FILE *f = fopen("/etc/os-release", "r");
	if (f) {
		char line[256];
		while (fgets(line, sizeof line, f))
			if (!strncmp(line, "PRETTY_NAME=", 12)) {
				char *v = line + 12;
				v[strcspn(v, "\n")] = 0;
				if (*v == '"') {
					v++;
					v[strcspn(v, "\"")] = 0;
				}
				snprintf(pretty, sizeof pretty, "%.100s", v);
			}
		fclose(f);
	}
	snprintf(out, n, "%s %s %s%s%s%s", u.sysname, u.release, u.machine,
		 pretty[0] ? " (" : "", pretty, pretty[0] ? ")" : "");
}
