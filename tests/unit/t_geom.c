/* t_geom.c - imgproxy's processing options turned into plans. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "base/kl.h"
#include "img/geom.h"

static struct kl_thumb_opts o;
static struct kl_geom g;

static void plan(uint32_t w, uint32_t h, int orient)
{
	T_EQ_INT(kl_geom_plan(&o, w, h, orient, &g), 0, "plan accepted");
}

int main(void)
{
	kl_thumb_opts_default(&o);
	o.width = o.height = 300;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 300 && g.out_h == 225 && g.win_w == 300 && g.win_h == 225, "fit 4000x3000 -> 300x225");
	T_OK(g.shrink_x > 13.33 && g.shrink_x < 13.34, "fit shrink 13.33");
	plan(1023, 767, 1);
	T_OK(g.out_w == 300 && g.out_h == 225, "fit rounds like libvips: 1023x767 -> %ux%u", g.out_w, g.out_h);
	plan(200, 100, 1);
	T_OK(g.out_w == 200 && g.out_h == 100 && g.shrink_x == 1.0, "fit never enlarges by default");
	o.enlarge = 1;
	plan(200, 100, 1);
	T_OK(g.out_w == 300 && g.out_h == 150, "enlarge: 200x100 -> %ux%u", g.out_w, g.out_h);
	o.enlarge = 0;

	o.resizing = KL_RESIZE_FILL;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 300 && g.out_h == 300 && g.scaled_w == 400 && g.win_x == 50 && g.win_y == 0,
	     "fill: scaled 400x300, centred window at 50");
	o.gravity.type = KL_GRAVITY_EA;
	plan(4000, 3000, 1);
	T_OK(g.win_x == 100, "fill gravity east: window at %u", g.win_x);
	o.gravity.type = KL_GRAVITY_FP;
	o.gravity.x = 0.0;
	o.gravity.y = 0.5;
	plan(4000, 3000, 1);
	T_OK(g.win_x == 0, "fill focus point at the left edge clamps to 0");
	o.gravity.type = KL_GRAVITY_CE;

	o.resizing = KL_RESIZE_FILL_DOWN;
	o.width = 600;
	o.height = 300;
	plan(400, 400, 1);
	T_OK(g.out_w == 400 && g.out_h == 200, "fill-down keeps the aspect without enlarging: %ux%u", g.out_w, g.out_h);

	o.resizing = KL_RESIZE_FORCE;
	o.width = 100;
	o.height = 300;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 100 && g.out_h == 300, "force: 100x300");

	o.resizing = KL_RESIZE_AUTO;
	o.width = 300;
	o.height = 200;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 300 && g.out_h == 200, "auto on same orientation = fill");
	plan(3000, 4000, 1);
	T_OK(g.out_w == 150 && g.out_h == 200, "auto on crossed orientation = fit: %ux%u", g.out_w, g.out_h);

	kl_thumb_opts_default(&o);
	o.width = 300;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 300 && g.out_h == 225, "width only keeps aspect");
	o.width = 0;
	o.height = 0;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 4000 && g.out_h == 3000, "no size: unchanged");

	kl_thumb_opts_default(&o);
	o.width = o.height = 300;
	plan(4000, 3000, 6);
	T_OK(g.out_w == 225 && g.out_h == 300 && g.transpose && g.flip_h && !g.flip_v,
	     "orientation 6: 225x300, transpose + flip h");
	T_OK(g.win_w == 300 && g.win_h == 225, "orientation 6: resize happens in stored axes");
	o.auto_rotate = 0;
	plan(4000, 3000, 6);
	T_OK(g.out_w == 300 && !g.transpose, "auto_rotate off ignores EXIF");
	o.auto_rotate = 1;
	o.rotate = 90;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 225 && g.transpose && g.flip_h, "rotate 90 = orientation 6");
	o.rotate = 180;
	plan(4000, 3000, 6);
	T_OK(g.transpose && !g.flip_h && g.flip_v, "orientation 6 + rotate 180 = orientation 8");
	o.rotate = 45;
	T_EQ_INT(kl_geom_plan(&o, 10, 10, 1, &g), KL_EINVAL, "rotate 45 refused");

	kl_thumb_opts_default(&o);
	o.width = o.height = 300;
	o.extend = 1;
	plan(200, 100, 1);
	T_OK(g.out_w == 300 && g.out_h == 300 && g.img_x == 50 && g.img_y == 100, "extend centres on the canvas");
	o.extend_gravity.type = KL_GRAVITY_SOEA;
	plan(200, 100, 1);
	T_OK(g.img_x == 100 && g.img_y == 200, "extend gravity south-east");

	kl_thumb_opts_default(&o);
	o.width = o.height = 300;
	o.dpr = 2;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 600 && g.out_h == 450, "dpr 2: %ux%u", g.out_w, g.out_h);
	o.dpr = 1;
	o.zoom_x = o.zoom_y = 0.5;
	plan(4000, 3000, 1);
	T_OK(g.out_w == 150 && g.out_h == 113, "zoom 0.5: %ux%u", g.out_w, g.out_h);
	o.zoom_x = o.zoom_y = 1;
	o.min_width = 600;
	o.width = 300;
	o.height = 0;
	plan(4000, 3000, 1);
	T_OK(g.scaled_w == 600 && g.out_w == 300, "min-width: scaled to 600, cropped to width %u", g.out_w);

	kl_thumb_opts_default(&o);
	o.crop_w = 1000;
	o.crop_h = 1000;
	o.crop_gravity_set = 1;
	o.crop_gravity.type = KL_GRAVITY_NOWE;
	o.width = o.height = 100;
	plan(4000, 3000, 1);
	T_OK(g.crop_x == 0 && g.crop_y == 0 && g.crop_w == 1000 && g.out_w == 100 && g.out_h == 100,
	     "crop 1000x1000 north-west then fit 100");
	o.crop_w = 0.5;
	o.crop_h = 0.5;
	o.crop_gravity.type = KL_GRAVITY_CE;
	plan(4000, 3000, 1);
	T_OK(g.crop_x == 1000 && g.crop_y == 750 && g.crop_w == 2000 && g.crop_h == 1500, "relative crop 0.5 centred");
	o.crop_gravity.type = KL_GRAVITY_NO;
	plan(4000, 3000, 6);
	/* upright: 3000x4000, crop 1500x2000 at top -> stored: left columns */
	T_OK(g.crop_x == 0 && g.crop_w == 2000 && g.crop_h == 1500 && g.crop_y == 750,
	     "crop north on an orientation-6 image maps to stored west: %u,%u %ux%u",
	     g.crop_x, g.crop_y, g.crop_w, g.crop_h);
	return T_DONE();
}
