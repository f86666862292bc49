/*
 * route.c - request paths, queries and ranges, read from untrusted bytes.
 *
 * A path is split on its literal slashes first and each segment is
 * decoded once afterwards, so that "%2F" inside a revision or a tree path
 * is data and never a separator, and "%2e%2e" can only ever become a
 * segment named "..", which the validators refuse.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "daemon/route.h"
#include "store/store.h"

#define MAXSEGS		(BOUND_HTTP_PATH / 2)

struct seg {
	const char	*s;
	size_t		 len;
};

#define ROUTE_NAME(kind, name, methods, fn, needs) \
	[kind] = { name, methods },
static const struct {
	const char	*name;
	unsigned	 methods;
} routes[ROUTE_NKINDS] = {
	ROUTE_TABLE(ROUTE_NAME)
};

const char *
route_name(enum route_kind kind)
{
	if ((unsigned)kind >= ROUTE_NKINDS)
		return "unknown";
	return routes[kind].name;
}

unsigned
route_methods(enum route_kind kind)
{
	if ((unsigned)kind >= ROUTE_NKINDS)
		return 0;
	return routes[kind].methods;
}

int
route_decode(const char *s, size_t len, char *out, size_t outsize, int plus)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (len - i < 3)
				return -1;
			if ((hi = store_hexdigit((unsigned char)s[i + 1])) < 0 ||
			    (lo = store_hexdigit((unsigned char)s[i + 2])) < 0)
				return -1;
			c = hi << 4 | lo;
			i += 2;
		} else if (c == '+' && plus)
			c = ' ';
		/* A NUL would cut the string short behind a validator. */
		if (c == '\0')
			return -1;
		if (n + 1 >= outsize)
			return -1;
		out[n++] = (char)c;
	}
	if (outsize == 0)
		return -1;
	out[n] = '\0';
	return (int)n;
}

static int
seg_is(const struct seg *g, const char *word)
{
	size_t n = strlen(word);

	return g->len == n && memcmp(g->s, word, n) == 0;
}

/* A branch, tag or commit, or a manifest digest, which names one too. */
int
route_revision_valid(const char *rev)
{
	uint8_t digest[STORE_HASH_LEN];

	if (strncmp(rev, "sha256:", 7) == 0)
		return store_digest_parse(rev, digest) == 0;
	return store_revision_valid(rev);
}

struct parse {
	const struct seg	*segs;
	size_t			 n;
	struct route		*r;
	const char		*why;
};

static int
bad(struct parse *ps, int status, const char *why)
{
	ps->why = why;
	return status;
}

/* Decodes segments [from, to) joined by '/' into out. */
static int
decode_join(const struct seg *segs, size_t from, size_t to, char *out,
    size_t outsize)
{
	size_t used = 0, i;

	out[0] = '\0';
	for (i = from; i < to; i++) {
		int n;

		if (i > from) {
			if (used + 1 >= outsize)
				return -1;
			out[used++] = '/';
		}
		if ((n = route_decode(segs[i].s, segs[i].len, out + used,
		    outsize - used, 0)) < 0)
			return -1;
		used += (size_t)n;
	}
	out[used] = '\0';
	return 0;
}

static int
take_repo(struct parse *ps, size_t i, size_t nparts)
{
	if (decode_join(ps->segs, i, i + nparts, ps->r->repo,
	    sizeof(ps->r->repo)) != 0)
		return bad(ps, 400, "invalid repository id");
	/* A decoded slash would make a third part. */
	if (nparts == 1 && strchr(ps->r->repo, '/') != NULL)
		return bad(ps, 400, "invalid repository id");
	if (nparts == 2 && strchr(strchr(ps->r->repo, '/') + 1, '/') != NULL)
		return bad(ps, 400, "invalid repository id");
	if (!store_repo_valid(ps->r->repo))
		return bad(ps, 400, "invalid repository id");
	return 0;
}

/*
 * Takes the revision at segment *i.  Clients send "refs/pr/1" both as one
 * encoded segment and as three literal ones; the Hub reads the literal
 * form for refs/pr/N and refs/convert/NAME only, and so does this.  min
 * is how many segments must follow the revision.
 */
static int
take_rev(struct parse *ps, size_t *i, size_t min)
{
	struct route *r = ps->r;
	size_t k = *i, nsegs = 1;

	if (k >= ps->n)
		return bad(ps, 404, "no revision in the path");
	if (seg_is(&ps->segs[k], "refs") && ps->n - k >= 3 + min &&
	    (seg_is(&ps->segs[k + 1], "pr") ||
	    seg_is(&ps->segs[k + 1], "convert")))
		nsegs = 3;
	if (decode_join(ps->segs, k, k + nsegs, r->rev, sizeof(r->rev)) != 0)
		return bad(ps, 400, "invalid revision");
	if (!route_revision_valid(r->rev))
		return bad(ps, 400, "invalid revision");
	r->has_rev = 1;
	*i = k + nsegs;
	return 0;
}

static int
take_path(struct parse *ps, size_t i)
{
	if (i >= ps->n) {
		ps->r->path[0] = '\0';
		return 0;
	}
	if (decode_join(ps->segs, i, ps->n, ps->r->path,
	    sizeof(ps->r->path)) != 0)
		return bad(ps, 400, "invalid path");
	if (!store_path_valid(ps->r->path))
		return bad(ps, 400, "invalid path");
	return 0;
}

static int
is_api_word(const struct seg *g)
{
	return seg_is(g, "revision") || seg_is(g, "tree") ||
	    seg_is(g, "paths-info") || seg_is(g, "refs") ||
	    seg_is(g, "discussions") || seg_is(g, "commits");
}

/* What follows /api/TYPEs/REPO, from segment i; -1 if it is no route. */
static int
api_rest(struct parse *ps, size_t i)
{
	const struct seg *g = ps->segs;
	size_t n = ps->n;
	int rc;

	if (i == n) {
		ps->r->kind = ROUTE_REPO_INFO;
		return 0;
	}
	if (seg_is(&g[i], "revision")) {
		i++;
		if ((rc = take_rev(ps, &i, 0)) != 0)
			return rc;
		if (i != n)
			return -1;
		ps->r->kind = ROUTE_REPO_INFO;
		return 0;
	}
	if (seg_is(&g[i], "tree")) {
		i++;
		if ((rc = take_rev(ps, &i, 0)) != 0)
			return rc;
		ps->r->kind = ROUTE_TREE;
		return take_path(ps, i);
	}
	if (seg_is(&g[i], "paths-info")) {
		i++;
		if ((rc = take_rev(ps, &i, 0)) != 0)
			return rc;
		if (i != n)
			return -1;
		ps->r->kind = ROUTE_PATHS_INFO;
		return 0;
	}
	if (seg_is(&g[i], "commits")) {
		i++;
		if ((rc = take_rev(ps, &i, 0)) != 0)
			return rc;
		if (i != n)
			return -1;
		ps->r->kind = ROUTE_COMMITS;
		return 0;
	}
	if (i + 1 == n && seg_is(&g[i], "refs")) {
		ps->r->kind = ROUTE_REFS;
		return 0;
	}
	if (i + 1 == n && seg_is(&g[i], "discussions")) {
		ps->r->kind = ROUTE_DISCUSSIONS;
		return 0;
	}
	return -1;
}

static void
route_reset(struct route *r)
{
	const char *type = r->type;

	memset(r, 0, sizeof(*r));
	r->type = type;
}

static int
api_parse(struct parse *ps, size_t i)
{
	const struct seg *g = ps->segs;
	const char *why1 = NULL;
	int rc, rc1 = -1;

	if (i >= ps->n)
		return bad(ps, 404, "no such route");
	if (i + 1 == ps->n && seg_is(&g[i], "whoami-v2")) {
		ps->r->kind = ROUTE_WHOAMI;
		return 0;
	}
	if (seg_is(&g[i], "models"))
		ps->r->type = "model";
	else if (seg_is(&g[i], "datasets"))
		ps->r->type = "dataset";
	else
		return bad(ps, 404, "no such route");
	i++;
	if (i >= ps->n) {
		ps->r->kind = ROUTE_LIST;
		return 0;
	}
	if (i + 1 == ps->n) {
		ps->r->kind = ROUTE_REPO_INFO;
		return take_repo(ps, i, 1);
	}
	/*
	 * ORG/NAME, or a legacy NAME without an organisation: a second
	 * segment that is a route word is read as one first, as the Hub
	 * does, and as the name when that leads nowhere.
	 */
	if (is_api_word(&g[i + 1])) {
		if ((rc1 = api_rest(ps, i + 1)) == 0)
			return take_repo(ps, i, 1);
		why1 = ps->why;
		route_reset(ps->r);
	}
	if ((rc = api_rest(ps, i + 2)) == 0)
		return take_repo(ps, i, 2);
	if (rc1 > 0)
		return bad(ps, rc1, why1);
	if (rc > 0)
		return rc;
	return bad(ps, 404, "no such route");
}

/* /[datasets/]REPO/{resolve,raw}/REV/PATH */
static int
file_parse(struct parse *ps)
{
	const struct seg *g = ps->segs;
	size_t i = 0, k, nparts;
	int rc;

	ps->r->type = "model";
	if (ps->n > 0 && seg_is(&g[0], "datasets")) {
		ps->r->type = "dataset";
		i = 1;
	}
	if (i + 2 < ps->n && (seg_is(&g[i + 2], "resolve") ||
	    seg_is(&g[i + 2], "raw")))
		nparts = 2;
	else if (i + 1 < ps->n && (seg_is(&g[i + 1], "resolve") ||
	    seg_is(&g[i + 1], "raw")))
		nparts = 1;
	else
		return bad(ps, 404, "no such route");
	k = i + nparts;
	ps->r->kind = seg_is(&g[k], "raw") ? ROUTE_RAW : ROUTE_RESOLVE;
	k++;
	if ((rc = take_repo(ps, i, nparts)) != 0)
		return rc;
	if ((rc = take_rev(ps, &k, 1)) != 0)
		return rc;
	if (k >= ps->n)
		return bad(ps, 404, "no file path");
	return take_path(ps, k);
}

static int
hash_seg(struct parse *ps, const struct seg *g)
{
	char buf[80];

	if (route_decode(g->s, g->len, buf, sizeof(buf), 0) < 0 ||
	    store_digest_parse(buf, ps->r->hash) != 0)
		return bad(ps, 400, "invalid sha256 digest");
	ps->r->has_hash = 1;
	return 0;
}

/* /v1/mirror/jobs[/ID], from what follows "jobs" */
static int
jobs_parse(struct parse *ps, size_t i)
{
	const struct seg *g = ps->segs;
	uint64_t id = 0;

	if (i == ps->n) {
		ps->r->kind = ROUTE_V1_MIRROR_JOBS;
		return 0;
	}
	if (i + 1 != ps->n)
		return bad(ps, 404, "no such route");
	/* A job id: 1 to 19 digits, no leading zero. */
	if (g[i].len == 0 || g[i].len > 19 || g[i].s[0] == '0')
		return bad(ps, 404, "no such mirror job");
	for (size_t k = 0; k < g[i].len; k++) {
		if (g[i].s[k] < '0' || g[i].s[k] > '9')
			return bad(ps, 404, "no such mirror job");
		id = id * 10 + (uint64_t)(g[i].s[k] - '0');
	}
	ps->r->kind = ROUTE_V1_MIRROR_JOB;
	ps->r->job = id;
	return 0;
}

/* /v1/... from segment i */
static int
v1_parse(struct parse *ps, size_t i)
{
	const struct seg *g = ps->segs;
	size_t n = ps->n;
	struct route *r = ps->r;

	if (i == n) {
		r->kind = ROUTE_V1_INDEX;
		return 0;
	}
	if (seg_is(&g[i], "refs")) {
		r->kind = ROUTE_V1_REFS;
		if (i + 1 == n)
			return 0;
		if (seg_is(&g[i + 1], "model"))
			r->type = "model";
		else if (seg_is(&g[i + 1], "dataset"))
			r->type = "dataset";
		else
			return bad(ps, 404, "no such repository type");
		if (n - (i + 2) != 1 && n - (i + 2) != 2)
			return bad(ps, 404, "no such route");
		return take_repo(ps, i + 2, n - (i + 2));
	}
	if (seg_is(&g[i], "mirror") && i + 1 < n &&
	    seg_is(&g[i + 1], "jobs"))
		return jobs_parse(ps, i + 2);
	if (seg_is(&g[i], "release") && i + 1 == n) {
		r->kind = ROUTE_V1_RELEASE;
		return 0;
	}
	if (seg_is(&g[i], "release.minisig") && i + 1 == n) {
		r->kind = ROUTE_V1_RELEASE_SIG;
		return 0;
	}
	if (i + 2 == n && seg_is(&g[i], "chunks") &&
	    seg_is(&g[i + 1], "missing")) {
		r->kind = ROUTE_V1_MISSING;
		return 0;
	}
	if (i + 2 == n || (i + 3 == n && seg_is(&g[i], "blobs") &&
	    seg_is(&g[i + 2], "chunks"))) {
		if (seg_is(&g[i], "manifests"))
			r->kind = ROUTE_V1_MANIFEST;
		else if (seg_is(&g[i], "signatures"))
			r->kind = ROUTE_V1_SIGNATURES;
		else if (seg_is(&g[i], "blobs"))
			r->kind = i + 3 == n ? ROUTE_V1_BLOB_CHUNKS :
			    ROUTE_V1_BLOB;
		else if (seg_is(&g[i], "chunks"))
			r->kind = ROUTE_V1_CHUNK;
		else
			return bad(ps, 404, "no such route");
		return hash_seg(ps, &g[i + 1]);
	}
	return bad(ps, 404, "no such route");
}

int
route_target(const char *target, const char **path, size_t *plen,
    const char **query, size_t *qlen)
{
	const char *p = target, *end;

	if (strncasecmp(p, "http://", 7) == 0 ||
	    strncasecmp(p, "https://", 8) == 0) {
		p = strchr(p, ':') + 3;
		p += strcspn(p, "/?#");
		if (*p != '/')
			return -1;
	}
	if (*p != '/')
		return -1;
	end = p + strcspn(p, "?#");
	*path = p;
	*plen = (size_t)(end - p);
	*query = NULL;
	*qlen = 0;
	if (*end == '?') {
		*query = end + 1;
		*qlen = strcspn(end + 1, "#");
	}
	return 0;
}

int
route_parse(const char *path, size_t len, struct route *r, const char **why)
{
	struct seg segs[MAXSEGS];
	struct parse ps;
	size_t n = 0, i, start;
	int rc;

	memset(r, 0, sizeof(*r));
	*why = NULL;
	if (len > BOUND_HTTP_PATH) {
		*why = "request path too long";
		return 414;
	}
	if (len == 0 || path[0] != '/') {
		*why = "request path must begin with /";
		return 400;
	}
	/* Split on the literal slashes, before anything is decoded. */
	for (start = 1, i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		if (n == MAXSEGS) {
			*why = "too many path segments";
			return 414;
		}
		segs[n].s = path + start;
		segs[n].len = i - start;
		n++;
		start = i + 1;
	}
	/* One trailing slash is tolerated, as the Hub does. */
	if (n > 1 && segs[n - 1].len == 0)
		n--;
	for (i = 0; i < n; i++)
		if (segs[i].len == 0) {
			*why = "empty path segment";
			return 400;
		}
	ps.segs = segs;
	ps.n = n;
	ps.r = r;
	ps.why = NULL;
	if (n == 1 && seg_is(&segs[0], "healthz"))
		r->kind = ROUTE_HEALTHZ, rc = 0;
	else if (n == 1 && seg_is(&segs[0], "metrics"))
		r->kind = ROUTE_METRICS, rc = 0;
	else if (n >= 1 && seg_is(&segs[0], "api"))
		rc = api_parse(&ps, 1);
	else if (n >= 1 && seg_is(&segs[0], "v1"))
		rc = v1_parse(&ps, 1);
	else
		rc = file_parse(&ps);
	if (rc != 0) {
		r->kind = ROUTE_UNKNOWN;
		*why = ps.why != NULL ? ps.why : "bad request";
		if (rc < 0)
			rc = 404, *why = "no such route";
	}
	return rc;
}

int
route_pairs(const char *s, size_t len, route_pair_fn fn, void *arg)
{
	char name[256], value[BOUND_HTTP_QUERY + 1];
	size_t i = 0;

	while (i < len) {
		size_t end = i, eq;
		int rc;

		while (end < len && s[end] != '&')
			end++;
		for (eq = i; eq < end && s[eq] != '='; eq++)
			;
		if (end > i) {
			if (route_decode(s + i, eq - i, name, sizeof(name),
			    1) < 0)
				return -1;
			if (eq < end) {
				if (route_decode(s + eq + 1, end - eq - 1, value,
				    sizeof(value), 1) < 0)
					return -1;
			} else
				value[0] = '\0';
			if ((rc = fn(arg, name, value)) != 0)
				return rc;
		}
		i = end + 1;
	}
	return 0;
}

static int
query_add(void *arg, const char *name, const char *value)
{
	struct query *q = arg;
	size_t nl = strlen(name) + 1, vl = strlen(value) + 1;

	if (q->n == BOUND_QUERY_PARAMS || q->used + nl + vl > sizeof(q->buf))
		return -1;
	q->name[q->n] = memcpy(q->buf + q->used, name, nl);
	q->used += nl;
	q->value[q->n] = memcpy(q->buf + q->used, value, vl);
	q->used += vl;
	q->n++;
	return 0;
}

int
query_parse(const char *s, size_t len, struct query *q)
{
	q->n = 0;
	q->used = 0;
	if (len > BOUND_HTTP_QUERY)
		return -1;
	return route_pairs(s, len, query_add, q) == 0 ? 0 : -1;
}

const char *
query_get(const struct query *q, const char *name)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->name[i], name) == 0)
			return q->value[i];
	return NULL;
}

int
route_bool(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 ||
	    strcasecmp(v, "yes") == 0;
}

int
query_bool(const struct query *q, const char *name, int dflt)
{
	const char *v;

	if ((v = query_get(q, name)) == NULL)
		return dflt;
	return route_bool(v);
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Digits into *v, saturating: a position past any file is still one. */
static const char *
number(const char *p, uint64_t *v)
{
	const char *start = p;

	*v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (*v > (UINT64_MAX - d) / 10)
			*v = UINT64_MAX;
		else
			*v = *v * 10 + d;
	}
	return p == start ? NULL : p;
}

int
range_parse(const char *hdr, uint64_t size, uint64_t *first, uint64_t *last)
{
	const char *p;
	uint64_t a, b;
	int suffix = 0, open = 0;

	if (hdr == NULL)
		return RANGE_NONE;
	p = skip_ws(hdr);
	if (strncasecmp(p, "bytes", 5) != 0)
		return RANGE_NONE;	/* a unit this server does not know */
	p = skip_ws(p + 5);
	if (*p != '=')
		return RANGE_INVALID;
	p = skip_ws(p + 1);
	if (strchr(p, ',') != NULL)
		return RANGE_NONE;	/* several ranges: send it all */
	if (*p == '-') {
		suffix = 1;
		if ((p = number(p + 1, &b)) == NULL)
			return RANGE_INVALID;
		a = 0;
	} else {
		if ((p = number(p, &a)) == NULL || *p != '-')
			return RANGE_INVALID;
		p++;
		if (*p >= '0' && *p <= '9') {
			if ((p = number(p, &b)) == NULL)
				return RANGE_INVALID;
		} else {
			open = 1;
			b = 0;
		}
	}
	if (*skip_ws(p) != '\0')
		return RANGE_INVALID;
	if (suffix) {
		if (b == 0 || size == 0)
			return RANGE_UNSAT;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return RANGE_OK;
	}
	if (!open && b < a)
		return RANGE_INVALID;
	if (a >= size)
		return RANGE_UNSAT;
	*first = a;
	*last = open || b >= size ? size - 1 : b;
	return RANGE_OK;
}

const char *
route_host(const char *hdr)
{
	size_t len;
	const char *p;

	if (hdr == NULL || (len = strlen(hdr)) == 0 || len > BOUND_HOST)
		return NULL;
	for (p = hdr; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr(".-:[]_", *p) == NULL)
			return NULL;
	return hdr;
}

const char *
route_bearer(const char *hdr)
{
	if (hdr == NULL || strncasecmp(hdr, "Bearer ", 7) != 0)
		return NULL;
	hdr += 7;
	while (*hdr == ' ')
		hdr++;
	if (*hdr == '\0' || strlen(hdr) > BOUND_TOKEN)
		return NULL;
	return hdr;
}

static const struct {
	const char	*name;
	unsigned	 field;
} list_fields[] = {
	{ "author", LIST_F_AUTHOR },
	{ "cardData", LIST_F_CARDDATA },
	{ "createdAt", LIST_F_CREATED },
	{ "disabled", LIST_F_DISABLED },
	{ "downloads", LIST_F_DOWNLOADS },
	{ "downloadsAllTime", LIST_F_DOWNLOADS },
	{ "gated", LIST_F_GATED },
	{ "lastModified", LIST_F_MODIFIED },
	{ "library_name", LIST_F_LIBRARY },
	{ "likes", LIST_F_LIKES },
	{ "pipeline_tag", LIST_F_PIPELINE },
	{ "private", LIST_F_PRIVATE },
	{ "sha", LIST_F_SHA },
	{ "siblings", LIST_F_SIBLINGS },
	{ "spaces", LIST_F_SPACES },
	{ "tags", LIST_F_TAGS },
	{ "trendingScore", LIST_F_TRENDING },
	{ "xetEnabled", LIST_F_XET },
	{ "modelId", LIST_F_MODELID },
	{ "usedStorage", LIST_F_USED_STORAGE },
};

static const struct {
	const char	*name;
	enum list_sort	 sort;
} list_sorts[] = {
	{ "id", LIST_SORT_ID },
	{ "modelId", LIST_SORT_ID },
	{ "lastModified", LIST_SORT_MODIFIED },
	{ "last_modified", LIST_SORT_MODIFIED },
	{ "createdAt", LIST_SORT_CREATED },
	{ "created_at", LIST_SORT_CREATED },
	{ "downloads", LIST_SORT_DOWNLOADS },
	{ "likes", LIST_SORT_LIKES },
	/* Nothing trends here: every score is 0, so the order is the ids'. */
	{ "trendingScore", LIST_SORT_LIKES },
	{ "trending_score", LIST_SORT_LIKES },
};

static unsigned
list_field(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(list_fields) / sizeof(list_fields[0]); i++)
		if (strcmp(list_fields[i].name, name) == 0)
			return list_fields[i].field;
	return LIST_F_IGNORED;
}

/* A signed decimal, whole: 0 or -1. */
static int
int64_parse(const char *s, size_t len, int64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;
	int neg = 0;

	if (len > 0 && s[0] == '-')
		neg = 1, i = 1;
	if (i == len || len - i > 18)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

/* "VALUE,ORG/NAME": what list_cursor wrote. */
static int
cursor_parse(const char *s, struct list_query *lq)
{
	const char *comma = strchr(s, ',');
	size_t idlen;

	if (comma == NULL || int64_parse(s, (size_t)(comma - s),
	    &lq->cursor_value) != 0)
		return -1;
	if ((idlen = strlen(comma + 1)) > BOUND_REPO_ID)
		return -1;
	memcpy(lq->cursor_id, comma + 1, idlen + 1);
	if (!store_repo_valid(lq->cursor_id))
		return -1;
	lq->has_cursor = 1;
	return 0;
}

int
list_cursor(int64_t value, const char *id, char *out, size_t size)
{
	int n = snprintf(out, size, "%lld,%s", (long long)value, id);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

static int
count_parse(const char *s, size_t max, size_t *out)
{
	int64_t v;

	if (int64_parse(s, strlen(s), &v) != 0 || v < 0)
		return -1;
	*out = (uint64_t)v > max ? max : (size_t)v;
	return 0;
}

int
list_query_parse(const struct query *q, struct list_query *lq,
    const char **why)
{
	const char *dir = NULL;
	int sorted = 0;
	size_t i, k;

	memset(lq, 0, sizeof(*lq));
	lq->limit = BOUND_LIST_PAGE;
	for (i = 0; i < q->n; i++) {
		const char *name = q->name[i], *v = q->value[i];

		if (strcmp(name, "search") == 0)
			lq->search = *v != '\0' ? v : NULL;
		else if (strcmp(name, "author") == 0)
			lq->author = *v != '\0' ? v : NULL;
		else if (strcmp(name, "pipeline_tag") == 0)
			lq->pipeline_tag = *v != '\0' ? v : NULL;
		else if (strcmp(name, "filter") == 0) {
			if (*v == '\0')
				continue;
			if (lq->nfilter == BOUND_LIST_FILTERS) {
				*why = "filter: too many tags";
				return -1;
			}
			lq->filter[lq->nfilter++] = v;
		} else if (strcmp(name, "sort") == 0) {
			for (k = 0; k < sizeof(list_sorts) /
			    sizeof(list_sorts[0]); k++)
				if (strcmp(list_sorts[k].name, v) == 0)
					break;
			if (k == sizeof(list_sorts) / sizeof(list_sorts[0])) {
				*why = "sort: not one of lastModified, "
				    "createdAt, downloads, likes, id";
				return -1;
			}
			lq->sort = list_sorts[k].sort;
			sorted = lq->sort != LIST_SORT_ID;
		} else if (strcmp(name, "direction") == 0)
			dir = v;
		else if (strcmp(name, "limit") == 0) {
			if (count_parse(v, BOUND_LIST_PAGE, &lq->limit) != 0) {
				*why = "limit: not a number";
				return -1;
			}
			if (lq->limit == 0)
				lq->limit = BOUND_LIST_PAGE;
		} else if (strcmp(name, "expand") == 0 ||
		    strcmp(name, "expand[]") == 0)
			lq->expand |= list_field(v);
		else if (strcmp(name, "full") == 0)
			lq->full = route_bool(v);
		else if (strcmp(name, "cardData") == 0 ||
		    strcmp(name, "carddata") == 0)
			lq->card = route_bool(v);
		else if (strcmp(name, "cursor") == 0) {
			if (cursor_parse(v, lq) != 0) {
				*why = "cursor: not one this server gave";
				return -1;
			}
		}
	}
	/* The Hub sorts by a figure from the highest unless told otherwise. */
	lq->desc = sorted;
	if (dir != NULL && *dir != '\0') {
		if (strcmp(dir, "-1") == 0)
			lq->desc = 1;
		else if (strcmp(dir, "1") == 0)
			lq->desc = 0;
		else {
			*why = "direction: not 1 or -1";
			return -1;
		}
	}
	return 0;
}

int
page_parse(const struct query *q, size_t dflt, size_t max, size_t *page,
    size_t *limit, const char **why)
{
	const char *v;

	*page = 0;
	*limit = dflt;
	if ((v = query_get(q, "p")) != NULL &&
	    count_parse(v, SIZE_MAX / 2, page) != 0) {
		*why = "p: not a page number";
		return -1;
	}
	if ((v = query_get(q, "limit")) != NULL) {
		if (count_parse(v, max, limit) != 0) {
			*why = "limit: not a number";
			return -1;
		}
		if (*limit == 0)
			*limit = dflt;
	}
	return 0;
}
