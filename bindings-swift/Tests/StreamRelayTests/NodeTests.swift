import Foundation
import StreamRelay
import XCTest

/// The ready host from Swift: an introducer and two `Node`s on 127.0.0.1
/// (real UDP sockets, each node's own loop thread; only events cross the
/// FFI) exchange subcluster messages, read as `AsyncStream`s; a node
/// restarted from its state file keeps its identity. Every wait is bounded.
final class NodeTests: XCTestCase {
    let waitSeconds: Double = {
        let ms = ProcessInfo.processInfo.environment["STREAMRELAY_TEST_DEADLINE_MS"].flatMap { Double($0) }
        return (ms ?? 20000) / 1000
    }()

    func introducer() throws -> Node {
        var c = peerConfig(peerId: Data(count: 32))
        c.indexed = true
        c.natType = natTypes().unrestricted
        return try Node.start(options: NodeOptions(config: c, bindIp: "127.0.0.1"))
    }

    func peer(_ intro: Node, stateFile: String? = nil) throws -> Node {
        guard case let .udp(_, port) = intro.localAddress() else { throw XCTSkip("no UDP address") }
        var c = peerConfig(peerId: Data(count: 32))
        c.clusterId = try createClusterId(seed: .of("swift node tests"))
        c.natType = natTypes().unrestricted
        c.keepaliveMs = 2000
        c.introducers = [Introducer(peerId: intro.peerId(), remote: .udp(ip: "127.0.0.1", port: port))]
        return try Node.start(options: NodeOptions(config: c, bindIp: "127.0.0.1", stateFile: stateFile))
    }

    /// Waits (bounded) for a packet with payload `text` on `events`.
    static func packet(_ events: AsyncStream<NodeEvent>, _ text: String) async -> Bool {
        for await e in events {
            if case let .peer(event: .packet(_, _, _, payload, _, _, _, _, _, _)) = e,
                String(decoding: payload, as: UTF8.self) == text
            {
                return true
            }
        }
        return false
    }

    func testTwoNodesExchangeSubclusterMessagesOverUdp() async throws {
        let room = try createSharedKey(seed: .of("swift node room"))
        let intro = try introducer()
        let alice = try peer(intro)
        let bob = try peer(intro)
        let aliceEvents = try alice.events()
        let bobEvents = try bob.events()
        XCTAssertThrowsError(try alice.events(), "one stream per node")
        _ = try alice.join(sharedKey: room)
        _ = try bob.join(sharedKey: room)
        // Published before anyone is connected: kept and sent when peers come.
        _ = try bob.publish(sharedKey: room, eventName: "greeting", payload: Data("hello from bob".utf8))
        _ = try alice.publish(sharedKey: room, eventName: "greeting", payload: Data("hello from alice".utf8))

        // Bounded: after the deadline the nodes close, which finishes the
        // streams.
        let nodes = [alice, bob, intro]
        let wait = waitSeconds
        let timer = Task {
            try await Task.sleep(nanoseconds: UInt64(wait * 1e9))
            for n in nodes { try? await n.shutdown() }
        }
        async let a = NodeTests.packet(aliceEvents, "hello from bob")
        async let b = NodeTests.packet(bobEvents, "hello from alice")
        let (gotA, gotB) = await (a, b)
        timer.cancel()
        XCTAssertTrue(gotA, "alice got bob's message")
        XCTAssertTrue(gotB, "bob got alice's message")

        let s = alice.status()
        XCTAssertTrue(s.peers.contains { $0.peerId == bob.peerId().map { String(format: "%02x", $0) }.joined() })
        XCTAssertGreaterThan(s.datagramsIn, 0)
        XCTAssertTrue(s.local.hasPrefix("127.0.0.1:"))
        for n in [alice, bob, intro] { try? await n.shutdown() }
        do {
            _ = try alice.join(sharedKey: room)
            XCTFail("join after close")
        } catch StreamRelayError.Closed {}
    }

    func testRestartFromTheStateFileKeepsTheIdentity() async throws {
        let room = try createSharedKey(seed: .of("swift node room"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sr-node-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("node.state").path
        let intro = try introducer()
        let first = try peer(intro, stateFile: path)
        let id = first.peerId()
        let scid = try first.join(sharedKey: room)
        let saved = try await first.save()
        XCTAssertTrue(saved)
        try await first.shutdown()

        let again = try peer(intro, stateFile: path)
        XCTAssertEqual(again.peerId(), id)
        XCTAssertNil(again.status().restoreError)
        // The subcluster came back from the file.
        XCTAssertTrue(try again.leave(subclusterId: scid))
        try await again.shutdown()
        do {
            try await again.shutdown()
            XCTFail("second shutdown")
        } catch StreamRelayError.Closed {}
        try await intro.shutdown()
    }

    func testBadOptionsAreTypedErrors() throws {
        XCTAssertThrowsError(
            try Node.start(options: NodeOptions(config: peerConfig(peerId: Data(count: 32)), bindIp: "not an ip"))
        ) { e in
            guard case StreamRelayError.InvalidArgument = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(
            try Node.start(options: NodeOptions(config: peerConfig(peerId: Data(count: 32)), bindIp: "127.0.0.1"))
        ) { e in
            guard case StreamRelayError.InvalidConfig = e else { return XCTFail("\(e)") }
        }
    }
}
