/* cmd_sign.c - `kinglet sign`: signs an imgproxy path with the [thumbs] key and salt. */
/* SPDX-License-Identifier: MIT */
#include "app/cmd_sign.h"
#include "app/conf.h"
#include "base/kl.h"
#include "proto/imgurl.h"

#include <stdio.h>
#include <string.h>

#define DEFAULT_CONFIG "/etc/kinglet/kinglet.conf"

/* Large (fixed arrays for every listener and preset): not on the stack. */
static struct kl_conf conf;
static struct kl_imgurl_conf ucf;

static int usage(const char *msg)
{
	fprintf(stderr, "kinglet: sign: %s\nusage: kinglet sign PATH [-c FILE]\n"
		"  PATH is everything after the signature, e.g. /rs:fit:300:300/plain/local:///a.jpg\n", msg);
	return 2;
}

/* see cmd_sign.h */
int kl_cmd_sign(int argc, char **argv)
{
	const char *path = NULL, *file = DEFAULT_CONFIG;
	char err[KL_ERRLEN];
	static char out[16384];
	long n;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			file = argv[++i];
		else if (argv[i][0] == '/' && !path)
			path = argv[i];
		else
			return usage(argv[i][0] == '/' ? "more than one PATH" : "PATH must start with '/'");
	}
	if (!path)
		return usage("missing PATH");
	if (kl_conf_load(&conf, file, err) < 0) {
		fprintf(stderr, "kinglet: %s\n", err);
		return 1;
	}
	memset(&ucf, 0, sizeof(ucf));
	ucf.sig_size = conf.thumbs.signature_size >= 32 ? 0 : conf.thumbs.signature_size;
	if (conf.thumbs.key[0]) {
		rc = kl_imgurl_add_key(&ucf, conf.thumbs.key, strlen(conf.thumbs.key), conf.thumbs.salt,
				       strlen(conf.thumbs.salt));
		if (rc < 0) {
			fprintf(stderr, "kinglet: %s: [thumbs] key/salt: %s\n", file, kl_strerror(rc));
			return 1;
		}
	}
	n = kl_imgurl_sign(&ucf, path, strlen(path), out, sizeof(out));
	if (n < 0) {
		fprintf(stderr, "kinglet: sign: %s\n", kl_strerror((int)n));
		return 1;
	}
	printf("%.*s\n", (int)n, out);
	return 0;
}
