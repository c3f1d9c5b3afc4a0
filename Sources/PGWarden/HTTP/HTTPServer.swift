import CMicroHTTPD
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not start (or take a new web configuration).
public struct HTTPServerError: Error, CustomStringConvertible {
    public var description: String
}

/// The embedded HTTP server: libmicrohttpd polling with epoll from a small fixed pool of
/// threads that never block. Requests that may wait (a scrape, a webhook, a bcrypt check) are
/// suspended and handed to worker threads, which resume them with the answer. A watchdog cuts
/// requests that are not fully received within `HTTPLimits.requestTimeout`.
///
/// `@unchecked Sendable`: the daemons live in `state`, touched only under its lock; everything
/// else is immutable or Sendable.
public final class HTTPServer: @unchecked Sendable {
    let handler: any HTTPHandler
    let logger: Logger
    let limits: HTTPLimits
    let watch: ConnectionWatch
    private let workers: [WorkLane: WorkerPool]
    /// bcrypt checks of `basic_auth_users`, one at a time.
    let hashing: WorkerPool
    private let state = Mutex<ServerState>(ServerState())
    private let boundPort = Atomic<Int>(0)

    /// A running daemon, the context its callbacks get, and its own duplicate of the listening
    /// socket. libmicrohttpd closes the socket it is given when it fails to start or stops, so
    /// each daemon gets a duplicate and the server keeps the original; a quiesced daemon hands its
    /// duplicate back, closed only after the daemon has stopped (its threads may still use it).
    struct Running: @unchecked Sendable {
        // @unchecked: the daemon pointer is only used under the server's lock, by start/reload/stop.
        let daemon: OpaquePointer
        let context: DaemonContext
        let listenCopy: Int32
    }

    struct ServerState {
        var current: Running?
        /// Daemons replaced by a reload, still finishing their connections.
        var draining: [Running] = []
        var listenFD: Int32 = -1
    }

    /// The port actually bound (differs from the requested one when that was 0).
    public var port: Int { boundPort.load(ordering: .relaxed) }

    public init(handler: any HTTPHandler, logger: Logger, limits: HTTPLimits = HTTPLimits()) {
        self.handler = handler
        self.logger = logger
        self.limits = limits
        watch = ConnectionWatch(requestTimeout: limits.requestTimeout)
        workers = [
            .standard: WorkerPool(name: "http", threads: limits.workerThreads, capacity: limits.queueCapacity),
            .actions: WorkerPool(name: "actions", threads: limits.actionThreads, capacity: limits.queueCapacity),
        ]
        hashing = WorkerPool(name: "bcrypt", threads: 1, capacity: 64)
    }

    /// The pool for a lane (nil for `.inline`).
    func pool(_ lane: WorkLane) -> WorkerPool? { workers[lane] }

    /// Binds and starts serving under `web`. Throws a message naming the address and the reason.
    public func start(_ address: ListenAddress, web: WebConfig = .plain) throws {
        var err: Int32 = 0
        let fd = address.host.withCString { pgw_listen(address.host.isEmpty ? nil : $0, address.port, 1024, &err) }
        guard fd >= 0 else {
            let reason: String
            if err == EADDRINUSE {
                reason = "the address is already in use; stop the other process or choose another --web.listen-address"
            } else if err == EACCES {
                reason = "permission denied; ports below 1024 need privileges, choose another --web.listen-address"
            } else if err == EADDRNOTAVAIL {
                reason = "this machine has no such address; check the host part of --web.listen-address"
            } else if err <= -1000 {
                reason = "the host name does not resolve; check the host part of --web.listen-address"
            } else {
                reason = String(cString: strerror(err))
            }
            throw HTTPServerError(description: "cannot listen on \(address): \(reason)")
        }
        boundPort.store(Int(pgw_socket_port(fd)), ordering: .relaxed)
        guard let running = launch(fd: fd, web: web) else {
            close(fd)
            throw HTTPServerError(description: "cannot start the HTTP server on \(address): libmicrohttpd refused to start"
                + (web.tls != nil ? " (check the TLS certificate and key)" : ""))
        }
        watch.start()
        state.withLock {
            $0.listenFD = fd
            $0.current = running
        }
    }

    /// Serves under a new web configuration without dropping the listening socket: a new daemon
    /// starts on it, then the old one stops accepting and finishes its connections in the
    /// background. On failure the old daemon keeps serving and the error says why.
    public func reload(web: WebConfig) throws {
        try state.withLock { state in
            guard let old = state.current, state.listenFD >= 0 else {
                throw HTTPServerError(description: "the HTTP server is not running")
            }
            guard let fresh = launch(fd: state.listenFD, web: web) else {
                throw HTTPServerError(description: "libmicrohttpd refused to start with the new web configuration"
                    + (web.tls != nil ? " (check the TLS certificate and key)" : ""))
            }
            guard MHD_quiesce_daemon(old.daemon) >= 0 else {
                // Cannot happen with an internal thread and ITC; keep the old daemon serving.
                _ = MHD_quiesce_daemon(fresh.daemon)
                terminate(fresh, quiesced: true)
                throw HTTPServerError(description: "libmicrohttpd could not hand over the listening socket")
            }
            state.current = fresh
            state.draining.append(old)
        }
        reapDrained()
    }

    /// Stops daemons replaced by a reload, each from a background thread once it has no
    /// connection left (or after a minute, whatever it still holds), so a slow client never
    /// holds up SIGHUP.
    func reapDrained() {
        let draining = state.withLock { $0.draining }
        for old in draining {
            let job = Unmanaged.passRetained(DrainJob(server: self, running: old, started: .now))
            var thread = pthread_t()
            if pthread_create(&thread, nil, drainMain, job.toOpaque()) == 0 {
                pthread_detach(thread)
            } else {
                job.release()
            }
        }
    }

    /// Waits (bounded) for a quiesced daemon's connections to end, then stops it. The daemon is
    /// only looked at under the lock while it is still listed, so `stop` cannot free it meanwhile.
    func drain(_ old: Running, until: ContinuousClock.Instant) {
        var pause = timespec(tv_sec: 0, tv_nsec: 50_000_000)
        while ContinuousClock.now < until {
            let open = state.withLock { state -> Int32 in
                state.draining.contains { $0.daemon == old.daemon } ? pgw_mhd_daemon_connections(old.daemon) : 0
            }
            if open <= 0 { break }
            nanosleep(&pause, nil)
        }
        let stillHeld = state.withLock { state -> Bool in
            guard let index = state.draining.firstIndex(where: { $0.daemon == old.daemon }) else { return false }
            state.draining.remove(at: index)
            return true
        }
        guard stillHeld else { return }
        terminate(old, quiesced: true)
    }

    /// Stops accepting, lets the requests being handled finish, and closes the socket.
    public func stop() {
        let (current, draining, listenFD) = state.withLock { state -> (Running?, [Running], Int32) in
            defer {
                state.current = nil
                state.draining = []
                state.listenFD = -1
            }
            return (state.current, state.draining, state.listenFD)
        }
        for old in draining { terminate(old, quiesced: true) }
        if let current { terminate(current, quiesced: false) }
        if listenFD >= 0 { close(listenFD) }
        watch.stop()
        for pool in workers.values { pool.stop() }
        hashing.stop()
    }

    /// MHD_stop_daemon panics on suspended connections: refuse new suspensions, wait for the
    /// workers to resume the ones they hold, then stop. The daemon closes its copy of the
    /// listening socket unless it was quiesced, in which case it is closed here, after the stop.
    private func terminate(_ running: Running, quiesced: Bool) {
        running.context.stopping.store(true, ordering: .sequentiallyConsistent)
        var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        while running.context.suspended.load(ordering: .sequentiallyConsistent) > 0 { nanosleep(&pause, nil) }
        MHD_stop_daemon(running.daemon)
        if quiesced { close(running.listenCopy) }
        Unmanaged.passUnretained(running.context).release()
    }

    /// Starts a daemon on a duplicate of `fd` serving under `web`; nil when libmicrohttpd
    /// refuses. After a refusal the duplicate is left alone: libmicrohttpd closes it on most
    /// failure paths, and closing it again could close a descriptor another thread just opened
    /// (at worst one duplicate of the socket pgwarden holds anyway stays open).
    private func launch(fd: Int32, web: WebConfig) -> Running? {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return nil }
        let context = DaemonContext(server: self, web: web)
        let retained = Unmanaged.passRetained(context).toOpaque()
        let tls = context.tlsStrings
        var config = pgw_mhd_config(
            listen_fd: copy, handler: accessHandler, handler_cls: retained,
            completed: requestCompleted, completed_cls: retained,
            notify: connectionNotified, notify_cls: retained,
            thread_pool_size: UInt32(limits.pollingThreads), connection_limit: UInt32(limits.maxConnections),
            per_ip_connection_limit: UInt32(limits.maxConnectionsPerIP),
            connection_memory_limit: limits.connectionMemoryBytes,
            idle_timeout_seconds: UInt32(limits.idleTimeoutSeconds),
            tls_cert: tls.cert.map { UnsafePointer($0) }, tls_key: tls.key.map { UnsafePointer($0) },
            tls_trust: tls.trust.map { UnsafePointer($0) }, tls_priorities: tls.priorities.map { UnsafePointer($0) })
        guard let daemon = pgw_mhd_start(&config) else {
            Unmanaged<DaemonContext>.fromOpaque(retained).release()
            return nil
        }
        return Running(daemon: daemon, context: context, listenCopy: copy)
    }

    deinit { stop() }
}

/// A quiesced daemon handed to a background thread that stops it once drained.
final class DrainJob: @unchecked Sendable {
    // @unchecked: built on one thread, then used only by the drain thread it is handed to.
    let server: HTTPServer
    let running: HTTPServer.Running
    let started: ContinuousClock.Instant
    init(server: HTTPServer, running: HTTPServer.Running, started: ContinuousClock.Instant) {
        self.server = server
        self.running = running
        self.started = started
    }
}

private func drainMain(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let context else { return nil }
    let job = Unmanaged<DrainJob>.fromOpaque(context).takeRetainedValue()
    job.server.drain(job.running, until: job.started + .seconds(60))
    return nil
}

extension HTTPServer {
    /// pgwarden_http_connections and pgwarden_http_requests_cut_total.
    public func families() -> [MetricFamily] {
        [
            MetricFamily("pgwarden_http_connections", .gauge,
                         help: "HTTP connections open now (including the scrape's own).",
                         samples: [Sample(Double(watch.count))]),
            MetricFamily("pgwarden_http_requests_cut_total", .counter,
                         help: "Connections closed because their request was not fully received within --web.request-timeout.",
                         samples: [Sample(Double(watch.cutCount.load(ordering: .relaxed)))]),
        ]
    }
}
