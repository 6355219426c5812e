#include <stdio.h>
#include <streamrelay.h>
#define TEXT(s) SR_SEED_KIND_TEXT, (const uint8_t *)(s), sizeof(s) - 1

int main(void) {
  uint8_t id[32], cluster[32], intro[32], seed[32] = {7}, buf[SR_MAX_DATAGRAM_LEN];
  SrRemote to = {.kind = SR_REMOTE_KIND_IPV4, .port = 9777, .addr = {127, 0, 0, 1}};
  SrConfig *cfg; SrPeer *peer; SrSocketId socket; size_t len;
  if (sr_abi_version() != SR_ABI_VERSION || sr_create_id(TEXT("alice"), id, 32) ||
      sr_create_cluster_id(TEXT("my app"), cluster, 32) || sr_create_id(TEXT("introducer"), intro, 32) ||
      sr_config_new(id, 32, &cfg) || sr_config_set_cluster_id(cfg, cluster, 32) ||
      sr_config_add_introducer(cfg, intro, 32, &to) || sr_peer_new(cfg, 0, seed, 32, &peer))
    return 1; /* seed: 32 bytes from a CSPRNG in a real host */
  sr_config_free(cfg);
  sr_peer_handle_timeout(peer, 0); /* time is an input; the first tick is due at once */
  while (sr_peer_poll_transmit(peer, 0, &socket, &to, buf, sizeof buf, &len) == SR_STATUS_OK) {
    SrPacketView view = {.struct_size = sizeof view}; /* the host sends buf from socket */
    if (sr_packet_decode(buf, len, &view) == SR_STATUS_OK)
      printf("libstreamrelay %s: send type %u (%zu bytes) to port %u\n", sr_version(),
             view.packet_type, len, to.port);
  }
  return sr_peer_free(peer) == SR_STATUS_OK ? 0 : 1;
}
