import Foundation
import StreamRelay
import XCTest

/// The flow vectors (vectors/flows.json, format streamrelay-flows/1) replayed
/// through the Swift `Peer` itself: config, seed, then every input at its
/// time, and the transmits, events, deadline and command results compared
/// with the recorded ones. Every flow: a flow's behaviour switches are those
/// of one profile (`PeerConfig.profile`; a switch set the profile does not
/// give would show as a different transmit), and the config fields the
/// flows change from the defaults (`limits.poolSize`, `timings.sprayPorts`)
/// are set. A command that fails must fail here too; its error text is the
/// binding's own.
final class FlowsTests: XCTestCase {
    private func flowFile() -> URL {
        let dir = ProcessInfo.processInfo.environment["STREAMRELAY_VECTORS_DIR"]
            .map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).appendingPathComponent("../../../../vectors").standardized
        return dir.appendingPathComponent("flows.json")
    }

    private func remote(_ s: String) -> Remote {
        if s.hasPrefix("link:") { return .link(id: UInt64(s.dropFirst(5))!) }
        let cut = s.lastIndex(of: ":")!
        var ip = String(s[..<cut])
        if ip.hasPrefix("[") { ip = String(ip.dropFirst().dropLast()) }
        return .udp(ip: ip, port: UInt16(s[s.index(after: cut)...])!)
    }

    private func text(_ r: Remote) -> String {
        switch r {
        case let .udp(ip, port): return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
        case let .link(id): return "link:\(id)"
        }
    }

    private func socket(_ s: String) -> SocketId {
        switch s {
        case "main": return .main
        case "probe": return .probe
        default: return .pool(id: UInt16(s.dropFirst(5))!)
        }
    }

    private func text(_ s: SocketId) -> String {
        switch s {
        case .main: return "main"
        case .probe: return "probe"
        case let .pool(id): return "pool:\(id)"
        }
    }

    private func hex(_ d: Data?) -> Any { d.map { $0.hex } ?? NSNull() }

    private func num<T: BinaryInteger>(_ n: T?) -> Any { n.map { Int($0) } ?? NSNull() }

    /// An event in the flow format (vectors/README.md).
    private func json(_ e: PeerEvent) -> [String: Any] {
        switch e {
        case let .ready(nat, address, port):
            return ["type": "Ready", "nat": num(nat), "address": address ?? NSNull(), "port": num(port)]
        case let .natChange(old, new):
            return ["type": "NatChange", "old": num(old), "new": num(new)]
        case let .connection(peerId, remote, nat, proxy, socket):
            return ["type": "Connection", "peerId": peerId.hex, "remote": text(remote), "nat": Int(nat),
                    "proxy": hex(proxy), "socket": text(socket)]
        case let .disconnection(peerId, reason):
            return ["type": "Disconnection", "peerId": peerId.hex, "reason": reason == .missing ? "Missing" : reason == .forgotten ? "Forgotten" : "Evicted"]
        case let .join(clusterId, subclusterId, peerId):
            return ["type": "Join", "clusterId": clusterId.hex, "subclusterId": subclusterId.hex, "peerId": peerId.hex]
        case let .intro(peerId, remote, nat, introducer, strategy, rendezvous):
            return ["type": "Intro", "peerId": peerId.hex, "remote": text(remote), "nat": Int(nat),
                    "introducer": introducer.hex, "strategy": Int(strategy), "rendezvous": rendezvous]
        case let .openPoolSockets(sockets):
            return ["type": "OpenPoolSockets", "sockets": sockets.map { text($0) }]
        case let .closePoolSockets(sockets):
            return ["type": "ClosePoolSockets", "sockets": sockets.map { text($0) }]
        case .closed:
            return ["type": "Closed"]
        case let .packet(clusterId, subclusterId, eventHash, payload, packetId, headId, publisher, hops, from, streamFrom):
            return ["type": "Packet", "clusterId": clusterId.hex, "subclusterId": subclusterId.hex,
                    "eventHash": eventHash.hex, "packetId": packetId.hex, "from": text(from),
                    "streamFrom": hex(streamFrom), "payload": payload.hex, "headId": hex(headId),
                    "publisher": publisher.hex, "hops": Int(hops)]
        case let .answer(queryId, packetId, index, message, from):
            return ["type": "Answer", "queryId": queryId.hex, "packetId": packetId.hex, "index": Int(index),
                    "message": message.hex, "from": text(from)]
        case let .syncFinished(remote, prefix):
            return ["type": "SyncFinished", "remote": text(remote), "prefix": prefix]
        case let .unverified(clusterId, subclusterId, eventHash, payload, packetId, publisher, reason, from, streamFrom):
            return ["type": "Unverified", "clusterId": clusterId.hex, "subclusterId": subclusterId.hex,
                    "eventHash": eventHash.hex, "packetId": packetId.hex, "from": text(from),
                    "streamFrom": hex(streamFrom), "payload": payload.hex, "publisher": publisher.hex,
                    "reason": reason == .badSignature ? "BadSignature" : "BadPublisherKey"]
        case let .unopenable(clusterId, subclusterId, eventHash, packetId, error, from, streamFrom):
            return ["type": "Unopenable", "clusterId": clusterId.hex, "subclusterId": subclusterId.hex,
                    "eventHash": eventHash.hex, "packetId": packetId.hex, "from": text(from),
                    "streamFrom": hex(streamFrom), "error": error]
        default:
            return ["type": "not in any flow yet: \(e)"]
        }
    }

    private func config(_ c: [String: Any]) throws -> PeerConfig {
        let introducers = (c["introducers"] as! [[String: Any]]).map {
            Introducer(peerId: Data(hex: $0["peerId"] as! String)!, remote: remote($0["remote"] as! String))
        }
        let signing = try (c["signingSeed"] as? String).map { try createKeyPair(seed: .text(text: $0)).secretKey }
        var limits = defaultLimits()
        limits.poolSize = ((c["limits"] as! [String: Any])["poolSize"] as! NSNumber).uint16Value
        var timings = defaultTimings()
        timings.sprayPorts = ((c["timings"] as! [String: Any])["sprayPorts"] as! NSNumber).uint16Value
        // The reference floods a Join 16 hops; the improved profile 1.
        let hops = ((c["behaviour"] as! [String: Any])["joinRelayHops"] as! NSNumber).intValue
        return PeerConfig(
            peerId: Data(hex: c["peerId"] as! String)!,
            clusterId: (c["clusterId"] as? String).flatMap { Data(hex: $0) },
            indexed: c["indexed"] as! Bool,
            natType: (c["natType"] as? NSNumber).map { UInt8($0.intValue) },
            publicAddress: (c["publicAddress"] as? String).map { remote($0) },
            keepaliveMs: (c["keepaliveMs"] as! NSNumber).uint64Value,
            wallClockOffsetMs: (c["wallClockOffsetMs"] as! NSNumber).int64Value,
            introducers: introducers,
            limitExempt: c["limitExempt"] as! Bool,
            signingSecretKey: signing,
            limits: limits,
            timings: timings,
            autoSync: c["autoSync"] as! Bool,
            profile: hops == 16 ? .reference : .improved
        )
    }

    /// One canonical text per JSON value, to compare what was recorded with
    /// what the Peer gives.
    private func canon(_ v: Any?) -> String {
        guard let v, !(v is NSNull) else { return "null" }
        let d = try! JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed])
        return String(decoding: d, as: UTF8.self)
    }

    func testEveryFlowThroughThePeerApi() throws {
        let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: flowFile())) as! [String: Any]
        XCTAssertEqual(doc["format"] as? String, "streamrelay-flows/1")
        let flows = doc["flows"] as! [[String: Any]]
        XCTAssertGreaterThanOrEqual(flows.count, 20, "too few flows")
        var steps = 0
        for flow in flows {
            let name = flow["name"] as! String
            let cfg = try config(flow["config"] as! [String: Any])
            var peer = try Peer(config: cfg, nowMs: (flow["start"] as! NSNumber).uint64Value,
                                seed: Data(hex: flow["seed"] as! String)!)
            for (i, step) in (flow["steps"] as! [[String: Any]]).enumerated() {
                let at = (step["at"] as! NSNumber).uint64Value
                let input = step["input"] as! [String: Any]
                let expect = step["expect"] as! [String: Any]
                let kind = input["kind"] as! String
                func key() throws -> Data { try createSharedKey(seed: .text(text: input["sharedKeySeed"] as! String)) }
                func bytes(_ k: String) -> Data { Data(hex: input[k] as! String)! }
                var result: [String: Any]?
                do {
                    switch kind {
                    case "datagram":
                        try peer.handleDatagram(nowMs: at, socket: socket(input["socket"] as! String),
                                                remote: remote(input["remote"] as! String), bytes: bytes("hex"))
                    case "timeout": try peer.handleTimeout(nowMs: at)
                    case "join": result = ["subclusterId": try peer.join(nowMs: at, sharedKey: key()).hex]
                    case "publish":
                        let ttl = (input["ttl"] as? NSNumber).map { UInt32($0.intValue) }
                        result = ["packetIds": try peer.publish(nowMs: at, sharedKey: key(), eventName: input["eventName"] as! String,
                                                                payload: bytes("payload"), options: PublishOptions(ttlMs: ttl)).map { $0.hex }]
                    case "stream":
                        result = ["packetIds": try peer.stream(nowMs: at, peerId: bytes("peerId"), sharedKey: key(),
                                                               eventName: input["eventName"] as! String, payload: bytes("payload")).map { $0.hex }]
                    case "query":
                        result = ["queryId": try peer.query(nowMs: at, questionJson: "{\"packetId\":\"\(input["packetId"] as! String)\"}").hex]
                    case "sync":
                        try peer.sync(nowMs: at, peerId: bytes("peerId"))
                        result = [:]
                    case "snapshot": result = ["snapshot": try peer.snapshot(nowMs: at).hex]
                    case "restore":
                        peer = try Peer.restore(config: cfg, nowMs: at, seed: bytes("seed"), snapshot: bytes("snapshot"))
                        result = [:]
                    case "disconnect": try peer.disconnect(nowMs: at)
                    case "reconnect": try peer.reconnect(nowMs: at)
                    case "close": try peer.close(nowMs: at)
                    default: XCTFail("\(name) steps[\(i)]: unknown input \(kind)")
                    }
                } catch let e as StreamRelayError {
                    result = ["error": "\(e)"]
                }
                var transmits: [[String: Any]] = []
                while let t = try peer.pollTransmit(nowMs: at) {
                    transmits.append(["socket": text(t.socket), "remote": text(t.remote), "hex": t.bytes.hex])
                }
                var events: [[String: Any]] = []
                while let e = try peer.pollEvent() { events.append(json(e)) }
                let timeout: Any = try peer.pollTimeout().map { Int($0) } ?? NSNull()
                let at_ = "\(name) steps[\(i)] (at \(at), \(kind))"
                if let want = expect["result"] as? [String: Any], want["error"] != nil {
                    XCTAssertNotNil(result?["error"], "\(at_): expected an error")
                } else {
                    XCTAssertEqual(canon(result), canon(expect["result"]), "\(at_): result")
                }
                XCTAssertEqual(canon(transmits), canon(expect["transmits"]), "\(at_): transmits")
                XCTAssertEqual(canon(events), canon(expect["events"]), "\(at_): events")
                XCTAssertEqual(canon(timeout), canon(expect["timeout"]), "\(at_): timeout")
                steps += 1
            }
        }
        print("flows.json through the Swift Peer: \(flows.count) flows, \(steps) steps replayed")
    }
}
