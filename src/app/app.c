/* app.c - wires config -> plan -> pools -> loop -> listeners, and stops cleanly. */
/* SPDX-License-Identifier: MIT */
#include "app/app.h"
#include "app/admin.h"
#include "app/budget.h"
#include "base/log.h"
#include "base/metric.h"
#include "ev/ev.h"
#include "net/dns.h"
#include "net/tls.h"
#include "relay/relay.h"
#include "imgsrv/imgsrv.h"
#include "net/tls.h"
#include "port.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

struct app {
	const struct kl_conf *conf;
	struct kl_plan plan;
	struct kl_ev ev;
	struct kl_admin admin;
	struct kl_dns dns;
	int dns_started;
	struct kl_tls_conf *thumbs_tls;         /* https sources' client conf, NULL when off */
	struct kl_rlisten relay[KL_CONF_MAX_RELAYS];
	struct kl_imgsrv thumbs;
	struct kl_imgsrv_conf tconf;
	const char *sources[KL_CONF_MAX_SOURCES];
	int sigfd;
	int stopping;
	uint64_t started_ms, stop_deadline;
	struct kl_metric rss, threads, uptime, limit, planned;
	struct kl_metric heap_used, heap_peak, heap_size, boot_used, heap_fails;
};

/* Large (the plan holds every pool's bookkeeping), so not on the stack. */
static struct app app;

static void collect(void *ud)
{
	struct app *a = ud;

	kl_metric_set(&a->rss, kp_rss_bytes());
	kl_metric_set(&a->threads, (uint64_t)KL_MAX(kp_thread_count(), 0));
	kl_metric_set(&a->uptime, (kl_ev_now(&a->ev) - a->started_ms) / 1000);
	{
		struct kp_malloc_stats st;
		kp_malloc_stats(&st);
		kl_metric_set(&a->heap_used, st.plan_used);
		kl_metric_set(&a->heap_peak, st.plan_peak);
		kl_metric_set(&a->heap_size, st.plan_size);
		kl_metric_set(&a->boot_used, st.boot_used);
		kl_metric_set(&a->heap_fails, st.fails);
	}
	if (a->conf->thumbs.enabled)
		kl_imgsrv_collect(&a->thumbs);
}

/* The [thumbs] section and [preset NAME] sections as the service's own config. */
static void thumbs_conf(struct app *a)
{
	const struct kl_conf *c = a->conf;
	const struct kl_conf_thumbs *t = &c->thumbs;
	struct kl_imgsrv_conf *o = &a->tconf;

	memset(o, 0, sizeof(*o));
	o->listen = t->listen;
	o->key = t->key;
	o->salt = t->salt;
	o->signature_size = t->signature_size;
	o->jobs = t->jobs;
	o->queue = t->queue;
	o->arena = t->arena;
	o->max_header = t->max_header_kb * 1024;
	o->header_timeout_ms = t->header_timeout_ms;
	o->idle_timeout_ms = t->idle_timeout_ms;
	o->ttl_s = t->ttl_s;
	o->quality = t->quality;
	o->max_src_mp = t->max_src_resolution;
	o->fetch.local_root = t->local_root;
	for (unsigned i = 0; i < t->nsources && i < KL_CONF_MAX_SOURCES; i++)
		a->sources[i] = t->allowed_sources[i];
	o->fetch.allowed = a->sources;
	o->fetch.nallowed = t->nsources;
	o->fetch.allow_private = t->allow_private_sources;
	o->fetch.max_src_size = t->max_src_size;
	o->fetch.timeout_ms = t->download_timeout_ms;
	o->fetch.dns = a->dns_started ? &a->dns : NULL;
	for (unsigned i = 0; i < c->npresets && i < KL_IMGSRV_MAX_PRESETS; i++) {
		o->presets[i].name = c->preset[i].name;
		o->presets[i].opts = c->preset[i].options;
		o->npresets++;
	}
}

static void register_process_metrics(struct app *a)
{
	kl_metric_init(&a->rss, "kinglet_rss_bytes", "Resident set size of the process.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&a->threads, "kinglet_threads", "Threads in the process (always 1).", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&a->uptime, "kinglet_uptime_seconds", "Seconds since start.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&a->limit, "kinglet_memory_limit_bytes", "Configured memory_limit.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_init(&a->planned, "kinglet_memory_plan_bytes", "Bytes reserved by the pool plan.", KL_METRIC_GAUGE, "%s", "");
	kl_metric_set(&a->limit, a->conf->memory_limit);
	kl_metric_set(&a->planned, a->plan.total);
	kl_metric_register(&a->rss);
	kl_metric_register(&a->threads);
	kl_metric_register(&a->uptime);
	kl_metric_register(&a->limit);
	kl_metric_register(&a->planned);
	{
		static const char *const fam[] = { "kinglet_libc_heap_used_bytes", "kinglet_libc_heap_peak_bytes",
			"kinglet_libc_heap_size_bytes", "kinglet_libc_boot_used_bytes", "kinglet_libc_heap_refused_total" };
		static const char *const help[] = { "malloc bytes in use in the plan's libc.heap (mbedtls, libc).",
			"Most libc.heap bytes in use at once.", "Size of libc.heap.",
			"malloc bytes in use in the boot region (start-up allocations).",
			"malloc calls refused because both heaps were full." };
		struct kl_metric *m[] = { &a->heap_used, &a->heap_peak, &a->heap_size, &a->boot_used, &a->heap_fails };
		for (unsigned i = 0; i < 5; i++) {
			kl_metric_init(m[i], fam[i], help[i], i == 4 ? KL_METRIC_COUNTER : KL_METRIC_GAUGE, "%s", "");
			kl_metric_register(m[i]);
		}
	}
}

static void on_signal(struct kl_ev *ev, int fd, unsigned what, void *ud)
{
	struct app *a = ud;
	unsigned bits = kp_signal_take();

	if (bits & KP_SIG_HUP)
		kl_log(KL_LOG_INFO, "SIGHUP: logs go to stderr, nothing to reopen");
	if ((bits & KP_SIG_TERM) && !a->stopping) {
		a->stopping = 1;
		a->stop_deadline = kl_ev_now(ev) + a->conf->shutdown_grace_ms;
		kl_log(KL_LOG_INFO, "stopping: no new connections, %u ms for in-flight work",
		       a->conf->shutdown_grace_ms);
		if (a->conf->admin_enabled)
			kl_admin_stop(&a->admin);
		for (unsigned i = 0; i < a->conf->nrelays; i++)
			kl_rlisten_stop(&a->relay[i]);
		if (a->conf->thumbs.enabled)
			kl_imgsrv_stop(&a->thumbs);
	} else if ((bits & KP_SIG_TERM) && a->stopping) {
		kl_log(KL_LOG_INFO, "second stop signal: exiting now");
		a->stop_deadline = kl_ev_now(ev);
	}
}

static unsigned in_flight(const struct app *a)
{
	unsigned n = a->conf->admin_enabled ? a->admin.active : 0;

	for (unsigned i = 0; i < a->conf->nrelays; i++)
		n += a->relay[i].active;
	if (a->conf->thumbs.enabled)
		n += kl_imgsrv_in_flight(&a->thumbs);
	return n;
}

/*
 * TLS configurations, built once at start and read-only afterwards: one
 * server side per TLS listener, one client side per upstream_tls relay.
 * The parsed certificates live in libc.heap (planned by budget.c).
 */
#define TLS_CONF_BYTES 4096
static _Alignas(max_align_t) unsigned char tls_srv_mem[KL_CONF_MAX_RELAYS][TLS_CONF_BYTES];
static _Alignas(max_align_t) unsigned char tls_up_mem[KL_CONF_MAX_RELAYS][TLS_CONF_BYTES];

static int relay_tls(struct app *a, unsigned i, char err[KL_ERRLEN])
{
	const struct kl_conf_relay *r = &a->conf->relay[i];
	struct kl_tls_conf *srv = NULL, *up = NULL;
	struct kl_pool *pool = kl_budget_pool(&a->plan, "tls.sess");
	char e[KL_ERRLEN];

	if (!r->tls_cert[0] && !(r->upstream[0] && r->upstream_tls))
		return 0;
	if (kl_tls_conf_size() > TLS_CONF_BYTES || !pool) {
		snprintf(err, KL_ERRLEN, "relay %s: no room for its TLS configuration in the plan", r->name);
		return KL_EINVAL;
	}
	if (r->tls_cert[0]) {
		srv = (struct kl_tls_conf *)tls_srv_mem[i];
		if (kl_tls_server_conf(srv, r->tls_cert, r->tls_key, e) < 0) {
			snprintf(err, KL_ERRLEN, "relay %s: %s", r->name, e);
			return KL_EINVAL;
		}
	}
	if (r->upstream[0] && r->upstream_tls) {
		up = (struct kl_tls_conf *)tls_up_mem[i];
		if (kl_tls_client_conf(up, r->upstream_ca, r->upstream_pin, e) < 0) {
			snprintf(err, KL_ERRLEN, "relay %s: upstream: %s", r->name, e);
			return KL_EINVAL;
		}
	}
	kl_rlisten_tls(&a->relay[i], srv, up, pool);
	return 0;
}

/* The resolver, shared by relays (destinations) and thumbs (source hosts). */
static int start_dns(struct app *a, char err[KL_ERRLEN])
{
	const struct kl_conf *c = a->conf;
	struct kl_pool *heap, *cache;

	if (!c->nrelays && !c->thumbs.enabled)
		return 0;
	heap = kl_budget_pool(&a->plan, "dns.heap");
	cache = kl_budget_pool(&a->plan, "dns.cache");
	if (kl_dns_init(&a->dns, &a->ev, kl_pool_get(heap), heap->size, kl_pool_get(cache), c->dns_cache, err) < 0)
		return KL_EIO;
	a->dns_started = 1;
	return 0;
}

/*
 * The client TLS configuration of https sources, built once: ca_file
 * when set (an unreadable one is a configuration error), else the system
 * bundle (when that cannot be read, thumbs still start and https sources
 * are refused with the reason). tls_sessions = 0 turns https off.
 */
static int thumbs_tls(struct app *a, char err[KL_ERRLEN])
{
	const struct kl_conf_thumbs *t = &a->conf->thumbs;
	struct kl_imgsrv_conf *o = &a->tconf;
	struct kl_pool *cp = kl_budget_pool(&a->plan, "thumbs.tls");
	struct kl_tls_conf *tc;
	char why[KL_ERRLEN];

	if (!t->tls_sessions || !cp) {
		o->fetch.tls_why = "tls_sessions = 0";
		return 0;
	}
	tc = kl_pool_get(cp);
	if (kl_tls_client_conf(tc, t->ca_file, NULL, why) < 0) {
		if (t->ca_file[0]) {
			snprintf(err, KL_ERRLEN, "thumbs: ca_file: %s", why);
			return KL_EINVAL;
		}
		kl_log(KL_LOG_WARN, "thumbs: https sources are disabled: %s", why);
		o->fetch.tls_why = "the system CA bundle cannot be read";
		return 0;
	}
	o->fetch.tls = a->thumbs_tls = tc;
	o->fetch.tls_pool = kl_budget_pool(&a->plan, "tls.sess");
	return 0;
}

/* Every [relay NAME] listener, on pools of the plan. */
static int start_relays(struct app *a, char err[KL_ERRLEN])
{
	const struct kl_conf *c = a->conf;
	char name[KL_PLAN_NAME];

	for (unsigned i = 0; i < c->nrelays; i++) {
		const struct kl_conf_relay *r = &c->relay[i];
		struct kl_pool *conn, *buf, *tab;
		int rc;

		snprintf(name, sizeof(name), "relay.%s.conn", r->name);
		conn = kl_budget_pool(&a->plan, name);
		snprintf(name, sizeof(name), "relay.%s.buf", r->name);
		buf = kl_budget_pool(&a->plan, name);
		snprintf(name, sizeof(name), "relay.%s.tab", r->name);
		tab = kl_budget_pool(&a->plan, name);
		rc = kl_rlisten_init(&a->relay[i], r, &a->ev, &a->dns, conn, buf, tab ? kl_pool_get(tab) : NULL, err);
		if (rc == 0)
			rc = relay_tls(a, i, err);
		if (rc == 0)
			rc = kl_rlisten_start(&a->relay[i], err);
		if (rc < 0)
			return rc;
		kl_log(KL_LOG_INFO, "relay %s: %s%s listening on %s (max_conns %u, buffer_kb %u%s%s%s)", r->name,
		       a->relay[i].ops->name, r->tls_cert[0] ? " over TLS" : "", r->listen, r->max_conns, r->buffer_kb,
		       r->upstream[0] ? ", upstream " : "", r->upstream, r->upstream[0] && r->upstream_tls ? " (TLS)" : "");
	}
	return 0;
}

/* see app.h */
int kl_app_run(const struct kl_conf *c)
{
	char err[KL_ERRLEN], plan_text[8192];
	struct kl_pool *pool;
	struct rlimit rl;
	struct app *a = &app;

	memset(a, 0, sizeof(*a));
	a->conf = c;
	kl_log_level = c->log_level;
	if (kl_budget_plan(c, &a->plan, err) < 0) {
		kl_log(KL_LOG_ERROR, "%s: %s", c->path, err);
		return 1;
	}
	kl_budget_format(&a->plan, plan_text, sizeof(plan_text));
	for (char *line = strtok(plan_text, "\n"); line; line = strtok(NULL, "\n"))
		kl_log(KL_LOG_INFO, "%s", line);
	if (kl_budget_reserve(&a->plan) < 0) {
		kl_log(KL_LOG_ERROR, "cannot map the %llu-byte memory plan", (unsigned long long)a->plan.total);
		return 1;
	}
	/* From here on malloc (mbedtls, libc) is served from the plan's libc.heap. */
	pool = kl_budget_pool(&a->plan, "libc.heap");
	if (pool && kp_malloc_use(kl_pool_get(pool), pool->size) < 0)
		kl_log(KL_LOG_WARN, "libc.heap not installed");
	/* The fd budget is enforced by the kernel: accept() beyond it is EMFILE. */
	rl.rlim_cur = rl.rlim_max = a->plan.max_fds;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		kl_log(KL_LOG_WARN, "cannot set RLIMIT_NOFILE to %u", a->plan.max_fds);
	pool = kl_budget_pool(&a->plan, "ev.loop");
	kl_ev_init(&a->ev, kl_pool_get(pool), pool->size, a->plan.max_fds, a->plan.max_timers);
	a->started_ms = kl_ev_now(&a->ev);
	register_process_metrics(a);

	a->sigfd = kp_signal_init();
	if (a->sigfd < 0 || kl_ev_add(&a->ev, a->sigfd, KL_EV_RD, on_signal, a) < 0) {
		kl_log(KL_LOG_ERROR, "cannot install signal handlers");
		return 1;
	}
	if (c->admin_enabled) {
		if (kl_admin_start(&a->admin, &a->ev, kl_budget_pool(&a->plan, "admin.conn"), c->admin_listen,
				   collect, a, err) < 0) {
			kl_log(KL_LOG_ERROR, "%s", err);
			return 1;
		}
		kl_log(KL_LOG_INFO, "admin: listening on %s (/health, /metrics)", c->admin_listen);
	}
	if (start_dns(a, err) < 0 || start_relays(a, err) < 0) {
		kl_log(KL_LOG_ERROR, "%s", err);
		return 1;
	}
	if (c->thumbs.enabled) {
		thumbs_conf(a);
		if (thumbs_tls(a, err) < 0 || kl_imgsrv_start(&a->thumbs, &a->ev, &a->tconf, kl_budget_pool(&a->plan, "thumbs.conn"),
				    kl_budget_pool(&a->plan, "thumbs.arena"), err) < 0) {
			kl_log(KL_LOG_ERROR, "%s", err);
			return 1;
		}
		kl_log(KL_LOG_INFO, "thumbs: listening on %s (jobs=%u, queue=%u, local_root=%s, https: %s%s)",
		       c->thumbs.listen, c->thumbs.jobs, c->thumbs.queue,
		       c->thumbs.local_root[0] ? c->thumbs.local_root : "-",
		       !a->tconf.fetch.tls ? "off, " : c->thumbs.ca_file[0] ? "ca_file " : "system CA bundle",
		       !a->tconf.fetch.tls ? a->tconf.fetch.tls_why : c->thumbs.ca_file);
	}
	kl_log(KL_LOG_INFO, "kinglet %s running: one thread, %s loop, %u fds", KL_VERSION, kp_name(),
	       a->plan.max_fds);

	for (;;) {
		if (kl_ev_run_once(&a->ev, 1000) < 0) {
			kl_log(KL_LOG_ERROR, "poll failed");
			return 1;
		}
		if (a->stopping && (in_flight(a) == 0 || kl_ev_now(&a->ev) >= a->stop_deadline))
			break;
	}
	if (in_flight(a))
		kl_log(KL_LOG_WARN, "stopped with %u requests still in flight after the grace period", in_flight(a));
	for (unsigned i = 0; i < c->nrelays; i++)
		kl_rlisten_abort_all(&a->relay[i]);
	if (a->dns_started)
		kl_dns_reset(&a->dns);
	/* Only once no download can still hold a session on it. */
	if (a->thumbs_tls && kl_imgsrv_in_flight(&a->thumbs) == 0)
		kl_tls_conf_reset(a->thumbs_tls);
	kl_log(KL_LOG_INFO, "stopped");
	return 0;
}
