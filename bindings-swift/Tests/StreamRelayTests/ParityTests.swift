import Foundation
import StreamRelay
import XCTest

/// A firewall that drops one remote and records what it saw; it also calls
/// back into its own peer, which must throw `Busy` rather than deadlock.
final class BanOne: PeerFirewall, @unchecked Sendable {
    let banned: Remote
    weak var peer: Peer?
    var seen = 0
    var reentry: Error?

    init(banned: Remote) { self.banned = banned }

    func allow(packet: PacketInfo, remote: Remote, socket: SocketId) throws -> Bool {
        seen += 1
        do { _ = try peer?.clock() } catch { reentry = error }
        return remote != banned
    }
}

/// A firewall with a bug: it always throws.
final class Broken: PeerFirewall, @unchecked Sendable {
    struct Bug: Error {}
    func allow(packet: PacketInfo, remote: Remote, socket: SocketId) throws -> Bool { throw Bug() }
}

/// The UniFFI Peer's parity with the core: config records, the firewall,
/// the data plane on a peer with no connections. No sockets.
final class ParityTests: XCTestCase {
    let cluster = try! createClusterId(seed: .of("parity test"))

    func config(_ name: String, port: UInt16) throws -> PeerConfig {
        try peerConfig(peerId: createId(seed: .of(name))).with {
            $0.clusterId = cluster
            $0.natType = natTypes().unrestricted
            $0.publicAddress = .udp(ip: "127.0.0.1", port: port)
            $0.limitExempt = true
            $0.signingSecretKey = try! createKeyPair(seed: .of("\(name) signing")).secretKey
        }
    }

    func testConfigRecordsDefaultToTheCoreAndCustomLimitsApply() throws {
        XCTAssertEqual(defaultLimits(), PeerLimits())
        XCTAssertEqual(defaultQuotas(), PeerQuotas())
        XCTAssertEqual(defaultExpiry(), PeerExpiry())
        XCTAssertEqual(defaultTimings(), PeerTimings())
        XCTAssertEqual(defaultFanout(), PeerFanout())
        let base = try config("limits", port: 41100)
        XCTAssertEqual(base.limits, PeerLimits())

        let p = try Peer(config: base.with { $0.limits = PeerLimits(maxPeers: 1, maxSyncSendsPerWindow: 7) },
                         nowMs: 0, seed: Data(count: 32))
        try p.addIntroducer(peerId: createId(seed: .of("i1")), remote: .udp(ip: "127.0.0.1", port: 41101))
        XCTAssertThrowsError(try p.addIntroducer(peerId: createId(seed: .of("i2")), remote: .udp(ip: "127.0.0.1", port: 41102))) {
            XCTAssertEqual($0 as? StreamRelayError, .TableFull)
        }
        XCTAssertEqual(try p.occupancy().peers, 1)

        XCTAssertThrowsError(try Peer(config: base.with { $0.limits.maxEvents = 0 }, nowMs: 0, seed: Data(count: 32))) {
            guard case StreamRelayError.ZeroLimit(let name) = $0 else { return XCTFail("\($0)") }
            XCTAssertEqual(name, "max_events")
        }
    }

    func testFirewallDropsOneRemoteAndFailsClosed() throws {
        let alice = try Peer(config: config("alice", port: 41110).with { $0.indexed = true },
                             nowMs: 0, seed: Data(repeating: 1, count: 32))
        try alice.handleTimeout(nowMs: 0)
        while try alice.pollEvent() != nil {}
        let bob = try Peer(config: config("bob", port: 41111).with {
            $0.introducers = [Introducer(peerId: try! createId(seed: .of("alice")), remote: .udp(ip: "127.0.0.1", port: 41110))]
        }, nowMs: 0, seed: Data(repeating: 2, count: 32))
        try bob.handleTimeout(nowMs: 0)
        var pings: [Data] = []
        while let t = try bob.pollTransmit(nowMs: 0) { pings.append(t.bytes) }
        XCTAssertFalse(pings.isEmpty)

        let banned = Remote.udp(ip: "127.0.0.1", port: 41111)
        let fw = BanOne(banned: banned)
        fw.peer = alice
        try alice.setFirewall(firewall: fw)
        for d in pings { try alice.handleDatagram(nowMs: 1, socket: .main, remote: banned, bytes: d) }
        XCTAssertEqual(fw.seen, pings.count)
        XCTAssertEqual(fw.reentry as? StreamRelayError, .Busy)
        XCTAssertEqual(try alice.dropped(reason: .firewall), UInt64(pings.count))
        var connections = 0
        while let e = try alice.pollEvent() { if case .connection = e { connections += 1 } }
        XCTAssertEqual(connections, 0)

        let other = Remote.udp(ip: "127.0.0.1", port: 41112)
        for d in pings { try alice.handleDatagram(nowMs: 2, socket: .main, remote: other, bytes: d) }
        XCTAssertEqual(fw.seen, 2 * pings.count)
        XCTAssertEqual(try alice.dropped(reason: .firewall), UInt64(pings.count))

        try alice.setFirewall(firewall: Broken())
        for d in pings { try alice.handleDatagram(nowMs: 3, socket: .main, remote: other, bytes: d) }
        XCTAssertEqual(try alice.dropped(reason: .firewall), UInt64(2 * pings.count))
        try alice.setFirewall(firewall: nil)
        try alice.close(nowMs: 4)
    }

    func testDataPlaneWithoutConnections() throws {
        let p = try Peer(config: config("lonely", port: 41120), nowMs: 0, seed: Data(repeating: 3, count: 32))
        let key = try createSharedKey(seed: .of("parity subcluster"))
        _ = try p.join(nowMs: 0, sharedKey: key)
        try p.handleTimeout(nowMs: 0)
        XCTAssertEqual(try p.subclusters().count, 1)

        XCTAssertEqual(try p.query(nowMs: 0, questionJson: #"{"packetId":"ab"}"#).count, 32)
        XCTAssertThrowsError(try p.query(nowMs: 0, questionJson: "not json")) {
            guard case StreamRelayError.InvalidJson = $0 else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try p.answer(nowMs: 0, queryId: Data(count: 32), message: Data("x".utf8))) {
            XCTAssertEqual($0 as? StreamRelayError, .UnknownQuery)
        }
        XCTAssertThrowsError(try p.stream(nowMs: 0, peerId: createId(seed: .of("nobody")), sharedKey: key,
                                          eventName: "chat", payload: Data("hi".utf8))) {
            XCTAssertEqual($0 as? StreamRelayError, .UnknownPeer)
        }
        let ids = try p.publish(nowMs: 0, sharedKey: key, eventName: "chat", payload: Data("hello".utf8),
                                options: PublishOptions(ttlMs: 60_000, metaJson: #"{"a":1}"#))
        XCTAssertEqual(ids.count, 1)
        XCTAssertTrue(try p.cachedIds().contains(ids[0]))
        XCTAssertTrue(try p.unpublishedIds().contains(ids[0]))
        XCTAssertEqual(try p.metrics().published, 1)
        XCTAssertEqual(try p.cacheSummaryHash().count, 40)
        XCTAssertEqual(try p.publicEndpoint().address, "127.0.0.1")
        try p.close(nowMs: 1)
        XCTAssertThrowsError(try p.query(nowMs: 1, questionJson: #"{"packetId":"cd"}"#)) {
            XCTAssertEqual($0 as? StreamRelayError, .Closed)
        }
    }
}
