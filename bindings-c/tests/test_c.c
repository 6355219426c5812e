/*
 * The C ABI test suite (plain C11 + POSIX threads and signals).
 *
 * Every function of include/streamrelay.h is called with good arguments,
 * with NULL for each pointer, with garbage, freed and wrong-type handles,
 * with too-small buffers and with out-of-range values; peers talk to each
 * other through an in-memory network. Ends with "N passed, N failed" (one
 * count per test function) and exits non-zero on any failure.
 *
 * Built with -DSTREAMRELAY_VECTORS against the library built with the cargo
 * feature `vectors`, it also tests sr_vectors_check_file.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "streamrelay.h"

#include "check.h"

/* ------------------------------------------------------------------ */
/* Helpers.                                                            */
/* ------------------------------------------------------------------ */

static void id_of(const char *seed, uint8_t out[32]) {
  REQUIRE(sr_create_id(SR_SEED_KIND_TEXT, (const uint8_t *)seed, strlen(seed),
                       out, 32) == SR_STATUS_OK);
}

static SrRemote v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  SrRemote r;
  memset(&r, 0, sizeof r);
  r.kind = SR_REMOTE_KIND_IPV4;
  r.addr[0] = a;
  r.addr[1] = b;
  r.addr[2] = c;
  r.addr[3] = d;
  r.port = port;
  return r;
}

static SrRemote link_remote(uint64_t id) {
  SrRemote r;
  memset(&r, 0, sizeof r);
  r.kind = SR_REMOTE_KIND_LINK;
  r.link_id = id;
  return r;
}

static const SrSocketId MAIN_SOCKET = {SR_SOCKET_KIND_MAIN, 0};

static int remote_eq(const SrRemote *a, const SrRemote *b) {
  return a->kind == b->kind && a->port == b->port &&
         memcmp(a->addr, b->addr, 16) == 0 && a->link_id == b->link_id &&
         a->scope_id == b->scope_id && a->flowinfo == b->flowinfo;
}

static SrEvent new_event(void) {
  SrEvent e;
  memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  return e;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

static size_t from_hex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = strlen(hex) / 2;
  REQUIRE(n <= cap);
  for (size_t i = 0; i < n; i++)
    out[i] = (uint8_t)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
  return n;
}

/* A config: indexed introducer (cluster NULL) or a member with a static
 * NAT type on a loopback port, knowing the introducer. */
static SrConfig *make_config(const char *name, const uint8_t *cluster,
                             uint16_t port, const uint8_t *introducer_id,
                             uint16_t introducer_port) {
  uint8_t id[32];
  id_of(name, id);
  SrConfig *c = NULL;
  REQUIRE(sr_config_new(id, 32, &c) == SR_STATUS_OK && c != NULL);
  SrRemote self = v4(127, 0, 0, 1, port);
  REQUIRE(sr_config_set_nat_type(c, SR_NAT_TYPE_UNRESTRICTED) == SR_STATUS_OK);
  REQUIRE(sr_config_set_public_address(c, &self) == SR_STATUS_OK);
  if (cluster == NULL) {
    REQUIRE(sr_config_set_indexed(c, true) == SR_STATUS_OK);
  } else {
    REQUIRE(sr_config_set_cluster_id(c, cluster, 32) == SR_STATUS_OK);
  }
  if (introducer_id != NULL) {
    SrRemote ir = v4(127, 0, 0, 1, introducer_port);
    REQUIRE(sr_config_add_introducer(c, introducer_id, 32, &ir) ==
            SR_STATUS_OK);
  }
  return c;
}

static SrPeer *make_peer(SrConfig *c, uint8_t seed_byte) {
  uint8_t seed[32];
  memset(seed, seed_byte, sizeof seed);
  SrPeer *p = NULL;
  REQUIRE(sr_peer_new(c, 0, seed, 32, &p) == SR_STATUS_OK && p != NULL);
  return p;
}

static SrPeer *make_introducer(uint16_t port) {
  SrConfig *c = make_config("introducer", NULL, port, NULL, 0);
  SrPeer *p = make_peer(c, 1);
  REQUIRE(sr_config_free(c) == SR_STATUS_OK);
  return p;
}

static void drain_events(SrPeer *p) {
  SrEvent e = new_event();
  while (sr_peer_poll_event(p, &e) == SR_STATUS_OK) {
  }
}

/* The first datagram a member sends (a Ping to its introducer). */
static size_t first_datagram(uint8_t *buf, size_t cap) {
  uint8_t cluster[32], intro_id[32];
  memset(cluster, 0xc1, 32);
  id_of("introducer", intro_id);
  SrConfig *c = make_config("dg-source", cluster, 9100, intro_id, 9000);
  SrPeer *p = make_peer(c, 9);
  sr_config_free(c);
  REQUIRE(sr_peer_handle_timeout(p, 0) == SR_STATUS_OK);
  SrSocketId s;
  SrRemote r;
  size_t n = 0;
  REQUIRE(sr_peer_poll_transmit(p, 0, &s, &r, buf, cap, &n) == SR_STATUS_OK);
  REQUIRE(sr_peer_free(p) == SR_STATUS_OK);
  return n;
}

/* ------------------------------------------------------------------ */
/* An in-memory network of peers on 127.0.0.1:<port>.                  */
/* ------------------------------------------------------------------ */

#define MAX_NODES 4
#define MAX_SEEN 64

typedef struct {
  SrPeer *peer;
  uint16_t port;
  int kinds[16];                  /* events seen, by kind */
  uint8_t connected[MAX_SEEN][32]; /* peer ids of CONNECTION events */
  int n_connected;
  uint8_t joined[MAX_SEEN][32]; /* peer ids of JOIN events */
  int n_joined;
  /* The last PACKET event, copied (its bytes are only borrowed). */
  uint8_t payload[8192];
  size_t payload_len;
  uint8_t event_hash[32], publisher[32], stream_from[32];
  int has_stream_from, has_head_id;
  /* The last QUERY and ANSWER events. */
  uint8_t query_id[32];
  size_t query_id_len;
  uint8_t answer_query_id[32];
  size_t answer_query_id_len;
  size_t answer_len;
} Node;

static Node *node_at(Node *nodes, int n, uint16_t port) {
  for (int i = 0; i < n; i++)
    if (nodes[i].port == port) return &nodes[i];
  return NULL;
}

/* Delivers every queued datagram (to nodes on 127.0.0.1) and collects
 * events, until the network is quiet. Returns the datagrams moved. */
static int pump(Node *nodes, int n, uint64_t now) {
  int moved = 0;
  for (int round = 0; round < 1000; round++) {
    int any = 0;
    for (int i = 0; i < n; i++) {
      uint8_t buf[SR_MAX_DATAGRAM_LEN];
      SrSocketId sock;
      SrRemote to;
      size_t len;
      while (sr_peer_poll_transmit(nodes[i].peer, now, &sock, &to, buf,
                                   sizeof buf, &len) == SR_STATUS_OK) {
        any = 1;
        moved++;
        Node *dst = node_at(nodes, n, to.port);
        if (dst == NULL || to.kind != SR_REMOTE_KIND_IPV4) continue;
        SrRemote from = v4(127, 0, 0, 1, nodes[i].port);
        REQUIRE(sr_peer_handle_datagram(dst->peer, now, MAIN_SOCKET, &from,
                                        buf, len) == SR_STATUS_OK);
      }
      SrEvent e = new_event();
      while (sr_peer_poll_event(nodes[i].peer, &e) == SR_STATUS_OK) {
        any = 1;
        if (e.kind < 16) nodes[i].kinds[e.kind]++;
        if (e.kind == SR_EVENT_KIND_CONNECTION && nodes[i].n_connected < MAX_SEEN)
          memcpy(nodes[i].connected[nodes[i].n_connected++],
                 e.data.connection.peer_id, 32);
        if (e.kind == SR_EVENT_KIND_JOIN && nodes[i].n_joined < MAX_SEEN)
          memcpy(nodes[i].joined[nodes[i].n_joined++], e.data.join.peer_id, 32);
        if (e.kind == SR_EVENT_KIND_PACKET) {
          const SrEventPacket *pk = &e.data.packet;
          REQUIRE(pk->payload.len <= sizeof nodes[i].payload);
          if (pk->payload.len) memcpy(nodes[i].payload, pk->payload.ptr, pk->payload.len);
          nodes[i].payload_len = pk->payload.len;
          REQUIRE(pk->event_hash.len == 32 && pk->publisher.len == 32);
          memcpy(nodes[i].event_hash, pk->event_hash.ptr, 32);
          memcpy(nodes[i].publisher, pk->publisher.ptr, 32);
          nodes[i].has_stream_from = pk->has_stream_from;
          memcpy(nodes[i].stream_from, pk->stream_from, 32);
          nodes[i].has_head_id = pk->head_id.len > 0;
        }
        if (e.kind == SR_EVENT_KIND_QUERY) {
          REQUIRE(e.data.query.query_id.len <= 32);
          memcpy(nodes[i].query_id, e.data.query.query_id.ptr, e.data.query.query_id.len);
          nodes[i].query_id_len = e.data.query.query_id.len;
        }
        if (e.kind == SR_EVENT_KIND_ANSWER) {
          REQUIRE(e.data.answer.query_id.len <= 32);
          memcpy(nodes[i].answer_query_id, e.data.answer.query_id.ptr,
                 e.data.answer.query_id.len);
          nodes[i].answer_query_id_len = e.data.answer.query_id.len;
          nodes[i].answer_len = e.data.answer.message.len;
        }
      }
    }
    if (!any) break;
  }
  return moved;
}

/* Runs the network's timers from `from` to `until` ms. */
static uint64_t run_until(Node *nodes, int n, uint64_t from, uint64_t until) {
  uint64_t now = from;
  pump(nodes, n, now);
  while (now < until) {
    uint64_t next = until;
    for (int i = 0; i < n; i++) {
      uint64_t t;
      if (sr_peer_poll_timeout(nodes[i].peer, &t) == SR_STATUS_OK && t < next)
        next = t;
    }
    if (next < now) next = now;
    now = next;
    for (int i = 0; i < n; i++) {
      uint64_t t;
      if (sr_peer_poll_timeout(nodes[i].peer, &t) == SR_STATUS_OK && t <= now)
        REQUIRE(sr_peer_handle_timeout(nodes[i].peer, now) == SR_STATUS_OK);
    }
    pump(nodes, n, now);
    if (now == until) break;
  }
  return now;
}

static int saw_id(uint8_t ids[][32], int n, const uint8_t id[32]) {
  for (int i = 0; i < n; i++)
    if (memcmp(ids[i], id, 32) == 0) return 1;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Tests.                                                              */
/* ------------------------------------------------------------------ */

static void test_version(void) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", SR_VERSION_MAJOR, SR_VERSION_MINOR,
           SR_VERSION_PATCH);
  CHECK(sr_version() != NULL);
  CHECK(strcmp(sr_version(), want) == 0);
  CHECK(sr_abi_version() == SR_ABI_VERSION);
}

static void test_status_names(void) {
  CHECK(strcmp(sr_status_name(SR_STATUS_OK), "SR_STATUS_OK") == 0);
  CHECK(strcmp(sr_status_name(SR_STATUS_BUSY), "SR_STATUS_BUSY") == 0);
  CHECK(strcmp(sr_status_name(SR_STATUS_VECTOR_FILE),
               "SR_STATUS_VECTOR_FILE") == 0);
  for (int s = SR_STATUS_UNKNOWN_LINK; s <= SR_STATUS_EMPTY; s++)
    CHECK(strncmp(sr_status_name(s), "SR_STATUS_", 10) == 0 &&
          strcmp(sr_status_name(s), "SR_STATUS_UNKNOWN") != 0);
  CHECK(strcmp(sr_status_name(2), "SR_STATUS_UNKNOWN") == 0);
  CHECK(strcmp(sr_status_name(SR_STATUS_UNKNOWN_LINK - 1), "SR_STATUS_UNKNOWN") == 0);
  CHECK(strcmp(sr_status_name(-1000), "SR_STATUS_UNKNOWN") == 0);
  CHECK(strcmp(sr_status_name(INT32_MIN), "SR_STATUS_UNKNOWN") == 0);
}

static void test_config_lifecycle(void) {
  uint8_t id[32];
  id_of("cfg", id);
  SrConfig *c = NULL;
  EXPECT(sr_config_new(NULL, 32, &c), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_new(id, 31, &c), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_new(id, 33, &c), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_new(id, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  CHECK(c == NULL); /* not written on error */
  OK(sr_config_new(id, 32, &c));
  CHECK(c != NULL);
  OK(sr_config_free(NULL));
  OK(sr_config_free(c));
  /* A double free is refused, not performed. */
  EXPECT(sr_config_free(c), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_config_set_indexed(c, true), SR_STATUS_INVALID_HANDLE);
}

/* Every kind of bad handle, for a config and a peer. */
static void test_bad_handles(void) {
  /* Garbage: memory that is not a handle, on the stack and the heap. */
  uint64_t stack_garbage[16];
  for (int i = 0; i < 16; i++) stack_garbage[i] = 0xdeadbeefcafef00dull * (uint64_t)(i + 1);
  uint64_t *heap_garbage = malloc(256);
  REQUIRE(heap_garbage != NULL);
  memset(heap_garbage, 0xa5, 256);
  SrConfig *gc[] = {(SrConfig *)stack_garbage, (SrConfig *)heap_garbage,
                    (SrConfig *)(uintptr_t)0x10, (SrConfig *)(uintptr_t)1};
  SrPeer *gp[] = {(SrPeer *)stack_garbage, (SrPeer *)heap_garbage,
                  (SrPeer *)(uintptr_t)0x10, (SrPeer *)(uintptr_t)1};
  uint64_t t;
  for (size_t i = 0; i < sizeof gc / sizeof gc[0]; i++) {
    EXPECT(sr_config_set_indexed(gc[i], true), SR_STATUS_INVALID_HANDLE);
    EXPECT(sr_config_free(gc[i]), SR_STATUS_INVALID_HANDLE);
    EXPECT(sr_peer_handle_timeout(gp[i], 0), SR_STATUS_INVALID_HANDLE);
    EXPECT(sr_peer_poll_timeout(gp[i], &t), SR_STATUS_INVALID_HANDLE);
    EXPECT(sr_peer_free(gp[i]), SR_STATUS_INVALID_HANDLE);
  }
  /* Untouched: the library never wrote through a garbage handle. */
  CHECK(stack_garbage[3] == 0xdeadbeefcafef00dull * 4);
  CHECK(((uint8_t *)heap_garbage)[100] == 0xa5);
  free(heap_garbage);

  /* A handle of the other type. */
  SrPeer *p = make_introducer(9000);
  uint8_t id[32];
  id_of("x", id);
  SrConfig *c = NULL;
  OK(sr_config_new(id, 32, &c));
  EXPECT(sr_config_set_indexed((SrConfig *)p, true), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_config_free((SrConfig *)p), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_peer_handle_timeout((SrPeer *)c, 0), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_peer_free((SrPeer *)c), SR_STATUS_INVALID_HANDLE);
  SrPeer *q = NULL;
  uint8_t seed[32] = {0};
  EXPECT(sr_peer_new((SrConfig *)p, 0, seed, 32, &q), SR_STATUS_INVALID_HANDLE);
  /* Freed handles. */
  OK(sr_config_free(c));
  OK(sr_peer_free(p));
  EXPECT(sr_peer_new(c, 0, seed, 32, &q), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_peer_handle_timeout(p, 0), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_peer_free(p), SR_STATUS_INVALID_HANDLE);
  CHECK(q == NULL);
}

static void test_config_setters(void) {
  uint8_t id[32], cluster[32];
  id_of("setters", id);
  memset(cluster, 7, 32);
  SrConfig *c = NULL;
  OK(sr_config_new(id, 32, &c));
  SrRemote a = v4(192, 0, 2, 1, 4000);
  SrRemote bad = a;
  bad.kind = 99;
  SrRemote ln = link_remote(5);

  OK(sr_config_set_cluster_id(c, cluster, 32));
  EXPECT(sr_config_set_cluster_id(c, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_set_cluster_id(c, cluster, 16), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_cluster_id(NULL, cluster, 32), SR_STATUS_NULL_ARGUMENT);

  OK(sr_config_set_indexed(c, false));
  EXPECT(sr_config_set_indexed(NULL, false), SR_STATUS_NULL_ARGUMENT);

  OK(sr_config_set_nat_type(c, SR_NAT_TYPE_PORT_RESTRICTED));
  OK(sr_config_set_nat_type(c, 0));
  EXPECT(sr_config_set_nat_type(NULL, 7), SR_STATUS_NULL_ARGUMENT);

  OK(sr_config_set_public_address(c, &a));
  OK(sr_config_set_public_address(c, NULL)); /* clears */
  EXPECT(sr_config_set_public_address(c, &bad), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_public_address(c, &ln), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_public_address(NULL, &a), SR_STATUS_NULL_ARGUMENT);

  OK(sr_config_set_keepalive_ms(c, 1000));
  EXPECT(sr_config_set_keepalive_ms(NULL, 1000), SR_STATUS_NULL_ARGUMENT);
  OK(sr_config_set_wall_clock_offset_ms(c, -5));
  EXPECT(sr_config_set_wall_clock_offset_ms(NULL, 0), SR_STATUS_NULL_ARGUMENT);
  OK(sr_config_set_limit_exempt(c, true));
  EXPECT(sr_config_set_limit_exempt(NULL, true), SR_STATUS_NULL_ARGUMENT);

  uint8_t other[32];
  id_of("other", other);
  OK(sr_config_add_introducer(c, other, 32, &a));
  OK(sr_config_add_introducer(c, other, 32, &ln)); /* links are fine here */
  EXPECT(sr_config_add_introducer(c, other, 32, &bad), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_add_introducer(c, other, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_add_introducer(c, NULL, 32, &a), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_add_introducer(c, other, 8, &a), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_add_introducer(NULL, other, 32, &a), SR_STATUS_NULL_ARGUMENT);

  /* Extensible structs: defaults, round trip, struct_size checks. */
  SrLimits l;
  memset(&l, 0, sizeof l);
  l.struct_size = sizeof l;
  OK(sr_config_get_limits(c, &l));
  CHECK(l.max_peers == 256 && l.pool_size == 256 && l.max_transmits == 4096);
  CHECK(l.struct_size == sizeof l);
  l.max_peers = 17;
  OK(sr_config_set_limits(c, &l));
  SrLimits l2;
  memset(&l2, 0, sizeof l2);
  l2.struct_size = sizeof l2;
  OK(sr_config_get_limits(c, &l2));
  CHECK(l2.max_peers == 17);
  /* max_sync_sends_per_window came out of the reserved room: the size is
     unchanged, 0 keeps the configured value (an older caller's zeroed
     reserved[0]), anything else sets it. */
  CHECK(sizeof(SrLimits) == (sizeof(size_t) == 8 ? 216 : 144));
  CHECK(l2.max_sync_sends_per_window == 4096);
  l2.max_sync_sends_per_window = 5000;
  OK(sr_config_set_limits(c, &l2));
  l2.max_sync_sends_per_window = 0;
  OK(sr_config_set_limits(c, &l2));
  OK(sr_config_get_limits(c, &l2));
  CHECK(l2.max_sync_sends_per_window == 5000 && l2.max_peers == 17);
  /* max_links, the same way (a uint64_t: the size stays on every target). */
  CHECK(l2.max_links == 32);
  l2.max_links = 4;
  OK(sr_config_set_limits(c, &l2));
  l2.max_links = 0;
  OK(sr_config_set_limits(c, &l2));
  OK(sr_config_get_limits(c, &l2));
  CHECK(l2.max_links == 4);
  l2.struct_size = 8;
  EXPECT(sr_config_get_limits(c, &l2), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_limits(c, &l2), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_get_limits(c, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_set_limits(c, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_get_limits(NULL, &l), SR_STATUS_NULL_ARGUMENT);
  /* An unaligned struct pointer is refused. */
  _Alignas(8) unsigned char raw[sizeof(SrLimits) + 8];
  EXPECT(sr_config_get_limits(c, (SrLimits *)(void *)(raw + 4)),
         SR_STATUS_INVALID_ARGUMENT);

  SrTimings t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  OK(sr_config_get_timings(c, &t));
  CHECK(t.ping_retry_ms == 500 && t.spray_ports == 1024 && t.pool_idle_ms == 30000);
  t.ping_retry_ms = 123;
  OK(sr_config_set_timings(c, &t));
  t.ping_retry_ms = 0;
  OK(sr_config_get_timings(c, &t));
  CHECK(t.ping_retry_ms == 123);
  t.struct_size = 4;
  EXPECT(sr_config_set_timings(c, &t), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_get_timings(c, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_set_timings(NULL, &t), SR_STATUS_NULL_ARGUMENT);

  SrRateQuotas q;
  memset(&q, 0, sizeof q);
  q.struct_size = sizeof q;
  OK(sr_config_get_quotas(c, &q));
  CHECK(q.replicatable_per_minute == 1024 && q.control_per_minute == 1048576);
  q.subcluster_per_minute = 9;
  OK(sr_config_set_quotas(c, &q));
  q.subcluster_per_minute = 0;
  OK(sr_config_get_quotas(c, &q));
  CHECK(q.subcluster_per_minute == 9);
  q.struct_size = 0;
  EXPECT(sr_config_get_quotas(c, &q), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_quotas(c, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_get_quotas(NULL, &q), SR_STATUS_NULL_ARGUMENT);

  SrExpiry e;
  memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  OK(sr_config_get_expiry(c, &e));
  CHECK(e.inactive == 1 && e.missing == 2 && e.forgotten == 4);
  e.forgotten = 8;
  OK(sr_config_set_expiry(c, &e));
  e.forgotten = 0;
  OK(sr_config_get_expiry(c, &e));
  CHECK(e.forgotten == 8);
  e.struct_size = sizeof e - 1;
  EXPECT(sr_config_set_expiry(c, &e), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_get_expiry(c, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_set_expiry(NULL, &e), SR_STATUS_NULL_ARGUMENT);

  OK(sr_config_free(c));
}

static void test_peer_new_refusals(void) {
  uint8_t id[32], cluster[32], seed[32] = {0};
  id_of("refused", id);
  memset(cluster, 3, 32);
  SrConfig *c = NULL;
  SrPeer *p = NULL;
  OK(sr_config_new(id, 32, &c));
  /* A member without a cluster id. */
  EXPECT(sr_peer_new(c, 0, seed, 32, &p), SR_STATUS_INVALID_CONFIG);
  OK(sr_config_set_cluster_id(c, cluster, 32));
  /* Zero keepalive. */
  OK(sr_config_set_keepalive_ms(c, 0));
  EXPECT(sr_peer_new(c, 0, seed, 32, &p), SR_STATUS_INVALID_CONFIG);
  OK(sr_config_set_keepalive_ms(c, 30000));
  /* An invalid static NAT type (bit 0 set, bit 2 not). */
  OK(sr_config_set_nat_type(c, 3));
  EXPECT(sr_peer_new(c, 0, seed, 32, &p), SR_STATUS_INVALID_CONFIG);
  OK(sr_config_set_nat_type(c, 0));
  /* A zero limit. */
  SrLimits l;
  memset(&l, 0, sizeof l);
  l.struct_size = sizeof l;
  OK(sr_config_get_limits(c, &l));
  l.max_events = 0;
  OK(sr_config_set_limits(c, &l));
  EXPECT(sr_peer_new(c, 0, seed, 32, &p), SR_STATUS_INVALID_CONFIG);
  l.max_events = 8;
  OK(sr_config_set_limits(c, &l));
  /* Arguments. */
  EXPECT(sr_peer_new(NULL, 0, seed, 32, &p), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_new(c, 0, NULL, 32, &p), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_new(c, 0, seed, 16, &p), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_new(c, 0, seed, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  CHECK(p == NULL);
  OK(sr_peer_new(c, 0, seed, 32, &p));
  CHECK(p != NULL);
  /* The config was copied: freeing it leaves the peer working. */
  OK(sr_config_free(c));
  OK(sr_peer_handle_timeout(p, 0));
  OK(sr_peer_free(p));
  OK(sr_peer_free(NULL));
}

/* Every sr_peer_* function refuses a NULL peer. */
static void test_null_peer_everywhere(void) {
  uint8_t b32[32] = {0}, buf[64] = {0};
  SrRemote r = v4(127, 0, 0, 1, 1);
  SrSocketId s;
  SrEvent e = new_event();
  size_t n;
  uint64_t t;
  uint32_t u32;
  uint8_t u8;
  bool was;
  SrStrategy st;
  SrPeerInfo pi;
  memset(&pi, 0, sizeof pi);
  pi.struct_size = sizeof pi;
  SrMetrics m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  SrOccupancy o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  const SrStatus N = SR_STATUS_NULL_ARGUMENT;
  EXPECT(sr_peer_restore(NULL, 0, b32, 32, buf, 8, NULL), N);
  EXPECT(sr_peer_handle_datagram(NULL, 0, MAIN_SOCKET, &r, buf, 8), N);
  EXPECT(sr_peer_handle_timeout(NULL, 0), N);
  EXPECT(sr_peer_poll_timeout(NULL, &t), N);
  EXPECT(sr_peer_poll_transmit(NULL, 0, &s, &r, buf, sizeof buf, &n), N);
  EXPECT(sr_peer_poll_event(NULL, &e), N);
  EXPECT(sr_peer_join(NULL, 0, b32, 32, buf, 32), N);
  EXPECT(sr_peer_join_in(NULL, 0, b32, 32, b32, 32, buf, 32), N);
  EXPECT(sr_peer_leave(NULL, b32, 32, b32, 32, &was), N);
  EXPECT(sr_peer_add_introducer(NULL, b32, 32, &r), N);
  EXPECT(sr_peer_reconnect(NULL, 0), N);
  EXPECT(sr_peer_disconnect(NULL, 0), N);
  EXPECT(sr_peer_close(NULL, 0), N);
  EXPECT(sr_peer_set_wall_clock_offset(NULL, 0), N);
  EXPECT(sr_peer_set_firewall(NULL, NULL, NULL), N);
  EXPECT(sr_peer_snapshot(NULL, 0, buf, sizeof buf, &n), N);
  EXPECT(sr_peer_get_id(NULL, buf, 32), N);
  EXPECT(sr_peer_get_nat_type(NULL, &u8), N);
  EXPECT(sr_peer_get_public_endpoint(NULL, &r), N);
  EXPECT(sr_peer_get_clock(NULL, &u32), N);
  EXPECT(sr_peer_get_uptime(NULL, &t), N);
  EXPECT(sr_peer_peer_count(NULL, &n), N);
  EXPECT(sr_peer_get_peer(NULL, 0, &pi), N);
  EXPECT(sr_peer_subcluster_count(NULL, &n), N);
  EXPECT(sr_peer_get_subcluster(NULL, 0, buf, 32, b32, 32), N);
  EXPECT(sr_peer_get_metrics(NULL, &m), N);
  EXPECT(sr_peer_get_occupancy(NULL, &o), N);
  EXPECT(sr_peer_strategy_towards(NULL, 7, &st), N);
}

/* Every out-pointer of a peer function is checked for NULL. */
static void test_null_out_pointers(void) {
  SrPeer *p = make_introducer(9000);
  uint8_t buf[64];
  size_t n;
  SrSocketId s;
  SrRemote r;
  const SrStatus N = SR_STATUS_NULL_ARGUMENT;
  EXPECT(sr_peer_poll_timeout(p, NULL), N);
  EXPECT(sr_peer_poll_event(p, NULL), N);
  EXPECT(sr_peer_get_id(p, NULL, 32), N);
  EXPECT(sr_peer_get_nat_type(p, NULL), N);
  EXPECT(sr_peer_get_public_endpoint(p, NULL), N);
  EXPECT(sr_peer_get_clock(p, NULL), N);
  EXPECT(sr_peer_get_uptime(p, NULL), N);
  EXPECT(sr_peer_peer_count(p, NULL), N);
  EXPECT(sr_peer_get_peer(p, 0, NULL), N);
  EXPECT(sr_peer_subcluster_count(p, NULL), N);
  EXPECT(sr_peer_get_subcluster(p, 0, NULL, 32, buf, 32), N);
  EXPECT(sr_peer_get_subcluster(p, 0, buf, 32, NULL, 32), N);
  EXPECT(sr_peer_get_metrics(p, NULL), N);
  EXPECT(sr_peer_get_occupancy(p, NULL), N);
  EXPECT(sr_peer_strategy_towards(p, 7, NULL), N);
  EXPECT(sr_peer_snapshot(p, 0, buf, sizeof buf, NULL), N);
  EXPECT(sr_peer_snapshot(p, 0, NULL, 10, &n), N);
  EXPECT(sr_peer_poll_transmit(p, 0, NULL, &r, buf, sizeof buf, &n), N);
  EXPECT(sr_peer_poll_transmit(p, 0, &s, NULL, buf, sizeof buf, &n), N);
  EXPECT(sr_peer_poll_transmit(p, 0, &s, &r, buf, sizeof buf, NULL), N);
  EXPECT(sr_peer_poll_transmit(p, 0, &s, &r, NULL, 10, &n), N);
  OK(sr_peer_free(p));
}

static void test_introducer_ready_event(void) {
  SrPeer *p = make_introducer(9000);
  SrEvent e = new_event();
  /* struct_size too small: refused, and the event is not lost. */
  e.struct_size = 8;
  EXPECT(sr_peer_poll_event(p, &e), SR_STATUS_INVALID_ARGUMENT);
  e = new_event();
  OK(sr_peer_poll_event(p, &e));
  CHECK(e.kind == SR_EVENT_KIND_READY);
  CHECK(e.data.ready.nat == SR_NAT_TYPE_UNRESTRICTED);
  SrRemote want = v4(127, 0, 0, 1, 9000);
  CHECK(remote_eq(&e.data.ready.endpoint, &want));
  CHECK(e.struct_size == sizeof e);
  EXPECT(sr_peer_poll_event(p, &e), SR_STATUS_EMPTY);
  OK(sr_peer_free(p));
}

static void test_three_peers_meet(void) {
  uint8_t cluster[32], intro_id[32], a_id[32], b_id[32], key[32], scid[32],
      scid2[32];
  memset(cluster, 0xc1, 32);
  id_of("introducer", intro_id);
  id_of("a", a_id);
  id_of("b", b_id);
  OK(sr_create_shared_key(SR_SEED_KIND_TEXT, (const uint8_t *)"room", 4, key, 32));
  SrConfig *ca = make_config("a", cluster, 9001, intro_id, 9000);
  SrConfig *cb = make_config("b", cluster, 9002, intro_id, 9000);
  Node nodes[3];
  memset(nodes, 0, sizeof nodes);
  nodes[0].peer = make_introducer(9000);
  nodes[0].port = 9000;
  nodes[1].peer = make_peer(ca, 2);
  nodes[1].port = 9001;
  nodes[2].peer = make_peer(cb, 3);
  nodes[2].port = 9002;
  sr_config_free(ca);
  sr_config_free(cb);
  OK(sr_peer_join(nodes[1].peer, 0, key, 32, scid, 32));
  OK(sr_peer_join(nodes[2].peer, 0, key, 32, scid2, 32));
  CHECK(memcmp(scid, scid2, 32) == 0);
  uint8_t want[32];
  OK(sr_subcluster_id(key, 32, want, 32));
  CHECK(memcmp(scid, want, 32) == 0);

  run_until(nodes, 3, 0, 65000);
  if (getenv("SR_TEST_VERBOSE"))
    for (int k = 0; k < 3; k++)
      printf("node %d: ready %d conn %d join %d intro %d\n", k, nodes[k].kinds[1],
             nodes[k].kinds[3], nodes[k].kinds[5], nodes[k].kinds[6]);

  CHECK(nodes[1].kinds[SR_EVENT_KIND_READY] == 1);
  /* (Configured introducers are in the table from the start: no
   * CONNECTION event for them.) */
  CHECK(saw_id(nodes[1].connected, nodes[1].n_connected, b_id));
  CHECK(saw_id(nodes[2].connected, nodes[2].n_connected, a_id));
  CHECK(saw_id(nodes[1].joined, nodes[1].n_joined, b_id) ||
        saw_id(nodes[2].joined, nodes[2].n_joined, a_id));

  /* The table as C sees it. */
  size_t count = 0;
  OK(sr_peer_peer_count(nodes[1].peer, &count));
  CHECK(count >= 2);
  int found_b = 0;
  for (size_t i = 0;; i++) {
    SrPeerInfo info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    SrStatus s = sr_peer_get_peer(nodes[1].peer, i, &info);
    if (s == SR_STATUS_EMPTY) {
      CHECK(i == count);
      break;
    }
    OK(s);
    if (memcmp(info.peer_id, b_id, 32) == 0) {
      found_b = 1;
      SrRemote br = v4(127, 0, 0, 1, 9002);
      CHECK(info.connected && !info.indexed && info.nat == SR_NAT_TYPE_UNRESTRICTED);
      CHECK(remote_eq(&info.remote, &br));
      CHECK(info.has_last_update);
    }
    if (memcmp(info.peer_id, intro_id, 32) == 0) CHECK(info.indexed);
  }
  CHECK(found_b);
  SrPeerInfo small;
  memset(&small, 0, sizeof small);
  small.struct_size = 16;
  EXPECT(sr_peer_get_peer(nodes[1].peer, 0, &small), SR_STATUS_INVALID_ARGUMENT);

  SrMetrics m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  OK(sr_peer_get_metrics(nodes[1].peer, &m));
  CHECK(m.datagrams_in > 0 && m.received_by_type[2] > 0 /* pongs */);
  CHECK(m.sent_by_type[1] > 0 /* pings */ && m.sent_by_type[4] > 0 /* joins */);
  m.struct_size = 0;
  EXPECT(sr_peer_get_metrics(nodes[1].peer, &m), SR_STATUS_INVALID_ARGUMENT);

  SrOccupancy o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  OK(sr_peer_get_occupancy(nodes[1].peer, &o));
  CHECK(o.peers == count && o.timers > 0 && o.transmits == 0);
  o.struct_size = 4;
  EXPECT(sr_peer_get_occupancy(nodes[1].peer, &o), SR_STATUS_INVALID_ARGUMENT);

  uint64_t up = 0;
  OK(sr_peer_get_uptime(nodes[1].peer, &up));
  CHECK(up >= 30000);
  uint32_t clock = 0;
  OK(sr_peer_get_clock(nodes[1].peer, &clock));
  CHECK(clock >= 1);

  for (int i = 0; i < 3; i++) OK(sr_peer_free(nodes[i].peer));
}

static void test_poll_transmit_buffers(void) {
  uint8_t cluster[32], intro_id[32];
  memset(cluster, 0xc1, 32);
  id_of("introducer", intro_id);
  SrConfig *c = make_config("tx", cluster, 9001, intro_id, 9000);
  SrPeer *p = make_peer(c, 4);
  sr_config_free(c);
  SrSocketId s;
  SrRemote r;
  size_t need = 0, n = 0;
  uint8_t buf[SR_MAX_DATAGRAM_LEN], small[8];
  EXPECT(sr_peer_poll_transmit(p, 0, &s, &r, buf, sizeof buf, &n), SR_STATUS_EMPTY);
  OK(sr_peer_handle_timeout(p, 0));
  /* Ask for the length with no buffer. */
  EXPECT(sr_peer_poll_transmit(p, 0, &s, &r, NULL, 0, &need), SR_STATUS_BUFFER_TOO_SMALL);
  CHECK(need > sizeof small && need <= SR_MAX_DATAGRAM_LEN);
  /* Too small: the length again, and the datagram stays queued. */
  n = 0;
  EXPECT(sr_peer_poll_transmit(p, 0, &s, &r, small, sizeof small, &n),
         SR_STATUS_BUFFER_TOO_SMALL);
  CHECK(n == need);
  /* A NULL out-pointer does not lose it either. */
  EXPECT(sr_peer_poll_transmit(p, 0, &s, NULL, buf, sizeof buf, &n), SR_STATUS_NULL_ARGUMENT);
  n = 0;
  OK(sr_peer_poll_transmit(p, 0, &s, &r, buf, need, &n));
  CHECK(n == need);
  CHECK(s.kind == SR_SOCKET_KIND_MAIN);
  SrRemote to = v4(127, 0, 0, 1, 9000);
  CHECK(remote_eq(&r, &to));
  /* It is a packet: a Ping (type 1). */
  SrPacketView v;
  memset(&v, 0, sizeof v);
  v.struct_size = sizeof v;
  OK(sr_packet_decode(buf, n, &v));
  CHECK(v.packet_type == 1 && v.version == 6);
  while (sr_peer_poll_transmit(p, 0, &s, &r, buf, sizeof buf, &n) == SR_STATUS_OK) {
  }
  EXPECT(sr_peer_poll_transmit(p, 0, &s, &r, buf, sizeof buf, &n), SR_STATUS_EMPTY);
  OK(sr_peer_free(p));
}

static void test_malformed_datagrams(void) {
  SrPeer *p = make_introducer(9000);
  drain_events(p);
  SrRemote from = v4(198, 51, 100, 7, 5000);
  SrMetrics m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  uint8_t junk[2048];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 131 + 7);
  uint8_t good[SR_MAX_DATAGRAM_LEN];
  size_t good_len = first_datagram(good, sizeof good);

  /* Bad input is data: dropped and counted, the call succeeds. */
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, NULL, 0));
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, junk, 1));
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, junk, sizeof junk));
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, good, good_len / 2));
  uint8_t bad_magic[SR_MAX_DATAGRAM_LEN];
  memcpy(bad_magic, good, good_len);
  bad_magic[0] ^= 0xff;
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, bad_magic, good_len));
  uint8_t big[65536];
  memset(big, 0xff, sizeof big);
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, big, sizeof big));
  /* Every truncation of a real packet. */
  for (size_t cut = 0; cut < good_len; cut += 7)
    OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, good, cut));
  /* A link remote is accepted. */
  SrRemote ln = link_remote(77);
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &ln, junk, 40));
  OK(sr_peer_get_metrics(p, &m));
  CHECK(m.drops[SR_DROP_REASON_MALFORMED] >= 6);
  CHECK(m.datagrams_in >= 7);
  /* The peer still works: the real packet gets an answer. */
  OK(sr_peer_handle_datagram(p, 2, MAIN_SOCKET, &from, good, good_len));
  SrSocketId s;
  SrRemote r;
  size_t n;
  uint8_t out[SR_MAX_DATAGRAM_LEN];
  OK(sr_peer_poll_transmit(p, 2, &s, &r, out, sizeof out, &n));
  CHECK(remote_eq(&r, &from));

  /* Invalid arguments are errors of the call. */
  SrSocketId bad_kind = {7, 0}, bad_pool = {SR_SOCKET_KIND_POOL, 70000};
  SrSocketId pool = {SR_SOCKET_KIND_POOL, 3}, probe = {SR_SOCKET_KIND_PROBE, 0};
  EXPECT(sr_peer_handle_datagram(p, 3, bad_kind, &from, junk, 4), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_handle_datagram(p, 3, bad_pool, &from, junk, 4), SR_STATUS_INVALID_ARGUMENT);
  OK(sr_peer_handle_datagram(p, 3, pool, &from, junk, 4)); /* unknown socket: dropped */
  OK(sr_peer_handle_datagram(p, 3, probe, &from, junk, 4));
  SrRemote bad_remote = from;
  bad_remote.kind = 42;
  EXPECT(sr_peer_handle_datagram(p, 3, MAIN_SOCKET, &bad_remote, junk, 4),
         SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_handle_datagram(p, 3, MAIN_SOCKET, NULL, junk, 4), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_handle_datagram(p, 3, MAIN_SOCKET, &from, NULL, 4), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_handle_datagram(p, 3, MAIN_SOCKET, &from, junk, SIZE_MAX),
         SR_STATUS_INVALID_ARGUMENT);
  SrMetrics m2;
  memset(&m2, 0, sizeof m2);
  m2.struct_size = sizeof m2;
  OK(sr_peer_get_metrics(p, &m2));
  CHECK(m2.drops[SR_DROP_REASON_UNKNOWN_SOCKET] >= 1);
  OK(sr_peer_free(p));
}

static void test_ipv6_remotes(void) {
  SrPeer *p = make_introducer(9000);
  uint8_t other[32];
  id_of("v6-introducer", other);
  SrRemote r;
  memset(&r, 0, sizeof r);
  r.kind = SR_REMOTE_KIND_IPV6;
  r.addr[0] = 0xfe;
  r.addr[1] = 0x80;
  r.addr[15] = 1;
  r.port = 7777;
  r.scope_id = 3;
  OK(sr_peer_add_introducer(p, other, 32, &r));
  SrPeerInfo info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  OK(sr_peer_get_peer(p, 0, &info));
  CHECK(memcmp(info.peer_id, other, 32) == 0);
  CHECK(remote_eq(&info.remote, &r));
  EXPECT(sr_peer_get_peer(p, 1, &info), SR_STATUS_EMPTY);
  OK(sr_peer_handle_datagram(p, 0, MAIN_SOCKET, &r, (const uint8_t *)"x", 1));
  OK(sr_peer_free(p));
}

static void test_timeouts_and_close(void) {
  SrPeer *p = make_introducer(9000);
  uint64_t t = 12345;
  OK(sr_peer_poll_timeout(p, &t));
  CHECK(t == 0); /* the first tick is due at once */
  OK(sr_peer_handle_timeout(p, 0));
  OK(sr_peer_poll_timeout(p, &t));
  CHECK(t == 30000);
  OK(sr_peer_handle_timeout(p, 1)); /* early: harmless */
  OK(sr_peer_handle_timeout(p, UINT64_MAX)); /* far future: harmless */
  OK(sr_peer_set_wall_clock_offset(p, 1700000000000LL));
  drain_events(p);
  OK(sr_peer_close(p, 5));
  OK(sr_peer_close(p, 6)); /* twice */
  SrEvent e = new_event();
  OK(sr_peer_poll_event(p, &e));
  CHECK(e.kind == SR_EVENT_KIND_CLOSED);
  EXPECT(sr_peer_poll_timeout(p, &t), SR_STATUS_EMPTY);
  uint8_t id[32], key[32] = {1}, scid[32];
  id_of("after-close", id);
  SrRemote r = v4(127, 0, 0, 1, 1);
  EXPECT(sr_peer_add_introducer(p, id, 32, &r), SR_STATUS_CLOSED);
  EXPECT(sr_peer_join_in(p, 0, id, 32, key, 32, scid, 32), SR_STATUS_CLOSED);
  /* Inputs after close are dropped, not errors. */
  OK(sr_peer_handle_datagram(p, 7, MAIN_SOCKET, &r, key, 32));
  OK(sr_peer_handle_timeout(p, 8));
  OK(sr_peer_free(p));
}

static void test_commands(void) {
  uint8_t cluster[32], other_cluster[32], intro_id[32], key[32], key2[32],
      scid[32], got_c[32], got_s[32], me[32];
  memset(cluster, 0xc1, 32);
  memset(other_cluster, 0xc2, 32);
  id_of("introducer", intro_id);
  id_of("commands", me);
  OK(sr_create_shared_key(SR_SEED_KIND_TEXT, (const uint8_t *)"k1", 2, key, 32));
  OK(sr_create_shared_key(SR_SEED_KIND_TEXT, (const uint8_t *)"k2", 2, key2, 32));

  /* An introducer has no cluster to join. */
  SrPeer *i = make_introducer(9000);
  EXPECT(sr_peer_join(i, 0, key, 32, scid, 32), SR_STATUS_NO_CLUSTER);
  OK(sr_peer_free(i));

  SrConfig *c = make_config("commands", cluster, 9001, intro_id, 9000);
  SrLimits l;
  memset(&l, 0, sizeof l);
  l.struct_size = sizeof l;
  OK(sr_config_get_limits(c, &l));
  l.max_subclusters = 2;
  OK(sr_config_set_limits(c, &l));
  SrPeer *p = make_peer(c, 5);
  sr_config_free(c);

  uint8_t got_id[32], small[16];
  OK(sr_peer_get_id(p, got_id, 32));
  CHECK(memcmp(got_id, me, 32) == 0);
  EXPECT(sr_peer_get_id(p, small, sizeof small), SR_STATUS_BUFFER_TOO_SMALL);
  uint8_t nat = 0;
  OK(sr_peer_get_nat_type(p, &nat));
  CHECK(nat == SR_NAT_TYPE_UNRESTRICTED);
  SrRemote ep;
  OK(sr_peer_get_public_endpoint(p, &ep));
  SrRemote want_ep = v4(127, 0, 0, 1, 9001);
  CHECK(remote_eq(&ep, &want_ep));
  SrStrategy st = 99;
  OK(sr_peer_strategy_towards(p, SR_NAT_TYPE_ENDPOINT_RESTRICTED, &st));
  CHECK(st <= SR_STRATEGY_PROXY);
  OK(sr_peer_strategy_towards(p, 0, &st));

  /* join / join_in / leave / subclusters */
  EXPECT(sr_peer_join(p, 0, NULL, 32, scid, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_join(p, 0, key, 31, scid, 32), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_join(p, 0, key, 32, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_join(p, 0, key, 32, scid, 31), SR_STATUS_BUFFER_TOO_SMALL);
  size_t n = 99;
  OK(sr_peer_subcluster_count(p, &n));
  CHECK(n == 0); /* nothing joined by the refused calls */
  OK(sr_peer_join(p, 0, key, 32, scid, 32));
  OK(sr_peer_join(p, 0, key, 32, scid, 32)); /* again: same subcluster */
  OK(sr_peer_join_in(p, 0, other_cluster, 32, key2, 32, got_s, 32));
  EXPECT(sr_peer_join_in(p, 0, other_cluster, 32, key, 32, got_s, 32),
         SR_STATUS_TOO_MANY_SUBCLUSTERS);
  EXPECT(sr_peer_join_in(p, 0, NULL, 32, key, 32, got_s, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_join_in(p, 0, other_cluster, 2, key, 32, got_s, 32),
         SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_join_in(p, 0, other_cluster, 32, key, 32, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  OK(sr_peer_subcluster_count(p, &n));
  CHECK(n == 2);
  int seen_first = 0;
  for (size_t k = 0; k < 2; k++) {
    OK(sr_peer_get_subcluster(p, k, got_c, 32, got_s, 32));
    if (memcmp(got_c, cluster, 32) == 0 && memcmp(got_s, scid, 32) == 0) seen_first = 1;
  }
  CHECK(seen_first);
  EXPECT(sr_peer_get_subcluster(p, 2, got_c, 32, got_s, 32), SR_STATUS_EMPTY);
  EXPECT(sr_peer_get_subcluster(p, 0, got_c, 31, got_s, 32), SR_STATUS_BUFFER_TOO_SMALL);
  bool was = false;
  OK(sr_peer_leave(p, cluster, 32, scid, 32, &was));
  CHECK(was);
  OK(sr_peer_leave(p, cluster, 32, scid, 32, &was));
  CHECK(!was);
  EXPECT(sr_peer_leave(p, cluster, 32, scid, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_leave(p, NULL, 32, scid, 32, &was), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_leave(p, cluster, 32, scid, 3, &was), SR_STATUS_INVALID_ARGUMENT);

  /* add_introducer */
  SrRemote r = v4(203, 0, 113, 9, 3456);
  EXPECT(sr_peer_add_introducer(p, me, 32, &r), SR_STATUS_OWN_ID);
  uint8_t other[32];
  id_of("second introducer", other);
  OK(sr_peer_add_introducer(p, other, 32, &r));
  EXPECT(sr_peer_add_introducer(p, other, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_add_introducer(p, NULL, 32, &r), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_add_introducer(p, other, 64, &r), SR_STATUS_INVALID_ARGUMENT);
  SrRemote bad = r;
  bad.kind = 5;
  EXPECT(sr_peer_add_introducer(p, other, 32, &bad), SR_STATUS_INVALID_ARGUMENT);

  OK(sr_peer_reconnect(p, 10));
  OK(sr_peer_disconnect(p, 11));
  OK(sr_peer_get_nat_type(p, &nat));
  CHECK(nat == SR_NAT_TYPE_UNRESTRICTED); /* a static NAT type stays */
  OK(sr_peer_free(p));

  /* disconnect on a peer that learnt its NAT type would emit NAT_CHANGE;
   * here (static) it emits nothing: drain and check no NAT_CHANGE. */
}

static void test_snapshot_restore(void) {
  uint8_t cluster[32], intro_id[32], key[32], scid[32], seed[32];
  memset(cluster, 0xc1, 32);
  memset(seed, 6, 32);
  id_of("introducer", intro_id);
  OK(sr_create_shared_key(SR_SEED_KIND_TEXT, (const uint8_t *)"snap", 4, key, 32));
  SrConfig *c = make_config("snap", cluster, 9001, intro_id, 9000);
  SrPeer *p = make_peer(c, 6);
  OK(sr_peer_join(p, 0, key, 32, scid, 32));

  size_t need = 0, n = 0;
  EXPECT(sr_peer_snapshot(p, 100, NULL, 0, &need), SR_STATUS_BUFFER_TOO_SMALL);
  CHECK(need > 6);
  uint8_t *buf = malloc(need);
  REQUIRE(buf != NULL);
  EXPECT(sr_peer_snapshot(p, 100, buf, need - 1, &n), SR_STATUS_BUFFER_TOO_SMALL);
  CHECK(n == need);
  OK(sr_peer_snapshot(p, 100, buf, need, &n));
  CHECK(n == need && memcmp(buf, "SRPEER", 6) == 0);

  SrPeer *q = NULL;
  OK(sr_peer_restore(c, 5, seed, 32, buf, n, &q));
  CHECK(q != NULL);
  size_t count = 0;
  OK(sr_peer_subcluster_count(q, &count));
  CHECK(count == 1);
  uint8_t got_c[32], got_s[32];
  OK(sr_peer_get_subcluster(q, 0, got_c, 32, got_s, 32));
  CHECK(memcmp(got_s, scid, 32) == 0 && memcmp(got_c, cluster, 32) == 0);
  OK(sr_peer_free(q));

  /* Refusals. */
  q = NULL;
  EXPECT(sr_peer_restore(c, 5, seed, 32, buf, 3, &q), SR_STATUS_SNAPSHOT_MALFORMED);
  EXPECT(sr_peer_restore(c, 5, seed, 32, buf, n - 1, &q), SR_STATUS_SNAPSHOT_MALFORMED);
  EXPECT(sr_peer_restore(c, 5, seed, 32, NULL, 0, &q), SR_STATUS_SNAPSHOT_MALFORMED);
  EXPECT(sr_peer_restore(c, 5, seed, 32, NULL, 10, &q), SR_STATUS_NULL_ARGUMENT);
  uint8_t junk[64];
  memset(junk, 0x5a, sizeof junk);
  EXPECT(sr_peer_restore(c, 5, seed, 32, junk, sizeof junk, &q), SR_STATUS_SNAPSHOT_MALFORMED);
  buf[6] = 99; /* the format version */
  EXPECT(sr_peer_restore(c, 5, seed, 32, buf, n, &q), SR_STATUS_SNAPSHOT_VERSION);
  buf[6] = 1;
  SrConfig *other = make_config("somebody else", cluster, 9003, intro_id, 9000);
  EXPECT(sr_peer_restore(other, 5, seed, 32, buf, n, &q), SR_STATUS_SNAPSHOT_IDENTITY);
  EXPECT(sr_peer_restore(NULL, 5, seed, 32, buf, n, &q), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_restore(c, 5, NULL, 32, buf, n, &q), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_restore(c, 5, seed, 8, buf, n, &q), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_restore(c, 5, seed, 32, buf, n, NULL), SR_STATUS_NULL_ARGUMENT);
  CHECK(q == NULL);
  OK(sr_config_set_keepalive_ms(other, 0));
  EXPECT(sr_peer_restore(other, 5, seed, 32, buf, n, &q), SR_STATUS_INVALID_CONFIG);
  free(buf);
  sr_config_free(other);
  sr_config_free(c);
  OK(sr_peer_free(p));
}

static void hex32(const uint8_t *b, char *out) {
  for (int i = 0; i < 32; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

static void test_keys(void) {
  uint8_t pk[32], sk[64], pk2[32], sk2[64], shared[32], cid[32], id[32], scid[32];
  char hex[65];
  const uint8_t *abc = (const uint8_t *)"abc";
  OK(sr_create_id(SR_SEED_KIND_TEXT, abc, 3, id, 32));
  hex32(id, hex);
  CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
  OK(sr_create_id(SR_SEED_KIND_BYTES, abc, 3, id, 32)); /* same bytes */
  hex32(id, hex);
  CHECK(strncmp(hex, "ba7816bf", 8) == 0);
  OK(sr_create_cluster_id(SR_SEED_KIND_TEXT, abc, 3, cid, 32));
  CHECK(memcmp(cid, id, 32) == 0); /* both SHA-256 */

  const char *s = "example-shared-secret";
  OK(sr_create_shared_key(SR_SEED_KIND_TEXT, (const uint8_t *)s, strlen(s), shared, 32));
  CHECK(shared[0] == 0xe6 && shared[1] == 0xd9 && shared[2] == 0x49 && shared[3] == 0xcf);
  OK(sr_create_key_pair(SR_SEED_KIND_TEXT, (const uint8_t *)s, strlen(s), pk, 32, sk, 64));
  OK(sr_subcluster_id(shared, 32, scid, 32));
  CHECK(memcmp(scid, pk, 32) == 0);
  CHECK(memcmp(sk + 32, pk, 32) == 0); /* seed || public key */
  OK(sr_create_key_pair(SR_SEED_KIND_BYTES, shared, 32, pk2, 32, sk2, 64));
  CHECK(memcmp(pk2, pk, 32) == 0 && memcmp(sk2, sk, 64) == 0);
  /* An empty byte seed is fine for a shared key (NULL with length 0). */
  OK(sr_create_shared_key(SR_SEED_KIND_BYTES, NULL, 0, shared, 32));

  /* Refusals. */
  EXPECT(sr_create_id(SR_SEED_KIND_TEXT, abc, 0, id, 32), SR_STATUS_INVALID_KEY);
  EXPECT(sr_create_key_pair(SR_SEED_KIND_BYTES, abc, 3, pk, 32, sk, 64), SR_STATUS_INVALID_KEY);
  EXPECT(sr_create_key_pair(SR_SEED_KIND_TEXT, abc, 3, pk, 31, sk, 64), SR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(sr_create_key_pair(SR_SEED_KIND_TEXT, abc, 3, pk, 32, sk, 63), SR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(sr_create_key_pair(SR_SEED_KIND_TEXT, abc, 3, NULL, 32, sk, 64), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_create_key_pair(SR_SEED_KIND_TEXT, abc, 3, pk, 32, NULL, 64), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_create_key_pair(SR_SEED_KIND_TEXT, NULL, 3, pk, 32, sk, 64), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_create_key_pair(2, abc, 3, pk, 32, sk, 64), SR_STATUS_INVALID_ARGUMENT);
  const uint8_t bad_utf8[] = {0x61, 0xff, 0xfe};
  EXPECT(sr_create_shared_key(SR_SEED_KIND_TEXT, bad_utf8, 3, shared, 32), SR_STATUS_INVALID_UTF8);
  EXPECT(sr_create_shared_key(SR_SEED_KIND_TEXT, abc, 3, shared, 8), SR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(sr_create_shared_key(SR_SEED_KIND_TEXT, abc, 3, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_create_shared_key(77, abc, 3, shared, 32), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_create_cluster_id(SR_SEED_KIND_TEXT, abc, 3, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_create_cluster_id(SR_SEED_KIND_TEXT, NULL, 3, cid, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_create_cluster_id(SR_SEED_KIND_TEXT, abc, 3, cid, 0), SR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(sr_create_id(SR_SEED_KIND_TEXT, abc, 3, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_create_id(SR_SEED_KIND_TEXT, abc, 3, id, 1), SR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(sr_subcluster_id(NULL, 32, scid, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_subcluster_id(shared, 31, scid, 32), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_subcluster_id(shared, 32, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_subcluster_id(shared, 32, scid, 16), SR_STATUS_BUFFER_TOO_SMALL);
}

/* The README's example packet (spec §2.8): a Publish with message "hello". */
static const char *EXAMPLE_HEX =
    "03050b110500060000000100000000ffffffff014997000020dd3b93cd8a3869b3342cd1"
    "d042b7aad4a31f84f1b4a623d13784e19ee6f89f7800206a72ca18c6fcbb6313fbd3a7cb"
    "b8307e1fd5aaae85679eb776b996616d029f290001000020f986b0ab1555232458768f8f"
    "47b62022abfa2d40d2e6463e8e2451080b9379e9000100002018f6b0200b6fd32ce4e85b"
    "6c841f72247964195b8e1cd7c52e046dc51e48f779000100000100000100000568656c6c"
    "6f000100";

static void test_packets(void) {
  uint8_t pkt[512], out[512];
  size_t len = from_hex(EXAMPLE_HEX, pkt, sizeof pkt);
  SrPacketView v;
  memset(&v, 0, sizeof v);
  v.struct_size = sizeof v;
  OK(sr_packet_decode(pkt, len, &v));
  CHECK(v.packet_type == 5 && v.version == 6 && v.index == -1);
  CHECK(v.message.len == 5 && memcmp(v.message.ptr, "hello", 5) == 0);
  CHECK(v.cluster_id.len == 32);
  /* The view borrows the input. */
  CHECK(v.message.ptr >= pkt && v.message.ptr < pkt + len);
  size_t n = 0;
  EXPECT(sr_packet_encode(&v, NULL, 0, &n), SR_STATUS_BUFFER_TOO_SMALL);
  CHECK(n == len);
  EXPECT(sr_packet_encode(&v, out, n - 1, &n), SR_STATUS_BUFFER_TOO_SMALL);
  OK(sr_packet_encode(&v, out, sizeof out, &n));
  CHECK(n == len && memcmp(out, pkt, len) == 0);

  /* Build one from scratch: every field default except the message. */
  SrPacketView w;
  memset(&w, 0, sizeof w);
  w.struct_size = sizeof w;
  w.packet_type = 6;
  w.version = 6;
  w.clock = 1;
  w.index = -1;
  const uint8_t zero = 0;
  SrBytes def = {&zero, 1};
  w.cluster_id = w.subcluster_id = w.previous_id = w.packet_id = w.next_id = def;
  w.usr1 = w.usr2 = w.usr3 = w.usr4 = w.sig = def;
  w.message.ptr = (const uint8_t *)"hi";
  w.message.len = 2;
  OK(sr_packet_encode(&w, out, sizeof out, &n));
  SrPacketView back;
  memset(&back, 0, sizeof back);
  back.struct_size = sizeof back;
  OK(sr_packet_decode(out, n, &back));
  CHECK(back.packet_type == 6 && back.message.len == 2 && back.packet_id.len == 32);

  /* Refusals. */
  uint8_t junk[40];
  memset(junk, 1, sizeof junk);
  EXPECT(sr_packet_decode(junk, sizeof junk, &v), SR_STATUS_MALFORMED_PACKET);
  EXPECT(sr_packet_decode(pkt, len / 2, &v), SR_STATUS_MALFORMED_PACKET);
  EXPECT(sr_packet_decode(NULL, 0, &v), SR_STATUS_MALFORMED_PACKET);
  EXPECT(sr_packet_decode(NULL, 10, &v), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_packet_decode(pkt, len, NULL), SR_STATUS_NULL_ARGUMENT);
  v.struct_size = 12;
  EXPECT(sr_packet_decode(pkt, len, &v), SR_STATUS_INVALID_ARGUMENT);
  w.packet_type = 9;
  EXPECT(sr_packet_encode(&w, out, sizeof out, &n), SR_STATUS_INVALID_ARGUMENT);
  w.packet_type = 6;
  uint8_t long_field[2048];
  memset(long_field, 'x', sizeof long_field);
  w.message.ptr = long_field;
  w.message.len = sizeof long_field;
  EXPECT(sr_packet_encode(&w, out, sizeof out, &n), SR_STATUS_PACKET_TOO_LONG);
  w.message.len = 2;
  w.usr1.ptr = long_field;
  w.usr1.len = 33;
  EXPECT(sr_packet_encode(&w, out, sizeof out, &n), SR_STATUS_PACKET_TOO_LONG);
  w.usr1 = def;
  w.usr2.ptr = NULL;
  w.usr2.len = 5;
  EXPECT(sr_packet_encode(&w, out, sizeof out, &n), SR_STATUS_NULL_ARGUMENT);
  w.usr2 = def;
  EXPECT(sr_packet_encode(NULL, out, sizeof out, &n), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_packet_encode(&w, out, sizeof out, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_packet_encode(&w, NULL, 100, &n), SR_STATUS_NULL_ARGUMENT);
  w.struct_size = 0;
  EXPECT(sr_packet_encode(&w, out, sizeof out, &n), SR_STATUS_INVALID_ARGUMENT);
}

/* Signing keys for a member (libsodium's 64-byte secret key). */
static void set_signing(SrConfig *c, const char *seed, uint8_t pk[32]) {
  uint8_t sk[64];
  REQUIRE(sr_create_key_pair(SR_SEED_KIND_TEXT, (const uint8_t *)seed, strlen(seed), pk, 32,
                             sk, 64) == SR_STATUS_OK);
  REQUIRE(sr_config_set_signing_keys(c, sk, 64) == SR_STATUS_OK);
}

static void test_data_plane_config(void) {
  uint8_t id[32], pk[32], sk[64];
  id_of("dp-config", id);
  SrConfig *c = NULL;
  OK(sr_config_new(id, 32, &c));
  OK(sr_create_key_pair(SR_SEED_KIND_TEXT, (const uint8_t *)"k", 1, pk, 32, sk, 64));
  OK(sr_config_set_signing_keys(c, sk, 64));
  OK(sr_config_set_signing_keys(c, NULL, 0)); /* removes them */
  EXPECT(sr_config_set_signing_keys(c, sk, 32), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_signing_keys(c, NULL, 64), SR_STATUS_NULL_ARGUMENT);
  sk[40] ^= 1; /* a public half that does not belong to the seed */
  EXPECT(sr_config_set_signing_keys(c, sk, 64), SR_STATUS_INVALID_KEY);
  EXPECT(sr_config_set_signing_keys(NULL, sk, 64), SR_STATUS_NULL_ARGUMENT);
  OK(sr_config_set_auto_sync(c, false));
  EXPECT(sr_config_set_auto_sync(NULL, false), SR_STATUS_NULL_ARGUMENT);
  OK(sr_config_set_profile(c, SR_PROFILE_REFERENCE));
  OK(sr_config_set_profile(c, SR_PROFILE_IMPROVED));
  EXPECT(sr_config_set_profile(c, 2), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_profile(NULL, SR_PROFILE_REFERENCE), SR_STATUS_NULL_ARGUMENT);
  SrFanout f;
  memset(&f, 0, sizeof f);
  f.struct_size = sizeof f;
  OK(sr_config_get_fanout(c, &f));
  CHECK(f.policy == SR_FANOUT_POLICY_RANDOM && f.peers == 3 && f.unknown_rtt_ms == 250);
  f.policy = SR_FANOUT_POLICY_WEIGHTED;
  f.peers = 5;
  OK(sr_config_set_fanout(c, &f));
  memset(&f, 0, sizeof f);
  f.struct_size = sizeof f;
  OK(sr_config_get_fanout(c, &f));
  CHECK(f.policy == SR_FANOUT_POLICY_WEIGHTED && f.peers == 5);
  f.policy = 9;
  EXPECT(sr_config_set_fanout(c, &f), SR_STATUS_INVALID_ARGUMENT);
  f.struct_size = 4;
  EXPECT(sr_config_get_fanout(c, &f), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_config_set_fanout(c, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_config_get_fanout(NULL, &f), SR_STATUS_NULL_ARGUMENT);
  SrLimits l;
  memset(&l, 0, sizeof l);
  l.struct_size = sizeof l;
  OK(sr_config_get_limits(c, &l));
  CHECK(l.max_cache_packets == 65536 && l.reassembly_max_bytes == 1048576);
  SrTimings t;
  memset(&t, 0, sizeof t);
  t.struct_size = sizeof t;
  OK(sr_config_get_timings(c, &t));
  CHECK(t.sync_window_ms == 6000 && t.missing_link_queries == 3);
  OK(sr_config_free(c));
}

/* Publish, stream, query, answer, sync and the cache between two members
 * that met through an introducer (in memory). */
static void test_data_plane(void) {
  uint8_t cluster[32], intro_id[32], a_id[32], b_id[32], key[32], scid[32], pk_a[32],
      pk_b[32], name_hash[32];
  memset(cluster, 0xc1, 32);
  id_of("introducer", intro_id);
  id_of("a", a_id);
  id_of("b", b_id);
  OK(sr_create_shared_key(SR_SEED_KIND_TEXT, (const uint8_t *)"room", 4, key, 32));
  OK(sr_create_cluster_id(SR_SEED_KIND_TEXT, (const uint8_t *)"greeting", 8, name_hash, 32));
  SrConfig *ca = make_config("a", cluster, 9001, intro_id, 9000);
  SrConfig *cb = make_config("b", cluster, 9002, intro_id, 9000);
  set_signing(ca, "signing a", pk_a);
  set_signing(cb, "signing b", pk_b);
  Node nodes[3];
  memset(nodes, 0, sizeof nodes);
  nodes[0].peer = make_introducer(9000);
  nodes[0].port = 9000;
  nodes[1].peer = make_peer(ca, 2);
  nodes[1].port = 9001;
  nodes[2].peer = make_peer(cb, 3);
  nodes[2].port = 9002;
  sr_config_free(ca);
  sr_config_free(cb);
  SrPeer *a = nodes[1].peer, *b = nodes[2].peer;
  OK(sr_peer_join(a, 0, key, 32, scid, 32));
  OK(sr_peer_join(b, 0, key, 32, scid, 32));
  uint64_t now = run_until(nodes, 3, 0, 65000);
  REQUIRE(saw_id(nodes[1].connected, nodes[1].n_connected, b_id));

  /* Publish on A: B gets the packet, A does not. */
  const char *msg = "hello from a";
  SrIdList ids = {NULL, 0};
  OK(sr_peer_publish(a, now, key, 32, (const uint8_t *)"greeting", 8, (const uint8_t *)msg,
                     strlen(msg), NULL, &ids));
  CHECK(ids.len == 1 && ids.ids[0].len == 32);
  uint8_t published_id[32];
  memcpy(published_id, ids.ids[0].ptr, 32);
  pump(nodes, 3, now);
  CHECK(nodes[2].kinds[SR_EVENT_KIND_PACKET] == 1);
  CHECK(nodes[1].kinds[SR_EVENT_KIND_PACKET] == 0);
  CHECK(nodes[2].payload_len == strlen(msg) && memcmp(nodes[2].payload, msg, strlen(msg)) == 0);
  CHECK(memcmp(nodes[2].event_hash, name_hash, 32) == 0);
  CHECK(memcmp(nodes[2].publisher, pk_a, 32) == 0);
  CHECK(!nodes[2].has_stream_from && !nodes[2].has_head_id);

  /* The cache. */
  SrBytes cached = {NULL, 0};
  OK(sr_peer_get_cached(a, published_id, 32, &cached));
  SrPacketView v;
  memset(&v, 0, sizeof v);
  v.struct_size = sizeof v;
  OK(sr_packet_decode(cached.ptr, cached.len, &v));
  CHECK(v.packet_type == 5);
  uint8_t nope[32] = {0};
  EXPECT(sr_peer_get_cached(a, nope, 32, &cached), SR_STATUS_EMPTY);
  EXPECT(sr_peer_get_cached(a, NULL, 32, &cached), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_get_cached(a, nope, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  SrIdList cids = {NULL, 0};
  OK(sr_peer_cached_ids(b, &cids));
  int in_b = 0;
  for (size_t i = 0; i < cids.len; i++)
    if (cids.ids[i].len == 32 && memcmp(cids.ids[i].ptr, published_id, 32) == 0) in_b = 1;
  CHECK(in_b);
  SrIdList un = {NULL, 0};
  OK(sr_peer_unpublished_ids(a, &un));
  CHECK(un.len == 0); /* it reached somebody */
  SrBytes hash = {NULL, 0};
  OK(sr_peer_cache_summary_hash(a, &hash));
  CHECK(hash.len == 40);
  EXPECT(sr_peer_cached_ids(a, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_unpublished_ids(a, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_cache_summary_hash(a, NULL), SR_STATUS_NULL_ARGUMENT);

  /* A message too big for one packet goes as a chain. */
  static uint8_t big[5000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i % 251);
  SrPublishOptions opt;
  memset(&opt, 0, sizeof opt);
  opt.struct_size = sizeof opt;
  opt.ttl_ms = 60000;
  opt.meta_json.ptr = (const uint8_t *)"{\"kind\":\"blob\"}";
  opt.meta_json.len = strlen("{\"kind\":\"blob\"}");
  OK(sr_peer_publish(a, now, key, 32, (const uint8_t *)"greeting", 8, big, sizeof big, &opt,
                     &ids));
  CHECK(ids.len > 1);
  pump(nodes, 3, now);
  CHECK(nodes[2].kinds[SR_EVENT_KIND_PACKET] == 2);
  CHECK(nodes[2].payload_len == sizeof big && memcmp(nodes[2].payload, big, sizeof big) == 0);
  CHECK(nodes[2].has_head_id);

  /* Stream from B to A. */
  const char *smsg = "just for a";
  OK(sr_peer_stream(b, now, a_id, 32, key, 32, (const uint8_t *)"greeting", 8,
                    (const uint8_t *)smsg, strlen(smsg), NULL, NULL));
  pump(nodes, 3, now);
  CHECK(nodes[1].kinds[SR_EVENT_KIND_PACKET] == 1);
  CHECK(nodes[1].has_stream_from && memcmp(nodes[1].stream_from, b_id, 32) == 0);
  CHECK(nodes[1].payload_len == strlen(smsg) &&
        memcmp(nodes[1].payload, smsg, strlen(smsg)) == 0);
  CHECK(memcmp(nodes[1].publisher, pk_b, 32) == 0);

  /* Query: B asks for a packet nobody has; someone tells its host. */
  char q[128];
  snprintf(q, sizeof q, "{\"packetId\":\"%064d\"}", 7);
  uint8_t qid[SR_MAX_ID_LEN];
  size_t qid_len = 0;
  OK(sr_peer_query(b, now, (const uint8_t *)q, strlen(q), qid, sizeof qid, &qid_len));
  CHECK(qid_len == 32);
  pump(nodes, 3, now);
  int asked = -1;
  for (int i = 0; i < 3; i++)
    if (nodes[i].kinds[SR_EVENT_KIND_QUERY] > 0) asked = i;
  CHECK(asked >= 0 && asked != 2);
  if (asked >= 0) {
    /* Its host answers; the answer comes back to B. */
    CHECK(nodes[asked].query_id_len == qid_len &&
          memcmp(nodes[asked].query_id, qid, qid_len) == 0);
    OK(sr_peer_answer(nodes[asked].peer, now, nodes[asked].query_id,
                      nodes[asked].query_id_len, (const uint8_t *)"42", 2, &ids));
    CHECK(ids.len == 1);
    pump(nodes, 3, now);
    CHECK(nodes[2].kinds[SR_EVENT_KIND_ANSWER] >= 1);
    CHECK(nodes[2].answer_query_id_len == qid_len &&
          memcmp(nodes[2].answer_query_id, qid, qid_len) == 0);
    CHECK(nodes[2].answer_len == 2);
  }
  /* The same question again at once: refused. */
  EXPECT(sr_peer_query(b, now, (const uint8_t *)q, strlen(q), qid, sizeof qid, &qid_len),
         SR_STATUS_DUPLICATE_QUERY);

  /* Sync. */
  OK(sr_peer_sync(a, now, b_id, 32));
  pump(nodes, 3, now);
  SrMetrics m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  OK(sr_peer_get_metrics(a, &m));
  CHECK(m.syncs_started >= 1 && m.published >= 1);
  OK(sr_peer_get_metrics(b, &m));
  CHECK(m.delivered == 2);
  SrOccupancy o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  OK(sr_peer_get_occupancy(b, &o));
  CHECK(o.cache_packets >= 1 && o.delivered >= 1);

  /* Refusals. */
  const uint8_t *nm = (const uint8_t *)"greeting";
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 0, (const uint8_t *)"x", 1, NULL, NULL),
         SR_STATUS_PACK_FAILED);
  static uint8_t huge[1100000];
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, huge, sizeof huge, NULL, NULL),
         SR_STATUS_TOO_LARGE);
  EXPECT(sr_peer_publish(a, now, key, 16, nm, 8, huge, 1, NULL, NULL), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_publish(a, now, NULL, 32, nm, 8, huge, 1, NULL, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_publish(a, now, key, 32, NULL, 8, huge, 1, NULL, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, NULL, 1, NULL, NULL), SR_STATUS_NULL_ARGUMENT);
  const uint8_t bad_utf8[] = {0xc3, 0x28};
  EXPECT(sr_peer_publish(a, now, key, 32, bad_utf8, 2, huge, 1, NULL, NULL),
         SR_STATUS_INVALID_UTF8);
  SrPublishOptions bad = opt;
  bad.struct_size = 8;
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, huge, 1, &bad, NULL), SR_STATUS_INVALID_ARGUMENT);
  bad = opt;
  bad.meta_json.ptr = (const uint8_t *)"{nope";
  bad.meta_json.len = 5;
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, big, 2000, &bad, NULL), SR_STATUS_INVALID_JSON);
  bad = opt;
  bad.parent.ptr = nope;
  bad.parent.len = 32;
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, huge, 1, &bad, NULL), SR_STATUS_UNKNOWN_PACKET);
  bad.parent.len = 33;
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, huge, 1, &bad, NULL), SR_STATUS_INVALID_ARGUMENT);
  bad = opt;
  bad.next_id.ptr = NULL;
  bad.next_id.len = 3;
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, huge, 1, &bad, NULL), SR_STATUS_NULL_ARGUMENT);
  /* The introducer has no cluster, and no signing keys. */
  EXPECT(sr_peer_publish(nodes[0].peer, now, key, 32, nm, 8, huge, 1, NULL, NULL),
         SR_STATUS_NO_CLUSTER);
  bad = opt;
  bad.has_cluster_id = 1;
  memcpy(bad.cluster_id, cluster, 32);
  EXPECT(sr_peer_publish(nodes[0].peer, now, key, 32, nm, 8, huge, 1, &bad, NULL),
         SR_STATUS_NO_SIGNING_KEYS);
  EXPECT(sr_peer_publish(NULL, now, key, 32, nm, 8, huge, 1, NULL, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_stream(a, now, nope, 32, key, 32, nm, 8, huge, 1, NULL, NULL),
         SR_STATUS_UNKNOWN_PEER);
  EXPECT(sr_peer_stream(a, now, NULL, 32, key, 32, nm, 8, huge, 1, NULL, NULL),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_stream(a, now, b_id, 31, key, 32, nm, 8, huge, 1, NULL, NULL),
         SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_peer_stream(NULL, now, b_id, 32, key, 32, nm, 8, huge, 1, NULL, NULL),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_sync(a, now, nope, 32), SR_STATUS_UNKNOWN_PEER);
  EXPECT(sr_peer_sync(a, now, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_sync(NULL, now, b_id, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_answer(a, now, nope, 32, (const uint8_t *)"x", 1, NULL), SR_STATUS_UNKNOWN_QUERY);
  EXPECT(sr_peer_answer(a, now, NULL, 32, (const uint8_t *)"x", 1, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_answer(NULL, now, nope, 32, (const uint8_t *)"x", 1, NULL),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_query(b, now, (const uint8_t *)"[1]", 3, qid, sizeof qid, &qid_len),
         SR_STATUS_INVALID_JSON);
  EXPECT(sr_peer_query(b, now, (const uint8_t *)"{", 1, qid, sizeof qid, &qid_len),
         SR_STATUS_INVALID_JSON);
  EXPECT(sr_peer_query(b, now, (const uint8_t *)"{}", 2, qid, 16, &qid_len),
         SR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(sr_peer_query(b, now, NULL, 2, qid, sizeof qid, &qid_len), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_query(b, now, (const uint8_t *)"{}", 2, NULL, 32, &qid_len),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_query(b, now, (const uint8_t *)"{}", 2, qid, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_peer_query(NULL, now, (const uint8_t *)"{}", 2, qid, 32, &qid_len),
         SR_STATUS_NULL_ARGUMENT);
  char long_q[1200];
  memset(long_q, ' ', sizeof long_q);
  long_q[0] = '{';
  memcpy(long_q + 1, "\"x\":\"", 5);
  memset(long_q + 6, 'y', sizeof long_q - 8);
  long_q[sizeof long_q - 2] = '"';
  long_q[sizeof long_q - 1] = '}';
  EXPECT(sr_peer_query(b, now, (const uint8_t *)long_q, sizeof long_q, qid, 32, &qid_len),
         SR_STATUS_TOO_LARGE);
  OK(sr_peer_close(a, now));
  EXPECT(sr_peer_publish(a, now, key, 32, nm, 8, huge, 1, NULL, NULL), SR_STATUS_CLOSED);
  EXPECT(sr_peer_sync(a, now, b_id, 32), SR_STATUS_CLOSED);
  for (int i = 0; i < 3; i++) OK(sr_peer_free(nodes[i].peer));
}

/* ------------------------------------------------------------------ */
/* Firewall, re-entry, panics, threads, signals.                        */
/* ------------------------------------------------------------------ */

typedef struct {
  SrPeer *peer;
  int calls;
  int allow;
  uint8_t last_type;
  SrRemote last_remote;
  SrStatus reentry_timeout, reentry_free, reentry_event;
} FirewallState;

static bool firewall(void *user, const SrPacketView *packet, const SrRemote *remote,
                     SrSocketId socket) {
  FirewallState *fw = user;
  fw->calls++;
  fw->last_type = packet->packet_type;
  fw->last_remote = *remote;
  (void)socket;
  /* A call that interrupts the running one, on the same handle. */
  fw->reentry_timeout = sr_peer_handle_timeout(fw->peer, 0);
  fw->reentry_free = sr_peer_free(fw->peer);
  SrEvent e = new_event();
  fw->reentry_event = sr_peer_poll_event(fw->peer, &e);
  return fw->allow;
}

static void test_firewall_and_reentry(void) {
  SrPeer *p = make_introducer(9000);
  drain_events(p);
  uint8_t good[SR_MAX_DATAGRAM_LEN];
  size_t len = first_datagram(good, sizeof good);
  SrRemote from = v4(198, 51, 100, 9, 4444);
  FirewallState fw;
  memset(&fw, 0, sizeof fw);
  fw.peer = p;
  fw.allow = 0;
  OK(sr_peer_set_firewall(p, firewall, &fw));
  OK(sr_peer_handle_datagram(p, 1, MAIN_SOCKET, &from, good, len));
  CHECK(fw.calls == 1);
  CHECK(fw.last_type == 1);
  CHECK(remote_eq(&fw.last_remote, &from));
  /* Re-entry is refused, and the handle survives (free included). */
  CHECK(fw.reentry_timeout == SR_STATUS_BUSY);
  CHECK(fw.reentry_free == SR_STATUS_BUSY);
  CHECK(fw.reentry_event == SR_STATUS_BUSY);
  SrMetrics m;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  OK(sr_peer_get_metrics(p, &m));
  CHECK(m.drops[SR_DROP_REASON_FIREWALL] == 1);
  SrSocketId s;
  SrRemote r;
  size_t n;
  uint8_t out[SR_MAX_DATAGRAM_LEN];
  EXPECT(sr_peer_poll_transmit(p, 1, &s, &r, out, sizeof out, &n), SR_STATUS_EMPTY);
  /* Allowed: answered. */
  fw.allow = 1;
  OK(sr_peer_handle_datagram(p, 2, MAIN_SOCKET, &from, good, len));
  CHECK(fw.calls == 2);
  OK(sr_peer_poll_transmit(p, 2, &s, &r, out, sizeof out, &n));
  /* Removed: not called. */
  OK(sr_peer_set_firewall(p, NULL, NULL));
  OK(sr_peer_handle_datagram(p, 3, MAIN_SOCKET, &from, good, len));
  CHECK(fw.calls == 2);
  OK(sr_peer_free(p));
}

static void test_panic_poisons(void) {
  EXPECT(sr_test_panic(NULL), SR_STATUS_PANIC);
  SrPeer *p = make_introducer(9000);
  EXPECT(sr_test_panic(p), SR_STATUS_PANIC);
  uint64_t t;
  EXPECT(sr_peer_poll_timeout(p, &t), SR_STATUS_POISONED);
  EXPECT(sr_peer_handle_timeout(p, 0), SR_STATUS_POISONED);
  EXPECT(sr_test_panic(p), SR_STATUS_POISONED);
  /* Other handles are unaffected. */
  SrPeer *q = make_introducer(9001);
  OK(sr_peer_handle_timeout(q, 0));
  OK(sr_peer_free(q));
  OK(sr_peer_free(p));
  EXPECT(sr_peer_free(p), SR_STATUS_INVALID_HANDLE);
}

typedef struct {
  SrPeer *peer;
  pthread_mutex_t *lock;
  int ok, busy, other;
} Worker;

static void *worker(void *arg) {
  Worker *w = arg;
  uint8_t buf[SR_MAX_DATAGRAM_LEN];
  SrSocketId s;
  SrRemote r;
  size_t n;
  uint64_t t;
  for (int i = 0; i < 2000; i++) {
    if (w->lock) pthread_mutex_lock(w->lock);
    SrStatus st;
    if (i % 3 == 0)
      st = sr_peer_handle_timeout(w->peer, (uint64_t)i * 100);
    else if (i % 3 == 1)
      st = sr_peer_poll_timeout(w->peer, &t);
    else
      st = sr_peer_poll_transmit(w->peer, 0, &s, &r, buf, sizeof buf, &n);
    if (w->lock) pthread_mutex_unlock(w->lock);
    if (st == SR_STATUS_OK || st == SR_STATUS_EMPTY)
      w->ok++;
    else if (st == SR_STATUS_BUSY)
      w->busy++;
    else
      w->other++;
  }
  return NULL;
}

/* Two threads on one handle: with a lock every call succeeds; without, the
 * overlapping calls are refused with SR_STATUS_BUSY and nothing breaks. */
static void test_threads(void) {
  uint8_t cluster[32], intro_id[32];
  memset(cluster, 0xc1, 32);
  id_of("introducer", intro_id);
  SrConfig *c = make_config("threads", cluster, 9001, intro_id, 9000);
  SrPeer *p = make_peer(c, 8);
  sr_config_free(c);
  pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  for (int locked = 1; locked >= 0; locked--) {
    Worker w[2];
    memset(w, 0, sizeof w);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
      w[i].peer = p;
      w[i].lock = locked ? &lock : NULL;
      REQUIRE(pthread_create(&th[i], NULL, worker, &w[i]) == 0);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(w[0].other == 0 && w[1].other == 0);
    if (locked) CHECK(w[0].ok == 2000 && w[1].ok == 2000);
    CHECK(w[0].ok + w[0].busy == 2000 && w[1].ok + w[1].busy == 2000);
  }
  uint64_t t;
  OK(sr_peer_poll_timeout(p, &t)); /* still a working handle */
  OK(sr_peer_free(p));
}

static volatile sig_atomic_t g_alarms;
static void on_alarm(int sig) {
  (void)sig;
  g_alarms++;
}

/* Calls interrupted by signals (a 200 µs interval timer) complete normally:
 * the library never blocks, so there is no EINTR to report. */
static void test_signals_interrupt_calls(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sigemptyset(&sa.sa_mask);
  REQUIRE(sigaction(SIGALRM, &sa, NULL) == 0);
  struct itimerval it = {{0, 200}, {0, 200}};
  REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
  uint8_t cluster[32], intro_id[32];
  memset(cluster, 0xc1, 32);
  id_of("introducer", intro_id);
  int bad = 0;
  for (int round = 0; round < 50 && (round < 5 || g_alarms < 5); round++) {
    SrConfig *c = make_config("signals", cluster, 9001, intro_id, 9000);
    SrPeer *p = make_peer(c, 10);
    sr_config_free(c);
    for (int i = 0; i < 200; i++) {
      uint8_t buf[SR_MAX_DATAGRAM_LEN];
      SrSocketId s;
      SrRemote r;
      size_t n;
      if (sr_peer_handle_timeout(p, (uint64_t)i * 30000) != SR_STATUS_OK) bad++;
      SrStatus st;
      while ((st = sr_peer_poll_transmit(p, 0, &s, &r, buf, sizeof buf, &n)) == SR_STATUS_OK) {
      }
      if (st != SR_STATUS_EMPTY) bad++;
    }
    size_t snap = 0;
    if (sr_peer_snapshot(p, 1, NULL, 0, &snap) != SR_STATUS_BUFFER_TOO_SMALL) bad++;
    if (sr_peer_free(p) != SR_STATUS_OK) bad++;
  }
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  /* Ignored, not default: a signal still pending must not end the run. */
  signal(SIGALRM, SIG_IGN);
  CHECK(bad == 0);
  CHECK(g_alarms > 0);
}

#ifdef STREAMRELAY_VECTORS
static int g_lines;
static void on_line(void *user, const char *line, size_t len) {
  (void)user;
  (void)line;
  (void)len;
  g_lines++;
}

static void test_vectors_entry_point(void) {
  SrVectorReport r;
  memset(&r, 0, sizeof r);
  r.struct_size = sizeof r;
  const char *missing = "/nonexistent/vectors.json";
  EXPECT(sr_vectors_check_file((const uint8_t *)missing, strlen(missing), on_line, NULL, &r),
         SR_STATUS_VECTOR_FILE);
  EXPECT(sr_vectors_check_file(NULL, 3, on_line, NULL, &r), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_vectors_check_file((const uint8_t *)missing, strlen(missing), NULL, NULL, NULL),
         SR_STATUS_NULL_ARGUMENT);
  const uint8_t bad[] = {0xff, 0xfe};
  EXPECT(sr_vectors_check_file(bad, 2, NULL, NULL, &r), SR_STATUS_INVALID_UTF8);
  r.struct_size = 4;
  EXPECT(sr_vectors_check_file((const uint8_t *)missing, strlen(missing), NULL, NULL, &r),
         SR_STATUS_INVALID_ARGUMENT);
  /* A file that is JSON but not a vector file. */
  char path[] = "/tmp/sr-test-vectors-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  FILE *f = fdopen(fd, "w");
  fputs("{\"format\": \"something else\", \"cases\": []}", f);
  fclose(f);
  r.struct_size = sizeof r;
  EXPECT(sr_vectors_check_file((const uint8_t *)path, strlen(path), NULL, NULL, &r),
         SR_STATUS_VECTOR_FILE);
  /* A minimal valid file with one passing case. */
  f = fopen(path, "w");
  fputs("{\"format\": \"latica-oracle-vectors/1\", \"fixedNow\": 0, \"cases\": ["
        "{\"name\": \"id\", \"kind\": \"crypto.createId\", \"input\": {\"value\": "
        "{\"str\": \"abc\"}}, \"expected\": {\"id\": {\"str\": "
        "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"}}},"
        "{\"name\": \"wrong\", \"kind\": \"crypto.createId\", \"input\": {\"value\": "
        "{\"str\": \"abc\"}}, \"expected\": {\"id\": {\"str\": \"00\"}}}]}",
        f);
  fclose(f);
  SrStatus st = sr_vectors_check_file((const uint8_t *)path, strlen(path), on_line, NULL, &r);
  OK(st);
  CHECK(r.passed == 1 && r.failed == 1 && r.deviations == 0);
  CHECK(g_lines == 1); /* the failure's line */
  remove(path);
}
#endif

/* ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  void (*fn)(void);
} Test;

int main(void) {
  const Test tests[] = {
      {"version", test_version},
      {"status_names", test_status_names},
      {"config_lifecycle", test_config_lifecycle},
      {"bad_handles", test_bad_handles},
      {"config_setters", test_config_setters},
      {"peer_new_refusals", test_peer_new_refusals},
      {"null_peer_everywhere", test_null_peer_everywhere},
      {"null_out_pointers", test_null_out_pointers},
      {"introducer_ready_event", test_introducer_ready_event},
      {"three_peers_meet", test_three_peers_meet},
      {"poll_transmit_buffers", test_poll_transmit_buffers},
      {"malformed_datagrams", test_malformed_datagrams},
      {"ipv6_remotes", test_ipv6_remotes},
      {"timeouts_and_close", test_timeouts_and_close},
      {"commands", test_commands},
      {"snapshot_restore", test_snapshot_restore},
      {"keys", test_keys},
      {"packets", test_packets},
      {"data_plane_config", test_data_plane_config},
      {"data_plane", test_data_plane},
      {"firewall_and_reentry", test_firewall_and_reentry},
      {"panic_poisons", test_panic_poisons},
      {"threads", test_threads},
      {"signals_interrupt_calls", test_signals_interrupt_calls},
#ifdef STREAMRELAY_VECTORS
      {"vectors_entry_point", test_vectors_entry_point},
#endif
  };
  int passed = 0, failed = 0;
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    g_test_failed = 0;
    tests[i].fn();
    if (g_test_failed) {
      failed++;
      printf("FAIL %s\n", tests[i].name);
    } else {
      passed++;
      printf("ok   %s\n", tests[i].name);
    }
  }
  /* Every handle made was freed. */
  g_test_failed = 0;
  CHECK(sr_live_handles() == 0);
  if (g_test_failed) {
    failed++;
    printf("FAIL no_live_handles_left (%zu live)\n", sr_live_handles());
  } else {
    passed++;
    printf("ok   no_live_handles_left\n");
  }
  printf("%d checks, %d failed\n", g_checks, g_check_failures);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
