/* mbedtls_compat.h - the few mbedtls calls that differ between 2.28 and 3.x. */
/* SPDX-License-Identifier: MIT */
#ifndef KP_MBEDTLS_COMPAT_H
#define KP_MBEDTLS_COMPAT_H

/*
 * Verified against Debian 12's mbedtls 2.28. The 3.x branch (what current
 * OpenWrt ships) follows the 3.x documentation of the same calls; every
 * version difference the TLS code meets goes through these macros.
 */
#include <mbedtls/version.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>

#if MBEDTLS_VERSION_MAJOR >= 3
#define kp_sha256(in, n, out)           mbedtls_sha256((in), (n), (out), 0)
#define kp_pk_parse_keyfile(pk, path, rng, rng_ctx) \
	mbedtls_pk_parse_keyfile((pk), (path), NULL, (rng), (rng_ctx))
#define kp_ssl_min_tls12(conf)          mbedtls_ssl_conf_min_tls_version((conf), MBEDTLS_SSL_VERSION_TLS1_2)
#define kp_pk_check_pair(pub, prv, rng, rng_ctx) mbedtls_pk_check_pair((pub), (prv), (rng), (rng_ctx))
#else
#define kp_sha256(in, n, out)           mbedtls_sha256_ret((in), (n), (out), 0)
#define kp_pk_parse_keyfile(pk, path, rng, rng_ctx) \
	((void)(rng), (void)(rng_ctx), mbedtls_pk_parse_keyfile((pk), (path), NULL))
#define kp_ssl_min_tls12(conf) \
	mbedtls_ssl_conf_min_version((conf), MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3)
#define kp_pk_check_pair(pub, prv, rng, rng_ctx) \
	((void)(rng), (void)(rng_ctx), mbedtls_pk_check_pair((pub), (prv)))
#endif

#endif
