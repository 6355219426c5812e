use streamrelay::crypto::{create_cluster_id, create_id};
use streamrelay::peer::{Config, Instant, Introducer, Peer, PeerId, Remote};
use streamrelay::wire::PacketRef;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = Config::new(&create_id("alice")?, Some(create_cluster_id("my app")?));
    let peer_id = PeerId::from_hex(&create_id("introducer")?).ok_or("bad peer id")?;
    let remote = Remote::Udp("127.0.0.1:9777".parse()?);
    config.introducers.push(Introducer { peer_id, remote });
    let mut peer = Peer::new(config, Instant(0), [7; 32])?; // seed: 32 bytes from a CSPRNG
    peer.handle_timeout(Instant(0)); // time is an input; the first tick is due at once
    while let Some(t) = peer.poll_transmit(Instant(0)) {
        let kind = PacketRef::decode(&t.bytes)?.packet_type; // the host sends t.bytes
        println!("send {kind} ({} bytes) to {}", t.bytes.len(), t.remote);
    }
    Ok(())
}
