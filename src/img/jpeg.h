/* jpeg.h - libjpeg-turbo inside a job arena: suspending decoder, buffer encoder. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_JPEG_H
#define KL_JPEG_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>

#include "base/arena.h"
#include "img/input.h"

/*
 * Every byte libjpeg allocates comes from the arena of the object it
 * works for: this module defines libjpeg's system-dependent memory layer
 * (jpeg_get_small, jpeg_get_large, ... the jmemsys.h functions), which
 * jmemmgr.c calls. That works with the static library (libjpeg.a's
 * jmemnobs.o is then never linked) and with the shared one (Debian's
 * libjpeg.so.62 exports them and calls them through the PLT, so the
 * executable's definitions win). An object whose client_data does not
 * lead to an arena gets no memory at all (JERR_OUT_OF_MEMORY), never a
 * malloc().
 *
 * Errors: every libjpeg error and every warning (corrupt data, premature
 * end of data, ...) ends the object with a sticky KL_E* code and a one-line
 * reason. Each call below holds its own setjmp; none longjmps out.
 */

struct kl_jpeg_err {
	struct jpeg_error_mgr pub;      /* MUST stay first */
	jmp_buf jb;
	int rc;
	char msg[JMSG_LENGTH_MAX + 64];
};

/* Decoder: header, then prepare (scale, colour), start, rows, finish. */
struct kl_jpeg_dec {
	struct kl_arena *arena;         /* MUST stay first: the memory hooks read it */
	struct jpeg_decompress_struct ci;
	struct kl_jpeg_err err;
	struct jpeg_source_mgr src;
	struct kl_input *in;
	int created;
	uint32_t width, height;         /* after the header */
	int orientation;                /* EXIF, 1..8 */
	int multiscan;                  /* progressive (or multi-scan): whole-image buffer */
	int cmyk, inverted;             /* 4-channel source, Adobe inverted */
	uint32_t out_w, out_h;          /* after prepare */
	uint8_t *cmyk_row;
	int capped;                     /* a slice window hides the rest of the input */
};

/* Returns 0 or KL_ENOMEM. Reads from `in`, allocates from `a`. */
int kl_jpeg_dec_init(struct kl_jpeg_dec *d, struct kl_arena *a, struct kl_input *in);

/* Reads up to the first scan. Returns 0, KL_AGAIN (more input) or KL_E*. */
int kl_jpeg_dec_header(struct kl_jpeg_dec *d);

/* Bytes of the whole-image coefficient buffer a multi-scan image needs. */
size_t kl_jpeg_dec_coef_bytes(const struct kl_jpeg_dec *d);

/*
 * Sets the DCT scale 1/denom (1, 2, 4 or 8) and RGB output; fills out_w,
 * out_h and returns an upper bound of the bytes libjpeg will allocate
 * from here to the end of the decode (whole-image buffer included).
 */
size_t kl_jpeg_dec_prepare(struct kl_jpeg_dec *d, int denom);

/*
 * Returns 0 (rows can be read), 1 (a multi-scan image absorbed one slice
 * of its input: call again, no input is needed), KL_AGAIN (more input) or
 * KL_E*. Allocates the decoder's buffers.
 */
int kl_jpeg_dec_start(struct kl_jpeg_dec *d);

/* Decodes the next row as RGB (out_w x 3 bytes). Returns 1, KL_AGAIN or KL_E*. */
int kl_jpeg_dec_row(struct kl_jpeg_dec *d, uint8_t *rgb);

/* Reads to EOI. Returns 0, KL_AGAIN or KL_E*. */
int kl_jpeg_dec_finish(struct kl_jpeg_dec *d);

const char *kl_jpeg_dec_reason(const struct kl_jpeg_dec *d);

/* Releases the libjpeg object (its memory goes back with the arena). */
void kl_jpeg_dec_reset(struct kl_jpeg_dec *d);

/* Encoder into a fixed buffer. */
struct kl_jpeg_enc {
	struct kl_arena *arena;         /* MUST stay first */
	struct jpeg_compress_struct ci;
	struct kl_jpeg_err err;
	struct jpeg_destination_mgr dst;
	uint8_t *out;
	size_t cap, len;
	int created;
};

/* Upper bound of the arena bytes an encode of w x h will take. */
size_t kl_jpeg_enc_need(uint32_t w, uint32_t h);

/*
 * Starts a baseline (or progressive) JPEG of w x h RGB at quality 1..100,
 * chroma 4:2:0 below 90, 4:4:4 from 90; optimised Huffman tables; no
 * metadata. Output goes to out[0..cap): when it does not fit the encode
 * fails with KL_ETOOBIG. Returns 0 or KL_E*.
 */
int kl_jpeg_enc_init(struct kl_jpeg_enc *e, struct kl_arena *a, uint32_t w, uint32_t h,
		     int quality, int progressive, uint8_t *out, size_t cap);

/* Returns 0 or KL_E*. rgb: w x 3 bytes. */
int kl_jpeg_enc_row(struct kl_jpeg_enc *e, const uint8_t *rgb);

/* Returns 0 and the encoded length, or KL_E*. */
int kl_jpeg_enc_finish(struct kl_jpeg_enc *e, size_t *len);

const char *kl_jpeg_enc_reason(const struct kl_jpeg_enc *e);
void kl_jpeg_enc_reset(struct kl_jpeg_enc *e);

#endif
