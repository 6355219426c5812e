// A thin idiomatic layer over the generated bindings (StreamRelay.swift):
// hex and seeds, UDP sockets on Glibc/Darwin, and a poll(2) host loop that
// drives any number of sans-IO peers on real sockets. See README.md for how
// the same loop maps to Network.framework on Apple platforms.

import Foundation

#if canImport(Glibc)
import Glibc
private let udpType = Int32(SOCK_DGRAM.rawValue)
#elseif canImport(Darwin)
import Darwin
private let udpType = SOCK_DGRAM
#endif

extension Data {
    /// Lower-case hex.
    public var hex: String { map { String(format: "%02x", $0) }.joined() }

    /// Bytes from hex (nil when it is not hex).
    public init?(hex: String) {
        guard let d = try? fromHex(hex: hex) else { return nil }
        self = d
    }
}

extension Seed {
    /// A text seed: `try createId(seed: .of("alice"))`.
    public static func of(_ text: String) -> Seed { .text(text: text) }
}

/// Milliseconds on the monotonic clock.
public func monotonicMs() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
}

/// Errors of the socket layer.
public struct SocketError: Error, CustomStringConvertible {
    public let call: String
    public let errno: Int32
    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// A non-blocking IPv4 UDP socket.
public final class UDPSocket {
    public let fd: Int32
    public let port: UInt16

    /// Binds 127.0.0.1 on an ephemeral port (or `port`).
    public init(loopbackPort port: UInt16 = 0) throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, udpType | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_INET, udpType, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        #endif
        guard fd >= 0 else { throw SocketError(call: "socket", errno: errno) }
        var addr = UDPSocket.sockaddr4(ip: 0x7f00_0001, port: port)
        let r = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard r == 0 else { close(fd); throw SocketError(call: "bind", errno: errno) }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        self.fd = fd
        self.port = UInt16(bigEndian: addr.sin_port)
    }

    deinit { close(fd) }

    static func sockaddr4(ip: UInt32, port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr.s_addr = ip.bigEndian
        return a
    }

    /// Sends one datagram to an IPv4 remote (other remotes are skipped).
    @discardableResult
    public func send(_ bytes: Data, to remote: Remote) -> Bool {
        guard case let .udp(ip, port) = remote else { return false }
        var in4 = in_addr()
        guard inet_pton(AF_INET, ip, &in4) == 1 else { return false }
        var a = UDPSocket.sockaddr4(ip: UInt32(bigEndian: in4.s_addr), port: port)
        let n = bytes.withUnsafeBytes { buf in
            withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, buf.baseAddress, buf.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return n == bytes.count
    }

    /// The next waiting datagram and its sender; nil when none is waiting.
    public func receive(into buffer: inout [UInt8]) -> (Data, Remote)? {
        var from = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = buffer.withUnsafeMutableBytes { buf in
            withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, buf.baseAddress, buf.count, 0, $0, &len)
                }
            }
        }
        guard n >= 0 else { return nil }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &from.sin_addr, &text, socklen_t(INET_ADDRSTRLEN))
        let ip = text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return (Data(buffer[0..<n]), .udp(ip: ip, port: UInt16(bigEndian: from.sin_port)))
    }
}

/// A host for sans-IO peers: each peer has a main UDP socket (plus the pool
/// sockets it asks for); one poll(2) loop waits for datagrams or the next
/// timer (`pollTimeout`), feeds `handleDatagram` / `handleTimeout`, sends
/// what `pollTransmit` returns and hands every event to the node's handler.
public final class PollHost {
    /// One peer and the sockets this host owns for it.
    public final class Node {
        public let name: String
        public let peer: Peer
        public let main: UDPSocket
        public var pool: [UInt16: UDPSocket] = [:]
        public var datagramsIn = 0
        public var datagramsOut = 0
        let onEvent: (Node, PeerEvent) throws -> Void

        init(name: String, peer: Peer, main: UDPSocket, onEvent: @escaping (Node, PeerEvent) throws -> Void) {
            self.name = name
            self.peer = peer
            self.main = main
            self.onEvent = onEvent
        }

        func socket(_ id: SocketId) -> UDPSocket? {
            switch id {
            case .main: return main
            case let .pool(id): return pool[id]
            case .probe: return nil  // unused with a static NAT type
            }
        }
    }

    public private(set) var nodes: [Node] = []
    private let start = monotonicMs()
    private var buffer = [UInt8](repeating: 0, count: 2048)

    public init() {}

    /// Milliseconds since the host started (the peers' clock).
    public func now() -> UInt64 { monotonicMs() - start }

    /// Adds a peer with its bound main socket.
    @discardableResult
    public func add(_ name: String, peer: Peer, main: UDPSocket,
                    onEvent: @escaping (Node, PeerEvent) throws -> Void) -> Node {
        let n = Node(name: name, peer: peer, main: main, onEvent: onEvent)
        nodes.append(n)
        return n
    }

    /// Runs until `step` (called every round, after timers, events and
    /// sends) returns true — then true — or until `deadlineMs` on the host
    /// clock passes — then false.
    public func run(deadlineMs: UInt64, step: () throws -> Bool) throws -> Bool {
        while now() < deadlineMs {
            var next = now() + 1000
            for n in nodes {
                if let t = try n.peer.pollTimeout(), t <= now() {
                    try n.peer.handleTimeout(nowMs: now())
                }
                if let t = try n.peer.pollTimeout(), t < next { next = t }
                try drainEvents(n)
                try flush(n)
            }
            let done = try step()
            for n in nodes { try flush(n) }
            if done { return true }

            var fds: [pollfd] = []
            var owners: [(Node, SocketId, UDPSocket)] = []
            for n in nodes {
                fds.append(pollfd(fd: n.main.fd, events: Int16(POLLIN), revents: 0))
                owners.append((n, .main, n.main))
                for (id, s) in n.pool {
                    fds.append(pollfd(fd: s.fd, events: Int16(POLLIN), revents: 0))
                    owners.append((n, .pool(id: id), s))
                }
            }
            let t = now()
            let wait = next > t ? Int32(min(next - t, 1000)) : 0
            let r = poll(&fds, nfds_t(fds.count), wait)
            if r < 0 && errno != EINTR { throw SocketError(call: "poll", errno: errno) }
            for (i, f) in fds.enumerated() where r > 0 && f.revents & Int16(POLLIN) != 0 {
                let (n, id, s) = owners[i]
                while let (bytes, from) = s.receive(into: &buffer) {
                    try n.peer.handleDatagram(nowMs: now(), socket: id, remote: from, bytes: bytes)
                    n.datagramsIn += 1
                }
            }
        }
        return false
    }

    /// Sends everything the node's peer has queued.
    public func flush(_ n: Node) throws {
        while let t = try n.peer.pollTransmit(nowMs: now()) {
            guard let s = n.socket(t.socket) else { continue }
            if s.send(t.bytes, to: t.remote) { n.datagramsOut += 1 }
        }
    }

    private func drainEvents(_ n: Node) throws {
        while let e = try n.peer.pollEvent() {
            switch e {
            case let .openPoolSockets(sockets):
                for case let .pool(id) in sockets { n.pool[id] = try UDPSocket() }
            case let .closePoolSockets(sockets):
                for case let .pool(id) in sockets { n.pool[id] = nil }
            default:
                break
            }
            try n.onEvent(n, e)
        }
    }
}
