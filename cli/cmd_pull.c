/*
 * airlock pull REPO[@REV] [--from URL] [--type model|dataset]
 *     [--include GLOB]... [--exclude GLOB]... [--token-file FILE]
 *
 * Mirrors one revision from an upstream that speaks the Hub's API into
 * the store (mirror/): the engine's loop runs on a thread of its own, the
 * store's revision pipeline on this one.  The revision keeps the
 * upstream's commit id and is signed with the store's key, as add does.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <event2/event.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "mirror/mirror.h"

#define PULL_GLOBS	64

struct pull_args {
	struct target	 t;
	const char	*from;
	const char	*token_file;
	const char	*include[PULL_GLOBS + 1];
	const char	*exclude[PULL_GLOBS + 1];
	size_t		 ninclude, nexclude;
};

static const struct option pull_longopts[] = {
	{ "from", required_argument, NULL, 'f' },
	{ "type", required_argument, NULL, 't' },
	{ "include", required_argument, NULL, 'i' },
	{ "exclude", required_argument, NULL, 'x' },
	{ "token-file", required_argument, NULL, 'T' },
	{ NULL, 0, NULL, 0 },
};

/* The options are parsed here: --include and --exclude repeat. */
int
cmd_pull_check(struct cmd_ctx *ctx)
{
	struct pull_args *a;
	char *argv[256];
	const char *type = NULL;
	int argc = 0, ch;

	if (ctx->argc + 2 > (int)(sizeof(argv) / sizeof(argv[0])))
		return cli_usage(ctx->cli);
	argv[argc++] = (char *)"pull";
	for (int i = 0; i < ctx->argc; i++)
		argv[argc++] = ctx->argv[i];
	argv[argc] = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	ctx->data = a;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:t:i:x:T:", pull_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			a->from = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 'i':
		case 'x':
			if ((ch == 'i' ? a->ninclude : a->nexclude) >=
			    PULL_GLOBS)
				return cli_fail(EXIT_USAGE, "more than %d "
				    "--include or --exclude", PULL_GLOBS);
			if (ch == 'i')
				a->include[a->ninclude++] = optarg;
			else
				a->exclude[a->nexclude++] = optarg;
			break;
		case 'T':
			a->token_file = optarg;
			break;
		default:
			return cli_usage(ctx->cli);
		}
	}
	if (argc - optind != 1)
		return cli_usage(ctx->cli);
	if (type != NULL && !store_type_valid(type))
		return cli_fail(EXIT_USAGE, "%s: the type is model or dataset",
		    type);
	if (cli_target(NULL, argv[optind], type, &a->t) != 0)
		return EXIT_USAGE;
	if (a->t.rev != NULL && (!store_revision_valid(a->t.rev) ||
	    strncmp(a->t.rev, "sha256:", 7) == 0))
		return cli_fail(EXIT_USAGE, "%s: not a branch, tag or commit "
		    "id upstream", a->t.rev);
	if (a->from != NULL && strncmp(a->from, "http://", 7) != 0 &&
	    strncmp(a->from, "https://", 8) != 0)
		return cli_fail(EXIT_USAGE, "%s: the upstream is an http:// or "
		    "https:// URL", a->from);
	return 0;
}

/* The token: --token-file, $HF_TOKEN, or what `hf auth login` wrote. */
static int
pull_token(const struct pull_args *a, char **token)
{
	const char *env = getenv("HF_TOKEN"), *home;
	char path[4096], *buf;
	struct stat sb;
	size_t len;

	*token = NULL;
	if (a->token_file == NULL && env != NULL && *env != '\0') {
		if ((*token = strdup(env)) == NULL)
			return cli_fail(EXIT_USAGE, "out of memory");
		return 0;
	}
	if (a->token_file != NULL)
		snprintf(path, sizeof(path), "%s", a->token_file);
	else if ((home = getenv("HF_HOME")) != NULL && *home != '\0')
		snprintf(path, sizeof(path), "%s/token", home);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		snprintf(path, sizeof(path), "%s/.cache/huggingface/token",
		    home);
	else
		return 0;
	if (a->token_file == NULL && stat(path, &sb) != 0)
		return 0;	/* not logged in: no token */
	if (cli_read_file(path, BOUND_TOKEN, &buf, &len) != 0)
		return EXIT_USAGE;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
	    buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	if (len == 0 || strcspn(buf, " \t\r\n") != len) {
		free(buf);
		return cli_fail(EXIT_USAGE, "%s: not a token (one line, no "
		    "spaces)", path);
	}
	*token = buf;
	return 0;
}

static int
pull_sign(void *signer, const struct store_manifest *m, struct store_sig *sig)
{
	return signer_sign(signer, m, sig);
}

static int
pull_status(int rc)
{
	switch (rc) {
	case MIRROR_ENOTFOUND:
	case MIRROR_EAUTH:
	case MIRROR_EGATED:
	case MIRROR_ECORRUPT:
	case STORE_ECORRUPT:
		return EXIT_CHECK;
	}
	return EXIT_USAGE;
}

static void
report(struct cli *cli, const struct mirror_pull_result *r, const char *rev,
    double secs)
{
	const struct store_manifest *m = r->manifest;
	char digest[STORE_DIGEST_STRLEN + 1];

	store_digest_str(m->digest, digest);
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,"
		    "s:I,s:f,s:b}", "type", m->type, "repo", m->repo,
		    "revision", rev, "commit", m->commit, "digest", digest,
		    "files", (json_int_t)r->files, "bytes", (json_int_t)r->bytes,
		    "fetched", (json_int_t)r->fetched,
		    "held", (json_int_t)r->held,
		    "requests", (json_int_t)r->requests,
		    "retries", (json_int_t)r->retries, "seconds", secs,
		    "unchanged", r->unchanged));
	else
		printf("%s%s@%s %s\n", store_type_prefix(m->type), m->repo,
		    m->commit, digest);
}

int
cmd_pull(struct cmd_ctx *ctx)
{
	struct pull_args *a = ctx->data;
	struct mirror_pull_spec spec = { 0 };
	struct mirror_pull_result res = { 0 };
	struct signer *signer = NULL;
	struct event_base *base = NULL;
	struct mirror *m = NULL;
	struct timespec t0, t1;
	char *token = NULL, why[2300];
	const char *rev = a->t.rev != NULL ? a->t.rev : "main";
	int rc;

	spec.upstream = a->from;
	if (spec.upstream == NULL)
		spec.upstream = getenv("AIRLOCK_UPSTREAM");
	if (spec.upstream == NULL || *spec.upstream == '\0')
		spec.upstream = getenv("HF_ENDPOINT");
	if (spec.upstream == NULL || *spec.upstream == '\0')
		spec.upstream = "https://huggingface.co";
	if ((rc = pull_token(a, &token)) != 0)
		return rc;
	/* The key is unlocked before any transfer. */
	if ((rc = signer_open(ctx->cli, ctx->st, NULL, 0, &signer)) != 0)
		goto out;
	snprintf(why, sizeof(why), "pull from %s", spec.upstream);
	spec.type = a->t.type;
	spec.repo = a->t.repo;
	spec.revision = rev;
	spec.token = token;
	spec.include = a->include;
	spec.exclude = a->exclude;
	spec.why = why;
	spec.sign = signer != NULL ? pull_sign : NULL;
	spec.sign_arg = signer;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((base = mirror_base_new()) == NULL) {
		rc = cli_fail(EXIT_USAGE, "event_base_new failed");
		goto out;
	}
	if ((rc = mirror_new(base, NULL, &m)) != 0 ||
	    (rc = mirror_thread_start(m)) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s", mirror_lasterror());
		goto out;
	}
	rc = mirror_pull(m, ctx->st, &spec, &res);
	mirror_thread_stop(m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc != 0) {
		const char *e = mirror_lasterror();

		cli_warnx("%s%s@%s: %s", store_type_prefix(a->t.type),
		    a->t.repo, rev, *e != '\0' ? e : mirror_strerror(rc));
		if (res.failed != NULL)
			cli_warnx("%s: no revision was added", res.failed);
		rc = pull_status(rc);
		goto out;
	}
	report(ctx->cli, &res, rev, (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
	store_manifest_free(res.manifest);
	mirror_free(m);
	if (base != NULL)
		event_base_free(base);
	signer_free(signer);
	free(token);
	return rc;
}
