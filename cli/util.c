/*
 * util.c - messages, naming revisions, output.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/names.h"

static void
vwarn(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("airlock: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
cli_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

int
cli_fail(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	return status;
}

int
cli_status(int rc)
{
	switch (rc) {
	case 0:
		return EXIT_OK;
	case STORE_ENOTFOUND:
	case STORE_ENOREPO:
	case STORE_ECORRUPT:
	case STORE_EIMMUTABLE:
		return EXIT_CHECK;
	default:
		return EXIT_USAGE;
	}
}

int
cli_store_fail(int rc, const char *what)
{
	const char *detail = store_lasterror();

	if (what != NULL)
		cli_warnx("%s: %s", what, detail);
	else
		cli_warnx("%s", detail);
	return cli_status(rc);
}

/* A command's synopses: one line, or one for each of its subcommands. */
void
cmd_synopses(FILE *f, const struct cmd *c, const char **lead)
{
	if (c->sub == NULL) {
		fprintf(f, "%sairlock %s\n", *lead, c->usage);
		*lead = "       ";
		return;
	}
	for (const struct cmd *s = c->sub; s->name != NULL; s++)
		cmd_synopses(f, s, lead);
}

const struct cmd *
cmd_find(const struct cmd *table, const char *name)
{
	for (const struct cmd *c = table; c->name != NULL; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

int
cli_usage(const struct cli *cli)
{
	const char *lead = "usage: ";
	const struct cmd *c;

	if ((c = cmd_find(cmd_table, cli->cmd)) != NULL)
		cmd_synopses(stderr, c, &lead);
	return EXIT_USAGE;
}

/* What follows prefix in s, if s is prefix + ORG/NAME; else NULL. */
static char *
type_prefixed(char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 && strchr(s + n, '/') != NULL ?
	    s + n : NULL;
}

int
cli_target(struct store *st, const char *arg, const char *type_hint,
    struct target *t)
{
	char *at, *p, *rest;
	int rc;

	memset(t, 0, sizeof(*t));
	if (strlen(arg) >= sizeof(t->buf))
		return cli_fail(EXIT_USAGE, "%.40s...: too long", arg);
	strcpy(t->buf, arg);
	p = t->buf;
	if ((at = strchr(p, '@')) != NULL) {
		*at = '\0';
		t->rev = at + 1;
		if (*t->rev == '\0')
			return cli_fail(EXIT_USAGE, "%s: empty revision after @",
			    arg);
	}
	if ((rest = type_prefixed(p, NAME_DATASETS_PREFIX)) != NULL) {
		t->type = "dataset";
		p = rest;
	} else if ((rest = type_prefixed(p, NAME_MODELS_PREFIX)) != NULL) {
		t->type = "model";
		p = rest;
	} else
		t->type = type_hint;
	t->repo = p;
	if (!store_repo_valid(t->repo))
		return cli_fail(EXIT_USAGE, "%s: not a repository id (ORG/NAME)",
		    t->repo);
	if (t->type == NULL && st != NULL &&
	    (rc = store_repo_type(st, t->repo, &t->type)) != 0)
		return cli_store_fail(rc, NULL);
	if (t->type == NULL)
		t->type = "model";
	if (st != NULL && (rc = store_resolve(st, t->type, t->repo, t->rev,
	    t->digest)) != 0)
		return cli_store_fail(rc, NULL);
	return 0;
}

void
cli_json(json_t *v)
{
	if (v == NULL) {
		cli_warnx("out of memory");
		return;
	}
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	fputc('\n', stdout);
	json_decref(v);
}

const char *
cli_bytes(uint64_t n, char buf[32])
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, 32, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, 32, "%.1f %s", v, unit[u]);
	return buf;
}

int
cli_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	char *b;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = strcmp(path, "-") == 0 ? STDIN_FILENO :
	    open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
	if ((b = malloc(max + 1)) == NULL) {
		if (fd != STDIN_FILENO)
			close(fd);
		return cli_fail(EXIT_USAGE, "out of memory");
	}
	while (n <= max && (r = read(fd, b + n, max + 1 - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(b);
			if (fd != STDIN_FILENO)
				close(fd);
			return cli_fail(EXIT_USAGE, "%s: %s", path,
			    strerror(errno));
		}
		n += (size_t)r;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (n > max) {
		free(b);
		return cli_fail(EXIT_USAGE, "%s: larger than %zu bytes", path,
		    max);
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}
