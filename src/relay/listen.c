/* listen.c - relay listeners: admission (clients, per-IP, max_conns), metrics, stop. */
/* SPDX-License-Identifier: MIT */
#include "relay/relay.h"
#include "base/log.h"
#include "net/sock.h"
#include "proto/httpreq.h"

#include <stdio.h>
#include <string.h>

static const char *const ref_name[KL_RREF_COUNT] = { "full", "per_ip", "clients", "stopping" };

static uint32_t ip_cap(const struct kl_conf_relay *rc)
{
	uint32_t cap = 8;

	if (!rc->max_conns_per_ip)
		return 0;
	/* Load factor <= 1/2: probes stay short with linear probing. */
	while (cap < 2 * rc->max_conns)
		cap <<= 1;
	return cap;
}

static uint32_t nrules(const struct kl_conf_relay *rc)
{
	return rc->allow_clients.n + rc->allow_destinations.n + rc->deny_destinations.n;
}

/* see relay.h */
size_t kl_rlisten_mem_size(const struct kl_conf_relay *rc)
{
	return KL_ALIGN_UP((size_t)nrules(rc) * sizeof(struct kl_cidr_rule), 16) +
	       (size_t)ip_cap(rc) * sizeof(struct kl_rip);
}

static uint32_t compile(struct kl_cidr_rule *out, const struct kl_conf_rules *in, const char *name, const char *key)
{
	uint32_t n = 0;

	for (unsigned i = 0; i < in->n; i++) {
		if (kl_cidr_parse_rule(in->item[i], strlen(in->item[i]), &out[n]) == 0)
			n++;
		else
			kl_log(KL_LOG_WARN, "relay %s: %s: skipping rule \"%s\"", name, key, in->item[i]);
	}
	return n;
}

/* see relay.h */
int kl_rlisten_init(struct kl_rlisten *l, const struct kl_conf_relay *rc, struct kl_ev *ev, struct kl_dns *dns,
		    struct kl_pool *conn_pool, struct kl_pool *buf_pool, void *tab_mem, char err[KL_ERRLEN])
{
	uint8_t *p = tab_mem;

	memset(l, 0, sizeof(*l));
	l->conf = rc;
	l->ev = ev;
	l->dns = dns;
	l->conn_pool = conn_pool;
	l->buf_pool = buf_pool;
	l->lst.fd = -1;
	switch (rc->type) {
	case KL_RELAY_SOCKS5: l->ops = &kl_sess_socks5_ops; break;
	case KL_RELAY_HTTP: l->ops = &kl_sess_connect_ops; break;
	case KL_RELAY_FORWARD: l->ops = &kl_sess_fwd_ops; break;
	default:
		snprintf(err, KL_ERRLEN, "relay %s: unknown type", rc->name);
		return KL_EINVAL;
	}
	if (!conn_pool || !buf_pool || conn_pool->size < sizeof(struct kl_rconn)) {
		snprintf(err, KL_ERRLEN, "relay %s: the memory plan has no pools for it", rc->name);
		return KL_EINVAL;
	}
	l->clients = (struct kl_cidr_rule *)p;
	l->nclients = compile(l->clients, &rc->allow_clients, rc->name, "allow_clients");
	l->allow = l->clients + l->nclients;
	l->nallow = compile(l->allow, &rc->allow_destinations, rc->name, "allow_destinations");
	l->deny = l->allow + l->nallow;
	l->ndeny = compile(l->deny, &rc->deny_destinations, rc->name, "deny_destinations");
	p += KL_ALIGN_UP((size_t)nrules(rc) * sizeof(struct kl_cidr_rule), 16);
	l->ips = (struct kl_rip *)p;
	l->nips = ip_cap(rc);
	if (l->nips)
		memset(l->ips, 0, (size_t)l->nips * sizeof(*l->ips));
	return 0;
}

/* ---------------- per-IP counts: linear probing with backward-shift deletion ---------------- */

static uint32_t ip_hash(const uint8_t ip[16])
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 16; i++)
		h = (h ^ ip[i]) * 16777619u;
	return h;
}

/* The slot holding ip, or the empty slot where it would go. */
static struct kl_rip *ip_slot(struct kl_rlisten *l, const uint8_t ip[16])
{
	uint32_t mask = l->nips - 1, i = ip_hash(ip) & mask;

	while (l->ips[i].n && memcmp(l->ips[i].ip, ip, 16) != 0)
		i = (i + 1) & mask;
	return &l->ips[i];
}

static void ip_dec(struct kl_rlisten *l, const uint8_t ip[16])
{
	uint32_t mask = l->nips - 1, i, j;
	struct kl_rip *s = ip_slot(l, ip);

	if (!s->n || --s->n)
		return;
	/* Emptied: pull later entries of the probe chain back so lookups never stop early. */
	i = (uint32_t)(s - l->ips);
	j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!l->ips[j].n)
			break;
		uint32_t home = ip_hash(l->ips[j].ip) & mask;
		/* Move j into the hole at i when its home is not in (i, j] cyclically. */
		if ((i <= j) ? (home <= i || home > j) : (home <= i && home > j)) {
			l->ips[i] = l->ips[j];
			l->ips[j].n = 0;
			i = j;
		}
	}
}

/* ---------------- accept ---------------- */

static void refuse(struct kl_rlisten *l, int why, const uint8_t ip[16], uint16_t port)
{
	char a[KL_SOCK_ADDRSTRLEN];

	kl_metric_inc(&l->m_refused[why]);
	kl_sock_format(ip, port, a, sizeof(a));
	kl_log(KL_LOG_INFO, "relay %s: refused %s: %s", l->conf->name, a, ref_name[why]);
}

static int on_accept(struct kl_listener *lst, int fd, const struct kp_addr *peer, void *ud)
{
	struct kl_rlisten *l = ud;
	struct kl_rconn *c;
	uint8_t ip[16];
	uint16_t port;
	struct kl_rip *slot = NULL;

	kl_listener_peer(peer, ip, &port);
	kl_metric_inc(&l->m_accepted);
	if (l->stopping) {
		refuse(l, KL_RREF_STOPPING, ip, port);
		return KL_EDENIED;
	}
	if (l->nclients) {
		struct kl_cidr_addr ca;
		kl_cidr_from_v6(&ca, ip);
		if (kl_sock_is_v4(ip))
			kl_cidr_from_v4(&ca, ip + 12);
		if (kl_cidr_match(l->clients, l->nclients, &ca, NULL, 0) < 0) {
			refuse(l, KL_RREF_CLIENTS, ip, port);
			return KL_EDENIED;
		}
	}
	if (l->nips) {
		slot = ip_slot(l, ip);
		if (slot->n >= l->conf->max_conns_per_ip) {
			refuse(l, KL_RREF_PER_IP, ip, port);
			return KL_EDENIED;
		}
	}
	c = kl_pool_get(l->conn_pool);
	if (!c) {
		/* Not reached while the pause below works; kept as the safe answer. */
		refuse(l, KL_RREF_FULL, ip, port);
		return KL_ENOMEM;
	}
	memset(c, 0, sizeof(*c));
	c->l = l;
	c->id = ++l->next_id;
	memcpy(c->cip, ip, 16);
	c->cport = port;
	c->cli.fd = c->srv.fd = -1;
	if (slot) {
		if (!slot->n)
			memcpy(slot->ip, ip, 16);
		slot->n++;
		c->flags |= KL_RF_IP_COUNTED;
	}
	l->active++;
	kl_metric_set(&l->m_active, l->active);
	if (l->conn_pool->used == l->conn_pool->count) {
		/* Every slot is taken: later clients wait in the kernel's backlog, not accepted yet. */
		kl_metric_inc(&l->m_refused[KL_RREF_FULL]);
		kl_log(KL_LOG_WARN, "relay %s: max_conns=%u reached, pausing accept", l->conf->name, l->conf->max_conns);
		l->paused_full = 1;
		kl_listener_pause(&l->lst);
	}
	kl_relay_begin(c, fd);
	return 0;
}

/* Called by kl_relay_close(): gives the slot back. */
void kl_rlisten_release(struct kl_rlisten *l, struct kl_rconn *c);
void kl_rlisten_release(struct kl_rlisten *l, struct kl_rconn *c)
{
	if (c->flags & KL_RF_IP_COUNTED)
		ip_dec(l, c->cip);
	l->active--;
	kl_metric_set(&l->m_active, l->active);
	kl_pool_put(l->conn_pool, c);
	if (l->paused_full && !l->stopping) {
		l->paused_full = 0;
		kl_listener_resume(&l->lst);
	}
}

/* see relay.h */
int kl_relay_user_ok(const struct kl_rlisten *l, const char *user, size_t ulen, const char *pass, size_t plen)
{
	const struct kl_conf_relay *rc = l->conf;
	int ok = 0;

	/* Every entry is compared, so the time does not tell which name exists. */
	for (unsigned i = 0; i < rc->nusers; i++) {
		int u = kl_httpreq_cred_eq(user, ulen, rc->users[i].name, strlen(rc->users[i].name));
		int p = kl_httpreq_cred_eq(pass, plen, rc->users[i].pass, strlen(rc->users[i].pass));
		ok |= u & p;
	}
	return ok;
}

static void metric(struct kl_metric *m, const char *family, const char *help, int type, const char *name,
		   const char *extra)
{
	kl_metric_init(m, family, help, type, "listener=\"%s\"%s", name, extra);
	kl_metric_register(m);
}

/* see relay.h */
int kl_rlisten_start(struct kl_rlisten *l, char err[KL_ERRLEN])
{
	const char *n = l->conf->name;
	char lname[48], extra[48];
	int rc;

	snprintf(lname, sizeof(lname), "relay %s", n);
	rc = kl_listener_open(&l->lst, l->ev, lname, l->conf->listen, on_accept, l, err);
	if (rc < 0)
		return rc;
	metric(&l->m_active, "kinglet_relay_active", "Relayed connections open now.", KL_METRIC_GAUGE, n, "");
	metric(&l->m_accepted, "kinglet_relay_accepted_total", "Connections accepted by the listener.",
	       KL_METRIC_COUNTER, n, "");
	for (int i = 0; i < KL_RREF_COUNT; i++) {
		snprintf(extra, sizeof(extra), ",reason=\"%s\"", ref_name[i]);
		metric(&l->m_refused[i], "kinglet_relay_refused_total",
		       "Clients refused (full: times max_conns was reached and accept paused).", KL_METRIC_COUNTER, n,
		       extra);
	}
	metric(&l->m_up, "kinglet_relay_bytes_total", "Bytes relayed (up: client to destination).",
	       KL_METRIC_COUNTER, n, ",dir=\"up\"");
	metric(&l->m_down, "kinglet_relay_bytes_total", "Bytes relayed (up: client to destination).",
	       KL_METRIC_COUNTER, n, ",dir=\"down\"");
	metric(&l->m_stalls, "kinglet_relay_backpressure_stalls_total",
	       "Reads postponed because the buffer pool was empty.", KL_METRIC_COUNTER, n, "");
	metric(&l->m_dns, "kinglet_relay_dns_lookups_total", "Destination names looked up.", KL_METRIC_COUNTER, n, "");
	metric(&l->m_dns_fail, "kinglet_relay_dns_failures_total", "Destination names that did not resolve.",
	       KL_METRIC_COUNTER, n, "");
	metric(&l->m_denied, "kinglet_relay_denied_total", "Destinations refused by policy.", KL_METRIC_COUNTER, n, "");
	metric(&l->m_connfail, "kinglet_relay_connect_failures_total", "Outbound connects that failed or timed out.",
	       KL_METRIC_COUNTER, n, "");
	metric(&l->m_closed, "kinglet_relay_closed_total", "Relayed connections closed.", KL_METRIC_COUNTER, n, "");
	return 0;
}

/* see relay.h */
void kl_rlisten_stop(struct kl_rlisten *l)
{
	l->stopping = 1;
	kl_listener_close(&l->lst);
}

/* see relay.h */
void kl_rlisten_abort_all(struct kl_rlisten *l)
{
	struct kl_pool *p = l->conn_pool;

	/* Blocks never lent are untouched; lent-and-returned ones have state 0. */
	for (uint32_t i = 0; i < p->fresh; i++) {
		struct kl_rconn *c = (struct kl_rconn *)(p->base + (size_t)i * p->size);
		if (c->state)
			kl_relay_close(c, "shutdown", 1);
	}
}
