// A C++17 host for libstreamrelay: one process, three peers (an introducer
// and two members), each on its own real UDP socket bound to 127.0.0.1, one
// poll(2) event loop whose timeout comes from sr_peer_poll_timeout.
//
// The members know only the introducer. They join the same subcluster, the
// introducer introduces them, they connect directly, then each publishes a
// message and each must receive the other's as SR_EVENT_KIND_PACKET. The
// program stops by itself: exit 0 when both messages arrived, 1 on any error
// or when the deadline (STREAMRELAY_EXAMPLE_DEADLINE_MS, default 60000)
// passes first.
//
// Loopback has no NAT, so the members are configured with a static NAT type
// (unrestricted) and their bound address as public endpoint instead of
// running reflection (which needs two introducers and a probe socket).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "streamrelay.h"

namespace {

// ---------------------------------------------------------------------
// Thin RAII over the C ABI.
// ---------------------------------------------------------------------

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void check(SrStatus s, const char *what) {
  if (s != SR_STATUS_OK) throw Error(std::string(what) + ": " + sr_status_name(s));
}

struct PeerDeleter {
  void operator()(SrPeer *p) const { sr_peer_free(p); }
};
struct ConfigDeleter {
  void operator()(SrConfig *c) const { sr_config_free(c); }
};
using PeerPtr = std::unique_ptr<SrPeer, PeerDeleter>;
using ConfigPtr = std::unique_ptr<SrConfig, ConfigDeleter>;

using Id = std::array<uint8_t, 32>;

Id text_id(const std::string &seed, SrStatus (*f)(uint32_t, const uint8_t *, size_t, uint8_t *,
                                                  size_t)) {
  Id out{};
  check(f(SR_SEED_KIND_TEXT, reinterpret_cast<const uint8_t *>(seed.data()), seed.size(),
          out.data(), out.size()),
        "key helper");
  return out;
}

std::string hex(const uint8_t *b, size_t n) {
  static const char *d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s += d[b[i] >> 4];
    s += d[b[i] & 15];
  }
  return s;
}

using Clock = std::chrono::steady_clock;
const Clock::time_point kStart = Clock::now();

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - kStart).count());
}

// ---------------------------------------------------------------------
// UDP sockets.
// ---------------------------------------------------------------------

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd &&o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd &operator=(Fd &&o) noexcept {
    if (this != &o) {
      if (fd >= 0) ::close(fd);
      fd = o.fd;
      o.fd = -1;
    }
    return *this;
  }
  Fd(const Fd &) = delete;
  Fd &operator=(const Fd &) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A non-blocking UDP socket on 127.0.0.1 with an ephemeral port.
Fd udp_socket(uint16_t *port) {
  Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (s.fd < 0) throw Error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(s.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) throw Error("bind failed");
  socklen_t len = sizeof a;
  if (::getsockname(s.fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
    throw Error("getsockname failed");
  *port = ntohs(a.sin_port);
  return s;
}

SrRemote loopback_remote(uint16_t port) {
  SrRemote r{};
  r.kind = SR_REMOTE_KIND_IPV4;
  r.addr[0] = 127;
  r.addr[3] = 1;
  r.port = port;
  return r;
}

// ---------------------------------------------------------------------
// One peer and the sockets its host owns for it.
// ---------------------------------------------------------------------

struct Node {
  std::string name;
  PeerPtr peer;
  Id id{};
  uint16_t port = 0;
  Fd main;
  std::map<uint32_t, Fd> pool;  // pool sockets the peer asked for
  std::vector<uint8_t> buf = std::vector<uint8_t>(512);  // grows on demand
  bool connected_to_other = false;
  bool published = false;
  std::string received;  // the payload of the PACKET event, if any
  uint64_t datagrams_out = 0, datagrams_in = 0;
};

void log(const Node &n, const std::string &what) {
  std::printf("[%6llu ms] %-11s %s\n", static_cast<unsigned long long>(now_ms()), n.name.c_str(),
              what.c_str());
}

int fd_for(Node &n, const SrSocketId &s) {
  if (s.kind == SR_SOCKET_KIND_MAIN) return n.main.fd;
  if (s.kind == SR_SOCKET_KIND_POOL) {
    auto it = n.pool.find(s.id);
    if (it != n.pool.end()) return it->second.fd;
  }
  return -1;  // the probe socket: not used with a static NAT type
}

// Sends everything the peer has queued.
void flush(Node &n) {
  for (;;) {
    SrSocketId socket{};
    SrRemote to{};
    size_t len = 0;
    SrStatus s = sr_peer_poll_transmit(n.peer.get(), now_ms(), &socket, &to, n.buf.data(),
                                       n.buf.size(), &len);
    if (s == SR_STATUS_EMPTY) return;
    if (s == SR_STATUS_BUFFER_TOO_SMALL) {
      n.buf.resize(len);  // the datagram stays queued: poll again
      continue;
    }
    check(s, "sr_peer_poll_transmit");
    int fd = fd_for(n, socket);
    if (fd < 0 || to.kind != SR_REMOTE_KIND_IPV4) {
      log(n, "dropping a datagram for a socket or remote this host does not have");
      continue;
    }
    sockaddr_in a{};
    a.sin_family = AF_INET;
    std::memcpy(&a.sin_addr.s_addr, to.addr, 4);
    a.sin_port = htons(to.port);
    ssize_t sent = ::sendto(fd, n.buf.data(), len, 0, reinterpret_cast<sockaddr *>(&a), sizeof a);
    if (sent < 0) log(n, std::string("sendto: ") + std::strerror(errno));
    n.datagrams_out++;
  }
}

// Reads every datagram waiting on `fd` into the peer.
void receive(Node &n, int fd, SrSocketId socket) {
  std::array<uint8_t, 2048> dgram{};
  for (;;) {
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t r = ::recvfrom(fd, dgram.data(), dgram.size(), 0, reinterpret_cast<sockaddr *>(&from),
                           &fl);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      throw Error(std::string("recvfrom: ") + std::strerror(errno));
    }
    SrRemote remote{};
    remote.kind = SR_REMOTE_KIND_IPV4;
    std::memcpy(remote.addr, &from.sin_addr.s_addr, 4);
    remote.port = ntohs(from.sin_port);
    check(sr_peer_handle_datagram(n.peer.get(), now_ms(), socket, &remote, dgram.data(),
                                  static_cast<size_t>(r)),
          "sr_peer_handle_datagram");
    n.datagrams_in++;
  }
}

struct World {
  Node introducer, a, b;
  Id key{};  // the subcluster's shared key
  std::array<Node *, 3> nodes{{&introducer, &a, &b}};
  Node &other(const Node &n) { return &n == &a ? b : a; }
};

// Acts on every queued event of `n`.
void drain_events(World &w, Node &n) {
  SrEvent e{};
  for (;;) {
    e.struct_size = sizeof e;
    SrStatus s = sr_peer_poll_event(n.peer.get(), &e);
    if (s == SR_STATUS_EMPTY) return;
    check(s, "sr_peer_poll_event");
    switch (e.kind) {
      case SR_EVENT_KIND_READY:
        log(n, "ready, NAT type " + std::to_string(e.data.ready.nat) + ", public port " +
                   std::to_string(e.data.ready.endpoint.port));
        break;
      case SR_EVENT_KIND_CONNECTION: {
        const auto &c = e.data.connection;
        log(n, "connected to " + hex(c.peer_id, 4) + "… at port " + std::to_string(c.remote.port));
        if (&n != &w.introducer && std::memcmp(c.peer_id, w.other(n).id.data(), 32) == 0)
          n.connected_to_other = true;
        break;
      }
      case SR_EVENT_KIND_INTRO:
        log(n, "introduced to " + hex(e.data.intro.peer_id, 4) + "…");
        break;
      case SR_EVENT_KIND_JOIN:
        log(n, "sees " + hex(e.data.join.peer_id, 4) + "… join the subcluster");
        break;
      case SR_EVENT_KIND_PACKET: {
        const auto &p = e.data.packet;
        // The payload is borrowed until the next call on this peer: copy it.
        n.received.assign(reinterpret_cast<const char *>(p.payload.ptr), p.payload.len);
        log(n, "received \"" + n.received + "\" from publisher " + hex(p.publisher.ptr, 4) +
                   "… (" + std::to_string(p.hops) + " hops)");
        break;
      }
      case SR_EVENT_KIND_OPEN_POOL_SOCKETS: {
        const auto &ps = e.data.pool_sockets;
        for (size_t i = 0; i < ps.sockets_len; i++) {
          uint16_t port = 0;
          n.pool[ps.sockets[i].id] = udp_socket(&port);
        }
        log(n, "opened " + std::to_string(ps.sockets_len) + " pool sockets");
        break;
      }
      case SR_EVENT_KIND_CLOSE_POOL_SOCKETS: {
        const auto &ps = e.data.pool_sockets;
        for (size_t i = 0; i < ps.sockets_len; i++) n.pool.erase(ps.sockets[i].id);
        break;
      }
      case SR_EVENT_KIND_CLOSED:
        log(n, "closed");
        break;
      default:
        break;  // other events need nothing from this host
    }
  }
}

Node make_node(const std::string &name, const Id *cluster, const Node *introducer,
               const std::string &signing_seed) {
  Node n;
  n.name = name;
  n.main = udp_socket(&n.port);
  n.id = text_id(name, sr_create_id);
  SrConfig *raw = nullptr;
  check(sr_config_new(n.id.data(), n.id.size(), &raw), "sr_config_new");
  ConfigPtr config(raw);
  SrRemote self = loopback_remote(n.port);
  check(sr_config_set_nat_type(config.get(), SR_NAT_TYPE_UNRESTRICTED), "nat type");
  check(sr_config_set_public_address(config.get(), &self), "public address");
  // Ticks every second instead of every 30 s, so Joins repeat quickly.
  check(sr_config_set_keepalive_ms(config.get(), 1000), "keepalive");
  if (cluster == nullptr) {
    check(sr_config_set_indexed(config.get(), true), "indexed");
  } else {
    check(sr_config_set_cluster_id(config.get(), cluster->data(), cluster->size()), "cluster");
    SrRemote ir = loopback_remote(introducer->port);
    check(sr_config_add_introducer(config.get(), introducer->id.data(), 32, &ir), "introducer");
    std::array<uint8_t, 32> pk{};
    std::array<uint8_t, 64> sk{};
    check(sr_create_key_pair(SR_SEED_KIND_TEXT,
                             reinterpret_cast<const uint8_t *>(signing_seed.data()),
                             signing_seed.size(), pk.data(), pk.size(), sk.data(), sk.size()),
          "key pair");
    check(sr_config_set_signing_keys(config.get(), sk.data(), sk.size()), "signing keys");
  }
  std::array<uint8_t, 32> seed{};
  std::random_device rd;
  for (auto &b : seed) b = static_cast<uint8_t>(rd());
  SrPeer *p = nullptr;
  check(sr_peer_new(config.get(), now_ms(), seed.data(), seed.size(), &p), "sr_peer_new");
  n.peer.reset(p);
  log(n, "listening on 127.0.0.1:" + std::to_string(n.port));
  return n;
}

int run() {
  if (sr_abi_version() != SR_ABI_VERSION) throw Error("header and library ABI versions differ");
  uint64_t deadline = 60000;
  if (const char *d = std::getenv("STREAMRELAY_EXAMPLE_DEADLINE_MS")) deadline = std::stoull(d);

  Id cluster = text_id("streamrelay loopback example", sr_create_cluster_id);
  World w;
  w.introducer = make_node("introducer", nullptr, nullptr, "");
  w.a = make_node("alice", &cluster, &w.introducer, "alice's signing key");
  w.b = make_node("bob", &cluster, &w.introducer, "bob's signing key");
  w.key = text_id("loopback room", sr_create_shared_key);
  for (Node *n : {&w.a, &w.b}) {
    Id scid{};
    check(sr_peer_join(n->peer.get(), now_ms(), w.key.data(), 32, scid.data(), 32), "join");
    log(*n, "joined subcluster " + hex(scid.data(), 4) + "…");
  }

  const std::string msg_a = "hello bob, this is alice", msg_b = "hi alice, bob here";
  bool ok = false;
  while (now_ms() < deadline) {
    // Timers that are due, then everything queued goes out.
    uint64_t next = now_ms() + 1000;
    for (Node *n : w.nodes) {
      uint64_t t = 0;
      SrStatus s = sr_peer_poll_timeout(n->peer.get(), &t);
      if (s == SR_STATUS_OK && t <= now_ms()) {
        check(sr_peer_handle_timeout(n->peer.get(), now_ms()), "sr_peer_handle_timeout");
        s = sr_peer_poll_timeout(n->peer.get(), &t);
      }
      if (s == SR_STATUS_OK && t < next) next = t;
      drain_events(w, *n);
      flush(*n);
    }
    // Once alice and bob are connected, each publishes once.
    for (Node *n : {&w.a, &w.b}) {
      if (n->connected_to_other && !n->published) {
        const std::string &m = n == &w.a ? msg_a : msg_b;
        SrIdList ids{};
        check(sr_peer_publish(n->peer.get(), now_ms(), w.key.data(), 32,
                              reinterpret_cast<const uint8_t *>("chat"), 4,
                              reinterpret_cast<const uint8_t *>(m.data()), m.size(), nullptr,
                              &ids),
              "sr_peer_publish");
        n->published = true;
        log(*n, "published \"" + m + "\" as packet " + hex(ids.ids[0].ptr, 4) + "…");
        flush(*n);
      }
    }
    if (w.a.received == msg_b && w.b.received == msg_a) {
      ok = true;
      break;
    }
    // Sleep in poll until a datagram arrives or the next timer is due.
    std::vector<pollfd> fds;
    std::vector<std::pair<Node *, SrSocketId>> owners;
    for (Node *n : w.nodes) {
      fds.push_back({n->main.fd, POLLIN, 0});
      owners.push_back({n, SrSocketId{SR_SOCKET_KIND_MAIN, 0}});
      for (auto &kv : n->pool) {
        fds.push_back({kv.second.fd, POLLIN, 0});
        owners.push_back({n, SrSocketId{SR_SOCKET_KIND_POOL, kv.first}});
      }
    }
    uint64_t t = now_ms();
    int wait = next > t ? static_cast<int>(std::min<uint64_t>(next - t, 1000)) : 0;
    int r = ::poll(fds.data(), fds.size(), wait);
    if (r < 0 && errno != EINTR) throw Error(std::string("poll: ") + std::strerror(errno));
    for (size_t i = 0; r > 0 && i < fds.size(); i++)
      if (fds[i].revents & POLLIN) receive(*owners[i].first, fds[i].fd, owners[i].second);
  }

  for (Node *n : w.nodes) {
    check(sr_peer_close(n->peer.get(), now_ms()), "sr_peer_close");
    drain_events(w, *n);
    std::printf("%-11s sent %llu datagrams, received %llu\n", n->name.c_str(),
                static_cast<unsigned long long>(n->datagrams_out),
                static_cast<unsigned long long>(n->datagrams_in));
    n->peer.reset();
  }
  if (sr_live_handles() != 0) throw Error("handles left alive");
  if (!ok) {
    std::printf("FAIL: the messages did not arrive within %llu ms\n",
                static_cast<unsigned long long>(deadline));
    return 1;
  }
  std::printf("OK: alice and bob exchanged a subcluster message through the introducer in %llu ms\n",
              static_cast<unsigned long long>(now_ms()));
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
}
