#include <cstdio>
#include <memory>
#include <streamrelay.h>

int main() {
  auto text = [](const char *s) { return reinterpret_cast<const uint8_t *>(s); };
  uint8_t id[32], cluster[32], intro[32], seed[32] = {7}, buf[SR_MAX_DATAGRAM_LEN];
  SrRemote to{SR_REMOTE_KIND_IPV4, 9777, 0, 0, 0, {127, 0, 0, 1}, 0};
  SrConfig *cfg = nullptr; SrPeer *raw = nullptr; SrSocketId socket; size_t len;
  if (sr_abi_version() != SR_ABI_VERSION || sr_create_id(SR_SEED_KIND_TEXT, text("alice"), 5, id, 32) ||
      sr_create_cluster_id(SR_SEED_KIND_TEXT, text("my app"), 6, cluster, 32) ||
      sr_create_id(SR_SEED_KIND_TEXT, text("introducer"), 10, intro, 32) || sr_config_new(id, 32, &cfg))
    return 1;
  std::unique_ptr<SrConfig, decltype(&sr_config_free)> config(cfg, sr_config_free);
  if (sr_config_set_cluster_id(cfg, cluster, 32) || sr_config_add_introducer(cfg, intro, 32, &to) ||
      sr_peer_new(cfg, 0, seed, 32, &raw)) // seed: 32 bytes from a CSPRNG in a real host
    return 1;
  std::unique_ptr<SrPeer, decltype(&sr_peer_free)> peer(raw, sr_peer_free);
  sr_peer_handle_timeout(peer.get(), 0); // time is an input; the first tick is due at once
  while (sr_peer_poll_transmit(peer.get(), 0, &socket, &to, buf, sizeof buf, &len) == SR_STATUS_OK) {
    SrPacketView view{};
    view.struct_size = sizeof view;
    if (sr_packet_decode(buf, len, &view) == SR_STATUS_OK)
      std::printf("C++: send type %u (%zu bytes) to port %u\n", view.packet_type, len, to.port);
  }
}
