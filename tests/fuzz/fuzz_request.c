/*
 * airlockd's request parser: the path router, the query and form parser
 * and the Range header.  The input is up to three lines: a request target
 * (path and query), a Range header value and a form body.  Whatever
 * parses must satisfy the validators, and a range must lie inside the
 * representation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/route.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
count_pair(void *arg, const char *name, const char *value)
{
	size_t *n = arg;

	if (name == NULL || value == NULL)
		abort();
	(*n)++;
	return 0;
}

static void
check_range(const char *hdr, uint64_t size)
{
	uint64_t first = 0, last = 0;

	switch (range_parse(hdr, size, &first, &last)) {
	case RANGE_OK:
		if (first > last || last >= size)
			abort();
		break;
	case RANGE_NONE:
	case RANGE_UNSAT:
	case RANGE_INVALID:
		break;
	default:
		abort();
	}
}

/* A listing's or a history's query: what parses is within bounds, and
 * a cursor read back is the one written. */
static void
check_listing(const struct query *q)
{
	struct list_query lq;
	const char *why = NULL;
	char cursor[BOUND_REPO_ID + 32];
	size_t page, limit;

	if (list_query_parse(q, &lq, &why) != 0) {
		if (why == NULL)
			abort();
	} else {
		if (lq.limit == 0 || lq.limit > BOUND_LIST_PAGE ||
		    lq.nfilter > BOUND_LIST_FILTERS ||
		    (lq.has_cursor && !store_repo_valid(lq.cursor_id)))
			abort();
		if (lq.has_cursor) {
			struct query cq;
			struct list_query back;

			if (list_cursor(lq.cursor_value, lq.cursor_id, cursor,
			    sizeof(cursor)) != 0)
				abort();
			cq.n = 1;
			cq.name[0] = (char *)"cursor";
			cq.value[0] = cursor;
			if (list_query_parse(&cq, &back, &why) != 0 ||
			    back.cursor_value != lq.cursor_value ||
			    strcmp(back.cursor_id, lq.cursor_id) != 0)
				abort();
		}
	}
	why = NULL;
	if (page_parse(q, 50, BOUND_COMMITS_PAGE, &page, &limit, &why) != 0) {
		if (why == NULL)
			abort();
	} else if (limit == 0 || limit > BOUND_COMMITS_PAGE)
		abort();
}

static void
check_route(const char *target, size_t len)
{
	static struct route r;
	static struct query q;
	const char *why, *path, *query;
	size_t plen, qlen;
	int rc;

	if (route_target(target, &path, &plen, &query, &qlen) != 0)
		return;
	if (plen > len || (query != NULL && qlen > len))
		abort();
	rc = route_parse(path, plen, &r, &why);
	if (rc != 0) {
		if (why == NULL || r.kind != ROUTE_UNKNOWN ||
		    (rc != 400 && rc != 404 && rc != 414))
			abort();
	} else {
		if (r.kind == ROUTE_UNKNOWN || r.kind >= ROUTE_NKINDS ||
		    route_methods(r.kind) == 0)
			abort();
		if (r.repo[0] != '\0' && !store_repo_valid(r.repo))
			abort();
		if (r.has_rev && !route_revision_valid(r.rev))
			abort();
		if (r.path[0] != '\0' && !store_path_valid(r.path))
			abort();
		if ((r.kind == ROUTE_RESOLVE || r.kind == ROUTE_RAW) &&
		    (r.path[0] == '\0' || !r.has_rev || r.type == NULL))
			abort();
		/* A mirror job's id is a number from 1; the list has none. */
		if ((r.kind == ROUTE_V1_MIRROR_JOB) != (r.job != 0))
			abort();
	}
	if (query != NULL && query_parse(query, qlen, &q) == 0) {
		if (q.n > BOUND_QUERY_PARAMS)
			abort();
		(void)query_get(&q, "recursive");
		(void)query_bool(&q, "expand", 0);
		check_listing(&q);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *line[3] = { NULL, NULL, NULL };
	size_t lens[3] = { 0, 0, 0 }, n = 0, start = 0, i, pairs = 0;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (i = 0; i <= size && n < 3; i++) {
		if (i < size && buf[i] != '\n' && n < 2)
			continue;
		if (n == 2)
			i = size;	/* the body keeps its newlines */
		line[n] = buf + start;
		lens[n] = i - start;
		buf[i] = '\0';
		n++;
		start = i + 1;
	}
	if (line[0] != NULL)
		check_route(line[0], lens[0]);
	if (line[1] != NULL) {
		static const uint64_t sizes[] = { 0, 1, 2, 100, 4096,
		    UINT64_MAX / 2, UINT64_MAX };

		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			check_range(line[1], sizes[i]);
	}
	if (line[2] != NULL)
		(void)route_pairs(line[2], lens[2], count_pair, &pairs);
	free(buf);
	return 0;
}
