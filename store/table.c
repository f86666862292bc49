/*
 * table.c - the small tables other parts keep in the store (store.h,
 * "Small tables"), and db_each, the walk every listing of a table uses.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "store/internal.h"

/* Small tables: one transaction per call; values are copied out. */

int
store_kv_get(struct store *st, enum store_table t, const void *key,
    size_t klen, void **val, size_t *vlen)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	*val = NULL;
	*vlen = 0;
	if (st->kv_absent & (1u << t))
		return STORE_ENOTFOUND;
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->kv[t], &k, &v)) == 0) {
		if ((*val = malloc(v.mv_size + 1)) == NULL)
			rc = ENOMEM;
		else {
			memcpy(*val, v.mv_data, v.mv_size);
			((char *)*val)[v.mv_size] = '\0';
			*vlen = v.mv_size;
		}
	} else if (rc == MDB_NOTFOUND)
		rc = STORE_ENOTFOUND;
	txn_abort(txn);
	return rc;
}

static int
kv_write(struct store *st, enum store_table t, const void *key, size_t klen,
    const void *val, size_t vlen, int del)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (klen == 0 || klen > BOUND_TABLE_KEY)
		return store_fail(STORE_EINVAL, "key of %zu bytes", klen);
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	rc = del ? mdb_del(txn, st->kv[t], &k, NULL) :
	    mdb_put(txn, st->kv[t], &k, &v, 0);
	if (rc != 0)
		rc = rc == MDB_NOTFOUND ? STORE_ENOTFOUND :
		    store_mdb_fail(rc, "write");
	return txn_finish(txn, rc);
}

int
store_kv_put(struct store *st, enum store_table t, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	return kv_write(st, t, key, klen, val, vlen, 0);
}

int
store_kv_delete(struct store *st, enum store_table t, const void *key,
    size_t klen)
{
	return kv_write(st, t, key, klen, NULL, 0, 1);
}

int
store_kvtxn_get(struct store_kvtxn *kt, enum store_table t, const void *key,
    size_t klen, const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	*val = NULL;
	*vlen = 0;
	if ((rc = mdb_get(kt->txn, kt->st->kv[t], &k, &v)) == MDB_NOTFOUND)
		return STORE_ENOTFOUND;
	if (rc != 0)
		return store_mdb_fail(rc, "read");
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int
store_kvtxn_put(struct store_kvtxn *kt, enum store_table t, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (klen == 0 || klen > BOUND_TABLE_KEY)
		return store_fail(STORE_EINVAL, "key of %zu bytes", klen);
	if ((rc = mdb_put(kt->txn, kt->st->kv[t], &k, &v, 0)) != 0)
		return store_mdb_fail(rc, "write");
	return 0;
}

int
store_kv_txn(struct store *st, store_kvtxn_fn fn, void *arg)
{
	struct store_kvtxn kt = { st, NULL };
	int rc;

	if ((rc = txn_write(st, &kt.txn)) != 0)
		return rc;
	return txn_finish(kt.txn, fn(arg, &kt));
}

int
txn_each(struct store *st, MDB_txn *txn, MDB_dbi dbi, const void *prefix,
    size_t plen, db_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val k = { plen, (void *)prefix }, d;
	int rc;

	(void)st;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return store_mdb_fail(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, &d, plen != 0 ? MDB_SET_RANGE :
	    MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (plen != 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((rc = fn(arg, &k, &d)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
db_each(struct store *st, MDB_dbi dbi, const void *prefix, size_t plen,
    db_fn fn, void *arg)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	rc = txn_each(st, txn, dbi, prefix, plen, fn, arg);
	txn_abort(txn);
	return rc;
}

int
db_has(struct store *st, MDB_dbi dbi, const void *key, size_t klen)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)key }, d;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, dbi, &k, &d);
	txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		return STORE_ENOTFOUND;
	return rc != 0 ? store_mdb_fail(rc, "read") : 0;
}

static int
kv_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	const struct each *e = arg;

	return e->fn.kv(e->arg, k->mv_data, k->mv_size, d->mv_data, d->mv_size);
}

int
store_kv_each(struct store *st, enum store_table t, store_kv_fn fn, void *arg)
{
	struct each e = { .fn.kv = fn, .arg = arg };

	if (st->kv_absent & (1u << t))
		return 0;
	return db_each(st, st->kv[t], NULL, 0, kv_one, &e);
}
