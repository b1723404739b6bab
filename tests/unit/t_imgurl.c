/* t_imgurl.c - imgproxy URL parsing, options and signatures. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "base/kl.h"
#include "proto/imgurl.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * Environment: IMGURL_NPM_FILE names a file written by
 * tests/node/make-urls.mjs (first line "KEY_HEX SALT_HEX", then one path per
 * line, optionally followed by a tab and the expected fields); every path
 * is then parsed, verified and checked too (tests/it/t_imgurl_npm.sh).
 */

/* ---- inputs end at a PROT_NONE page, so any over-read faults ---- */

#define GUARD_DATA (16 * 4096)
static uint8_t *guard_base;
static size_t page;

static const char *at_guard(const char *s, size_t n)
{
	if (!guard_base) {
		page = (size_t)sysconf(_SC_PAGESIZE);
		guard_base = mmap(NULL, GUARD_DATA + page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (guard_base == MAP_FAILED || mprotect(guard_base + GUARD_DATA, page, PROT_NONE)) {
			printf("not ok - guard page\n");
			exit(1);
		}
	}
	if (n > GUARD_DATA)
		abort();
	memcpy(guard_base + GUARD_DATA - n, s, n);
	return (const char *)guard_base + GUARD_DATA - n;
}

static int parse(const struct kl_imgurl_conf *c, const char *path, size_t n, struct kl_imgurl *u)
{
	static char scratch[GUARD_DATA];

	return kl_imgurl_parse(c, at_guard(path, n), n, scratch, sizeof(scratch), u);
}

/* ---- a canonical text form of the result: " key=value ... " ---- */

static const char *gname(enum kl_imgurl_grav g)
{
	static const char *const n[] = { "unset", "ce", "no", "so", "ea", "we", "noea",
					 "nowe", "soea", "sowe", "sm", "fp" };
	return n[g];
}

static const char *rname(enum kl_imgurl_rtype t)
{
	static const char *const n[] = { "fit", "fill", "fill-down", "force", "auto" };
	return n[t];
}

static void dump(const struct kl_imgurl *u, char *d, size_t cap)
{
	const struct kl_imgopts *o = &u->opts;
	static const char *const from[] = { "none", "option", "ext" };
	char bg[8] = "none";

	if (o->set & KL_IMGOPT_BACKGROUND)
		snprintf(bg, sizeof(bg), "%02x%02x%02x", o->bg[0], o->bg[1], o->bg[2]);
	snprintf(d, cap,
		 " rt=%s w=%d h=%d mw=%d mh=%d zx=%g zy=%g dpr=%g el=%d ex=%d exg=%s exx=%g exy=%g"
		 " g=%s gx=%g gy=%g cw=%g ch=%g cg=%s cgx=%g cgy=%g ar=%d rot=%d bg=%s q=%d"
		 " f=%s ext=%s out=%s from=%s sm=%d cb=%s exp=%lld fn=%s att=%d pr=%u plain=%d"
		 " src=%.*s ",
		 rname(o->rtype), o->width, o->height, o->min_width, o->min_height, o->zoom_x,
		 o->zoom_y, o->dpr, o->enlarge, o->extend, gname(o->extend_gravity.type),
		 o->extend_gravity.x, o->extend_gravity.y, gname(o->gravity.type), o->gravity.x,
		 o->gravity.y, o->crop_w, o->crop_h, gname(o->crop_gravity.type),
		 o->crop_gravity.x, o->crop_gravity.y, o->auto_rotate, o->rotate, bg, o->quality,
		 kl_imgurl_format_name(o->format), kl_imgurl_format_name(o->ext),
		 kl_imgurl_format_name(o->out_format), from[o->out_from], o->strip_metadata,
		 o->cachebuster, (long long)o->expires, o->filename, o->attachment,
		 o->presets_used, u->src_plain, (int)u->src_len, u->src ? u->src : "");
}

/* Every space-separated token of `want` must appear in the dump. */
static int has_all(const char *dumped, const char *want, char *missing, size_t cap)
{
	char tok[512];

	while (*want) {
		size_t n = strcspn(want, " ");
		if (n > 0) {
			snprintf(tok, sizeof(tok), " %.*s ", (int)n, want);
			if (!strstr(dumped, tok)) {
				snprintf(missing, cap, "%.*s", (int)n, want);
				return 0;
			}
		}
		want += n + (want[n] == ' ');
	}
	return 1;
}

/* ---- configurations ---- */

static struct kl_imgurl_conf conf_none;        /* no key, no presets */
static struct kl_imgurl_conf conf_pre;         /* no key, presets */
static struct kl_imgurl_conf conf_a, conf_a8, conf_b, conf_b8, conf_b2;

static const struct kl_imgurl_preset presets[] = {
	{ "default", "sm:0" },
	{ "thumb", "rs:fill:300:300/q:80" },
	{ "loop", "pr:loop2/w:10" },
	{ "loop2", "pr:loop/h:20" },
	{ "nested", "pr:thumb//f:png/" },
	{ "bad", "w:abc" },
	{ "noargs", "foo" },
	{ "unk", "pr:nope" },
	{ "d1", "pr:d2" }, { "d2", "pr:d3" }, { "d3", "pr:d4" }, { "d4", "pr:d5" },
	{ "d5", "pr:d6" }, { "d6", "pr:d7" }, { "d7", "pr:d8" }, { "d8", "pr:d9" },
	{ "d9", "w:9" },
};

#define ADD(c, k, s) T_EQ_INT(kl_imgurl_add_key(&(c), k, strlen(k), s, strlen(s)), KL_OK, "add key " #c)

static void setup(void)
{
	conf_pre.presets = presets;
	conf_pre.npresets = KL_ARRAY_LEN(presets);
	ADD(conf_a, "736563726574", "68656C6C6F");
	ADD(conf_a8, "736563726574", "68656c6c6f");
	conf_a8.sig_size = 8;
	ADD(conf_b, "746573742d6b6579", "746573742d73616c74");
	ADD(conf_b8, "746573742d6b6579", "746573742d73616c74");
	conf_b8.sig_size = 8;
	/* rotation: B2 is the second pair, so the first one must fail over */
	ADD(conf_b2, "746573742d6b6579", "746573742d73616c74");
	ADD(conf_b2, "746573742d6b657932", "746573742d73616c7432");
}

/* ---- table rows ---- */

struct row {
	const struct kl_imgurl_conf *c;
	const char *path;
	int rc;
	const char *want;       /* rc == 0: tokens of the dump; else: exact reason */
};

#define A_PATH "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png"
#define N &conf_none
#define P &conf_pre
#define EV KL_EINVAL
#define ED KL_EDENIED

static const struct row rows[] = {
	/* the signature vectors, whole paths */
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8" A_PATH, 0,
	  "rt=fill w=300 h=400 el=0 g=sm src=http://example.com/images/curiosity.jpg ext=png out=png from=ext plain=0" },
	{ &conf_a8, "/oKfUtW34Dvo" A_PATH, 0, "w=300 h=400" },
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8" A_PATH "?x=1&sig=2", 0, "w=300" },
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXG8" A_PATH, ED, "invalid signature" },
	/* the unused low bits of the last character do not count (Go's decoder) */
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH9" A_PATH, 0, "w=300" },
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8=" A_PATH, ED, "invalid signature" },
	{ &conf_a, "/pKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8" A_PATH, ED, "invalid signature" },
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8/rs:fill:300:401:0/g:sm/aHR0cDovL2V4YW1wbGUuY29tL2ltYWdlcy9jdXJpb3NpdHkuanBn.png", ED, "invalid signature" },
	{ &conf_a, "/oKfUtW34Dvo" A_PATH, ED, "invalid signature" },
	{ &conf_a8, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8" A_PATH, ED, "invalid signature" },
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcX" A_PATH, ED, "invalid signature" },
	{ &conf_a, "/oKfUtW34Dvo2BGQehJFR4Nr0+rIjOtdtzJ3QFsUcXH8" A_PATH, ED, "invalid signature" },
	{ &conf_a, "/insecure" A_PATH, ED, "invalid signature" },
	{ &conf_a, "/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w", ED, "invalid signature" },
	{ &conf_b, "/oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20/asd", 0, "src=j\xc7" },
	{ &conf_b8, "/oWaL7QoW5Ts/asd", 0, "plain=0" },
	{ &conf_b2, "/jYz1UZ7j1BCdSzH3pZhaYf0iuz0vusoOTdqJsUT6WXI/asd", 0, "plain=0" },
	{ &conf_b2, "/oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20/asd", 0, "plain=0" },
	{ &conf_b, "/jYz1UZ7j1BCdSzH3pZhaYf0iuz0vusoOTdqJsUT6WXI/asd", ED, "invalid signature" },
	{ &conf_b8, "/oWaL7QoW5Us/asd", ED, "invalid signature" },
	{ &conf_b8, "/oWaL7QoW5Ts/asD", ED, "invalid signature" },
	/* no key: anything without ':' passes */
	{ N, "/insecure/w:1/plain/http://a/b", 0, "w=1" },
	{ N, "/unsafe/w:1/plain/http://a/b", 0, "w=1" },
	{ N, "/_/w:1/plain/http://a/b", 0, "w=1" },
	{ N, "/w:1/plain/http://a/b", ED, "invalid signature" },
	{ N, "/a:b/w:1/plain/http://a/b", ED, "invalid signature" },

	/* paths */
	{ N, "", EV, "invalid path" },
	{ N, "/", EV, "invalid path: /" },
	{ N, "/_", EV, "invalid path: /_" },
	{ N, "//plain/http://a/b", EV, "invalid path: //plain/http://a/b" },
	{ N, "/_/", EV, "invalid path: /_/" },
	{ N, "x/_/plain/http://a", EV, "invalid path: x/_/plain/http://a" },
	{ N, "/_/w:1", EV, "image URL is empty" },
	{ N, "/_/w:1/", EV, "image URL is empty" },
	{ N, "/_/fill/300/200/no/0/aHR0cDovL2EvYi5qcGc", EV, "the basic URL format is not supported" },
	{ N, "/_/fit", EV, "the basic URL format is not supported" },

	/* plain sources */
	{ N, "/_/w:300/plain/http://example.com/a.jpg", 0,
	  "w=300 src=http://example.com/a.jpg plain=1 ext= out= from=none" },
	{ N, "/_/plain/http://example.com/a.jpg@png", 0, "src=http://example.com/a.jpg ext=png out=png from=ext" },
	{ N, "/_/plain/http://example.com/a.jpg@", 0, "src=http://example.com/a.jpg ext= from=none" },
	{ N, "/_/plain/http%3A%2F%2Fexample.com%2Fa%2Bb.jpg@jpg", 0, "src=http://example.com/a+b.jpg ext=jpeg" },
	{ N, "/_/plain/http://u%40host/a+b.jpg?q=1@png", 0, "src=http://u@host/a+b.jpg ext= plain=1" },
	{ N, "/_/plain/local:///img/x.png", 0, "src=local:///img/x.png" },
	{ N, "/_/plain/http://a//b", 0, "src=http://a//b" },
	{ N, "/_/f:png/plain/http://a/b@jpg", 0, "f=png ext=jpeg out=jpeg from=ext" },
	{ N, "/_/f:png/plain/http://a/b", 0, "f=png ext= out=png from=option" },
	{ N, "/_/f:png/plain/http://a/b@", 0, "out=png from=option" },
	{ N, "/_/plain/http://a/b@webp", 0, "out=webp from=ext" },
	{ N, "/_/plain/", EV, "image URL is empty" },
	{ N, "/_/plain/@png", EV, "image URL is empty" },
	{ N, "/_/plain/http://u@h/x@png", EV, "multiple formats are specified: http://u@h/x@png" },
	{ N, "/_/plain/http://a/b@pdf", EV, "invalid format: pdf" },
	{ N, "/_/plain/http://a/b@PNG", EV, "invalid format: PNG" },
	{ N, "/_/plain/http://a/%zz", EV, "invalid source URL encoding: http://a/%zz" },
	{ N, "/_/plain/http://a/%2", EV, "invalid source URL encoding: http://a/%2" },
	{ N, "/_/plain/http://a/%", EV, "invalid source URL encoding: http://a/%" },
	{ N, "/_/plain/http://a/%0a", EV, "invalid source URL encoding: http://a/%0a" },
	{ N, "/_/plain/http://a/\x01", EV, "invalid source URL encoding: http://a/?" },

	/* base64 sources */
	{ N, "/_/aHR0cDovL2EvYi5qcGc", 0, "src=http://a/b.jpg plain=0 ext=" },
	{ N, "/_/aHR0cDovL2EvYi5qcGc=", 0, "src=http://a/b.jpg" },
	{ N, "/_/aHR0cDov/L2EvYi5q/cGc.png", 0, "src=http://a/b.jpg ext=png" },
	{ N, "/_/aHR0cDov//L2EvYi5q/cGc/", 0, "src=http://a/b.jpg" },
	{ N, "/_/aHR0cDovL2EvYi5qcGc=.jpeg", 0, "src=http://a/b.jpg ext=jpeg" },
	{ N, "/_/aHR0cDovL2EvYi5qcGc.", 0, "src=http://a/b.jpg ext= from=none" },
	{ N, "/_/plain", EV, "invalid source URL encoding: plain" },
	{ N, "/_/aHR0cDovL2EvYi5qcGc.png.jpg", EV, "multiple formats are specified: aHR0cDovL2EvYi5qcGc.png.jpg" },
	{ N, "/_/.png", EV, "image URL is empty" },
	{ N, "/_/==.png", EV, "image URL is empty" },
	{ N, "/_/aHR0c$ovL2EvYi5qcGc", EV, "invalid source URL encoding: aHR0c$ovL2EvYi5qcGc" },
	{ N, "/_/aHR0cDovL2EvYi5qcGc+", EV, "invalid source URL encoding: aHR0cDovL2EvYi5qcGc+" },
	{ N, "/_/aHR0c", EV, "invalid source URL encoding: aHR0c" },
	{ N, "/_/YQ==YQ", EV, "invalid source URL encoding: YQ==YQ" },
	{ N, "/_/AAAA", EV, "invalid source URL encoding: AAAA" },
	{ N, "/_/aHR0cDovL2EvYi5qcGc.xyz", EV, "invalid format: xyz" },

	/* resize, size, dimensions */
	{ N, "/_/rs:fill-down:100:200:t:1:no:5:6/plain/x", 0,
	  "rt=fill-down w=100 h=200 el=1 ex=1 exg=no exx=5 exy=6" },
	{ N, "/_/rs:::50/plain/x", 0, "rt=fit w=0 h=50" },
	{ N, "/_/rs::50/plain/x", 0, "rt=fit w=50 h=0" },
	{ N, "/resize:force/plain/x", ED, "invalid signature" },
	{ N, "/_/resize:force/plain/x", 0, "rt=force w=0" },
	{ N, "/_/rs:auto:10:20:::/plain/x", 0, "rt=auto w=10 h=20 el=0 ex=0" },
	{ N, "/_/rs:fill:1:2:3:4:5:6:7:8/plain/x", EV, "invalid resize arguments: rs:fill:1:2:3:4:5:6:7:8" },
	{ N, "/_/rs:fil:1/plain/x", EV, "invalid resizing type: rs:fil:1" },
	{ N, "/_/rs:fill:x/plain/x", EV, "invalid width: rs:fill:x" },
	{ N, "/_/rs:fill:1:-2/plain/x", EV, "invalid height: rs:fill:1:-2" },
	{ N, "/_/s:10:20:true:false/plain/x", 0, "w=10 h=20 el=1 ex=0" },
	{ N, "/_/size:::1/plain/x", 0, "w=0 h=0 el=1" },
	{ N, "/_/s:1:2:3:4:5:6:7:8/plain/x", EV, "invalid size arguments: s:1:2:3:4:5:6:7:8" },
	{ N, "/_/s:1:2:1:1:sm/plain/x", EV, "invalid extend gravity type: s:1:2:1:1:sm" },
	{ N, "/_/rt:auto/plain/x", 0, "rt=auto" },
	{ N, "/_/resizing_type:fill/plain/x", 0, "rt=fill" },
	{ N, "/_/rt:FILL/plain/x", EV, "invalid resizing type: rt:FILL" },
	{ N, "/_/rt:fill:fit/plain/x", EV, "invalid resizing_type arguments: rt:fill:fit" },
	{ N, "/_/w:300/h:200/plain/x", 0, "w=300 h=200" },
	{ N, "/_/width:7/height:8/w:+9/plain/x", 0, "w=9 h=8" },
	{ N, "/_/w:abc/plain/x", EV, "invalid width: w:abc" },
	{ N, "/_/w:/plain/x", EV, "invalid width: w:" },
	{ N, "/_/w:-1/plain/x", EV, "invalid width: w:-1" },
	{ N, "/_/w:1.5/plain/x", EV, "invalid width: w:1.5" },
	{ N, "/_/w: 1/plain/x", EV, "invalid width: w: 1" },
	{ N, "/_/w:2147483648/plain/x", EV, "invalid width: w:2147483648" },
	{ N, "/_/w:99999999999999999999999/plain/x", EV, "invalid width: w:99999999999999999999999" },
	{ N, "/_/w:1:2/plain/x", EV, "invalid width arguments: w:1:2" },
	{ N, "/_/h:x/plain/x", EV, "invalid height: h:x" },
	{ N, "/_/min-width:5/mh:6/plain/x", 0, "mw=5 mh=6" },
	{ N, "/_/mw:5/min-height:6/plain/x", 0, "mw=5 mh=6" },
	{ N, "/_/mw:a/plain/x", EV, "invalid min-width: mw:a" },
	{ N, "/_/min-height:-3/plain/x", EV, "invalid min-height: min-height:-3" },

	/* zoom, dpr, enlarge, extend */
	{ N, "/_/z:1.5/plain/x", 0, "zx=1.5 zy=1.5" },
	{ N, "/_/zoom:2:0.5/plain/x", 0, "zx=2 zy=0.5" },
	{ N, "/_/z:.25:5./plain/x", 0, "zx=0.25 zy=5" },
	{ N, "/_/z:1e1:2E-1/plain/x", 0, "zx=10 zy=0.2" },
	{ N, "/_/z:0/plain/x", EV, "invalid zoom: z:0" },
	{ N, "/_/z:-1/plain/x", EV, "invalid zoom: z:-1" },
	{ N, "/_/z:abc/plain/x", EV, "invalid zoom: z:abc" },
	{ N, "/_/z:inf/plain/x", EV, "invalid zoom: z:inf" },
	{ N, "/_/z:1e999/plain/x", EV, "invalid zoom: z:1e999" },
	{ N, "/_/z:1:0/plain/x", EV, "invalid zoom: z:1:0" },
	{ N, "/_/z:1:2:3/plain/x", EV, "invalid zoom arguments: z:1:2:3" },
	{ N, "/_/z:./plain/x", EV, "invalid zoom: z:." },
	{ N, "/_/z:1e/plain/x", EV, "invalid zoom: z:1e" },
	{ N, "/_/dpr:2/plain/x", 0, "dpr=2" },
	{ N, "/_/dpr:0/plain/x", EV, "invalid dpr: dpr:0" },
	{ N, "/_/dpr:x/plain/x", EV, "invalid dpr: dpr:x" },
	{ N, "/_/el:1/plain/x", 0, "el=1" },
	{ N, "/_/enlarge:True/plain/x", 0, "el=1" },
	{ N, "/_/el:T/plain/x", 0, "el=1" },
	{ N, "/_/el:1/el:yes/plain/x", 0, "el=0" },
	{ N, "/_/el:1/el:/plain/x", 0, "el=0" },
	{ N, "/_/el:1:1/plain/x", EV, "invalid enlarge arguments: el:1:1" },
	{ N, "/_/ex:t/plain/x", 0, "ex=1 exg=ce" },
	{ N, "/_/extend:1:fp:0.5:0.25/plain/x", 0, "ex=1 exg=fp exx=0.5 exy=0.25" },
	{ N, "/_/ex:1:sowe:-3/plain/x", 0, "ex=1 exg=sowe exx=-3 exy=0" },
	{ N, "/_/ex:1:xx/plain/x", EV, "invalid extend gravity type: ex:1:xx" },
	{ N, "/_/ex:1:sm/plain/x", EV, "invalid extend gravity type: ex:1:sm" },
	{ N, "/_/ex:1:no:a/plain/x", EV, "invalid extend gravity x: ex:1:no:a" },
	{ N, "/_/ex:1:no:1:b/plain/x", EV, "invalid extend gravity y: ex:1:no:1:b" },
	{ N, "/_/ex:1:no:1:2:3/plain/x", EV, "invalid extend arguments: ex:1:no:1:2:3" },
	{ N, "/_/ex:1:fp:1/plain/x", EV, "invalid extend gravity arguments: ex:1:fp:1" },

	/* gravity, crop */
	{ N, "/_/g:noea:10:-5.5/plain/x", 0, "g=noea gx=10 gy=-5.5" },
	{ N, "/_/gravity:fp:0.1:1/plain/x", 0, "g=fp gx=0.1 gy=1" },
	{ N, "/_/g:no:1:2/g:sm/plain/x", 0, "g=sm gx=0 gy=0" },
	{ N, "/_/g:no:1:2/g:so/plain/x", 0, "g=so gx=1 gy=2" },
	{ N, "/_/g:we/plain/x", 0, "g=we" },
	{ N, "/_/g:xx/plain/x", EV, "invalid gravity type: g:xx" },
	{ N, "/_/g:/plain/x", EV, "invalid gravity type: g:" },
	{ N, "/_/g:sm:1/plain/x", EV, "invalid gravity arguments: g:sm:1" },
	{ N, "/_/g:fp:0.5/plain/x", EV, "invalid gravity arguments: g:fp:0.5" },
	{ N, "/_/g:fp:2:0.5/plain/x", EV, "invalid gravity x: g:fp:2:0.5" },
	{ N, "/_/g:fp:0.5:-1/plain/x", EV, "invalid gravity y: g:fp:0.5:-1" },
	{ N, "/_/g:no:1:2:3/plain/x", EV, "invalid gravity arguments: g:no:1:2:3" },
	{ N, "/_/g:no::5/plain/x", EV, "invalid gravity x: g:no::5" },
	{ N, "/_/c:100:50:so:1:2/plain/x", 0, "cw=100 ch=50 cg=so cgx=1 cgy=2 g=ce" },
	{ N, "/_/crop:0.5/plain/x", 0, "cw=0.5 ch=0 cg=unset" },
	{ N, "/_/c:10:10:sm/plain/x", 0, "cg=sm" },
	{ N, "/_/c:-1/plain/x", EV, "invalid crop width: c:-1" },
	{ N, "/_/c:/plain/x", EV, "invalid crop width: c:" },
	{ N, "/_/c:1:x/plain/x", EV, "invalid crop height: c:1:x" },
	{ N, "/_/c:1:1:xx/plain/x", EV, "invalid crop gravity type: c:1:1:xx" },
	{ N, "/_/c:1:1:no:1:2:3/plain/x", EV, "invalid crop gravity arguments: c:1:1:no:1:2:3" },

	/* rotation, background, quality, format */
	{ N, "/_/ar:0/rot:-90/plain/x", 0, "ar=0 rot=270" },
	{ N, "/_/auto_rotate:f/rotate:450/plain/x", 0, "ar=0 rot=90" },
	{ N, "/_/rot:0/plain/x", 0, "rot=0 ar=1" },
	{ N, "/_/rot:45/plain/x", EV, "rotation angle must be a multiple of 90: rot:45" },
	{ N, "/_/rot:x/plain/x", EV, "invalid rotate: rot:x" },
	{ N, "/_/rot:90:1/plain/x", EV, "invalid rotate arguments: rot:90:1" },
	{ N, "/_/bg:fff/plain/x", 0, "bg=ffffff" },
	{ N, "/_/background:1a2B3c/plain/x", 0, "bg=1a2b3c" },
	{ N, "/_/bg:1:2:3/plain/x", 0, "bg=010203" },
	{ N, "/_/bg:fff/bg:/plain/x", 0, "bg=none" },
	{ N, "/_/bg:12345/plain/x", EV, "invalid background: bg:12345" },
	{ N, "/_/bg:gg0000/plain/x", EV, "invalid background: bg:gg0000" },
	{ N, "/_/bg:1:2/plain/x", EV, "invalid background arguments: bg:1:2" },
	{ N, "/_/bg:256:0:0/plain/x", EV, "invalid background: bg:256:0:0" },
	{ N, "/_/bg:+1:0:0/plain/x", EV, "invalid background: bg:+1:0:0" },
	{ N, "/_/bg:1::0/plain/x", EV, "invalid background: bg:1::0" },
	{ N, "/_/q:0/plain/x", 0, "q=0" },
	{ N, "/_/quality:100/plain/x", 0, "q=100" },
	{ N, "/_/q:101/plain/x", EV, "invalid quality: q:101" },
	{ N, "/_/q:-1/plain/x", EV, "invalid quality: q:-1" },
	{ N, "/_/q:x/plain/x", EV, "invalid quality: q:x" },
	{ N, "/_/f:jpg/plain/x", 0, "f=jpeg out=jpeg from=option" },
	{ N, "/_/format:png/plain/x", 0, "f=png" },
	{ N, "/_/ext:jpeg/plain/x", 0, "f=jpeg" },
	{ N, "/_/f:avif/plain/x", 0, "f=avif out=avif" },
	{ N, "/_/f:xyz/plain/x", EV, "invalid format: f:xyz" },
	{ N, "/_/f:best/plain/x", EV, "invalid format: f:best" },
	{ N, "/_/f:/plain/x", EV, "invalid format: f:" },
	{ N, "/_/f:png:1/plain/x", EV, "invalid format arguments: f:png:1" },

	/* metadata, cache, expiry, filename, attachment */
	{ N, "/_/sm:f/cb:abc/plain/x", 0, "sm=0 cb=abc" },
	{ N, "/_/strip_metadata:0/cachebuster:v2/plain/x", 0, "sm=0 cb=v2" },
	{ N, "/_/cb:0123456789012345678901234567890123456789012345678901234567890123/plain/x", EV,
	  "invalid cachebuster: cb:0123456789012345678901234567890123456789012345678901234567890123" },
	{ N, "/_/exp:1700000000/plain/x", 0, "exp=1700000000" },
	{ N, "/_/expires:0/plain/x", 0, "exp=0" },
	{ N, "/_/exp:x/plain/x", EV, "invalid expires: exp:x" },
	{ N, "/_/exp:99999999999999999999/plain/x", EV, "invalid expires: exp:99999999999999999999" },
	{ N, "/_/fn:my%2Dfile/plain/x", 0, "fn=my-file" },
	{ N, "/_/filename:aGVsbG8:t/plain/x", 0, "fn=hello" },
	{ N, "/_/fn:aGVsbG8=:1/plain/x", 0, "fn=hello" },
	{ N, "/_/fn:aGVsbG8:0/plain/x", 0, "fn=aGVsbG8" },
	{ N, "/_/fn:a+b:/plain/x", 0, "fn=a+b" },
	{ N, "/_/fn:***:1/plain/x", EV, "invalid filename: fn:***:1" },
	{ N, "/_/fn:AAo:1/plain/x", EV, "invalid filename: fn:AAo:1" },
	{ N, "/_/fn:%zz/plain/x", EV, "invalid filename: fn:%zz" },
	{ N, "/_/fn:%0d/plain/x", EV, "invalid filename: fn:%0d" },
	{ N, "/_/fn:a:1:2/plain/x", EV, "invalid filename arguments: fn:a:1:2" },
	{ N, "/_/fn:0123456789012345678901234567890123456789012345678901234567890123"
	     "0123456789012345678901234567890123456789012345678901234567890123/plain/x", EV,
	  "invalid filename: fn:01234567890123456789012345678901234567890123456789012345678901230123456789012345678901234567890123456789012345678901234567890123" },
	{ N, "/_/att:1/plain/x", 0, "att=1" },
	{ N, "/_/return_attachment:false/plain/x", 0, "att=0" },
	{ N, "/_/foo:1/plain/x", EV, "unknown option: foo:1" },
	{ N, "/_/:1/plain/x", EV, "unknown option: :1" },
	{ N, "/_/W:1/plain/x", EV, "unknown option: W:1" },
	{ N, "/_/w\x7f:1/plain/x", EV, "unknown option: w?:1" },
	{ N, "/_/pr:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:A:B:C:D:E:F:G/plain/x", EV,
	  "invalid preset arguments: pr:a:b:c:d:e:f:g:h:i:j:k:l:m:n:o:p:q:r:s:t:u:v:w:x:y:z:A:B:C:D:E:F:G" },

	/* presets */
	{ N, "/_/pr:thumb/plain/x", EV, "unknown preset: pr:thumb" },
	{ P, "/_/plain/x", 0, "sm=0 pr=1" },
	{ P, "/_/pr:thumb/plain/x", 0, "rt=fill w=300 h=300 q=80 sm=0 pr=2" },
	{ P, "/_/w:100/preset:thumb/plain/x", 0, "w=300" },
	{ P, "/_/pr:thumb/w:100/sm:1/plain/x", 0, "w=100 h=300 sm=1" },
	{ P, "/_/pr:nested/plain/x", 0, "w=300 f=png pr=3" },
	{ P, "/_/pr:loop/plain/x", 0, "w=10 h=20 pr=3" },
	{ P, "/_/pr:default:thumb/plain/x", 0, "w=300 pr=3" },
	{ P, "/_/pr:d1/plain/x", EV, "presets nested too deep: pr:d9 (preset d8)" },
	{ P, "/_/pr:d2/plain/x", 0, "w=9" },
	{ P, "/_/pr:nope/plain/x", EV, "unknown preset: pr:nope" },
	{ P, "/_/pr:unk/plain/x", EV, "unknown preset: pr:nope (preset unk)" },
	{ P, "/_/pr:thumb:bad/plain/x", EV, "invalid width: w:abc (preset bad)" },
	{ P, "/_/pr:noargs/plain/x", EV, "invalid preset option: foo (preset noargs)" },

	/* everything at once, long names */
	{ N, "/_/resize:fill:640:480:1:1:soea:3:4/dpr:1.5/gravity:nowe/crop:800:600:ce"
	     "/auto_rotate:false/rotate:180/background:00ff00/quality:85/format:jpg"
	     "/strip_metadata:true/cachebuster:x1/expires:4102444800/filename:thumb"
	     "/return_attachment:1/min-width:10/min-height:20/zoom:1.25"
	     "/plain/https://example.org/p/q.png@png", 0,
	  "rt=fill w=640 h=480 el=1 ex=1 exg=soea exx=3 exy=4 dpr=1.5 g=nowe cw=800 ch=600 cg=ce"
	  " ar=0 rot=180 bg=00ff00 q=85 f=jpeg ext=png out=png from=ext sm=1 cb=x1 exp=4102444800"
	  " fn=thumb att=1 mw=10 mh=20 zx=1.25 zy=1.25 src=https://example.org/p/q.png" },
};

static void run_rows(void)
{
	char d[2048], miss[512];
	struct kl_imgurl u;

	for (size_t i = 0; i < KL_ARRAY_LEN(rows); i++) {
		const struct row *r = &rows[i];
		size_t n = strlen(r->path);
		int rc = parse(r->c, r->path, n, &u);
		int ok;

		if (r->rc == 0) {
			dump(&u, d, sizeof(d));
			ok = rc == 0 && u.why[0] == 0 && has_all(d, r->want, miss, sizeof(miss));
			T_OK(ok, "row %zu: %.100s", i, r->path);
			if (!ok)
				printf("#   rc %d why \"%s\" missing \"%s\"\n#   %s\n", rc, u.why, miss, d);
		} else {
			ok = rc == r->rc && strcmp(u.why, r->want) == 0;
			T_OK(ok, "row %zu: %.100s -> %s", i, r->path, r->want);
			if (!ok)
				printf("#   rc %d want %d, why \"%s\"\n", rc, r->rc, u.why);
		}
		/* every prefix, each ending at the guard page: no over-read, no crash */
		for (size_t k = 0; k < n; k++)
			parse(r->c, r->path, k, &u);
	}
	T_OK(1, "every prefix of every row parsed without a fault");
}

/* ---- the rest of the API ---- */

static void test_sign(void)
{
	char out[512];
	long n;
	struct kl_imgurl u;
	static char small[8];

	n = kl_imgurl_sign(&conf_a, A_PATH, strlen(A_PATH), out, sizeof(out));
	T_EQ_STR(n > 0 ? out : "", "/oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8" A_PATH, "sign: vector A");
	n = kl_imgurl_sign(&conf_a8, A_PATH, strlen(A_PATH), out, sizeof(out));
	T_EQ_STR(n > 0 ? out : "", "/oKfUtW34Dvo" A_PATH, "sign: vector A8");
	n = kl_imgurl_sign(&conf_b, "/asd", 4, out, sizeof(out));
	T_EQ_STR(n > 0 ? out : "", "/oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20/asd", "sign: vector B");
	n = kl_imgurl_sign(&conf_b8, "/asd", 4, out, sizeof(out));
	T_EQ_STR(n > 0 ? out : "", "/oWaL7QoW5Ts/asd", "sign: vector B8");
	n = kl_imgurl_sign(&conf_b2, "/asd?x=1", 8, out, sizeof(out));
	T_EQ_STR(n > 0 ? out : "", "/oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20/asd?x=1",
		 "sign: first pair signs, query kept and not signed");
	T_EQ_INT(n, (long)strlen(out), "sign: returns the length");
	n = kl_imgurl_sign(&conf_none, "/w:1/plain/x", 12, out, sizeof(out));
	T_EQ_STR(n > 0 ? out : "", "/insecure/w:1/plain/x", "sign: no key gives insecure");
	T_EQ_INT(kl_imgurl_sign(&conf_a, "asd", 3, out, sizeof(out)), KL_EINVAL, "sign: path without '/'");
	T_EQ_INT(kl_imgurl_sign(&conf_a, "", 0, out, sizeof(out)), KL_EINVAL, "sign: empty path");
	T_EQ_INT(kl_imgurl_sign(&conf_a, "/asd", 4, out, 47), KL_ETOOBIG, "sign: one byte short");
	T_EQ_INT(kl_imgurl_sign(&conf_a, "/asd", 4, out, 48), 48, "sign: exactly fits, no NUL");
	T_EQ_INT(kl_imgurl_sign(&conf_a, "/asd", 4, out, 10), KL_ETOOBIG, "sign: no room for the signature");
	T_EQ_INT(kl_imgurl_sign(&conf_none, "/asd", 4, out, 8), KL_ETOOBIG, "sign: no room for insecure");
	T_EQ_INT(kl_imgurl_sign(&conf_none, "/asd", 4, out, 0), KL_ETOOBIG, "sign: no room at all");
	/* round trip through the parser */
	n = kl_imgurl_sign(&conf_b2, "/rs:fit:10:10/plain/http://a/b.png", 34, out, sizeof(out));
	T_EQ_INT(parse(&conf_b2, out, (size_t)n, &u), KL_OK, "sign: signed path parses");
	T_EQ_INT(kl_imgurl_verify(&conf_b, "oWaL7QoW5Ts", 11, "/asd", 4), KL_EDENIED,
		 "verify: truncated signature against a full-size conf");
	T_EQ_INT(kl_imgurl_verify(&conf_b, "oWaL7QoW5TsgbuiS9-5-DI8S3Ibbo1gdB2SteJh3a20=", 44, "/asd", 4),
		 KL_EDENIED, "verify: padding refused, as imgproxy's raw base64url decoder does");
	T_EQ_INT(kl_imgurl_verify(&conf_none, "", 0, "/asd", 4), KL_OK, "verify: no key, empty signature");
	/* source larger than the scratch buffer */
	T_EQ_INT(kl_imgurl_parse(&conf_none, "/_/plain/http://a/b", 19, small, sizeof(small), &u),
		 KL_ETOOBIG, "parse: plain source over scratch");
	T_EQ_STR(u.why, "source URL too long", "parse: scratch reason");
	T_EQ_INT(kl_imgurl_parse(&conf_none, "/_/aHR0cDovL2EvYi5qcGc", 22, small, sizeof(small), &u),
		 KL_ETOOBIG, "parse: base64 source over scratch");
	T_EQ_INT(kl_imgurl_parse(&conf_none, "/_/aHR0cDovL2EvYi5qcGc", 22, small, 0, &u),
		 KL_ETOOBIG, "parse: zero scratch");
}

static void test_keys(void)
{
	struct kl_imgurl_conf c;
	char big[2 * KL_IMGURL_KEY_MAX + 3];

	memset(&c, 0, sizeof(c));
	T_EQ_INT(kl_imgurl_add_key(&c, "abc", 3, "00", 2), KL_EINVAL, "key: odd hex length");
	T_EQ_INT(kl_imgurl_add_key(&c, "zz", 2, "00", 2), KL_EINVAL, "key: not hex");
	T_EQ_INT(kl_imgurl_add_key(&c, "00", 2, "0g", 2), KL_EINVAL, "key: salt not hex");
	T_EQ_INT(kl_imgurl_add_key(&c, "", 0, "00", 2), KL_EINVAL, "key: empty key");
	T_EQ_INT(kl_imgurl_add_key(&c, "00", 2, "", 0), KL_EINVAL, "key: empty salt");
	memset(big, 'a', sizeof(big));
	T_EQ_INT(kl_imgurl_add_key(&c, big, 2 * KL_IMGURL_KEY_MAX + 2, "00", 2), KL_ETOOBIG, "key: too long");
	T_EQ_INT(kl_imgurl_add_key(&c, "00", 2, big, 2 * KL_IMGURL_KEY_MAX + 2), KL_ETOOBIG, "salt: too long");
	T_EQ_INT(c.nkeys, 0, "key: failures add nothing");
	T_EQ_INT(kl_imgurl_add_key(&c, big, 2 * KL_IMGURL_KEY_MAX, "00", 2), KL_OK, "key: longest key (hashed first)");
	for (int i = 1; i < KL_IMGURL_MAX_KEYS; i++)
		kl_imgurl_add_key(&c, "01", 2, "02", 2);
	T_EQ_INT(kl_imgurl_add_key(&c, "01", 2, "02", 2), KL_ETOOBIG, "key: too many pairs");
	/* a long key, cross-checked: HMAC with a 128-byte key of 0xaa, no salt
	 * is impossible (salt is required), so sign and verify must agree */
	{
		char out[128];
		long n = kl_imgurl_sign(&c, "/x", 2, out, sizeof(out));
		T_EQ_INT(kl_imgurl_verify(&c, out + 1, (size_t)n - 3, "/x", 2), KL_OK, "key: long key signs and verifies");
	}
}

static void test_helpers(void)
{
	struct kl_imgopts o;
	static const struct kl_imgurl_preset good[] = {
		{ "default", "q:70" }, { "a", "rs:fill:1:1/pr:b" }, { "b", "pr:a/f:png" },
	};
	static const struct kl_imgurl_preset badp[] = { { "x", "w:1" }, { "y", "pr:x/h:no" } };
	struct kl_imgurl_conf c = { 0 };
	char why[KL_ERRLEN];

	kl_imgurl_defaults(&o);
	T_OK(o.set == 0 && o.rtype == KL_IMGURL_FIT && o.dpr == 1 && o.zoom_x == 1 && o.auto_rotate == 1 &&
	     o.strip_metadata == 1 && o.enlarge == 0 && o.gravity.type == KL_IMGURL_GRAV_CE &&
	     o.crop_gravity.type == KL_IMGURL_GRAV_UNSET && o.bg[0] == 255 && o.out_format == KL_IMGURL_FMT_NONE,
	     "defaults are imgproxy's");
	T_EQ_INT(kl_imgurl_expired(&o, 100), 0, "expired: no expiry");
	o.expires = 100;
	T_EQ_INT(kl_imgurl_expired(&o, 100), 0, "expired: not at the second itself");
	T_EQ_INT(kl_imgurl_expired(&o, 101), 1, "expired: after");
	o.expires = -5;
	T_EQ_INT(kl_imgurl_expired(&o, 101), 0, "expired: negative means never (imgproxy)");
	T_OK(kl_imgurl_format_supported(KL_IMGURL_FMT_JPEG) && kl_imgurl_format_supported(KL_IMGURL_FMT_PNG) &&
	     kl_imgurl_format_supported(KL_IMGURL_FMT_NONE) && !kl_imgurl_format_supported(KL_IMGURL_FMT_WEBP),
	     "format: supported set");
	T_EQ_STR(kl_imgurl_format_name(KL_IMGURL_FMT_JPEG), "jpeg", "format: jpeg name");
	T_EQ_STR(kl_imgurl_format_name(KL_IMGURL_FMT_NONE), "", "format: none name");
	T_OK(kl_imgurl_status(KL_OK) == 200 && kl_imgurl_status(KL_EDENIED) == 403 &&
	     kl_imgurl_status(KL_EINVAL) == 404 && kl_imgurl_status(KL_ETOOBIG) == 404, "status mapping");
	c.presets = good;
	c.npresets = KL_ARRAY_LEN(good);
	T_EQ_INT(kl_imgurl_check_presets(&c, why, sizeof(why)), KL_OK, "presets: mutual recursion is not an error");
	c.presets = badp;
	c.npresets = KL_ARRAY_LEN(badp);
	T_EQ_INT(kl_imgurl_check_presets(&c, why, sizeof(why)), KL_EINVAL, "presets: bad option found");
	T_EQ_STR(why, "preset y: invalid height: h:no (preset y)", "presets: reason names preset and option");
	c.presets = presets;
	c.npresets = KL_ARRAY_LEN(presets);
	T_EQ_INT(kl_imgurl_check_presets(&c, why, 12), KL_EINVAL, "presets: short reason buffer");
	T_EQ_STR(why, "preset b...", "presets: reason truncated with ...");
}

/* ---- URLs made by imgproxy's own URL builder (npm) ---- */

static void test_npm(const char *file)
{
	static char line[16384];
	/* the presets tests/node/make-urls.mjs refers to */
	static const struct kl_imgurl_preset npm_presets[] = {
		{ "thumb", "rs:fill:300:300/q:80" }, { "sharp", "q:95" },
	};
	struct kl_imgurl_conf c = { .presets = npm_presets, .npresets = KL_ARRAY_LEN(npm_presets) };
	struct kl_imgurl u;
	char d[2048], miss[512], k[300], s[300];
	FILE *f = fopen(file, "r");
	int lineno = 0, tampered = 0;

	if (!f) {
		T_OK(0, "npm: cannot open %s", file);
		return;
	}
	if (!fgets(line, sizeof(line), f) || sscanf(line, "%299s %299s", k, s) != 2 ||
	    kl_imgurl_add_key(&c, k, strlen(k), s, strlen(s)) != KL_OK) {
		T_OK(0, "npm: first line must be KEY_HEX SALT_HEX");
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *tab, *want = "";
		size_t n = strcspn(line, "\r\n");
		int rc, ok;

		line[n] = 0;
		lineno++;
		if (n == 0 || line[0] == '#')
			continue;
		if ((tab = strchr(line, '\t')) != NULL) {
			*tab = 0;
			want = tab + 1;
			n = (size_t)(tab - line);
		}
		rc = parse(&c, line, n, &u);
		dump(&u, d, sizeof(d));
		ok = rc == KL_OK && has_all(d, want, miss, sizeof(miss));
		T_OK(ok, "npm %d: %.150s", lineno, line);
		if (!ok)
			printf("#   rc %d why \"%s\" missing \"%s\"\n#   %s\n", rc, u.why, miss, d);
		if (!tampered && rc == KL_OK) {
			/* change one byte after the signature: must now be refused */
			char *p = strchr(line + 1, '/');
			tampered = 1;
			if (p && p[1]) {
				p[1] ^= 1;
				T_EQ_INT(parse(&c, line, n, &u), KL_EDENIED, "npm: tampered path refused");
			}
		}
	}
	fclose(f);
	T_OK(lineno > 1, "npm: file had URLs");
}

int main(void)
{
	const char *npm = getenv("IMGURL_NPM_FILE");

	setup();
	if (npm && *npm) {
		test_npm(npm);
		return T_DONE();
	}
	run_rows();
	test_sign();
	test_keys();
	test_helpers();
	return T_DONE();
}
