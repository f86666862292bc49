/*
 * sigs.c - signatures kept for a manifest, by key id (store.h,
 * "Signatures").  The store keeps their bytes; keys/ judges them.
 */
#include "config.h"

#include <string.h>

#include "lib/bounds.h"
#include "store/internal.h"

int
sig_write(struct store *st, MDB_txn *txn, const uint8_t digest[STORE_HASH_LEN],
    const uint8_t keyid[8], const char *text, size_t len)
{
	uint8_t key[STORE_HASH_LEN + 8];
	MDB_val k = { sizeof(key), key }, d = { len, (void *)text };
	int rc;

	if (len == 0 || len > BOUND_SIGFILE)
		return store_fail(STORE_EINVAL, "signature of %zu bytes", len);
	memcpy(key, digest, STORE_HASH_LEN);
	memcpy(key + STORE_HASH_LEN, keyid, 8);
	/* The same signature again writes nothing: re-imports are no-ops. */
	{
		MDB_val old;

		if (mdb_get(txn, st->sig, &k, &old) == 0 && old.mv_size == len &&
		    memcmp(old.mv_data, text, len) == 0)
			return 0;
	}
	if ((rc = mdb_put(txn, st->sig, &k, &d, 0)) != 0)
		return store_mdb_fail(rc, "signature");
	return 0;
}

int
store_sig_put(struct store *st, const uint8_t digest[STORE_HASH_LEN],
    const uint8_t keyid[8], const char *text, size_t len)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	if ((rc = manifest_present(st, txn, digest)) == 0)
		rc = sig_write(st, txn, digest, keyid, text, len);
	return txn_finish(txn, rc);
}

static int
sig_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	const struct each *e = arg;

	if (k->mv_size != STORE_HASH_LEN + 8)
		return 0;
	return e->fn.sig(e->arg, (const uint8_t *)k->mv_data + STORE_HASH_LEN,
	    d->mv_data, d->mv_size);
}

int
store_sigs(struct store *st, const uint8_t digest[STORE_HASH_LEN],
    store_sig_fn fn, void *arg)
{
	struct each e = { .fn.sig = fn, .arg = arg };

	return db_each(st, st->sig, digest, STORE_HASH_LEN, sig_one, &e);
}
