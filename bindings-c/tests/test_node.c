/*
 * The C tests of the ready host, `sr_node_*` (plain C11 + POSIX).
 *
 * - hostile arguments: NULL for each pointer, garbage, freed and
 *   wrong-type handles, bad UTF-8, huge lengths, small buffers;
 * - an introducer and two nodes on 127.0.0.1 (real UDP sockets, each
 *   node's own loop thread) exchange subcluster messages both ways; the
 *   test reads events from ONE poll(2) loop over both nodes' event fds,
 *   and counts the event callback's calls;
 * - a node restarted from its state file keeps its identity (and its
 *   subcluster); a file that is not a state file is reported and replaced;
 * - threads: commands from four threads at once (never BUSY), one event
 *   reader at a time (a second one is told BUSY), a node freed while
 *   another thread waits for ever on it (the wait ends);
 * - links: two nodes with no UDP path reach each other over a socketpair
 *   (an L2CAP channel's stand-in) and a subcluster message crosses it;
 *   garbage and a bad frame on another link are skipped and counted; a
 *   link whose other end closes is reported (SR_NODE_EVENT_KIND_LINK_CLOSED).
 *
 * Every wait is bounded (20 s). Ends with "N passed, N failed" (one count
 * per test function) and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "streamrelay.h"

#include "check.h"

#define WAIT_MS 20000

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void text_key(SrStatus (*f)(uint32_t, const uint8_t *, size_t,
                                   uint8_t *, size_t),
                     const char *seed, uint8_t out[32]) {
  REQUIRE(f(SR_SEED_KIND_TEXT, (const uint8_t *)seed, strlen(seed), out, 32) ==
          SR_STATUS_OK);
}

static SrRemote loopback(uint16_t port) {
  SrRemote r;
  memset(&r, 0, sizeof r);
  r.kind = SR_REMOTE_KIND_IPV4;
  r.addr[0] = 127;
  r.addr[3] = 1;
  r.port = port;
  return r;
}

static SrNodeEvent new_event(void) {
  SrNodeEvent e;
  memset(&e, 0, sizeof e);
  e.struct_size = sizeof e;
  return e;
}

/* A config for the test cluster; the introducer when `intro` is NULL. */
static SrConfig *make_config(const SrNode *intro) {
  uint8_t id[32] = {0}, cluster[32];
  SrConfig *c = NULL;
  REQUIRE(sr_config_new(id, 32, &c) == SR_STATUS_OK);
  /* Static NAT type on 127.0.0.1: ready at once, reached where bound. */
  OK(sr_config_set_nat_type(c, SR_NAT_TYPE_UNRESTRICTED));
  OK(sr_config_set_keepalive_ms(c, 2000));
  if (intro == NULL) {
    OK(sr_config_set_indexed(c, true));
  } else {
    uint8_t iid[32];
    SrRemote where;
    text_key(sr_create_cluster_id, "c node tests", cluster);
    OK(sr_config_set_cluster_id(c, cluster, 32));
    OK(sr_node_get_id(intro, iid, sizeof iid));
    OK(sr_node_local_address(intro, &where));
    OK(sr_config_add_introducer(c, iid, 32, &where));
  }
  return c;
}

static atomic_int g_callbacks;

static void on_event(void *context) {
  atomic_fetch_add((atomic_int *)context, 1);
}

/* Starts a node on 127.0.0.1 (port chosen by the OS). */
static SrNode *start_node(const SrNode *intro, const char *state_file,
                          int with_callback) {
  SrNodeBuilder *b = NULL;
  SrConfig *c = make_config(intro);
  SrRemote bind = loopback(0);
  SrNode *n = NULL;
  REQUIRE(sr_node_builder_new(&b) == SR_STATUS_OK);
  OK(sr_node_builder_set_config(b, c));
  OK(sr_node_builder_set_bind(b, &bind));
  if (state_file)
    OK(sr_node_builder_set_state_file(b, (const uint8_t *)state_file,
                                      strlen(state_file)));
  if (with_callback)
    OK(sr_node_builder_set_event_callback(b, on_event, &g_callbacks));
  REQUIRE(sr_node_start(b, &n) == SR_STATUS_OK);
  OK(sr_node_builder_free(b));
  OK(sr_config_free(c));
  return n;
}

static void test_hostile_arguments(void) {
  SrNodeBuilder *b = NULL;
  SrNode *n = NULL;
  SrNodeEvent ev = new_event();
  uint8_t buf[64], key[32] = {0};
  size_t len = 0;
  int fd = -1;

  /* NULL everywhere. */
  EXPECT(sr_node_builder_new(NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_builder_set_config(NULL, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_start(NULL, &n), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_get_id(NULL, buf, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_join(NULL, key, 32, NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_publish(NULL, key, 32, (const uint8_t *)"e", 1, NULL, 0),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_next_event(NULL, 0, &ev), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_event_fd(NULL, &fd), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_status_json(NULL, buf, sizeof buf, &len),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_close(NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_network_changed(NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_free(NULL), SR_STATUS_OK);
  EXPECT(sr_node_builder_free(NULL), SR_STATUS_OK);

  /* Garbage and wrong-type handles are refused, not dereferenced. */
  EXPECT(sr_node_close((SrNode *)(uintptr_t)0x1000), SR_STATUS_INVALID_HANDLE);
  REQUIRE(sr_node_builder_new(&b) == SR_STATUS_OK);
  EXPECT(sr_node_close((SrNode *)b), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_node_builder_set_seed((SrNodeBuilder *)(uintptr_t)0x2000, key, 32),
         SR_STATUS_INVALID_HANDLE);

  /* Bad values on the builder. */
  EXPECT(sr_node_builder_set_peer_id(b, key, 31), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_node_builder_set_peer_id(b, NULL, 32), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_builder_set_state_file(b, (const uint8_t *)"\xff\xfe", 2),
         SR_STATUS_INVALID_UTF8);
  EXPECT(sr_node_builder_set_state_file(b, (const uint8_t *)"a\0b", 3),
         SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_node_builder_set_state_file(b, (const uint8_t *)"x", SIZE_MAX),
         SR_STATUS_INVALID_ARGUMENT);
  {
    SrRemote link;
    memset(&link, 0, sizeof link);
    link.kind = SR_REMOTE_KIND_LINK;
    EXPECT(sr_node_builder_set_bind(b, &link), SR_STATUS_INVALID_ARGUMENT);
    link.kind = 99;
    EXPECT(sr_node_builder_set_bind(b, &link), SR_STATUS_INVALID_ARGUMENT);
  }
  /* No cluster id and not an introducer: the Peer refuses the config. */
  {
    SrRemote bind = loopback(0);
    OK(sr_node_builder_set_bind(b, &bind));
    EXPECT(sr_node_start(b, &n), SR_STATUS_INVALID_CONFIG);
    CHECK(n == NULL);
  }
  OK(sr_node_builder_free(b));
  EXPECT(sr_node_builder_free(b), SR_STATUS_INVALID_HANDLE);

  /* A live node: bad arguments to each call. */
  n = start_node(NULL, NULL, 0);
  EXPECT(sr_node_get_id(n, buf, 31), SR_STATUS_BUFFER_TOO_SMALL);
  EXPECT(sr_node_join(n, key, 33, NULL), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_node_join(n, key, 32, NULL), SR_STATUS_NO_CLUSTER);
  EXPECT(sr_node_publish(n, key, 32, (const uint8_t *)"\xc0", 1, NULL, 0),
         SR_STATUS_INVALID_UTF8);
  EXPECT(sr_node_publish(n, key, 32, (const uint8_t *)"e", 1, NULL, 5),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_publish(n, key, 32, (const uint8_t *)"e", 1, buf, SIZE_MAX),
         SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_node_sync(n, key, 32), SR_STATUS_UNKNOWN_PEER);
  EXPECT(sr_node_leave(n, key, 32), SR_STATUS_EMPTY);
  {
    size_t qlen = 0;
    EXPECT(sr_node_query(n, (const uint8_t *)"not json", 8, buf, sizeof buf,
                         &qlen),
           SR_STATUS_INVALID_JSON);
    EXPECT(sr_node_query(n, (const uint8_t *)"{}", 2, buf, 4, &qlen),
           SR_STATUS_BUFFER_TOO_SMALL);
  }
  /* Caller buffers: the size needed is reported, nothing copied. */
  EXPECT(sr_node_status_json(n, NULL, 0, &len), SR_STATUS_BUFFER_TOO_SMALL);
  CHECK(len > 100);
  EXPECT(sr_node_status_json(n, buf, sizeof buf, NULL),
         SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_snapshot(n, NULL, 0, &len), SR_STATUS_BUFFER_TOO_SMALL);
  CHECK(len > 0);
  ev.struct_size = 4;
  EXPECT(sr_node_next_event(n, 0, &ev), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_node_next_event(n, 0, NULL), SR_STATUS_NULL_ARGUMENT);
  ev = new_event();
  EXPECT(sr_node_save(n), SR_STATUS_EMPTY); /* no state file */
  OK(sr_node_network_changed(n));
  OK(sr_node_close(n));
  EXPECT(sr_node_close(n), SR_STATUS_CLOSED);
  EXPECT(sr_node_join(n, key, 32, NULL), SR_STATUS_CLOSED);
  /* Events queued before the close stay readable; CLOSED comes last. */
  {
    int seen_closed = 0, guard = 0;
    SrStatus s;
    while ((s = sr_node_next_event(n, 0, &ev)) == SR_STATUS_OK && guard++ < 1000)
      if (ev.kind == SR_NODE_EVENT_KIND_PEER &&
          ev.event.kind == SR_EVENT_KIND_CLOSED)
        seen_closed = 1;
    CHECK(seen_closed);
    EXPECT(s, SR_STATUS_CLOSED);
    EXPECT(sr_node_next_event(n, SR_NODE_WAIT_FOREVER, &ev), SR_STATUS_CLOSED);
  }
  OK(sr_node_free(n));
  EXPECT(sr_node_free(n), SR_STATUS_INVALID_HANDLE);
  EXPECT(sr_node_get_id(n, buf, 32), SR_STATUS_INVALID_HANDLE);
}

/* What one node of the exchange got. */
typedef struct {
  SrNode *node;
  int fd;
  int got;       /* the other's message arrived */
  int ready;
  const char *want;
} Side;

/* Reads every queued event of `s` (its fd was readable). */
static void drain(Side *s) {
  SrNodeEvent ev = new_event();
  int guard = 0;
  while (sr_node_next_event(s->node, 0, &ev) == SR_STATUS_OK && guard++ < 10000) {
    if (ev.kind != SR_NODE_EVENT_KIND_PEER)
      continue;
    if (ev.event.kind == SR_EVENT_KIND_READY)
      s->ready = 1;
    if (ev.event.kind == SR_EVENT_KIND_PACKET) {
      const SrEventPacket *p = &ev.event.data.packet;
      if (p->payload.len == strlen(s->want) &&
          memcmp(p->payload.ptr, s->want, p->payload.len) == 0)
        s->got = 1;
    }
  }
}

static int contains(const char *hay, size_t len, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = 0; i + n <= len; i++)
    if (memcmp(hay + i, needle, n) == 0)
      return 1;
  return 0;
}

static void hex(const uint8_t *b, size_t n, char *out) {
  static const char d[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = d[b[i] >> 4];
    out[2 * i + 1] = d[b[i] & 15];
  }
  out[2 * n] = 0;
}

static void test_exchange_over_udp(void) {
  uint8_t room[32], scid[32], bob_id[32];
  SrNode *intro = start_node(NULL, NULL, 0);
  Side alice = {start_node(intro, NULL, 0), -1, 0, 0, "hello from bob"};
  Side bob = {start_node(intro, NULL, 1), -1, 0, 0, "hello from alice"};
  text_key(sr_create_shared_key, "c node room", room);
  OK(sr_node_join(alice.node, room, 32, scid));
  OK(sr_node_join(bob.node, room, 32, NULL));
  /* Published before anyone is connected: kept and sent when peers come. */
  OK(sr_node_publish(bob.node, room, 32, (const uint8_t *)"greeting", 8,
                     (const uint8_t *)"hello from bob", 14));
  OK(sr_node_publish(alice.node, room, 32, (const uint8_t *)"greeting", 8,
                     (const uint8_t *)"hello from alice", 16));
  OK(sr_node_event_fd(alice.node, &alice.fd));
  OK(sr_node_event_fd(bob.node, &bob.fd));
  CHECK(alice.fd >= 0 && bob.fd >= 0 && alice.fd != bob.fd);

  /* One poll loop over both nodes' event fds. */
  uint64_t end = now_ms() + WAIT_MS;
  int wakeups = 0;
  while (!(alice.got && bob.got) && now_ms() < end) {
    struct pollfd fds[2] = {{alice.fd, POLLIN, 0}, {bob.fd, POLLIN, 0}};
    int r = poll(fds, 2, (int)(end - now_ms()));
    if (r < 0)
      break;
    wakeups++;
    if (fds[0].revents & POLLIN)
      drain(&alice);
    if (fds[1].revents & POLLIN)
      drain(&bob);
  }
  CHECK(alice.got);
  CHECK(bob.got);
  CHECK(atomic_load(&g_callbacks) > 0);
  /* Drained: the fd is not readable any more (no busy loop). */
  {
    SrNodeEvent ev = new_event();
    while (sr_node_next_event(alice.node, 0, &ev) == SR_STATUS_OK) {
    }
    struct pollfd pf = {alice.fd, POLLIN, 0};
    int r = poll(&pf, 1, 0);
    CHECK(r == 0 || (r == 1 && sr_node_next_event(alice.node, 0, &ev) ==
                                   SR_STATUS_OK));
  }
  /* The status knows the other peer and counted the traffic. */
  {
    char json[16384], bob_hex[65];
    size_t len = 0;
    OK(sr_node_get_id(bob.node, bob_id, 32));
    hex(bob_id, 32, bob_hex);
    OK(sr_node_status_json(alice.node, (uint8_t *)json, sizeof json, &len));
    CHECK(len > 0 && len < sizeof json);
    CHECK(contains(json, len, bob_hex));
    CHECK(contains(json, len, "\"local\":\"127.0.0.1:"));
    CHECK(!contains(json, len, "\"datagrams_in\":0,"));
  }
  OK(sr_node_leave(alice.node, scid, 32));
  OK(sr_node_close(alice.node));
  OK(sr_node_free(alice.node));
  /* Free without close: closes. */
  OK(sr_node_free(bob.node));
  OK(sr_node_free(intro));
  printf("  exchange: %d poll wake-ups, %d callbacks\n", wakeups,
         atomic_load(&g_callbacks));
}

static void test_restart_keeps_identity(void) {
  char dir[] = "/tmp/sr-node-test-XXXXXX";
  char path[256];
  uint8_t room[32], scid[32], id1[32], id2[32];
  struct stat st;
  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/node.state", dir);
  SrNode *intro = start_node(NULL, NULL, 0);

  SrNode *n = start_node(intro, path, 0);
  OK(sr_node_get_id(n, id1, 32));
  text_key(sr_create_shared_key, "c node room", room);
  OK(sr_node_join(n, room, 32, scid));
  OK(sr_node_save(n));
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  OK(sr_node_close(n));
  OK(sr_node_free(n));

  n = start_node(intro, path, 0);
  OK(sr_node_get_id(n, id2, 32));
  CHECK(memcmp(id1, id2, 32) == 0);
  {
    /* Restored, not replaced; the subcluster came back with it. */
    char json[16384];
    size_t len = 0;
    OK(sr_node_status_json(n, (uint8_t *)json, sizeof json, &len));
    CHECK(contains(json, len, "\"restore_error\":null"));
    /* leave() says whether it was a member: it was, from the file. */
    OK(sr_node_leave(n, scid, 32));
    EXPECT(sr_node_leave(n, scid, 32), SR_STATUS_EMPTY);
  }
  OK(sr_node_free(n));

  /* A file that is not a state file: reported, a new identity, replaced. */
  {
    FILE *f = fopen(path, "wb");
    REQUIRE(f != NULL);
    fputs("not a state file", f);
    fclose(f);
    n = start_node(intro, path, 0);
    char json[16384];
    size_t len = 0;
    OK(sr_node_status_json(n, (uint8_t *)json, sizeof json, &len));
    CHECK(!contains(json, len, "\"restore_error\":null"));
    OK(sr_node_get_id(n, id2, 32));
    CHECK(memcmp(id1, id2, 32) != 0);
    OK(sr_node_close(n));
    OK(sr_node_free(n));
  }
  OK(sr_node_free(intro));
  unlink(path);
  rmdir(dir);
}

/* Commands from several threads at once on one node: never BUSY. */
typedef struct {
  SrNode *node;
  int busy;    /* calls that answered SR_STATUS_BUSY */
  int failed;  /* calls that answered another error */
} Hammer;

static void *hammer(void *arg) {
  Hammer *h = arg;
  uint8_t room[32], buf[4096];
  size_t len;
  text_key(sr_create_shared_key, "c node thread room", room);
  for (int i = 0; i < 200; i++) {
    SrStatus s[4] = {
        sr_node_status_json(h->node, buf, sizeof buf, &len),
        sr_node_join(h->node, room, 32, NULL),
        sr_node_network_changed(h->node),
        sr_node_get_id(h->node, buf, 32),
    };
    for (int k = 0; k < 4; k++) {
      if (s[k] == SR_STATUS_BUSY)
        h->busy++;
      else if (s[k] != SR_STATUS_OK && s[k] != SR_STATUS_BUFFER_TOO_SMALL)
        h->failed++;
    }
  }
  return NULL;
}

/* Waits for events (up to `ms`, or for ever), then reports what it got. */
typedef struct {
  SrNode *node;
  uint32_t ms;
  SrStatus last;
  atomic_int done;
} Reader;

static void *reader(void *arg) {
  Reader *r = arg;
  SrNodeEvent ev = new_event();
  while ((r->last = sr_node_next_event(r->node, r->ms, &ev)) == SR_STATUS_OK) {
  }
  atomic_store(&r->done, 1);
  return NULL;
}

static void test_threads(void) {
  SrNode *intro = start_node(NULL, NULL, 0);
  SrNode *n = start_node(intro, NULL, 0);
  Hammer h[4];
  pthread_t t[4];
  for (int i = 0; i < 4; i++) {
    h[i] = (Hammer){n, 0, 0};
    REQUIRE(pthread_create(&t[i], NULL, hammer, &h[i]) == 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK(h[i].busy == 0);
    CHECK(h[i].failed == 0);
  }

  /* Events have one reader at a time: a second one is told BUSY. */
  {
    SrNodeEvent ev = new_event();
    while (sr_node_next_event(n, 0, &ev) == SR_STATUS_OK) {
    }
    Reader r = {n, 1500, SR_STATUS_OK, 0};
    pthread_t rt;
    REQUIRE(pthread_create(&rt, NULL, reader, &r) == 0);
    int saw_busy = 0;
    /* The reader waits 1.5 s on an idle node: BUSY must be seen meanwhile. */
    while (!saw_busy && !atomic_load(&r.done)) {
      SrStatus s = sr_node_next_event(n, 0, &ev);
      saw_busy = s == SR_STATUS_BUSY;
      if (!saw_busy) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
      }
    }
    CHECK(saw_busy);
    pthread_join(rt, NULL);
    CHECK(r.last == SR_STATUS_EMPTY);
  }

  /* Freed while another thread waits for ever: the wait ends (the node
     closes), nothing dangles. */
  {
    Reader r = {n, SR_NODE_WAIT_FOREVER, SR_STATUS_OK, 0};
    pthread_t rt;
    REQUIRE(pthread_create(&rt, NULL, reader, &r) == 0);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    OK(sr_node_free(n));
    pthread_join(rt, NULL);
    CHECK(r.last == SR_STATUS_CLOSED || r.last == SR_STATUS_INVALID_HANDLE);
  }
  OK(sr_node_free(intro));
}

/* A node on 127.0.0.1 with id `own` that knows no one: no UDP path to
 * anyone. A link greets whoever is at its other end. */
static SrNode *start_link_node(const uint8_t own[32]) {
  uint8_t zero[32] = {0}, cluster[32];
  SrConfig *c = NULL;
  SrNodeBuilder *b = NULL;
  SrNode *n = NULL;
  SrRemote bind = loopback(0);
  REQUIRE(sr_config_new(zero, 32, &c) == SR_STATUS_OK);
  OK(sr_config_set_nat_type(c, SR_NAT_TYPE_UNRESTRICTED));
  OK(sr_config_set_keepalive_ms(c, 1000));
  text_key(sr_create_cluster_id, "c node tests", cluster);
  OK(sr_config_set_cluster_id(c, cluster, 32));
  REQUIRE(sr_node_builder_new(&b) == SR_STATUS_OK);
  OK(sr_node_builder_set_config(b, c));
  OK(sr_node_builder_set_bind(b, &bind));
  OK(sr_node_builder_set_peer_id(b, own, 32));
  REQUIRE(sr_node_start(b, &n) == SR_STATUS_OK);
  OK(sr_node_builder_free(b));
  OK(sr_config_free(c));
  return n;
}

/* The status JSON of `n` into `json` (NUL-terminated); its length. */
static size_t status_of(const SrNode *n, char *json, size_t cap) {
  size_t len = 0;
  if (sr_node_status_json(n, (uint8_t *)json, cap - 1, &len) != SR_STATUS_OK)
    return 0;
  json[len] = 0;
  return len;
}

/* Waits until `n`'s status contains every needle (and not `absent`). */
static int status_until(const SrNode *n, const char *needle, const char *needle2,
                        const char *absent) {
  static char json[32768];
  uint64_t end = now_ms() + WAIT_MS;
  while (now_ms() < end) {
    size_t len = status_of(n, json, sizeof json);
    if (len && contains(json, len, needle) &&
        (!needle2 || contains(json, len, needle2)) &&
        (!absent || !contains(json, len, absent)))
      return 1;
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
  printf("  status: %s\n", json);
  return 0;
}

/* Waits for a node event of `kind` (and, for a packet, that payload). */
static int event_until(const SrNode *n, SrNodeEventKind kind, SrEventKind peer_kind,
                       const char *payload, SrNodeEvent *out) {
  uint64_t end = now_ms() + WAIT_MS;
  while (now_ms() < end) {
    *out = new_event();
    SrStatus st = sr_node_next_event(n, 200, out);
    if (st == SR_STATUS_CLOSED)
      return 0;
    if (st != SR_STATUS_OK || out->kind != kind)
      continue;
    if (kind != SR_NODE_EVENT_KIND_PEER)
      return 1;
    if (out->event.kind != peer_kind)
      continue;
    const SrEventPacket *p = &out->event.data.packet;
    if (p->payload.len == strlen(payload) &&
        memcmp(p->payload.ptr, payload, p->payload.len) == 0)
      return 1;
  }
  return 0;
}

/* Two nodes with no UDP path reach each other over a socketpair (standing
 * in for a Bluetooth L2CAP channel); a subcluster message goes over it;
 * hostile bytes on another link are skipped and counted; a link whose
 * other end closes is reported. */
static void test_link_over_socketpair(void) {
  uint8_t a_id[32], b_id[32], room[32];
  char b_hex[65];
  memset(a_id, 0xa1, 32);
  memset(b_id, 0xb2, 32);
  hex(b_id, 32, b_hex);
  SrNode *a = start_link_node(a_id);
  SrNode *b = start_link_node(b_id);
  int sv[2], bad[2];
  uint64_t la = 0, lb = 0, lbad = 0;
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  /* Hostile arguments first. */
  EXPECT(sr_node_add_link_fd(a, -1, &la), SR_STATUS_INVALID_ARGUMENT);
  EXPECT(sr_node_add_link_fd(a, sv[0], NULL), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_add_link_fd(NULL, sv[0], &la), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_add_link_writer(a, NULL, NULL, &la), SR_STATUS_NULL_ARGUMENT);
  EXPECT(sr_node_remove_link(a, 99), SR_STATUS_UNKNOWN_LINK);
  EXPECT(sr_node_link_input(a, 99, (const uint8_t *)"x", 1), SR_STATUS_UNKNOWN_LINK);
  EXPECT(sr_node_link_writable(a, 99), SR_STATUS_UNKNOWN_LINK);

  OK(sr_node_add_link_fd(a, sv[0], &la));
  OK(sr_node_add_link_fd(b, sv[1], &lb));
  CHECK(la == 1 && lb == 1);
  /* Each greets the other over the link and hears the answer. */
  CHECK(status_until(a, b_hex, "\"connected\":true", NULL));
  text_key(sr_create_shared_key, "c link room", room);
  OK(sr_node_join(a, room, 32, NULL));
  OK(sr_node_join(b, room, 32, NULL));
  OK(sr_node_stream(a, b_id, 32, room, 32, (const uint8_t *)"island", 6,
                    (const uint8_t *)"hello over the link", 19));
  SrNodeEvent ev;
  CHECK(event_until(b, SR_NODE_EVENT_KIND_PEER, SR_EVENT_KIND_PACKET,
                    "hello over the link", &ev));
  /* Nothing went over UDP. */
  CHECK(status_until(a, "\"datagrams_out\":0,", "\"frames_dropped\":0", NULL));
  CHECK(status_until(a, "\"kind\":\"fd\"", NULL, NULL));

  /* Hostile bytes on a second link: 1000 bytes of garbage, then a frame
   * whose checksum is wrong. */
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, bad) == 0);
  OK(sr_node_add_link_fd(a, bad[0], &lbad));
  CHECK(lbad == 2);
  {
    uint8_t junk[1000 + 14];
    memset(junk, 'x', 1000);
    /* A5 5C, length 5, CRC-8 0x74 ("hello"'s header), "hello", bad CRC-32. */
    const uint8_t frame[14] = {0xA5, 0x5C, 0x00, 0x05, 0x74, 'h', 'e',
                               'l',  'l',  'o',  0,    0,    0,    0};
    memcpy(junk + 1000, frame, sizeof frame);
    CHECK(write(bad[1], junk, sizeof junk) == (ssize_t)sizeof junk);
  }
  CHECK(status_until(a, "\"skipped_bytes\":1014", "\"bad_checksum\":1", NULL));
  close(bad[1]);
  CHECK(event_until(a, SR_NODE_EVENT_KIND_LINK_CLOSED, 0, NULL, &ev));
  CHECK(ev.link_id == lbad && ev.error.len > 0);
  CHECK(status_until(a, "\"links_closed\":1", NULL, NULL));
  /* The first link still works. */
  OK(sr_node_remove_link(a, la));
  EXPECT(sr_node_remove_link(a, la), SR_STATUS_UNKNOWN_LINK);
  CHECK(event_until(b, SR_NODE_EVENT_KIND_LINK_CLOSED, 0, NULL, &ev));
  CHECK(ev.link_id == lb);
  OK(sr_node_free(a));
  OK(sr_node_free(b));
}

/* A bridge: `phone` has no UDP path to anyone, only a socketpair link to
 * `bridge`, which is on UDP with `far` through an introducer. A message
 * published on the Internet reaches the phone, and one published on the
 * phone reaches the Internet, both through the bridge. */
static void test_bridge_between_link_and_udp(void) {
  uint8_t phone_id[32], room[32];
  memset(phone_id, 0xc3, 32);
  SrNode *intro = start_node(NULL, NULL, 0);
  SrNode *bridge = start_node(intro, NULL, 0);
  SrNode *far = start_node(intro, NULL, 0);
  SrNode *phone = start_link_node(phone_id);
  int sv[2];
  uint64_t lp = 0, lb = 0;
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  OK(sr_node_add_link_fd(phone, sv[0], &lp));
  OK(sr_node_add_link_fd(bridge, sv[1], &lb));
  text_key(sr_create_shared_key, "c bridge room", room);
  OK(sr_node_join(phone, room, 32, NULL));
  OK(sr_node_join(bridge, room, 32, NULL));
  OK(sr_node_join(far, room, 32, NULL));
  char phone_hex[65];
  hex(phone_id, 32, phone_hex);
  CHECK(status_until(bridge, phone_hex, "\"connected\":true", NULL));
  OK(sr_node_publish(far, room, 32, (const uint8_t *)"news", 4,
                     (const uint8_t *)"from the internet", 17));
  SrNodeEvent ev;
  CHECK(event_until(phone, SR_NODE_EVENT_KIND_PEER, SR_EVENT_KIND_PACKET,
                    "from the internet", &ev));
  OK(sr_node_publish(phone, room, 32, (const uint8_t *)"news", 4,
                     (const uint8_t *)"from the island", 15));
  CHECK(event_until(far, SR_NODE_EVENT_KIND_PEER, SR_EVENT_KIND_PACKET,
                    "from the island", &ev));
  /* The phone sent nothing over UDP: all of it went over the link. */
  CHECK(status_until(phone, "\"datagrams_out\":0,", NULL, NULL));
  OK(sr_node_free(phone));
  OK(sr_node_free(far));
  OK(sr_node_free(bridge));
  OK(sr_node_free(intro));
}

int main(void) {
  struct {
    const char *name;
    void (*f)(void);
  } tests[] = {
      {"hostile_arguments", test_hostile_arguments},
      {"exchange_over_udp", test_exchange_over_udp},
      {"restart_keeps_identity", test_restart_keeps_identity},
      {"threads", test_threads},
      {"link_over_socketpair", test_link_over_socketpair},
      {"bridge_between_link_and_udp", test_bridge_between_link_and_udp},
  };
  int passed = 0, failed = 0;
  for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
    g_test_failed = 0;
    uint64_t t0 = now_ms();
    tests[i].f();
    printf("%s %s (%llu ms)\n", g_test_failed ? "FAIL" : "ok  ", tests[i].name,
           (unsigned long long)(now_ms() - t0));
    if (g_test_failed)
      failed++;
    else
      passed++;
  }
  CHECK(sr_live_handles() == 0);
  if (sr_live_handles() != 0) {
    printf("FAIL %zu handles not freed\n", sr_live_handles());
    failed++;
  }
  printf("%d checks, %d failed\n", g_checks, g_check_failures);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
