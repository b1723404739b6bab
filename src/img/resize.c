/* resize.c - separable Lanczos3 resampling, one row in, rows out when ready. */
/* SPDX-License-Identifier: MIT */
#include "img/resize.h"
#include "base/kl.h"

#include <math.h>
#include <string.h>

#define LANCZOS_A 3.0

static double sinc(double x)
{
	if (x == 0.0)
		return 1.0;
	x *= M_PI;
	return sin(x) / x;
}

static double lanczos3(double x)
{
	if (x <= -LANCZOS_A || x >= LANCZOS_A)
		return 0.0;
	return sinc(x) * sinc(x / LANCZOS_A);
}

static uint32_t axis_taps(double shrink)
{
	double support = LANCZOS_A * (shrink > 1.0 ? shrink : 1.0);
	return (uint32_t)ceil(2.0 * support) + 2;
}

static size_t axis_need(uint32_t n, uint32_t taps)
{
	return kl_arena_cost((size_t)n * sizeof(int32_t)) + kl_arena_cost((size_t)n * sizeof(uint16_t)) +
	       kl_arena_cost((size_t)n * taps * sizeof(float));
}

/* see resize.h */
size_t kl_resize_need(uint32_t in_w, uint32_t in_h, uint32_t nc, double shrink_x, double shrink_y,
		      uint32_t win_w, uint32_t win_h)
{
	uint32_t ht = axis_taps(shrink_x), vt = axis_taps(shrink_y);

	(void)in_h;
	return axis_need(win_w, ht) + axis_need(win_h, vt) +
	       kl_arena_cost((size_t)vt * win_w * nc * sizeof(float)) +
	       kl_arena_cost((size_t)in_w * nc * sizeof(float)) +
	       kl_arena_cost((size_t)win_w * nc * sizeof(float)) + kl_arena_cost((size_t)win_w * nc);
}

/*
 * Weights of the outputs [off, off + n) of an axis of in samples scaled by
 * 1/shrink. Contributors outside the input are folded onto the edge sample
 * (clamp), so each output reads one contiguous run of inputs.
 */
static int axis_init(struct kl_resize_axis *ax, struct kl_arena *a, uint32_t in, double shrink,
		     uint32_t off, uint32_t n)
{
	double scale = shrink > 1.0 ? shrink : 1.0;
	double support = LANCZOS_A * scale;

	ax->n = n;
	ax->taps = axis_taps(shrink);
	ax->first = kl_arena_alloc(a, (size_t)n * sizeof(int32_t));
	ax->count = kl_arena_alloc(a, (size_t)n * sizeof(uint16_t));
	ax->w = kl_arena_alloc(a, (size_t)n * ax->taps * sizeof(float));
	if (!ax->first || !ax->count || !ax->w)
		return KL_ENOMEM;
	for (uint32_t i = 0; i < n; i++) {
		double c = ((double)(off + i) + 0.5) * shrink - 0.5;
		long j0 = (long)ceil(c - support), j1 = (long)floor(c + support);
		long lo, hi;
		float *w = ax->w + (size_t)i * ax->taps;
		double sum = 0;

		if (j1 - j0 + 1 > (long)ax->taps)
			j1 = j0 + ax->taps - 1;
		lo = j0 < 0 ? 0 : j0;
		hi = j1 > (long)in - 1 ? (long)in - 1 : j1;
		if (lo > hi) {                  /* the window lies past an edge */
			lo = hi = j0 < 0 ? 0 : (long)in - 1;
		}
		memset(w, 0, ax->taps * sizeof(float));
		for (long j = j0; j <= j1; j++) {
			double k = lanczos3((j - c) / scale);
			long jj = j < lo ? lo : j > hi ? hi : j;
			w[jj - lo] += (float)k;
			sum += k;
		}
		if (fabs(sum) < 1e-9) {
			memset(w, 0, ax->taps * sizeof(float));
			w[0] = 1.0f;
		} else {
			for (long j = 0; j <= hi - lo; j++)
				w[j] = (float)(w[j] / sum);
		}
		ax->first[i] = (int32_t)lo;
		ax->count[i] = (uint16_t)(hi - lo + 1);
	}
	return 0;
}

/* see resize.h */
int kl_resize_init(struct kl_resize *r, struct kl_arena *a, uint32_t in_w, uint32_t in_h,
		   uint32_t nc, double shrink_x, double shrink_y,
		   uint32_t win_x, uint32_t win_y, uint32_t win_w, uint32_t win_h)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if (!in_w || !in_h || !win_w || !win_h || !(shrink_x > 0) || !(shrink_y > 0) ||
	    (nc != 3 && nc != 4) || win_w > 1u << 20 || win_h > 1u << 20)
		return KL_EINVAL;
	r->in_w = in_w;
	r->in_h = in_h;
	r->nc = nc;
	rc = axis_init(&r->h, a, in_w, shrink_x, win_x, win_w);
	if (rc == 0)
		rc = axis_init(&r->v, a, in_h, shrink_y, win_y, win_h);
	if (rc)
		return rc;
	r->ring_rows = r->v.taps;
	r->ring = kl_arena_alloc(a, (size_t)r->ring_rows * win_w * nc * sizeof(float));
	r->tmp = kl_arena_alloc(a, (size_t)in_w * nc * sizeof(float));
	r->acc = kl_arena_alloc(a, (size_t)win_w * nc * sizeof(float));
	r->out = kl_arena_alloc(a, (size_t)win_w * nc);
	if (!r->ring || !r->tmp || !r->acc || !r->out)
		return KL_ENOMEM;
	return 0;
}

/* Is input row y read by any output row still to come? */
static int row_needed(const struct kl_resize *r, uint32_t y)
{
	const struct kl_resize_axis *v = &r->v;

	if (r->y_out >= v->n)
		return 0;
	if ((int32_t)y < v->first[r->y_out])
		return 0;
	return (int32_t)y < v->first[v->n - 1] + v->count[v->n - 1];
}

/* see resize.h */
void kl_resize_push(struct kl_resize *r, const uint8_t *row)
{
	const struct kl_resize_axis *h = &r->h;
	uint32_t y = r->y_in++, nc = r->nc;
	float *dst, *src = r->tmp;

	KL_ASSERT(y < r->in_h);
	if (!row_needed(r, y))
		return;
	dst = r->ring + (size_t)(y % r->ring_rows) * h->n * nc;
	/* widen to float once; premultiply so that transparent pixels'
	 * colours do not bleed into their neighbours */
	if (nc == 4) {
		for (uint32_t x = 0; x < r->in_w; x++) {
			float al = row[4 * x + 3] * (1.0f / 255.0f);
			src[4 * x + 0] = row[4 * x + 0] * al;
			src[4 * x + 1] = row[4 * x + 1] * al;
			src[4 * x + 2] = row[4 * x + 2] * al;
			src[4 * x + 3] = row[4 * x + 3];
		}
	} else {
		for (uint32_t x = 0; x < r->in_w * 3; x++)
			src[x] = row[x];
	}
	for (uint32_t x = 0; x < h->n; x++) {
		const float *w = h->w + (size_t)x * h->taps;
		const float *s = src + (size_t)h->first[x] * nc;
		float a0 = 0, a1 = 0, a2 = 0, a3 = 0;
		uint32_t cnt = h->count[x];

		if (nc == 4) {
			for (uint32_t k = 0; k < cnt; k++, s += 4) {
				a0 += w[k] * s[0];
				a1 += w[k] * s[1];
				a2 += w[k] * s[2];
				a3 += w[k] * s[3];
			}
			dst[4 * x + 3] = a3;
		} else {
			for (uint32_t k = 0; k < cnt; k++, s += 3) {
				a0 += w[k] * s[0];
				a1 += w[k] * s[1];
				a2 += w[k] * s[2];
			}
		}
		dst[nc * x + 0] = a0;
		dst[nc * x + 1] = a1;
		dst[nc * x + 2] = a2;
	}
}

static uint8_t to8(float v)
{
	if (!(v > 0.0f))
		return 0;
	if (v >= 255.0f)
		return 255;
	return (uint8_t)(v + 0.5f);
}

/* see resize.h */
const uint8_t *kl_resize_pull(struct kl_resize *r)
{
	const struct kl_resize_axis *v = &r->v;
	uint32_t n = r->h.n * r->nc, y = r->y_out, first, cnt;
	const float *w;
	uint8_t *out = r->out;

	if (y >= v->n)
		return NULL;
	first = (uint32_t)v->first[y];
	cnt = v->count[y];
	if (r->y_in < first + cnt)
		return NULL;
	w = v->w + (size_t)y * v->taps;
	/* one pass per contributing row keeps the inner loop linear in memory */
	memset(r->acc, 0, (size_t)n * sizeof(float));
	for (uint32_t k = 0; k < cnt; k++) {
		const float *s = r->ring + (size_t)((first + k) % r->ring_rows) * n;
		float wk = w[k];
		for (uint32_t i = 0; i < n; i++)
			r->acc[i] += wk * s[i];
	}
	for (uint32_t i = 0; i < n; i += r->nc) {
		const float *acc = r->acc + i;

		if (r->nc == 4) {
			float al = acc[3];
			if (al < 0.5f) {
				memset(out + i, 0, 4);
				continue;
			}
			for (int c = 0; c < 3; c++)
				out[i + c] = to8(acc[c] * 255.0f / al);
			out[i + 3] = to8(al);
		} else {
			out[i] = to8(acc[0]);
			out[i + 1] = to8(acc[1]);
			out[i + 2] = to8(acc[2]);
		}
	}
	r->y_out++;
	return out;
}
