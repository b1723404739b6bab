/* conf.h - the configuration file: INI syntax, typed values, validation. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_CONF_H
#define KL_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "base/confdata.h"
#include "base/kl.h"

/* The data model (struct kl_conf and its sections) is in base/confdata.h. */

/* Fills c with the defaults (no admin, no relay, no thumbs). */
void kl_conf_defaults(struct kl_conf *c);

/*
 * Reads and validates path into c. Returns 0, or a negative KL_E* code with
 * err holding one line "FILE:LINE: KEY: what is wrong" (LINE and KEY left
 * out where they do not apply). Unknown sections and keys, bad values,
 * missing required keys and duplicate listen addresses are errors.
 * Files over 256 KB are refused (KL_ETOOBIG). A users_file named by a relay
 * is read during the call (regular files up to 64 KB); its errors name
 * that file and its line. On error *c holds the defaults, never half a
 * config. Not reentrant: the file is read into a static buffer.
 * Codes: KL_EINVAL syntax or bad value, KL_ERANGE number out of range,
 * KL_ETOOBIG value or list too long for its fixed field, KL_EDENIED a
 * non-loopback relay with no users, no allow_clients and no open = yes,
 * KL_ENOTFOUND / KL_EIO a file that cannot be read.
 */
int kl_conf_load(struct kl_conf *c, const char *path, char err[KL_ERRLEN]);

/*
 * Same from text already in memory (tests, fuzzing): text need not be
 * NUL-terminated and is never read past len. name is used in messages and
 * copied into c->path.
 */
int kl_conf_parse(struct kl_conf *c, const char *name, const char *text, size_t len,
		  char err[KL_ERRLEN]);

/*
 * "16K" "32M" "1G" "512" -> bytes; K/M/G are powers of 1024, either case,
 * an optional trailing B. Returns 0 or KL_EINVAL / KL_ERANGE (overflow).
 */
int kl_conf_size(const char *s, uint64_t *out);
/*
 * "500ms" "5s" "2m" "1h" "7d" "10" (seconds) -> milliseconds. Returns 0,
 * KL_EINVAL, or KL_ERANGE past UINT32_MAX ms (about 49 days).
 */
int kl_conf_duration(const char *s, uint32_t *out_ms);

#endif
