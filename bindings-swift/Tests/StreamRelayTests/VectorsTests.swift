import Foundation
import StreamRelay
import XCTest

/// The golden vectors (vectors/NAME.json) through the Swift API: every case
/// through `vectorsCheck` (the Rust runner behind the bindings), and the
/// kinds the idiomatic API covers — keys and ids, NAT strategies, id
/// validation, packet decoding — case by case through those functions.
final class VectorsTests: XCTestCase {
    func vectorFiles() throws -> [URL] {
        let dir = ProcessInfo.processInfo.environment["STREAMRELAY_VECTORS_DIR"]
            .map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: #filePath).appendingPathComponent("../../../../vectors").standardized
        let files = try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            // A vector file is a JSON file in the format (vectors/schema.json is not one).
            .filter { url in
                guard let d = try? Data(contentsOf: url),
                      let doc = try? JSONSerialization.jsonObject(with: d) as? [String: Any] else { return false }
                return doc["format"] as? String == "latica-oracle-vectors/1"
            }
            .sorted { $0.path < $1.path }
        XCTAssertFalse(files.isEmpty, "no vector files in \(dir.path)")
        return files
    }

    func testEveryCaseThroughTheRunner() throws {
        XCTAssertTrue(hasVectors(), "the test library is built with the `vectors` feature")
        for url in try vectorFiles() {
            let bytes = try Data(contentsOf: url)
            let doc = try JSONSerialization.jsonObject(with: bytes) as! [String: Any]
            let total = UInt64((doc["cases"] as! [Any]).count)
            let r = try vectorsCheck(file: bytes, only: [])
            for line in r.lines where line.hasPrefix("FAIL") { print(line) }
            print("\(url.lastPathComponent): \(r.passed) passed, \(r.failed) failed, \(r.deviations) deviations (of \(total))")
            XCTAssertEqual(r.failed, 0)
            XCTAssertEqual(r.passed + r.deviations, total)
        }
    }

    /// The flow vectors (vectors/flows.json): every flow replayed through `vectorsCheck`.
    func testEveryFlowThroughTheRunner() throws {
        let url = try vectorFiles()[0].deletingLastPathComponent().appendingPathComponent("flows.json")
        let bytes = try Data(contentsOf: url)
        let doc = try JSONSerialization.jsonObject(with: bytes) as! [String: Any]
        XCTAssertEqual(doc["format"] as? String, "streamrelay-flows/1")
        let total = UInt64((doc["flows"] as! [Any]).count)
        let r = try vectorsCheck(file: bytes, only: [])
        for line in r.lines { print(line) }
        print("flows.json: \(r.passed) passed, \(r.failed) failed (of \(total) flows)")
        XCTAssertEqual(r.failed, 0)
        XCTAssertEqual(r.passed, total)
    }

    func testTheRunnerRefusesWhatIsNotAVectorFile() {
        XCTAssertThrowsError(try vectorsCheck(file: Data("{}".utf8), only: [])) { error in
            guard case StreamRelayError.Vectors(let reason) = error else {
                return XCTFail("expected StreamRelayError.Vectors, got \(error)")
            }
            XCTAssertTrue(reason.contains("format"), reason)
        }
    }

    private func seed(_ v: Any?) -> Seed? {
        guard let m = v as? [String: Any] else { return nil }
        if let s = m["str"] as? String { return .text(text: s) }
        if let h = m["hex"] as? String, let d = Data(hex: h) { return .bytes(bytes: d) }
        return nil
    }

    private func hex(_ v: Any?) -> String? {
        if let m = v as? [String: Any] { return (m["hex"] ?? m["str"]) as? String }
        return v as? String
    }

    private func nat(_ v: Any?) -> (ok: Bool, value: UInt8?) {
        if v == nil || v is NSNull { return (true, nil) }
        // JSON booleans are not NAT types (their type name says Bool on
        // every Foundation).
        guard let v, !String(describing: type(of: v)).contains("Bool"), let n = v as? NSNumber else { return (false, nil) }
        let d = n.doubleValue
        guard d >= 0, d <= 255, d == d.rounded() else { return (false, nil) }
        return (true, UInt8(d))
    }

    func testKindsThroughTheSwiftApi() throws {
        var checked: [String: Int] = [:]
        var failures: [String] = []
        for url in try vectorFiles() {
            let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
            for case let c as [String: Any] in doc["cases"] as! [Any] {
                let kind = c["kind"] as! String
                let name = c["name"] as! String
                guard let input = c["input"] as? [String: Any], let exp = c["expected"] as? [String: Any],
                      exp["error"] == nil else { continue }
                let ours: String
                let want: String
                switch kind {
                case "crypto.createKeyPair":
                    guard let s = seed(input["seed"]), let pk = hex(exp["publicKey"]), let sk = hex(exp["privateKey"]) else { continue }
                    let kp = try createKeyPair(seed: s)
                    ours = kp.publicKey.hex + kp.secretKey.hex
                    want = pk + sk
                case "crypto.createSharedKey":
                    guard let s = seed(input["seed"]), let w = hex(exp["sharedKey"]) else { continue }
                    ours = try createSharedKey(seed: s).hex
                    want = w
                case "crypto.createClusterId":
                    guard let s = seed(input["value"]), let w = hex(exp["clusterId"]) else { continue }
                    ours = try createClusterId(seed: s).hex
                    want = w
                case "crypto.createId":
                    guard let s = seed(input["value"]), let w = hex(exp["id"]) else { continue }
                    ours = try createId(seed: s).hex
                    want = w
                case "crypto.sha256":
                    guard let v = input["value"] as? [String: Any], let h = v["hex"] as? String,
                          let d = Data(hex: h), let w = hex(exp["output"]) else { continue }
                    let opts = input["opts"] as? [String: Any]
                    let digest = sha256(data: d)
                    // Text in opts.encoding (node's digest(encoding)) unless opts.bytes.
                    if opts?["bytes"] as? Bool == true {
                        ours = digest.hex
                    } else {
                        switch opts?["encoding"] as? String ?? "hex" {
                        case "hex": ours = digest.hex
                        case "base64": ours = digest.base64EncodedString()
                        case "base64url":
                            ours = digest.base64EncodedString()
                                .replacingOccurrences(of: "+", with: "-")
                                .replacingOccurrences(of: "/", with: "_")
                                .replacingOccurrences(of: "=", with: "")
                        case "latin1", "binary": ours = String(digest.map { Character(Unicode.Scalar($0)) })
                        default: continue
                        }
                    }
                    want = w
                case "nat.connectionStrategy":
                    let a = nat(input["a"]), b = nat(input["b"])
                    guard a.ok, b.ok, let s = exp["strategy"] as? NSNumber else { continue }
                    ours = String(connectionStrategy(local: a.value, remote: b.value))
                    want = String(s.intValue)
                case "validate.id":
                    guard input["fn"] as? String == "isValidPeerId", let v = input["value"] as? String,
                          let r = exp["result"] as? Bool else { continue }
                    ours = String(isValidPeerId(value: v))
                    want = String(r)
                case "packet.decode":
                    guard let h = hex(input), let d = Data(hex: h), let accepted = exp["accepted"] as? Bool,
                          c["quirk"] as? Bool != true else { continue }
                    let p = try? decodePacket(bytes: d)
                    ours = String(p != nil)
                    want = String(accepted)
                    if let p, accepted, let dec = exp["decoded"] as? [String: Any],
                       let t = dec["type"] as? NSNumber, t.intValue != Int(p.packetType) {
                        failures.append("\(name): type \(p.packetType) expected \(t)")
                    }
                default:
                    continue
                }
                checked[kind, default: 0] += 1
                if ours != want { failures.append("\(name) (\(kind)): ours \(ours) expected \(want)") }
            }
        }
        print("checked through the Swift API: " + checked.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for f in failures.prefix(20) { print(f) }
        XCTAssertEqual(failures.count, 0)
        for k in ["crypto.createKeyPair", "crypto.createSharedKey", "crypto.createClusterId", "crypto.createId",
                  "nat.connectionStrategy", "validate.id", "packet.decode"] {
            XCTAssertGreaterThan(checked[k, default: 0], 0, "no \(k) case checked")
        }
    }

    func testErrorsAreTypedAndPanicsDoNotCrash() throws {
        let p = try Peer(config: peerConfig(peerId: try createId(seed: .of("no cluster"))).with { $0.indexed = true },
                         nowMs: 0, seed: Data(count: 32))
        XCTAssertThrowsError(try p.join(nowMs: 0, sharedKey: Data(count: 3))) { error in
            guard case StreamRelayError.InvalidArgument(let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("32 bytes"), reason)
        }
        XCTAssertThrowsError(try p.join(nowMs: 0, sharedKey: Data(count: 32))) { error in
            XCTAssertEqual(error as? StreamRelayError, .NoCluster)
        }
        XCTAssertThrowsError(try debugPanic(message: "from swift")) { error in
            XCTAssertTrue("\(error)".contains("from swift"), "\(error)")
        }
    }
}

extension PeerConfig {
    /// A copy with changes: `config.with { $0.indexed = true }`.
    func with(_ change: (inout PeerConfig) -> Void) -> PeerConfig {
        var c = self
        change(&c)
        return c
    }
}
