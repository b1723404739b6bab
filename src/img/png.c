/* png.c - libpng glue: arena memory, chunk framer, progressive rows, buffer output. */
/* SPDX-License-Identifier: MIT */
#include "img/png.h"
#include "img/exif.h"
#include "base/kl.h"

#include <string.h>

enum { F_SIG, F_HEAD, F_IDAT, F_CRC };

/* Both structs start with the arena pointer, then png and info. */
struct mem_user {
	struct kl_arena *arena;
};

static png_voidp mem_alloc(png_structp png, png_alloc_size_t n)
{
	struct kl_arena *a = ((struct mem_user *)png_get_mem_ptr(png))->arena;
	return kl_arena_alloc(a, n);
}

static void mem_free(png_structp png, png_voidp p)
{
	struct kl_arena *a = ((struct mem_user *)png_get_mem_ptr(png))->arena;
	kl_arena_free(a, p);
}

static void set_err(int *rc, char *msg, size_t cap, int code, const char *text)
{
	if (*rc)
		return;
	*rc = code;
	snprintf(msg, cap, "%s", text);
}

/* ---- decoder ---- */

static void dec_error(png_structp png, png_const_charp text)
{
	struct kl_png_dec *d = png_get_error_ptr(png);
	char m[160];

	/* the arena's refusal shows up as libpng's "out of memory" */
	if (d->arena->fails)
		set_err(&d->rc, d->msg, sizeof(d->msg), KL_ENOMEM, "arena full while decoding PNG");
	snprintf(m, sizeof(m), "PNG: %s", text);
	set_err(&d->rc, d->msg, sizeof(d->msg), KL_ECORRUPT, m);
	png_longjmp(png, 1);
}

static void dec_warning(png_structp png, png_const_charp text)
{
	(void)png; (void)text;  /* benign: an ignored ancillary chunk and the like */
}

static void on_info(png_structp png, png_infop info)
{
	struct kl_png_dec *d = png_get_progressive_ptr(png);
	int ct = png_get_color_type(png, info);
	png_bytep exif = NULL;
	png_uint_32 nexif = 0;
	int rc;

	d->width = png_get_image_width(png, info);
	d->height = png_get_image_height(png, info);
	d->interlaced = png_get_interlace_type(png, info) != PNG_INTERLACE_NONE;
	d->nc = (ct & PNG_COLOR_MASK_ALPHA) || png_get_valid(png, info, PNG_INFO_tRNS) ? 4 : 3;
	if (png_get_eXIf_1(png, info, &nexif, &exif) && exif)
		d->orientation = kl_exif_orientation(exif, nexif);
	/* everything to 8-bit RGB(A); 16-bit rounded, not truncated; no gamma */
	png_set_expand(png);
	png_set_scale_16(png);
	png_set_gray_to_rgb(png);
	if (d->interlaced)
		png_set_interlace_handling(png);
	png_read_update_info(png, info);
	if (png_get_rowbytes(png, info) != (size_t)d->width * d->nc)
		png_error(png, "unexpected row layout");
	rc = d->on_info(d->ud);
	if (rc < 0) {
		d->rc = rc;
		png_longjmp(png, 1);
	}
	if (d->interlaced) {
		d->image = kl_arena_calloc(d->arena, (size_t)d->width * d->nc, d->height);
		if (!d->image) {
			set_err(&d->rc, d->msg, sizeof(d->msg), KL_ENOMEM, "arena full");
			png_longjmp(png, 1);
		}
	}
}

static void on_row(png_structp png, png_bytep row, png_uint_32 y, int pass)
{
	struct kl_png_dec *d = png_get_progressive_ptr(png);
	int rc;

	(void)pass;
	if (!row)
		return;
	if (d->interlaced) {
		if (y < d->height)
			png_progressive_combine_row(png, d->image + (size_t)y * d->width * d->nc, row);
		return;
	}
	rc = d->on_row(d->ud, row);
	if (rc < 0) {
		d->rc = rc;
		png_longjmp(png, 1);
	}
	d->rows++;
}

static void on_end(png_structp png, png_infop info)
{
	struct kl_png_dec *d = png_get_progressive_ptr(png);

	(void)info;
	d->done = 1;
}

/* see png.h */
int kl_png_dec_init(struct kl_png_dec *d, struct kl_arena *a, struct kl_input *in,
		    kl_png_info_fn *info_fn, kl_png_row_fn *row_fn, void *ud)
{
	memset(d, 0, sizeof(*d));
	d->arena = a;
	d->in = in;
	d->on_info = info_fn;
	d->on_row = row_fn;
	d->ud = ud;
	d->orientation = 1;
	d->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, d, dec_error, dec_warning,
					  d, mem_alloc, mem_free);
	if (!d->png)
		return KL_ENOMEM;
	d->info = png_create_info_struct(d->png);
	if (!d->info)
		return KL_ENOMEM;
	if (setjmp(png_jmpbuf(d->png)))
		return d->rc ? d->rc : KL_ENOMEM;
	/* our own resolution limit is checked in on_info; these bound libpng */
	png_set_user_limits(d->png, 1u << 24, 1u << 24);
	png_set_chunk_cache_max(d->png, 32);
	png_set_chunk_malloc_max(d->png, KL_INPUT_MIN);
	png_set_keep_unknown_chunks(d->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
	png_set_progressive_read_fn(d->png, d, on_info, on_row, on_end);
	return 0;
}

/* see png.h */
size_t kl_png_dec_need(const struct kl_png_dec *d)
{
	/* row buffers at up to 64 bits per pixel before our transforms,
	 * inflate state and its 32 KB window, palette and tRNS tables */
	size_t row = (size_t)d->width * 8 + 64;
	size_t n = 64 * 1024 + 4 * row;

	if (d->interlaced)
		n += kl_arena_cost((size_t)d->width * d->nc * d->height);
	return n;
}

static int need_more(struct kl_png_dec *d)
{
	if (d->in->eof) {
		set_err(&d->rc, d->msg, sizeof(d->msg), KL_ECORRUPT, "premature end of PNG data");
		return d->rc;
	}
	return KL_AGAIN;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Chunks libpng must see: critical ones (upper-case first letter), tRNS and eXIf. */
static int keep_chunk(const uint8_t *type)
{
	if (!(type[0] & 0x20))
		return 1;
	return memcmp(type, "tRNS", 4) == 0 || memcmp(type, "eXIf", 4) == 0;
}

/* Gives libpng n pending bytes. */
static int pass(struct kl_png_dec *d, size_t n)
{
	png_bytep p = d->in->buf + d->in->pos;

	if (setjmp(png_jmpbuf(d->png)))
		return d->rc ? d->rc : KL_ECORRUPT;
	png_process_data(d->png, d->info, p, n);
	d->in->pos += n;
	if (d->in->pos == d->in->len)
		d->in->pos = d->in->len = 0;
	return 0;
}

/* see png.h */
int kl_png_dec_run(struct kl_png_dec *d, uint32_t max_rows)
{
	struct kl_input *in = d->in;
	int rc;

	d->rows = 0;
	for (;;) {
		size_t avail = kl_input_avail(in);
		const uint8_t *p = in->buf + in->pos;

		if (d->rc)
			return d->rc;
		if (d->done)
			return 0;
		if (d->rows >= max_rows)
			return 1;
		switch (d->fstate) {
		case F_SIG:
			if (avail < 8)
				return need_more(d);
			rc = pass(d, 8);
			d->fstate = F_HEAD;
			break;
		case F_HEAD: {
			uint32_t len;

			if (avail < 8)
				return need_more(d);
			len = be32(p);
			if (len > 0x7fffffffu) {
				set_err(&d->rc, d->msg, sizeof(d->msg), KL_ECORRUPT, "PNG: bad chunk length");
				return d->rc;
			}
			if (memcmp(p + 4, "IDAT", 4) == 0) {
				rc = pass(d, 8);
				d->left = len;
				d->fstate = F_IDAT;
			} else if (keep_chunk(p + 4) && len + 12 <= in->cap) {
				if (avail < (size_t)len + 12)
					return need_more(d);
				rc = pass(d, (size_t)len + 12);
			} else if (!(p[4] & 0x20)) {
				set_err(&d->rc, d->msg, sizeof(d->msg), KL_ECORRUPT, "PNG: critical chunk too large");
				return d->rc;
			} else {
				kl_input_skip(in, (size_t)len + 12);
				rc = 0;
			}
			break;
		}
		case F_IDAT:
			if (d->left == 0) {
				d->fstate = F_CRC;
				continue;
			}
			if (avail == 0)
				return need_more(d);
			rc = pass(d, KL_MIN(KL_MIN(avail, (size_t)d->left), (size_t)KL_PNG_PIECE));
			d->left -= (uint32_t)KL_MIN(KL_MIN(avail, (size_t)d->left), (size_t)KL_PNG_PIECE);
			break;
		default:
			if (avail < 4)
				return need_more(d);
			rc = pass(d, 4);
			d->fstate = F_HEAD;
			break;
		}
		if (rc)
			return rc;
	}
}

/* see png.h */
const char *kl_png_dec_reason(const struct kl_png_dec *d)
{
	return d->msg[0] ? d->msg : kl_strerror(d->rc);
}

/* see png.h */
void kl_png_dec_reset(struct kl_png_dec *d)
{
	if (d->png)
		png_destroy_read_struct(&d->png, d->info ? &d->info : NULL, NULL);
	d->png = NULL;
	d->info = NULL;
}

/* ---- encoder ---- */

static void enc_error(png_structp png, png_const_charp text)
{
	struct kl_png_enc *e = png_get_error_ptr(png);
	char m[160];

	if (e->arena->fails)
		set_err(&e->rc, e->msg, sizeof(e->msg), KL_ENOMEM, "arena full while encoding PNG");
	snprintf(m, sizeof(m), "PNG encoder: %s", text);
	set_err(&e->rc, e->msg, sizeof(e->msg), KL_EINVAL, m);
	png_longjmp(png, 1);
}

static void enc_write(png_structp png, png_bytep p, size_t n)
{
	struct kl_png_enc *e = png_get_io_ptr(png);

	if (n > e->cap - e->len) {
		char m[96];
		snprintf(m, sizeof(m), "encoded image is over the %zu-byte output buffer", e->cap);
		set_err(&e->rc, e->msg, sizeof(e->msg), KL_ETOOBIG, m);
		png_longjmp(png, 1);
	}
	memcpy(e->out + e->len, p, n);
	e->len += n;
}

static void enc_flush(png_structp png)
{
	(void)png;
}

/* see png.h */
size_t kl_png_enc_need(uint32_t w, uint32_t nc)
{
	/* deflate at window 15, memLevel 8: 256 KB + state; libpng's row,
	 * previous row and two filter trial rows; its 8 KB output buffer */
	size_t row = (size_t)w * nc + 1;

	return 300 * 1024 + 4 * kl_arena_cost(row) + 16 * 1024;
}

/* see png.h */
int kl_png_enc_init(struct kl_png_enc *e, struct kl_arena *a, uint32_t w, uint32_t h,
		    uint32_t nc, int level, uint8_t *out, size_t cap)
{
	memset(e, 0, sizeof(*e));
	e->arena = a;
	e->out = out;
	e->cap = cap;
	e->png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, e, enc_error, dec_warning,
					   e, mem_alloc, mem_free);
	if (!e->png)
		return KL_ENOMEM;
	e->info = png_create_info_struct(e->png);
	if (!e->info)
		return KL_ENOMEM;
	if (setjmp(png_jmpbuf(e->png)))
		return e->rc ? e->rc : KL_ENOMEM;
	png_set_write_fn(e->png, e, enc_write, enc_flush);
	png_set_compression_level(e->png, level < 0 ? 6 : level > 9 ? 9 : level);
	png_set_filter(e->png, PNG_FILTER_TYPE_BASE, PNG_ALL_FILTERS);
	png_set_IHDR(e->png, e->info, w, h, 8, nc == 4 ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
	png_write_info(e->png, e->info);
	return 0;
}

/* see png.h */
int kl_png_enc_row(struct kl_png_enc *e, const uint8_t *row)
{
	if (e->rc)
		return e->rc;
	if (setjmp(png_jmpbuf(e->png)))
		return e->rc ? e->rc : KL_ENOMEM;
	png_write_row(e->png, (png_const_bytep)row);
	return 0;
}

/* see png.h */
int kl_png_enc_finish(struct kl_png_enc *e, size_t *len)
{
	if (e->rc)
		return e->rc;
	if (setjmp(png_jmpbuf(e->png)))
		return e->rc ? e->rc : KL_ENOMEM;
	png_write_end(e->png, NULL);
	*len = e->len;
	return 0;
}

/* see png.h */
const char *kl_png_enc_reason(const struct kl_png_enc *e)
{
	return e->msg[0] ? e->msg : kl_strerror(e->rc);
}

/* see png.h */
void kl_png_enc_reset(struct kl_png_enc *e)
{
	if (e->png)
		png_destroy_write_struct(&e->png, e->info ? &e->info : NULL);
	e->png = NULL;
	e->info = NULL;
}
