/* t_exif.c - EXIF orientation: well-formed, malformed and truncated blocks. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "base/kl.h"
#include "img/exif.h"

/* Builds "Exif\0\0" + TIFF with one IFD0 entry; returns the length. */
static size_t build(uint8_t *p, int be, unsigned tag, unsigned type, uint32_t count, unsigned val,
		    uint32_t ifd, unsigned nent)
{
	uint8_t *t = p + 6;
#define W16(o, v) (be ? (t[o] = (uint8_t)((v) >> 8), t[(o) + 1] = (uint8_t)(v)) \
		      : (t[o] = (uint8_t)(v), t[(o) + 1] = (uint8_t)((v) >> 8)))
#define W32(o, v) (be ? (W16(o, (v) >> 16), W16((o) + 2, (v) & 0xffff)) \
		      : (W16(o, (v) & 0xffff), W16((o) + 2, (v) >> 16)))
	memcpy(p, "Exif\0\0", 6);
	memset(t, 0, 64);
	t[0] = t[1] = be ? 'M' : 'I';
	W16(2, 42);
	W32(4, ifd);
	W16(8, nent);
	W16(10, tag);
	W16(12, type);
	W32(14, count);
	W16(18, val);
	return 6 + 8 + 2 + 12 + 4;
}

int main(void)
{
	uint8_t b[128];
	size_t n;

	for (unsigned v = 1; v <= 8; v++) {
		n = build(b, v & 1, 0x0112, 3, 1, v, 8, 1);
		T_EQ_INT(kl_exif_app1_orientation(b, n), v, v & 1 ? "orientation, big endian" : "orientation, little endian");
	}
	n = build(b, 1, 0x0112, 3, 1, 9, 8, 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "value 9 out of range -> 1");
	n = build(b, 1, 0x0112, 3, 1, 0, 8, 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "value 0 -> 1");
	n = build(b, 1, 0x0112, 4, 1, 6, 8, 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "wrong type (LONG) -> 1");
	n = build(b, 1, 0x0112, 3, 2, 6, 8, 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "count 2 -> 1");
	n = build(b, 1, 0x0110, 3, 1, 6, 8, 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "no orientation tag -> 1");
	n = build(b, 1, 0x0112, 3, 1, 6, 0xfffffff0u, 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "IFD offset far out of range -> 1");
	n = build(b, 1, 0x0112, 3, 1, 6, 4, 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "IFD offset inside the header -> 1");
	n = build(b, 1, 0x0112, 3, 1, 6, (uint32_t)(n - 6 - 1), 1);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "IFD offset at the last byte -> 1");
	n = build(b, 1, 0x0112, 3, 1, 6, 8, 0xffff);
	T_EQ_INT(kl_exif_app1_orientation(b, n), 6, "entry count too large: reads what is there");
	n = build(b, 1, 0x0112, 3, 1, 6, 8, 1);
	for (size_t cut = 0; cut < n - 4; cut++) {
		int o = kl_exif_app1_orientation(b, cut);
		if (o != 1) {
			T_OK(0, "truncated at %zu gives %d", cut, o);
			break;
		}
	}
	T_OK(1, "every truncation gives 1");
	b[6] = 'X';
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "bad byte order mark -> 1");
	n = build(b, 1, 0x0112, 3, 1, 6, 8, 1);
	b[0] = 'e';
	T_EQ_INT(kl_exif_app1_orientation(b, n), 1, "not Exif\\0\\0 -> 1");
	T_EQ_INT(kl_exif_orientation(NULL, 0), 1, "NULL -> 1");
	n = build(b, 0, 0x0112, 3, 1, 8, 8, 1);
	T_EQ_INT(kl_exif_orientation(b + 6, n - 6), 8, "bare TIFF (PNG eXIf)");
	return T_DONE();
}
