/*
 * airlock pull REPO[@REV] [--from URL] [--type model|dataset]
 *     [--include GLOB]... [--exclude GLOB]... [--token-file FILE]
 *     [--no-bases] [--with-datasets]
 * airlock pull --lock FILE [--from URL] [--token-file FILE]
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
#include "cli/deploy.h"
#include "cli/lockfile.h"
#include "gate/gate.h"
#include "policy/policy.h"
#include "cli/trust.h"
#include "keys/keys.h"
#include "mirror/mirror.h"

#define PULL_GLOBS	BOUND_GLOBS

struct pull_args {
	struct target	 t;
	const char	*lock;		/* --lock FILE: exactly what it names */
	const char	*from;
	const char	*token_file;
	const char	*include[PULL_GLOBS + 1];
	const char	*exclude[PULL_GLOBS + 1];
	size_t		 ninclude, nexclude;
	int		 force;
	const char	*reason;
	int		 no_bases;	/* not the bases' metadata */
	int		 datasets;	/* --with-datasets */
};

static const struct option pull_longopts[] = {
	{ "from", required_argument, NULL, 'f' },
	{ "type", required_argument, NULL, 't' },
	{ "include", required_argument, NULL, 'i' },
	{ "exclude", required_argument, NULL, 'x' },
	{ "token-file", required_argument, NULL, 'T' },
	{ "lock", required_argument, NULL, 'l' },
	{ "force", no_argument, NULL, 'F' },
	{ "reason", required_argument, NULL, 'w' },
	{ "no-bases", no_argument, NULL, 'B' },
	{ "with-datasets", no_argument, NULL, 'D' },
	{ NULL, 0, NULL, 0 },
};

static int
pull_from_check(const char *from)
{
	if (from != NULL && strncmp(from, "http://", 7) != 0 &&
	    strncmp(from, "https://", 8) != 0)
		return cli_fail(EXIT_USAGE, "%s: the upstream is an http:// or "
		    "https:// URL", from);
	return 0;
}

/* The options into a; --include and --exclude repeat. */
static int
pull_getopt(struct cmd_ctx *ctx, struct pull_args *a, int argc, char **argv,
    const char **type)
{
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "f:t:i:x:T:l:Fw:", pull_longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'l':
			a->lock = optarg;
			break;
		case 'f':
			a->from = optarg;
			break;
		case 't':
			*type = optarg;
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
		case 'F':
			a->force = 1;
			break;
		case 'w':
			a->reason = optarg;
			break;
		case 'B':
			a->no_bases = 1;
			break;
		case 'D':
			a->datasets = 1;
			break;
		default:
			return cli_usage(ctx->cli);
		}
	}
	return 0;
}

/* The operands and what the options say together. */
static int
pull_args_check(struct cmd_ctx *ctx, struct pull_args *a, int argc,
    char **argv, const char *type)
{
	if (a->lock != NULL) {
		/* The lockfile says what: no repository, type or globs. */
		if (argc - optind != 0 || type != NULL || a->ninclude != 0 ||
		    a->nexclude != 0 || a->no_bases || a->datasets)
			return cli_usage(ctx->cli);
		return pull_from_check(a->from);
	}
	if (argc - optind != 1)
		return cli_usage(ctx->cli);
	if (a->force != (a->reason != NULL) || (a->reason != NULL &&
	    (a->reason[0] == '\0' || strlen(a->reason) > BOUND_REASON)))
		return cli_fail(EXIT_USAGE, "--force needs --reason TEXT (1 to "
		    "%d bytes), and --reason --force", BOUND_REASON);
	if (type != NULL && !store_type_valid(type))
		return cli_fail(EXIT_USAGE, "%s: the type is model or dataset",
		    type);
	if (cli_target(NULL, argv[optind], type, &a->t) != 0)
		return EXIT_USAGE;
	if (a->t.rev != NULL && (!store_revision_valid(a->t.rev) ||
	    strncmp(a->t.rev, "sha256:", 7) == 0))
		return cli_fail(EXIT_USAGE, "%s: not a branch, tag or commit "
		    "id upstream", a->t.rev);
	return pull_from_check(a->from);
}

/* The options are parsed here: --include and --exclude repeat. */
int
cmd_pull_check(struct cmd_ctx *ctx)
{
	struct pull_args *a;
	char *argv[256];
	const char *type = NULL;
	int argc = 0, rc;

	if (ctx->argc + 2 > (int)(sizeof(argv) / sizeof(argv[0])))
		return cli_usage(ctx->cli);
	argv[argc++] = (char *)"pull";
	for (int i = 0; i < ctx->argc; i++)
		argv[argc++] = ctx->argv[i];
	argv[argc] = NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	ctx->data = a;
	if ((rc = pull_getopt(ctx, a, argc, argv, &type)) != 0)
		return rc;
	return pull_args_check(ctx, a, argc, argv, type);
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

/* A whole number in [min, max] from the environment, or 0 if unset. */
static int
env_number(const char *name, long min, long max, long *out)
{
	const char *v = getenv(name);
	char *end;
	long n;

	*out = 0;
	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return cli_fail(EXIT_USAGE, "%s: \"%s\" is not a whole number "
		    "from %ld to %ld", name, v, min, max);
	*out = n;
	return 0;
}

/* The engine's time-outs from the environment (airlock(1)): a stall of
 * AIRLOCK_STALL_TIME seconds is cut, and the first back-off is
 * AIRLOCK_RETRY_BACKOFF milliseconds; for slow links, and for tests. */
static int
pull_opts(struct mirror_opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	if ((rc = env_number("AIRLOCK_STALL_TIME", 1, 3600,
	    &o->stall_time)) != 0 ||
	    (rc = env_number("AIRLOCK_RETRY_BACKOFF", 1, 600000,
	    &o->backoff_ms)) != 0)
		return rc;
	return 0;
}

static int
pull_exit(int rc)
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

/* The bar: bytes of the revision's files (fetched, held or resumed), the
 * rate, files done. */
static void
pull_status(void *arg, const struct mirror_status *s)
{
	struct progress *p = arg;

	progress_total(p, s->bytes);
	progress_files(p, s->files_done, s->files);
	progress_set(p, s->bytes_done);
}

static void
report(struct cli *cli, const struct mirror_pull_result *r, const char *rev,
    double secs, json_t *also)
{
	const struct store_manifest *m = r->manifest;
	char digest[STORE_DIGEST_STRLEN + 1];
	json_t *doc, *o;
	size_t i;

	store_digest_str(m->digest, digest);
	if (!cli->json) {
		printf("%s%s@%s %s\n", store_type_prefix(m->type), m->repo,
		    m->commit, digest);
		json_array_foreach(also, i, o)
			printf("%s%s@%s %s (%s)\n", store_type_prefix(
			    json_string_value(json_object_get(o, "type"))),
			    json_string_value(json_object_get(o, "repo")),
			    json_string_value(json_object_get(o, "commit")),
			    json_string_value(json_object_get(o, "digest")),
			    json_string_value(json_object_get(o, "kept_as")));
		return;
	}
	doc = json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:I,s:I,s:I,s:f,s:b}", "type", m->type,
	    "repo", m->repo, "revision", rev, "commit", m->commit,
	    "digest", digest,
	    "files", (json_int_t)r->files, "bytes", (json_int_t)r->bytes,
	    "fetched", (json_int_t)r->fetched,
	    "held", (json_int_t)r->held,
	    "resumed", (json_int_t)r->resumed,
	    "chunks_new", (json_int_t)r->new_chunks,
	    "bytes_new", (json_int_t)r->new_bytes,
	    "requests", (json_int_t)r->requests,
	    "retries", (json_int_t)r->retries, "seconds", secs,
	    "unchanged", r->unchanged);
	if (doc != NULL && also != NULL)
		json_object_set(doc, "also", also);
	cli_json(doc);
}

/*
 * pull --lock: each model by its commit, its files exactly the locked
 * manifest's, committed as that manifest with the lockfile's signatures,
 * once the store's keyring has judged them.  What the store has already
 * costs nothing.
 */
static int
pull_lock(struct cmd_ctx *ctx, struct mirror *m, struct mirror_pull_spec *spec,
    const char *judged)
{
	struct pull_args *a = ctx->data;
	struct lockfile *lf;
	int rc;

	if ((rc = deploy_load(ctx->st, a->lock, NULL, &lf)) != 0)
		return rc;
	for (size_t i = 0; i < lf->n && rc == 0; i++) {
		const struct lock_model *lm = &lf->models[i];
		struct store_sig sigs[BOUND_BUNDLE_SIGS];
		struct mirror_pull_result res = { 0 };
		char digest[STORE_DIGEST_STRLEN + 1];
		size_t n = 0;

		store_digest_str(lm->m->digest, digest);
		if (store_manifest_has(ctx->st, lm->m->digest) == 0) {
			if (!ctx->cli->json)
				printf("%s%s@%s %s (had it)\n",
				    store_type_prefix(lm->type), lm->repo,
				    lm->m->commit, digest);
			continue;
		}
		for (size_t j = 0; j < lm->nsigs && n < BOUND_BUNDLE_SIGS; j++)
			if (keys_keyid_parse(lm->sigs[j].keyid,
			    sigs[n].keyid) == 0) {
				sigs[n].text = lm->sigs[j].minisig;
				sigs[n++].len = lm->sigs[j].len;
			}
		spec->type = lm->type;
		spec->repo = lm->repo;
		spec->revision = lm->m->commit;
		spec->exact = lm->m;
		spec->sigs = sigs;
		spec->nsigs = n;
		spec->sign = NULL;
		rc = mirror_pull(m, ctx->st, spec, &res);
		if (*judged != '\0')
			cli_warnx("%s", judged);	/* the judge's words */
		if (rc != 0) {
			const char *e = mirror_lasterror();

			/* The engine's words name the repository. */
			if (*e != '\0')
				cli_warnx("%s", e);
			else
				cli_warnx("%s%s@%s: %s",
				    store_type_prefix(lm->type), lm->repo,
				    lm->m->commit, mirror_strerror(rc));
			cli_warnx("%s%s@%s: the upstream does not serve the "
			    "locked revision %s; nothing was added",
			    store_type_prefix(lm->type), lm->repo,
			    lm->revision, digest);
			/* Files that are not the locked ones: a check failed. */
			rc = rc == STORE_EINVAL ? EXIT_CHECK : pull_exit(rc);
		} else
			report(ctx->cli, &res, lm->revision, 0, NULL);
		store_manifest_free(res.manifest);
	}
	lock_free(lf);
	return rc;
}

/*
 * The gate, on the card and licence files the pull fetched first, before
 * any weight moves (mirror.h, mirror_gate_fn).
 */
struct pull_gate {
	struct store			*st;
	const struct mirror_pull_spec	*spec;	/* its repo, as it pulls */
	const char			*reason;	/* --force's, or NULL */
	struct policy_table	*table;
	struct policy_rules	*rules;
	int			 status;
};

static int
pull_gate(void *arg, const char *commit, const struct mirror_meta_file *mf,
    size_t n, const struct mirror_chain_vouch *v)
{
	struct pull_gate *g = arg;
	struct policy_input_file files[MIRROR_META_FILES];
	json_t *reviews = NULL;
	char reason[1024];
	json_t *c;
	int rc;

	if (n > MIRROR_META_FILES)
		n = MIRROR_META_FILES;
	for (size_t i = 0; i < n; i++) {
		files[i].path = mf[i].path;
		files[i].size = mf[i].size;
		files[i].sha256 = mf[i].sha256;
		files[i].buf = mf[i].buf;
		files[i].len = mf[i].len;
	}
	if ((rc = gate_conclude_files(g->st, g->table, g->spec->repo, commit, files,
	    n, &c)) != 0) {
		g->status = cli_fail(EXIT_USAGE, "%s@%s: %s", g->spec->repo, commit,
		    gate_lasterror());
		return MIRROR_EREFUSED;
	}
	/* From an airlockd, the reviews that came with the manifest count. */
	if (v != NULL) {
		const char *texts[BOUND_BUNDLE_SIGS];
		size_t lens[BOUND_BUNDLE_SIGS], ns = 0, nring = 0;
		struct keys_trust *ring = NULL;
		unsigned ntrusted;

		for (size_t i = 0; i < v->nsigs && ns < BOUND_BUNDLE_SIGS; i++) {
			texts[ns] = v->sigs[i].text;
			lens[ns++] = v->sigs[i].len;
		}
		if (gate_ring(g->st, &ring, &nring) == 0)
			gate_reviews_of(ring, nring, v->manifest, texts, lens, ns,
			    &reviews, &ntrusted);
		free(ring);
	}
	rc = gate_judge(g->rules, c, reviews, GATE_NO_SIGNATURES, reason,
	    sizeof(reason));
	json_decref(reviews);
	json_decref(c);
	if (rc == 0)
		return 0;
	if (rc == POLICY_EDENIED && g->reason != NULL) {
		cli_warnx("%s@%s: the policy refuses it (%s); pulled by "
		    "--force: %s", g->spec->repo, commit, reason, g->reason);
		return 0;
	}
	if (rc == POLICY_EDENIED) {
		char what[600];

		snprintf(what, sizeof(what), "%s@%s", g->spec->repo, commit);
		g->status = gate_refuse(what, reason);
		cli_warnx("%s: refused before any weight was fetched", what);
	} else
		g->status = cli_fail(EXIT_USAGE, "%s: %s", g->spec->repo,
		    gate_lasterror());
	return MIRROR_EREFUSED;
}

/*
 * Once the revision is in: the metadata of the bases its lineage names
 * (unless --no-bases), then with --with-datasets the datasets its card
 * claims.  The revision stays whatever these do; the status says.
 */
static int
pull_also(const struct pull_args *a, struct mirror *m, struct store *st,
    const struct mirror_pull_spec *spec, const struct store_manifest *man,
    json_t **also)
{
	int rc = 0, rc2;

	*also = json_array();
	if (!a->no_bases) {
		json_decref(*also);
		rc = pull_bases(m, st, spec, man, also);
	}
	if (a->datasets && (rc2 = pull_datasets(m, st, spec, man, *also)) != 0)
		rc = rc2;
	return rc;
}

/* The upstream: --from, $AIRLOCK_UPSTREAM, $HF_ENDPOINT, else the Hub. */
static const char *
pull_upstream(const struct pull_args *a)
{
	const char *u = a->from;

	if (u == NULL)
		u = getenv("AIRLOCK_UPSTREAM");
	if (u == NULL || *u == '\0')
		u = getenv("HF_ENDPOINT");
	if (u == NULL || *u == '\0')
		u = "https://huggingface.co";
	return u;
}

/* Everything a pull needs but the engine: its spec, the key, the gate. */
struct pull_run {
	struct mirror_pull_spec	 spec;
	struct mirror_opts	 opts;
	struct mirror_pull_result res;
	struct pull_gate	 pg;
	struct keys_signer	*signer;
	struct mirror_judge	*judge;
	char			 judged[2048];	/* the judge's words */
	char			*token;
	char			 why[2300];	/* for the reflog */
	const char		*rev;
	json_t			*also;
	int			 status;	/* pull_also's */
};

static int
pull_prepare(struct cmd_ctx *ctx, struct pull_run *p)
{
	struct pull_args *a = ctx->data;
	struct mirror_pull_spec *spec = &p->spec;
	int rc;

	spec->upstream = pull_upstream(a);
	if ((rc = pull_opts(&p->opts)) != 0 ||
	    (rc = pull_token(a, &p->token)) != 0)
		return rc;
	/* The key is unlocked before any transfer.  A locked revision keeps
	 * the signatures it came with. */
	if (a->lock == NULL &&
	    (rc = signer_open(ctx->cli, ctx->st, NULL, 0, &p->signer)) != 0)
		return rc;
	if ((rc = gate_load(ctx->st, &p->pg.table, &p->pg.rules)) != 0)
		return rc;
	if (mirror_judge_new(ctx->st, p->judged, sizeof(p->judged),
	    &p->judge) != 0)
		return cli_fail(EXIT_USAGE, "out of memory");
	snprintf(p->why, sizeof(p->why), "pull%s%s from %s%s%s%s",
	    a->lock != NULL ? " --lock " : "", a->lock != NULL ? a->lock : "",
	    spec->upstream, a->reason != NULL ? " (forced past the policy: " :
	    "", a->reason != NULL ? a->reason : "", a->reason != NULL ? ")" :
	    "");
	if (p->pg.rules != NULL) {
		p->pg.st = ctx->st;
		p->pg.spec = spec;
		p->pg.reason = a->reason;
		spec->gate = pull_gate;
		spec->gate_arg = &p->pg;
	}
	p->rev = a->t.rev != NULL ? a->t.rev : "main";
	spec->type = a->t.type;
	spec->repo = a->t.repo;
	spec->revision = p->rev;
	spec->token = p->token;
	spec->include = a->include;
	spec->exclude = a->exclude;
	spec->why = p->why;
	spec->sign = p->signer != NULL ? signer_sign : NULL;
	spec->sign_arg = p->signer;
	spec->judge = mirror_judge;
	spec->judge_arg = p->judge;
	return 0;
}

/* The engine on a thread of its own, the pull (or the lockfile's), the
 * bases and datasets after it, under a progress bar: *pulled is what
 * mirror_pull (or pull_lock) returned, the return the engine's start. */
static int
pull_engine(struct cmd_ctx *ctx, struct pull_run *p, int *pulled)
{
	struct pull_args *a = ctx->data;
	struct event_base *base;
	struct progress *bar;
	struct mirror *m = NULL;
	int rc = 0;

	if ((base = mirror_base_new()) == NULL)
		return cli_fail(EXIT_USAGE, "event_base_new failed");
	if (mirror_new(base, &p->opts, &m) != 0 ||
	    mirror_thread_start(m) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s", mirror_lasterror());
		goto out;
	}
	bar = progress_start(ctx->cli, "pull", 0);
	p->spec.status = bar != NULL ? pull_status : NULL;
	p->spec.status_arg = bar;
	if (a->lock != NULL)
		*pulled = pull_lock(ctx, m, &p->spec, p->judged);
	else
		*pulled = mirror_pull(m, ctx->st, &p->spec, &p->res);
	progress_end(bar);
	if (a->lock == NULL && *pulled == 0)
		p->status = pull_also(a, m, ctx->st, &p->spec, p->res.manifest,
		    &p->also);
	mirror_thread_stop(m);
out:
	mirror_free(m);
	event_base_free(base);
	return rc;
}

/* What mirror_pull returned, said. */
static int
pull_outcome(struct cmd_ctx *ctx, struct pull_run *p, int rc, double secs)
{
	struct pull_args *a = ctx->data;
	int judged = mirror_judge_refused(p->judge);
	const char *e;

	if (p->judged[0] != '\0')
		cli_warnx("%s", p->judged);	/* why, or a warning */
	if (rc == MIRROR_EREFUSED || (rc == STORE_ECANCELED && judged)) {
		/* The judge or the gate said why. */
		cli_warnx("%s%s@%s: no revision was added",
		    store_type_prefix(a->t.type), a->t.repo, p->rev);
		if (p->pg.status != 0)
			return p->pg.status;
		return judged == MIRROR_JUDGE_FAILED ? EXIT_USAGE : EXIT_CHECK;
	}
	if (rc != 0) {
		e = mirror_lasterror();
		cli_warnx("%s%s@%s: %s", store_type_prefix(a->t.type),
		    a->t.repo, p->rev, *e != '\0' ? e : mirror_strerror(rc));
		if (p->res.failed != NULL)
			cli_warnx("%s: no revision was added", p->res.failed);
		return pull_exit(rc);
	}
	report(ctx->cli, &p->res, p->rev, secs, p->also);
	return p->status;
}

int
cmd_pull(struct cmd_ctx *ctx)
{
	struct pull_args *a = ctx->data;
	struct pull_run *p;
	struct timespec t0, t1;
	int rc, pulled = 0;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	if ((rc = pull_prepare(ctx, p)) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((rc = pull_engine(ctx, p, &pulled)) != 0)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (a->lock != NULL)
		rc = pulled;
	else
		rc = pull_outcome(ctx, p, pulled, (double)(t1.tv_sec -
		    t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
	policy_rules_free(p->pg.rules);
	policy_table_free(p->pg.table);
	json_decref(p->also);
	mirror_judge_free(p->judge);
	store_manifest_free(p->res.manifest);
	keys_signer_free(p->signer);
	free(p->token);
	free(p);
	return rc;
}
