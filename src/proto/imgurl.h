/* imgurl.h - imgproxy's URL API: signature check, processing options, source URL. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_IMGURL_H
#define KL_IMGURL_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/sha256.h>

/*
 * A request path has one of two shapes (imgproxy's "advanced" URL format):
 *
 *     /<signature>/<option>/<option>/.../plain/<percent-encoded source>[@<ext>]
 *     /<signature>/<option>/<option>/.../<base64url source, may be cut by '/'>[.<ext>]
 *
 * The parser is pure and stateless: it reads the whole path once, never
 * allocates, and writes only into the caller's structs and scratch buffer.
 * Inputs are byte ranges, not C strings; nothing past `len` is read.
 *
 * Order of work, as imgproxy does it: cut the query string, take the first
 * segment as the signature (by position, never by text search), verify it
 * over the rest of the path, then apply the "default" preset, then the
 * options left to right (a later option overrides an earlier one, presets
 * are expanded in place), then decode the source URL, then let the
 * extension override the output format.
 */

/* Limits. They bound the fixed structs; over-long values are refused. */
#define KL_IMGURL_MAX_KEYS 4            /* key/salt pairs tried in turn (rotation) */
#define KL_IMGURL_KEY_MAX 128           /* decoded bytes of one key or one salt */
#define KL_IMGURL_FILENAME_MAX 128      /* filename option, decoded, with its NUL */
#define KL_IMGURL_CACHEBUSTER_MAX 64    /* cachebuster option, with its NUL */
#define KL_IMGURL_MAX_ARGS 32           /* arguments of one option */
#define KL_IMGURL_PRESET_DEPTH 8        /* presets nested inside presets */
#define KL_IMGURL_WHY_MAX 192           /* reason line, with its NUL */

enum kl_imgurl_rtype {                  /* resizing_type */
	KL_IMGURL_FIT = 0,              /* default: keep aspect, fit inside w x h */
	KL_IMGURL_FILL,                 /* keep aspect, cover w x h, crop the rest */
	KL_IMGURL_FILL_DOWN,            /* fill, but never past the source size */
	KL_IMGURL_FORCE,                /* ignore aspect */
	KL_IMGURL_AUTO                  /* fill if source and target orientations match, else fit */
};

enum kl_imgurl_grav {
	KL_IMGURL_GRAV_UNSET = 0,       /* crop only: "use the gravity option" */
	KL_IMGURL_GRAV_CE,              /* centre (default) */
	KL_IMGURL_GRAV_NO, KL_IMGURL_GRAV_SO, KL_IMGURL_GRAV_EA, KL_IMGURL_GRAV_WE,
	KL_IMGURL_GRAV_NOEA, KL_IMGURL_GRAV_NOWE, KL_IMGURL_GRAV_SOEA, KL_IMGURL_GRAV_SOWE,
	KL_IMGURL_GRAV_SM,              /* smart: parsed, the pipeline decides what it means */
	KL_IMGURL_GRAV_FP               /* focus point: x, y in 0..1 */
};

/*
 * Image formats imgproxy knows by name. Only NONE, JPEG and PNG can be
 * produced here; the others parse (as in imgproxy, where the name is valid)
 * and kl_imgurl_format_supported() says no, so the server answers 422
 * "unsupported result format" as imgproxy does for a format its build cannot
 * save, instead of 404 for a malformed URL. Unknown names are a 404.
 */
enum kl_imgurl_format {
	KL_IMGURL_FMT_NONE = 0,         /* not requested: keep the source's format */
	KL_IMGURL_FMT_JPEG, KL_IMGURL_FMT_PNG,
	KL_IMGURL_FMT_WEBP, KL_IMGURL_FMT_AVIF, KL_IMGURL_FMT_GIF, KL_IMGURL_FMT_ICO,
	KL_IMGURL_FMT_SVG, KL_IMGURL_FMT_HEIC, KL_IMGURL_FMT_BMP, KL_IMGURL_FMT_TIFF,
	KL_IMGURL_FMT_JXL
};

enum kl_imgurl_fsrc {                   /* where out_format came from */
	KL_IMGURL_FROM_NONE = 0,        /* neither: keep the source's format */
	KL_IMGURL_FROM_OPTION,          /* format/f/ext option (or a preset) */
	KL_IMGURL_FROM_EXT              /* URL extension: always wins, as in imgproxy */
};

/* kl_imgopts.set bits: which options the URL (or a preset) gave. */
enum {
	KL_IMGOPT_RTYPE = 1u << 0, KL_IMGOPT_WIDTH = 1u << 1, KL_IMGOPT_HEIGHT = 1u << 2,
	KL_IMGOPT_MIN_WIDTH = 1u << 3, KL_IMGOPT_MIN_HEIGHT = 1u << 4, KL_IMGOPT_ZOOM = 1u << 5,
	KL_IMGOPT_DPR = 1u << 6, KL_IMGOPT_ENLARGE = 1u << 7, KL_IMGOPT_EXTEND = 1u << 8,
	KL_IMGOPT_GRAVITY = 1u << 9, KL_IMGOPT_CROP = 1u << 10, KL_IMGOPT_AUTO_ROTATE = 1u << 11,
	KL_IMGOPT_ROTATE = 1u << 12, KL_IMGOPT_BACKGROUND = 1u << 13, KL_IMGOPT_QUALITY = 1u << 14,
	KL_IMGOPT_FORMAT = 1u << 15, KL_IMGOPT_STRIP_METADATA = 1u << 16,
	KL_IMGOPT_CACHEBUSTER = 1u << 17, KL_IMGOPT_EXPIRES = 1u << 18,
	KL_IMGOPT_FILENAME = 1u << 19, KL_IMGOPT_ATTACHMENT = 1u << 20, KL_IMGOPT_PRESET = 1u << 21
};

struct kl_imgurl_gravity {
	enum kl_imgurl_grav type;
	/*
	 * Offsets from the gravity edge in pixels for the compass types (a
	 * value below 1 is relative to the image in imgproxy's newer
	 * releases: the pipeline decides), or the focus point (0..1) for FP.
	 * Like imgproxy, a gravity without offsets keeps earlier offsets.
	 */
	double x, y;
};

/*
 * The processing options of one request: plain values with imgproxy's
 * defaults (kl_imgurl_defaults), plus a bit in `set` for every option the
 * URL or a preset gave, so the server can tell "not given" (use the config
 * default, e.g. quality) from "given as the default value".
 */
struct kl_imgopts {
	uint32_t set;                           /* KL_IMGOPT_* */
	enum kl_imgurl_rtype rtype;             /* rt / rs[0]; default FIT */
	int width, height;                      /* w, h; 0 = from the other side / source */
	int min_width, min_height;              /* mw, mh; 0 = none */
	double zoom_x, zoom_y;                  /* z; > 0, default 1 */
	double dpr;                             /* dpr; > 0, default 1 */
	int enlarge;                            /* el; 0/1, default 0 */
	int extend;                             /* ex[0]; 0/1, default 0 */
	struct kl_imgurl_gravity extend_gravity;/* ex[1..3]; default CE; never SM */
	struct kl_imgurl_gravity gravity;       /* g; default CE */
	/*
	 * c: the area kept before resizing. >= 1 is pixels, < 1 a fraction of
	 * the source, 0 the whole side. crop_gravity UNSET = use `gravity`.
	 */
	double crop_w, crop_h;
	struct kl_imgurl_gravity crop_gravity;
	int auto_rotate;                        /* ar; 0/1, default 1 (honour EXIF) */
	int rotate;                             /* rot; normalised to 0, 90, 180, 270 */
	/*
	 * bg: flatten alpha onto this colour. KL_IMGOPT_BACKGROUND clear = no
	 * colour asked for (JPEG output then flattens on white). "bg:" with an
	 * empty argument clears an earlier bg, as in imgproxy.
	 */
	uint8_t bg[3];                          /* r, g, b; default 255, 255, 255 */
	int quality;                            /* q; 0..100, 0 = server default */
	enum kl_imgurl_format format;           /* the format option only */
	enum kl_imgurl_format ext;              /* the URL's @ext / .ext only */
	enum kl_imgurl_format out_format;       /* the winner: ext, else format, else NONE */
	enum kl_imgurl_fsrc out_from;           /* which one won */
	int strip_metadata;                     /* sm; 0/1, default 1 */
	char cachebuster[KL_IMGURL_CACHEBUSTER_MAX];    /* cb; NUL-terminated, "" = none */
	int64_t expires;                        /* exp; unix seconds, 0 = never */
	/*
	 * fn: percent-decoded (or base64url-decoded when its second argument
	 * is true), NUL-terminated, "" = none. Control bytes are refused; the
	 * HTTP layer still escapes '"' (imgproxy writes it as %22).
	 */
	char filename[KL_IMGURL_FILENAME_MAX];
	int attachment;                         /* att; 0/1, default 0 */
	unsigned presets_used;                  /* presets expanded, "default" included */
};

/* A preset: name and options string as in imgproxy ("rs:fill:300:300/q:80"). */
struct kl_imgurl_preset {
	const char *name;               /* NUL-terminated; "default" applies to every request */
	const char *opts;               /* NUL-terminated; options separated by '/' */
};

struct kl_imgurl_key {
	/* HMAC-SHA256 states after absorbing key^ipad || salt, and key^opad. */
	mbedtls_sha256_context inner, outer;
};

/*
 * Configuration, built at start-up and read-only afterwards. All-zero is a
 * valid configuration: no key (any signature without ':' is accepted),
 * full 32-byte signatures, no presets.
 */
struct kl_imgurl_conf {
	struct kl_imgurl_key keys[KL_IMGURL_MAX_KEYS];
	unsigned nkeys;
	unsigned sig_size;              /* signature_size: 1..32 bytes kept, 0 = 32 */
	const struct kl_imgurl_preset *presets;  /* caller-owned, outlives the conf */
	size_t npresets;
};

/* The result of one parse. */
struct kl_imgurl {
	struct kl_imgopts opts;
	const char *src;                /* decoded source URL, in the caller's scratch */
	size_t src_len;
	int src_plain;                  /* 1 = plain/ form, 0 = base64url form */
	/*
	 * On error: one printable ASCII line naming the offending option as
	 * written, e.g. "unknown option: foo:1", "invalid width: w:abc".
	 * Bytes outside 0x20..0x7e are shown as '?'. "" on success.
	 */
	char why[KL_IMGURL_WHY_MAX];
};

/*
 * Adds a key/salt pair given in hex (either case). Returns KL_OK, KL_EINVAL
 * for an empty or non-hex value, KL_ETOOBIG when more than
 * KL_IMGURL_MAX_KEYS pairs or a value over KL_IMGURL_KEY_MAX bytes.
 */
int kl_imgurl_add_key(struct kl_imgurl_conf *c, const char *key_hex, size_t key_len,
		      const char *salt_hex, size_t salt_len);

/*
 * Checks every preset of c as a request would apply it (unknown options,
 * malformed arguments, unknown nested presets). For config loading: on
 * error returns KL_EINVAL and writes "preset NAME: reason" into why.
 */
int kl_imgurl_check_presets(const struct kl_imgurl_conf *c, char *why, size_t why_cap);

/* Sets imgproxy's defaults (see the field comments); set = 0. */
void kl_imgurl_defaults(struct kl_imgopts *o);

/*
 * Parses a request target (path, optional "?query" which is ignored).
 * `scratch` receives the decoded source URL; scratch_cap >= len is always
 * enough. Returns KL_OK and fills u, or:
 *   KL_EDENIED  bad or missing signature             (HTTP 403)
 *   KL_EINVAL   invalid path, unknown or malformed option, unknown preset,
 *               bad source URL encoding             (HTTP 404)
 *   KL_ETOOBIG  source URL larger than scratch      (HTTP 404)
 * and u->why says why. An expired URL is not an error here: ask
 * kl_imgurl_expired() with the caller's clock. A requested format that
 * cannot be produced is not an error either: ask kl_imgurl_format_supported().
 */
int kl_imgurl_parse(const struct kl_imgurl_conf *c, const char *path, size_t len,
		    char *scratch, size_t scratch_cap, struct kl_imgurl *u);

/*
 * Checks a signature segment against `signed_path` (everything after the
 * signature segment, starting with '/', no query). Constant-time per key.
 * Returns KL_OK or KL_EDENIED.
 */
int kl_imgurl_verify(const struct kl_imgurl_conf *c, const char *sig, size_t sig_len,
		     const char *signed_path, size_t len);

/*
 * Writes "/<signature><path>" (a query string in path is kept but not
 * signed) with the first key, or "/insecure<path>" when c has no key.
 * path MUST start with '/'. Returns the length written (a NUL follows when
 * room remains), KL_EINVAL for a path without leading '/', KL_ETOOBIG.
 */
long kl_imgurl_sign(const struct kl_imgurl_conf *c, const char *path, size_t len,
		    char *out, size_t cap);

/* 1 when o carries an expiry (> 0) earlier than `now` (unix seconds), as imgproxy. */
int kl_imgurl_expired(const struct kl_imgopts *o, int64_t now);

/* 1 for the formats this build can produce (NONE, JPEG, PNG), else 0. */
int kl_imgurl_format_supported(enum kl_imgurl_format f);

/* Canonical name ("jpeg", "png", ...; "" for NONE). Never NULL. */
const char *kl_imgurl_format_name(enum kl_imgurl_format f);

/* imgproxy's HTTP status for a kl_imgurl_parse() result: 200, 403 or 404. */
int kl_imgurl_status(int rc);

#endif
