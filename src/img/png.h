/* png.h - libpng inside a job arena: progressive decoder, buffer encoder. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_PNG_H
#define KL_PNG_H

#include <stddef.h>
#include <stdint.h>

#include <png.h>

#include "base/arena.h"
#include "img/input.h"

/*
 * libpng and the zlib under it allocate only through the arena
 * (png_create_*_struct_2 with our malloc/free; zlib gets libpng's
 * png_zalloc). Each call below holds its own setjmp.
 *
 * The decoder is libpng's progressive reader, fed by a small chunk framer
 * of our own: the signature and every chunk libpng needs whole (IHDR,
 * PLTE, tRNS, eXIf, IEND, unknown critical chunks) are passed in one
 * piece once they are all in the input buffer, IDAT data in pieces of at
 * most KL_PNG_PIECE bytes (so that one call inflates a bounded number of
 * rows), and every other ancillary chunk is dropped unread: metadata is
 * stripped anyway, and libpng never has to buffer a partial chunk.
 */

#define KL_PNG_PIECE 512

/* Called once the header is known (width, height, nc, interlaced,
 * orientation set). Returns 0 to go on or a KL_E* code to stop. */
typedef int kl_png_info_fn(void *ud);
/* Called with each row, in order, of a non-interlaced image (width x nc bytes). */
typedef int kl_png_row_fn(void *ud, const uint8_t *row);

struct kl_png_dec {
	struct kl_arena *arena;
	png_structp png;
	png_infop info;
	struct kl_input *in;
	kl_png_info_fn *on_info;
	kl_png_row_fn *on_row;
	void *ud;
	int rc, oom;
	char msg[160];
	int fstate;
	uint32_t left;                  /* IDAT bytes still to pass */
	uint32_t width, height, nc;     /* nc: 3 RGB or 4 RGBA after our transforms */
	int interlaced, orientation;
	int done;                       /* IEND seen */
	uint8_t *image;                 /* interlaced only: the whole image */
	uint32_t rows;                  /* rows delivered during the current run */
};

/* Returns 0 or KL_ENOMEM. */
int kl_png_dec_init(struct kl_png_dec *d, struct kl_arena *a, struct kl_input *in,
		    kl_png_info_fn *on_info, kl_png_row_fn *on_row, void *ud);

/*
 * After the header: an upper bound of what libpng and zlib allocate from
 * here on, whole-image buffer of an interlaced image included.
 */
size_t kl_png_dec_need(const struct kl_png_dec *d);

/*
 * Consumes pending input. Returns KL_AGAIN when it needs more, 1 when it
 * stopped after delivering max_rows rows (call again), 0 when IEND was
 * read (an interlaced image is then complete in d->image), or KL_E*:
 * KL_ECORRUPT for bad data or input that ends early.
 */
int kl_png_dec_run(struct kl_png_dec *d, uint32_t max_rows);

const char *kl_png_dec_reason(const struct kl_png_dec *d);
void kl_png_dec_reset(struct kl_png_dec *d);

struct kl_png_enc {
	struct kl_arena *arena;
	png_structp png;
	png_infop info;
	uint8_t *out;
	size_t cap, len;
	int rc, oom;
	char msg[160];
};

size_t kl_png_enc_need(uint32_t w, uint32_t nc);

/*
 * Starts an 8-bit RGB (nc 3) or RGBA (nc 4) PNG, zlib level 0..9,
 * adaptive filters, no ancillary chunks, written to out[0..cap): when it
 * does not fit, KL_ETOOBIG. Returns 0 or KL_E*.
 */
int kl_png_enc_init(struct kl_png_enc *e, struct kl_arena *a, uint32_t w, uint32_t h,
		    uint32_t nc, int level, uint8_t *out, size_t cap);
int kl_png_enc_row(struct kl_png_enc *e, const uint8_t *row);
int kl_png_enc_finish(struct kl_png_enc *e, size_t *len);
const char *kl_png_enc_reason(const struct kl_png_enc *e);
void kl_png_enc_reset(struct kl_png_enc *e);

#endif
