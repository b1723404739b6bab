/* jpeg.c - libjpeg-turbo glue: arena memory, suspending source, buffer destination. */
/* SPDX-License-Identifier: MIT */
#include "img/jpeg.h"
#include "img/exif.h"
#include "base/kl.h"

#include <string.h>

#include <jerror.h>

/*
 * libjpeg's system-dependent memory layer (jmemsys.h), replaced. The
 * prototypes are not in a public header, so they are declared here with
 * libjpeg's exact signatures.
 */
void *jpeg_get_small(j_common_ptr ci, size_t n);
void jpeg_free_small(j_common_ptr ci, void *p, size_t n);
void *jpeg_get_large(j_common_ptr ci, size_t n);
void jpeg_free_large(j_common_ptr ci, void *p, size_t n);
size_t jpeg_mem_available(j_common_ptr ci, size_t min_needed, size_t max_needed, size_t used);
long jpeg_mem_init(j_common_ptr ci);
void jpeg_mem_term(j_common_ptr ci);
struct backing_store_struct;
void jpeg_open_backing_store(j_common_ptr ci, struct backing_store_struct *info, long total);

static struct kl_arena *arena_of(j_common_ptr ci)
{
	/* client_data points at a struct whose first member is the arena */
	struct kl_arena **pa = ci->client_data;
	return pa ? *pa : NULL;
}

void *jpeg_get_small(j_common_ptr ci, size_t n)
{
	struct kl_arena *a = arena_of(ci);
	return a ? kl_arena_alloc(a, n) : NULL;
}

void jpeg_free_small(j_common_ptr ci, void *p, size_t n)
{
	struct kl_arena *a = arena_of(ci);

	(void)n;
	if (a)
		kl_arena_free(a, p);
}

void *jpeg_get_large(j_common_ptr ci, size_t n)
{
	return jpeg_get_small(ci, n);
}

void jpeg_free_large(j_common_ptr ci, void *p, size_t n)
{
	jpeg_free_small(ci, p, n);
}

size_t jpeg_mem_available(j_common_ptr ci, size_t min_needed, size_t max_needed, size_t used)
{
	/* Always "all in memory": there is no backing store, and the arena
	 * refuses what does not fit (JERR_OUT_OF_MEMORY). */
	(void)ci; (void)min_needed; (void)used;
	return max_needed;
}

long jpeg_mem_init(j_common_ptr ci)
{
	struct kl_arena *a = arena_of(ci);
	size_t n = a ? kl_arena_avail(a) : 0;
	return n > 0x7fffffff ? 0x7fffffff : (long)n;
}

void jpeg_mem_term(j_common_ptr ci)
{
	(void)ci;
}

void jpeg_open_backing_store(j_common_ptr ci, struct backing_store_struct *info, long total)
{
	(void)info; (void)total;
	ERREXIT(ci, JERR_NO_BACKING_STORE);
}

/* ---- errors ---- */

static int class_of(int code)
{
	switch (code) {
	case JERR_OUT_OF_MEMORY:
	case JERR_NO_BACKING_STORE:
		return KL_ENOMEM;
	case JERR_BAD_PRECISION:
	case JERR_ARITH_NOTIMPL:
	case JERR_CONVERSION_NOTIMPL:
	case JERR_NOT_COMPILED:
	case JERR_CCIR601_NOTIMPL:
		return KL_EUNSUPP;
	case JERR_IMAGE_TOO_BIG:
	case JERR_WIDTH_OVERFLOW:
		return KL_ETOOBIG;
	default:
		return KL_ECORRUPT;
	}
}

static void lower_first(char *s)
{
	if (s[0] >= 'A' && s[0] <= 'Z' && !(s[1] >= 'A' && s[1] <= 'Z'))
		s[0] = (char)(s[0] - 'A' + 'a');
}

static void on_error(j_common_ptr ci)
{
	struct kl_jpeg_err *e = (struct kl_jpeg_err *)ci->err;

	if (!e->rc) {
		e->rc = class_of(e->pub.msg_code);
		(*e->pub.format_message)(ci, e->msg);
		lower_first(e->msg);
	}
	longjmp(e->jb, 1);
}

/*
 * Warnings are errors: a thumbnail of a damaged file would be padded or
 * smeared, and the contract says such input is refused. Trace messages
 * (level >= 0) are ignored.
 */
static void on_message(j_common_ptr ci, int level)
{
	if (level < 0)
		on_error(ci);
}

static void on_output(j_common_ptr ci)
{
	(void)ci;
}

static void err_init(struct kl_jpeg_err *e)
{
	memset(e, 0, sizeof(*e));
	jpeg_std_error(&e->pub);
	e->pub.error_exit = on_error;
	e->pub.emit_message = on_message;
	e->pub.output_message = on_output;
}

static int fail_with(struct kl_jpeg_err *e, int rc, const char *msg)
{
	if (!e->rc) {
		e->rc = rc;
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	}
	return e->rc;
}

/* ---- suspending source over struct kl_input ---- */

static void src_init(j_decompress_ptr ci)
{
	(void)ci;
}

static boolean src_fill(j_decompress_ptr ci)
{
	struct kl_jpeg_dec *d = (struct kl_jpeg_dec *)ci->client_data;

	/* the window ended, not the data: suspend, the next slice goes on */
	if (d->capped)
		return FALSE;
	if (d->in->eof) {
		fail_with(&d->err, KL_ECORRUPT, "premature end of JPEG data");
		longjmp(d->err.jb, 1);
	}
	return FALSE;   /* suspend: the caller returns KL_AGAIN */
}

static void src_skip(j_decompress_ptr ci, long n)
{
	struct jpeg_source_mgr *s = ci->src;
	struct kl_jpeg_dec *d = (struct kl_jpeg_dec *)ci->client_data;

	if (n <= 0)
		return;
	if (d->capped) {
		/* skip inside the whole buffer, not only inside the slice window */
		size_t real = (size_t)(d->in->buf + d->in->len - s->next_input_byte);
		size_t k = (size_t)n <= real ? (size_t)n : real;
		s->next_input_byte += k;
		s->bytes_in_buffer = s->bytes_in_buffer > k ? s->bytes_in_buffer - k : 0;
		d->in->skip += (size_t)n - k;
		return;
	}
	if ((size_t)n <= s->bytes_in_buffer) {
		s->next_input_byte += n;
		s->bytes_in_buffer -= (size_t)n;
		return;
	}
	/* the rest is dropped as it arrives */
	d->in->skip += (size_t)n - s->bytes_in_buffer;
	s->next_input_byte += s->bytes_in_buffer;
	s->bytes_in_buffer = 0;
}

static void src_term(j_decompress_ptr ci)
{
	(void)ci;
}

static void src_load(struct kl_jpeg_dec *d)
{
	d->src.next_input_byte = d->in->buf + d->in->pos;
	d->src.bytes_in_buffer = d->in->len - d->in->pos;
}

/* Compressed bytes one slice of a multi-scan absorb may see. */
#define START_SLICE (16 * 1024)

static void src_save(struct kl_jpeg_dec *d)
{
	d->in->pos = (size_t)(d->src.next_input_byte - d->in->buf);
	if (d->in->pos == d->in->len)
		d->in->pos = d->in->len = 0;
}

/* ---- decoder ---- */

/* see jpeg.h */
int kl_jpeg_dec_init(struct kl_jpeg_dec *d, struct kl_arena *a, struct kl_input *in)
{
	memset(d, 0, sizeof(*d));
	d->arena = a;
	d->in = in;
	d->orientation = 1;
	err_init(&d->err);
	d->ci.err = &d->err.pub;
	d->ci.client_data = d;
	if (setjmp(d->err.jb))
		return d->err.rc;
	jpeg_create_decompress(&d->ci);
	d->created = 1;
	d->src.init_source = src_init;
	d->src.fill_input_buffer = src_fill;
	d->src.skip_input_data = src_skip;
	d->src.resync_to_restart = jpeg_resync_to_restart;
	d->src.term_source = src_term;
	d->ci.src = &d->src;
	/* APP1 only, for EXIF orientation; every other marker is skipped */
	jpeg_save_markers(&d->ci, JPEG_APP0 + 1, 0xffff);
	return 0;
}

/* see jpeg.h */
int kl_jpeg_dec_header(struct kl_jpeg_dec *d)
{
	int r;

	if (d->err.rc)
		return d->err.rc;
	if (setjmp(d->err.jb)) {
		src_save(d);
		return d->err.rc;
	}
	src_load(d);
	r = jpeg_read_header(&d->ci, TRUE);
	src_save(d);
	if (r == JPEG_SUSPENDED)
		return KL_AGAIN;
	if (r != JPEG_HEADER_OK)
		return fail_with(&d->err, KL_ECORRUPT, "no image in JPEG data");
	d->width = d->ci.image_width;
	d->height = d->ci.image_height;
	d->multiscan = jpeg_has_multiple_scans(&d->ci) ? 1 : 0;
	d->cmyk = d->ci.jpeg_color_space == JCS_CMYK || d->ci.jpeg_color_space == JCS_YCCK;
	/* Photoshop (the Adobe marker's writer) stores CMYK inverted */
	d->inverted = d->cmyk && d->ci.saw_Adobe_marker;
	for (jpeg_saved_marker_ptr m = d->ci.marker_list; m; m = m->next) {
		if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
		    memcmp(m->data, "Exif\0\0", 6) == 0) {
			d->orientation = kl_exif_app1_orientation(m->data, m->data_length);
			break;
		}
	}
	return 0;
}

/* see jpeg.h */
size_t kl_jpeg_dec_coef_bytes(const struct kl_jpeg_dec *d)
{
	size_t n = 0;

	for (int i = 0; i < d->ci.num_components; i++) {
		const jpeg_component_info *c = &d->ci.comp_info[i];
		size_t w = KL_ALIGN_UP((size_t)c->width_in_blocks, (size_t)c->h_samp_factor);
		size_t h = KL_ALIGN_UP((size_t)c->height_in_blocks, (size_t)c->v_samp_factor);
		/* one block row of pointers per row, plus the blocks */
		n += w * h * sizeof(JBLOCK) + h * sizeof(void *) + 64;
	}
	return n;
}

/* see jpeg.h */
size_t kl_jpeg_dec_prepare(struct kl_jpeg_dec *d, int denom)
{
	size_t need = 160 * 1024;       /* tables, pools, IDCT and colour workspaces */
	int maxv = d->ci.max_v_samp_factor;

	d->ci.scale_num = 1;
	d->ci.scale_denom = (unsigned)denom;
	d->ci.dct_method = JDCT_ISLOW;
	d->ci.out_color_space = d->cmyk ? JCS_CMYK : JCS_RGB;
	jpeg_calc_output_dimensions(&d->ci);
	d->out_w = d->ci.output_width;
	d->out_h = d->ci.output_height;
	for (int i = 0; i < d->ci.num_components; i++) {
		const jpeg_component_info *c = &d->ci.comp_info[i];
		size_t rw = KL_ALIGN_UP((size_t)c->width_in_blocks, (size_t)d->ci.max_h_samp_factor) *
			    (size_t)c->DCT_scaled_size;
		size_t rows = (size_t)c->v_samp_factor * (size_t)c->DCT_scaled_size;

		/* main buffer: up to 4 row groups plus context, two pointer sets */
		need += rw * rows * 4 + rows * 6 * sizeof(void *) + 1024;
		/* upsampler: a full-width row group per component */
		need += (KL_ALIGN_UP((size_t)d->out_w, 16) + 64) * (size_t)maxv * 2 + 256;
	}
	if (d->multiscan)
		need += kl_jpeg_dec_coef_bytes(d);
	if (d->cmyk)
		need += kl_arena_cost((size_t)d->out_w * 4);
	return need;
}

/* see jpeg.h */
int kl_jpeg_dec_start(struct kl_jpeg_dec *d)
{
	int r;

	if (d->err.rc)
		return d->err.rc;
	if (setjmp(d->err.jb)) {
		src_save(d);
		return d->err.rc;
	}
	if (d->cmyk && !d->cmyk_row) {
		d->cmyk_row = kl_arena_alloc(d->arena, (size_t)d->out_w * 4);
		if (!d->cmyk_row)
			return fail_with(&d->err, KL_ENOMEM, "arena full");
	}
	/*
	 * A multi-scan image absorbs every scan inside jpeg_start_decompress:
	 * with the whole file buffered that is one long call. Showing libjpeg
	 * a window of START_SLICE bytes at a time bounds each slice; when a
	 * window makes no progress at all, the whole buffer is shown.
	 */
	src_load(d);
	if (d->src.bytes_in_buffer > START_SLICE) {
		const JOCTET *before = d->src.next_input_byte;
		d->capped = 1;
		d->src.bytes_in_buffer = START_SLICE;
		r = jpeg_start_decompress(&d->ci);
		d->capped = 0;
		if (r || d->src.next_input_byte != before) {
			src_save(d);
			return r ? 0 : 1;
		}
		src_load(d);
	}
	r = jpeg_start_decompress(&d->ci);
	src_save(d);
	return r ? 0 : KL_AGAIN;
}

/* see jpeg.h */
int kl_jpeg_dec_row(struct kl_jpeg_dec *d, uint8_t *rgb)
{
	JSAMPROW row;
	JDIMENSION n;

	if (d->err.rc)
		return d->err.rc;
	if (setjmp(d->err.jb)) {
		src_save(d);
		return d->err.rc;
	}
	row = d->cmyk ? d->cmyk_row : rgb;
	src_load(d);
	n = jpeg_read_scanlines(&d->ci, &row, 1);
	src_save(d);
	if (n == 0)
		return KL_AGAIN;
	if (d->cmyk) {
		const uint8_t *s = d->cmyk_row;
		for (uint32_t x = 0; x < d->out_w; x++, s += 4) {
			unsigned c = s[0], m = s[1], y = s[2], k = s[3];
			if (!d->inverted) {
				c = 255 - c; m = 255 - m; y = 255 - y; k = 255 - k;
			}
			/* stored inverted: each value is already 255 - ink */
			rgb[3 * x + 0] = (uint8_t)((c * k + 127) / 255);
			rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
			rgb[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
		}
	}
	return 1;
}

/* see jpeg.h */
int kl_jpeg_dec_finish(struct kl_jpeg_dec *d)
{
	int r;

	if (d->err.rc)
		return d->err.rc;
	if (setjmp(d->err.jb)) {
		src_save(d);
		return d->err.rc;
	}
	src_load(d);
	r = jpeg_finish_decompress(&d->ci);
	src_save(d);
	return r ? 0 : KL_AGAIN;
}

/* see jpeg.h */
const char *kl_jpeg_dec_reason(const struct kl_jpeg_dec *d)
{
	return d->err.msg[0] ? d->err.msg : kl_strerror(d->err.rc);
}

/* see jpeg.h */
void kl_jpeg_dec_reset(struct kl_jpeg_dec *d)
{
	if (d->created) {
		jpeg_destroy_decompress(&d->ci);
		d->created = 0;
	}
}

/* ---- encoder ---- */

static void dst_init(j_compress_ptr ci)
{
	struct kl_jpeg_enc *e = (struct kl_jpeg_enc *)ci->client_data;

	e->dst.next_output_byte = e->out;
	e->dst.free_in_buffer = e->cap;
}

static boolean dst_full(j_compress_ptr ci)
{
	struct kl_jpeg_enc *e = (struct kl_jpeg_enc *)ci->client_data;
	char msg[96];

	snprintf(msg, sizeof(msg), "encoded image is over the %zu-byte output buffer", e->cap);
	fail_with(&e->err, KL_ETOOBIG, msg);
	longjmp(e->err.jb, 1);
}

static void dst_term(j_compress_ptr ci)
{
	struct kl_jpeg_enc *e = (struct kl_jpeg_enc *)ci->client_data;

	e->len = e->cap - e->dst.free_in_buffer;
}

/* see jpeg.h */
size_t kl_jpeg_enc_need(uint32_t w, uint32_t h)
{
	/* whole-image coefficients for optimised Huffman tables (4:4:4 worst
	 * case: 3 blocks per 8x8 pixels), a few rows of samples, the tables */
	size_t bw = (w + 15) / 16 * 2, bh = (h + 15) / 16 * 2;

	return 128 * 1024 + 3 * bw * bh * sizeof(JBLOCK) + 3 * bh * 2 * sizeof(void *) +
	       (size_t)(w + 32) * 3 * 16 * 4;
}

/* see jpeg.h */
int kl_jpeg_enc_init(struct kl_jpeg_enc *e, struct kl_arena *a, uint32_t w, uint32_t h,
		     int quality, int progressive, uint8_t *out, size_t cap)
{
	const int q = quality < 1 ? 1 : quality > 100 ? 100 : quality;

	memset(e, 0, sizeof(*e));
	e->arena = a;
	e->out = out;
	e->cap = cap;
	err_init(&e->err);
	e->ci.err = &e->err.pub;
	e->ci.client_data = e;
	if (setjmp(e->err.jb))
		return e->err.rc;
	jpeg_create_compress(&e->ci);
	e->created = 1;
	e->dst.init_destination = dst_init;
	e->dst.empty_output_buffer = dst_full;
	e->dst.term_destination = dst_term;
	e->ci.dest = &e->dst;
	e->ci.image_width = w;
	e->ci.image_height = h;
	e->ci.input_components = 3;
	e->ci.in_color_space = JCS_RGB;
	jpeg_set_defaults(&e->ci);
	jpeg_set_quality(&e->ci, q, TRUE);
	/* libvips/imgproxy's choice: full chroma from q90 up */
	if (q >= 90) {
		e->ci.comp_info[0].h_samp_factor = 1;
		e->ci.comp_info[0].v_samp_factor = 1;
	}
	e->ci.optimize_coding = TRUE;
	e->ci.dct_method = JDCT_ISLOW;
	if (progressive)
		jpeg_simple_progression(&e->ci);
	jpeg_start_compress(&e->ci, TRUE);
	return 0;
}

/* see jpeg.h */
int kl_jpeg_enc_row(struct kl_jpeg_enc *e, const uint8_t *rgb)
{
	JSAMPROW row = (JSAMPROW)rgb;

	if (e->err.rc)
		return e->err.rc;
	if (setjmp(e->err.jb))
		return e->err.rc;
	jpeg_write_scanlines(&e->ci, &row, 1);
	return 0;
}

/* see jpeg.h */
int kl_jpeg_enc_finish(struct kl_jpeg_enc *e, size_t *len)
{
	if (e->err.rc)
		return e->err.rc;
	if (setjmp(e->err.jb))
		return e->err.rc;
	jpeg_finish_compress(&e->ci);
	*len = e->len;
	return 0;
}

/* see jpeg.h */
const char *kl_jpeg_enc_reason(const struct kl_jpeg_enc *e)
{
	return e->err.msg[0] ? e->err.msg : kl_strerror(e->err.rc);
}

/* see jpeg.h */
void kl_jpeg_enc_reset(struct kl_jpeg_enc *e)
{
	if (e->created) {
		jpeg_destroy_compress(&e->ci);
		e->created = 0;
	}
}
