/* fuzz_imgurl.c - fuzz target for the imgproxy URL parser and signer. */
/* SPDX-License-Identifier: MIT */
#include "base/kl.h"
#include "proto/imgurl.h"

#include <stdlib.h>
#include <string.h>

/*
 * The last input byte picks the configuration (key or not, signature
 * size, presets, scratch size); the rest is the request path. Besides
 * "no crash, no over-read", it checks the contract: results stay inside
 * the scratch buffer, errors come with a printable reason, and a path
 * signed by kl_imgurl_sign() always passes the signature check.
 */
static const struct kl_imgurl_preset presets[] = {
	{ "default", "q:70" },
	{ "thumb", "rs:fill:300:300/g:sm/q:80" },
	{ "a", "pr:b/w:1" }, { "b", "pr:a/h:2" },
	{ "bad", "w:x" },
};

static struct kl_imgurl_conf confs[4];
static int ready;

static void setup(void)
{
	kl_imgurl_add_key(&confs[1], "736563726574", 12, "68656c6c6f", 10);
	kl_imgurl_add_key(&confs[2], "746573742d6b6579", 16, "746573742d73616c74", 18);
	kl_imgurl_add_key(&confs[2], "746573742d6b657932", 18, "746573742d73616c7432", 20);
	confs[2].sig_size = 8;
	confs[3].presets = presets;
	confs[3].npresets = sizeof(presets) / sizeof(presets[0]);
	ready = 1;
}

static void check(int rc, const struct kl_imgurl *u, size_t cap)
{
	if (rc == KL_OK) {
		if (u->why[0] != 0 || u->src_len > cap || (u->src_len && !u->src))
			abort();
	} else {
		if (u->why[0] == 0 || (rc != KL_EINVAL && rc != KL_EDENIED && rc != KL_ETOOBIG))
			abort();
		for (const char *p = u->why; *p; p++)
			if (*p < 0x20 || *p > 0x7e)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char scratch[8192], signed_path[8192 + 64];
	static struct kl_imgurl u;
	const struct kl_imgurl_conf *c;
	size_t cap, n;
	long sn;
	int rc;
	char *path;

	if (!ready)
		setup();
	if (size < 1)
		return 0;
	c = &confs[data[size - 1] & 3];
	cap = (data[size - 1] & 4) ? 16 : sizeof(scratch);
	n = size - 1;
	/* an exact-size copy so that a read past the end is caught */
	path = malloc(n ? n : 1);
	if (!path)
		return 0;
	memcpy(path, data, n);

	rc = kl_imgurl_parse(c, path, n, scratch, cap, &u);
	check(rc, &u, cap);

	sn = kl_imgurl_sign(c, path, n, signed_path, sizeof(signed_path));
	if (sn >= 0) {
		rc = kl_imgurl_parse(c, signed_path, (size_t)sn, scratch, cap, &u);
		check(rc, &u, cap);
		if (rc == KL_EDENIED)
			abort();        /* our own signature refused */
	} else if (sn != KL_EINVAL && sn != KL_ETOOBIG) {
		abort();
	}
	free(path);
	return 0;
}
