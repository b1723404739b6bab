/* geom.h - imgproxy processing options as geometry: source size -> plan. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_GEOM_H
#define KL_GEOM_H

#include <stdint.h>

enum kl_resizing {
	KL_RESIZE_FIT = 0,      /* inside width x height, aspect kept */
	KL_RESIZE_FILL,         /* cover width x height, then crop (gravity) */
	KL_RESIZE_FILL_DOWN,    /* fill, but never enlarged: crop keeps the aspect */
	KL_RESIZE_FORCE,        /* exactly width x height, aspect ignored */
	KL_RESIZE_AUTO          /* fill when source and target orientations match, else fit */
};

enum kl_gravity_type {
	KL_GRAVITY_CE = 0, KL_GRAVITY_NO, KL_GRAVITY_SO, KL_GRAVITY_EA, KL_GRAVITY_WE,
	KL_GRAVITY_NOEA, KL_GRAVITY_NOWE, KL_GRAVITY_SOEA, KL_GRAVITY_SOWE,
	KL_GRAVITY_FP           /* focus point: x, y in 0..1 of the image */
};

struct kl_gravity {
	enum kl_gravity_type type;
	double x, y;            /* offsets in px for the compass types; 0..1 for FP */
};

enum kl_format { KL_FORMAT_AUTO = 0, KL_FORMAT_JPEG, KL_FORMAT_PNG };

/*
 * imgproxy's processing options that shape and encode the picture, with
 * imgproxy's names and defaults (kl_thumb_opts_default). All sizes are in
 * pixels of the upright (EXIF-rotated) image.
 */
struct kl_thumb_opts {
	enum kl_resizing resizing;
	uint32_t width, height;         /* 0 = keep aspect / unbounded */
	uint32_t min_width, min_height; /* 0 = none */
	double zoom_x, zoom_y;          /* default 1 */
	double dpr;                     /* default 1 */
	int enlarge;                    /* default 0: never upscale */
	int extend;                     /* pad up to width x height */
	struct kl_gravity extend_gravity;
	struct kl_gravity gravity;      /* fill's crop */
	double crop_w, crop_h;          /* crop before resize; 0 = none/full, < 1 = fraction */
	int crop_gravity_set;           /* else crop uses `gravity` */
	struct kl_gravity crop_gravity;
	int auto_rotate;                /* default 1: honour EXIF orientation */
	int rotate;                     /* 0, 90, 180, 270 clockwise */
	int background_set;
	uint8_t background[3];          /* default white */
	int quality;                    /* 1..100, default 80 */
	enum kl_format format;          /* AUTO = same as the source */
	int progressive;                /* progressive JPEG output */
};

void kl_thumb_opts_default(struct kl_thumb_opts *o);

/*
 * A plan, in stored (pre-orientation) pixel coordinates of the source, then
 * the orientation and canvas of the result:
 *
 *   source --crop--> crop_w x crop_h --resize by 1/shrink--> scaled_w x scaled_h
 *     --keep window win_*--> --transpose, flip_h, flip_v--> placed at
 *     (img_x, img_y) on an out_w x out_h canvas (extend), rest background.
 */
struct kl_geom {
	uint32_t crop_x, crop_y, crop_w, crop_h;
	double shrink_x, shrink_y;      /* crop pixels per output pixel (> 0) */
	uint32_t scaled_w, scaled_h;
	uint32_t win_x, win_y, win_w, win_h;
	int transpose, flip_h, flip_v;  /* applied in this order */
	uint32_t out_w, out_h;          /* canvas, upright */
	uint32_t img_x, img_y;          /* the oriented window's place on it */
};

/*
 * Plans opts for a source of sw x sh stored pixels with EXIF orientation
 * `orientation` (1..8; ignored unless opts->auto_rotate). sw and sh MUST
 * be >= 1. Returns 0, or KL_EINVAL for options no plan can satisfy (e.g.
 * a rotation that is not a multiple of 90).
 */
int kl_geom_plan(const struct kl_thumb_opts *o, uint32_t sw, uint32_t sh,
		 int orientation, struct kl_geom *g);

/*
 * Rescales a plan made for a sw x sh source to a decoder that delivers
 * dw x dh (libjpeg's DCT scaling): crop rectangle and shrink follow,
 * output sizes stay.
 */
void kl_geom_rescale(struct kl_geom *g, uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh);

#endif
