/*
 * airlockd.conf(5), read by conf_load with libinih.  The oracle: a
 * config is returned exactly when no problem was reported, every problem
 * names the file and a line, and what a config holds is what the
 * manual allows: each number in its range, an ADDRESS:PORT, an http(s)
 * URL without a trailing slash, private namespaces that are repository
 * names, each once, each with tokens that then, and only then, read it;
 * admin tokens that have the role, and [mirror] sections each with
 * repositories that name a repository and a revision, globs, a type, an
 * upstream URL and an interval in range, no repository in two sections.
 */
#define _GNU_SOURCE
#include "config.h"

#include <sys/mman.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/airlockd.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	 path[64];
static int	 problems;

static void
count_problem(const char *msg)
{
	size_t n = strlen(path);

	/* "FILE:LINE: what", LINE 0 for the file as a whole. */
	if (strncmp(msg, path, n) != 0 || msg[n] != ':' ||
	    !isdigit((unsigned char)msg[n + 1]))
		abort();
	problems++;
}

static int
within(long long v, long long min, long long max)
{
	return v >= min && v <= max;
}

static void
check_token(const char *t)
{
	size_t len = strlen(t);

	if (strncmp(t, "hf_", 3) != 0 || len < 8 || len > BOUND_TOKEN)
		abort();
	for (; *t != '\0'; t++)
		if (!isgraph((unsigned char)*t))
			abort();
}

static void
check_config(const struct conf *cf)
{
	const char *u;
	size_t i, j, ulen;

	if (cf->cf_listen == NULL || cf->cf_listen[0] == '\0' ||
	    strrchr(cf->cf_listen, ':') == NULL ||
	    cf->cf_store == NULL || cf->cf_store[0] == '\0')
		abort();
	/* 0: auto, a loop a core; read threads likewise. */
	if (!within(cf->cf_workers, 0, BOUND_LOOPS) ||
	    !within(cf->cf_read_threads, 0, BOUND_READ_THREADS) ||
	    !within(cf->cf_max_connections, 1, 65536) ||
	    !within(cf->cf_max_header_size, 1024, 1 << 20) ||
	    !within(cf->cf_max_body_size, 1024, 64 << 20) ||
	    !within(cf->cf_timeout, 1, 3600) ||
	    !within(cf->cf_drain_timeout, 0, 3600) ||
	    !within(cf->cf_tree_page_size, 1, 100000) ||
	    !within((long long)cf->cf_buffer_size, 16 << 10, 16 << 20) ||
	    !within(cf->cf_stall_timeout, 1, 3600) ||
	    !within((long long)cf->cf_map_budget, 4 << 20, 1LL << 40) ||
	    !within(cf->cf_windows, 2, 768) ||
	    !within(cf->cf_buffers, 4, 4096) ||
	    (cf->cf_sendfile != 0 && cf->cf_sendfile != 1))
		abort();
	if ((u = cf->cf_public_url) != NULL) {
		ulen = strlen(u);
		if ((strncmp(u, "http://", 7) != 0 &&
		    strncmp(u, "https://", 8) != 0) || u[ulen - 1] == '/' ||
		    strpbrk(u, " \t\r\n\"<>") != NULL)
			abort();
	}
	for (i = 0; i < cf->cf_nprivate; i++) {
		const struct private_ns *pn = &cf->cf_private[i];

		if (!store_repo_valid(pn->pn_name) || pn->pn_ntokens == 0 ||
		    !conf_private(cf, pn->pn_name) ||
		    conf_may_read(cf, pn->pn_name, NULL) ||
		    conf_may_read(cf, pn->pn_name, ""))
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(cf->cf_private[j].pn_name, pn->pn_name) == 0)
				abort();
		for (j = 0; j < pn->pn_ntokens; j++) {
			check_token(pn->pn_tokens[j]);
			if (!conf_may_read(cf, pn->pn_name, pn->pn_tokens[j]))
				abort();
		}
	}
}

static void
check_url(const char *u)
{
	size_t ulen = strlen(u);

	if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) ||
	    u[ulen - 1] == '/' || strpbrk(u, " \t\r\n\"<>") != NULL)
		abort();
}

static void
check_mirrors(const struct conf *cf)
{
	char repo[BOUND_REPO_ID + 1], rev[BOUND_REVISION + 1];
	size_t i, j;

	check_url(cf->cf_upstream);
	if (conf_is_admin(cf, NULL) || conf_is_admin(cf, "") ||
	    cf->cf_nadmin > BOUND_ADMIN_TOKENS ||
	    cf->cf_nmirrors > BOUND_MIRRORS ||
	    conf_writes(cf) != (cf->cf_nadmin > 0 || cf->cf_nmirrors > 0))
		abort();
	for (i = 0; i < cf->cf_nadmin; i++) {
		check_token(cf->cf_admin_tokens[i]);
		if (!conf_is_admin(cf, cf->cf_admin_tokens[i]))
			abort();
	}
	for (i = 0; i < cf->cf_nmirrors; i++) {
		const struct mirror_conf *mc = &cf->cf_mirrors[i];

		if (mc->mc_name == NULL || mc->mc_name[0] == '\0' ||
		    strlen(mc->mc_name) > BOUND_MIRROR_NAME ||
		    mc->mc_nrepos == 0 || mc->mc_nrepos > BOUND_MIRROR_REPOS ||
		    mc->mc_repos[mc->mc_nrepos] != NULL ||
		    (strcmp(mc->mc_type, "model") != 0 &&
		    strcmp(mc->mc_type, "dataset") != 0) ||
		    !within(mc->mc_interval, 0, 30 * 86400) ||
		    mc->mc_ninclude > BOUND_MIRROR_GLOBS ||
		    mc->mc_nexclude > BOUND_MIRROR_GLOBS ||
		    (mc->mc_ninclude > 0 &&
		    mc->mc_include[mc->mc_ninclude] != NULL) ||
		    (mc->mc_nexclude > 0 &&
		    mc->mc_exclude[mc->mc_nexclude] != NULL))
			abort();
		check_url(mc->mc_upstream);
		for (j = 0; j < i; j++)
			if (strcmp(cf->cf_mirrors[j].mc_name, mc->mc_name) == 0)
				abort();
		for (j = 0; j < mc->mc_nrepos; j++)
			if (conf_repo_rev(mc->mc_repos[j], repo, sizeof(repo),
			    rev, sizeof(rev)) != 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *cf;
	int fd;

	if ((fd = memfd_create("airlockd.conf", 0)) == -1)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	problems = 0;
	cf = conf_load(path, 1, count_problem);
	if ((cf == NULL) != (problems > 0))
		abort();
	if (cf != NULL) {
		check_config(cf);
		check_mirrors(cf);
		conf_unref(cf);
	}
	close(fd);
	return 0;
}
