/* t_img_job.h - helpers shared by the image unit tests: files, one whole job. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_T_IMG_JOB_H
#define KL_T_IMG_JOB_H

#include <stdio.h>
#include <stdlib.h>

#include "base/arena.h"
#include "base/kl.h"
#include "img/thumb.h"

/* Reads a file (tests run from the repository root); NULL if absent. */
static inline uint8_t *t_slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *p;
	long len;

	*n = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(len > 0 ? (size_t)len : 1);
	*n = fread(p, 1, (size_t)len, f);
	fclose(f);
	return p;
}

struct t_job {
	int rc;
	size_t need, peak, out_len;
	uint32_t w, h;
	char reason[256];
};

/*
 * Runs one job over data in chunks of `chunk` bytes (0 = whole), stepping
 * `rows` rows at a time after each chunk, in an arena of arena_size bytes
 * at mem. The thumbnail lands in out[0..t_job.out_len).
 */
static inline struct t_job t_run(const uint8_t *data, size_t n, size_t chunk, uint8_t *mem, size_t arena_size,
			  const struct kl_thumb_opts *o, uint8_t *out, size_t cap, uint32_t rows)
{
	struct kl_arena a;
	struct kl_thumb t;
	struct kl_thumb_limits lim = {.max_src_mp = 50};
	struct t_job r = {0};
	size_t off = 0;
	int rc;

	kl_arena_init(&a, mem, arena_size);
	rc = kl_thumb_init(&t, &a, o, &lim, out, cap);
	for (;;) {
		if (rc)
			break;
		if (off < n) {
			size_t k = chunk ? KL_MIN(chunk, n - off) : n - off;
			off += kl_thumb_feed(&t, data + off, k);
			if (off == n)
				kl_thumb_end(&t);
		} else if (n == 0) {
			kl_thumb_end(&t);
		}
		rc = kl_thumb_step(&t, rows);
		if (rc == KL_AGAIN)
			rc = 0;
		else
			break;
	}
	r.rc = rc;
	r.need = kl_thumb_arena_need(&t);
	r.w = kl_thumb_width(&t);
	r.h = kl_thumb_height(&t);
	snprintf(r.reason, sizeof(r.reason), "%s", kl_thumb_reason(&t));
	if (rc == 0) {
		const uint8_t *p;
		kl_thumb_output(&t, &p, &r.out_len);
	}
	kl_thumb_reset(&t);
	r.peak = a.peak;
	return r;
}

#endif
