/* httpresp.c - HTTP/1.x response heads and the chunked transfer coding (client side). */
/* SPDX-License-Identifier: MIT */
#include "proto/httpresp.h"

#include <limits.h>
#include <string.h>

/* see httpresp.h */
int kl_httpresp_parse(const char *buf, size_t len, struct kl_httpresp *rs)
{
	/* 0 means no limit; either way a head length must fit the int return value */
	size_t lim = rs->max_head && rs->max_head < INT_MAX ? rs->max_head : INT_MAX;
	size_t end = len < lim ? len : lim, i, r;
	int more = len >= lim ? KL_ETOOBIG : KL_AGAIN, status = 0;

	rs->nhdr = 0;
	rs->minor = rs->status = -1;
	rs->reason = NULL;
	rs->reason_len = 0;

	for (i = 0; i < 12; i++) {
		static const char pat[] = "HTTP/#.# ###";
		char c;

		if (i >= end)
			return more;
		c = buf[i];
		if (pat[i] == '#' ? (c < '0' || c > '9') : c != pat[i])
			return KL_EINVAL;
		if (i >= 9)
			status = status * 10 + (c - '0');
	}
	if (buf[5] != '1')
		return KL_EUNSUPP;
	if (status < 100 || status > 599)
		return KL_EINVAL;
	if (i >= end)
		return more;
	if (buf[i] == ' ')
		i++;
	else if (buf[i] != '\r' && buf[i] != '\n')
		return KL_EINVAL;       /* "2000": not three digits */
	for (r = i;; i++) {
		unsigned char c;

		if (i >= end)
			return more;
		c = (unsigned char)buf[i];
		if (c == '\r' || c == '\n')
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return KL_EINVAL;
	}
	if (buf[i] == '\r') {
		if (i + 1 >= end)
			return more;
		if (buf[i + 1] != '\n')
			return KL_EINVAL;
	}
	rs->minor = buf[7] - '0';
	rs->status = status;
	rs->reason = buf + r;
	rs->reason_len = i - r;
	i += buf[i] == '\r' ? 2 : 1;
	return kl_httpreq_headers(buf, len, i, rs->hdr, rs->hdr_cap, &rs->nhdr, rs->max_head);
}

/*
 * Decoder states. A size line is  HEX [BWS ";" ext...] CRLF, data is
 * followed by CRLF, the last chunk (size 0) by trailer lines and an
 * empty line. Each CR must be followed by LF; a bare LF is a line end.
 */
enum {
	CH_SIZE0 = 0,   /* first hex digit of a size */
	CH_SIZE,        /* more hex digits, or what ends them */
	CH_BWS,         /* blanks after the size: only ';' may follow */
	CH_EXT,         /* extension bytes up to the line end */
	CH_SIZE_LF,     /* CR seen at the end of a size line */
	CH_DATA,
	CH_DATA_END,    /* CR or LF after the data */
	CH_DATA_LF,     /* CR seen after the data */
	CH_TRAILER_BOL, /* start of a trailer line (or the final empty line) */
	CH_TRAILER,
	CH_TRAILER_LF,
	CH_END_LF,      /* CR of the final empty line seen */
	CH_DONE
};

/* see httpresp.h */
void kl_httpresp_chunked_init(struct kl_httpresp_chunked *c)
{
	memset(c, 0, sizeof(*c));
}

/* see httpresp.h */
int kl_httpresp_chunked_done(const struct kl_httpresp_chunked *c)
{
	return c->state == CH_DONE;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static int is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int fail(struct kl_httpresp_chunked *c, int rc)
{
	c->err = (int8_t)rc;
	return rc;
}

/* After a complete size line: data, or the trailer section for size 0. */
static void size_line_done(struct kl_httpresp_chunked *c)
{
	c->state = c->left ? CH_DATA : CH_TRAILER_BOL;
	c->line = 0;
}

/* see httpresp.h */
int kl_httpresp_chunked_feed(struct kl_httpresp_chunked *c, const char *in, size_t len,
		const char **data, size_t *dlen)
{
	size_t i = 0;

	*data = NULL;
	*dlen = 0;
	if (len > INT_MAX)
		len = INT_MAX;  /* the count must fit the return value */
	if (c->err)
		return c->err;
	while (i < len && c->state != CH_DONE) {
		unsigned char ch = (unsigned char)in[i];
		int h;

		if (c->state == CH_DATA) {
			size_t n = len - i;
			if (n > c->left)
				n = (size_t)c->left;
			*data = in + i;
			*dlen = n;
			c->left -= n;
			if (c->left == 0)
				c->state = CH_DATA_END;
			return (int)(i + n);
		}
		if (c->state <= CH_SIZE_LF && ++c->line > KL_HTTPRESP_CHUNK_LINE_MAX)
			return fail(c, KL_ETOOBIG);
		if (c->state >= CH_TRAILER_BOL && ++c->line > KL_HTTPRESP_TRAILER_MAX)
			return fail(c, KL_ETOOBIG);
		i++;
		switch (c->state) {
		case CH_SIZE0:
			if ((h = hexval((char)ch)) < 0)
				return fail(c, KL_EINVAL);
			c->left = (uint64_t)h;
			c->state = CH_SIZE;
			break;
		case CH_SIZE:
			if ((h = hexval((char)ch)) >= 0) {
				if (c->left >> 56)
					return fail(c, KL_ERANGE);
				c->left = c->left << 4 | (uint64_t)h;
			} else if (ch == ';') {
				c->state = CH_EXT;
			} else if (ch == ' ' || ch == '\t') {
				c->state = CH_BWS;
			} else if (ch == '\r') {
				c->state = CH_SIZE_LF;
			} else if (ch == '\n') {
				size_line_done(c);
			} else {
				return fail(c, KL_EINVAL);
			}
			break;
		case CH_BWS:
			if (ch == ';')
				c->state = CH_EXT;
			else if (ch != ' ' && ch != '\t')
				return fail(c, KL_EINVAL);
			break;
		case CH_EXT:
			if (ch == '\r')
				c->state = CH_SIZE_LF;
			else if (ch == '\n')
				size_line_done(c);
			else if (is_ctl(ch))
				return fail(c, KL_EINVAL);
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return fail(c, KL_EINVAL);
			size_line_done(c);
			break;
		case CH_DATA_END:
			if (ch == '\r')
				c->state = CH_DATA_LF;
			else if (ch == '\n')
				c->state = CH_SIZE0;
			else
				return fail(c, KL_EINVAL);
			c->line = 0;
			break;
		case CH_DATA_LF:
			if (ch != '\n')
				return fail(c, KL_EINVAL);
			c->state = CH_SIZE0;
			c->line = 0;
			break;
		case CH_TRAILER_BOL:
			if (ch == '\r')
				c->state = CH_END_LF;
			else if (ch == '\n')
				c->state = CH_DONE;
			else if (is_ctl(ch) || ch == ' ')
				return fail(c, KL_EINVAL);      /* obs-fold or junk */
			else
				c->state = CH_TRAILER;
			break;
		case CH_TRAILER:
			if (ch == '\r')
				c->state = CH_TRAILER_LF;
			else if (ch == '\n')
				c->state = CH_TRAILER_BOL;
			else if (is_ctl(ch))
				return fail(c, KL_EINVAL);
			break;
		case CH_TRAILER_LF:
		case CH_END_LF:
			if (ch != '\n')
				return fail(c, KL_EINVAL);
			c->state = c->state == CH_END_LF ? CH_DONE : CH_TRAILER_BOL;
			break;
		}
	}
	return (int)i;
}
