/* sess_fwd.c - forward sessions: every client goes to the listener's fixed target. */
/* SPDX-License-Identifier: MIT */
#include "relay/relay.h"
#include "proto/httpreq.h"

#include <string.h>

static void start(struct kl_rconn *c)
{
	const char *t = c->l->conf->target;
	struct kl_httpreq_hostport hp;

	/* The config parser validated target; a failure here is a bad config that slipped through. */
	if (kl_httpreq_hostport(t, strlen(t), 0, &hp) < 0 || hp.host_len >= sizeof(c->host)) {
		kl_relay_close(c, "bad target", 0);
		return;
	}
	memcpy(c->host, hp.host, hp.host_len);
	c->host[hp.host_len] = 0;
	c->dport = hp.port;
	kl_relay_connect(c);
}

/* Bytes that arrive before the target answers wait in c->up (relay.c keeps reading them). */
static void input(struct kl_rconn *c)
{
}

static void connected(struct kl_rconn *c, int rc)
{
	if (rc < 0) {
		kl_relay_close(c, rc == KL_EDENIED ? "target denied by policy" :
				  rc == KL_ETIMEDOUT ? "connect timeout" :
				  rc == KL_ENOTFOUND ? "target not found" : "connect failed", 0);
		return;
	}
	kl_relay_splice(c);
}

const struct kl_rsess_ops kl_sess_fwd_ops = { "forward", start, input, connected, NULL };
