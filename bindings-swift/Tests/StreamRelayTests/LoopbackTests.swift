import Foundation
import StreamRelay
import XCTest

/// Two peers and an introducer on 127.0.0.1, each on its own UDP socket,
/// one poll(2) loop (`PollHost`): alice and bob join a subcluster, get
/// introduced, connect, and each publishes a message the other must
/// receive. Bounded by a deadline; only loopback addresses.
final class LoopbackTests: XCTestCase {
    func testSubclusterMessageThroughAnIntroducer() throws {
        let deadline = UInt64(ProcessInfo.processInfo.environment["STREAMRELAY_TEST_DEADLINE_MS"] ?? "") ?? 30_000
        func randomSeed() -> Data { Data((0..<32).map { _ in UInt8.random(in: 0...255) }) }
        let cluster = try createClusterId(seed: .of("streamrelay swift loopback"))
        let key = try createSharedKey(seed: .of("swift loopback room"))
        let unrestricted = natTypes().unrestricted

        let host = PollHost()
        var ids: [String: Data] = [:]
        var connected: Set<String> = []
        var received: [String: String] = [:]
        let onEvent: (PollHost.Node, PeerEvent) throws -> Void = { node, event in
            switch event {
            case let .connection(peerId, _, _, _, _):
                let other = node.name == "alice" ? "bob" : "alice"
                if node.name != "introducer" && peerId == ids[other] { connected.insert(node.name) }
            case let .packet(_, _, _, payload, _, _, _, _, _, _):
                received[node.name] = String(decoding: payload, as: UTF8.self)
            default:
                break
            }
        }

        let introSocket = try UDPSocket()
        ids["introducer"] = try createId(seed: .of("introducer"))
        var introConfig = peerConfig(peerId: ids["introducer"]!)
        introConfig.indexed = true
        introConfig.natType = unrestricted
        introConfig.keepaliveMs = 1000
        introConfig.publicAddress = .udp(ip: "127.0.0.1", port: introSocket.port)
        let introducer = try Peer(config: introConfig, nowMs: host.now(), seed: randomSeed())
        host.add("introducer", peer: introducer, main: introSocket, onEvent: onEvent)

        var members: [String: Peer] = [:]
        for name in ["alice", "bob"] {
            let s = try UDPSocket()
            ids[name] = try createId(seed: .of(name))
            var c = peerConfig(peerId: ids[name]!)
            c.clusterId = cluster
            c.natType = unrestricted
            c.keepaliveMs = 1000
            c.publicAddress = .udp(ip: "127.0.0.1", port: s.port)
            c.introducers = [Introducer(peerId: ids["introducer"]!, remote: .udp(ip: "127.0.0.1", port: introSocket.port))]
            c.signingSecretKey = try createKeyPair(seed: .of("\(name)'s signing key")).secretKey
            let p = try Peer(config: c, nowMs: host.now(), seed: randomSeed())
            _ = try p.join(nowMs: host.now(), sharedKey: key)
            members[name] = p
            host.add(name, peer: p, main: s, onEvent: onEvent)
        }

        let messages = ["alice": "hello bob, this is alice", "bob": "hi alice, bob here"]
        var published: Set<String> = []
        let ok = try host.run(deadlineMs: deadline) {
            for (name, p) in members where connected.contains(name) && !published.contains(name) {
                _ = try p.publish(nowMs: host.now(), sharedKey: key, eventName: "chat", payload: Data(messages[name]!.utf8))
                published.insert(name)
            }
            return received["alice"] == messages["bob"] && received["bob"] == messages["alice"]
        }
        print("loopback: \(ok ? "exchanged" : "timed out") in \(host.now()) ms; " +
              host.nodes.map { "\($0.name) out \($0.datagramsOut) in \($0.datagramsIn)" }.joined(separator: ", "))
        XCTAssertTrue(ok, "the messages did not arrive within \(deadline) ms: \(received)")
        XCTAssertEqual(received["alice"], messages["bob"])
        XCTAssertEqual(received["bob"], messages["alice"])
        for n in host.nodes {
            try n.peer.close(nowMs: host.now())
            while try n.peer.pollEvent() != nil {}
        }
    }
}
