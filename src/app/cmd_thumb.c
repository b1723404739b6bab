/* cmd_thumb.c - `kinglet thumb`: one file through the streaming thumbnail job. */
/* SPDX-License-Identifier: MIT */
#include "app/cmd_thumb.h"
#include "base/arena.h"
#include "base/kl.h"
#include "img/thumb.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#define READ_CHUNK (64 * 1024)
#define DEFAULT_ARENA (64u << 20)
#define OUT_CAP (32u << 20)
#define SLICE_ROWS 16

static int usage(const char *msg)
{
	fprintf(stderr, "kinglet: thumb: %s\n"
		"usage: kinglet thumb IN OUT --fit WxH [--fill WxH] [--gravity G] [--quality Q]\n"
		"       [--format jpg|png] [--arena SIZE] [--max-mp N] [--rotate 0|90|180|270]\n", msg);
	return 2;
}

static int parse_wxh(const char *s, uint32_t *w, uint32_t *h)
{
	char *end;
	unsigned long a = strtoul(s, &end, 10), b;

	if (end == s || (*end != 'x' && *end != 'X'))
		return -1;
	s = end + 1;
	b = strtoul(s, &end, 10);
	if (end == s || *end || a > 100000 || b > 100000)
		return -1;
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);

	if (end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end || v < KL_THUMB_ARENA_MIN || v > (1ull << 34))
		return -1;
	*out = (size_t)v;
	return 0;
}

static int parse_gravity(const char *s, struct kl_gravity *g)
{
	static const struct { const char *name; enum kl_gravity_type t; } tab[] = {
		{"ce", KL_GRAVITY_CE}, {"no", KL_GRAVITY_NO}, {"so", KL_GRAVITY_SO},
		{"ea", KL_GRAVITY_EA}, {"we", KL_GRAVITY_WE}, {"noea", KL_GRAVITY_NOEA},
		{"nowe", KL_GRAVITY_NOWE}, {"soea", KL_GRAVITY_SOEA}, {"sowe", KL_GRAVITY_SOWE},
	};

	memset(g, 0, sizeof(*g));
	if (strncmp(s, "fp:", 3) == 0) {
		char *end;
		g->type = KL_GRAVITY_FP;
		g->x = strtod(s + 3, &end);
		if (*end != ':')
			return -1;
		g->y = strtod(end + 1, &end);
		return *end || g->x < 0 || g->x > 1 || g->y < 0 || g->y > 1 ? -1 : 0;
	}
	for (size_t i = 0; i < KL_ARRAY_LEN(tab); i++) {
		if (strcmp(s, tab[i].name) == 0) {
			g->type = tab[i].t;
			return 0;
		}
	}
	return -1;
}

static int exit_code(int rc)
{
	switch (rc) {
	case KL_EUNSUPP: return 3;
	case KL_ECORRUPT: return 4;
	case KL_ETOOBIG: case KL_ENOMEM: return 5;
	case KL_EINVAL: return 2;
	default: return 1;
	}
}

static enum kl_format format_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot)
		return KL_FORMAT_AUTO;
	if (strcasecmp(dot, ".png") == 0)
		return KL_FORMAT_PNG;
	if (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0)
		return KL_FORMAT_JPEG;
	return KL_FORMAT_AUTO;
}

static int write_all(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	while (n) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			close(fd);
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return close(fd);
}

/* Reads IN in chunks and pushes them while stepping, as the server does. */
static int run(struct kl_thumb *t, int fd)
{
	static uint8_t chunk[READ_CHUNK];
	size_t off = 0, len = 0;
	int eof = 0, rc;

	for (;;) {
		if (!eof && off == len) {
			ssize_t k = read(fd, chunk, sizeof(chunk));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return KL_EIO;
			off = 0;
			len = (size_t)k;
			if (k == 0) {
				eof = 1;
				kl_thumb_end(t);
			}
		}
		while (off < len) {
			size_t took = kl_thumb_feed(t, chunk + off, len - off);
			if (!took)
				break;
			off += took;
		}
		rc = kl_thumb_step(t, SLICE_ROWS);
		if (rc != KL_AGAIN)
			return rc;
	}
}

/* see cmd_thumb.h */
int kl_cmd_thumb(int argc, char **argv)
{
	struct kl_thumb_opts o;
	struct kl_thumb_limits lim = {.max_src_mp = 50};
	struct kl_thumb t;
	struct kl_arena arena;
	const char *in = NULL, *out = NULL;
	size_t arena_size = DEFAULT_ARENA, len;
	const uint8_t *p;
	uint8_t *mem;
	int fd, rc, fmt_set = 0, size_set = 0;

	kl_thumb_opts_default(&o);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (a[0] != '-' || !a[1]) {
			if (!in)
				in = a;
			else if (!out)
				out = a;
			else
				return usage("too many arguments");
			continue;
		}
		if (!v)
			return usage("missing option value");
		i++;
		if (strcmp(a, "--fit") == 0 || strcmp(a, "--fill") == 0) {
			if (parse_wxh(v, &o.width, &o.height))
				return usage("bad size, expected WxH");
			o.resizing = a[3] == 'i' && a[4] == 't' ? KL_RESIZE_FIT : KL_RESIZE_FILL;
			size_set = 1;
		} else if (strcmp(a, "--gravity") == 0) {
			if (parse_gravity(v, &o.gravity))
				return usage("bad gravity");
		} else if (strcmp(a, "--quality") == 0) {
			o.quality = atoi(v);
			if (o.quality < 1 || o.quality > 100)
				return usage("quality must be 1..100");
		} else if (strcmp(a, "--format") == 0) {
			if (strcmp(v, "jpg") == 0 || strcmp(v, "jpeg") == 0)
				o.format = KL_FORMAT_JPEG;
			else if (strcmp(v, "png") == 0)
				o.format = KL_FORMAT_PNG;
			else
				return usage("format must be jpg or png");
			fmt_set = 1;
		} else if (strcmp(a, "--arena") == 0) {
			if (parse_size(v, &arena_size))
				return usage("bad arena size");
		} else if (strcmp(a, "--max-mp") == 0) {
			lim.max_src_mp = atof(v);
			if (!(lim.max_src_mp > 0))
				return usage("bad --max-mp");
		} else if (strcmp(a, "--rotate") == 0) {
			o.rotate = atoi(v);
			if (o.rotate % 90)
				return usage("rotate must be a multiple of 90");
		} else {
			return usage("unknown option");
		}
	}
	if (!in || !out)
		return usage("IN and OUT are required");
	if (!size_set)
		return usage("--fit WxH or --fill WxH is required");
	if (!fmt_set)
		o.format = format_of(out);

	/* one region for the whole run: the arena and the output buffer;
	 * untouched pages cost no memory */
	mem = mmap(NULL, arena_size + OUT_CAP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		fprintf(stderr, "kinglet: thumb: cannot reserve %zu bytes\n", arena_size + OUT_CAP);
		return 1;
	}
	fd = open(in, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "kinglet: thumb: %s: %s\n", in, strerror(errno));
		return 1;
	}
	kl_arena_init(&arena, mem, arena_size);
	rc = kl_thumb_init(&t, &arena, &o, &lim, mem + arena_size, OUT_CAP);
	if (rc == 0)
		rc = run(&t, fd);
	close(fd);
	if (rc == KL_EIO) {
		fprintf(stderr, "kinglet: thumb: %s: read error\n", in);
		kl_thumb_reset(&t);
		return 1;
	}
	if (rc) {
		fprintf(stderr, "kinglet: thumb: %s\n", kl_thumb_reason(&t));
		kl_thumb_reset(&t);
		return exit_code(rc);
	}
	kl_thumb_output(&t, &p, &len);
	if (write_all(out, p, len)) {
		fprintf(stderr, "kinglet: thumb: %s: %s\n", out, strerror(errno));
		kl_thumb_reset(&t);
		return 1;
	}
	kl_thumb_reset(&t);
	munmap(mem, arena_size + OUT_CAP);
	return 0;
}
