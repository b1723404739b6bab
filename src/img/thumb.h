/* thumb.h - one thumbnail job: bytes in, sliced decode -> resize -> encode, bytes out. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_THUMB_H
#define KL_THUMB_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "img/geom.h"
#include "img/input.h"
#include "img/resize.h"

/*
 * A job turns one JPEG or PNG into a JPEG or PNG thumbnail shaped by
 * imgproxy's processing options (struct kl_thumb_opts, geom.h), using
 * only the arena it is given: libjpeg, libpng, zlib, the resampler and
 * our buffers all allocate from it, nothing comes from the system.
 *
 * Usage (network order; input may be pushed while stepping):
 *
 *   kl_thumb_init(&t, &arena, &opts, &limits, out, out_cap);
 *   loop: kl_thumb_feed(&t, p, n) as bytes arrive (returns how many it took),
 *         kl_thumb_end(&t) once the input is complete,
 *         rc = kl_thumb_step(&t, 16)  -> KL_AGAIN: call again (feed first
 *              if kl_thumb_starved()), 0: done, < 0: failed;
 *   kl_thumb_output(&t, &ptr, &len); kl_thumb_reset(&t); kl_arena_reset(&arena);
 *
 * Memory: the stream is never held whole. A baseline JPEG or a
 * non-interlaced PNG streams rows through the resampler's row ring; only a
 * progressive (multi-scan) JPEG needs libjpeg's whole-image coefficient
 * buffer, an interlaced PNG its whole decoded image, and an orientation
 * other than "upright or mirrored left-right" the (small) resized image.
 *
 * Sizing: before the header is read a job needs KL_THUMB_ARENA_MIN bytes
 * (input buffer, codec state, an EXIF segment). Once the header is known,
 * kl_thumb_arena_need() is the exact number of arena bytes the whole job
 * is allowed: the job checks it against the arena before any pixel or
 * large buffer is allocated (preflight) and refuses with KL_ETOOBIG when
 * it does not fit; an arena of that size always completes the job.
 *
 * Errors are sticky; kl_thumb_reason() is one line for the user:
 *   KL_EUNSUPP   not a JPEG/PNG, 12-bit JPEG, ...
 *   KL_ECORRUPT  corrupt or truncated data (libjpeg warnings included)
 *   KL_ETOOBIG   over max_src_mp, over the arena (preflight), output over out_cap
 *   KL_ENOMEM    the arena ran out despite the preflight (a bug to report)
 *   KL_EINVAL    options no plan can satisfy
 */

#define KL_THUMB_INBUF (96 * 1024)
#define KL_THUMB_ARENA_MIN (KL_THUMB_INBUF + 192 * 1024)

struct kl_thumb_limits {
	double max_src_mp;      /* source width x height in megapixels; 0 = unlimited */
};

struct kl_jpeg_dec;
struct kl_jpeg_enc;
struct kl_png_dec;
struct kl_png_enc;

struct kl_thumb {
	struct kl_arena *arena;
	struct kl_thumb_opts o;
	struct kl_thumb_limits lim;
	uint8_t *out;
	size_t out_cap, out_len;
	int state, rc, starved;
	char reason[200];
	enum kl_format src_fmt, out_fmt;
	struct kl_input in;
	struct kl_jpeg_dec *jd;
	struct kl_png_dec *pd;
	struct kl_jpeg_enc *je;
	struct kl_png_enc *pe;
	struct kl_resize rs;
	struct kl_geom g;
	uint32_t src_w, src_h, dec_w, dec_h;
	uint32_t nc;            /* decoded channels: 3 or 4 */
	uint32_t cnc;           /* canvas channels */
	uint32_t enc_nc;        /* encoded channels */
	int flatten, buffered, orientation, denom;
	uint8_t bg[4];
	uint32_t dec_y, res_y, emit_y;
	uint8_t *row, *img, *canvas, *flat;
	size_t need;
};

/*
 * Starts a job. a: the job's arena (MUST hold at least
 * KL_THUMB_ARENA_MIN); o and lim are copied; out[0..out_cap) receives the
 * encoded thumbnail. Returns 0 or KL_ENOMEM.
 */
int kl_thumb_init(struct kl_thumb *t, struct kl_arena *a, const struct kl_thumb_opts *o,
		  const struct kl_thumb_limits *lim, uint8_t *out, size_t out_cap);

/* Takes up to n more input bytes; returns how many (0: step first). */
size_t kl_thumb_feed(struct kl_thumb *t, const uint8_t *p, size_t n);

/* No more input will come: running out of data from now on is corruption. */
void kl_thumb_end(struct kl_thumb *t);

/*
 * Advances the job by at most about max_rows decoded rows (PNG: the piece
 * of compressed data that completes the max_rows-th row). Returns KL_AGAIN
 * (not finished), 0 (the output is complete) or a KL_E* code.
 */
int kl_thumb_step(struct kl_thumb *t, uint32_t max_rows);

/* 1 when the last step stopped because it needs more input. */
int kl_thumb_starved(const struct kl_thumb *t);

/* 0 until the header is read, then the arena bytes the job needs (see above). */
size_t kl_thumb_arena_need(const struct kl_thumb *t);

const char *kl_thumb_reason(const struct kl_thumb *t);

/* After step returned 0: the encoded bytes (inside out) and their length. */
int kl_thumb_output(const struct kl_thumb *t, const uint8_t **p, size_t *len);
uint32_t kl_thumb_width(const struct kl_thumb *t);
uint32_t kl_thumb_height(const struct kl_thumb *t);
const char *kl_thumb_mime(const struct kl_thumb *t);   /* "image/jpeg" | "image/png" */

/* Releases the codec objects; the caller then resets the arena. Idempotent. */
void kl_thumb_reset(struct kl_thumb *t);

#endif
