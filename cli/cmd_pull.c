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

/*
 * A chained pull's judge (mirror.h): the upstream's signatures over the
 * manifest, and its release against rollback, before any chunk moves.
 */
struct pull_judge {
	struct store		*st;
	struct keys_release	*rel;
	struct release_rec	 rec;
	char			 setting[100];	/* "publisher sha256:HEX" */
	uint8_t			 publisher[8];	/* its value */
	int			 known;		/* there is one */
	int			 status;	/* the exit status of a refusal */
};

/*
 * The publisher whose releases this store took from an upstream, by its
 * URL: the setting "publisher sha256:HEX" (HEX the URL's sha256) holds
 * its key id.  Once there is one, the upstream must go on publishing
 * releases by that key: one that stops (the release stripped, so that
 * an older state passes unchecked) or signs with another is refused.
 */
static int
publisher_get(struct pull_judge *j, const char *upstream)
{
	char hex[STORE_HEX_LEN + 1];
	uint8_t d[STORE_HASH_LEN];
	void *val;
	size_t len;
	int rc;

	store_sha256(upstream, strlen(upstream), d);
	store_hex(d, STORE_HASH_LEN, hex);
	snprintf(j->setting, sizeof(j->setting), "publisher sha256:%s", hex);
	rc = store_kv_get(j->st, STORE_SETTING, j->setting, strlen(j->setting),
	    &val, &len);
	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc != 0)
		return cli_store_fail(rc, "the upstream's publisher record");
	if (len != 8) {
		free(val);
		return cli_fail(EXIT_CHECK, "%s: refused: this store's record "
		    "of its publisher (setting \"%s\") cannot be read",
		    upstream, j->setting);
	}
	memcpy(j->publisher, val, 8);
	free(val);
	j->known = 1;
	return 0;
}

/* In the revision's commit: the release record, then the publisher's. */
static int
publisher_record(void *arg, struct store_kvtxn *kt)
{
	struct pull_judge *j = arg;
	int rc;

	if ((rc = release_record(&j->rec, kt)) != 0)
		return rc;
	return store_kvtxn_put(kt, STORE_SETTING, j->setting,
	    strlen(j->setting), j->rel->rl_publisher, 8);
}

/*
 * Each signature is kept under the key id that it carries, once it
 * parses; one by a key in the keyring must verify over the manifest and
 * name it, or the pull is refused (the upstream, or what stands between,
 * is not telling the truth).  One by a key the keyring lacks is kept as
 * it came, for show and verify to judge once that key is trusted.
 */
static int
judge_sigs(struct mirror_chain_vouch *v, const struct keys_trust *ring,
    size_t nring)
{
	struct keys_sig_verdict verdicts[BOUND_BUNDLE_SIGS];
	const char *texts[BOUND_BUNDLE_SIGS];
	size_t lens[BOUND_BUNDLE_SIGS];
	char digest[STORE_DIGEST_STRLEN + 1], hex[KEYS_KEYID_HEXLEN + 1];
	struct keys_subject subj;
	int rc;

	if (v->nsigs == 0)
		return 0;
	for (size_t i = 0; i < v->nsigs; i++) {
		texts[i] = v->sigs[i].text;
		lens[i] = v->sigs[i].len;
	}
	trust_subject(v->manifest, digest, &subj);
	memset(verdicts, 0, sizeof(verdicts));
	rc = keys_policy_eval(ring, nring, 1, &subj, texts, lens, v->nsigs,
	    verdicts, NULL);
	if (rc != 0 && rc != KEYS_ETHRESHOLD)
		return cli_fail(EXIT_USAGE, "the upstream's signatures: %s",
		    keys_strerror(rc));
	for (size_t i = 0; i < v->nsigs; i++) {
		keys_keyid_hex(verdicts[i].vd_keyid, hex);
		switch (verdicts[i].vd_verdict) {
		case KEYS_V_TRUSTED:
		case KEYS_V_UNKNOWN_KEY:
		case KEYS_V_OUT_OF_SCOPE:
			v->sigs[i].keep = 1;
			memcpy(v->sigs[i].keyid, verdicts[i].vd_keyid, 8);
			break;
		case KEYS_V_REVOKED:
			break;	/* it never counts again: not worth keeping */
		case KEYS_V_MALFORMED:
			return cli_fail(EXIT_CHECK, "%s: the upstream's "
			    "signature %zu of manifest %s is not a signature: "
			    "%s", v->upstream, i, digest,
			    keys_strerror(verdicts[i].vd_error));
		default:
			return cli_fail(EXIT_CHECK, "%s: the upstream's "
			    "signature by key %s does not verify over manifest "
			    "%s: %s", v->upstream, hex, digest,
			    verdicts[i].vd_verdict == KEYS_V_COMMENT_MISMATCH ?
			    "it names another manifest" :
			    keys_strerror(verdicts[i].vd_error));
		}
	}
	return 0;
}

/*
 * The upstream's release, signed by a key of scope "*" in the keyring,
 * not expired and not older than the highest taken from that key: else
 * refused.  Taken, it is recorded in the revision's commit.  A release by
 * a key the keyring lacks tells nothing that can be checked: said, and
 * not recorded.
 */
static int
judge_release(struct pull_judge *j, struct mirror_chain_vouch *v,
    const struct keys_trust *ring, size_t nring)
{
	struct keys_sig_verdict vd;
	struct keys_subject subj;
	char digest[STORE_DIGEST_STRLEN + 1], hex[KEYS_KEYID_HEXLEN + 1];
	const char *texts[1] = { v->release_sig };
	uint8_t d[STORE_HASH_LEN];
	void *old = NULL;
	size_t oldlen;
	int rc;

	store_sha256(v->release, v->release_len, d);
	store_digest_str(d, digest);
	subj.su_kind = KEYS_TC_RELEASE;
	subj.su_repo = NULL;
	subj.su_digest = digest;
	subj.su_msg = v->release;
	subj.su_len = v->release_len;
	memset(&vd, 0, sizeof(vd));
	rc = keys_policy_eval(ring, nring, 1, &subj, texts,
	    &v->release_sig_len, 1, &vd, NULL);
	keys_keyid_hex(vd.vd_keyid, hex);
	if (j->known && memcmp(vd.vd_keyid, j->publisher, 8) != 0) {
		char was[KEYS_KEYID_HEXLEN + 1];

		keys_keyid_hex(j->publisher, was);
		return cli_fail(EXIT_CHECK, "%s: refused: its release is "
		    "signed by key %s, its releases taken before by key %s",
		    v->upstream, hex, was);
	}
	if (rc != 0 && vd.vd_verdict == KEYS_V_UNKNOWN_KEY) {
		cli_warnx("%s: its release is signed by key %s, which this "
		    "store does not trust: not checked for rollback",
		    v->upstream, hex);
		return 0;
	}
	if (rc != 0)
		return cli_fail(EXIT_CHECK, "%s: refused: its release does not "
		    "hold: %s (key %s)", v->upstream,
		    vd.vd_verdict == KEYS_V_OUT_OF_SCOPE ? "the key's scope "
		    "does not cover publishing (it needs \"*\")" :
		    keys_verdict_name(vd.vd_verdict), hex);
	if ((rc = keys_release_parse(v->release, v->release_len, &j->rel))
	    != 0)
		return cli_fail(EXIT_CHECK, "%s: release: %s", v->upstream,
		    keys_strerror(rc));
	if (memcmp(j->rel->rl_publisher, vd.vd_keyid, 8) != 0)
		return cli_fail(EXIT_CHECK, "%s: the release names another "
		    "publisher than the key that signed it", v->upstream);
	if (keys_release_check_expiry(j->rel, time(NULL)) != 0)
		return cli_fail(EXIT_CHECK, "%s: refused: its release %llu "
		    "expired at %s", v->upstream,
		    (unsigned long long)j->rel->rl_version,
		    j->rel->rl_expires);
	rc = store_kv_get(j->st, STORE_RELEASE, vd.vd_keyid, 8, &old, &oldlen);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return cli_store_fail(rc, "the release records");
	rc = release_vs_record(v->upstream, j->rel, v->release,
	    v->release_len, old, oldlen);
	free(old);
	if (rc != 0)
		return rc;
	j->rec.path = v->upstream;
	j->rec.rel = j->rel;
	j->rec.doc = v->release;
	j->rec.len = v->release_len;
	v->kv = publisher_record;
	v->kv_arg = j;
	return 0;
}

static int
pull_judge(void *arg, struct mirror_chain_vouch *v)
{
	struct pull_judge *j = arg;
	struct keys_trust *ring = NULL;
	size_t nring = 0;
	int rc;

	keys_init();
	if (gate_ring(j->st, &ring, &nring) != 0) {
		j->status = cli_fail(EXIT_USAGE, "the keyring cannot be read");
		return MIRROR_EREFUSED;
	}
	if ((rc = publisher_get(j, v->upstream)) == 0 &&
	    (rc = judge_sigs(v, ring, nring)) == 0) {
		if (v->release != NULL)
			rc = judge_release(j, v, ring, nring);
		else if (j->known) {
			char was[KEYS_KEYID_HEXLEN + 1];

			keys_keyid_hex(j->publisher, was);
			rc = cli_fail(EXIT_CHECK, "%s: refused: it publishes no "
			    "release, and this store took releases by key %s "
			    "from it (a rollback that hides the release?)",
			    v->upstream, was);
		}
	}
	free(ring);
	if (rc == 0)
		return 0;
	j->status = rc;
	return MIRROR_EREFUSED;
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
pull_lock(struct cmd_ctx *ctx, struct mirror *m, struct mirror_pull_spec *spec)
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
		if ((rc = mirror_pull(m, ctx->st, spec, &res)) != 0) {
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
	struct gate_file files[16];
	json_t *reviews = NULL;
	char reason[1024];
	json_t *c;
	int rc;

	for (size_t i = 0; i < n && i < 16; i++) {
		files[i].path = mf[i].path;
		files[i].size = mf[i].size;
		files[i].sha256 = mf[i].sha256;
		files[i].buf = mf[i].buf;
		files[i].len = mf[i].len;
	}
	if ((rc = gate_conclude_files(g->st, g->table, g->spec->repo, commit, files,
	    n < 16 ? n : 16, &c)) != 0) {
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

int
cmd_pull(struct cmd_ctx *ctx)
{
	struct pull_gate pg = { 0 };
	struct pull_args *a = ctx->data;
	struct mirror_pull_spec spec = { 0 };
	struct mirror_pull_result res = { 0 };
	struct mirror_opts opts;
	struct keys_signer *signer = NULL;
	struct pull_judge judge = { 0 };
	struct progress *bar = NULL;
	struct event_base *base = NULL;
	struct mirror *m = NULL;
	struct timespec t0, t1;
	char *token = NULL, why[2300];
	const char *rev = a->t.rev != NULL ? a->t.rev : "main";
	json_t *also = NULL;
	int rc, status = 0;

	spec.upstream = a->from;
	if (spec.upstream == NULL)
		spec.upstream = getenv("AIRLOCK_UPSTREAM");
	if (spec.upstream == NULL || *spec.upstream == '\0')
		spec.upstream = getenv("HF_ENDPOINT");
	if (spec.upstream == NULL || *spec.upstream == '\0')
		spec.upstream = "https://huggingface.co";
	if ((rc = pull_opts(&opts)) != 0 || (rc = pull_token(a, &token)) != 0)
		return rc;
	/* The key is unlocked before any transfer. */
	/* A locked revision keeps the signatures it came with. */
	if (a->lock == NULL &&
	    (rc = signer_open(ctx->cli, ctx->st, NULL, 0, &signer)) != 0)
		goto out;
	if ((rc = gate_load(ctx->st, &pg.table, &pg.rules)) != 0)
		goto out;
	snprintf(why, sizeof(why), "pull%s%s from %s%s%s%s", a->lock != NULL ?
	    " --lock " : "", a->lock != NULL ? a->lock : "", spec.upstream,
	    a->reason != NULL ? " (forced past the policy: " : "",
	    a->reason != NULL ? a->reason : "", a->reason != NULL ? ")" : "");
	if (pg.rules != NULL) {
		pg.st = ctx->st;
		pg.spec = &spec;
		pg.reason = a->reason;
		spec.gate = pull_gate;
		spec.gate_arg = &pg;
	}
	spec.type = a->t.type;
	spec.repo = a->t.repo;
	spec.revision = rev;
	spec.token = token;
	spec.include = a->include;
	spec.exclude = a->exclude;
	spec.why = why;
	spec.sign = signer != NULL ? signer_sign : NULL;
	spec.sign_arg = signer;
	judge.st = ctx->st;
	spec.judge = pull_judge;
	spec.judge_arg = &judge;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((base = mirror_base_new()) == NULL) {
		rc = cli_fail(EXIT_USAGE, "event_base_new failed");
		goto out;
	}
	if ((rc = mirror_new(base, &opts, &m)) != 0 ||
	    (rc = mirror_thread_start(m)) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s", mirror_lasterror());
		goto out;
	}
	bar = progress_start(ctx->cli, "pull", 0);
	spec.status = bar != NULL ? pull_status : NULL;
	spec.status_arg = bar;
	if (a->lock != NULL)
		rc = pull_lock(ctx, m, &spec);
	else
		rc = mirror_pull(m, ctx->st, &spec, &res);
	progress_end(bar);
	if (a->lock == NULL && rc == 0)
		status = pull_also(a, m, ctx->st, &spec, res.manifest, &also);
	mirror_thread_stop(m);
	if (a->lock != NULL)
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rc == MIRROR_EREFUSED || (rc == STORE_ECANCELED &&
	    judge.rec.refused)) {
		/* The judge said why. */
		cli_warnx("%s%s@%s: no revision was added",
		    store_type_prefix(a->t.type), a->t.repo, rev);
		rc = rc != MIRROR_EREFUSED ? EXIT_CHECK : pg.status != 0 ?
		    pg.status : judge.status;
		goto out;
	}
	if (rc != 0) {
		const char *e = mirror_lasterror();

		cli_warnx("%s%s@%s: %s", store_type_prefix(a->t.type),
		    a->t.repo, rev, *e != '\0' ? e : mirror_strerror(rc));
		if (res.failed != NULL)
			cli_warnx("%s: no revision was added", res.failed);
		rc = pull_exit(rc);
		goto out;
	}
	report(ctx->cli, &res, rev, (double)(t1.tv_sec - t0.tv_sec) +
	    (t1.tv_nsec - t0.tv_nsec) / 1e9, also);
	rc = status;
out:
	policy_rules_free(pg.rules);
	policy_table_free(pg.table);
	json_decref(also);
	keys_release_free(judge.rel);
	store_manifest_free(res.manifest);
	mirror_free(m);
	if (base != NULL)
		event_base_free(base);
	keys_signer_free(signer);
	free(token);
	return rc;
}
