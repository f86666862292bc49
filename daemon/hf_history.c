/*
 * hf_history.c - a revision's history, /api/{models,datasets}/REPO/
 * commits/REV, and who a token is, /api/whoami-v2 (HF-API.md, "Listing,
 * history and who am I").  The history is the reflog: every move of the
 * ref, newest first, each naming the commit it moved to.  Runs on a
 * worker.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/airlockd.h"

#define COMMITS_PAGE	50	/* the Hub's page when no limit is asked */

struct history {
	json_t	*commits;	/* digest hex -> commit id */
	json_t	*kinds;		/* ref name -> true for a branch or tag */
	json_t	*logs;		/* ref name -> [entry, ...], oldest first */
};

static int
history_ref(void *arg, const struct store_ref *ref)
{
	struct history *h = arg;
	char d[STORE_HEX_LEN + 1];

	store_hex(ref->digest, STORE_HASH_LEN, d);
	if (ref->is_commit)
		json_object_set_new(h->commits, d, json_string(ref->name));
	else
		json_object_set_new(h->kinds, ref->name, json_true());
	return 0;
}

static int
history_entry(void *arg, const char *ref, json_t *entry)
{
	struct history *h = arg;
	json_t *log;

	if (!json_is_string(json_object_get(entry, "new")))
		return 0;	/* a deletion names no commit */
	if ((log = json_object_get(h->logs, ref)) == NULL) {
		if ((log = json_array()) == NULL ||
		    json_object_set_new(h->logs, ref, log) != 0)
			return ENOMEM;
	}
	return json_array_append(log, entry) != 0 ? ENOMEM : 0;
}

/* Index of the newest entry of log that moved to digest, or -1. */
static ssize_t
newest_to(json_t *log, const char *digest)
{
	size_t i;

	for (i = json_array_size(log); i-- > 0;)
		if (strcmp(json_string_value(json_object_get(json_array_get(log,
		    i), "new")), digest) == 0)
			return (ssize_t)i;
	return -1;
}

/*
 * Which entries make the history of rev, oldest first, in *log (borrowed)
 * up to *upto: a branch's or tag's own moves, or for a commit, the moves
 * of the first ref (main first) that ever pointed at it, up to that move.
 */
static int
history_of(struct history *h, const char *rev, const char *digest,
    json_t **log, size_t *upto)
{
	const char *name;
	json_t *l;
	ssize_t at;

	*log = NULL;
	if (json_object_get(h->kinds, rev) != NULL &&
	    (l = json_object_get(h->logs, rev)) != NULL) {
		*log = l;
		*upto = json_array_size(l);
		return 0;
	}
	if ((l = json_object_get(h->logs, "main")) != NULL &&
	    (at = newest_to(l, digest)) >= 0) {
		*log = l;
		*upto = (size_t)at + 1;
		return 0;
	}
	json_object_foreach(h->logs, name, l)
		if ((at = newest_to(l, digest)) >= 0) {
			*log = l;
			*upto = (size_t)at + 1;
			return 0;
		}
	return -1;
}

static json_t *
commit_json(struct history *h, json_t *entry)
{
	const char *d = json_string_value(json_object_get(entry, "new"));
	const char *why = json_string_value(json_object_get(entry, "why"));
	const char *who = json_string_value(json_object_get(entry, "who"));
	const char *commit;
	char when[32], tc[STORE_COMMIT_LEN + 1];

	if (strncmp(d, "sha256:", 7) == 0)
		d += 7;
	if ((commit = json_string_value(json_object_get(h->commits,
	    d))) == NULL) {
		/* A local add's commit id is its digest's prefix. */
		snprintf(tc, sizeof(tc), "%.40s", d);
		commit = tc;
	}
	if (why == NULL || *why == '\0')
		why = "Update with airlock";
	if (who == NULL || *who == '\0')
		who = "airlock";
	hf_time_ms(json_integer_value(json_object_get(entry, "time")) * 1000,
	    when);
	return json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}],s:s}", "id", commit,
	    "title", why, "message", why, "authors", "user", who, "avatar", "",
	    "date", when);
}

static int
commits_link(struct request *req, size_t page, size_t limit)
{
	const struct route *r = &req->r_route;
	char *rev, *link;
	int rc;

	if ((rev = evhttp_uriencode(r->rev[0] != '\0' ? r->rev : "main", -1,
	    0)) == NULL)
		return -1;
	rc = asprintf(&link, "<%s/api/%s/%s/commits/%s?p=%zu&limit=%zu>; "
	    "rel=\"next\"", req->r_base, store_type_plural(r->type), r->repo,
	    rev, page, limit);
	free(rev);
	if (rc == -1)
		return -1;
	resp_header(req, "Link", link);
	free(link);
	return 0;
}

/* What a failed resolve of the listed revision answers. */
static enum api_error
history_error(int rc)
{
	switch (rc) {
	case STORE_ENOREPO:
		return API_REPO_NOT_FOUND;
	case STORE_ENOTFOUND:
		return API_REVISION_NOT_FOUND;
	case STORE_EINVAL:
		return API_BAD_REQUEST;
	default:
		return API_INTERNAL;
	}
}

void
hf_commits(struct request *req)
{
	const struct route *r = &req->r_route;
	struct store *st = req->r_srv->srv_store;
	struct history h;
	uint8_t digest[STORE_HASH_LEN];
	char dhex[STORE_DIGEST_STRLEN + 1], total[32];
	const char *rev = r->rev[0] != '\0' ? r->rev : "main", *why;
	json_t *log, *out = NULL;
	size_t page, limit, upto, i, first;
	int rc;

	if (page_parse(&req->r_query, COMMITS_PAGE, BOUND_COMMITS_PAGE, &page,
	    &limit, &why) != 0) {
		resp_fail(req, API_BAD_REQUEST, why, NULL);
		return;
	}
	h.commits = json_object();
	h.kinds = json_object();
	h.logs = json_object();
	if (h.commits == NULL || h.kinds == NULL || h.logs == NULL)
		goto nomem;
	if ((rc = store_resolve(st, r->type, r->repo, rev, digest)) != 0) {
		resp_fail(req, history_error(rc), rc == STORE_ENOREPO ?
		    r->repo : rc == STORE_EINVAL ? store_lasterror() : rev,
		    NULL);
		goto out;
	}
	if ((rc = store_refs(st, r->type, r->repo, history_ref, &h)) != 0 ||
	    (rc = store_reflog(st, r->type, r->repo, history_entry,
	    &h)) != 0) {
		if (rc == ENOMEM)
			goto nomem;
		log_warnx("%s: %s: %s", __func__, r->repo, store_lasterror());
		resp_fail(req, API_INTERNAL, "store error", NULL);
		goto out;
	}
	store_digest_str(digest, dhex);
	if (strcmp(rev, "HEAD") == 0)
		rev = "main";
	if ((out = json_array()) == NULL)
		goto nomem;
	if (history_of(&h, rev, dhex, &log, &upto) != 0)
		upto = 0;	/* a revision whose moves the reflog lost */
	snprintf(total, sizeof(total), "%zu", upto);
	resp_header(req, "X-Total-Count", total);
	/* Newest first: page p holds entries upto-1-p*limit downwards. */
	first = page < upto / limit + 1 ? page * limit : upto;
	for (i = first; i < upto && i < first + limit; i++)
		if (json_array_append_new(out, commit_json(&h,
		    json_array_get(log, upto - 1 - i))) != 0)
			goto nomem;
	if (first + limit < upto && commits_link(req, page + 1, limit) != 0)
		goto nomem;
	resp_json(req, 200, out);
	out = NULL;
	goto out;
nomem:
	resp_fail(req, API_NOMEM, NULL, NULL);
out:
	json_decref(out);
	json_decref(h.commits);
	json_decref(h.kinds);
	json_decref(h.logs);
}

/*
 * Who the token is: its [token NAME] section's name and role, and as its
 * organisations the private namespaces it may read.  A token that only
 * [private] sections list is a reader with no name of its own.
 */
void
hf_whoami(struct request *req)
{
	const struct conf *cf = req->r_conf;
	const struct token_user *tu;
	json_t *orgs, *j;
	const char *name, *role;
	char org[BOUND_REPO_ID + 1], *slash;
	size_t i, k;
	int known;

	tu = conf_token(cf, req->r_token, &known);
	if (!known) {
		resp_fail(req, API_UNAUTHORIZED, req->r_token == NULL ?
		    "no token" : "unknown token", NULL);
		return;
	}
	name = tu != NULL ? tu->tu_name : "reader";
	role = conf_role_name(tu != NULL ? tu->tu_role : ROLE_READ);
	if ((orgs = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < cf->cf_nprivate; i++) {
		if (!conf_may_read_ns(cf, cf->cf_private[i].pn_name,
		    req->r_token))
			continue;
		snprintf(org, sizeof(org), "%s", cf->cf_private[i].pn_name);
		if ((slash = strchr(org, '/')) != NULL)
			*slash = '\0';
		for (k = 0; k < json_array_size(orgs); k++)
			if (strcmp(json_string_value(json_object_get(
			    json_array_get(orgs, k), "name")), org) == 0)
				break;
		if (k == json_array_size(orgs))
			json_array_append_new(orgs, json_pack("{s:s,s:s,s:s,"
			    "s:s}", "type", "org", "name", org, "fullname",
			    org, "roleInOrg", role));
	}
	j = json_pack("{s:s,s:s,s:s,s:n,s:b,s:b,s:b,s:s,s:o,s:{s:s,s:{s:s,"
	    "s:s}}}", "type", "user", "name", name, "fullname", name, "email",
	    "emailVerified", 0, "isPro", 0, "canPay", 0, "avatarUrl", "",
	    "orgs", orgs, "auth", "type", "access_token", "accessToken",
	    "displayName", name, "role", role);
	if (j == NULL)
		goto nomem;
	resp_json(req, 200, j);
	return;
nomem:
	resp_fail(req, API_NOMEM, NULL, NULL);
}
