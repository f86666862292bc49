/*
 * hash.c - SHA-256 and SHA-1 through libcrypto's EVP interface, which uses
 * the CPU's SHA extensions where they exist.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "store/internal.h"

struct hash {
	EVP_MD_CTX	*ctx;
	const EVP_MD	*md;
};

static EVP_MD *md_sha256, *md_sha1;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

/* Fetching once saves OpenSSL 3 an implicit fetch (a lock and a lookup)
 * on every init, which matters with a hash per chunk. */
static void
md_fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static struct hash *
hash_new(int sha1)
{
	struct hash *h;

	pthread_once(&md_once, md_fetch);
	if ((h = malloc(sizeof(*h))) == NULL)
		return NULL;
	h->md = sha1 ? md_sha1 : md_sha256;
	if (h->md == NULL || (h->ctx = EVP_MD_CTX_new()) == NULL) {
		free(h);
		return NULL;
	}
	hash_reset(h);
	return h;
}

struct hash *
hash_new_sha256(void)
{
	return hash_new(0);
}

struct hash *
hash_new_sha1(void)
{
	return hash_new(1);
}

void
hash_reset(struct hash *h)
{
	/* Cannot fail for a fetched digest with no engine. */
	(void)EVP_DigestInit_ex2(h->ctx, h->md, NULL);
}

void
hash_update(struct hash *h, const void *p, size_t n)
{
	(void)EVP_DigestUpdate(h->ctx, p, n);
}

void
hash_final(struct hash *h, uint8_t *out)
{
	(void)EVP_DigestFinal_ex(h->ctx, out, NULL);
	hash_reset(h);
}

void
hash_free(struct hash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

/* git hashes a blob as "blob <size>\0" followed by its bytes. */
void
git_blob_header(struct hash *h, uint64_t size)
{
	char hdr[32];
	int n;

	n = snprintf(hdr, sizeof(hdr), "blob %llu", (unsigned long long)size);
	hash_update(h, hdr, (size_t)n + 1);
}

void
store_sha256(const void *p, size_t n, uint8_t out[STORE_HASH_LEN])
{
	pthread_once(&md_once, md_fetch);
	(void)EVP_Digest(p, n, out, NULL, md_sha256, NULL);
}
