/*
 * airlock ls [PATTERN] [--licence ID] [--flag NAME]: every branch and tag
 * of every repository (each said to be which), or of those whose id
 * matches the shell pattern, whose concluded licence has the term ID, or
 * whose conclusion raises the flag NAME.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "policy/policy.h"

struct ls {
	struct cli	*cli;
	struct store	*st;
	const char	*pattern;
	const char	*licence;	/* --licence, as the table spells it */
	const char	*flag;		/* --flag */
	struct policy_table *table;
	json_t		*out;
	int		 count;
};

static int
has_term(const char *concluded, const char *term)
{
	size_t n = strlen(term);
	const char *p = concluded;

	while (p != NULL && (p = strstr(p, term)) != NULL) {
		if ((p == concluded || strncmp(p - 5, " AND ", 5) == 0) &&
		    (p[n] == '\0' || strncmp(p + n, " AND ", 5) == 0))
			return 1;
		p++;
	}
	return 0;
}

/* Whether the revision's conclusion has the licence and the flag asked
 * for; a revision whose conclusion fails is named and left out. */
static int
wanted(struct ls *l, const struct store_manifest *m)
{
	json_t *c, *f;
	size_t i;
	int hit = 1, rc;

	if ((rc = licence_conclude(l->st, l->table, m, &c)) != 0) {
		cli_warnx("%s@%s: no conclusion: %s", m->repo, m->commit,
		    rc < -32000 && rc > -32100 ? policy_lasterror() :
		    store_lasterror());
		return 0;
	}
	if (l->licence != NULL)
		hit = has_term(json_string_value(json_object_get(c,
		    "concluded")), l->licence);
	if (hit && l->flag != NULL) {
		hit = 0;
		json_array_foreach(json_object_get(c, "flags"), i, f)
			if (strcmp(json_string_value(json_object_get(f, "flag")),
			    l->flag) == 0)
				hit = 1;
	}
	json_decref(c);
	return hit;
}

static int
ls_ref(void *arg, const struct store_ref *r)
{
	struct ls *l = arg;
	struct store_manifest *m;
	char digest[STORE_DIGEST_STRLEN + 1], size[32];
	const char *kind;
	uint64_t bytes = 0;

	if (r->is_commit)
		return 0;
	if (l->pattern != NULL && fnmatch(l->pattern, r->repo, 0) != 0)
		return 0;
	/* The store is open read-only for this walk: reading a manifest in
	 * the callback takes its own short transaction. */
	if (store_manifest_get(l->st, r->digest, &m) != 0) {
		cli_warnx("%s@%s: %s", r->repo, r->name, store_lasterror());
		return 0;
	}
	if ((l->licence != NULL || l->flag != NULL) && !wanted(l, m)) {
		store_manifest_free(m);
		return 0;
	}
	for (size_t i = 0; i < m->nfiles; i++)
		bytes += m->files[i].size;
	store_digest_str(r->digest, digest);
	/* A base's metadata without its weights is not the model. */
	kind = r->is_tag ? "tag" : strcmp(r->name, POLICY_METADATA_REF) == 0 ?
	    "partial" : "branch";
	l->count++;
	if (l->cli->json)
		json_array_append_new(l->out, json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:s,s:I,s:I,s:s}", "type", r->type, "repo", r->repo, "ref",
		    r->name, "kind", kind, "commit",
		    m->commit, "digest", digest, "files", (json_int_t)m->nfiles,
		    "bytes", (json_int_t)bytes,
		    "created", m->created));
	else
		printf("%-7s  %-40s  %-12s  %-6s  %.12s  %10s  %s\n", r->type,
		    r->repo, r->name, kind, m->commit,
		    cli_bytes(bytes, size), m->created);
	store_manifest_free(m);
	return 0;
}

int
cmd_ls_check(struct cmd_ctx *ctx)
{
	const char *f = ctx->opt['f'];

	if (ctx->argc == 1 && ctx->argv[0][0] == '-')
		return cli_usage(ctx->cli);
	/* A typo must not look like an empty list. */
	if (f == NULL || policy_flag_valid(f))
		return 0;
	return cli_fail(EXIT_USAGE, "--flag %s: no such flag (%s, %s, %s, %s, "
	    "%s, %s, %s, %s, %s, %s)", f, POLICY_FLAG_DIFFERS,
	    POLICY_FLAG_MISSING, POLICY_FLAG_UNNAMED, POLICY_FLAG_UNKNOWN,
	    POLICY_FLAG_NAMING, POLICY_FLAG_MERGE, POLICY_FLAG_CHANGED,
	    POLICY_FLAG_NOFILE, POLICY_FLAG_NONOTICE, POLICY_FLAG_ANCESTOR);
}

int
cmd_ls(struct cmd_ctx *ctx)
{
	struct ls l = { .cli = ctx->cli, .st = ctx->st };
	int rc;

	l.pattern = ctx->argc == 1 ? ctx->argv[0] : NULL;
	l.flag = ctx->opt['f'];
	if (ctx->opt['l'] != NULL || l.flag != NULL) {
		const struct policy_licence *lic;

		if ((rc = licence_table(&l.table)) != 0)
			return rc;
		l.licence = ctx->opt['l'];
		if (l.licence != NULL &&
		    (lic = policy_licence_find(l.table, l.licence)) != NULL)
			l.licence = lic->id;
	}
	l.out = json_array();
	rc = store_refs(l.st, NULL, NULL, ls_ref, &l);
	if (rc != 0)
		rc = cli_store_fail(rc, NULL);
	else if (l.cli->json)
		cli_json(json_incref(l.out));
	json_decref(l.out);
	policy_table_free(l.table);
	return rc;
}
