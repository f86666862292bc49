/*
 * hf_api.c - the Hugging Face Hub's API, the subset that unmodified
 * clients use (HF-API.md): repository info, tree, paths-info, refs,
 * discussions, resolve and raw.  Runs on a worker.
 *
 * Whether a file is LFS is the manifest's "lfs" flag, everywhere: the
 * siblings, the tree and paths-info entries, the ETag and the /raw text
 * all follow it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon/airlockd.h"
#include "gate/gate.h"
#include "policy/policy.h"
#include "daemon/body.h"


static void
hex(const uint8_t *b, size_t n, char *out)
{
	store_hex(b, n, out);
}

/* Percent-encodes a path for a URL, keeping its slashes. */
static char *
url_path(const char *path)
{
	static const char keep[] = "-._~/";
	struct evbuffer *b;
	const unsigned char *p;
	char *s;
	size_t n;

	if ((b = evbuffer_new()) == NULL)
		return NULL;
	for (p = (const unsigned char *)path; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr(keep, *p) != NULL)
			evbuffer_add(b, p, 1);
		else
			evbuffer_add_printf(b, "%%%02X", *p);
	}
	n = evbuffer_get_length(b);
	if ((s = malloc(n + 1)) != NULL) {
		evbuffer_remove(b, s, n);
		s[n] = '\0';
	}
	evbuffer_free(b);
	return s;
}

/*
 * The revision the route names (main when it names none), or an answer
 * saying why there is none.
 */
static int
revision_get(struct request *req, struct snapshot **sn)
{
	const struct route *r = &req->r_route;
	const char *rev = r->rev[0] != '\0' ? r->rev : "main";
	enum api_error e;

	e = snapshot_resolve(req->r_srv->srv_store, r->type, r->repo, rev, sn);
	switch (e) {
	case API_OK:
		return 0;
	case API_REPO_NOT_FOUND:
		resp_fail(req, e, r->repo, NULL);
		break;
	case API_REVISION_NOT_FOUND:
		resp_fail(req, e, rev, NULL);
		break;
	case API_BAD_REQUEST:
		resp_fail(req, e, store_lasterror(), NULL);
		break;
	case API_STORE:
		resp_fail(req, API_INTERNAL, "store error", NULL);
		break;
	default:
		resp_fail(req, API_INTERNAL,
		    "cannot read the revision's manifest", NULL);
		break;
	}
	return -1;
}

static void
commit_headers(struct request *req, const struct snapshot *sn)
{
	resp_header(req, "X-Repo-Commit", sn->sn_m->commit);
	if (revision_immutable(req->r_route.has_rev ? req->r_route.rev : ""))
		resp_header(req, "Cache-Control", IMMUTABLE);
}

static json_t *
last_commit(const struct snapshot *sn)
{
	char when[32];
	const char *title = "Add revision with airlock";

	if (sn->sn_m->source != NULL)
		title = "Mirrored with airlock";
	snapshot_time(sn, when);
	return json_pack("{s:s,s:s,s:s}", "id", sn->sn_m->commit, "title",
	    title, "date", when);
}

static json_t *
file_entry(const struct snapshot *sn, const struct store_file *f, int expand)
{
	char sha1[2 * STORE_SHA1_LEN + 1], sha[STORE_HEX_LEN + 1];
	char ptr[BOUND_LFS_POINTER];
	json_t *j;
	int plen;

	hex(f->git_sha1, STORE_SHA1_LEN, sha1);
	j = json_pack("{s:s,s:s,s:I,s:s}", "type", "file", "oid", sha1,
	    "size", (json_int_t)f->size, "path", f->path);
	if (j == NULL)
		return NULL;
	if (f->lfs) {
		hex(f->sha256, STORE_HASH_LEN, sha);
		plen = store_lfs_pointer(f->sha256, f->size, ptr, sizeof(ptr));
		json_object_set_new(j, "lfs", json_pack("{s:s,s:I,s:i}", "oid",
		    sha, "size", (json_int_t)f->size, "pointerSize", plen));
	}
	if (expand)
		json_object_set_new(j, "lastCommit", last_commit(sn));
	return j;
}

static json_t *
dir_entry(const struct snapshot *sn, const struct snapdir *d, int expand)
{
	char sha1[2 * STORE_SHA1_LEN + 1];
	json_t *j;

	hex(d->sd_sha1, STORE_SHA1_LEN, sha1);
	j = json_pack("{s:s,s:s,s:i,s:s}", "type", "directory", "oid", sha1,
	    "size", 0, "path", d->sd_path);
	if (j != NULL && expand)
		json_object_set_new(j, "lastCommit", last_commit(sn));
	return j;
}

static json_t *
entry_json(const struct snapshot *sn, const struct snaptree *t,
    const struct snapentry *e, int expand)
{
	if (e->se_dir)
		return dir_entry(sn, &t->tr_dirs[e->se_index], expand);
	return file_entry(sn, &sn->sn_m->files[e->se_index], expand);
}

/* What the repository index says of it: when it was made, downloads. */
struct figures {
	int64_t		created;
	uint64_t	downloads;
};

static int
figures_of(void *arg, const struct store_repo *r)
{
	struct figures *f = arg;

	f->created = r->created;
	f->downloads = r->downloads;
	return 0;
}

/* Appends tag to the array tags unless it is there already. */
static void
add_tag(json_t *tags, const char *tag)
{
	size_t i;
	json_t *v;

	json_array_foreach(tags, i, v)
		if (strcmp(json_string_value(v), tag) == 0)
			return;
	json_array_append_new(tags, json_string(tag));
}

/* The siblings of repository info, each file's blob and LFS ids with
 * blobs; *total their bytes.  NULL when out of memory. */
static json_t *
siblings_json(const struct store_manifest *m, int blobs, uint64_t *total)
{
	char sha1[2 * STORE_SHA1_LEN + 1], sha[STORE_HEX_LEN + 1];
	char ptr[BOUND_LFS_POINTER];
	json_t *siblings, *v;

	if ((siblings = json_array()) == NULL)
		return NULL;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct store_file *f = &m->files[i];

		*total += f->size;
		if ((v = json_pack("{s:s}", "rfilename", f->path)) == NULL) {
			json_decref(siblings);
			return NULL;
		}
		if (blobs) {
			hex(f->git_sha1, STORE_SHA1_LEN, sha1);
			json_object_set_new(v, "size",
			    json_integer((json_int_t)f->size));
			json_object_set_new(v, "blobId", json_string(sha1));
			if (f->lfs) {
				hex(f->sha256, STORE_HASH_LEN, sha);
				json_object_set_new(v, "lfs", json_pack(
				    "{s:I,s:s,s:i}", "size",
				    (json_int_t)f->size, "sha256", sha,
				    "pointerSize", store_lfs_pointer(f->sha256,
				    f->size, ptr, sizeof(ptr))));
			}
		}
		json_array_append_new(siblings, v);
	}
	return siblings;
}

/* What repository info says of a model only: its licence conclusion,
 * id, pipeline tag and library. */
static void
model_fields(struct request *req, const struct store_manifest *m,
    json_t *card, json_t *j)
{
	json_t *info = licence_info(req->r_srv->srv_store, m), *v;

	if (info != NULL && licence_conflict(info))
		add_tag(json_object_get(j, "tags"), "license-conflict");
	json_object_set_new(j, "airlock", info != NULL ? info : json_null());
	json_object_set_new(j, "modelId", json_string(req->r_route.repo));
	if ((v = json_object_get(card, "pipeline_tag")) != NULL &&
	    json_is_string(v))
		json_object_set(j, "pipeline_tag", v);
	if ((v = json_object_get(card, "library_name")) != NULL &&
	    json_is_string(v))
		json_object_set(j, "library_name", v);
}

void
hf_repo_info(struct request *req)
{
	const struct route *r = &req->r_route;
	struct snapshot *sn;
	const struct store_manifest *m;
	json_t *j, *siblings, *card;
	char id[25], when[32], *slash;
	char author[BOUND_REPO_ID + 1], created[32];
	struct figures fig = { 0, 0 };
	uint64_t total = 0;
	int blobs, model = strcmp(r->type, "model") == 0;

	if (revision_get(req, &sn) != 0)
		return;
	m = sn->sn_m;
	blobs = query_bool(&req->r_query, "blobs", 0);
	card = snapshot_card(req->r_srv->srv_store, sn);
	hf_object_id(r->type, r->repo, id);
	snapshot_time(sn, when);
	if (store_repo_get(req->r_srv->srv_store, r->type, r->repo, figures_of,
	    &fig) == 0)
		hf_time_ms(fig.created * 1000, created);
	else
		memcpy(created, when, sizeof(created));
	snprintf(author, sizeof(author), "%s", r->repo);
	if ((slash = strchr(author, '/')) != NULL)
		*slash = '\0';
	if ((siblings = siblings_json(m, blobs, &total)) == NULL)
		goto nomem;
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b,s:b,s:b,s:I,s:I,s:i,"
	    "s:i,s:o,s:o,s:[],s:I,s:b}", "_id", id, "id", r->repo, "author",
	    author, "sha", m->commit, "lastModified", when, "createdAt",
	    created, "private", conf_private(req->r_conf, r->repo), "gated", 0,
	    "disabled", 0, "downloads", (json_int_t)fig.downloads,
	    "downloadsAllTime", (json_int_t)fig.downloads, "likes", 0,
	    "trendingScore", 0, "tags", store_card_tags(card), "siblings",
	    siblings, "spaces", "usedStorage", (json_int_t)total,
	    "xetEnabled", 0);
	if (j == NULL)
		goto nomem;
	if (json_is_object(card) && json_object_size(card) > 0)
		json_object_set(j, "cardData", card);
	if (model)
		model_fields(req, m, card, j);
	commit_headers(req, sn);
	snapshot_put(sn);
	resp_json(req, 200, j);
	return;
nomem:
	snapshot_put(sn);
	resp_fail(req, API_NOMEM, NULL, NULL);
}

static int
under(const char *path, const char *base, size_t blen, int recursive)
{
	const char *rest;

	if (blen == 0)
		rest = path;
	else if (strncmp(path, base, blen) == 0 && path[blen] == '/')
		rest = path + blen + 1;
	else
		return 0;
	return recursive || strchr(rest, '/') == NULL;
}

static int
parse_count(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL)
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > BOUND_FILES * 4ULL)
		return -1;
	*out = (size_t)v;
	return 0;
}

/*
 * The Link to the tree's next page.  It names the commit, not the
 * branch, so that a push between pages cannot mix two revisions.
 */
static int
next_page(struct request *req, const struct snapshot *sn, int recursive,
    int expand, size_t cursor)
{
	const struct route *r = &req->r_route;
	char *enc = url_path(r->path), *link;

	if (enc == NULL || asprintf(&link, "<%s/api/%s/%s/tree/%s%s%s"
	    "?recursive=%s&expand=%s&cursor=%zu>; rel=\"next\"",
	    req->r_base, store_type_plural(r->type), r->repo, sn->sn_m->commit,
	    r->path[0] != '\0' ? "/" : "", enc, recursive ? "true" : "false",
	    expand ? "true" : "false", cursor) == -1) {
		free(enc);
		return -1;
	}
	resp_header(req, "Link", link);
	free(link);
	free(enc);
	return 0;
}

void
hf_tree(struct request *req)
{
	const struct route *r = &req->r_route;
	const struct snaptree *t;
	struct snapshot *sn;
	size_t blen = strlen(r->path), skip = 0, limit, seen = 0, i;
	int recursive, expand, more = 0;
	json_t *list;

	recursive = query_bool(&req->r_query, "recursive", 0);
	expand = query_bool(&req->r_query, "expand", 0);
	limit = (size_t)req->r_conf->cf_tree_page_size;
	if (parse_count(query_get(&req->r_query, "cursor"), &skip) != 0 ||
	    parse_count(query_get(&req->r_query, "limit"), &limit) != 0) {
		resp_fail(req, API_BAD_REQUEST, "invalid cursor or limit",
		    NULL);
		return;
	}
	if (limit == 0 || limit > (size_t)req->r_conf->cf_tree_page_size)
		limit = (size_t)req->r_conf->cf_tree_page_size;
	if (revision_get(req, &sn) != 0)
		return;
	commit_headers(req, sn);
	if ((t = snapshot_tree(sn)) == NULL)
		goto nomem;
	if (blen > 0 && snaptree_dir(t, r->path) == NULL) {
		resp_fail(req, API_ENTRY_NOT_FOUND, r->path,
		    r->rev[0] ? r->rev : "main");
		snapshot_put(sn);
		return;
	}
	if ((list = json_array()) == NULL)
		goto nomem;
	for (i = 0; i < t->tr_nentries; i++) {
		const struct snapentry *e = &t->tr_entries[i];

		if (!under(e->se_path, r->path, blen, recursive))
			continue;
		if (seen++ < skip)
			continue;
		if (json_array_size(list) == limit) {
			more = 1;
			break;
		}
		if (json_array_append_new(list, entry_json(sn, t, e,
		    expand)) != 0) {
			json_decref(list);
			goto nomem;
		}
	}
	if (more && next_page(req, sn, recursive, expand, skip + limit) != 0) {
		json_decref(list);
		goto nomem;
	}
	snapshot_put(sn);
	resp_json(req, 200, list);
	return;
nomem:
	snapshot_put(sn);
	resp_fail(req, API_NOMEM, NULL, NULL);
}

void
hf_paths_info(struct request *req)
{
	const struct snaptree *t;
	struct snapshot *sn;
	json_t *paths = NULL, *out = NULL, *v;
	char why[BODY_WHY];
	size_t i;
	int expand, json, rc;

	json = req->r_ctype != NULL && strstr(req->r_ctype, "json") != NULL;
	rc = body_paths_info(req->r_body, req->r_bodylen, json, &paths, &expand,
	    why);
	if (rc != 0) {
		resp_fail(req, rc == 400 ? API_BAD_REQUEST : API_INTERNAL, why,
		    NULL);
		return;
	}
	if (revision_get(req, &sn) != 0)
		goto out;
	commit_headers(req, sn);
	if ((t = snapshot_tree(sn)) == NULL || (out = json_array()) == NULL) {
		snapshot_put(sn);
		resp_fail(req, API_NOMEM, NULL, NULL);
		goto out;
	}
	/* Paths that are not in the revision are left out, as the Hub does. */
	json_array_foreach(paths, i, v) {
		const char *path = json_string_value(v);
		const struct store_file *f;
		const struct snapdir *d;

		if (!store_path_valid(path))
			continue;
		if ((f = store_manifest_file(sn->sn_m, path)) != NULL)
			json_array_append_new(out, file_entry(sn, f, expand));
		else if ((d = snaptree_dir(t, path)) != NULL)
			json_array_append_new(out, dir_entry(sn, d, expand));
	}
	snapshot_put(sn);
	resp_json(req, 200, out);
out:
	json_decref(paths);
}

struct refwalk {
	json_t		*commits;	/* digest hex -> commit id */
	json_t		*names;		/* [name, digest hex] */
};

static int
collect_ref(void *arg, const struct store_ref *ref)
{
	struct refwalk *w = arg;
	char d[STORE_HEX_LEN + 1];

	hex(ref->digest, STORE_HASH_LEN, d);
	if (ref->is_commit)
		json_object_set_new(w->commits, d, json_string(ref->name));
	else
		json_array_append_new(w->names, json_pack("[s,s,b]", ref->name,
		    d, ref->is_tag));
	return 0;
}

void
hf_refs(struct request *req)
{
	const struct route *r = &req->r_route;
	struct refwalk w;
	json_t *branches, *converts, *prs, *tags, *out, *v;
	size_t i;
	int rc;

	w.commits = json_object();
	w.names = json_array();
	branches = json_array();
	converts = json_array();
	prs = json_array();
	tags = json_array();
	if (w.commits == NULL || w.names == NULL || branches == NULL ||
	    converts == NULL || prs == NULL || tags == NULL) {
		resp_fail(req, API_NOMEM, NULL, NULL);
		goto out;
	}
	if ((rc = store_refs(req->r_srv->srv_store, r->type, r->repo,
	    collect_ref, &w)) != 0) {
		log_warnx("%s: %s: %s", __func__, r->repo, store_lasterror());
		resp_fail(req, API_INTERNAL, "store error", NULL);
		goto out;
	}
	if (json_object_size(w.commits) == 0 && json_array_size(w.names) == 0) {
		resp_fail(req, API_REPO_NOT_FOUND, r->repo, NULL);
		goto out;
	}
	json_array_foreach(w.names, i, v) {
		const char *name = json_string_value(json_array_get(v, 0));
		const char *d = json_string_value(json_array_get(v, 1));
		const char *commit = json_string_value(json_object_get(
		    w.commits, d));
		char ref[BOUND_REVISION + 16], tc[STORE_COMMIT_LEN + 1];

		if (commit == NULL) {
			/* A local add's commit id is its digest's prefix. */
			snprintf(tc, sizeof(tc), "%.40s", d);
			commit = tc;
		}
		if (json_is_true(json_array_get(v, 2))) {
			snprintf(ref, sizeof(ref), "refs/tags/%s", name);
			json_array_append_new(tags, json_pack("{s:s,s:s,s:s}",
			    "name", name, "ref", ref, "targetCommit", commit));
		} else if (strncmp(name, "refs/pr/", 8) == 0)
			json_array_append_new(prs, json_pack("{s:s,s:s,s:s}",
			    "name", name, "ref", name, "targetCommit", commit));
		else if (strncmp(name, "refs/convert/", 13) == 0)
			json_array_append_new(converts, json_pack(
			    "{s:s,s:s,s:s}", "name", name + 13, "ref", name,
			    "targetCommit", commit));
		else {
			snprintf(ref, sizeof(ref), "refs/heads/%s", name);
			json_array_append_new(branches, json_pack(
			    "{s:s,s:s,s:s}", "name", name, "ref", ref,
			    "targetCommit", commit));
		}
	}
	out = json_pack("{s:O,s:O,s:O}", "branches", branches, "converts",
	    converts, "tags", tags);
	if (out != NULL && query_bool(&req->r_query, "include_prs", 0))
		json_object_set(out, "pullRequests", prs);
	resp_json(req, 200, out);
out:
	json_decref(w.commits);
	json_decref(w.names);
	json_decref(branches);
	json_decref(converts);
	json_decref(prs);
	json_decref(tags);
}

static int
found_ref(void *arg, const struct store_ref *ref)
{
	(void)ref;
	*(int *)arg = 1;
	return 1;
}

void
hf_discussions(struct request *req)
{
	const struct route *r = &req->r_route;
	int found = 0;

	(void)store_refs(req->r_srv->srv_store, r->type, r->repo, found_ref,
	    &found);
	if (!found) {
		resp_fail(req, API_REPO_NOT_FOUND, r->repo, NULL);
		return;
	}
	resp_json(req, 200, json_pack("{s:[],s:i,s:i,s:i}", "discussions",
	    "count", 0, "start", 0, "numClosedDiscussions", 0));
}

/*
 * resolve and raw: a file's bytes, straight from the store (never a
 * redirect), with the headers clients check (HF-API.md).  /raw of an LFS
 * file is its pointer text.
 */
/*
 * The gate (gate/gate.h) for the bytes of a revision: the store's policy,
 * judged on the stored revision, its reviews and signatures.  Metadata
 * (repo info, tree, refs) still answers, so that a client and a person
 * can see what was refused and why; only the files are refused.  The
 * licence table is read once.
 */
static struct policy_table *gate_table;
static int gate_table_rc;
static pthread_once_t gate_once = PTHREAD_ONCE_INIT;

static void
gate_table_load(void)
{
	gate_table_rc = policy_table_load(NULL, &gate_table);
	if (gate_table_rc != 0)
		log_warnx("%s: %s", __func__, policy_lasterror());
}

static int
gate_denied(struct request *req, const struct snapshot *sn)
{
	struct store *st = req->r_srv->srv_store;
	struct policy_rules *rules = NULL;
	char reason[1024];
	int rc;

	pthread_once(&gate_once, gate_table_load);
	if (gate_table_rc != 0) {
		resp_fail(req, API_INTERNAL, "the licence table cannot be read",
		    NULL);
		return 1;
	}
	/* airlockd.conf's [policy], else the store's. */
	if (req->r_conf->cf_policy == NULL &&
	    (rc = gate_rules_get(st, gate_table, &rules)) != 0) {
		log_warnx("%s: %s", __func__, gate_lasterror());
		resp_fail(req, API_INTERNAL, "the policy cannot be read", NULL);
		return 1;
	}
	if (req->r_conf->cf_policy == NULL && rules == NULL)
		return 0;
	rc = gate_check_stored(st, gate_table, rules != NULL ? rules :
	    req->r_conf->cf_policy, sn->sn_m, reason, sizeof(reason));
	policy_rules_free(rules);
	if (rc == 0)
		return 0;
	if (rc == POLICY_EDENIED)
		resp_fail(req, API_POLICY_DENIED, sn->sn_m->repo, reason);
	else {
		log_warnx("%s: %s: %s", __func__, sn->sn_m->repo,
		    gate_lasterror());
		resp_fail(req, API_INTERNAL, "the policy cannot be judged",
		    NULL);
	}
	return 1;
}

static void
file_bytes(struct request *req, int raw)
{
	const struct route *r = &req->r_route;
	const struct store_file *f;
	struct snapshot *sn;
	char sha[STORE_HEX_LEN + 1], sha1[2 * STORE_SHA1_LEN + 1], etag[80];
	char ptr[BOUND_LFS_POINTER], size[32];
	int n;

	if (revision_get(req, &sn) != 0)
		return;
	commit_headers(req, sn);
	if (gate_denied(req, sn)) {
		snapshot_put(sn);
		return;
	}
	if ((f = store_manifest_file(sn->sn_m, r->path)) == NULL) {
		resp_fail(req, API_ENTRY_NOT_FOUND, r->path, r->rev);
		snapshot_put(sn);
		return;
	}
	hex(f->git_sha1, STORE_SHA1_LEN, sha1);
	if (raw && f->lfs) {
		n = store_lfs_pointer(f->sha256, f->size, ptr, sizeof(ptr));
		snprintf(etag, sizeof(etag), "\"%s\"", sha1);
		resp_header(req, "ETag", etag);
		resp_text(req, 200, "text/plain; charset=utf-8", ptr,
		    (size_t)n);
		snapshot_put(sn);
		return;
	}
	if (f->lfs && !raw) {
		hex(f->sha256, STORE_HASH_LEN, sha);
		snprintf(etag, sizeof(etag), "\"%s\"", sha);
		snprintf(size, sizeof(size), "%llu",
		    (unsigned long long)f->size);
		resp_header(req, "X-Linked-Etag", etag);
		resp_header(req, "X-Linked-Size", size);
		resp_blob(req, f->sha256, f->size, sha);
	} else
		resp_blob(req, f->sha256, f->size, sha1);
	snapshot_put(sn);
}

void
hf_resolve(struct request *req)
{
	file_bytes(req, 0);
	if (req->r_status == 200 || req->r_status == 206)
		downloads_count(req->r_route.type, req->r_route.repo,
		    req->r_route.path);
}

void
hf_raw(struct request *req)
{
	file_bytes(req, 1);
}
