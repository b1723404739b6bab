/* t_thumb.c - the thumbnail job: chunking, arena preflight, errors, options. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "t_img_job.h"

#include <sys/mman.h>

#define C "../shared/corpus/"
#define ARENA (64u << 20)
#define OUTCAP (4u << 20)

static uint8_t *mem, *out1, *out2;

static const char *files[] = {
	C "jpeg/testorig.jpg",          /* baseline 4:2:0 */
	C "jpeg/testimgp.jpg",          /* progressive */
	C "jpeg/testimgari.jpg",        /* arithmetic coded */
	C "jpeg/testimggray.jpg",       /* grayscale */
	C "jpeg/vgl_5674_0098.png",
	C "pngsuite/basn6a16.png",      /* RGBA 16-bit */
	C "pngsuite/basn3p02.png",      /* palette 2-bit */
	C "pngsuite-full/tbrn2c08.png",      /* tRNS */
	C "pngsuite/interlaced/ibasn0g04.png",
	C "pngsuite-full/basi6a08.png", /* interlaced RGBA */
	"../shared/bench-images/photo-2mp.jpg",
	"../shared/bench-images/photo-2mp-rgba.png",
};

static void test_chunks(const char *path, const struct kl_thumb_opts *o, const char *what)
{
	static const size_t chunks[] = {1, 7, 0};
	size_t n, len0 = 0;
	uint8_t *data = t_slurp(path, &n);
	int same = 1, ok = 1;

	if (!data) {
		T_OK(0, "%s: cannot read %s", what, path);
		return;
	}
	for (size_t i = 0; i < KL_ARRAY_LEN(chunks); i++) {
		/* large inputs byte by byte take long: 1-byte only for small files */
		size_t ch = chunks[i] == 1 && n > 300000 ? 3 : chunks[i];
		struct t_job r = t_run(data, n, ch, mem, ARENA, o, i ? out2 : out1, OUTCAP, 16);
		if (r.rc) {
			ok = 0;
			printf("# %s chunk %zu: %s\n", path, ch, r.reason);
		}
		if (i == 0)
			len0 = r.out_len;
		else if (r.out_len != len0 || memcmp(out1, out2, len0) != 0)
			same = 0;
	}
	T_OK(ok && same, "%s: %s, 1/7/whole-byte chunks give identical output", what, path);
	free(data);
}

static void test_need(const char *path, const struct kl_thumb_opts *o)
{
	size_t n;
	uint8_t *data = t_slurp(path, &n);
	struct t_job big, exact, less;

	if (!data) {
		T_OK(0, "cannot read %s", path);
		return;
	}
	big = t_run(data, n, 4096, mem, ARENA, o, out1, OUTCAP, 16);
	T_OK(big.rc == 0 && big.need > 0 && big.peak <= big.need,
	     "%s: preflight %zu bytes covers the peak %zu", path, big.need, big.peak);
	exact = t_run(data, n, 4096, mem, big.need, o, out2, OUTCAP, 16);
	T_OK(exact.rc == 0 && exact.out_len == big.out_len && memcmp(out1, out2, big.out_len) == 0,
	     "%s: arena of exactly the preflight size passes", path);
	less = t_run(data, n, 4096, mem, big.need - 1, o, out2, OUTCAP, 16);
	T_OK(less.rc == KL_ETOOBIG && less.peak < big.need - 1 - 100000,
	     "%s: one byte less is refused at preflight (%.100s)", path, less.reason);
	free(data);
}

static void test_errors(void)
{
	struct kl_thumb_opts o;
	size_t n;
	uint8_t *data = t_slurp(C "jpeg/testorig.jpg", &n);
	struct t_job r;
	static const uint8_t gif[] = "GIF89a\1\0\1\0\0\0\0;";

	kl_thumb_opts_default(&o);
	o.width = o.height = 100;
	for (size_t cut = 1; data && cut < n; cut += n / 7) {
		r = t_run(data, cut, 0, mem, ARENA, &o, out1, OUTCAP, 16);
		T_OK(r.rc == KL_ECORRUPT, "truncated JPEG at %zu of %zu: corrupt (%.100s)", cut, n, r.reason);
	}
	r = t_run(data, n - 2, 0, mem, ARENA, &o, out1, OUTCAP, 16);
	T_OK(r.rc == KL_ECORRUPT, "JPEG without EOI: corrupt (%.100s)", r.reason);
	r = t_run(gif, sizeof(gif) - 1, 0, mem, ARENA, &o, out1, OUTCAP, 16);
	T_OK(r.rc == KL_EUNSUPP, "GIF: unsupported (%.100s)", r.reason);
	r = t_run(gif, 0, 0, mem, ARENA, &o, out1, OUTCAP, 16);
	T_OK(r.rc == KL_ECORRUPT, "empty input: corrupt (%.100s)", r.reason);
	r = t_run(data, n, 0, mem, ARENA, &o, out1, 100, 16);
	T_OK(r.rc == KL_ETOOBIG, "output over its buffer: too big (%.100s)", r.reason);
	r = t_run(data, n, 0, mem, KL_THUMB_ARENA_MIN, &o, out1, OUTCAP, 16);
	T_OK(r.rc == KL_ETOOBIG || r.rc == 0, "small arena: clean result (%.100s)", r.reason);
	free(data);
}

static void test_dims(void)
{
	struct kl_thumb_opts o;
	size_t n;
	uint8_t *data = t_slurp("../shared/bench-images/photo-2mp.jpg", &n);
	struct t_job r;

	kl_thumb_opts_default(&o);
	o.width = o.height = 300;
	r = t_run(data, n, 65536, mem, ARENA, &o, out1, OUTCAP, 16);
	T_OK(r.rc == 0 && r.w == 300 && r.h == 169, "fit 300x300 of 1920x1080: %ux%u", r.w, r.h);
	o.resizing = KL_RESIZE_FILL;
	r = t_run(data, n, 65536, mem, ARENA, &o, out1, OUTCAP, 16);
	T_OK(r.rc == 0 && r.w == 300 && r.h == 300, "fill 300x300: %ux%u", r.w, r.h);
	o.resizing = KL_RESIZE_FIT;
	o.width = 3000;
	o.height = 0;
	r = t_run(data, n, 65536, mem, ARENA, &o, out1, OUTCAP, 16);
	T_OK(r.rc == 0 && r.w == 1920 && r.h == 1080, "no enlarge by default: %ux%u", r.w, r.h);
	o.extend = 1;
	o.height = 2000;
	o.format = KL_FORMAT_PNG;
	r = t_run(data, n, 65536, mem, ARENA, &o, out1, OUTCAP * 4 > OUTCAP ? OUTCAP : OUTCAP, 16);
	T_OK(r.rc == 0 || r.rc == KL_ETOOBIG, "extend 3000x2000: %ux%u (%.100s)", r.w, r.h, r.reason);
	free(data);
}

int main(void)
{
	struct kl_thumb_opts o;

	mem = mmap(NULL, ARENA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	out1 = malloc(OUTCAP);
	out2 = malloc(OUTCAP);
	kl_thumb_opts_default(&o);
	o.width = o.height = 120;
	for (size_t i = 0; i < KL_ARRAY_LEN(files); i++)
		test_chunks(files[i], &o, "fit 120 jpeg-or-png");
	o.format = KL_FORMAT_PNG;
	o.resizing = KL_RESIZE_FILL;
	o.width = 64;
	o.height = 100;
	test_chunks(C "jpeg/testimgp.jpg", &o, "fill 64x100 png");
	kl_thumb_opts_default(&o);
	o.width = o.height = 300;
	for (size_t i = 0; i < KL_ARRAY_LEN(files); i++)
		test_need(files[i], &o);
	test_need("../shared/bench-images/photo-12mp.jpg", &o);
	test_need("../shared/bench-images/photo-12mp-prog.jpg", &o);
	test_errors();
	test_dims();
	free(out1);
	free(out2);
	return T_DONE();
}
