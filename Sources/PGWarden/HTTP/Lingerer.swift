import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Drains connections that were answered before their request body was read (401, 413), so
/// that closing them does not send a reset that would destroy the answer in the client's
/// receive buffer (RFC 9112 section 9.6, "lingering close"). Bounded in every direction: at
/// most `maxSockets` sockets, `maxBytes` read from each and `lingerTime` per socket; past any
/// bound the socket is simply closed.
final class Lingerer: Sendable {
    static let maxSockets = 64
    static let maxBytes = 16 << 20
    static let lingerTime: Duration = .seconds(2)

    private struct Draining {
        var fd: Int32
        var until: ContinuousClock.Instant
        var read = 0
    }

    private let sockets = Mutex<(list: [Draining], stopped: Bool)>(([], false))
    /// A pipe whose read end wakes the thread when a socket is adopted or the lingerer stops.
    private let wake: (read: Int32, write: Int32)

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds {
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            }
        } else {
            fds = [-1, -1]
        }
        wake = (fds[0], fds[1])
    }

    deinit {
        if wake.read >= 0 { close(wake.read) }
        if wake.write >= 0 { close(wake.write) }
    }

    func start() {
        guard wake.read >= 0 else { return }
        let context = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        if pthread_create(&thread, nil, lingererMain, context) == 0 {
            pthread_detach(thread)
        } else {
            Unmanaged<Lingerer>.fromOpaque(context).release()
        }
    }

    func stop() {
        sockets.withLock { $0.stopped = true }
        poke()
    }

    /// Takes ownership of `fd` (already answered; shuts down its sending side); false when full,
    /// and the caller closes it.
    func adopt(_ fd: Int32) -> Bool {
        let adopted = sockets.withLock { state -> Bool in
            guard !state.stopped, wake.read >= 0, state.list.count < Self.maxSockets else { return false }
            state.list.append(Draining(fd: fd, until: .now + Self.lingerTime))
            return true
        }
        if adopted {
            shutdown(fd, Int32(SHUT_WR))
            poke()
        }
        return adopted
    }

    private func poke() {
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    /// One round: waits for data on any socket (or the wake pipe), reads and drops it, and
    /// closes sockets at end of stream, on error, or past their bounds. False once stopped.
    fileprivate func round() -> Bool {
        let (list, stopped) = sockets.withLock { ($0.list, $0.stopped) }
        if stopped {
            sockets.withLock { state in
                for entry in state.list { close(entry.fd) }
                state.list = []
            }
            return false
        }
        var polled = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
        polled += list.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
        _ = poll(&polled, nfds_t(polled.count), list.isEmpty ? -1 : 100)
        var drained = [UInt8](repeating: 0, count: 16384)
        if polled[0].revents != 0 { _ = read(wake.read, &drained, drained.count) }
        var finished: Set<Int32> = []
        var counts: [Int32: Int] = [:]
        for item in polled.dropFirst() where item.revents != 0 {
            let n = read(item.fd, &drained, drained.count)
            if n > 0 { counts[item.fd] = n } else if n == 0 || (errno != EAGAIN && errno != EINTR) { finished.insert(item.fd) }
        }
        let now = ContinuousClock.now
        sockets.withLock { state in
            state.list = state.list.compactMap { entry in
                var entry = entry
                entry.read += counts[entry.fd] ?? 0
                if finished.contains(entry.fd) || entry.until <= now || entry.read > Self.maxBytes {
                    close(entry.fd)
                    return nil
                }
                return entry
            }
        }
        return true
    }
}

private func lingererMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    let lingerer = Unmanaged<Lingerer>.fromOpaque(context).takeRetainedValue()
    while lingerer.round() {}
    return nil
}
