/*
 * progress.c - a progress bar on stderr when it is a terminal, redrawn at
 * most ten times a second; nothing at all on a pipe or with --json.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>
#include <time.h>

#include "cli/cli.h"

/*
 * The crash tests' hook, in airlock-crashtest only (lib/crash.h): with
 * AIRLOCK_CRASH_AFTER=N, the first add, import or pull to pass N bytes kills its
 * process with SIGKILL, as kill -9 would, at a point the test chooses
 * rather than one a timer happens to hit.
 */
#ifdef AIRLOCK_CRASH_POINTS
static uint64_t crash_after = UINT64_MAX;
#endif

struct progress {
	const char	*label;
	int		 crash;
	int		 tty;		/* draw: a terminal and no --json */
	uint64_t	 total;
	uint64_t	 done;
	uint64_t	 files, files_done;
	double		 start;
	double		 last;
};

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct progress *
progress_start(const struct cli *cli, const char *label, uint64_t total)
{
	struct progress *p;

	int hook = 0;

#ifdef AIRLOCK_CRASH_POINTS
	const char *crash = getenv("AIRLOCK_CRASH_AFTER");

	hook = crash != NULL && (strcmp(label, "add") == 0 ||
	    strcmp(label, "import") == 0 || strcmp(label, "pull") == 0);
	if (hook)
		crash_after = strtoull(crash, NULL, 10);
#endif
	if (!hook && (!cli->tty || cli->json))
		return NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->crash = hook;
	p->tty = cli->tty && !cli->json;
	p->label = label;
	p->total = total;
	p->start = p->last = now();
	return p;
}

static void
draw(struct progress *p, double t)
{
	char done[32], total[32], rate[32];
	double el = t - p->start;
	int width = 24, fill = 0, pct = 0;

	if (p->total > 0) {
		pct = (int)(100.0 * (double)p->done / (double)p->total);
		fill = (int)((double)width * (double)p->done / (double)p->total);
	}
	if (fill > width)
		fill = width;
	cli_bytes(el > 0 ? (uint64_t)((double)p->done / el) : 0, rate);
	fprintf(stderr, "\r%-9s %10s / %-10s [%.*s%*s] %3d%% %10s/s",
	    p->label, cli_bytes(p->done, done), cli_bytes(p->total, total),
	    fill, "########################", width - fill, "", pct, rate);
	if (p->files != 0)
		fprintf(stderr, " %llu/%llu files",
		    (unsigned long long)p->files_done,
		    (unsigned long long)p->files);
	fflush(stderr);
}

void
progress_set(struct progress *p, uint64_t done)
{
	double t;

	if (p == NULL)
		return;
#ifdef AIRLOCK_CRASH_POINTS
	if (p->crash && done >= crash_after)
		kill(getpid(), SIGKILL);
#endif
	p->done = done;
	if (!p->tty || (t = now()) - p->last < 0.1)
		return;
	p->last = t;
	draw(p, t);
}

void
progress_total(struct progress *p, uint64_t total)
{
	if (p != NULL)
		p->total = total;
}

void
progress_files(struct progress *p, uint64_t done, uint64_t files)
{
	if (p == NULL)
		return;
	p->files_done = done;
	p->files = files;
}

void
progress_fn(void *arg, uint64_t done)
{
	progress_set(arg, done);
}

void
progress_end(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	free(p);
}
