import Foundation
import StreamRelay
import XCTest

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Links from Swift: two `Node`s with no UDP path between them reach each
/// other over a Unix socketpair (the stand-in for a Bluetooth L2CAP
/// channel) handed over as file descriptors, and a subcluster message
/// crosses it; garbage written on another link is skipped and counted; a
/// pushed link (the shape of `CBL2CAPChannel`'s streams) takes bytes from
/// `linkInput` and writes through a `LinkWriter`; a bridge on both a
/// socketpair link and UDP carries messages between a link-only phone and
/// a node on the Internet, both ways. Every wait is bounded.
final class LinkTests: XCTestCase {
    let waitSeconds: Double = {
        let ms = ProcessInfo.processInfo.environment["STREAMRELAY_TEST_DEADLINE_MS"].flatMap { Double($0) }
        return (ms ?? 20000) / 1000
    }()

    func lonely() throws -> Node {
        var c = peerConfig(peerId: Data(count: 32))
        c.clusterId = try createClusterId(seed: .of("swift link tests"))
        c.natType = natTypes().unrestricted
        c.keepaliveMs = 1000
        return try Node.start(options: NodeOptions(config: c, bindIp: "127.0.0.1"))
    }

    func socketPair() throws -> (Int32, Int32) {
        var sv: [Int32] = [0, 0]
        #if canImport(Glibc)
            let kind = Int32(SOCK_STREAM.rawValue)
        #else
            let kind = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, kind, 0, &sv) == 0 else { throw XCTSkip("no socketpair") }
        return (sv[0], sv[1])
    }

    func eventually(_ f: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(waitSeconds)
        while Date() < end {
            if f() { return true }
            usleep(20_000)
        }
        return f()
    }

    /// Reads `node`'s events until one matches (or the deadline).
    func next(_ node: Node, _ f: (NodeEvent) -> Bool) -> NodeEvent? {
        let end = Date().addingTimeInterval(waitSeconds)
        while Date() < end {
            if let e = node.nextEvent(timeoutMs: 200), f(e) { return e }
        }
        return nil
    }

    func testTwoNodesOverASocketpair() throws {
        let room = try createSharedKey(seed: .of("swift link room"))
        let a = try lonely()
        let b = try lonely()
        defer {
            let done = DispatchSemaphore(value: 0)
            Task {
                try? await a.shutdown()
                try? await b.shutdown()
                done.signal()
            }
            done.wait()
        }
        _ = try a.join(sharedKey: room)
        _ = try b.join(sharedKey: room)
        let (left, right) = try socketPair()
        let la = try a.addLinkFd(fd: left)
        _ = try b.addLinkFd(fd: right)
        let bHex = b.peerId().map { String(format: "%02x", $0) }.joined()
        XCTAssertTrue(eventually { a.status().peers.contains { $0.peerId == bHex && $0.connected } })
        _ = try b.publish(sharedKey: room, eventName: "island", payload: Data("hello over l2cap".utf8))
        let got = next(a) {
            if case let .peer(event: .packet(_, _, _, payload, _, _, _, _, _, _)) = $0 {
                return String(decoding: payload, as: UTF8.self) == "hello over l2cap"
            }
            return false
        }
        XCTAssertNotNil(got)
        let s = a.status()
        XCTAssertEqual(s.datagramsOut, 0, "nothing over UDP")
        XCTAssertEqual(s.links.first?.id, la)
        XCTAssertEqual(s.links.first?.kind, "fd")
        XCTAssertEqual(s.links.first?.skippedBytes, 0)

        // Garbage on a second link: skipped and counted; closing our end
        // closes the link.
        let (mine, theirs) = try socketPair()
        let lbad = try a.addLinkFd(fd: mine)
        let junk = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        XCTAssertEqual(junk.withUnsafeBytes { write(theirs, $0.baseAddress, $0.count) }, 1000)
        XCTAssertTrue(eventually { a.status().links.contains { $0.id == lbad && $0.skippedBytes == 1000 } })
        close(theirs)
        let closed = next(a) {
            if case .linkClosed = $0 { return true }
            return false
        }
        guard case let .linkClosed(link, _) = closed else { return XCTFail("no LinkClosed") }
        XCTAssertEqual(link, lbad)
        XCTAssertFalse(a.removeLink(link: lbad))
        XCTAssertThrowsError(try a.linkInput(link: lbad, bytes: Data([1])))
    }

    /// The output side of a pushed link: what the node writes, kept.
    final class Sink: LinkWriter, @unchecked Sendable {
        let lock = NSLock()
        var bytes = Data()
        func write(bytes: Data) -> UInt64 {
            lock.lock()
            self.bytes.append(bytes)
            lock.unlock()
            return UInt64(bytes.count)
        }
    }

    func testAPushedLinkWritesFramesAndCountsGarbage() throws {
        let a = try lonely()
        defer {
            let done = DispatchSemaphore(value: 0)
            Task {
                try? await a.shutdown()
                done.signal()
            }
            done.wait()
        }
        let sink = Sink()
        let link = try a.addLinkWriter(writer: sink)
        // The node greets the other end at once: a frame (sync marker A5 5C).
        XCTAssertTrue(eventually {
            sink.lock.lock()
            defer { sink.lock.unlock() }
            return sink.bytes.count > 9 && sink.bytes.prefix(2) == Data([0xA5, 0x5C])
        })
        try a.linkInput(link: link, bytes: Data(repeating: 0x41, count: 500))
        XCTAssertEqual(a.status().links.first?.skippedBytes, 500)
        XCTAssertEqual(a.status().links.first?.kind, "pushed")
        XCTAssertTrue(a.removeLink(link: link))
    }

    func testABridgeCarriesMessagesBetweenALinkAndUdp() throws {
        var ic = peerConfig(peerId: Data(count: 32))
        ic.indexed = true
        ic.natType = natTypes().unrestricted
        let intro = try Node.start(options: NodeOptions(config: ic, bindIp: "127.0.0.1"))
        guard case let .udp(_, port) = intro.localAddress() else { throw XCTSkip("no UDP address") }
        func online() throws -> Node {
            var c = peerConfig(peerId: Data(count: 32))
            c.clusterId = try createClusterId(seed: .of("swift link tests"))
            c.natType = natTypes().unrestricted
            c.keepaliveMs = 2000
            c.introducers = [Introducer(peerId: intro.peerId(), remote: .udp(ip: "127.0.0.1", port: port))]
            return try Node.start(options: NodeOptions(config: c, bindIp: "127.0.0.1"))
        }
        let bridge = try online()
        let far = try online()
        let phone = try lonely()
        defer {
            let done = DispatchSemaphore(value: 0)
            Task {
                for n in [phone, far, bridge, intro] { try? await n.shutdown() }
                done.signal()
            }
            done.wait()
        }
        let room = try createSharedKey(seed: .of("swift bridge room"))
        for n in [phone, bridge, far] { _ = try n.join(sharedKey: room) }
        let (left, right) = try socketPair()
        _ = try phone.addLinkFd(fd: left)
        _ = try bridge.addLinkFd(fd: right)
        let phoneHex = phone.peerId().map { String(format: "%02x", $0) }.joined()
        XCTAssertTrue(eventually { bridge.status().peers.contains { $0.peerId == phoneHex && $0.connected } })
        func got(_ node: Node, _ text: String) -> Bool {
            next(node) {
                if case let .peer(event: .packet(_, _, _, payload, _, _, _, _, _, _)) = $0 {
                    return String(decoding: payload, as: UTF8.self) == text
                }
                return false
            } != nil
        }
        _ = try far.publish(sharedKey: room, eventName: "news", payload: Data("from the internet".utf8))
        XCTAssertTrue(got(phone, "from the internet"), "the phone gets the Internet's message")
        _ = try phone.publish(sharedKey: room, eventName: "news", payload: Data("from the island".utf8))
        XCTAssertTrue(got(far, "from the island"), "the Internet gets the phone's message")
        XCTAssertEqual(phone.status().datagramsOut, 0, "the phone sent nothing over UDP")
    }
}
