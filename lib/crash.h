/*
 * Crash points for the crash tests, compiled in only with
 * -DAIRLOCK_CRASH_POINTS: the test-only airlock-crashtest has them, the
 * installed airlock does not.
 *
 * With AIRLOCK_CRASH_AT=NAME (or NAME:N, the Nth time it is passed,
 * counting from 1), the process kills itself with SIGKILL, as kill -9
 * would, when it reaches CRASH_POINT(NAME): a point the test chooses
 * rather than one a timer happens to hit.
 *
 * With AIRLOCK_CRASH_STOP=NAME, it stops itself (SIGSTOP) at
 * STOP_POINT(NAME) instead, so that the test can change what it is about
 * to read, then continue it (SIGCONT).
 */
#ifndef AIRLOCK_CRASH_H
#define AIRLOCK_CRASH_H

#ifdef AIRLOCK_CRASH_POINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline void
crash_point(const char *name, unsigned *passed)
{
	const char *at = getenv("AIRLOCK_CRASH_AT");
	size_t n = strlen(name);
	unsigned long nth = 1;

	if (at == NULL || strncmp(at, name, n) != 0 ||
	    (at[n] != '\0' && at[n] != ':'))
		return;
	if (at[n] == ':')
		nth = strtoul(at + n + 1, NULL, 10);
	if (++*passed >= nth)
		kill(getpid(), SIGKILL);
}
#define CRASH_POINT(name) do {						\
	static unsigned crash_passed_;					\
	crash_point((name), &crash_passed_);				\
} while (0)
#define STOP_POINT(name) do {						\
	const char *stop_at_ = getenv("AIRLOCK_CRASH_STOP");		\
									\
	if (stop_at_ != NULL && strcmp(stop_at_, (name)) == 0)		\
		raise(SIGSTOP);						\
} while (0)
#else
#define CRASH_POINT(name) do { } while (0)
#define STOP_POINT(name) do { } while (0)
#endif

#endif
