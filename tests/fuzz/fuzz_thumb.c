/* fuzz_thumb.c - arbitrary bytes through decode -> resize -> encode in a small arena. */
/* SPDX-License-Identifier: MIT */
#include "base/arena.h"
#include "base/kl.h"
#include "img/thumb.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * The last 4 bytes (when the input is long enough) pick the options, as
 * libspng's fuzzer does: output format, resizing type, target size,
 * orientation handling, rotation, chunk size. The arena is small (4 MB)
 * so that preflight refusals and arena exhaustion are exercised as much
 * as success.
 */
#define ARENA (4u << 20)
#define OUTCAP (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static _Alignas(16) uint8_t mem[ARENA];
	static uint8_t out[OUTCAP];
	struct kl_arena a;
	struct kl_thumb t;
	struct kl_thumb_opts o;
	struct kl_thumb_limits lim = {.max_src_mp = 16};
	uint8_t k[4] = {0, 0, 0, 0};
	size_t off = 0, chunk;
	int rc, turns = 0;

	if (size >= 12) {
		memcpy(k, data + size - 4, 4);
		size -= 4;
	}
	kl_thumb_opts_default(&o);
	o.format = k[0] & 1 ? KL_FORMAT_PNG : KL_FORMAT_JPEG;
	o.resizing = (enum kl_resizing)((k[0] >> 1) % 5);
	o.width = 1 + k[1] % 64;
	o.height = (k[0] & 0x10) ? 0 : 1 + k[2] % 64;
	o.auto_rotate = !(k[0] & 0x20);
	o.rotate = 90 * (k[3] & 3);
	o.extend = (k[0] >> 6) & 1;
	o.enlarge = (k[3] >> 2) & 1;
	o.quality = 1 + k[2] % 100;
	chunk = 1 + (size_t)(k[3] >> 3) * 97;

	kl_arena_init(&a, mem, sizeof(mem));
	rc = kl_thumb_init(&t, &a, &o, &lim, out, sizeof(out));
	while (rc == 0 || rc == KL_AGAIN) {
		if (off < size) {
			off += kl_thumb_feed(&t, data + off, KL_MIN(chunk, size - off));
			if (off == size)
				kl_thumb_end(&t);
		} else {
			kl_thumb_end(&t);
		}
		rc = kl_thumb_step(&t, 8);
		if (rc == 0)
			break;
		if (++turns > 10000000)
			abort();        /* no progress: a livelock is a bug */
	}
	if (rc == 0) {
		const uint8_t *p;
		size_t len;
		if (kl_thumb_output(&t, &p, &len) != 0 || len == 0 || len > sizeof(out))
			abort();
	}
	kl_thumb_reset(&t);
	return 0;
}
