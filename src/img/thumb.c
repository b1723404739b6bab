/* thumb.c - the thumbnail job: sniff, plan, preflight, stream rows, encode. */
/* SPDX-License-Identifier: MIT */
#include "img/thumb.h"
#include "img/jpeg.h"
#include "img/png.h"
#include "base/kl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { ST_SNIFF, ST_JPEG_HEAD, ST_JPEG_START, ST_JPEG_ROWS, ST_JPEG_END, ST_PNG,
       ST_PNG_IMAGE, ST_EMIT, ST_DONE, ST_FAIL };

#define OUT_MAX 65500           /* libjpeg's own ceiling; used for PNG too */

static int fail(struct kl_thumb *t, int rc, const char *fmt, ...)
{
	va_list ap;

	if (t->rc)
		return t->rc;
	t->rc = rc;
	t->state = ST_FAIL;
	va_start(ap, fmt);
	vsnprintf(t->reason, sizeof(t->reason), fmt, ap);
	va_end(ap);
	return rc;
}

/* see thumb.h */
int kl_thumb_init(struct kl_thumb *t, struct kl_arena *a, const struct kl_thumb_opts *o,
		  const struct kl_thumb_limits *lim, uint8_t *out, size_t out_cap)
{
	memset(t, 0, sizeof(*t));
	t->arena = a;
	t->o = *o;
	if (lim)
		t->lim = *lim;
	t->out = out;
	t->out_cap = out_cap;
	t->state = ST_SNIFF;
	if (kl_input_init(&t->in, a, KL_THUMB_INBUF))
		return fail(t, KL_ENOMEM, "arena too small for the input buffer");
	return 0;
}

/* see thumb.h */
size_t kl_thumb_feed(struct kl_thumb *t, const uint8_t *p, size_t n)
{
	if (t->in.eof || t->state >= ST_DONE)
		return n;       /* nothing more is needed: drop, never block the caller */
	return kl_input_feed(&t->in, p, n);
}

/* see thumb.h */
void kl_thumb_end(struct kl_thumb *t)
{
	t->in.eof = 1;
}

/* see thumb.h */
int kl_thumb_starved(const struct kl_thumb *t)
{
	return t->starved;
}

/* see thumb.h */
size_t kl_thumb_arena_need(const struct kl_thumb *t)
{
	return t->need;
}

/* see thumb.h */
const char *kl_thumb_reason(const struct kl_thumb *t)
{
	return t->reason[0] ? t->reason : kl_strerror(t->rc);
}

/* see thumb.h */
int kl_thumb_output(const struct kl_thumb *t, const uint8_t **p, size_t *len)
{
	if (t->state != ST_DONE)
		return t->rc ? t->rc : KL_AGAIN;
	*p = t->out;
	*len = t->out_len;
	return 0;
}

/* see thumb.h */
uint32_t kl_thumb_width(const struct kl_thumb *t)
{
	return t->g.out_w;
}

/* see thumb.h */
uint32_t kl_thumb_height(const struct kl_thumb *t)
{
	return t->g.out_h;
}

/* see thumb.h */
const char *kl_thumb_mime(const struct kl_thumb *t)
{
	return t->out_fmt == KL_FORMAT_PNG ? "image/png" : "image/jpeg";
}

/* see thumb.h */
void kl_thumb_reset(struct kl_thumb *t)
{
	if (t->je)
		kl_jpeg_enc_reset(t->je);
	if (t->pe)
		kl_png_enc_reset(t->pe);
	if (t->jd)
		kl_jpeg_dec_reset(t->jd);
	if (t->pd)
		kl_png_dec_reset(t->pd);
	t->je = NULL;
	t->pe = NULL;
	t->jd = NULL;
	t->pd = NULL;
}

/* ---- output side: canvas rows to the encoder ---- */

static int encode_row(struct kl_thumb *t, const uint8_t *row)
{
	int rc;

	if (t->flatten && t->cnc == 4) {
		/* alpha over the background, as libvips' flatten does */
		for (uint32_t x = 0; x < t->g.out_w; x++) {
			unsigned a = row[4 * x + 3];
			for (int c = 0; c < 3; c++)
				t->flat[3 * x + c] = (uint8_t)((row[4 * x + c] * a + t->bg[c] * (255 - a) + 127) / 255);
		}
		row = t->flat;
	}
	if (t->je)
		rc = kl_jpeg_enc_row(t->je, row);
	else
		rc = kl_png_enc_row(t->pe, row);
	if (rc)
		return fail(t, rc, "%s", t->je ? kl_jpeg_enc_reason(t->je) : kl_png_enc_reason(t->pe));
	return 0;
}

static void put_px(struct kl_thumb *t, uint8_t *dst, const uint8_t *src)
{
	dst[0] = src[0];
	dst[1] = src[1];
	dst[2] = src[2];
	if (t->cnc == 4)
		dst[3] = t->nc == 4 ? src[3] : 255;
}

/*
 * Emits canvas row emit_y. `src` is the matching resized row in streaming
 * mode (NULL otherwise); in buffered mode the pixels come from t->img
 * through the orientation.
 */
static int emit_row(struct kl_thumb *t, const uint8_t *src)
{
	const struct kl_geom *g = &t->g;
	uint32_t y = t->emit_y, ow = g->transpose ? g->win_h : g->win_w;
	uint32_t oh = g->transpose ? g->win_w : g->win_h;
	uint8_t *c = t->canvas;

	for (uint32_t x = 0; x < g->out_w; x++)
		memcpy(c + (size_t)x * t->cnc, t->bg, t->cnc);
	if (y >= g->img_y && y < g->img_y + oh && (src || t->img)) {
		uint32_t oy = y - g->img_y;
		for (uint32_t ox = 0; ox < ow; ox++) {
			uint32_t fx = g->flip_h ? ow - 1 - ox : ox;
			const uint8_t *p;

			if (src) {
				p = src + (size_t)fx * t->nc;
			} else {
				uint32_t fy = g->flip_v ? oh - 1 - oy : oy;
				uint32_t sx = g->transpose ? fy : fx, sy = g->transpose ? fx : fy;
				p = t->img + ((size_t)sy * g->win_w + sx) * t->nc;
			}
			put_px(t, c + (size_t)(g->img_x + ox) * t->cnc, p);
		}
	}
	t->emit_y++;
	return encode_row(t, c);
}

static int on_resized(struct kl_thumb *t, const uint8_t *row)
{
	int rc;

	if (t->buffered) {
		memcpy(t->img + (size_t)t->res_y * t->g.win_w * t->nc, row, (size_t)t->g.win_w * t->nc);
		t->res_y++;
		return 0;
	}
	while (t->emit_y < t->g.img_y)
		if ((rc = emit_row(t, NULL)))
			return rc;
	t->res_y++;
	return emit_row(t, row);
}

/* One decoded row (dec_w x nc) into the pipeline. */
static int push_row(struct kl_thumb *t, const uint8_t *row)
{
	const struct kl_geom *g = &t->g;
	uint32_t y = t->dec_y++;
	const uint8_t *r;
	int rc;

	if (y < g->crop_y || y >= g->crop_y + g->crop_h)
		return 0;
	kl_resize_push(&t->rs, row + (size_t)g->crop_x * t->nc);
	while ((r = kl_resize_pull(&t->rs)))
		if ((rc = on_resized(t, r)))
			return rc;
	return 0;
}

static int finish(struct kl_thumb *t)
{
	size_t len;
	int rc;

	if (t->je)
		rc = kl_jpeg_enc_finish(t->je, &len);
	else
		rc = kl_png_enc_finish(t->pe, &len);
	if (rc)
		return fail(t, rc, "%s", t->je ? kl_jpeg_enc_reason(t->je) : kl_png_enc_reason(t->pe));
	t->out_len = len;
	t->state = ST_DONE;
	return 0;
}

/* ---- plan and preflight, once the header is known ---- */

static int pick_denom(const struct kl_thumb *t)
{
	const struct kl_geom *g = &t->g;

	/* the smallest DCT scale whose image is still at least the resized
	 * size, so the resampler only ever shrinks */
	for (int d = 8; d > 1; d /= 2) {
		if ((double)g->crop_w / d >= g->scaled_w && (double)g->crop_h / d >= g->scaled_h)
			return d;
	}
	return 1;
}

static void mb(char *s, size_t n, size_t bytes)
{
	if (bytes >= 10u << 20)
		snprintf(s, n, "%zu MB", (bytes + (1u << 19)) >> 20);
	else
		snprintf(s, n, "%.1f MB", bytes / 1048576.0);
}

/*
 * Everything between the header and the first pixel: limits, plan, DCT
 * scale, the arena bill (preflight), then the pipeline's buffers and the
 * encoder, each allocated once.
 */
static int setup(struct kl_thumb *t, uint32_t w, uint32_t h, uint32_t nc, int orientation)
{
	struct kl_geom *g = &t->g;
	struct kl_arena *a = t->arena;
	double mp = (double)w * h / 1e6;
	size_t dec_need, whole = 0, need;
	char s1[32], s2[32];
	int rc;

	t->src_w = w;
	t->src_h = h;
	t->nc = nc;
	t->orientation = orientation;
	if (!w || !h)
		return fail(t, KL_ECORRUPT, "corrupt image: zero width or height");
	if (t->lim.max_src_mp > 0 && mp > t->lim.max_src_mp)
		return fail(t, KL_ETOOBIG, "source resolution %.*f MP is over the %g MP limit",
			    mp >= 10 ? 0 : 1, mp, t->lim.max_src_mp);
	if (kl_geom_plan(&t->o, w, h, orientation, g))
		return fail(t, KL_EINVAL, "invalid processing options");
	if (g->out_w > OUT_MAX || g->out_h > OUT_MAX)
		return fail(t, KL_ETOOBIG, "result size %ux%u is over the %u-pixel limit",
			    g->out_w, g->out_h, OUT_MAX);
	t->out_fmt = t->o.format == KL_FORMAT_AUTO ? t->src_fmt : t->o.format;

	if (t->jd) {
		t->denom = pick_denom(t);
		dec_need = kl_jpeg_dec_prepare(t->jd, t->denom);
		t->dec_w = t->jd->out_w;
		t->dec_h = t->jd->out_h;
		kl_geom_rescale(g, w, h, t->dec_w, t->dec_h);
		if (t->jd->multiscan)
			whole = kl_jpeg_dec_coef_bytes(t->jd);
	} else {
		t->denom = 1;
		t->dec_w = w;
		t->dec_h = h;
		dec_need = kl_png_dec_need(t->pd);
		if (t->pd->interlaced)
			whole = kl_arena_cost((size_t)w * nc * h);
	}

	/* canvas and encoder channels */
	t->flatten = t->out_fmt == KL_FORMAT_JPEG || t->o.background_set;
	{
		uint32_t ow = g->transpose ? g->win_h : g->win_w, oh = g->transpose ? g->win_w : g->win_h;
		int pad = g->out_w > ow || g->out_h > oh;
		t->cnc = nc == 4 || (pad && !t->flatten) ? 4 : 3;
	}
	t->enc_nc = t->flatten ? 3 : t->cnc;
	memcpy(t->bg, t->o.background, 3);
	t->bg[3] = 255;
	if (!t->flatten && t->cnc == 4)
		memset(t->bg, 0, 4);
	t->buffered = g->transpose || g->flip_v;

	need = a->used + dec_need +
	       kl_arena_cost((size_t)t->dec_w * nc) +
	       kl_resize_need(g->crop_w, g->crop_h, nc, g->shrink_x, g->shrink_y, g->win_w, g->win_h) +
	       (t->buffered ? kl_arena_cost((size_t)g->win_w * g->win_h * nc) : 0) +
	       kl_arena_cost((size_t)g->out_w * t->cnc) + kl_arena_cost((size_t)g->out_w * 3) +
	       kl_arena_cost(sizeof(struct kl_jpeg_enc)) + kl_arena_cost(sizeof(struct kl_png_enc)) +
	       (t->out_fmt == KL_FORMAT_JPEG ? kl_jpeg_enc_need(g->out_w, g->out_h)
					     : kl_png_enc_need(g->out_w, t->enc_nc));
	t->need = need;
	if (whole && need > a->size) {
		mb(s1, sizeof(s1), whole);
		mb(s2, sizeof(s2), a->size);
		return fail(t, KL_ETOOBIG, "%s needs %s for the whole image, arena has %s",
			    t->jd ? "progressive JPEG" : "interlaced PNG", s1, s2);
	}
	if (need > a->size) {
		mb(s1, sizeof(s1), need);
		mb(s2, sizeof(s2), a->size);
		return fail(t, KL_ETOOBIG, "image needs %s of memory, arena has %s", s1, s2);
	}

	t->row = kl_arena_alloc(a, (size_t)t->dec_w * nc);
	t->canvas = kl_arena_alloc(a, (size_t)g->out_w * t->cnc);
	t->flat = kl_arena_alloc(a, (size_t)g->out_w * 3);
	if (t->buffered)
		t->img = kl_arena_alloc(a, (size_t)g->win_w * g->win_h * nc);
	if (!t->row || !t->canvas || !t->flat || (t->buffered && !t->img))
		return fail(t, KL_ENOMEM, "arena exhausted after preflight");
	rc = kl_resize_init(&t->rs, a, g->crop_w, g->crop_h, nc, g->shrink_x, g->shrink_y,
			    g->win_x, g->win_y, g->win_w, g->win_h);
	if (rc)
		return fail(t, rc, "resampler: %s", kl_strerror(rc));
	if (t->out_fmt == KL_FORMAT_JPEG) {
		t->je = kl_arena_alloc(a, sizeof(*t->je));
		if (!t->je)
			return fail(t, KL_ENOMEM, "arena exhausted after preflight");
		rc = kl_jpeg_enc_init(t->je, a, g->out_w, g->out_h, t->o.quality ? t->o.quality : 80,
				      t->o.progressive, t->out, t->out_cap);
		if (rc)
			return fail(t, rc, "%s", kl_jpeg_enc_reason(t->je));
	} else {
		t->pe = kl_arena_alloc(a, sizeof(*t->pe));
		if (!t->pe)
			return fail(t, KL_ENOMEM, "arena exhausted after preflight");
		rc = kl_png_enc_init(t->pe, a, g->out_w, g->out_h, t->enc_nc, 6, t->out, t->out_cap);
		if (rc)
			return fail(t, rc, "%s", kl_png_enc_reason(t->pe));
	}
	return 0;
}

/* ---- decoders ---- */

static int on_png_info(void *ud)
{
	struct kl_thumb *t = ud;
	struct kl_png_dec *d = t->pd;

	return setup(t, d->width, d->height, d->nc, d->orientation);
}

static int on_png_row(void *ud, const uint8_t *row)
{
	return push_row(ud, row);
}

static int sniff(struct kl_thumb *t)
{
	static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	const uint8_t *p = t->in.buf + t->in.pos;
	size_t n = kl_input_avail(&t->in);
	int rc;

	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) {
		t->src_fmt = KL_FORMAT_JPEG;
		t->jd = kl_arena_alloc(t->arena, sizeof(*t->jd));
		if (!t->jd)
			return fail(t, KL_ENOMEM, "arena too small");
		rc = kl_jpeg_dec_init(t->jd, t->arena, &t->in);
		if (rc)
			return fail(t, rc, "%s", kl_jpeg_dec_reason(t->jd));
		t->state = ST_JPEG_HEAD;
		return 0;
	}
	if (n >= 8 && memcmp(p, png_sig, 8) == 0) {
		t->src_fmt = KL_FORMAT_PNG;
		t->pd = kl_arena_alloc(t->arena, sizeof(*t->pd));
		if (!t->pd)
			return fail(t, KL_ENOMEM, "arena too small");
		rc = kl_png_dec_init(t->pd, t->arena, &t->in, on_png_info, on_png_row, t);
		if (rc)
			return fail(t, rc, "%s", kl_png_dec_reason(t->pd));
		t->state = ST_PNG;
		return 0;
	}
	if ((n < 3 && memcmp(p, "\xff\xd8\xff", n) == 0) || (n < 8 && memcmp(p, png_sig, n) == 0)) {
		if (!t->in.eof)
			return KL_AGAIN;
		return fail(t, KL_ECORRUPT, "corrupt image: %s", n ? "truncated signature" : "empty input");
	}
	return fail(t, KL_EUNSUPP, "unsupported image type (not JPEG or PNG)");
}


static int jpeg_fail(struct kl_thumb *t, int rc)
{
	if (t->rc)
		return t->rc;
	if (rc == KL_EUNSUPP)
		return fail(t, rc, "unsupported JPEG: %s", kl_jpeg_dec_reason(t->jd));
	if (rc == KL_ECORRUPT)
		return fail(t, rc, "corrupt image: %s", kl_jpeg_dec_reason(t->jd));
	return fail(t, rc, "%s", kl_jpeg_dec_reason(t->jd));
}

static int png_fail(struct kl_thumb *t, int rc)
{
	if (t->rc)
		return t->rc;
	if (rc == KL_ECORRUPT)
		return fail(t, rc, "corrupt image: %s", kl_png_dec_reason(t->pd));
	return fail(t, rc, "%s", kl_png_dec_reason(t->pd));
}

/* see thumb.h */
int kl_thumb_step(struct kl_thumb *t, uint32_t max_rows)
{
	uint32_t budget = max_rows ? max_rows : 1;
	int rc;

	t->starved = 0;
	for (;;) {
		switch (t->state) {
		case ST_SNIFF:
			rc = sniff(t);
			if (rc == KL_AGAIN)
				goto starve;
			if (rc)
				return rc;
			break;
		case ST_JPEG_HEAD:
			rc = kl_jpeg_dec_header(t->jd);
			if (rc == KL_AGAIN)
				goto starve;
			if (rc)
				return jpeg_fail(t, rc);
			if ((rc = setup(t, t->jd->width, t->jd->height, 3, t->jd->orientation)))
				return rc;
			t->state = ST_JPEG_START;
			break;
		case ST_JPEG_START:
			/* libjpeg's arithmetic decoder cannot suspend: it gets the
			 * whole file, which must then fit the input buffer */
			if (t->jd->ci.arith_code && !t->in.eof) {
				if (t->in.len - t->in.pos < t->in.cap)
					goto starve;
				return fail(t, KL_ETOOBIG, "arithmetic-coded JPEG over %u KB is not supported",
					    KL_THUMB_INBUF / 1024);
			}
			rc = kl_jpeg_dec_start(t->jd);
			if (rc == KL_AGAIN)
				goto starve;
			if (rc == 1)            /* one slice of scans absorbed */
				return KL_AGAIN;
			if (rc)
				return jpeg_fail(t, rc);
			t->state = ST_JPEG_ROWS;
			break;
		case ST_JPEG_ROWS:
			while (t->dec_y < t->dec_h) {
				if (!budget)
					return KL_AGAIN;
				rc = kl_jpeg_dec_row(t->jd, t->row);
				if (rc == KL_AGAIN)
					goto starve;
				if (rc < 0)
					return jpeg_fail(t, rc);
				if ((rc = push_row(t, t->row)))
					return rc;
				budget--;
			}
			t->state = ST_JPEG_END;
			break;
		case ST_JPEG_END:
			rc = kl_jpeg_dec_finish(t->jd);
			if (rc == KL_AGAIN)
				goto starve;
			if (rc)
				return jpeg_fail(t, rc);
			t->state = ST_EMIT;
			break;
		case ST_PNG:
			rc = kl_png_dec_run(t->pd, budget);
			if (t->rc)
				return t->rc;
			if (rc == KL_AGAIN)
				goto starve;
			if (rc == 1)
				return KL_AGAIN;
			if (rc)
				return png_fail(t, rc);
			if (!t->row)
				return fail(t, KL_ECORRUPT, "corrupt image: PNG without image data");
			if (t->pd->interlaced) {
				t->state = ST_PNG_IMAGE;
			} else {
				if (t->dec_y != t->dec_h)
					return fail(t, KL_ECORRUPT, "corrupt image: PNG rows missing");
				t->state = ST_EMIT;
			}
			budget = budget > t->pd->rows ? budget - t->pd->rows : 0;
			break;
		case ST_PNG_IMAGE:
			while (t->dec_y < t->dec_h) {
				if (!budget)
					return KL_AGAIN;
				rc = push_row(t, t->pd->image + (size_t)t->dec_y * t->dec_w * t->nc);
				if (rc)
					return rc;
				budget--;
			}
			t->state = ST_EMIT;
			break;
		case ST_EMIT:
			while (t->emit_y < t->g.out_h) {
				if (!budget)
					return KL_AGAIN;
				if ((rc = emit_row(t, NULL)))
					return rc;
				budget--;
			}
			return finish(t);
		case ST_DONE:
			return 0;
		default:
			return t->rc;
		}
	}
starve:
	t->starved = 1;
	return KL_AGAIN;
}
