/* geom.c - imgproxy's resize/crop/extend arithmetic as a pure function. */
/* SPDX-License-Identifier: MIT */
#include "img/geom.h"
#include "base/kl.h"

#include <math.h>
#include <string.h>

/* see geom.h */
void kl_thumb_opts_default(struct kl_thumb_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->resizing = KL_RESIZE_FIT;
	o->zoom_x = o->zoom_y = 1.0;
	o->dpr = 1.0;
	o->auto_rotate = 1;
	o->background[0] = o->background[1] = o->background[2] = 255;
	o->quality = 80;
}

static uint32_t rnd(double v)
{
	if (v < 1.0)
		return 1;
	if (v > 1e9)
		return 1000000000u;
	return (uint32_t)floor(v + 0.5);
}

static long clampl(long v, long lo, long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static long round_even(double v)
{
	return (long)nearbyint(v);
}

/*
 * Where an inner box sits in an outer one (imgproxy's calcPosition
 * without overflow): centred, or pushed against the named edges and moved
 * by the offsets, or centred on a focus point; then kept inside.
 */
static void position(uint32_t ow, uint32_t oh, uint32_t iw, uint32_t ih,
		     const struct kl_gravity *gr, double dpr, long *left, long *top)
{
	long l, t;
	enum kl_gravity_type ty = gr->type;

	if (ty == KL_GRAVITY_FP) {
		l = (long)floor(ow * gr->x + 0.5) - (long)iw / 2;
		t = (long)floor(oh * gr->y + 0.5) - (long)ih / 2;
	} else {
		long ox = round_even(gr->x * dpr), oy = round_even(gr->y * dpr);
		l = ((long)ow - (long)iw + 1) / 2 + ox;
		t = ((long)oh - (long)ih + 1) / 2 + oy;
		if (ty == KL_GRAVITY_NO || ty == KL_GRAVITY_NOEA || ty == KL_GRAVITY_NOWE)
			t = oy;
		if (ty == KL_GRAVITY_EA || ty == KL_GRAVITY_NOEA || ty == KL_GRAVITY_SOEA)
			l = (long)ow - (long)iw - ox;
		if (ty == KL_GRAVITY_SO || ty == KL_GRAVITY_SOEA || ty == KL_GRAVITY_SOWE)
			t = (long)oh - (long)ih - oy;
		if (ty == KL_GRAVITY_WE || ty == KL_GRAVITY_NOWE || ty == KL_GRAVITY_SOWE)
			l = ox;
	}
	*left = clampl(l, 0, (long)ow - (long)iw);
	*top = clampl(t, 0, (long)oh - (long)ih);
}

/* imgproxy's calcScale: returns the x/y scale and the dpr actually used. */
static void calc_scale(const struct kl_thumb_opts *o, uint32_t w, uint32_t h,
		       double *sx, double *sy, double *dpr_used)
{
	double srcw = w, srch = h;
	double dstw = o->width ? o->width : srcw, dsth = o->height ? o->height : srch;
	double ws = dstw == srcw ? 1.0 : srcw / dstw;
	double hs = dsth == srch ? 1.0 : srch / dsth;
	double dpr = o->dpr > 0 ? o->dpr : 1.0;
	double zx = o->zoom_x > 0 ? o->zoom_x : 1.0, zy = o->zoom_y > 0 ? o->zoom_y : 1.0;
	enum kl_resizing rt = o->resizing;

	if (ws != 1.0 || hs != 1.0) {
		if (rt == KL_RESIZE_AUTO) {
			double sd = srcw - srch, dd = dstw - dsth;
			rt = (sd >= 0 && dd >= 0) || (sd < 0 && dd < 0) ? KL_RESIZE_FILL : KL_RESIZE_FIT;
		}
		if (!o->width && rt != KL_RESIZE_FORCE)
			ws = hs;
		else if (!o->height && rt != KL_RESIZE_FORCE)
			hs = ws;
		else if (rt == KL_RESIZE_FIT)
			ws = hs = fmax(ws, hs);
		else if (rt == KL_RESIZE_FILL || rt == KL_RESIZE_FILL_DOWN)
			ws = hs = fmin(ws, hs);
	}
	ws /= zx;
	hs /= zy;
	if (!o->enlarge) {
		double m = fmin(ws, hs);
		if (m < 1.0) {
			ws /= m;
			hs /= m;
			if (!o->extend)
				dpr /= m;
		}
		dpr = fmin(dpr, fmin(ws, hs));
	}
	if (o->min_width) {
		double m = srcw / o->min_width;
		if (m < ws) {
			hs /= ws / m;
			ws = m;
		}
	}
	if (o->min_height) {
		double m = srch / o->min_height;
		if (m < hs) {
			ws /= hs / m;
			hs = m;
		}
	}
	ws /= dpr;
	hs /= dpr;
	if (ws > srcw)
		ws = srcw;
	if (hs > srch)
		hs = srch;
	*sx = 1.0 / ws;
	*sy = 1.0 / hs;
	*dpr_used = dpr;
}

/* Maps a rectangle of the oriented image back to stored coordinates. */
static void unorient(const struct kl_geom *g, uint32_t ow, uint32_t oh, uint32_t *x, uint32_t *y,
		     uint32_t *w, uint32_t *h)
{
	uint32_t t;

	if (g->flip_v)
		*y = oh - *y - *h;
	if (g->flip_h)
		*x = ow - *x - *w;
	if (g->transpose) {
		t = *x; *x = *y; *y = t;
		t = *w; *w = *h; *h = t;
	}
}

static uint32_t crop_dim(double v, uint32_t full)
{
	uint32_t r;

	if (v <= 0)
		return full;
	r = v < 1.0 ? rnd(full * v) : (uint32_t)fmin(v, 1e9);
	return r > full ? full : r ? r : 1;
}

/* see geom.h */
int kl_geom_plan(const struct kl_thumb_opts *o, uint32_t sw, uint32_t sh,
		 int orientation, struct kl_geom *g)
{
	/* (transpose, flip_h, flip_v) turning stored pixels upright, per EXIF value */
	static const uint8_t orient[9][3] = {
		{0, 0, 0}, {0, 0, 0}, {0, 1, 0}, {0, 1, 1}, {0, 0, 1},
		{1, 0, 0}, {1, 1, 0}, {1, 1, 1}, {1, 0, 1},
	};
	uint32_t ow, oh, cw, ch, rw, rh, tw, th, reqw, reqh;
	long px, py, wx, wy;
	double sx, sy, dpr;
	int rot;

	KL_ASSERT(sw > 0 && sh > 0);
	memset(g, 0, sizeof(*g));
	if (o->rotate % 90 != 0)
		return KL_EINVAL;
	if (!o->auto_rotate || orientation < 1 || orientation > 8)
		orientation = 1;
	g->transpose = orient[orientation][0];
	g->flip_h = orient[orientation][1];
	g->flip_v = orient[orientation][2];
	/* A clockwise quarter turn is a transpose then a horizontal flip:
	 * (t, fh, fv) becomes (!t, !fv, fh). */
	rot = ((o->rotate / 90) % 4 + 4) % 4;
	for (int i = 0; i < rot; i++) {
		int fh = g->flip_h;
		g->transpose = !g->transpose;
		g->flip_h = !g->flip_v;
		g->flip_v = fh;
	}
	ow = g->transpose ? sh : sw;
	oh = g->transpose ? sw : sh;

	/* crop option, before the resize, in upright coordinates */
	cw = crop_dim(o->crop_w, ow);
	ch = crop_dim(o->crop_h, oh);
	position(ow, oh, cw, ch, o->crop_gravity_set ? &o->crop_gravity : &o->gravity, 1.0, &px, &py);

	calc_scale(o, cw, ch, &sx, &sy, &dpr);
	rw = rnd(cw * sx);
	rh = rnd(ch * sy);

	/* crop to the requested result size (fill's crop; a no-op for fit) */
	reqw = o->width ? rnd(o->width * dpr) : 0;
	reqh = o->height ? rnd(o->height * dpr) : 0;
	tw = reqw && reqw < rw ? reqw : rw;
	th = reqh && reqh < rh ? reqh : rh;
	if (o->resizing == KL_RESIZE_FILL_DOWN && reqw && reqh && (reqw > rw || reqh > rh)) {
		double f = fmin((double)rw / reqw, (double)rh / reqh);
		tw = rnd(reqw * f);
		th = rnd(reqh * f);
		if (tw > rw)
			tw = rw;
		if (th > rh)
			th = rh;
	}
	position(rw, rh, tw, th, &o->gravity, dpr, &wx, &wy);

	g->out_w = tw;
	g->out_h = th;
	if (o->extend) {
		long ex, ey;

		if (reqw > g->out_w)
			g->out_w = reqw;
		if (reqh > g->out_h)
			g->out_h = reqh;
		position(g->out_w, g->out_h, tw, th, &o->extend_gravity, dpr, &ex, &ey);
		g->img_x = (uint32_t)ex;
		g->img_y = (uint32_t)ey;
	}

	/* back to stored coordinates: the source crop, the shrink, the window */
	g->crop_x = (uint32_t)px;
	g->crop_y = (uint32_t)py;
	g->crop_w = cw;
	g->crop_h = ch;
	unorient(g, ow, oh, &g->crop_x, &g->crop_y, &g->crop_w, &g->crop_h);
	g->win_x = (uint32_t)wx;
	g->win_y = (uint32_t)wy;
	g->win_w = tw;
	g->win_h = th;
	unorient(g, rw, rh, &g->win_x, &g->win_y, &g->win_w, &g->win_h);
	g->scaled_w = g->transpose ? rh : rw;
	g->scaled_h = g->transpose ? rw : rh;
	/* shrink = 1/scale as libvips' resize takes it, not crop/scaled */
	g->shrink_x = g->transpose ? 1.0 / sy : 1.0 / sx;
	g->shrink_y = g->transpose ? 1.0 / sx : 1.0 / sy;
	return 0;
}

/* see geom.h */
void kl_geom_rescale(struct kl_geom *g, uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh)
{
	double fx = (double)dw / sw, fy = (double)dh / sh;
	uint32_t x1 = (uint32_t)ceil((g->crop_x + g->crop_w) * fx);
	uint32_t y1 = (uint32_t)ceil((g->crop_y + g->crop_h) * fy);

	if (dw == sw && dh == sh)
		return;
	g->crop_x = (uint32_t)floor(g->crop_x * fx);
	g->crop_y = (uint32_t)floor(g->crop_y * fy);
	if (x1 > dw)
		x1 = dw;
	if (y1 > dh)
		y1 = dh;
	g->crop_w = x1 > g->crop_x ? x1 - g->crop_x : 1;
	g->crop_h = y1 > g->crop_y ? y1 - g->crop_y : 1;
	g->shrink_x *= fx;
	g->shrink_y *= fy;
}
