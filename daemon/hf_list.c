/*
 * hf_list.c - the Hub's listings, /api/models and /api/datasets (HF-API.md,
 * "Listing, history"), answered from the store's repository index: one
 * walk of a small table per request, sorted in memory, paged by a cursor
 * that names the last repository of the page, so that a repository added
 * between two pages neither repeats one nor hides one.  Runs on a worker.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon/airlockd.h"

/* The fields of an entry when the client names none. */
#define LIST_DEFAULT	(LIST_F_AUTHOR | LIST_F_CREATED | LIST_F_DISABLED | \
	LIST_F_DOWNLOADS | LIST_F_GATED | LIST_F_MODIFIED | LIST_F_LIBRARY | \
	LIST_F_LIKES | LIST_F_PIPELINE | LIST_F_PRIVATE | LIST_F_SHA | \
	LIST_F_TAGS | LIST_F_TRENDING | LIST_F_MODELID)

struct hit {
	int64_t		 key;
	const char	*id;		/* in the scan's names */
};

/*
 * The repositories a listing found.  Their ids go back to back in one
 * buffer: ten thousand small allocations, and freeing them, cost more
 * than the walk itself.
 */
struct scan {
	struct request		*req;
	const struct list_query	*lq;
	struct hit		*v;
	size_t			 n, cap;
	char			*names;
	size_t			 nlen, ncap;
	int			 nomem;
};

static int
contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return n == 0;
}

static int
has_tag(const struct store_repo *r, const char *tag)
{
	const char *t = r->tags;
	size_t i;

	for (i = 0; i < r->ntags; i++, t += strlen(t) + 1)
		if (strcmp(t, tag) == 0)
			return 1;
	return 0;
}

/* Whether the repository is one the query asks for and the token sees. */
static int
wanted(const struct scan *sc, const struct store_repo *r)
{
	const struct list_query *lq = sc->lq;
	const char *slash = strchr(r->repo, '/');
	size_t i, alen;

	if (!conf_may_read(sc->req->r_conf, r->repo, sc->req->r_token))
		return 0;
	if (lq->author != NULL) {
		alen = strlen(lq->author);
		if (slash == NULL || (size_t)(slash - r->repo) != alen ||
		    strncasecmp(r->repo, lq->author, alen) != 0)
			return 0;
	}
	if (lq->search != NULL && !contains_nocase(r->repo, lq->search))
		return 0;
	if (lq->pipeline_tag != NULL &&
	    strcmp(r->pipeline_tag, lq->pipeline_tag) != 0)
		return 0;
	for (i = 0; i < lq->nfilter; i++)
		if (!has_tag(r, lq->filter[i]))
			return 0;
	return 1;
}

static int64_t
sort_key(enum list_sort sort, const struct store_repo *r)
{
	switch (sort) {
	case LIST_SORT_MODIFIED:
		return r->modified;
	case LIST_SORT_CREATED:
		return r->created;
	case LIST_SORT_DOWNLOADS:
		return (int64_t)r->downloads;
	default:
		return 0;	/* likes and the id: every key ties */
	}
}

static int
scan_one(void *arg, const struct store_repo *r)
{
	struct scan *sc = arg;
	struct hit *nv;
	size_t len, ncap;
	char *nn;

	if (!wanted(sc, r))
		return 0;
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? 2 * sc->cap : 256;
		if ((nv = reallocarray(sc->v, sc->cap, sizeof(*nv))) == NULL) {
			sc->nomem = 1;
			return 1;
		}
		sc->v = nv;
	}
	len = strlen(r->repo) + 1;
	if (sc->nlen + len > sc->ncap) {
		ncap = sc->ncap ? 2 * sc->ncap : 16384;
		while (ncap < sc->nlen + len)
			ncap *= 2;
		if ((nn = realloc(sc->names, ncap)) == NULL) {
			sc->nomem = 1;
			return 1;
		}
		sc->names = nn;
		sc->ncap = ncap;
	}
	memcpy(sc->names + sc->nlen, r->repo, len);
	/* An offset until the buffer stops moving (ids_fix). */
	sc->v[sc->n].id = (const char *)(uintptr_t)sc->nlen;
	sc->nlen += len;
	sc->v[sc->n].key = sort_key(sc->lq->sort, r);
	sc->n++;
	return 0;
}

static void
ids_fix(struct scan *sc)
{
	size_t i;

	for (i = 0; i < sc->n; i++)
		sc->v[i].id = sc->names + (uintptr_t)sc->v[i].id;
}

/*
 * The listing's order: by the sort key in the direction asked, and
 * repositories that tie by their id, from a to z, whatever the direction
 * (for sort=id itself the direction is the id's).  A total order, so
 * that a cursor names one place in it.
 */
static int
order_cmp(const struct list_query *lq, int64_t ka, const char *ia,
    int64_t kb, const char *ib)
{
	int c;

	if (ka != kb) {
		c = ka < kb ? -1 : 1;
		return lq->desc ? -c : c;
	}
	c = strcmp(ia, ib);
	return lq->desc && lq->sort == LIST_SORT_ID ? -c : c;
}

static int
hit_order(const void *a, const void *b, void *lq)
{
	const struct hit *x = a, *y = b;

	return order_cmp(lq, x->key, x->id, y->key, y->id);
}

static json_t *
siblings_of(struct request *req, const struct store_repo *r,
    uint64_t *total)
{
	struct snapshot *sn;
	json_t *a;
	size_t i;

	*total = 0;
	if (snapshot_resolve(req->r_srv->srv_store, r->type, r->repo,
	    r->commit, &sn) != API_OK)
		return json_array();
	if ((a = json_array()) != NULL)
		for (i = 0; i < sn->sn_m->nfiles; i++) {
			json_array_append_new(a, json_pack("{s:s}", "rfilename",
			    sn->sn_m->files[i].path));
			*total += sn->sn_m->files[i].size;
		}
	snapshot_put(sn);
	return a;
}

/* One repository as the listing shows it, with the fields asked for. */
json_t *
hf_repo_entry(struct request *req, const struct store_repo *r,
    unsigned fields)
{
	char id[25], when[32], author[BOUND_REPO_ID + 1], *slash;
	const char *t;
	json_t *j, *tags, *card;
	uint64_t total;
	size_t i;
	int model = strcmp(r->type, "model") == 0;

	hf_object_id(r->type, r->repo, id);
	if ((j = json_pack("{s:s,s:s}", "_id", id, "id", r->repo)) == NULL)
		return NULL;
	if (fields & LIST_F_AUTHOR) {
		snprintf(author, sizeof(author), "%s", r->repo);
		if ((slash = strchr(author, '/')) != NULL) {
			*slash = '\0';
			json_object_set_new(j, "author", json_string(author));
		}
	}
	if (fields & LIST_F_SHA)
		json_object_set_new(j, "sha", json_string(r->commit));
	if (fields & LIST_F_MODIFIED) {
		hf_time_ms(r->modified, when);
		json_object_set_new(j, "lastModified", json_string(when));
	}
	if (fields & LIST_F_CREATED) {
		hf_time_ms(r->created * 1000, when);
		json_object_set_new(j, "createdAt", json_string(when));
	}
	if (fields & LIST_F_PRIVATE)
		json_object_set_new(j, "private", json_boolean(
		    conf_private(req->r_conf, r->repo)));
	if (fields & LIST_F_GATED)
		json_object_set_new(j, "gated", json_false());
	if (fields & LIST_F_DISABLED)
		json_object_set_new(j, "disabled", json_false());
	if (fields & LIST_F_DOWNLOADS) {
		json_object_set_new(j, "downloads",
		    json_integer((json_int_t)r->downloads));
		json_object_set_new(j, "downloadsAllTime",
		    json_integer((json_int_t)r->downloads));
	}
	if (fields & LIST_F_LIKES)
		json_object_set_new(j, "likes", json_integer(0));
	if (fields & LIST_F_TRENDING)
		json_object_set_new(j, "trendingScore", json_integer(0));
	if (fields & LIST_F_XET)
		json_object_set_new(j, "xetEnabled", json_false());
	if (fields & LIST_F_SPACES)
		json_object_set_new(j, "spaces", json_array());
	if (fields & LIST_F_TAGS) {
		if ((tags = json_array()) != NULL)
			for (i = 0, t = r->tags; i < r->ntags;
			    i++, t += strlen(t) + 1)
				json_array_append_new(tags, json_string(t));
		json_object_set_new(j, "tags", tags);
	}
	if (model && (fields & LIST_F_PIPELINE) && r->pipeline_tag[0] != '\0')
		json_object_set_new(j, "pipeline_tag",
		    json_string(r->pipeline_tag));
	if (model && (fields & LIST_F_LIBRARY) && r->library_name[0] != '\0')
		json_object_set_new(j, "library_name",
		    json_string(r->library_name));
	if (model && (fields & LIST_F_MODELID))
		json_object_set_new(j, "modelId", json_string(r->repo));
	if ((fields & LIST_F_CARDDATA) && r->cardlen > 0 &&
	    (card = json_loadb(r->card, r->cardlen, 0, NULL)) != NULL)
		json_object_set_new(j, "cardData", card);
	if (fields & (LIST_F_SIBLINGS | LIST_F_USED_STORAGE)) {
		json_t *sib = siblings_of(req, r, &total);

		if (fields & LIST_F_SIBLINGS)
			json_object_set(j, "siblings", sib);
		if (fields & LIST_F_USED_STORAGE)
			json_object_set_new(j, "usedStorage",
			    json_integer((json_int_t)total));
		json_decref(sib);
	}
	return j;
}

struct page {
	struct request	*req;
	json_t		*out;
	unsigned	 fields;
};

static int
page_one(void *arg, const struct store_repo *r)
{
	struct page *pg = arg;

	return json_array_append_new(pg->out, hf_repo_entry(pg->req, r,
	    pg->fields)) != 0 ? ENOMEM : 0;
}

/*
 * The Link to the next page: the request's own query, absolute, with the
 * cursor of the page's last repository in place of the one it had.
 */
static int
next_link(struct request *req, const struct hit *last)
{
	const struct query *q = &req->r_query;
	struct evbuffer *b;
	char cursor[BOUND_REPO_ID + 32], *enc, *link = NULL;
	size_t i, n;
	int rc = -1;

	if (list_cursor(last->key, last->id, cursor, sizeof(cursor)) != 0 ||
	    (b = evbuffer_new()) == NULL)
		return -1;
	evbuffer_add_printf(b, "<%s/api/%s?", req->r_base,
	    store_type_plural(req->r_route.type));
	for (i = 0; i < q->n; i++) {
		if (strcmp(q->name[i], "cursor") == 0)
			continue;
		if ((enc = evhttp_uriencode(q->name[i], -1, 0)) == NULL)
			goto out;
		evbuffer_add_printf(b, "%s=", enc);
		free(enc);
		if ((enc = evhttp_uriencode(q->value[i], -1, 0)) == NULL)
			goto out;
		evbuffer_add_printf(b, "%s&", enc);
		free(enc);
	}
	if ((enc = evhttp_uriencode(cursor, -1, 0)) == NULL)
		goto out;
	evbuffer_add_printf(b, "cursor=%s>; rel=\"next\"", enc);
	free(enc);
	n = evbuffer_get_length(b);
	if ((link = malloc(n + 1)) == NULL)
		goto out;
	evbuffer_remove(b, link, n);
	link[n] = '\0';
	resp_header(req, "Link", link);
	rc = 0;
out:
	free(link);
	evbuffer_free(b);
	return rc;
}

void
hf_list(struct request *req)
{
	struct list_query lq;
	struct scan sc = { .req = req, .lq = &lq };
	struct page pg = { .req = req };
	const char *why;
	char total[32];
	size_t first = 0, end, i;
	int rc;

	if (list_query_parse(&req->r_query, &lq, &why) != 0) {
		resp_fail(req, API_BAD_REQUEST, why, NULL);
		return;
	}
	pg.fields = lq.expand & ~LIST_F_IGNORED;
	if (pg.fields == 0)
		pg.fields = LIST_DEFAULT;
	if (lq.full)
		pg.fields |= LIST_DEFAULT | LIST_F_SIBLINGS;
	if (lq.card)
		pg.fields |= LIST_F_CARDDATA;
	if ((rc = store_repos(req->r_srv->srv_store, req->r_route.type,
	    scan_one, &sc)) != 0 && !sc.nomem) {
		log_warnx("%s: %s", __func__, store_lasterror());
		resp_fail(req, API_INTERNAL, store_lasterror(), NULL);
		goto out;
	}
	if (sc.nomem)
		goto nomem;
	ids_fix(&sc);
	if (sc.n > 0)	/* qsort_r's array must not be NULL, even empty */
		qsort_r(sc.v, sc.n, sizeof(*sc.v), hit_order, &lq);
	/* The first repository after the cursor, in the listing's order. */
	if (lq.has_cursor)
		while (first < sc.n && order_cmp(&lq, sc.v[first].key,
		    sc.v[first].id, lq.cursor_value, lq.cursor_id) <= 0)
			first++;
	end = first + lq.limit < sc.n ? first + lq.limit : sc.n;
	if ((pg.out = json_array()) == NULL)
		goto nomem;
	for (i = first; i < end; i++) {
		rc = store_repo_get(req->r_srv->srv_store, req->r_route.type,
		    sc.v[i].id, page_one, &pg);
		if (rc == ENOMEM)
			goto nomem;
	}
	if (end < sc.n && end > first && next_link(req, &sc.v[end - 1]) != 0)
		goto nomem;
	snprintf(total, sizeof(total), "%zu", sc.n);
	resp_header(req, "X-Total-Count", total);
	resp_json(req, 200, pg.out);
	pg.out = NULL;
	goto out;
nomem:
	resp_fail(req, API_NOMEM, NULL, NULL);
out:
	json_decref(pg.out);
	free(sc.names);
	free(sc.v);
}
