import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 in front of the test server that can lose a connection at the worst
/// moment: once armed with `cutAfter`, the first client message holding the pattern is passed
/// on to the server, which runs it, but its answer never reaches the client, and both sockets
/// are closed half a second later. The client sees its connection lost mid-statement.
final class FaultProxy: @unchecked Sendable {
    // @unchecked: the listening socket is fixed after init; everything shared is under mutexes.
    let port: Int
    private let listener: Int32
    private let upstreamPort: Int
    private let pattern = Mutex<[UInt8]?>(nil)
    /// How long the connection stays open, its answers dropped, before it is closed.
    private let hold = Mutex<Double>(0.5)
    /// The relayed connections, and whether the listener is closed yet (its descriptor is only
    /// shut down or closed under this lock, so never after it was reused).
    private let links = Mutex<(open: [ObjectIdentifier: Link], listenerClosed: Bool)>(([:], false))
    private let stopped = Atomic<Bool>(false)

    /// One relayed connection: its two sockets, closed when both directions have ended.
    final class Link: Sendable {
        let client: Int32
        let upstream: Int32
        /// Set when the connection is being cut: the server's answers are dropped.
        let muted = Atomic<Bool>(false)
        let ended = Atomic<Int>(0)
        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }
    }

    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SetupError("FaultProxy: socket() failed") }
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { close(fd); throw SetupError("FaultProxy: bind/listen failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Arms the fault for the next client message that contains `text`; the connection is
    /// closed `holding` seconds after that message reached the server.
    func cutAfter(_ text: String, holding seconds: Double = 0.5) {
        hold.withLock { $0 = seconds }
        pattern.withLock { $0 = Array(text.utf8) }
    }

    /// Closes the listener and ends every relayed connection (their relays close the sockets).
    func stop() {
        // Under the lock: a relay closes its sockets only after taking the lock to deregister,
        // so no descriptor here can have been closed and reused; and no link is added after.
        links.withLock { links in
            guard !stopped.exchange(true, ordering: .relaxed) else { return }
            // Wakes the accept loop, which then closes the listener.
            if !links.listenerClosed { shutdown(listener, Int32(SHUT_RDWR)) }
            for link in links.open.values {
                shutdown(link.client, Int32(SHUT_RDWR))
                shutdown(link.upstream, Int32(SHUT_RDWR))
            }
        }
    }

    deinit { stop() }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        defer {
            links.withLock { links in
                close(listener)
                links.listenerClosed = true
            }
        }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if stopped.load(ordering: .relaxed) { return }
                // Anything else (EINTR, ECONNABORTED, a network error handed on): try again.
                if errno != EINTR { Thread.sleep(forTimeInterval: 0.01) }
                continue
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: UInt16(upstreamPort))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { close(client); close(upstream); continue }
            let link = Link(client: client, upstream: upstream)
            let added = links.withLock { links -> Bool in
                guard !stopped.load(ordering: .relaxed) else { return false }
                links.open[ObjectIdentifier(link)] = link
                return true
            }
            guard added else { close(client); close(upstream); return }
            Thread.detachNewThread { [self] in relay(link, toServer: true) }
            Thread.detachNewThread { [self] in relay(link, toServer: false) }
        }
    }

    /// Copies bytes until either side closes. Client to server, it watches for the armed pattern;
    /// server to client, it drops everything once the connection is being cut.
    private func relay(_ link: Link, toServer watching: Bool) {
        let (source, destination) = watching ? (link.client, link.upstream) : (link.upstream, link.client)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(source, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { break }
            let chunk = Array(buffer[0..<n])
            var cut = false
            if watching {
                cut = pattern.withLock { armed in
                    guard let needle = armed, Self.contains(chunk, needle) else { return false }
                    armed = nil
                    return true
                }
                if cut { link.muted.store(true, ordering: .relaxed) }
            }
            if !watching && link.muted.load(ordering: .relaxed) { continue }
            guard writeAll(destination, chunk) else { break }
            if cut {
                Thread.sleep(forTimeInterval: hold.withLock { $0 })
                shutdown(source, Int32(SHUT_RDWR))
                shutdown(destination, Int32(SHUT_RDWR))
                break
            }
        }
        shutdown(destination, Int32(SHUT_WR))
        if link.ended.add(1, ordering: .relaxed).newValue == 2 {
            links.withLock { links in
                links.open.removeValue(forKey: ObjectIdentifier(link))
                close(link.client)
                close(link.upstream)
            }
        }
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            // send with MSG_NOSIGNAL: a peer that went away must not raise SIGPIPE in the test process.
            let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
