/* confdata.h - the configuration as plain data: what each section holds. */
/* SPDX-License-Identifier: MIT */
#ifndef KL_CONFDATA_H
#define KL_CONFDATA_H

#include <stddef.h>
#include <stdint.h>

/*
 * Shared by app/ (conf.c parses the file into it) and by the services,
 * which read their own section (relay/ takes a struct kl_conf_relay). It
 * holds no behaviour, so it sits in base/ where every layer may include it
 * without an include running back up to app/.
 */
/*
 * Everything lives in fixed arrays inside struct kl_conf: parsing a file
 * allocates nothing. Strings are copied into fixed fields; a value that
 * does not fit is a config error, not a truncation.
 *
 * Section and key names are part of the contract (SPEC section 4):
 *   [global] [admin] [relay NAME]... [thumbs] [preset NAME]...
 * Keys are the field names below, except: [admin] listen (admin_listen);
 * durations handshake, connect, idle, uplink_only, downlink_only,
 * shutdown_grace, download_timeout, header_timeout, idle_timeout (the
 * _ms fields); ttl (ttl_s). configs/kinglet.conf lists every key.
 */
#define KL_CONF_MAX_RELAYS   16
#define KL_CONF_MAX_PRESETS  16
#define KL_CONF_MAX_USERS    16
#define KL_CONF_MAX_CIDRS    32
#define KL_CONF_MAX_SOURCES  16
#define KL_CONF_NAME   32
#define KL_CONF_ADDR   128      /* host:port, [v6]:port */
#define KL_CONF_PATH   256
#define KL_CONF_CRED   64       /* user name or password */
#define KL_CONF_RULE   128      /* one CIDR or domain suffix */
#define KL_CONF_HEX    129      /* 64 bytes of key as hex + NUL */

enum kl_relay_type { KL_RELAY_SOCKS5 = 1, KL_RELAY_HTTP, KL_RELAY_FORWARD };

struct kl_conf_user {
	char name[KL_CONF_CRED];
	char pass[KL_CONF_CRED];
};

struct kl_conf_rules {          /* a list of CIDRs and domain suffixes, as written */
	unsigned n;
	char item[KL_CONF_MAX_CIDRS][KL_CONF_RULE];
};

struct kl_conf_relay {
	char name[KL_CONF_NAME];
	int line;                       /* line of the section header, for messages */
	enum kl_relay_type type;
	char listen[KL_CONF_ADDR];
	char target[KL_CONF_ADDR];      /* forward only (required there) */
	char tls_cert[KL_CONF_PATH], tls_key[KL_CONF_PATH];
	uint32_t buffer_kb;             /* default 16; 0 = one small fixed chunk */
	uint32_t max_conns;             /* default 256 */
	uint32_t max_conns_per_ip;      /* default 0 = unlimited */
	uint32_t sock_buf_kb;           /* default 0 = leave kernel autotuning alone */
	struct kl_conf_rules allow_clients;
	struct kl_conf_rules allow_destinations, deny_destinations;
	unsigned nusers;
	struct kl_conf_user users[KL_CONF_MAX_USERS];
	char users_file[KL_CONF_PATH];
	int open;                       /* open = yes */
	/* timeouts in ms, V2Ray policy names */
	uint32_t handshake_ms, connect_ms, idle_ms, uplink_only_ms, downlink_only_ms;
	/* outbound */
	char upstream[KL_CONF_ADDR];
	int upstream_tls;
	char upstream_user[KL_CONF_CRED], upstream_pass[KL_CONF_CRED];
	char upstream_ca[KL_CONF_PATH];
	char upstream_pin[96];          /* base64 or hex SHA-256 of the SPKI */
	uint32_t tls_sessions;          /* TLS sessions this listener may hold; default max_conns */
};

struct kl_conf_preset {
	char name[KL_CONF_NAME];
	char options[512];              /* processing options, imgproxy syntax, '/'-separated */
};

struct kl_conf_thumbs {
	int enabled;                    /* a [thumbs] section is present */
	int line;
	char listen[KL_CONF_ADDR];
	char key[KL_CONF_HEX], salt[KL_CONF_HEX];   /* hex, as written */
	uint32_t signature_size;        /* default 32 (whole digest) */
	uint32_t jobs;                  /* default 2 */
	uint64_t arena;                 /* bytes, default 8M */
	uint32_t queue;                 /* default 16 */
	uint32_t max_conns;             /* HTTP connections, default 64 */
	char local_root[KL_CONF_PATH];
	unsigned nsources;
	char allowed_sources[KL_CONF_MAX_SOURCES][KL_CONF_RULE];
	int allow_private_sources;
	uint64_t max_src_size;          /* bytes, default 20M */
	uint32_t max_src_resolution;    /* megapixels, default 50 */
	uint32_t download_timeout_ms;   /* default 10s */
	uint32_t header_timeout_ms;     /* default 10s */
	uint32_t idle_timeout_ms;       /* keep-alive, default 60s */
	uint32_t max_header_kb;         /* request line + headers, default 8 */
	uint32_t ttl_s;                 /* Cache-Control max-age, default 31536000 */
	uint32_t quality;               /* default JPEG quality, default 80 */
	char ca_file[KL_CONF_PATH];     /* https sources; default: system bundle */
	uint32_t tls_sessions;          /* concurrent https downloads, default = jobs */
};

struct kl_conf {
	char path[KL_CONF_PATH];
	/* [global] */
	uint64_t memory_limit;          /* bytes, default 32M */
	int log_level;                  /* KL_LOG_*, default info */
	uint32_t shutdown_grace_ms;     /* default 5s */
	uint32_t dns_cache;             /* entries, default 64 */
	/* [admin] */
	int admin_enabled;
	char admin_listen[KL_CONF_ADDR];
	/* [relay NAME] */
	unsigned nrelays;
	struct kl_conf_relay relay[KL_CONF_MAX_RELAYS];
	/* [thumbs] */
	struct kl_conf_thumbs thumbs;
	/* [preset NAME] */
	unsigned npresets;
	struct kl_conf_preset preset[KL_CONF_MAX_PRESETS];
};

#endif
