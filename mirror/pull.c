/*
 * pull.c - one revision from a Hub-speaking upstream into the store
 * (MIRROR.md's sequence): revision to commit, the whole tree, each file
 * by commit through the hand-followed redirects, checked by the store's
 * revision pipeline while it streams, committed whole or not at all.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "lib/bounds.h"
#include "lib/names.h"
#include "mirror/mirror.h"
#include "mirror/mirror_int.h"

struct pull {
	struct mirror			*m;
	struct store			*st;
	const struct mirror_pull_spec	*spec;
	struct mirror_pull_result	*res;
	struct store_revision_spec	 rs;
	char				 base[2048];	/* upstream, no '/' at end */
	char				 api[2600];	/* base/api/models/ORG/NAME */
	char				 files[2600];	/* base[/datasets]/ORG/NAME */
	char				*host;		/* the token's only host */
	char				 commit[STORE_COMMIT_LEN + 1];
	struct upstream_tree		 tree;
	json_t				*claims;
	struct mirror_meta_file		 meta[MIRROR_META_FILES]; /* for
							 * the gate */
	size_t				 nmeta;
	int				 gated;
	struct mirror_status		 stat;
	uint64_t			 done;		/* bytes_done before
							 * the current file */
	int				 rc;		/* a reader's failure */
	char				 err[1024];
};

/* The token, if url is on the upstream's own host. */
static const char *
token_for(struct pull *p, const char *url)
{
	char *o;
	int same;

	if (p->spec->token == NULL || p->host == NULL)
		return NULL;
	o = mirror_origin(url);
	same = o != NULL && strcmp(o, p->host) == 0;
	free(o);
	return same ? p->spec->token : NULL;
}

static int
cancelled(const struct pull *p)
{
	return mirror_cancelled(p->spec->cancel);
}

static int
cancel_fail(const struct pull *p)
{
	return mirror_fail(MIRROR_ECANCELED, "%s: cancelled", p->spec->repo);
}

/*
 * Waits before attempt + 1 of a request: 1, 2, 4... times the first
 * back-off.  A 429 holds every transfer to its host instead, through the
 * engine's limiter: for as long as the answer said (the engine read it),
 * else for the back-off.
 */
static void
backoff(struct pull *p, int attempt, const struct xfer *x)
{
	long ms = p->m->opts.backoff_ms << (attempt < 6 ? attempt : 6);

	p->res->retries++;
	if (x != NULL && x->status == 429) {
		if (!x->held)
			mirror_hold(p->m, x, ms);
		return;
	}
	mirror_sleep(p->m, ms, p->spec->cancel);
}

static int
transient_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int
transient_status(long s)
{
	return s == 408 || s == 429 || (s >= 500 && s <= 599);
}

/* What the upstream said about a refusal, as the error of what. */
static int
upstream_fail(struct xfer *x, const char *what)
{
	const char *code = x->h[XH_ERROR_CODE];
	char words[600];
	int rc;

	upstream_words(code, x->h[XH_ERROR_MESSAGE], x->body, x->len, words,
	    sizeof(words));
	if (code != NULL && strcmp(code, "GatedRepo") == 0)
		rc = MIRROR_EGATED;
	else if (x->status == 401 || (code != NULL &&
	    strcmp(code, "RepoNotFound") == 0 && x->status != 404))
		rc = MIRROR_EAUTH;
	else if (x->status == 403)
		rc = MIRROR_EAUTH;
	else if (x->status == 404 || x->status == 410)
		rc = MIRROR_ENOTFOUND;
	else
		rc = MIRROR_EUPSTREAM;
	return mirror_fail(rc, "%s: HTTP %ld (%s): %s", what, x->status,
	    words, mirror_strerror(rc));
}

/* What the redirects of a resolve said about the file (MIRROR.md: an LFS
 * file's 302 carries them; its own Content-Length is its tiny body's). */
struct hops {
	char		*linked_etag;	/* X-Linked-Etag, or NULL */
	char		*linked_size;	/* X-Linked-Size */
	char		*commit;	/* X-Repo-Commit */
	/* Called after each redirect: nonzero stops before the next hop. */
	int		(*check)(void *, const struct hops *);
	void		*check_arg;
};

static void
hops_keep(struct hops *h, struct xfer *x)
{
	if (h == NULL)
		return;
	if (h->linked_etag == NULL && x->h[XH_LINKED_ETAG] != NULL)
		h->linked_etag = strdup(x->h[XH_LINKED_ETAG]);
	if (h->linked_size == NULL && x->h[XH_LINKED_SIZE] != NULL)
		h->linked_size = strdup(x->h[XH_LINKED_SIZE]);
	if (h->commit == NULL && x->h[XH_COMMIT] != NULL)
		h->commit = strdup(x->h[XH_COMMIT]);
}

static void
hops_clear(struct hops *h)
{
	if (h == NULL)
		return;
	free(h->linked_etag);
	free(h->linked_size);
	free(h->commit);
	h->linked_etag = h->linked_size = h->commit = NULL;
}

static int	get_hops(struct pull *, const char *, const char *, uint64_t,
		    int, size_t, struct hops *, struct xfer **);

/*
 * GET url, retrying what is transient and following redirects by hand
 * (the token only to the upstream's host).  With stream, returns as soon
 * as the final 2xx's headers are in, the body still coming; else at its
 * end.
 */
static int
get(struct pull *p, const char *what, const char *url0, uint64_t offset,
    int stream, struct xfer **out)
{
	return get_hops(p, what, url0, offset, stream, 0, NULL, out);
}

/* One request of url, waited for to its headers (stream) or its end;
 * head > 0 asks for its first head bytes only (xfer_head). */
static int
request_one(struct pull *p, const char *url, uint64_t offset, int stream,
    size_t head, struct xfer **xp)
{
	struct xfer *x;
	int rc;

	if (cancelled(p))
		return cancel_fail(p);
	if ((rc = xfer_new(p->m, url, token_for(p, url), offset, stream,
	    xp)) != 0)
		return rc;
	x = *xp;
	if (head > 0 && (rc = xfer_head(x, head)) != 0)
		return rc;
	x->cancelp = p->spec->cancel;
	p->res->requests++;
	xfer_start(x);
	if (stream)
		xfer_wait_headers(x);
	else
		xfer_wait(x);
	if (cancelled(p))
		return cancel_fail(p);
	return 0;
}

/*
 * A redirect answered *xp: *url becomes its Location and *xp is freed,
 * after hops has kept and checked what it said and the hops are counted.
 */
static int
redirect(const char *what, struct xfer **xp, struct hops *hops,
    int *nhops, char **url)
{
	struct xfer *x = *xp;
	int rc;

	xfer_wait(x);
	if (x->location == NULL)
		return mirror_fail(MIRROR_EPROTO, "%s: HTTP %ld without a "
		    "Location", what, x->status);
	hops_keep(hops, x);
	if (hops != NULL && hops->check != NULL &&
	    (rc = hops->check(hops->check_arg, hops)) != 0)
		return rc;
	if (++*nhops > BOUND_UPSTREAM_HOPS)
		return mirror_fail(MIRROR_EPROTO, "%s: more than %d redirects",
		    what, BOUND_UPSTREAM_HOPS);
	free(*url);
	*url = x->location;
	x->location = NULL;
	xfer_free(x);
	*xp = NULL;
	return 0;
}

/* As get; head > 0 asks for the first head bytes only (xfer_head, not
 * streamed); hops, if not NULL, gets what the redirects of the last
 * attempt said (hops_keep). */
static int
get_hops(struct pull *p, const char *what, const char *url0,
    uint64_t offset, int stream, size_t head, struct hops *hops,
    struct xfer **out)
{
	char *url = strdup(url0);
	struct xfer *x = NULL;
	int attempt = 0, nhops = 0, rc;

	*out = NULL;
	if (url == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	for (;;) {
		if ((rc = request_one(p, url, offset, stream, head, &x)) != 0)
			break;
		if (x->status >= 300 && x->status <= 399 && x->status != 304) {
			if ((rc = redirect(what, &x, hops, &nhops, &url)) != 0)
				break;
			continue;
		}
		/* A streamed 2xx is the caller's from its headers on, however
		 * it ends: what reached the ring is good, and the caller
		 * resumes after the last byte it took.  Whether it has ended
		 * yet is a race with the loop, so it is not looked at here:
		 * a retry from here would ask for those bytes again. */
		if (!(stream && x->status >= 200 && x->status <= 299) &&
		    !x->cut && x->done && x->result != CURLE_OK &&
		    x->status < 300) {
			if (transient_curl(x->result) &&
			    attempt < p->m->opts.retries) {
				backoff(p, attempt++, NULL);
				xfer_free(x);
				x = NULL;
				continue;
			}
			rc = mirror_fail(MIRROR_ENET, "%s: %s", what,
			    x->errbuf[0] != '\0' ? x->errbuf :
			    curl_easy_strerror(x->result));
			break;
		}
		if (x->status >= 200 && x->status <= 299) {
			if (!stream && x->toolarge) {
				rc = mirror_fail(MIRROR_EPROTO, "%s: answer "
				    "larger than %zu bytes", what, x->body_max);
				break;
			}
			*out = x;
			free(url);
			return 0;
		}
		xfer_wait(x);
		/* A transient refusal, or a signed URL that expired (403
		 * from a hop): start from the upstream again. */
		if ((transient_status(x->status) || (x->status == 403 &&
		    nhops > 0)) && attempt < p->m->opts.retries) {
			backoff(p, attempt++, x);
			xfer_free(x);
			x = NULL;
			nhops = 0;
			hops_clear(hops);
			free(url);
			if ((url = strdup(url0)) == NULL) {
				rc = mirror_fail(MIRROR_ENOMEM, "out of memory");
				break;
			}
			continue;
		}
		rc = upstream_fail(x, what);
		break;
	}
	xfer_free(x);
	free(url);
	return rc;
}

/* The path with each segment percent-encoded, '/' kept. */
static int
encode_path(const char *path, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	while (*path != '\0') {
		size_t seg = strcspn(path, "/");
		char *e = curl_easy_escape(NULL, path, (int)seg);
		int k;

		if (e == NULL)
			return -1;
		k = snprintf(out + used, size - used, "%s%s", e,
		    path[seg] == '/' ? "/" : "");
		curl_free(e);
		if (k < 0 || (size_t)k >= size - used)
			return -1;
		used += (size_t)k;
		path += seg + (path[seg] == '/');
	}
	return 0;
}

static int
resolve_commit(struct pull *p)
{
	const char *rev = p->spec->revision;
	struct xfer *x;
	char url[3000], *e;
	int rc;

	if (hex_valid(rev, STORE_COMMIT_LEN)) {
		memcpy(p->commit, rev, sizeof(p->commit));
		return 0;
	}
	if ((e = curl_easy_escape(NULL, rev, 0)) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	snprintf(url, sizeof(url), "%s/revision/%s", p->api, e);
	curl_free(e);
	if ((rc = get(p, p->spec->repo, url, 0, 0, &x)) != 0)
		return rc;
	if ((rc = upstream_revision(x->body, x->len, p->commit)) != 0)
		rc = mirror_failwrap(rc, "%s@%s", p->spec->repo, rev);
	xfer_free(x);
	return rc;
}

static int
matches(const char *const *globs, const char *path)
{
	for (; globs != NULL && *globs != NULL; globs++)
		if (fnmatch(*globs, path, 0) == 0)
			return 1;
	return 0;
}

/* What --include and --exclude choose; the card and the licences are
 * always fetched, since a policy reads them before any weights. */
static int
wanted(void *arg, const char *path)
{
	const struct mirror_pull_spec *s = arg;

	if (upstream_always(path))
		return 1;
	if (s->include != NULL && s->include[0] != NULL &&
	    !matches(s->include, path))
		return 0;
	return !matches(s->exclude, path);
}

static int
list_tree(struct pull *p)
{
	char *url, first[3000], what[BOUND_REPO_ID + 64];
	int rc = 0, pages = 0;

	snprintf(first, sizeof(first), "%s/tree/%s?recursive=true&expand=false",
	    p->api, p->commit);
	if ((url = strdup(first)) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	while (url != NULL && rc == 0) {
		struct xfer *x;

		if (++pages > BOUND_FILES) {
			rc = mirror_fail(MIRROR_EPROTO, "%s: the tree's pages "
			    "do not end", p->spec->repo);
			break;
		}
		snprintf(what, sizeof(what), "%s@%.12s: the tree's page %d",
		    p->spec->repo, p->commit, pages);
		if ((rc = get(p, what, url, 0, 0, &x)) != 0)
			break;
		free(url);
		url = upstream_link_next(x->h[XH_LINK]);
		if ((rc = upstream_tree_page(&p->tree, x->body, x->len)) != 0)
			rc = mirror_failwrap(rc, "%s", what);
		xfer_free(x);
	}
	free(url);
	if (rc == 0 && (rc = upstream_tree_finish(&p->tree)) != 0)
		rc = mirror_failwrap(rc, "%s@%s", p->spec->repo, p->commit);
	return rc;
}

static void
status(struct pull *p, uint64_t done, uint64_t fetched)
{
	p->stat.bytes_done = done;
	p->stat.fetched += fetched;
	if (p->spec->status != NULL)
		p->spec->status(p->spec->status_arg, &p->stat);
}

/* One file's bytes for the pipeline, resumed across drops. */
struct fstream {
	struct pull		*p;
	const struct upstream_file	*f;
	char			 url[BOUND_PATH * 3 + 3000];
	struct xfer		*x;
	uint64_t		 start;		/* where the store's part ends */
	int			 begun;
	uint64_t		 offset;	/* bytes given to the pipeline */
	uint64_t		 skip;		/* of a 200 to a ranged GET */
	uint64_t		 counted;	/* of x's bytes, in fetched */
	int			 attempt;
	char			*card;		/* README.md's bytes */
	size_t			 card_len;
	int			 capture;	/* keep them (card, licence) */
};

/* What the resolve's redirects said must be what the tree said, before
 * any byte is taken: the file's size and sha256, and the commit. */
static int
hops_check(void *arg, const struct hops *h)
{
	struct fstream *fs = arg;
	const struct upstream_file *f = fs->f;
	char tag[2 * STORE_HASH_LEN + 1], want[2 * STORE_HASH_LEN + 1];
	uint64_t size;

	if (h->linked_size != NULL && (upstream_size(h->linked_size,
	    &size) != 0 || size != f->size))
		return mirror_fail(MIRROR_ECORRUPT, "%s: the resolve says "
		    "X-Linked-Size %.40s, the tree said %llu bytes", f->path,
		    h->linked_size, (unsigned long long)f->size);
	if (h->linked_etag != NULL && f->lfs) {
		store_hex(f->sha256, STORE_HASH_LEN, want);
		if (upstream_etag(h->linked_etag, tag, sizeof(tag)) != 0 ||
		    strcmp(tag, want) != 0)
			return mirror_fail(MIRROR_ECORRUPT, "%s: the resolve "
			    "says X-Linked-Etag %.70s, the tree said sha256 %s",
			    f->path, h->linked_etag, want);
	}
	if (h->commit != NULL && strcmp(h->commit, fs->p->commit) != 0)
		return mirror_fail(MIRROR_EPROTO, "%s: the resolve answered "
		    "for commit %.40s, not %s", f->path, h->commit,
		    fs->p->commit);
	return 0;
}

/*
 * What reached us of x's body, counted once in what the pull fetched:
 * the bytes on the wire, those a 200 to a ranged GET repeats and those
 * the pipeline never took included.
 */
static void
fs_count(struct fstream *fs)
{
	uint64_t n;

	if (fs->x == NULL || (n = xfer_received(fs->x)) <= fs->counted)
		return;
	fs->p->res->fetched += n - fs->counted;
	fs->p->stat.fetched += n - fs->counted;
	fs->counted = n;
}

/* The answer done with: counted, then freed. */
static void
fs_close(struct fstream *fs)
{
	fs_count(fs);
	xfer_free(fs->x);
	fs->x = NULL;
	fs->counted = 0;
}

static int
fs_open(struct fstream *fs)
{
	struct hops hops = { 0 };
	struct xfer *x;
	uint64_t a, b, total, want, len;
	const char *cl;
	int rc;

	fs->skip = 0;
	hops.check = hops_check;
	hops.check_arg = fs;
	rc = get_hops(fs->p, fs->f->path, fs->url, fs->offset, 1, 0, &hops,
	    &x);
	hops_clear(&hops);
	if (rc != 0)
		return rc;
	if (fs->offset > 0 && x->status == 200)
		fs->skip = fs->offset;	/* the range was ignored */
	else if (fs->offset > 0) {
		if (x->status != 206 || upstream_content_range(
		    x->h[XH_CONTENT_RANGE], &a, &b, &total) != 0 ||
		    a != fs->offset || b + 1 != total ||
		    total != fs->f->size) {
			rc = mirror_fail(MIRROR_EPROTO, "%s: asked for bytes "
			    "from %llu, answered HTTP %ld with Content-Range "
			    "\"%s\"", fs->f->path,
			    (unsigned long long)fs->offset, x->status,
			    x->h[XH_CONTENT_RANGE] != NULL ?
			    x->h[XH_CONTENT_RANGE] : "");
			fs->x = x;
			fs_close(fs);
			return rc;
		}
	}
	/* The length the answer announces is the rest of the file, as the
	 * tree gave it, or the answer is not that file. */
	want = fs->f->size - (fs->skip > 0 ? 0 : fs->offset);
	if ((cl = x->h[XH_CONTENT_LENGTH]) != NULL &&
	    (upstream_size(cl, &len) != 0 || len != want)) {
		rc = mirror_fail(MIRROR_ECORRUPT, "%s: Content-Length %.40s%s "
		    "from byte %llu, the tree said %llu bytes in all",
		    fs->f->path, cl, strlen(cl) > 40 ? "..." : "",
		    (unsigned long long)(fs->skip > 0 ? 0 : fs->offset),
		    (unsigned long long)fs->f->size);
		fs->x = x;
		fs_close(fs);
		return rc;
	}
	fs->x = x;
	return 0;
}

/* All the file's bytes are in: the answer must end there. */
static int
fs_end(struct fstream *fs)
{
	char c;

	if (fs->x == NULL || xfer_read(fs->x, &c, 1) == 0)
		return 0;
	return mirror_fail(MIRROR_ECORRUPT, "%s: more than the %llu bytes the "
	    "tree said", fs->f->path, (unsigned long long)fs->f->size);
}

static ssize_t
fs_read(void *arg, void *buf, size_t len)
{
	struct fstream *fs = arg;
	struct pull *p = fs->p;
	int rc;

	if (!fs->begun) {
		/* The ingest has said where the stored part ends. */
		fs->begun = 1;
		fs->offset = fs->start;
	}
	if (fs->offset >= fs->f->size) {
		if ((rc = fs_end(fs)) != 0)
			goto fail;
		return 0;
	}
	if (len > fs->f->size - fs->offset)
		len = (size_t)(fs->f->size - fs->offset);
	for (;;) {
		size_t n;

		if (cancelled(p)) {
			rc = cancel_fail(p);
			goto fail;
		}
		if (fs->x == NULL && (rc = fs_open(fs)) != 0)
			goto fail;
		n = xfer_read(fs->x, buf, len);
		if (n > 0 && fs->skip > 0) {
			size_t k = fs->skip < n ? (size_t)fs->skip : n;

			memmove(buf, (char *)buf + k, n - k);
			fs->skip -= k;
			if ((n -= k) == 0)
				continue;	/* all skipped: not the end */
		}
		if (n > 0) {
			fs->offset += n;
			fs_count(fs);
			status(p, p->done + fs->offset, 0);
			if (fs->card != NULL || (fs->capture &&
			    fs->offset == n)) {
				if (fs->card == NULL &&
				    (fs->card = malloc(BOUND_CARD)) == NULL) {
					rc = mirror_fail(MIRROR_ENOMEM,
					    "out of memory");
					goto fail;
				}
				if (fs->card_len + n <= BOUND_CARD) {
					memcpy(fs->card + fs->card_len, buf, n);
					fs->card_len += n;
				}
			}
			return (ssize_t)n;
		}
		/* The stream ended before the file did: complete as the
		 * server framed it (the file is short), or dropped. */
		if (fs->x->result == CURLE_OK) {
			rc = mirror_fail(MIRROR_ECORRUPT, "%s: %llu bytes, the "
			    "tree said %llu", fs->f->path,
			    (unsigned long long)fs->offset,
			    (unsigned long long)fs->f->size);
			goto fail;
		}
		if (fs->attempt >= p->m->opts.retries) {
			rc = mirror_fail(MIRROR_ENET, "%s: %s at byte %llu",
			    fs->f->path, fs->x->errbuf[0] != '\0' ?
			    fs->x->errbuf : curl_easy_strerror(fs->x->result),
			    (unsigned long long)fs->offset);
			goto fail;
		}
		fs_close(fs);
		backoff(p, fs->attempt++, NULL);
	}
fail:
	p->rc = rc;
	snprintf(p->err, sizeof(p->err), "%s", mirror_lasterror());
	errno = EIO;
	return -1;
}

/* Puts one file, fetched again once if its bytes fail their hash. */
static int
put_file(struct pull *p, struct store_revision *rev, const struct upstream_file *f)
{
	struct store_revision_file in = { 0 };
	struct fstream fs;
	char enc[BOUND_PATH * 3 + 1];
	int rc = 0;

	if (encode_path(f->path, enc, sizeof(enc)) != 0)
		return mirror_fail(MIRROR_EINVAL, "%s: path too long", f->path);
	in.path = f->path;
	in.size = (int64_t)f->size;
	in.lfs = f->lfs;
	in.sha256 = f->lfs || f->held ? f->sha256 : NULL;
	in.git_sha1 = f->sha1;
	in.reuse = 1;
	for (int tries = 0; tries < 2; tries++) {
		memset(&fs, 0, sizeof(fs));
		fs.p = p;
		fs.f = f;
		fs.capture = strcmp(f->path, "README.md") == 0 ||
		    (p->spec->gate != NULL &&
		    upstream_rank(f->path, f->size) < 2);
		in.resume_from = f->lfs ? &fs.start : NULL;
		/* What the gate and the card read must flow. */
		in.reuse = !fs.capture;
		snprintf(fs.url, sizeof(fs.url), "%s/resolve/%s/%s", p->files,
		    p->commit, enc);
		p->rc = 0;
		rc = store_revision_put(rev, &in, fs_read, &fs);
		fs_close(&fs);
		if (rc == 0 && strcmp(f->path, "README.md") == 0 &&
		    fs.card != NULL) {
			json_decref(p->claims);
			p->claims = NULL;
			if ((rc = store_card_parse(fs.card, fs.card_len, NULL,
			    &p->claims)) != 0)
				rc = mirror_fail(rc, "README.md: %s",
				    store_lasterror());
			p->rs.parts.claims = p->claims;
		}
		/* Room is kept for the heads of the GGUF files. */
		if (rc == 0 && fs.capture && p->spec->gate != NULL &&
		    p->nmeta < MIRROR_META_FILES - MIRROR_GATE_GGUF) {
			struct mirror_meta_file *mf = &p->meta[p->nmeta++];

			mf->path = f->path;
			mf->size = f->size;
			mf->sha256 = f->lfs ? f->sha256 : NULL;
			mf->buf = fs.card;
			mf->len = fs.card != NULL ? fs.card_len : 0;
			fs.card = NULL;
		}
		free(fs.card);
		if (p->rc != 0)
			return mirror_fail(p->rc, "%s", p->err);
		if (rc != STORE_ECORRUPT)
			break;
	}
	if (rc == STORE_ECORRUPT)
		return mirror_fail(MIRROR_ECORRUPT, "%s (fetched twice)",
		    store_lasterror());
	if (rc != 0 && rc > -32000)
		return mirror_fail(rc, "%s", store_lasterror());
	return rc;
}

static int
is_gguf(const char *path)
{
	size_t n = strlen(path);

	return n >= 5 && strcasecmp(path + n - 5, ".gguf") == 0;
}

/*
 * The head of a GGUF file for the gate: its first BOUND_GGUF_PREFIX bytes
 * (the metadata; the tensors come after), asked for by Range through the
 * resolve and its redirects, checked as fs_open checks a file's answer.
 * A 200 (the Range ignored) is cut there.  The head cannot be checked
 * against the file's sha256; the file is, when it is fetched after.
 */
static int
gguf_head(struct pull *p, const struct upstream_file *f,
    struct mirror_meta_file *mf)
{
	struct fstream fs;
	struct hops hops = { 0 };
	struct xfer *x;
	char enc[BOUND_PATH * 3 + 1];
	const char *cl, *cr;
	uint64_t a, b, total, len;
	size_t want;
	int rc = 0;

	want = f->size < BOUND_GGUF_PREFIX ? (size_t)f->size :
	    BOUND_GGUF_PREFIX;
	if (encode_path(f->path, enc, sizeof(enc)) != 0)
		return mirror_fail(MIRROR_EINVAL, "%s: path too long", f->path);
	memset(&fs, 0, sizeof(fs));
	fs.p = p;
	fs.f = f;
	snprintf(fs.url, sizeof(fs.url), "%s/resolve/%s/%s", p->files,
	    p->commit, enc);
	hops.check = hops_check;
	hops.check_arg = &fs;
	rc = get_hops(p, f->path, fs.url, 0, 0, want, &hops, &x);
	hops_clear(&hops);
	if (rc != 0)
		return rc;
	p->res->fetched += x->received;
	status(p, p->done, x->received);
	cl = x->h[XH_CONTENT_LENGTH];
	cr = x->h[XH_CONTENT_RANGE];
	if (x->status == 206 && (upstream_content_range(cr, &a, &b,
	    &total) != 0 || a != 0 || b + 1 != want || total != f->size ||
	    (cl != NULL && (upstream_size(cl, &len) != 0 || len != want))))
		rc = mirror_fail(MIRROR_EPROTO, "%s: asked for its first %zu "
		    "bytes, answered HTTP 206 with Content-Range \"%.80s\" "
		    "and Content-Length %.40s", f->path, want,
		    cr != NULL ? cr : "", cl != NULL ? cl : "none");
	else if (x->status != 206 && x->status != 200)
		rc = mirror_fail(MIRROR_EPROTO, "%s: asked for its first %zu "
		    "bytes, answered HTTP %ld", f->path, want, x->status);
	else if (x->status == 200 && cl != NULL &&
	    (upstream_size(cl, &len) != 0 || len != f->size))
		rc = mirror_fail(MIRROR_ECORRUPT, "%s: Content-Length %.40s, "
		    "the tree said %llu bytes", f->path, cl,
		    (unsigned long long)f->size);
	else if (x->len != want)
		rc = mirror_fail(MIRROR_ECORRUPT, "%s: the answer ended after "
		    "%zu of the first %zu bytes", f->path, x->len, want);
	if (rc == 0) {
		mf->path = f->path;
		mf->size = f->size;
		mf->sha256 = f->lfs ? f->sha256 : NULL;
		mf->buf = x->body;
		mf->len = x->len;
		x->body = NULL;
	}
	xfer_free(x);
	return rc;
}

/*
 * Once, before the first file that is not the card's, a licence's or
 * another small file of evidence (upstream_rank): with the heads of the
 * first GGUF files, as policy/ reads a stored revision's (by path).
 */
static int
gate(struct pull *p)
{
	const char *failed = p->res->failed;
	size_t heads = 0;
	int rc;

	if (p->spec->gate == NULL || p->gated)
		return 0;
	p->gated = 1;
	for (size_t i = 0; i < p->tree.n && heads < MIRROR_GATE_GGUF; i++) {
		const struct upstream_file *f = &p->tree.v[i];

		if (!is_gguf(f->path) || f->size == 0)
			continue;
		if (cancelled(p))
			return cancel_fail(p);
		p->res->failed = f->path;
		if ((rc = gguf_head(p, f, &p->meta[p->nmeta])) != 0)
			return rc;
		p->nmeta++;
		heads++;
	}
	p->res->failed = failed;
	return p->spec->gate(p->spec->gate_arg, p->commit, p->meta, p->nmeta,
	    NULL);
}

static int
feed(void *arg, struct store_revision *rev)
{
	struct pull *p = arg;
	int rc;

	for (size_t i = 0; i < p->tree.n; i++) {
		if (upstream_rank(p->tree.v[i].path, p->tree.v[i].size) >= 2 &&
		    (rc = gate(p)) != 0)
			return rc;
		p->res->failed = p->tree.v[i].path;
		if (cancelled(p))
			return cancel_fail(p);
		if ((rc = put_file(p, rev, &p->tree.v[i])) != 0)
			return rc;
		p->done += p->tree.v[i].size;
		p->stat.files_done++;
		status(p, p->done, 0);
	}
	p->res->failed = NULL;
	return gate(p);
}

/* Whether a manifest's list of globs (or none) is globs. */
static int
same_globs(json_t *a, const char *const *globs)
{
	size_t n = 0;

	for (; globs != NULL && globs[n] != NULL; n++)
		if (!json_is_string(json_array_get(a, n)) || strcmp(globs[n],
		    json_string_value(json_array_get(a, n))) != 0)
			return 0;
	return json_array_size(a) == n;
}

/* Whether the local ref came from this upstream commit already, with the
 * same filters. */
static int
unchanged(struct pull *p)
{
	const struct mirror_pull_spec *s = p->spec;
	struct store_manifest *cur;
	uint8_t digest[STORE_HASH_LEN];
	const char *up, *c;

	if (store_resolve(p->st, s->type, s->repo, s->revision, digest) != 0 ||
	    store_manifest_get(p->st, digest, &cur) != 0)
		return 0;
	up = json_string_value(json_object_get(cur->source, "upstream"));
	c = json_string_value(json_object_get(cur->source, "commit"));
	if (up != NULL && c != NULL && strcmp(up, p->base) == 0 &&
	    strcmp(c, p->commit) == 0 &&
	    same_globs(json_object_get(cur->source, "include"), s->include) &&
	    same_globs(json_object_get(cur->source, "exclude"), s->exclude)) {
		p->res->manifest = cur;
		p->res->unchanged = 1;
		p->res->files = cur->nfiles;
		for (size_t i = 0; i < cur->nfiles; i++)
			p->res->bytes += cur->files[i].size;
		p->res->held = p->res->bytes;
		return 1;
	}
	store_manifest_free(cur);
	return 0;
}

static int
sha1_cmp(const void *a, const void *b)
{
	const struct upstream_file *const *x = a, *const *y = b;

	return memcmp((*x)->sha1, (*y)->sha1, STORE_SHA1_LEN);
}

struct held {
	struct upstream_file	**v;		/* not LFS, by git blob id */
	size_t		  n;
};

static int
held_one(void *arg, const struct store_blobinfo *b)
{
	struct held *h = arg;
	size_t lo = 0, hi = h->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(h->v[mid]->sha1, b->git_sha1, STORE_SHA1_LEN) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The same bytes may sit at several paths. */
	for (; lo < h->n && memcmp(h->v[lo]->sha1, b->git_sha1,
	    STORE_SHA1_LEN) == 0; lo++)
		if (h->v[lo]->size == b->size) {
			h->v[lo]->held = 1;
			memcpy(h->v[lo]->sha256, b->sha256, STORE_HASH_LEN);
		}
	return 0;
}

/*
 * Which files that are not in LFS the store holds already, found by git
 * blob id and size in one walk of its blob records (the tree gives no
 * sha256 for them): they are put without a fetch.
 */
static int
find_held(struct pull *p)
{
	struct held h = { 0 };
	int rc = 0;

	for (size_t i = 0; i < p->tree.n; i++)
		if (!p->tree.v[i].lfs)
			h.n++;
	if (h.n == 0)
		return 0;
	if ((h.v = calloc(h.n, sizeof(*h.v))) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	h.n = 0;
	for (size_t i = 0; i < p->tree.n; i++)
		if (!p->tree.v[i].lfs)
			h.v[h.n++] = &p->tree.v[i];
	qsort(h.v, h.n, sizeof(*h.v), sha1_cmp);
	if ((rc = store_blobs_each(p->st, held_one, &h)) != 0)
		rc = mirror_fail(rc, "%s", store_lasterror());
	free(h.v);
	return rc;
}

/* The upstream's base URL, its API and file URLs for spec's repo. */
static int
pull_urls(struct pull *p, const struct mirror_pull_spec *s)
{
	size_t blen = strlen(s->upstream);

	while (blen > 0 && s->upstream[blen - 1] == '/')
		blen--;
	if (blen == 0 || blen >= sizeof(p->base))
		return mirror_fail(MIRROR_EINVAL, "%s: not an upstream URL",
		    s->upstream);
	memcpy(p->base, s->upstream, blen);
	p->base[blen] = '\0';
	if ((p->host = mirror_origin(p->base)) == NULL ||
	    (strncasecmp(p->base, "http://", 7) != 0 &&
	    strncasecmp(p->base, "https://", 8) != 0)) {
		free(p->host);
		p->host = NULL;
		return mirror_fail(MIRROR_EINVAL, "%s: not an http(s) URL",
		    p->base);
	}
	snprintf(p->api, sizeof(p->api), "%s/api/%s/%s", p->base,
	    store_type_plural(s->type), s->repo);
	snprintf(p->files, sizeof(p->files), "%s/%s%s", p->base,
	    store_type_prefix(s->type), s->repo);
	return 0;
}

/* What store_revision_add is to make of the files the pull feeds. */
static void
revision_spec(struct pull *p, const struct mirror_pull_spec *s)
{
	p->rs.parts.type = s->type;
	p->rs.parts.repo = s->repo;
	p->rs.parts.upstream = p->base;
	p->rs.parts.revision = s->revision;
	p->rs.parts.commit = p->commit;
	p->rs.parts.include = s->include;
	p->rs.parts.exclude = s->exclude;
	p->rs.parts.created = (int64_t)time(NULL);
	p->rs.ref = s->ref != NULL ? s->ref :
	    hex_valid(s->revision, STORE_COMMIT_LEN) ? NULL : s->revision;
	p->rs.why = s->why;
	p->rs.flags = STORE_REVISION_KEEP_COMMIT;
	p->rs.feed = feed;
	p->rs.feed_arg = p;
	p->rs.sign = s->sign;
	p->rs.sign_arg = s->sign_arg;
	p->rs.progress = s->progress;
	p->rs.progress_arg = s->progress_arg;
	if (s->exact != NULL) {
		p->rs.manifest = s->exact;
		p->rs.sigs = s->sigs;
		p->rs.nsigs = s->nsigs;
		p->rs.ref = NULL;
		p->rs.flags = 0;
	}
}

/* The upstream's tree, listed and weighed, and what the store holds. */
static int
survey(struct pull *p)
{
	int rc;

	if ((rc = list_tree(p)) != 0)
		return rc;
	p->res->files = p->tree.n;
	if ((rc = find_held(p)) != 0)
		return rc;
	p->stat.files = p->tree.n;
	for (size_t i = 0; i < p->tree.n; i++)
		p->stat.bytes += p->tree.v[i].size;
	p->res->bytes = p->stat.bytes;
	status(p, 0, 0);
	return 0;
}

/* The revision made in the store from the files fed, and the result. */
static int
add_revision(struct pull *p)
{
	struct mirror_pull_result *res = p->res;
	struct store_revision_result rr = { 0 };
	int rc;

	if ((rc = store_revision_add(p->st, &p->rs, &rr)) != 0) {
		if (rr.step != STORE_REVISION_FILES && rc > -32000)
			mirror_fail(rc, "%s@%s: %s", p->spec->repo, p->commit,
			    store_lasterror());
		if (res->failed != NULL) {
			snprintf(res->failed_buf, sizeof(res->failed_buf), "%s",
			    res->failed);
			res->failed = res->failed_buf;
		}
		return rc;
	}
	res->failed = NULL;
	res->manifest = rr.manifest;
	res->unchanged = rr.unchanged;
	res->bytes = rr.bytes;
	res->held = rr.held;
	res->resumed = rr.resumed;
	res->new_chunks = rr.new_chunks;
	res->new_bytes = rr.new_bytes;
	return 0;
}

int
mirror_pull(struct mirror *m, struct store *st,
    const struct mirror_pull_spec *spec, struct mirror_pull_result *res)
{
	struct pull p;
	struct mirror_pull_spec s = *spec;
	int rc, chained;

	memset(res, 0, sizeof(*res));
	memset(&p, 0, sizeof(p));
	s.type = spec->type != NULL ? spec->type : "model";
	s.revision = spec->revision != NULL ? spec->revision : "main";
	p.m = m;
	p.st = st;
	p.spec = &s;
	p.res = res;
	p.tree.wanted = wanted;
	p.tree.wanted_arg = &s;
	p.tree.max_size = spec->max_file;
	if (spec->exact != NULL) {
		s.revision = spec->exact->commit;
		s.type = spec->exact->type;
	}
	if (spec->upstream == NULL || spec->repo == NULL ||
	    !store_repo_valid(spec->repo) || !store_type_valid(s.type) ||
	    !store_revision_valid(s.revision))
		return mirror_fail(MIRROR_EINVAL, "%s: not a repository and "
		    "revision to pull", spec->repo != NULL ? spec->repo : "");
	if ((rc = pull_urls(&p, &s)) != 0)
		return rc;

	/* An airlockd upstream: its manifest and the chunks we lack. */
	if ((rc = chain_pull(m, st, &s, p.base, res, &chained)) != 0 ||
	    chained)
		goto out;
	if ((rc = resolve_commit(&p)) != 0)
		goto out;
	if (spec->exact == NULL && unchanged(&p))
		goto out;
	if ((rc = survey(&p)) != 0)
		goto out;
	revision_spec(&p, &s);
	rc = add_revision(&p);
out:
	upstream_tree_free(&p.tree);
	for (size_t i = 0; i < p.nmeta; i++)
		free((void *)p.meta[i].buf);
	free(p.host);
	json_decref(p.claims);
	return rc;
}
