// Messages per second through three Nodes on 127.0.0.1 driven from Swift
// (a benchmark, not a test): a publisher and a subscriber that bootstrap
// from one introducer; the subscriber reads its events as an AsyncStream.
// Only commands and events cross the FFI: every datagram stays inside the
// library. `bash bindings-swift/bench.sh [messages]` (default 20000).

import Foundation
import StreamRelay

let n = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20000 : 20000

func config() -> PeerConfig {
    var c = peerConfig(peerId: Data(count: 32))
    c.natType = natTypes().unrestricted
    c.limitExempt = true
    c.limits.maxEvents = 65536
    return c
}

var introConfig = config()
introConfig.indexed = true
let intro = try Node.start(options: NodeOptions(config: introConfig, bindIp: "127.0.0.1"))
guard case let .udp(_, introPort) = intro.localAddress() else { fatalError("no UDP address") }
let cluster = try createClusterId(seed: .of("swift node bench"))

func peer() throws -> Node {
    var c = config()
    c.clusterId = cluster
    c.introducers = [Introducer(peerId: intro.peerId(), remote: .udp(ip: "127.0.0.1", port: introPort))]
    return try Node.start(options: NodeOptions(config: c, bindIp: "127.0.0.1", eventCapacity: 65536))
}

let a = try peer()
let c = try peer()
let room = try createSharedKey(seed: .of("swift node bench room"))
_ = try a.join(sharedKey: room)
_ = try c.join(sharedKey: room)
let events = try c.events(bufferingPolicy: .bufferingOldest(65536))

/// Counts packets (after the warm-up one) until `want` or the stream ends.
actor Counter {
    var warm = false
    var got = 0
    func see(_ payload: Data) {
        if String(decoding: payload, as: UTF8.self) == "warm-up" { warm = true } else { got += 1 }
    }
}
let counter = Counter()
// Detached: top-level code runs on the main actor, and the reader must not
// hop onto it for every event.
let reader = Task.detached {
    for await e in events {
        if case let .peer(event: .packet(_, _, _, payload, _, _, _, _, _, _)) = e {
            await counter.see(payload)
        }
    }
}

_ = try a.publish(sharedKey: room, eventName: "m", payload: Data("warm-up".utf8))
let warmEnd = Date().addingTimeInterval(30)
while await !counter.warm, Date() < warmEnd { try await Task.sleep(nanoseconds: 5_000_000) }
if await !counter.warm { print("node bench: no path from the publisher to the subscriber in 30 s") }

let t0 = Date()
var refused = 0
for k in 0..<n {
    do { _ = try a.publish(sharedKey: room, eventName: "m", payload: Data(String(k).utf8)) } catch { refused += 1 }
}
let published = Date().timeIntervalSince(t0)
let end = Date().addingTimeInterval(60)
while await counter.got < n - refused, Date() < end { try await Task.sleep(nanoseconds: 5_000_000) }
let t = Date().timeIntervalSince(t0)
let got = await counter.got
let s = c.status()
let path = s.peers.first { $0.peerId == a.peerId().map { String(format: "%02x", $0) }.joined() }
    .map { $0.proxy == nil ? "direct" : "through the introducer" } ?? "?"
print(String(format: "node bench (Swift): %d published in %.2f s (%d refused), %d delivered in %.2f s: %.0f messages/s end to end; subscriber: %llu datagrams in, %llu events dropped; path: %@",
             n, published, refused, got, t, Double(got) / t, s.datagramsIn, s.eventsDropped, path))
for x in [a, c, intro] { try? await x.shutdown() }
_ = await reader.value
