/* ttft_preloadable.h — whether the shim can load into a program at all:
 * ttft-run says so before CMD runs, where a "0 HTTP requests" would
 * otherwise be all the user sees. */
#ifndef TTFT_PRELOADABLE_H
#define TTFT_PRELOADABLE_H

#include <stddef.h>

/* Why the shim cannot load into the program cmd names, found as execvp
 * finds it (a script: its interpreter), into why; "" where it can or
 * nothing tells: a static executable has no loader to read LD_PRELOAD; a
 * secure-execution one (setuid or setgid to someone else, file
 * capabilities) has it dropped (docs/shim.md). */
void ttft_unpreloadable(const char *cmd, char *why, size_t len);

#endif
