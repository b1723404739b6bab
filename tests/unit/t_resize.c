/* t_resize.c - the streaming resampler against a direct float Lanczos3. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "base/arena.h"
#include "img/resize.h"
#include "base/kl.h"

#include <math.h>
#include <stdlib.h>

static _Alignas(16) uint8_t mem[8 << 20];

static double lz(double x)
{
	if (x == 0)
		return 1;
	if (fabs(x) >= 3)
		return 0;
	return 3 * sin(M_PI * x) * sin(M_PI * x / 3) / (M_PI * M_PI * x * x);
}

/* Weights of output i over all n inputs, clamped at the edges, normalised. */
static void ref_weights(double *w, uint32_t n, double shrink, uint32_t i)
{
	double s = shrink > 1 ? shrink : 1, c = (i + 0.5) * shrink - 0.5, sum = 0;

	for (uint32_t j = 0; j < n; j++)
		w[j] = 0;
	for (long j = (long)floor(c - 3 * s) - 1; j <= (long)ceil(c + 3 * s) + 1; j++) {
		double k = lz((j - c) / s);
		long jj = j < 0 ? 0 : j >= (long)n ? (long)n - 1 : j;
		w[jj] += k;
		sum += k;
	}
	for (uint32_t j = 0; j < n; j++)
		w[j] /= sum;
}

static int run(uint32_t w, uint32_t h, uint32_t nc, double sx, double sy, uint32_t wx, uint32_t wy,
	       uint32_t ww, uint32_t wh, double *maxdiff)
{
	struct kl_arena a;
	struct kl_resize r;
	uint8_t *img = malloc((size_t)w * h * nc), *got = malloc((size_t)ww * wh * nc);
	double *wxs = malloc(sizeof(double) * w), *wys = malloc(sizeof(double) * h);
	uint32_t oy = 0;
	const uint8_t *row;
	int rc;

	srand(w * 31 + h);
	for (size_t i = 0; i < (size_t)w * h * nc; i++)
		img[i] = (uint8_t)(rand() % 256);
	/* some smooth content too: a gradient in the first channel */
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++)
			img[((size_t)y * w + x) * nc] = (uint8_t)((x * 255) / w);
	kl_arena_init(&a, mem, sizeof(mem));
	rc = kl_resize_init(&r, &a, w, h, nc, sx, sy, wx, wy, ww, wh);
	if (rc)
		return rc;
	if (a.used > kl_resize_need(w, h, nc, sx, sy, ww, wh))
		return -100;
	for (uint32_t y = 0; y < h; y++) {
		kl_resize_push(&r, img + (size_t)y * w * nc);
		while ((row = kl_resize_pull(&r)))
			memcpy(got + (size_t)oy++ * ww * nc, row, (size_t)ww * nc);
	}
	if (oy != wh)
		return -101;
	*maxdiff = 0;
	for (uint32_t y = 0; y < wh; y++) {
		ref_weights(wys, h, sy, wy + y);
		for (uint32_t x = 0; x < ww; x++) {
			double acc[4] = {0, 0, 0, 0};
			ref_weights(wxs, w, sx, wx + x);
			for (uint32_t j = 0; j < h; j++) {
				if (wys[j] == 0)
					continue;
				for (uint32_t i = 0; i < w; i++) {
					const uint8_t *p = img + ((size_t)j * w + i) * nc;
					double k = wys[j] * wxs[i], al = nc == 4 ? p[3] / 255.0 : 1;
					if (k == 0)
						continue;
					for (uint32_t c = 0; c < 3; c++)
						acc[c] += k * p[c] * al;
					acc[3] += k * (nc == 4 ? p[3] : 255);
				}
			}
			for (uint32_t c = 0; c < nc; c++) {
				double v = c < 3 && nc == 4 ? (acc[3] > 0.5 ? acc[c] * 255 / acc[3] : 0) : acc[c];
				double d;
				v = v < 0 ? 0 : v > 255 ? 255 : v;
				/* fully transparent pixels carry no colour */
				if (nc == 4 && acc[3] < 0.5)
					v = 0;
				d = fabs(v - got[((size_t)y * ww + x) * nc + c]);
				/* colour of nearly transparent pixels is ill-conditioned */
				if (nc == 4 && c < 3 && acc[3] < 8)
					continue;
				if (d > *maxdiff)
					*maxdiff = d;
			}
		}
	}
	free(img);
	free(got);
	free(wxs);
	free(wys);
	return 0;
}

int main(void)
{
	static const struct { uint32_t w, h, nc; double sx, sy; uint32_t wx, wy, ww, wh; } cases[] = {
		{97, 61, 3, 97.0 / 30, 61.0 / 19, 0, 0, 30, 19},         /* fit */
		{97, 61, 4, 97.0 / 30, 61.0 / 19, 0, 0, 30, 19},         /* with alpha */
		{200, 150, 3, 2.0, 2.0, 0, 0, 100, 75},                  /* exact 2x */
		{64, 64, 3, 1.0, 1.0, 0, 0, 64, 64},                     /* identity */
		{50, 40, 4, 0.5, 0.5, 0, 0, 100, 80},                    /* enlarge */
		{300, 100, 3, 2.5, 2.5, 20, 5, 60, 30},                  /* a window (fill's crop) */
		{120, 90, 3, 1.6, 3.1, 0, 0, 75, 29},                    /* different axes */
		{7, 5, 4, 7.0, 5.0, 0, 0, 1, 1},                         /* down to one pixel */
		{1, 1, 3, 0.25, 0.25, 0, 0, 4, 4},                       /* from one pixel */
	};

	for (size_t i = 0; i < KL_ARRAY_LEN(cases); i++) {
		double d = 999;
		int rc = run(cases[i].w, cases[i].h, cases[i].nc, cases[i].sx, cases[i].sy, cases[i].wx,
			     cases[i].wy, cases[i].ww, cases[i].wh, &d);
		T_OK(rc == 0 && d <= 1.0, "resize %ux%ux%u by 1/%.3g,1/%.3g window %u,%u %ux%u: max diff %.2f (rc %d)",
		     cases[i].w, cases[i].h, cases[i].nc, cases[i].sx, cases[i].sy, cases[i].wx, cases[i].wy,
		     cases[i].ww, cases[i].wh, d, rc);
	}
	{
		struct kl_arena a;
		struct kl_resize r;
		kl_arena_init(&a, mem, 1000);
		T_EQ_INT(kl_resize_init(&r, &a, 1000, 1000, 3, 10, 10, 0, 0, 100, 100), KL_ENOMEM,
			 "resize: short arena refused");
		T_EQ_INT(kl_resize_init(&r, &a, 10, 10, 3, 0, 1, 0, 0, 10, 10), KL_EINVAL,
			 "resize: zero shrink refused");
	}
	return T_DONE();
}
