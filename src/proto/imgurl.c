/* imgurl.c - imgproxy's URL API: signature check, processing options, source URL. */
/* SPDX-License-Identifier: MIT */
#include "proto/imgurl.h"
#include "base/b64.h"
#include "base/kl.h"

#include <string.h>

#define SIG_FULL 32     /* bytes of an HMAC-SHA256 digest */

struct sl {             /* a slice of the caller's bytes */
	const char *p;
	size_t n;
};

/* Parsing state of one request; the preset chain guards against recursion. */
struct ctx {
	const struct kl_imgurl_conf *c;
	struct kl_imgopts *o;
	char *why;
	size_t why_cap;
	struct sl seg;                          /* the option as written, for messages */
	const char *preset;                     /* preset being expanded, for messages */
	size_t chain[KL_IMGURL_PRESET_DEPTH];   /* preset indices being expanded */
	unsigned depth;
};

/* ---- messages ---- */

/*
 * Appends to a NUL-terminated line, showing bytes outside printable ASCII
 * as '?' so that the line can go into an HTTP body or a log as is, and
 * ending with "..." when it does not fit.
 */
static void put(char *d, size_t cap, const char *s, size_t n)
{
	size_t o = strlen(d), i;

	for (i = 0; i < n && o + 1 < cap; i++)
		d[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	d[o] = 0;
	if (i < n && cap >= 4)
		memcpy(d + cap - 4, "...", 4);
}

static void puts0(char *d, size_t cap, const char *s)
{
	put(d, cap, s, strlen(s));
}

/* "msg: <arg>" plus " (preset NAME)" when inside a preset. Returns rc. */
static int fail(struct ctx *x, int rc, const char *msg, struct sl arg)
{
	x->why[0] = 0;
	puts0(x->why, x->why_cap, msg);
	if (arg.n > 0) {
		puts0(x->why, x->why_cap, ": ");
		put(x->why, x->why_cap, arg.p, arg.n);
	}
	if (x->preset) {
		puts0(x->why, x->why_cap, " (preset ");
		puts0(x->why, x->why_cap, x->preset);
		puts0(x->why, x->why_cap, ")");
	}
	return rc;
}

/* "invalid <what>: <option as written>" (imgproxy: "Invalid %s: %s"). */
static int bad(struct ctx *x, const char *what)
{
	char msg[64] = "invalid ";

	put(msg, sizeof(msg), what, strlen(what));
	return fail(x, KL_EINVAL, msg, x->seg);
}

/* "invalid <name> arguments: <option>" (imgproxy: "Invalid %s arguments: %s"). */
static int bad_args(struct ctx *x, const char *name)
{
	char msg[64] = "invalid ";

	puts0(msg, sizeof(msg), name);
	puts0(msg, sizeof(msg), " arguments");
	return fail(x, KL_EINVAL, msg, x->seg);
}

/* ---- scalar syntax, as Go's strconv accepts it (minus its oddities) ---- */

static int eq(struct sl s, const char *lit)
{
	size_t n = strlen(lit);

	return s.n == n && memcmp(s.p, lit, n) == 0;
}

/* strconv.Atoi / ParseInt base 10: [+-]digits, no spaces, no overflow. */
static int parse_i64(struct sl s, int64_t *v)
{
	size_t i = 0;
	int neg = 0;
	uint64_t acc = 0, lim;

	if (s.n > 0 && (s.p[0] == '+' || s.p[0] == '-'))
		neg = s.p[i++] == '-';
	if (i == s.n)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < s.n; i++) {
		unsigned d = (unsigned char)s.p[i] - '0';
		if (d > 9 || acc > (lim - d) / 10)
			return -1;
		acc = acc * 10 + d;
	}
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

/* An int in [lo, hi]. Go's int is 64 bits; we keep to what an int holds. */
static int parse_int(struct sl s, int lo, int hi, int *v)
{
	int64_t w;

	if (parse_i64(s, &w) != 0 || w < lo || w > hi)
		return -1;
	*v = (int)w;
	return 0;
}

static double pow10i(int e)
{
	double r = 1, b = 10;

	for (unsigned u = (unsigned)(e < 0 ? -e : e); u; u >>= 1, b *= b)
		if (u & 1)
			r *= b;
	return e < 0 ? 1 / r : r;
}

/*
 * strconv.ParseFloat for plain decimals: [+-]digits[.digits][e[+-]digits]
 * with at least one mantissa digit. Go also takes "inf", "nan", hex floats
 * and '_' separators; none of them make sense in a thumbnail URL, so they
 * are refused. Exact for up to 19 significant digits and small exponents,
 * which covers every value a URL builder writes.
 */
static int parse_double(struct sl s, double *v)
{
	size_t i = 0;
	int neg = 0, digits = 0, sig = 0, e10 = 0;
	uint64_t m = 0;
	double r;

	if (s.n > 0 && (s.p[0] == '+' || s.p[0] == '-'))
		neg = s.p[i++] == '-';
	for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++, digits++) {
		if (sig < 19) {
			m = m * 10 + (uint64_t)(s.p[i] - '0');
			sig += m != 0;
		} else {
			e10++;
		}
	}
	if (i < s.n && s.p[i] == '.') {
		for (i++; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++, digits++) {
			if (sig < 19) {
				m = m * 10 + (uint64_t)(s.p[i] - '0');
				sig += m != 0;
				e10--;
			}
		}
	}
	if (digits == 0)
		return -1;
	if (i < s.n && (s.p[i] == 'e' || s.p[i] == 'E')) {
		int eneg = 0, ed = 0, ev = 0;
		i++;
		if (i < s.n && (s.p[i] == '+' || s.p[i] == '-'))
			eneg = s.p[i++] == '-';
		for (; i < s.n && s.p[i] >= '0' && s.p[i] <= '9'; i++, ed++)
			if (ev < 10000)
				ev = ev * 10 + (s.p[i] - '0');
		if (ed == 0)
			return -1;
		e10 += eneg ? -ev : ev;
	}
	if (i != s.n)
		return -1;
	if (e10 > 400)
		return -1;      /* overflows a double unless m == 0; refuse anyway */
	if (m == 0 || e10 < -400)
		r = 0;
	else if (e10 < 0)
		r = (double)m / pow10i(-e10);
	else
		r = (double)m * pow10i(e10);
	if (r - r != 0)
		return -1;      /* inf */
	*v = neg ? -r : r;
	return 0;
}

/*
 * strconv.ParseBool. imgproxy treats anything else as false (with a
 * warning in its log) rather than as an error, and so do we.
 */
static int parse_bool(struct sl s)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };

	for (size_t i = 0; i < KL_ARRAY_LEN(yes); i++)
		if (eq(s, yes[i]))
			return 1;
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/*
 * url.PathUnescape: "%XX" with two hex digits, '+' stays '+'. Decoded
 * control bytes are refused: no URL or file name may carry them, and Go's
 * url.Parse refuses them later in imgproxy anyway. Returns the length, or
 * -1 for bad encoding, -2 when out is too small.
 */
static long unescape(struct sl s, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < s.n; i++) {
		int c = (unsigned char)s.p[i];
		if (c == '%') {
			int h, l;
			if (s.n - i < 3)
				return -1;
			h = hexval(s.p[i + 1]);
			l = hexval(s.p[i + 2]);
			if (h < 0 || l < 0)
				return -1;
			c = h << 4 | l;
			i += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return -1;
		if (o >= cap)
			return -2;
		out[o++] = (char)c;
	}
	return (long)o;
}

/* ---- enumerations ---- */

static const struct {
	const char *name;
	enum kl_imgurl_rtype t;
} rtypes[] = {
	{ "fit", KL_IMGURL_FIT }, { "fill", KL_IMGURL_FILL }, { "fill-down", KL_IMGURL_FILL_DOWN },
	{ "force", KL_IMGURL_FORCE }, { "auto", KL_IMGURL_AUTO },
};

static const struct {
	const char *name;
	enum kl_imgurl_grav g;
} gravs[] = {
	{ "ce", KL_IMGURL_GRAV_CE }, { "no", KL_IMGURL_GRAV_NO }, { "so", KL_IMGURL_GRAV_SO },
	{ "ea", KL_IMGURL_GRAV_EA }, { "we", KL_IMGURL_GRAV_WE }, { "noea", KL_IMGURL_GRAV_NOEA },
	{ "nowe", KL_IMGURL_GRAV_NOWE }, { "soea", KL_IMGURL_GRAV_SOEA },
	{ "sowe", KL_IMGURL_GRAV_SOWE }, { "sm", KL_IMGURL_GRAV_SM }, { "fp", KL_IMGURL_GRAV_FP },
};

/* imgproxy's format names (imagetype); "jpg" and "jpeg" are one format. */
static const struct {
	const char *name;
	enum kl_imgurl_format f;
} fmts[] = {
	{ "jpeg", KL_IMGURL_FMT_JPEG }, { "jpg", KL_IMGURL_FMT_JPEG }, { "png", KL_IMGURL_FMT_PNG },
	{ "webp", KL_IMGURL_FMT_WEBP }, { "avif", KL_IMGURL_FMT_AVIF }, { "gif", KL_IMGURL_FMT_GIF },
	{ "ico", KL_IMGURL_FMT_ICO }, { "svg", KL_IMGURL_FMT_SVG }, { "heic", KL_IMGURL_FMT_HEIC },
	{ "bmp", KL_IMGURL_FMT_BMP }, { "tiff", KL_IMGURL_FMT_TIFF }, { "jxl", KL_IMGURL_FMT_JXL },
};

static int find_rtype(struct sl s, enum kl_imgurl_rtype *t)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(rtypes); i++)
		if (eq(s, rtypes[i].name)) {
			*t = rtypes[i].t;
			return 0;
		}
	return -1;
}

static int find_format(struct sl s, enum kl_imgurl_format *f)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(fmts); i++)
		if (eq(s, fmts[i].name)) {
			*f = fmts[i].f;
			return 0;
		}
	return -1;
}

/* ---- options ---- */

/*
 * imgproxy's parseGravity: a type, then for compass types up to two
 * offsets (any float), for fp exactly two coordinates in 0..1, for sm
 * nothing. `what` names the gravity in messages ("gravity", "crop gravity").
 */
static int gravity(struct ctx *x, struct kl_imgurl_gravity *g, const struct sl *a, size_t n,
		   int allow_sm, const char *what, const char *what_args)
{
	enum kl_imgurl_grav t = KL_IMGURL_GRAV_UNSET;
	char m[48];
	double v;

	for (size_t i = 0; i < KL_ARRAY_LEN(gravs); i++)
		if (eq(a[0], gravs[i].name))
			t = gravs[i].g;
	if (t == KL_IMGURL_GRAV_UNSET || (t == KL_IMGURL_GRAV_SM && !allow_sm)) {
		m[0] = 0;
		puts0(m, sizeof(m), what);
		puts0(m, sizeof(m), " type");
		return bad(x, m);
	}
	if ((t == KL_IMGURL_GRAV_SM && n > 1) || (t == KL_IMGURL_GRAV_FP && n != 3) || n > 3)
		return bad_args(x, what_args);
	for (size_t i = 1; i < n; i++) {
		if (parse_double(a[i], &v) != 0 || (t == KL_IMGURL_GRAV_FP && (v < 0 || v > 1))) {
			m[0] = 0;
			puts0(m, sizeof(m), what);
			puts0(m, sizeof(m), i == 1 ? " x" : " y");
			return bad(x, m);
		}
		if (i == 1)
			g->x = v;
		else
			g->y = v;
	}
	g->type = t;
	if (t == KL_IMGURL_GRAV_SM)
		g->x = g->y = 0;
	return KL_OK;
}

static int opt_dim(struct ctx *x, struct sl a, int *d, uint32_t bit, const char *what)
{
	if (parse_int(a, 0, INT32_MAX, d) != 0)
		return bad(x, what);
	x->o->set |= bit;
	return KL_OK;
}

static int opt_extend(struct ctx *x, const struct sl *a, size_t n)
{
	int rc;

	if (n > 4)
		return bad_args(x, "extend");
	x->o->extend = parse_bool(a[0]);
	x->o->set |= KL_IMGOPT_EXTEND;
	if (n > 1 && (rc = gravity(x, &x->o->extend_gravity, a + 1, n - 1, 0,
				   "extend gravity", "extend gravity")) != KL_OK)
		return rc;
	return KL_OK;
}

/* size: width:height:enlarge:extend... ; empty arguments keep the value. */
static int opt_size(struct ctx *x, const struct sl *a, size_t n)
{
	struct kl_imgopts *o = x->o;
	int rc;

	if (n > 7)
		return bad_args(x, "size");
	if (n >= 1 && a[0].n && (rc = opt_dim(x, a[0], &o->width, KL_IMGOPT_WIDTH, "width")))
		return rc;
	if (n >= 2 && a[1].n && (rc = opt_dim(x, a[1], &o->height, KL_IMGOPT_HEIGHT, "height")))
		return rc;
	if (n >= 3 && a[2].n) {
		o->enlarge = parse_bool(a[2]);
		o->set |= KL_IMGOPT_ENLARGE;
	}
	if (n >= 4 && a[3].n)
		return opt_extend(x, a + 3, n - 3);
	return KL_OK;
}

static int opt_rtype(struct ctx *x, struct sl a)
{
	if (find_rtype(a, &x->o->rtype) != 0)
		return bad(x, "resizing type");
	x->o->set |= KL_IMGOPT_RTYPE;
	return KL_OK;
}

static int opt_zoom(struct ctx *x, const struct sl *a, size_t n)
{
	double zx, zy;

	if (n > 2)
		return bad_args(x, "zoom");
	if (parse_double(a[0], &zx) != 0 || !(zx > 0))
		return bad(x, "zoom");
	zy = zx;
	if (n > 1 && (parse_double(a[1], &zy) != 0 || !(zy > 0)))
		return bad(x, "zoom");
	x->o->zoom_x = zx;
	x->o->zoom_y = zy;
	x->o->set |= KL_IMGOPT_ZOOM;
	return KL_OK;
}

static int opt_crop(struct ctx *x, const struct sl *a, size_t n)
{
	struct kl_imgopts *o = x->o;
	double v;

	if (parse_double(a[0], &v) != 0 || v < 0)
		return bad(x, "crop width");
	o->crop_w = v;
	if (n > 1) {
		if (parse_double(a[1], &v) != 0 || v < 0)
			return bad(x, "crop height");
		o->crop_h = v;
	}
	o->set |= KL_IMGOPT_CROP;
	if (n > 2)
		return gravity(x, &o->crop_gravity, a + 2, n - 2, 1, "crop gravity", "crop gravity");
	return KL_OK;
}

static int opt_background(struct ctx *x, const struct sl *a, size_t n)
{
	struct kl_imgopts *o = x->o;
	uint8_t c[3];

	if (n == 1) {
		if (a[0].n == 0) {
			/* "bg:" drops an earlier background (imgproxy deletes it) */
			o->set &= ~(uint32_t)KL_IMGOPT_BACKGROUND;
			o->bg[0] = o->bg[1] = o->bg[2] = 255;
			return KL_OK;
		}
		if (a[0].n != 3 && a[0].n != 6)
			return bad(x, "background");
		for (size_t i = 0; i < a[0].n; i++)
			if (hexval(a[0].p[i]) < 0)
				return bad(x, "background");
		for (int i = 0; i < 3; i++)
			c[i] = a[0].n == 3 ? (uint8_t)(hexval(a[0].p[i]) * 17)
				: (uint8_t)(hexval(a[0].p[2 * i]) << 4 | hexval(a[0].p[2 * i + 1]));
	} else if (n == 3) {
		for (int i = 0; i < 3; i++) {
			int v;
			/* strconv.ParseUint(s, 10, 8): digits only, no sign */
			if (a[i].n == 0 || a[i].p[0] == '+' || a[i].p[0] == '-' ||
			    parse_int(a[i], 0, 255, &v) != 0)
				return bad(x, "background");
			c[i] = (uint8_t)v;
		}
	} else {
		return bad_args(x, "background");
	}
	memcpy(o->bg, c, 3);
	o->set |= KL_IMGOPT_BACKGROUND;
	return KL_OK;
}

static int opt_format(struct ctx *x, struct sl a, enum kl_imgurl_format *f)
{
	if (find_format(a, f) != 0)
		return bad(x, "format");
	return KL_OK;
}

/* Copies a decoded string into a fixed field; refuses what does not fit. */
static int opt_filename(struct ctx *x, const struct sl *a, size_t n)
{
	struct kl_imgopts *o = x->o;
	char tmp[KL_IMGURL_FILENAME_MAX];
	long len;

	if (n > 2)
		return bad_args(x, "filename");
	if (n > 1 && parse_bool(a[1])) {
		size_t m = a[0].n;
		while (m > 0 && a[0].p[m - 1] == '=')
			m--;
		len = kl_b64_decode(a[0].p, m, (uint8_t *)tmp, sizeof(tmp) - 1, KL_B64_URL);
		for (long i = 0; i < len; i++)
			if ((unsigned char)tmp[i] < 0x20 || tmp[i] == 0x7f)
				len = -1;
	} else {
		len = unescape(a[0], tmp, sizeof(tmp) - 1);
	}
	if (len < 0)
		return bad(x, "filename");
	memcpy(o->filename, tmp, (size_t)len);
	o->filename[len] = 0;
	o->set |= KL_IMGOPT_FILENAME;
	return KL_OK;
}

static int apply_preset(struct ctx *x, struct sl name);

enum opt_id {
	O_RESIZE, O_SIZE, O_RTYPE, O_WIDTH, O_HEIGHT, O_MIN_WIDTH, O_MIN_HEIGHT, O_ZOOM,
	O_DPR, O_ENLARGE, O_EXTEND, O_GRAVITY, O_CROP, O_AUTO_ROTATE, O_ROTATE, O_BACKGROUND,
	O_QUALITY, O_FORMAT, O_STRIP_METADATA, O_CACHEBUSTER, O_EXPIRES, O_FILENAME,
	O_ATTACHMENT, O_PRESET
};

/* imgproxy's option names and aliases (options/parser: applyURLOption). */
static const struct {
	const char *name;
	enum opt_id id;
} names[] = {
	{ "resize", O_RESIZE }, { "rs", O_RESIZE }, { "size", O_SIZE }, { "s", O_SIZE },
	{ "resizing_type", O_RTYPE }, { "rt", O_RTYPE }, { "width", O_WIDTH }, { "w", O_WIDTH },
	{ "height", O_HEIGHT }, { "h", O_HEIGHT }, { "min-width", O_MIN_WIDTH },
	{ "mw", O_MIN_WIDTH }, { "min-height", O_MIN_HEIGHT }, { "mh", O_MIN_HEIGHT },
	{ "zoom", O_ZOOM }, { "z", O_ZOOM }, { "dpr", O_DPR }, { "enlarge", O_ENLARGE },
	{ "el", O_ENLARGE }, { "extend", O_EXTEND }, { "ex", O_EXTEND },
	{ "gravity", O_GRAVITY }, { "g", O_GRAVITY }, { "crop", O_CROP }, { "c", O_CROP },
	{ "auto_rotate", O_AUTO_ROTATE }, { "ar", O_AUTO_ROTATE }, { "rotate", O_ROTATE },
	{ "rot", O_ROTATE }, { "background", O_BACKGROUND }, { "bg", O_BACKGROUND },
	{ "quality", O_QUALITY }, { "q", O_QUALITY }, { "format", O_FORMAT }, { "f", O_FORMAT },
	{ "ext", O_FORMAT }, { "strip_metadata", O_STRIP_METADATA }, { "sm", O_STRIP_METADATA },
	{ "cachebuster", O_CACHEBUSTER }, { "cb", O_CACHEBUSTER }, { "expires", O_EXPIRES },
	{ "exp", O_EXPIRES }, { "filename", O_FILENAME }, { "fn", O_FILENAME },
	{ "return_attachment", O_ATTACHMENT }, { "att", O_ATTACHMENT },
	{ "preset", O_PRESET }, { "pr", O_PRESET },
};

/* Options taking exactly one argument, and their names in messages. */
static const char *one_arg(enum opt_id id)
{
	switch (id) {
	case O_RTYPE: return "resizing_type";
	case O_WIDTH: return "width";
	case O_HEIGHT: return "height";
	case O_MIN_WIDTH: return "min-width";
	case O_MIN_HEIGHT: return "min-height";
	case O_DPR: return "dpr";
	case O_ENLARGE: return "enlarge";
	case O_AUTO_ROTATE: return "auto_rotate";
	case O_ROTATE: return "rotate";
	case O_QUALITY: return "quality";
	case O_FORMAT: return "format";
	case O_STRIP_METADATA: return "strip_metadata";
	case O_CACHEBUSTER: return "cachebuster";
	case O_EXPIRES: return "expires";
	case O_ATTACHMENT: return "return_attachment";
	default: return NULL;
	}
}

/*
 * Applies one option segment ("name:arg:arg"). The segment MUST contain a
 * ':' (segments without one start the source URL).
 */
static int apply_opt(struct ctx *x, struct sl seg)
{
	struct kl_imgopts *o = x->o;
	struct sl a[KL_IMGURL_MAX_ARGS], name;
	size_t n = 0, i, start;
	const char *one;
	enum opt_id id;
	int rc = KL_OK, k = -1;

	x->seg = seg;
	for (i = 0; seg.p[i] != ':'; i++)
		;
	name = (struct sl){ seg.p, i };
	for (size_t j = 0; j < KL_ARRAY_LEN(names); j++)
		if (eq(name, names[j].name))
			k = (int)j;
	if (k < 0)
		return fail(x, KL_EINVAL, "unknown option", seg);
	id = names[k].id;
	while (k > 0 && names[k - 1].id == id)
		k--;    /* the long name comes first: use it in messages */
	for (start = ++i;; i++) {
		if (i == seg.n || seg.p[i] == ':') {
			if (n == KL_IMGURL_MAX_ARGS)
				return bad_args(x, names[k].name);
			a[n++] = (struct sl){ seg.p + start, i - start };
			start = i + 1;
			if (i == seg.n)
				break;
		}
	}
	one = one_arg(id);
	if (one && n > 1)
		return bad_args(x, one);

	switch (id) {
	case O_RESIZE:
		if (n > 8)
			return bad_args(x, "resize");
		if (a[0].n && (rc = opt_rtype(x, a[0])) != KL_OK)
			return rc;
		if (n > 1)
			rc = opt_size(x, a + 1, n - 1);
		break;
	case O_SIZE:
		rc = opt_size(x, a, n);
		break;
	case O_RTYPE:
		rc = opt_rtype(x, a[0]);
		break;
	case O_WIDTH:
		rc = opt_dim(x, a[0], &o->width, KL_IMGOPT_WIDTH, "width");
		break;
	case O_HEIGHT:
		rc = opt_dim(x, a[0], &o->height, KL_IMGOPT_HEIGHT, "height");
		break;
	case O_MIN_WIDTH:
		rc = opt_dim(x, a[0], &o->min_width, KL_IMGOPT_MIN_WIDTH, "min-width");
		break;
	case O_MIN_HEIGHT:
		rc = opt_dim(x, a[0], &o->min_height, KL_IMGOPT_MIN_HEIGHT, "min-height");
		break;
	case O_ZOOM:
		rc = opt_zoom(x, a, n);
		break;
	case O_DPR:
		if (parse_double(a[0], &o->dpr) != 0 || !(o->dpr > 0)) {
			o->dpr = 1;
			return bad(x, "dpr");
		}
		o->set |= KL_IMGOPT_DPR;
		break;
	case O_ENLARGE:
		o->enlarge = parse_bool(a[0]);
		o->set |= KL_IMGOPT_ENLARGE;
		break;
	case O_EXTEND:
		rc = opt_extend(x, a, n);
		break;
	case O_GRAVITY:
		rc = gravity(x, &o->gravity, a, n, 1, "gravity", "gravity");
		if (rc == KL_OK)
			o->set |= KL_IMGOPT_GRAVITY;
		break;
	case O_CROP:
		rc = opt_crop(x, a, n);
		break;
	case O_AUTO_ROTATE:
		o->auto_rotate = parse_bool(a[0]);
		o->set |= KL_IMGOPT_AUTO_ROTATE;
		break;
	case O_ROTATE: {
		int64_t r;
		if (parse_i64(a[0], &r) != 0)
			return bad(x, "rotate");
		if (r % 90 != 0)
			return fail(x, KL_EINVAL, "rotation angle must be a multiple of 90", seg);
		o->rotate = (int)(((r % 360) + 360) % 360);
		o->set |= KL_IMGOPT_ROTATE;
		break;
	}
	case O_BACKGROUND:
		rc = opt_background(x, a, n);
		break;
	case O_QUALITY:
		if (parse_int(a[0], 0, 100, &o->quality) != 0)
			return bad(x, "quality");
		o->set |= KL_IMGOPT_QUALITY;
		break;
	case O_FORMAT:
		if ((rc = opt_format(x, a[0], &o->format)) == KL_OK)
			o->set |= KL_IMGOPT_FORMAT;
		break;
	case O_STRIP_METADATA:
		o->strip_metadata = parse_bool(a[0]);
		o->set |= KL_IMGOPT_STRIP_METADATA;
		break;
	case O_CACHEBUSTER:
		if (a[0].n >= sizeof(o->cachebuster))
			return bad(x, "cachebuster");
		memcpy(o->cachebuster, a[0].p, a[0].n);
		o->cachebuster[a[0].n] = 0;
		o->set |= KL_IMGOPT_CACHEBUSTER;
		break;
	case O_EXPIRES:
		if (parse_i64(a[0], &o->expires) != 0)
			return bad(x, "expires");
		o->set |= KL_IMGOPT_EXPIRES;
		break;
	case O_FILENAME:
		rc = opt_filename(x, a, n);
		break;
	case O_ATTACHMENT:
		o->attachment = parse_bool(a[0]);
		o->set |= KL_IMGOPT_ATTACHMENT;
		break;
	case O_PRESET:
		for (i = 0; i < n && rc == KL_OK; i++)
			rc = apply_preset(x, a[i]);
		x->seg = seg;
		break;
	}
	return rc;
}

/*
 * Applies an options string of the form "opt/opt/..." (a preset). Empty
 * segments are skipped; a segment without ':' is malformed here.
 */
static int apply_opts(struct ctx *x, const char *s, size_t len)
{
	size_t i = 0;
	int rc;

	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '/')
			j++;
		if (j > i) {
			struct sl seg = { s + i, j - i };
			if (memchr(seg.p, ':', seg.n) == NULL)
				return fail(x, KL_EINVAL, "invalid preset option", seg);
			if ((rc = apply_opt(x, seg)) != KL_OK)
				return rc;
		}
		i = j + 1;
	}
	return KL_OK;
}

/*
 * Expands one preset in place. As in imgproxy, a preset already being
 * expanded further up the chain is skipped (recursion is ignored, not an
 * error), and an unknown name is an error.
 */
static int apply_preset(struct ctx *x, struct sl name)
{
	const struct kl_imgurl_conf *c = x->c;
	const char *saved = x->preset;
	size_t k;
	int rc;

	for (k = 0; k < c->npresets; k++)
		if (eq(name, c->presets[k].name))
			break;
	if (k == c->npresets)
		return fail(x, KL_EINVAL, "unknown preset", x->seg);
	for (unsigned d = 0; d < x->depth; d++)
		if (x->chain[d] == k)
			return KL_OK;
	if (x->depth == KL_IMGURL_PRESET_DEPTH)
		return fail(x, KL_EINVAL, "presets nested too deep", x->seg);
	x->chain[x->depth++] = k;
	x->preset = c->presets[k].name;
	x->o->set |= KL_IMGOPT_PRESET;
	x->o->presets_used++;
	rc = apply_opts(x, c->presets[k].opts, strlen(c->presets[k].opts));
	x->depth--;
	x->preset = saved;
	return rc;
}

/* see imgurl.h */
void kl_imgurl_defaults(struct kl_imgopts *o)
{
	memset(o, 0, sizeof(*o));
	o->rtype = KL_IMGURL_FIT;
	o->zoom_x = o->zoom_y = 1;
	o->dpr = 1;
	o->extend_gravity.type = KL_IMGURL_GRAV_CE;
	o->gravity.type = KL_IMGURL_GRAV_CE;
	o->crop_gravity.type = KL_IMGURL_GRAV_UNSET;
	o->auto_rotate = 1;
	o->bg[0] = o->bg[1] = o->bg[2] = 255;
	o->strip_metadata = 1;
}

/* ---- keys and signatures ---- */

static long unhex(const char *s, size_t n, uint8_t *out, size_t cap)
{
	if (n == 0 || n % 2)
		return KL_EINVAL;
	if (n / 2 > cap)
		return KL_ETOOBIG;
	for (size_t i = 0; i < n; i += 2) {
		int h = hexval(s[i]), l = hexval(s[i + 1]);
		if (h < 0 || l < 0)
			return KL_EINVAL;
		out[i / 2] = (uint8_t)(h << 4 | l);
	}
	return (long)(n / 2);
}

/* see imgurl.h */
int kl_imgurl_add_key(struct kl_imgurl_conf *c, const char *key_hex, size_t key_len,
		      const char *salt_hex, size_t salt_len)
{
	uint8_t key[KL_IMGURL_KEY_MAX], salt[KL_IMGURL_KEY_MAX], pad[64];
	struct kl_imgurl_key *k;
	long kn, sn;

	if (c->nkeys == KL_IMGURL_MAX_KEYS)
		return KL_ETOOBIG;
	if ((kn = unhex(key_hex, key_len, key, sizeof(key))) < 0)
		return (int)kn;
	if ((sn = unhex(salt_hex, salt_len, salt, sizeof(salt))) < 0)
		return (int)sn;
	k = &c->keys[c->nkeys];
	/* RFC 2104: a key longer than the block is hashed first */
	memset(pad, 0, sizeof(pad));
	if (kn > 64) {
		mbedtls_sha256_context h;
		mbedtls_sha256_init(&h);
		mbedtls_sha256_starts_ret(&h, 0);
		mbedtls_sha256_update_ret(&h, key, (size_t)kn);
		mbedtls_sha256_finish_ret(&h, pad);
		mbedtls_sha256_free(&h);
	} else {
		memcpy(pad, key, (size_t)kn);
	}
	/*
	 * The salt is a constant prefix of every message, so it is absorbed
	 * here once: a request then costs the path's blocks plus two.
	 */
	for (int i = 0; i < 64; i++)
		pad[i] ^= 0x36;
	mbedtls_sha256_init(&k->inner);
	mbedtls_sha256_starts_ret(&k->inner, 0);
	mbedtls_sha256_update_ret(&k->inner, pad, 64);
	mbedtls_sha256_update_ret(&k->inner, salt, (size_t)sn);
	for (int i = 0; i < 64; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	mbedtls_sha256_init(&k->outer);
	mbedtls_sha256_starts_ret(&k->outer, 0);
	mbedtls_sha256_update_ret(&k->outer, pad, 64);
	memset(pad, 0, sizeof(pad));
	memset(key, 0, sizeof(key));
	c->nkeys++;
	return KL_OK;
}

static void mac(const struct kl_imgurl_key *k, const char *path, size_t len, uint8_t out[32])
{
	/* the contexts are plain structs (no heap); copying them is a clone */
	mbedtls_sha256_context h = k->inner;

	mbedtls_sha256_update_ret(&h, (const uint8_t *)path, len);
	mbedtls_sha256_finish_ret(&h, out);
	h = k->outer;
	mbedtls_sha256_update_ret(&h, out, 32);
	mbedtls_sha256_finish_ret(&h, out);
	memset(&h, 0, sizeof(h));
}

static unsigned sig_size(const struct kl_imgurl_conf *c)
{
	return c->sig_size == 0 || c->sig_size > SIG_FULL ? SIG_FULL : c->sig_size;
}

/* see imgurl.h */
int kl_imgurl_verify(const struct kl_imgurl_conf *c, const char *sig, size_t sig_len,
		     const char *signed_path, size_t len)
{
	uint8_t got[SIG_FULL + 3], want[SIG_FULL];
	unsigned n = sig_size(c);
	long m;
	int ok = 0;

	if (c->nkeys == 0)
		return memchr(sig, ':', sig_len) ? KL_EDENIED : KL_OK;
	/* Go's RawURLEncoding, as imgproxy decodes it: no '=' padding */
	if (memchr(sig, '=', sig_len))
		return KL_EDENIED;
	m = kl_b64_decode(sig, sig_len, got, sizeof(got), KL_B64_URL);
	if (m != (long)n)
		return KL_EDENIED;
	for (unsigned i = 0; i < c->nkeys; i++) {
		uint8_t diff = 0;
		mac(&c->keys[i], signed_path, len, want);
		for (unsigned j = 0; j < n; j++)
			diff |= got[j] ^ want[j];
		ok |= diff == 0;
	}
	return ok ? KL_OK : KL_EDENIED;
}

/* see imgurl.h */
long kl_imgurl_sign(const struct kl_imgurl_conf *c, const char *path, size_t len,
		    char *out, size_t cap)
{
	uint8_t d[SIG_FULL];
	size_t signed_len = len, o;
	long e;
	const char *q;

	if (len == 0 || path[0] != '/')
		return KL_EINVAL;
	if ((q = memchr(path, '?', len)) != NULL)
		signed_len = (size_t)(q - path);
	if (cap < 1)
		return KL_ETOOBIG;
	out[0] = '/';
	if (c->nkeys == 0) {
		if (cap < 9)
			return KL_ETOOBIG;
		memcpy(out + 1, "insecure", 8);
		o = 9;
	} else {
		mac(&c->keys[0], path, signed_len, d);
		e = kl_b64_encode(d, sig_size(c), out + 1, cap - 1, KL_B64_URL, 0);
		if (e < 0)
			return e;
		o = 1 + (size_t)e;
	}
	if (len > cap - o)
		return KL_ETOOBIG;
	memcpy(out + o, path, len);
	o += len;
	if (o < cap)
		out[o] = 0;
	return (long)o;
}

/* ---- the path ---- */

/* Extension after '@' or '.': empty = none; unknown = 404. */
static int set_ext(struct ctx *x, struct sl ext)
{
	x->seg = ext;
	if (ext.n && opt_format(x, ext, &x->o->ext) != KL_OK)
		return KL_EINVAL;
	return KL_OK;
}

/*
 * imgproxy's decodePlainURL: the rest of the path after "plain/", split at
 * '@': none = no extension, one = URL@ext, more = "multiple formats". The
 * split happens before percent-decoding, so "%40" is a literal '@'.
 */
static int source_plain(struct ctx *x, struct sl s, char *out, size_t cap, struct kl_imgurl *u)
{
	const char *at = memchr(s.p, '@', s.n);
	struct sl url = s;
	long n;

	if (at) {
		url.n = (size_t)(at - s.p);
		if (memchr(at + 1, '@', s.n - url.n - 1))
			return fail(x, KL_EINVAL, "multiple formats are specified", s);
	}
	if (url.n == 0)
		return fail(x, KL_EINVAL, "image URL is empty", (struct sl){ 0 });
	if (at && set_ext(x, (struct sl){ at + 1, s.n - url.n - 1 }) != KL_OK)
		return KL_EINVAL;
	n = unescape(url, out, cap);
	if (n == -2)
		return fail(x, KL_ETOOBIG, "source URL too long", (struct sl){ 0 });
	if (n < 0)
		return fail(x, KL_EINVAL, "invalid source URL encoding", url);
	u->src = out;
	u->src_len = (size_t)n;
	u->src_plain = 1;
	return KL_OK;
}

/*
 * imgproxy's decodeBase64URL: the segments joined without their '/', then
 * split at '.': one dot at most, the part after it is the extension.
 * Padding is optional. Decoding goes straight from the path, skipping the
 * '/' separators, so no joined copy is needed.
 */
static int source_b64(struct ctx *x, struct sl s, char *out, size_t cap, struct kl_imgurl *u)
{
	const char *dot = memchr(s.p, '.', s.n);
	size_t end = dot ? (size_t)(dot - s.p) : s.n, o = 0, i, chunk;
	uint8_t q[4];
	unsigned nq = 0;
	struct sl body = { s.p, end };

	if (dot && memchr(dot + 1, '.', s.n - end - 1))
		return fail(x, KL_EINVAL, "multiple formats are specified", s);
	while (end > 0 && (s.p[end - 1] == '=' || s.p[end - 1] == '/'))
		end--;
	chunk = 0;
	for (i = 0; i < end; i++)
		chunk += s.p[i] != '/';
	if (chunk == 0)
		return fail(x, KL_EINVAL, "image URL is empty", (struct sl){ 0 });
	if (dot && set_ext(x, (struct sl){ dot + 1, s.n - body.n - 1 }) != KL_OK)
		return KL_EINVAL;
	/* decode four characters at a time; the last group may be short */
	for (i = 0; i <= end; i++) {
		if (i < end && s.p[i] == '/')
			continue;
		if (i < end && s.p[i] == '=')   /* padding only at the very end */
			return fail(x, KL_EINVAL, "invalid source URL encoding", body);
		if (i < end)
			q[nq++] = (uint8_t)s.p[i];
		if (nq == 4 || (i == end && nq > 0)) {
			uint8_t b[3];
			long m = kl_b64_decode((const char *)q, nq, b, sizeof(b), KL_B64_URL);
			if (m < 0)
				return fail(x, KL_EINVAL, "invalid source URL encoding", body);
			for (long j = 0; j < m; j++) {
				if (b[j] < 0x20 || b[j] == 0x7f)
					return fail(x, KL_EINVAL, "invalid source URL encoding", body);
				if (o >= cap)
					return fail(x, KL_ETOOBIG, "source URL too long", (struct sl){ 0 });
				out[o++] = (char)b[j];
			}
			nq = 0;
		}
	}
	u->src = out;
	u->src_len = o;
	u->src_plain = 0;
	return KL_OK;
}

/* see imgurl.h */
int kl_imgurl_parse(const struct kl_imgurl_conf *c, const char *path, size_t len,
		    char *scratch, size_t scratch_cap, struct kl_imgurl *u)
{
	struct ctx x = { .c = c, .o = &u->opts, .why = u->why, .why_cap = sizeof(u->why) };
	struct kl_imgopts *o = &u->opts;
	const char *q, *p, *end;
	struct sl sig, rest;
	int rc;

	kl_imgurl_defaults(o);
	u->src = NULL;
	u->src_len = 0;
	u->src_plain = 0;
	u->why[0] = 0;
	if ((q = memchr(path, '?', len)) != NULL)
		len = (size_t)(q - path);
	/* "/<signature>/<rest>": the signature is the first segment, by position */
	p = len > 1 && path[0] == '/' ? memchr(path + 1, '/', len - 1) : NULL;
	if (p == NULL || p == path + 1)
		return fail(&x, KL_EINVAL, "invalid path", (struct sl){ path, len });
	sig = (struct sl){ path + 1, (size_t)(p - path - 1) };
	rest = (struct sl){ p, len - (size_t)(p - path) };
	if (kl_imgurl_verify(c, sig.p, sig.n, rest.p, rest.n) != KL_OK)
		return fail(&x, KL_EDENIED, "invalid signature", (struct sl){ 0 });
	if (rest.n <= 1)
		return fail(&x, KL_EINVAL, "invalid path", (struct sl){ path, len });

	/* imgproxy refuses its old "/sig/fill/300/..." form outright */
	p = rest.p + 1;
	end = rest.p + rest.n;
	{
		const char *s = memchr(p, '/', (size_t)(end - p));
		enum kl_imgurl_rtype t;
		if (find_rtype((struct sl){ p, (size_t)((s ? s : end) - p) }, &t) == 0)
			return fail(&x, KL_EINVAL, "the basic URL format is not supported",
				    (struct sl){ 0 });
	}
	for (size_t k = 0; k < c->npresets; k++)
		if (strcmp(c->presets[k].name, "default") == 0) {
			x.seg = (struct sl){ "default", 7 };
			if ((rc = apply_preset(&x, x.seg)) != KL_OK)
				return rc;
			break;
		}

	/* options: every segment holding a ':' until the first one without */
	while (p < end) {
		const char *s = memchr(p, '/', (size_t)(end - p));
		struct sl seg = { p, (size_t)((s ? s : end) - p) };
		if (memchr(seg.p, ':', seg.n) == NULL)
			break;
		if ((rc = apply_opt(&x, seg)) != KL_OK)
			return rc;
		p = s ? s + 1 : end;
	}
	x.seg = (struct sl){ 0 };
	if (p >= end)
		return fail(&x, KL_EINVAL, "image URL is empty", (struct sl){ 0 });
	if ((size_t)(end - p) >= 6 && memcmp(p, "plain/", 6) == 0)
		rc = source_plain(&x, (struct sl){ p + 6, (size_t)(end - p - 6) }, scratch,
				  scratch_cap, u);
	else
		rc = source_b64(&x, (struct sl){ p, (size_t)(end - p) }, scratch, scratch_cap, u);
	if (rc != KL_OK)
		return rc;

	/* the extension overrides the format option (imgproxy applies it last) */
	if (o->ext != KL_IMGURL_FMT_NONE) {
		o->out_format = o->ext;
		o->out_from = KL_IMGURL_FROM_EXT;
	} else if (o->format != KL_IMGURL_FMT_NONE) {
		o->out_format = o->format;
		o->out_from = KL_IMGURL_FROM_OPTION;
	}
	return KL_OK;
}

/* see imgurl.h */
int kl_imgurl_check_presets(const struct kl_imgurl_conf *c, char *why, size_t why_cap)
{
	struct kl_imgopts o;
	char line[KL_IMGURL_WHY_MAX];

	for (size_t k = 0; k < c->npresets; k++) {
		struct ctx x = { .c = c, .o = &o, .why = line, .why_cap = sizeof(line) };
		kl_imgurl_defaults(&o);
		line[0] = 0;
		x.seg = (struct sl){ c->presets[k].name, strlen(c->presets[k].name) };
		if (apply_preset(&x, x.seg) != KL_OK) {
			if (why_cap) {
				why[0] = 0;
				puts0(why, why_cap, "preset ");
				puts0(why, why_cap, c->presets[k].name);
				puts0(why, why_cap, ": ");
				puts0(why, why_cap, line);
			}
			return KL_EINVAL;
		}
	}
	return KL_OK;
}

/* see imgurl.h */
int kl_imgurl_expired(const struct kl_imgopts *o, int64_t now)
{
	/* imgproxy: timestamp > 0 && timestamp < now */
	return o->expires > 0 && o->expires < now;
}

/* see imgurl.h */
int kl_imgurl_format_supported(enum kl_imgurl_format f)
{
	return f == KL_IMGURL_FMT_NONE || f == KL_IMGURL_FMT_JPEG || f == KL_IMGURL_FMT_PNG;
}

/* see imgurl.h */
const char *kl_imgurl_format_name(enum kl_imgurl_format f)
{
	for (size_t i = 0; i < KL_ARRAY_LEN(fmts); i++)
		if (fmts[i].f == f)
			return fmts[i].name;
	return "";
}

/* see imgurl.h */
int kl_imgurl_status(int rc)
{
	if (rc >= 0)
		return 200;
	return rc == KL_EDENIED ? 403 : 404;
}
