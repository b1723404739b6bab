/* exif.h - EXIF orientation from a TIFF-structured EXIF block. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_EXIF_H
#define KL_EXIF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Returns the Orientation tag (0x0112) of IFD0 of the TIFF block p[0..n),
 * a value 1..8. Anything malformed, truncated, out of range or absent
 * gives 1 (upright): a broken EXIF block never fails an image. Only IFD0
 * is read; no offset outside p[0..n) is ever dereferenced. p MAY be NULL
 * when n is 0.
 */
int kl_exif_orientation(const uint8_t *p, size_t n);

/*
 * Same for the payload of a JPEG APP1 segment (after the length field):
 * it MUST start with "Exif\0\0" to be considered, else 1.
 */
int kl_exif_app1_orientation(const uint8_t *p, size_t n);

#endif
