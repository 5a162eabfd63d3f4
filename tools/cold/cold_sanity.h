/* cold_sanity.h — GPU and CPU numbers for the report: NVML loaded with
 * dlopen (nvidia-smi as a fallback; no GPU is an answer, not an error),
 * CPU from /proc. */
#ifndef TTFT_COLD_SANITY_H
#define TTFT_COLD_SANITY_H

#include <sys/types.h>

struct gpu_snap {
	int present;
	char name[96];
	double mem_used_mib, mem_total_mib;
	double util_pct;
	char source[16];      /* "nvml", "nvidia-smi" or "none" */
};

struct cpu_snap {
	unsigned long long total, idle;  /* /proc/stat, all CPUs */
	unsigned long long group_ticks;  /* utime+stime of the process group */
	double t;
};

/* Is the host busy? The 1-minute load average and the CPU time the
 * hypervisor took (steal) over a cycle: a noisy neighbour makes single
 * cycles disagree, and the report says so instead of concluding. */
struct host_snap {
	double load1;
	unsigned long long steal, total;  /* /proc/stat ticks, all CPUs */
	long ncpu;
};

void sanity_gpu(struct gpu_snap *g);
void sanity_host(struct host_snap *h);
/* steal in % of all CPU time between a and b (0 when unknown) */
double sanity_steal_pct(const struct host_snap *a, const struct host_snap *b);
void sanity_cpu(pid_t pgid, struct cpu_snap *c);
/* system busy % (all CPUs) and process-group % of one core between a, b;
 * NAN where no tick or no time passed between them (not measured) */
void sanity_cpu_between(const struct cpu_snap *a, const struct cpu_snap *b,
			double *sys_pct, double *group_pct);
/* "model name x N cores", "Linux 6.1 x86_64 (Debian GNU/Linux 12)" */
void sanity_cpu_name(char *out, size_t n);
void sanity_os_name(char *out, size_t n);

#endif
