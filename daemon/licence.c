/*
 * licence.c - the conclusion of a revision for the Hub API's repo info
 * (policy/ over the store): the "airlock" object, cached by manifest
 * digest so that a repo info request does not walk the lineage again.
 *
 * A manifest's files never change, but its bases may come later (a pull
 * brings one): the cache is dropped whole every LICENCE_TTL seconds, and
 * bounded at LICENCE_CACHE entries, the oldest replaced.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "daemon/airlockd.h"
#include "policy/policy.h"

#define LICENCE_CACHE	256
#define LICENCE_TTL	60

struct cached {
	uint8_t		 digest[STORE_HASH_LEN];
	json_t		*info;
	time_t		 when;
};

static pthread_mutex_t	 mtx = PTHREAD_MUTEX_INITIALIZER;
static struct policy_table *table;
static int		 table_tried;
static struct cached	 cache[LICENCE_CACHE];
static size_t		 next;

static json_t *
cache_get(const uint8_t *digest, time_t now)
{
	json_t *info = NULL;

	for (size_t i = 0; i < LICENCE_CACHE; i++)
		if (cache[i].info != NULL && now - cache[i].when < LICENCE_TTL &&
		    memcmp(cache[i].digest, digest, STORE_HASH_LEN) == 0) {
			info = json_deep_copy(cache[i].info);
			break;
		}
	return info;
}

static void
cache_put(const uint8_t *digest, json_t *info, time_t now)
{
	struct cached *c = &cache[next++ % LICENCE_CACHE];

	json_decref(c->info);
	memcpy(c->digest, digest, STORE_HASH_LEN);
	c->info = json_deep_copy(info);
	c->when = now;
}

/* o's k (a new reference), else null. */
static json_t *
field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return v != NULL ? json_incref(v) : json_null();
}

/* The parts a client looks at: declared, concluded, flags, reviews. */
static json_t *
info_of(json_t *c)
{
	json_t *flags = json_array(), *f;
	size_t i;

	json_array_foreach(json_object_get(c, "flags"), i, f)
		json_array_append(flags, json_object_get(f, "flag"));
	return json_pack("{s:o,s:o,s:o,s:[],s:o,s:o}", "declared",
	    field(c, "declared"), "concluded", field(c, "concluded"),
	    "flags", flags, "reviews", "unknown_beyond",
	    field(c, "unknown_beyond"), "datasets", field(c, "datasets"));
}

json_t *
licence_info(struct store *st, const struct store_manifest *m)
{
	json_t *info, *c = NULL;
	time_t now = time(NULL);

	pthread_mutex_lock(&mtx);
	if (!table_tried) {
		table_tried = 1;
		if (policy_table_load(NULL, &table) != 0)
			table = NULL;
	}
	if ((info = cache_get(m->digest, now)) != NULL || table == NULL) {
		pthread_mutex_unlock(&mtx);
		return info;
	}
	pthread_mutex_unlock(&mtx);
	if (policy_store_conclude(st, table, m, NULL, NULL, &c) != 0)
		return NULL;
	info = info_of(c);
	json_decref(c);
	if (info == NULL)
		return NULL;
	pthread_mutex_lock(&mtx);
	cache_put(m->digest, info, now);
	pthread_mutex_unlock(&mtx);
	return info;
}

/* Predicate: the declared licence is not the one that governs. */
int
licence_conflict(json_t *info)
{
	const char *d = json_string_value(json_object_get(info, "declared"));
	const char *c = json_string_value(json_object_get(info, "concluded"));
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(info, "flags"), i, f)
		if (strcmp(json_string_value(f), POLICY_FLAG_DIFFERS) == 0)
			return 1;
	return d != NULL && c != NULL && strcmp(d, c) != 0;
}
