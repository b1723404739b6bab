/* exif.c - bounds-checked TIFF/IFD reader for the EXIF orientation tag. */
/* SPDX-License-Identifier: MIT */
#include "img/exif.h"

#include <string.h>

#define TAG_ORIENTATION 0x0112
#define TYPE_SHORT 3

static unsigned rd16(const uint8_t *p, int be)
{
	return be ? (unsigned)(p[0] << 8 | p[1]) : (unsigned)(p[1] << 8 | p[0]);
}

static uint32_t rd32(const uint8_t *p, int be)
{
	return be ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]
		  : (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* see exif.h */
int kl_exif_orientation(const uint8_t *p, size_t n)
{
	uint32_t ifd;
	unsigned count;
	int be;

	if (!p || n < 8)
		return 1;
	if (p[0] == 'I' && p[1] == 'I')
		be = 0;
	else if (p[0] == 'M' && p[1] == 'M')
		be = 1;
	else
		return 1;
	if (rd16(p + 2, be) != 42)
		return 1;
	ifd = rd32(p + 4, be);
	/* Compare in size_t without adding to ifd first: no wrap-around. */
	if (ifd < 8 || ifd > n || n - ifd < 2)
		return 1;
	count = rd16(p + ifd, be);
	if ((n - ifd - 2) / 12 < count)
		count = (unsigned)((n - ifd - 2) / 12);  /* truncated IFD: read what is there */
	for (unsigned i = 0; i < count; i++) {
		const uint8_t *e = p + ifd + 2 + (size_t)i * 12;
		unsigned v;

		if (rd16(e, be) != TAG_ORIENTATION)
			continue;
		if (rd16(e + 2, be) != TYPE_SHORT || rd32(e + 4, be) != 1)
			return 1;
		v = rd16(e + 8, be);
		return v >= 1 && v <= 8 ? (int)v : 1;
	}
	return 1;
}

/* see exif.h */
int kl_exif_app1_orientation(const uint8_t *p, size_t n)
{
	if (!p || n < 6 || memcmp(p, "Exif\0\0", 6) != 0)
		return 1;
	return kl_exif_orientation(p + 6, n - 6);
}
