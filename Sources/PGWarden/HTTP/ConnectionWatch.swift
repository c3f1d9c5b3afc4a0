import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Every open connection of the HTTP server, with the deadline by which its current request
/// must be fully received. libmicrohttpd's own timeout is an idle timeout that each trickled
/// byte resets; this one is not: a watchdog thread shuts down the socket of a connection whose
/// request (headers and body) is not in by its deadline, however slowly bytes keep arriving.
///
/// Sockets are only touched under the lock, and a connection leaves the table (in
/// libmicrohttpd's CLOSED notification) under the same lock before libmicrohttpd closes its
/// socket, so the watchdog never shuts down a descriptor that was closed and reused.
final class ConnectionWatch: Sendable {
    /// One connection: its socket, when its request must be in, and whether it should be
    /// drained before closing (answered before its body was read).
    struct Entry {
        var fd: Int32
        var deadline: ContinuousClock.Instant?
        var linger = false
        var cut = false
    }

    private let table = Mutex<[UInt: Entry]>([:])
    /// How long a request may take to arrive, from the connection's start or the previous
    /// response's end.
    let requestTimeout: Duration
    private let stopped = Atomic<Bool>(false)
    /// Connections cut by the watchdog (for the log and tests).
    let cutCount = Atomic<Int>(0)
    let lingerer = Lingerer()

    init(requestTimeout: Duration) {
        self.requestTimeout = requestTimeout
    }

    /// Starts the watchdog thread (it ends after `stop`).
    func start() {
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        if pthread_create(&thread, nil, watchdogMain, context) == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<ConnectionWatch>.fromOpaque(context).release()
        }
        lingerer.start()
    }

    func stop() {
        stopped.store(true, ordering: .sequentiallyConsistent)
        lingerer.stop()
    }

    /// A new connection: its request must arrive within the timeout.
    func opened(_ key: UInt, fd: Int32) {
        let deadline = ContinuousClock.now + requestTimeout
        table.withLock { $0[key] = Entry(fd: fd, deadline: deadline) }
    }

    /// The request is fully received (or answered from its headers): no deadline while the
    /// handler runs and the response is sent (libmicrohttpd's idle timeout covers a stalled reader).
    func received(_ key: UInt) {
        table.withLock { $0[key]?.deadline = nil }
    }

    /// The response was answered before the body was read: drain the socket before closing.
    func lingerOnClose(_ key: UInt) {
        table.withLock { $0[key]?.linger = true }
    }

    /// The response is sent: the next request on this connection has a fresh deadline.
    func completed(_ key: UInt) {
        let deadline = ContinuousClock.now + requestTimeout
        table.withLock { table in
            if table[key] != nil, table[key]?.cut == false { table[key]?.deadline = deadline }
        }
    }

    /// libmicrohttpd is closing the connection; called before it closes the socket. A connection
    /// answered early keeps a duplicate of its socket, drained by the lingerer, so the client can
    /// read the answer instead of a reset.
    func closed(_ key: UInt) {
        table.withLock { table in
            guard let entry = table.removeValue(forKey: key) else { return }
            if entry.linger && !entry.cut {
                let copy = fcntl(entry.fd, F_DUPFD_CLOEXEC, 0)
                if copy >= 0 && !lingerer.adopt(copy) { close(copy) }
            }
        }
    }

    /// Connections currently open.
    var count: Int { table.withLock { $0.count } }

    /// One pass of the watchdog: shuts down every connection past its deadline.
    fileprivate func sweep() -> Bool {
        if stopped.load(ordering: .sequentiallyConsistent) { return false }
        let now = ContinuousClock.now
        table.withLock { table in
            for (key, entry) in table {
                guard let deadline = entry.deadline, deadline <= now, !entry.cut else { continue }
                shutdown(entry.fd, Int32(SHUT_RDWR))
                table[key]?.cut = true
                table[key]?.deadline = nil
                cutCount.add(1, ordering: .relaxed)
            }
        }
        return true
    }
}

/// The watchdog's thread: a sweep every 100 ms until the watch stops.
private func watchdogMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    let watch = Unmanaged<ConnectionWatch>.fromOpaque(context).takeRetainedValue()
    var pause = timespec(tv_sec: 0, tv_nsec: 100_000_000)
    while watch.sweep() {
        nanosleep(&pause, nil)
    }
    return nil
}
