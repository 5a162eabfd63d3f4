/* test_shim_mask.c — a thread that blocks SIGBUS is not killed when the log
 * is emptied under it (shim/preload/ttft_sigmask.c): mask_host streams
 * from such a thread, in each way a mask gets there (pthread_sigmask with a
 * SIGBUS of its own pending, a mask inherited from the creating thread,
 * siglongjmp back to a blocking mask, sighold), and empties the log after
 * its first read. Its output and exit status are those of the run without
 * the shim; the shim says it stopped writing (the fault was caught), and
 * the host's own pending SIGBUS is still pending, still blocked. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static int g_port;
static pid_t g_srv;

static void setup(void)
{
	g_port = tu_fd_host_start(&g_srv);
}

static void teardown(void)
{
	tu_stop(g_srv);
}

/* mask_host SCENARIO without and with the shim, each emptying a log of
 * its own; the two must print and exit the same. */
static void same_with_and_without(const char *sc, const char *want)
{
	char log[256], errf[300], cmd[1024], *out[2];
	int rc[2];
	for (int shim = 0; shim < 2; shim++) {
		tu_tmp_log(log, sizeof log, "mask");
		snprintf(errf, sizeof errf, "%s.err", log);
		FILE *f = fopen(log, "w"); /* without the shim: something to empty */
		ck_assert_ptr_nonnull(f);
		fclose(f);
		if (shim)
			unlink(log); /* the shim creates it */
		/* "; exit $?": a death by signal N reads as 128+N */
		snprintf(cmd, sizeof cmd,
			 "TTFT_LOG=%s %s%s/libttftshim.so %s/mask_host %s %d 2>%s; exit $?",
			 log, shim ? "LD_PRELOAD=" : "TTFT_UNUSED=", tu_build_dir(),
			 tu_build_dir(), sc, g_port, errf);
		rc[shim] = tu_sh(cmd, &out[shim]);
		char *err = tu_read_file(errf, NULL);
		if (shim)
			/* a fault in the log was caught, in a thread that
			 * blocks SIGBUS, and what was lost is said */
			ck_assert_msg(strstr(err, "was truncated while in use") &&
				      strstr(err, "later events"),
				      "%s: status %d, stderr: %s", sc, rc[shim], err);
		free(err);
		unlink(log);
		unlink(errf);
	}
	ck_assert_msg(rc[0] == 0, "%s without the shim: status %d", sc, rc[0]);
	ck_assert_msg(rc[1] == rc[0], "%s: status %d with the shim, %d without", sc, rc[1],
		      rc[0]);
	ck_assert_str_eq(out[1], out[0]);
	ck_assert_msg(strstr(out[0], want), "%s: %s", sc, out[0]);
	free(out[0]);
	free(out[1]);
}

START_TEST(thread_blocking_sigbus_survives_an_emptied_log)
{
	same_with_and_without("thread", "tokens 8\ntokens_after 8\nbus_pending 1\n"
					"bus_blocked 1\nsigwait 7\ndone 1\n");
}
END_TEST

START_TEST(inherited_mask_survives_an_emptied_log)
{
	same_with_and_without("inherit", "tokens 8\ntokens_after 8\nbus_blocked 1\n");
}
END_TEST

START_TEST(mask_restored_by_siglongjmp_survives_an_emptied_log)
{
	same_with_and_without("longjmp", "tokens_unblocked 8\nbus_blocked_again 1\n"
					 "tokens 8\ntokens_after 8\n");
}
END_TEST

START_TEST(sighold_survives_an_emptied_log)
{
	same_with_and_without("sighold", "tokens 8\ntokens_after 8\nbus_blocked 1\n");
}
END_TEST

/* A SIGBUS pending for the process (kill), not for a thread: a thread
 * that inherits the block writes the log; the signal stays the
 * process's, pending for the main thread, with its own siginfo. */
START_TEST(process_pending_sigbus_stays_the_process_s)
{
	same_with_and_without("shared", "tokens 8\ntokens_after 8\nbus_blocked 1\n"
					"bus_pending 1\nsigwait 7\nsi_code 0\n"
					"si_pid_is_self 1\ndone 1\n");
}
END_TEST

/* A signal handler that interrupts a log write (SIGBUS unblocked by the
 * shim's window) and jumps out without restoring a mask: the host's mask
 * still blocks SIGBUS afterwards. (Without the shim the handler never
 * jumps; with it, whether a tick lands in a window is the machine's
 * timing: when none does, the check passes without testing.) */
START_TEST(jump_out_of_a_window_keeps_the_mask)
{
	same_with_and_without("jump", "tokens 8\ntokens_after 8\nbus_blocked 1\ndone 1\n");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shim_mask");
	TCase *t = tu_tcase(s, "mask", 120);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, thread_blocking_sigbus_survives_an_emptied_log);
	tcase_add_test(t, inherited_mask_survives_an_emptied_log);
	tcase_add_test(t, mask_restored_by_siglongjmp_survives_an_emptied_log);
	tcase_add_test(t, sighold_survives_an_emptied_log);
	tcase_add_test(t, process_pending_sigbus_stays_the_process_s);
	tcase_add_test(t, jump_out_of_a_window_keeps_the_mask);
	return tu_run(s);
}
