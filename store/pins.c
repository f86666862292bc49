/*
 * pins.c - pins: names that keep a revision through gc (store.h, "Pins").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "store/internal.h"

static int
pin_name_valid(const char *name)
{
	size_t len;

	if (name == NULL || (len = strlen(name)) == 0 || len > BOUND_PIN_NAME)
		return 0;
	for (; *name != '\0'; name++)
		if ((unsigned char)*name < ' ' || *name == 0x7f)
			return 0;
	return 1;
}

int
store_pin_put(struct store *st, const char *name,
    const uint8_t digest[STORE_HASH_LEN], const char *target, const char *note)
{
	char hex[STORE_DIGEST_STRLEN + 1], *text;
	MDB_txn *txn;
	MDB_val k, d;
	json_t *v;
	int rc;

	if (!pin_name_valid(name))
		return store_fail(STORE_EINVAL, "pin name: empty, too long or "
		    "with control characters");
	if (note != NULL && strlen(note) > BOUND_NOTE)
		return store_fail(STORE_EINVAL, "pin note: longer than %d bytes",
		    BOUND_NOTE);
	store_digest_str(digest, hex);
	v = json_pack("{s:s,s:s*,s:s*,s:I}", "digest", hex, "target", target,
	    "note", note, "time", (json_int_t)time(NULL));
	if (v == NULL || (text = json_dumps(v, JSON_COMPACT |
	    JSON_SORT_KEYS)) == NULL) {
		json_decref(v);
		return ENOMEM;
	}
	json_decref(v);
	if ((rc = txn_write(st, &txn)) != 0) {
		free(text);
		return rc;
	}
	k.mv_size = strlen(name);
	k.mv_data = (void *)name;
	d.mv_size = strlen(text);
	d.mv_data = text;
	/* The pinned revision must exist: a pin of nothing protects nothing. */
	if ((rc = manifest_present(st, txn, digest)) == 0 &&
	    (rc = mdb_put(txn, st->pin, &k, &d, 0)) != 0)
		rc = store_mdb_fail(rc, "pin");
	free(text);
	return txn_finish(txn, rc);
}

int
store_pin_delete(struct store *st, const char *name)
{
	MDB_txn *txn;
	MDB_val k = { strlen(name), (void *)name };
	int rc;

	if (k.mv_size == 0)
		return store_fail(STORE_EINVAL, "empty pin name");
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_del(txn, st->pin, &k, NULL)) != 0)
		rc = rc == MDB_NOTFOUND ? store_fail(STORE_ENOTFOUND, "%s: no "
		    "such pin", name) : store_mdb_fail(rc, "pin");
	return txn_finish(txn, rc);
}

/* A stored pin read back: 0, or STORE_ECORRUPT for one that is not. */
static int
pin_decode(const MDB_val *k, const MDB_val *d, char *name, size_t size,
    struct store_pin *p, json_t **root)
{
	const char *digest;

	if (k->mv_size >= size)
		return STORE_ECORRUPT;
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = '\0';
	if ((*root = json_loadb(d->mv_data, d->mv_size, 0, NULL)) == NULL)
		return STORE_ECORRUPT;
	memset(p, 0, sizeof(*p));
	p->name = name;
	if (json_unpack(*root, "{s:s,s?s,s?s,s?I}", "digest", &digest,
	    "target", &p->target, "note", &p->note, "time", &p->time) != 0 ||
	    store_digest_parse(digest, p->digest) != 0) {
		json_decref(*root);
		return STORE_ECORRUPT;
	}
	return 0;
}

static int
pin_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	const struct each *e = arg;
	char name[BOUND_PIN_NAME + 1];
	struct store_pin p;
	json_t *root;
	int rc;

	if (pin_decode(k, d, name, sizeof(name), &p, &root) != 0)
		return 0;
	rc = e->fn.pin(e->arg, &p);
	json_decref(root);
	return rc;
}

int
store_pins(struct store *st, store_pin_fn fn, void *arg)
{
	struct each e = { .fn.pin = fn, .arg = arg };

	return db_each(st, st->pin, NULL, 0, pin_one, &e);
}

int
store_pin_get(struct store *st, const char *name, uint8_t digest[STORE_HASH_LEN])
{
	char buf[BOUND_PIN_NAME + 1];
	struct store_pin p;
	MDB_txn *txn;
	MDB_val k = { strlen(name), (void *)name }, d;
	json_t *root;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->pin, &k, &d);
	if (rc == 0) {
		if (pin_decode(&k, &d, buf, sizeof(buf), &p, &root) != 0)
			rc = store_fail(STORE_ECORRUPT, "%s: bad pin", name);
		else {
			memcpy(digest, p.digest, STORE_HASH_LEN);
			json_decref(root);
		}
	} else if (rc == MDB_NOTFOUND)
		rc = store_fail(STORE_ENOTFOUND, "%s: no such pin", name);
	txn_abort(txn);
	return rc;
}
