import Foundation
import StreamRelay

var config = peerConfig(peerId: try createId(seed: .of("alice")))
config.clusterId = try createClusterId(seed: .of("my app"))
config.introducers = [Introducer(peerId: try createId(seed: .of("introducer")),
                                 remote: .udp(ip: "127.0.0.1", port: 9777))]
let peer = try Peer(config: config, nowMs: 0, seed: Data(repeating: 7, count: 32))  // seed: from a CSPRNG
try peer.handleTimeout(nowMs: 0)  // time is an input; the first tick is due at once
while let t = try peer.pollTransmit(nowMs: 0) {  // the host sends t.bytes from t.socket
    let type = try decodePacket(bytes: t.bytes).packetType
    print("libstreamrelay \(libraryVersion()): send type \(type) (\(t.bytes.count) bytes) to \(t.remote)")
}
