/*
 * The flow vectors (vectors/flows.json, format streamrelay-flows/1, see
 * vectors/README.md) replayed through the C ABI itself: each flow's config
 * and seed make an SrPeer, every input goes in at its time through
 * sr_peer_*, and what comes out (command result, transmits, events, next
 * deadline) is written in the flow format and compared byte for byte with
 * the recorded `expect`. Every flow: its behaviour switches are those of
 * one profile (sr_config_set_profile; a switch the profile does not give
 * would show as a different transmit), and the config fields the flows
 * change from the defaults (limits.poolSize, timings.sprayPorts) are set.
 * A command that fails must fail here too; its error text is not compared.
 * An Unopenable event's error is an SrOpenError here: it is written as the
 * core's text for the value the flows hold (a new one shows as a mismatch).
 *
 *   replay_flows vectors/flows.json      -> "N passed, N failed" (flows)
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "streamrelay.h"

/* ---- a small JSON reader over the file's text (enough for flows.json) --- */

static const char *ws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

/* The end of the value at p (after skipping blanks), or NULL. */
static const char *skip(const char *p) {
  p = ws(p);
  if (*p == '"') {
    for (p++; *p && *p != '"'; p++)
      if (*p == '\\' && p[1]) p++;
    return *p ? p + 1 : NULL;
  }
  if (*p == '{' || *p == '[') {
    char close = *p == '{' ? '}' : ']';
    p = ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
      if (close == '}') {
        p = skip(p); /* key */
        if (!p) return NULL;
        p = ws(p);
        if (*p != ':') return NULL;
        p++;
      }
      p = skip(p);
      if (!p) return NULL;
      p = ws(p);
      if (*p == ',') { p++; continue; }
      return *p == close ? p + 1 : NULL;
    }
  }
  if (!*p) return NULL;
  while (*p && !strchr(",]} \n\r\t", *p)) p++;
  return p;
}

/* obj[key], or NULL. */
static const char *get(const char *obj, const char *key) {
  if (!obj) return NULL;
  const char *p = ws(obj);
  if (*p != '{') return NULL;
  p = ws(p + 1);
  size_t n = strlen(key);
  while (*p == '"') {
    const char *k = p + 1, *e = skip(p);
    if (!e) return NULL;
    p = ws(e);
    if (*p != ':') return NULL;
    const char *v = ws(p + 1);
    if ((size_t)(e - 1 - k) == n && memcmp(k, key, n) == 0) return v;
    p = skip(v);
    if (!p) return NULL;
    p = ws(p);
    if (*p == ',') p = ws(p + 1);
  }
  return NULL;
}

static int is_null(const char *v) { return !v || strncmp(v, "null", 4) == 0; }

/* A string value (no escapes in flows.json's strings of interest). */
static size_t str(const char *v, char *out, size_t cap) {
  if (!v || *v != '"') return 0;
  size_t n = 0;
  for (v++; *v && *v != '"' && n + 1 < cap; v++) out[n++] = *v;
  out[n] = 0;
  return n;
}

static uint64_t num(const char *v) { return v ? strtoull(v, NULL, 10) : 0; }

static int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static size_t unhex(const char *v, uint8_t *out, size_t cap) {
  if (!v || *v != '"') return 0;
  size_t n = 0;
  for (v++; n < cap; v += 2) {
    int hi = nibble(v[0]), lo = hi < 0 ? -1 : nibble(v[1]);
    if (lo < 0) break;
    out[n++] = (uint8_t)(hi << 4 | lo);
  }
  return n;
}

/* "a.b.c.d:port", "[v6]:port" or "link:N". */
static SrRemote remote_of(const char *v) {
  char s[128];
  SrRemote r;
  memset(&r, 0, sizeof r);
  str(v, s, sizeof s);
  if (strncmp(s, "link:", 5) == 0) {
    r.kind = SR_REMOTE_KIND_LINK;
    r.link_id = strtoull(s + 5, NULL, 10);
    return r;
  }
  char *colon = strrchr(s, ':');
  if (!colon) return r;
  *colon = 0;
  r.port = (uint16_t)atoi(colon + 1);
  char *ip = s;
  if (*ip == '[') {
    ip++;
    ip[strlen(ip) - 1] = 0;
    r.kind = SR_REMOTE_KIND_IPV6;
    inet_pton(AF_INET6, ip, r.addr);
  } else {
    r.kind = SR_REMOTE_KIND_IPV4;
    inet_pton(AF_INET, ip, r.addr);
  }
  return r;
}

static SrSocketId socket_of(const char *v) {
  char s[32];
  SrSocketId id = {SR_SOCKET_KIND_MAIN, 0};
  str(v, s, sizeof s);
  if (strcmp(s, "probe") == 0) id.kind = SR_SOCKET_KIND_PROBE;
  if (strncmp(s, "pool:", 5) == 0) {
    id.kind = SR_SOCKET_KIND_POOL;
    id.id = (uint32_t)atoi(s + 5);
  }
  return id;
}

/* ---- the flow format's text, as the Rust generator writes it ---- */

typedef struct {
  char *p;
  size_t len, cap;
} Out;

static void put(Out *o, const char *s, size_t n) {
  if (o->len + n + 1 > o->cap) {
    o->cap = (o->len + n + 1) * 2;
    o->p = realloc(o->p, o->cap);
    if (!o->p) abort();
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = 0;
}

static void puts_(Out *o, const char *s) { put(o, s, strlen(s)); }

static void putf(Out *o, const char *fmt, unsigned long long v) {
  char b[32];
  snprintf(b, sizeof b, fmt, v);
  puts_(o, b);
}

static void put_hex(Out *o, const uint8_t *b, size_t n) {
  static const char d[] = "0123456789abcdef";
  puts_(o, "\"");
  for (size_t i = 0; i < n; i++) {
    char c[2] = {d[b[i] >> 4], d[b[i] & 15]};
    put(o, c, 2);
  }
  puts_(o, "\"");
}

static void put_remote(Out *o, const SrRemote *r) {
  char ip[INET6_ADDRSTRLEN], b[96];
  if (r->kind == SR_REMOTE_KIND_LINK) {
    snprintf(b, sizeof b, "\"link:%" PRIu64 "\"", r->link_id);
  } else if (r->kind == SR_REMOTE_KIND_IPV6) {
    inet_ntop(AF_INET6, r->addr, ip, sizeof ip);
    snprintf(b, sizeof b, "\"[%s]:%u\"", ip, r->port);
  } else {
    inet_ntop(AF_INET, r->addr, ip, sizeof ip);
    snprintf(b, sizeof b, "\"%s:%u\"", ip, r->port);
  }
  puts_(o, b);
}

static void put_socket(Out *o, SrSocketId s) {
  if (s.kind == SR_SOCKET_KIND_MAIN) puts_(o, "\"main\"");
  else if (s.kind == SR_SOCKET_KIND_PROBE) puts_(o, "\"probe\"");
  else putf(o, "\"pool:%llu\"", s.id);
}

static void put_nat(Out *o, uint8_t nat) {
  if (nat) putf(o, "%llu", nat);
  else puts_(o, "null");
}

static void put_event(Out *o, const SrEvent *e) {
  const SrEventData *d = &e->data;
  switch (e->kind) {
    case SR_EVENT_KIND_READY:
      puts_(o, "{\"type\":\"Ready\",\"nat\":");
      put_nat(o, d->ready.nat);
      if (d->ready.endpoint.kind == SR_REMOTE_KIND_NONE) {
        puts_(o, ",\"address\":null,\"port\":null}");
      } else {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(d->ready.endpoint.kind == SR_REMOTE_KIND_IPV6 ? AF_INET6 : AF_INET, d->ready.endpoint.addr, ip,
                  sizeof ip);
        puts_(o, ",\"address\":\"");
        puts_(o, ip);
        putf(o, "\",\"port\":%llu}", d->ready.endpoint.port);
      }
      break;
    case SR_EVENT_KIND_NAT_CHANGE:
      puts_(o, "{\"type\":\"NatChange\",\"old\":");
      put_nat(o, d->nat_change.old_nat);
      puts_(o, ",\"new\":");
      put_nat(o, d->nat_change.new_nat);
      puts_(o, "}");
      break;
    case SR_EVENT_KIND_CONNECTION:
      puts_(o, "{\"type\":\"Connection\",\"peerId\":");
      put_hex(o, d->connection.peer_id, 32);
      puts_(o, ",\"remote\":");
      put_remote(o, &d->connection.remote);
      putf(o, ",\"nat\":%llu,\"proxy\":", d->connection.nat);
      if (d->connection.has_proxy) put_hex(o, d->connection.proxy, 32);
      else puts_(o, "null");
      puts_(o, ",\"socket\":");
      put_socket(o, d->connection.socket);
      puts_(o, "}");
      break;
    case SR_EVENT_KIND_DISCONNECTION:
      puts_(o, "{\"type\":\"Disconnection\",\"peerId\":");
      put_hex(o, d->disconnection.peer_id, 32);
      puts_(o, d->disconnection.reason == SR_DISCONNECT_REASON_MISSING     ? ",\"reason\":\"Missing\"}"
               : d->disconnection.reason == SR_DISCONNECT_REASON_FORGOTTEN ? ",\"reason\":\"Forgotten\"}"
                                                                           : ",\"reason\":\"Evicted\"}");
      break;
    case SR_EVENT_KIND_JOIN:
      puts_(o, "{\"type\":\"Join\",\"clusterId\":");
      put_hex(o, d->join.cluster_id, 32);
      puts_(o, ",\"subclusterId\":");
      put_hex(o, d->join.subcluster_id, 32);
      puts_(o, ",\"peerId\":");
      put_hex(o, d->join.peer_id, 32);
      puts_(o, "}");
      break;
    case SR_EVENT_KIND_INTRO:
      puts_(o, "{\"type\":\"Intro\",\"peerId\":");
      put_hex(o, d->intro.peer_id, 32);
      puts_(o, ",\"remote\":");
      put_remote(o, &d->intro.remote);
      putf(o, ",\"nat\":%llu,\"introducer\":", d->intro.nat);
      put_hex(o, d->intro.introducer, 32);
      putf(o, ",\"strategy\":%llu,\"rendezvous\":", (unsigned long long)d->intro.strategy);
      puts_(o, d->intro.rendezvous ? "true}" : "false}");
      break;
    case SR_EVENT_KIND_OPEN_POOL_SOCKETS:
    case SR_EVENT_KIND_CLOSE_POOL_SOCKETS:
      puts_(o, e->kind == SR_EVENT_KIND_OPEN_POOL_SOCKETS ? "{\"type\":\"OpenPoolSockets\",\"sockets\":["
                                                          : "{\"type\":\"ClosePoolSockets\",\"sockets\":[");
      for (size_t i = 0; i < d->pool_sockets.sockets_len; i++) {
        if (i) puts_(o, ",");
        put_socket(o, d->pool_sockets.sockets[i]);
      }
      puts_(o, "]}");
      break;
    case SR_EVENT_KIND_CLOSED:
      puts_(o, "{\"type\":\"Closed\"}");
      break;
    case SR_EVENT_KIND_PACKET: {
      const SrEventPacket *k = &d->packet;
      puts_(o, "{\"type\":\"Packet\",\"clusterId\":");
      put_hex(o, k->cluster_id, 32);
      puts_(o, ",\"subclusterId\":");
      put_hex(o, k->subcluster_id, 32);
      puts_(o, ",\"eventHash\":");
      put_hex(o, k->event_hash.ptr, k->event_hash.len);
      puts_(o, ",\"packetId\":");
      put_hex(o, k->packet_id.ptr, k->packet_id.len);
      puts_(o, ",\"from\":");
      put_remote(o, &k->from);
      puts_(o, ",\"streamFrom\":");
      if (k->has_stream_from) put_hex(o, k->stream_from, 32);
      else puts_(o, "null");
      puts_(o, ",\"payload\":");
      put_hex(o, k->payload.ptr, k->payload.len);
      puts_(o, ",\"headId\":");
      if (k->head_id.len) put_hex(o, k->head_id.ptr, k->head_id.len);
      else puts_(o, "null");
      puts_(o, ",\"publisher\":");
      put_hex(o, k->publisher.ptr, k->publisher.len);
      putf(o, ",\"hops\":%llu}", k->hops);
      break;
    }
    case SR_EVENT_KIND_ANSWER: {
      const SrEventAnswer *a = &d->answer;
      char b[32];
      puts_(o, "{\"type\":\"Answer\",\"queryId\":");
      put_hex(o, a->query_id.ptr, a->query_id.len);
      puts_(o, ",\"packetId\":");
      put_hex(o, a->packet_id.ptr, a->packet_id.len);
      snprintf(b, sizeof b, ",\"index\":%d", (int)a->index);
      puts_(o, b);
      puts_(o, ",\"message\":");
      put_hex(o, a->message.ptr, a->message.len);
      puts_(o, ",\"from\":");
      put_remote(o, &a->from);
      puts_(o, "}");
      break;
    }
    case SR_EVENT_KIND_UNVERIFIED:
    case SR_EVENT_KIND_UNOPENABLE: {
      int unverified = e->kind == SR_EVENT_KIND_UNVERIFIED;
      const SrEventUnverified *u = &d->unverified;
      const SrEventUnopenable *x = &d->unopenable;
      puts_(o, unverified ? "{\"type\":\"Unverified\",\"clusterId\":" : "{\"type\":\"Unopenable\",\"clusterId\":");
      put_hex(o, unverified ? u->cluster_id : x->cluster_id, 32);
      puts_(o, ",\"subclusterId\":");
      put_hex(o, unverified ? u->subcluster_id : x->subcluster_id, 32);
      puts_(o, ",\"eventHash\":");
      if (unverified) put_hex(o, u->event_hash.ptr, u->event_hash.len);
      else put_hex(o, x->event_hash.ptr, x->event_hash.len);
      puts_(o, ",\"packetId\":");
      if (unverified) put_hex(o, u->packet_id.ptr, u->packet_id.len);
      else put_hex(o, x->packet_id.ptr, x->packet_id.len);
      puts_(o, ",\"from\":");
      put_remote(o, unverified ? &u->from : &x->from);
      puts_(o, ",\"streamFrom\":");
      if (unverified ? u->has_stream_from : x->has_stream_from) put_hex(o, unverified ? u->stream_from : x->stream_from, 32);
      else puts_(o, "null");
      if (unverified) {
        puts_(o, ",\"payload\":");
        put_hex(o, u->payload.ptr, u->payload.len);
        puts_(o, ",\"publisher\":");
        put_hex(o, u->publisher.ptr, u->publisher.len);
        puts_(o, u->reason == SR_UNVERIFIED_REASON_BAD_SIGNATURE ? ",\"reason\":\"BadSignature\"}"
                                                                  : ",\"reason\":\"BadPublisherKey\"}");
      } else if (x->error == SR_OPEN_ERROR_BOX_FORGED) {
        puts_(o, ",\"error\":\"cannot open sealed box: sealed box does not open with this key\"}");
      } else {
        putf(o, ",\"error\":\"SrOpenError %llu\"}", (unsigned long long)x->error);
      }
      break;
    }
    case SR_EVENT_KIND_SYNC_FINISHED:
      puts_(o, "{\"type\":\"SyncFinished\",\"remote\":");
      put_remote(o, &d->sync_finished.remote);
      puts_(o, ",\"prefix\":\"");
      put(o, (const char *)d->sync_finished.prefix.ptr, d->sync_finished.prefix.len);
      puts_(o, "\"}");
      break;
    default:
      putf(o, "{\"type\":\"not replayed here (kind %llu)\"}", (unsigned long long)e->kind);
  }
}

static void put_ids(Out *o, const char *key, const SrIdList *ids) {
  puts_(o, "\"result\":{\"");
  puts_(o, key);
  puts_(o, "\":[");
  for (size_t i = 0; i < ids->len; i++) {
    if (i) puts_(o, ",");
    put_hex(o, ids->ids[i].ptr, ids->ids[i].len);
  }
  puts_(o, "]},");
}

/* ---- replay ---- */

static SrConfig *config_of(const char *c) {
  uint8_t id[32], cid[32];
  char s[256];
  SrConfig *cfg = NULL;
  if (unhex(get(c, "peerId"), id, 32) != 32 || sr_config_new(id, 32, &cfg) != SR_STATUS_OK) return NULL;
  if (!is_null(get(c, "clusterId")) && unhex(get(c, "clusterId"), cid, 32) == 32)
    sr_config_set_cluster_id(cfg, cid, 32);
  sr_config_set_indexed(cfg, strncmp(get(c, "indexed"), "true", 4) == 0);
  if (!is_null(get(c, "natType"))) sr_config_set_nat_type(cfg, (uint8_t)num(get(c, "natType")));
  if (!is_null(get(c, "publicAddress"))) {
    SrRemote r = remote_of(get(c, "publicAddress"));
    sr_config_set_public_address(cfg, &r);
  }
  sr_config_set_keepalive_ms(cfg, num(get(c, "keepaliveMs")));
  sr_config_set_wall_clock_offset_ms(cfg, (int64_t)strtoll(get(c, "wallClockOffsetMs"), NULL, 10));
  sr_config_set_limit_exempt(cfg, strncmp(get(c, "limitExempt"), "true", 4) == 0);
  sr_config_set_auto_sync(cfg, strncmp(get(c, "autoSync"), "true", 4) == 0);
  /* The reference floods a Join 16 hops; the improved profile 1. */
  sr_config_set_profile(cfg, num(get(get(c, "behaviour"), "joinRelayHops")) == 16 ? SR_PROFILE_REFERENCE
                                                                                  : SR_PROFILE_IMPROVED);
  SrLimits l = {.struct_size = sizeof l};
  SrTimings t = {.struct_size = sizeof t};
  if (sr_config_get_limits(cfg, &l) == SR_STATUS_OK) {
    l.pool_size = (uint16_t)num(get(get(c, "limits"), "poolSize"));
    sr_config_set_limits(cfg, &l);
  }
  if (sr_config_get_timings(cfg, &t) == SR_STATUS_OK) {
    t.spray_ports = (uint16_t)num(get(get(c, "timings"), "sprayPorts"));
    sr_config_set_timings(cfg, &t);
  }
  const char *list = ws(get(c, "introducers"));
  for (const char *p = ws(list + 1); *p == '{'; p = ws(p)) {
    uint8_t pid[32];
    SrRemote r = remote_of(get(p, "remote"));
    unhex(get(p, "peerId"), pid, 32);
    sr_config_add_introducer(cfg, pid, 32, &r);
    p = ws(skip(p));
    if (*p == ',') p++;
  }
  if (!is_null(get(c, "signingSeed"))) {
    uint8_t pk[32], sk[64];
    size_t n = str(get(c, "signingSeed"), s, sizeof s);
    if (sr_create_key_pair(SR_SEED_KIND_TEXT, (const uint8_t *)s, n, pk, 32, sk, 64) == SR_STATUS_OK)
      sr_config_set_signing_keys(cfg, sk, 64);
  }
  return cfg;
}

static int shared_key(const char *input, uint8_t key[32]) {
  char s[256];
  size_t n = str(get(input, "sharedKeySeed"), s, sizeof s);
  return sr_create_shared_key(SR_SEED_KIND_TEXT, (const uint8_t *)s, n, key, 32) == SR_STATUS_OK;
}

/* Runs one input; writes `"result":…,` to o for a command (for one the Peer
 * refuses: an error, with the recorded text when an error is expected). */
static void run_input(SrPeer **peer, const SrConfig *cfg, uint64_t at, const char *in, const char *expect, Out *o) {
  char kind[32], s[256];
  static uint8_t buf[1 << 16];
  uint8_t key[32], id[64];
  SrStatus st = SR_STATUS_OK;
  str(get(in, "kind"), kind, sizeof kind);
  if (strcmp(kind, "datagram") == 0) {
    SrRemote r = remote_of(get(in, "remote"));
    size_t n = unhex(get(in, "hex"), buf, sizeof buf);
    sr_peer_handle_datagram(*peer, at, socket_of(get(in, "socket")), &r, buf, n);
    return;
  }
  if (strcmp(kind, "timeout") == 0) { sr_peer_handle_timeout(*peer, at); return; }
  if (strcmp(kind, "disconnect") == 0) { sr_peer_disconnect(*peer, at); return; }
  if (strcmp(kind, "reconnect") == 0) { sr_peer_reconnect(*peer, at); return; }
  if (strcmp(kind, "close") == 0) { sr_peer_close(*peer, at); return; }
  if (strcmp(kind, "join") == 0 && shared_key(in, key)) {
    if ((st = sr_peer_join(*peer, at, key, 32, id, 32)) == SR_STATUS_OK) {
      puts_(o, "\"result\":{\"subclusterId\":");
      put_hex(o, id, 32);
      puts_(o, "},");
      return;
    }
  } else if ((strcmp(kind, "publish") == 0 || strcmp(kind, "stream") == 0) && shared_key(in, key)) {
    SrPublishOptions opts;
    SrIdList ids = {NULL, 0};
    memset(&opts, 0, sizeof opts);
    opts.struct_size = sizeof opts;
    opts.ttl_ms = (uint32_t)num(get(in, "ttl"));
    size_t name = str(get(in, "eventName"), s, sizeof s);
    size_t n = unhex(get(in, "payload"), buf, sizeof buf);
    if (kind[0] == 'p') {
      st = sr_peer_publish(*peer, at, key, 32, (const uint8_t *)s, name, buf, n, &opts, &ids);
    } else {
      uint8_t pid[32];
      unhex(get(in, "peerId"), pid, 32);
      st = sr_peer_stream(*peer, at, pid, 32, key, 32, (const uint8_t *)s, name, buf, n, &opts, &ids);
    }
    if (st == SR_STATUS_OK) { put_ids(o, "packetIds", &ids); return; }
  } else if (strcmp(kind, "query") == 0) {
    char q[300];
    size_t w = 0;
    str(get(in, "packetId"), s, sizeof s);
    snprintf(q, sizeof q, "{\"packetId\":\"%s\"}", s);
    if ((st = sr_peer_query(*peer, at, (const uint8_t *)q, strlen(q), id, sizeof id, &w)) == SR_STATUS_OK) {
      puts_(o, "\"result\":{\"queryId\":");
      put_hex(o, id, w);
      puts_(o, "},");
      return;
    }
  } else if (strcmp(kind, "sync") == 0) {
    uint8_t pid[32];
    unhex(get(in, "peerId"), pid, 32);
    if ((st = sr_peer_sync(*peer, at, pid, 32)) == SR_STATUS_OK) { puts_(o, "\"result\":{},"); return; }
  } else if (strcmp(kind, "snapshot") == 0) {
    size_t n = 0;
    if ((st = sr_peer_snapshot(*peer, at, buf, sizeof buf, &n)) == SR_STATUS_OK) {
      puts_(o, "\"result\":{\"snapshot\":");
      put_hex(o, buf, n);
      puts_(o, "},");
      return;
    }
  } else if (strcmp(kind, "restore") == 0) {
    uint8_t seed[32];
    SrPeer *next = NULL;
    unhex(get(in, "seed"), seed, 32);
    size_t n = unhex(get(in, "snapshot"), buf, sizeof buf);
    if ((st = sr_peer_restore(cfg, at, seed, 32, buf, n, &next)) == SR_STATUS_OK) {
      sr_peer_free(*peer);
      *peer = next;
      puts_(o, "\"result\":{},");
      return;
    }
  } else {
    puts_(o, "\"result\":{\"error\":\"unknown input\"},");
    return;
  }
  /* Refused: an error either way; the recorded text is the core's. */
  const char *want = get(expect, "result");
  const char *e = want ? get(want, "error") : NULL;
  if (e) {
    puts_(o, "\"result\":{\"error\":");
    put(o, e, (size_t)(skip(e) - e));
    puts_(o, "},");
  } else {
    putf(o, "\"result\":{\"error\":\"status %llu\"},", (unsigned long long)(long long)st);
  }
}

static int replay(const char *flow, const char *name) {
  const char *seedv = get(flow, "seed");
  uint8_t seed[32];
  static uint8_t buf[1 << 16];
  SrConfig *cfg = config_of(get(flow, "config"));
  SrPeer *peer = NULL;
  int ok = 1;
  if (!cfg || unhex(seedv, seed, 32) != 32 || sr_peer_new(cfg, num(get(flow, "start")), seed, 32, &peer) != SR_STATUS_OK) {
    printf("FAIL %s: the config or seed is refused\n", name);
    sr_config_free(cfg);
    return 0;
  }
  const char *st = ws(get(flow, "steps"));
  Out o = {NULL, 0, 0};
  size_t i = 0;
  for (const char *p = ws(st + 1); ok && *p == '{'; i++) {
    uint64_t at = num(get(p, "at"));
    const char *in = get(p, "input"), *ex = get(p, "expect");
    const char *ex_end = skip(ex);
    o.len = 0;
    puts_(&o, "{");
    run_input(&peer, cfg, at, in, ex, &o);
    puts_(&o, "\"transmits\":[");
    for (int k = 0;; k++) {
      SrSocketId sock;
      SrRemote r;
      size_t n = 0;
      if (sr_peer_poll_transmit(peer, at, &sock, &r, buf, sizeof buf, &n) != SR_STATUS_OK) break;
      if (k) puts_(&o, ",");
      puts_(&o, "{\"socket\":");
      put_socket(&o, sock);
      puts_(&o, ",\"remote\":");
      put_remote(&o, &r);
      puts_(&o, ",\"hex\":");
      put_hex(&o, buf, n);
      puts_(&o, "}");
    }
    puts_(&o, "],\"events\":[");
    for (int k = 0;; k++) {
      SrEvent e;
      memset(&e, 0, sizeof e);
      e.struct_size = sizeof e;
      if (sr_peer_poll_event(peer, &e) != SR_STATUS_OK) break;
      if (k) puts_(&o, ",");
      put_event(&o, &e);
    }
    uint64_t t = 0;
    if (sr_peer_poll_timeout(peer, &t) == SR_STATUS_OK) putf(&o, "],\"timeout\":%llu}", t);
    else puts_(&o, "],\"timeout\":null}");
    size_t want = (size_t)(ex_end - ex);
    if (o.len != want || memcmp(o.p, ex, want) != 0) {
      size_t d = 0;
      while (d < o.len && d < want && o.p[d] == ex[d]) d++;
      printf("FAIL %s steps[%zu] (at %" PRIu64 "): differs at character %zu:\n  ours     ...%.80s\n  expected ...%.80s\n",
             name, i, at, d, o.p + d, ex + d);
      ok = 0;
    }
    p = ws(skip(p));
    if (*p == ',') p = ws(p + 1);
  }
  free(o.p);
  sr_peer_free(peer);
  sr_config_free(cfg);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s vectors/flows.json\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) { perror(argv[1]); return 2; }
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) { fclose(f); free(text); return 2; }
  text[size] = 0;
  fclose(f);
  const char *flows = get(text, "flows");
  char fmt[64];
  if (!flows || !get(text, "format") || (str(get(text, "format"), fmt, sizeof fmt), strcmp(fmt, "streamrelay-flows/1") != 0)) {
    fprintf(stderr, "%s: not a streamrelay-flows/1 file\n", argv[1]);
    free(text);
    return 2;
  }
  unsigned passed = 0, failed = 0;
  for (const char *p = ws(ws(flows) + 1); *p == '{';) {
    char name[128];
    str(get(p, "name"), name, sizeof name);
    if (replay(p, name)) passed++;
    else failed++;
    p = ws(skip(p));
    if (*p == ',') p = ws(p + 1);
  }
  free(text);
  printf("%u passed, %u failed\n", passed, failed);
  return failed || passed < 20 ? 1 : 0;
}
