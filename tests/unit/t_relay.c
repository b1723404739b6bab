/* t_relay.c - the splice over socketpairs: flow, backpressure, half-close, buffer stalls, reset, idle timeout. */
/* SPDX-License-Identifier: MIT */
#include "t.h"
#include "relay/relay.h"
#include "port.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define BLK 4096

static _Alignas(16) uint8_t evmem[1 << 16], connmem[4 * 1024], bufmem[8 * BLK];
static struct kl_ev ev;
static struct kl_pool conns, bufs;
static struct kl_conf_relay rc;
static struct kl_rlisten l;
static struct kl_dns dns;

static void nop(struct kl_rconn *c) { }
static void nop2(struct kl_rconn *c, int rc_) { }
static const struct kl_rsess_ops test_ops = { "test", nop, nop, nop2, NULL };

static void setup(uint32_t nbufs, uint32_t idle_ms)
{
	char err[KL_ERRLEN];

	memset(&rc, 0, sizeof(rc));
	snprintf(rc.name, sizeof(rc.name), "t");
	rc.type = KL_RELAY_FORWARD;
	rc.buffer_kb = BLK / 1024;
	rc.max_conns = 4;
	rc.handshake_ms = rc.connect_ms = 10000;
	rc.idle_ms = idle_ms;
	rc.uplink_only_ms = rc.downlink_only_ms = 10000;
	kl_ev_init(&ev, evmem, sizeof(evmem), 256, 16);
	kl_pool_init(&conns, "conn", connmem, 704, 4);
	kl_pool_init(&bufs, "buf", bufmem, BLK, nbufs);
	kl_rlisten_init(&l, &rc, &ev, &dns, &conns, &bufs, NULL, err);
	l.ops = &test_ops;
}

/* A relayed connection between two socketpairs; *cp and *sp are the far ends. */
static struct kl_rconn *pair(int *cp, int *sp)
{
	int a[2], b[2];
	struct kl_rconn *c = kl_pool_get(&conns);

	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b);
	memset(c, 0, sizeof(*c));
	c->l = &l;
	c->srv.fd = -1;
	kl_stream_plain(&c->cli, a[0]);
	l.active++;
	kl_relay_begin(c);
	kl_relay_attach_server(c, b[0]);
	kl_relay_splice(c);
	*cp = a[1];
	*sp = b[1];
	return c;
}

static void spin(int turns)
{
	for (int i = 0; i < turns; i++)
		kl_ev_run_once(&ev, 5);
}

static size_t fill(int fd)
{
	static uint8_t junk[65536];
	size_t n = 0;
	ssize_t r;

	while ((r = write(fd, junk, sizeof(junk))) > 0)
		n += (size_t)r;
	return n;
}

static size_t drain(int fd)
{
	uint8_t b[65536];
	size_t n = 0;
	ssize_t r;

	while ((r = read(fd, b, sizeof(b))) > 0)
		n += (size_t)r;
	return n;
}

static int want_of(int fd)
{
	return ev.pfd[ev.slot[fd].idx].events;
}

static void test_flow(void)
{
	int cp, sp;
	char buf[16] = { 0 };
	struct kl_rconn *c;

	setup(8, 10000);
	c = pair(&cp, &sp);
	write(cp, "hello", 5);
	spin(3);
	T_OK(read(sp, buf, sizeof(buf)) == 5 && memcmp(buf, "hello", 5) == 0, "flow: client to server");
	write(sp, "world!", 6);
	spin(3);
	T_OK(read(cp, buf, sizeof(buf)) == 6 && memcmp(buf, "world!", 6) == 0, "flow: server to client");
	T_EQ_INT(bufs.used, 0, "flow: drained blocks go back, an idle connection holds none");
	T_OK(c->bytes_up == 5 && c->bytes_down == 6, "flow: byte counts");

	/* half-close: client FIN reaches the server, the reverse keeps flowing */
	shutdown(cp, SHUT_WR);
	spin(3);
	T_EQ_INT(read(sp, buf, sizeof(buf)), 0, "half-close: server sees EOF");
	write(sp, "late", 4);
	spin(3);
	T_OK(read(cp, buf, sizeof(buf)) == 4 && memcmp(buf, "late", 4) == 0, "half-close: reply still delivered");
	T_EQ_INT(conns.used, 1, "half-close: connection still open");
	shutdown(sp, SHUT_WR);
	spin(3);
	T_EQ_INT(read(cp, buf, sizeof(buf)), 0, "half-close: client sees EOF");
	T_EQ_INT(conns.used, 0, "half-close: both closed -> connection released");
	close(cp);
	close(sp);
}

static void test_backpressure(void)
{
	int cp, sp;
	size_t in, out = 0;
	struct kl_rconn *c;

	setup(8, 10000);
	c = pair(&cp, &sp);
	in = 0;
	for (int i = 0; i < 50; i++) {
		in += fill(cp);
		spin(2);
	}
	T_OK(c->up.area && c->up.len == c->up.size, "backpressure: the up block is full");
	T_EQ_INT(bufs.used, 1, "backpressure: at most one block per direction");
	T_OK(!(want_of(c->cli.fd) & POLLIN), "backpressure: client not read while the block is full");
	T_OK(want_of(c->srv.fd) & POLLOUT, "backpressure: server write interest while data is pending");
	for (int i = 0; i < 400 && out < in; i++) {
		out += drain(sp);
		spin(1);
		if (i < 3)
			in += fill(cp);
	}
	out += drain(sp);
	T_EQ_INT(out, in, "backpressure: every byte arrives once the reader drains");
	T_EQ_INT(bufs.used, 0, "backpressure: block returned after draining");
	T_OK(want_of(c->cli.fd) & POLLIN, "backpressure: client read again");
	close(cp);
	close(sp);
	spin(3);
}

static void test_stall(void)
{
	int ap, as, bp, bs;
	struct kl_rconn *a, *b;
	char buf[16];

	setup(1, 10000);        /* one block for everybody */
	a = pair(&ap, &as);
	b = pair(&bp, &bs);
	for (int i = 0; i < 50; i++) {
		fill(ap);
		spin(2);
	}
	T_OK(a->up.area != NULL && bufs.used == 1, "stall: a holds the only block");
	write(bp, "B", 1);
	spin(5);
	T_OK(b->flags & KL_RF_WAIT_UP, "stall: b waits for a block");
	T_OK(l.wait_head == b, "stall: b is on the wait list");
	T_OK(l.m_stalls.v >= 1, "stall: counted as a backpressure stall");
	T_EQ_INT(conns.used, 2, "stall: nobody was aborted");
	for (int i = 0; i < 200 && a->up.area; i++) {
		drain(as);
		spin(1);
	}
	spin(5);
	T_OK(read(bs, buf, sizeof(buf)) == 1 && buf[0] == 'B', "stall: b's byte flows once a's block came back");
	T_OK(l.wait_head == NULL && !(b->flags & KL_RF_WAIT_UP), "stall: wait list empty again");
	close(ap); close(as); close(bp); close(bs);
	spin(5);
	T_EQ_INT(conns.used, 0, "stall: all released");
}

static void test_reset_and_idle(void)
{
	int cp, sp;
	char buf[16];

	setup(8, 10000);
	pair(&cp, &sp);
	close(sp);              /* server gone: a write toward it fails */
	write(cp, "x", 1);
	spin(5);
	T_EQ_INT(conns.used, 0, "reset: an error on one side closes both");
	T_OK(read(cp, buf, sizeof(buf)) <= 0, "reset: the client side is closed too");
	close(cp);

	setup(8, 50);
	pair(&cp, &sp);
	{
		uint64_t t0 = kp_now_ms();
		while (conns.used && kp_now_ms() - t0 < 2000)
			spin(1);
		T_OK(conns.used == 0 && kp_now_ms() - t0 >= 40, "idle: closed after the idle timeout");
	}
	close(cp);
	close(sp);
}

/* V2Ray's policy: downlink_only after the client (uplink) closed, uplink_only after the server did. */
static void test_half_timeouts(void)
{
	int cp, sp;
	uint64_t t0;

	setup(8, 10000);
	rc.downlink_only_ms = 60;
	pair(&cp, &sp);
	shutdown(cp, SHUT_WR);
	t0 = kp_now_ms();
	while (conns.used && kp_now_ms() - t0 < 3000)
		spin(1);
	T_OK(conns.used == 0 && kp_now_ms() - t0 < 2000, "downlink_only: closes soon after the client's FIN, not at idle");
	close(cp);
	close(sp);

	setup(8, 10000);
	rc.uplink_only_ms = 60;
	pair(&cp, &sp);
	shutdown(sp, SHUT_WR);
	t0 = kp_now_ms();
	while (conns.used && kp_now_ms() - t0 < 3000)
		spin(1);
	T_OK(conns.used == 0 && kp_now_ms() - t0 < 2000, "uplink_only: closes soon after the server's FIN, not at idle");
	close(cp);
	close(sp);
}

int main(void)
{
	test_half_timeouts();
	test_flow();
	test_backpressure();
	test_stall();
	test_reset_and_idle();
	return T_DONE();
}
