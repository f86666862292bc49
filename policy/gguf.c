/*
 * gguf.c - the general.* metadata of a GGUF file's header, read within
 * bounds from its first bytes (policy.h, "GGUF metadata").
 *
 * The header (ggml's docs/gguf.md): "GGUF", a u32 version, a u64 tensor
 * count, a u64 count of key-value pairs, then each pair: a string key (u64
 * length, bytes), a u32 value type and the value.  Every number is little
 * endian.  Arrays hold a u32 item type, a u64 count and the items.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "policy/internal.h"

enum gguf_type {
	GGUF_U8, GGUF_I8, GGUF_U16, GGUF_I16, GGUF_U32, GGUF_I32, GGUF_F32,
	GGUF_BOOL, GGUF_STRING, GGUF_ARRAY, GGUF_U64, GGUF_I64, GGUF_F64,
	GGUF_NTYPES
};

/* Bytes of a value of each fixed-size type (0: not fixed). */
static const size_t type_size[GGUF_NTYPES] = {
	[GGUF_U8] = 1, [GGUF_I8] = 1, [GGUF_U16] = 2, [GGUF_I16] = 2,
	[GGUF_U32] = 4, [GGUF_I32] = 4, [GGUF_F32] = 4, [GGUF_BOOL] = 1,
	[GGUF_U64] = 8, [GGUF_I64] = 8, [GGUF_F64] = 8,
};

struct reader {
	const uint8_t	*p;
	size_t		 len, off;
	int		 truncated;	/* the buffer ended inside the header */
	const char	*err;
};

static uint64_t
le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i > 0; i--)
		v = (v << 8) | p[i - 1];
	return v;
}

/* Takes n bytes; 0 (with truncated set) when the buffer ends first. */
static const uint8_t *
take(struct reader *r, uint64_t n)
{
	const uint8_t *at;

	if (n > r->len - r->off) {
		r->truncated = 1;
		return NULL;
	}
	at = r->p + r->off;
	r->off += (size_t)n;
	return at;
}

static int
number(struct reader *r, size_t n, uint64_t *v)
{
	const uint8_t *b = take(r, n);

	if (b == NULL)
		return -1;
	*v = le(b, n);
	return 0;
}

/* A string: its bytes in *s (not NUL-terminated) and length in *n. */
static int
string(struct reader *r, const uint8_t **s, uint64_t *n)
{
	if (number(r, 8, n) == -1)
		return -1;
	if (*n > BOUND_GGUF_STRING) {
		r->err = "a string longer than BOUND_GGUF_STRING";
		return -1;
	}
	return (*s = take(r, *n)) == NULL ? -1 : 0;
}

/* Skips one value of type t, arrays within arrays to BOUND_GGUF_DEPTH. */
static int
skip(struct reader *r, uint64_t t, int depth)
{
	uint64_t count, itype, n;
	const uint8_t *s;

	if (t >= GGUF_NTYPES) {
		r->err = "an unknown value type";
		return -1;
	}
	if (type_size[t] != 0)
		return take(r, type_size[t]) == NULL ? -1 : 0;
	if (t == GGUF_STRING)
		return string(r, &s, &n);
	if (depth >= BOUND_GGUF_DEPTH) {
		r->err = "arrays nested too deeply";
		return -1;
	}
	if (number(r, 4, &itype) == -1 || number(r, 8, &count) == -1)
		return -1;
	if (itype >= GGUF_NTYPES) {
		r->err = "an array of an unknown type";
		return -1;
	}
	if (type_size[itype] != 0) {
		/* Fixed-size items: one bounds check, no loop. */
		if (count > (r->len - r->off) / type_size[itype]) {
			r->truncated = 1;
			return -1;
		}
		r->off += (size_t)(count * type_size[itype]);
		return 0;
	}
	for (uint64_t i = 0; i < count; i++)
		if (skip(r, itype, depth + 1) == -1)
			return -1;
	return 0;
}

/* A scalar value as JSON, or NULL with the reader advanced past it. */
static json_t *
value(struct reader *r, uint64_t t)
{
	const uint8_t *s;
	uint64_t v, n;
	json_t *v0;

	switch (t) {
	case GGUF_STRING:
		if (string(r, &s, &n) == -1)
			return NULL;
		/* A NUL or bytes that are not UTF-8 are kept out of JSON:
		 * the value is dropped, the header read on. */
		if (memchr(s, 0, n) != NULL ||
		    (v0 = json_stringn((const char *)s, n)) == NULL)
			return json_null();
		return v0;
	case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64:
		if (number(r, type_size[t], &v) == -1)
			return NULL;
		return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
	case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64: {
		size_t bits = type_size[t] * 8;

		if (number(r, type_size[t], &v) == -1)
			return NULL;
		if (bits < 64 && (v >> (bits - 1)) & 1)
			v |= ~0ULL << bits;	/* sign-extend */
		return json_integer((json_int_t)v);
	}
	case GGUF_BOOL:
		if (number(r, 1, &v) == -1)
			return NULL;
		return json_boolean(v != 0);
	default:
		return skip(r, t, 0) == -1 ? NULL : json_null();
	}
}

static int
pair(struct reader *r, json_t *out)
{
	const uint8_t *key;
	uint64_t klen, t;
	json_t *v;

	if (string(r, &key, &klen) == -1 || number(r, 4, &t) == -1)
		return -1;
	if (t >= GGUF_NTYPES) {
		r->err = "an unknown value type";
		return -1;
	}
	if (klen < 8 || memcmp(key, "general.", 8) != 0 ||
	    memchr(key, 0, klen) != NULL || t == GGUF_ARRAY ||
	    t == GGUF_F32 || t == GGUF_F64)
		return skip(r, t, 0);
	if ((v = value(r, t)) == NULL)
		return -1;
	/* A key that is not UTF-8 is dropped, as is a value that is not. */
	if (!json_is_null(v))
		json_object_setn_new(out, (const char *)key, klen, v);
	else
		json_decref(v);
	return 0;
}

int
policy_gguf_read(const void *buf, size_t len, json_t **out)
{
	struct reader r = { .p = buf, .len = len };
	uint64_t version, tensors, count;
	json_t *meta;

	*out = NULL;
	if (len < 24 || memcmp(buf, "GGUF", 4) != 0)
		return policy_fail(POLICY_EINVAL, "GGUF: no GGUF magic and "
		    "header");
	r.off = 4;
	number(&r, 4, &version);
	number(&r, 8, &tensors);
	number(&r, 8, &count);
	if (version != 2 && version != 3)
		return policy_fail(POLICY_EINVAL, "GGUF: version %llu (2 and "
		    "3 are read)", (unsigned long long)version);
	if (count > BOUND_GGUF_KEYS)
		return policy_fail(POLICY_EINVAL, "GGUF: %llu metadata pairs "
		    "(at most %d)", (unsigned long long)count, BOUND_GGUF_KEYS);
	if ((meta = json_object()) == NULL)
		return ENOMEM;
	for (uint64_t i = 0; i < count; i++) {
		size_t at = r.off;

		if (pair(&r, meta) == -1) {
			if (r.truncated && r.err == NULL)
				break;
			json_decref(meta);
			return policy_fail(POLICY_EINVAL, "GGUF: metadata pair "
			    "%llu (offset %zu): %s", (unsigned long long)i, at,
			    r.err != NULL ? r.err : "cut short");
		}
	}
	if (r.truncated)
		json_object_set_new(meta, "truncated", json_true());
	*out = meta;
	return 0;
}
