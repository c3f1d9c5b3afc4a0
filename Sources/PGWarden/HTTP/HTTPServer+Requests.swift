import CMicroHTTPD
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What one daemon's callbacks need: the server and the web configuration it serves under.
/// Retained for the daemon's lifetime and released after MHD_stop_daemon.
final class DaemonContext: Sendable {
    let server: HTTPServer
    let web: WebConfig
    /// The TLS texts as C strings: libmicrohttpd keeps the pointers it is given for the daemon's
    /// lifetime, so they are owned here and freed (the key wiped) after the daemon stops.
    let tlsStrings: TLSStrings
    /// Connections suspended and not yet resumed (MHD_stop_daemon must not see any).
    let suspended = Atomic<Int>(0)
    /// Set before the daemon stops: no new suspension, requests needing a worker get 503.
    let stopping = Atomic<Bool>(false)

    init(server: HTTPServer, web: WebConfig) {
        self.server = server
        self.web = web
        tlsStrings = TLSStrings(web.tls)
    }
}

/// C copies of a daemon's TLS texts (nil without TLS).
/// `@unchecked Sendable`: written once in init, read by the daemon start, freed in deinit.
final class TLSStrings: @unchecked Sendable {
    let cert, key, trust, priorities: UnsafeMutablePointer<CChar>?

    init(_ tls: TLSSettings?) {
        cert = tls.map { strdup($0.certificatePEM) }
        key = tls.map { strdup($0.keyPEM) }
        trust = tls?.clientCAPEM.map { strdup($0) }
        priorities = tls.map { strdup($0.priorities) }
    }

    deinit {
        if let key { explicit_bzero(key, strlen(key)) }
        for pointer in [cert, key, trust, priorities] { free(pointer) }
    }
}

/// One request's state between libmicrohttpd's calls of the access handler. Created on the
/// first call, released in NOTIFY_COMPLETED.
/// `@unchecked Sendable`: a request is handled by one polling thread at a time; a worker touches
/// `response`/`authorized` only while the connection is suspended, and resuming it (through
/// libmicrohttpd's locks) orders those writes before the polling thread's next call.
final class RequestState: @unchecked Sendable {
    enum Phase {
        /// Waiting for a bcrypt check of basic auth, before any body byte is read.
        case authorizing
        /// Reading the body (or waiting for the final call).
        case receiving
        /// The handler runs on a worker.
        case processing
        /// Answered.
        case done
    }

    var phase = Phase.receiving
    var head: HTTPRequest
    var body: [UInt8] = []
    var limit = 0
    var lane = WorkLane.standard
    var tooLarge = false
    var authorized = false
    var response: HTTPResponse?

    init(head: HTTPRequest) { self.head = head }

    /// Whether a body may follow the headers (so answering early should drain the socket).
    var mayHaveBody: Bool {
        if let length = head.header("content-length") { return length != "0" }
        return head.header("transfer-encoding") != nil
    }
}

/// libmicrohttpd's access handler: called with the headers, then once per body chunk, then
/// once more with no data; again after each resume. Credentials and the declared size are
/// checked from the headers, before any body byte is buffered; a handler that may block runs
/// on a worker while the connection is suspended.
let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, conCls in
    guard let cls, let connection, let url, let method, let uploadSize, let conCls else { return .NO }
    let context = Unmanaged<DaemonContext>.fromOpaque(cls).takeUnretainedValue()
    guard let existing = conCls.pointee else {
        let state = RequestState(head: requestHead(connection, method: method, url: url))
        conCls.pointee = Unmanaged.passRetained(state).toOpaque()
        return headersArrived(context, connection, state)
    }
    let state = Unmanaged<RequestState>.fromOpaque(existing).takeUnretainedValue()
    switch state.phase {
    case .authorizing:
        guard state.authorized else {
            return reject(context, connection, state, context.server.basicAuthRefusal())
        }
        return admit(context, connection, state)
    case .receiving:
        if uploadSize.pointee > 0 {
            let count = uploadSize.pointee
            uploadSize.pointee = 0
            if state.tooLarge { return .YES }
            if state.body.count + count > state.limit {
                // Past the limit mid-body (chunked): read and dropped, answered 413 at the end;
                // the request deadline bounds how long that may take.
                state.tooLarge = true
                state.body = []
                return .YES
            }
            if let uploadData {
                uploadData.withMemoryRebound(to: UInt8.self, capacity: count) {
                    state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
                }
            }
            return .YES
        }
        context.server.watch.received(key(connection))
        if state.tooLarge {
            return respond(context, connection, state,
                           .error(413, "request body is over the limit of \(state.limit) bytes; send a smaller request"))
        }
        return dispatch(context, connection, state)
    case .processing:
        guard let response = state.response else { return .YES }
        return respond(context, connection, state, response)
    case .done:
        return .YES
    }
}

/// The first call: the web configuration's client-certificate and basic-auth checks, then the
/// handler's own admission (route, method, credentials, declared size).
private func headersArrived(_ context: DaemonContext, _ connection: OpaquePointer, _ state: RequestState) -> MHD_Result {
    if let tls = context.web.tls, tls.clientAuth != .noClientCert {
        let status = pgw_tls_peer_status(connection, tls.clientAuth.code)
        if status != 0 {
            let why = status == 1 ? "this server requires a client certificate" : "the client certificate is not accepted (unknown CA, expired or not for client use)"
            return reject(context, connection, state, .error(403, why))
        }
    }
    guard let users = context.web.users else { return admit(context, connection, state) }
    let authorization = state.head.headerValueBytes("authorization")
    switch users.check(bytes: authorization) {
    case .allowed:
        return admit(context, connection, state)
    case .denied:
        return reject(context, connection, state, context.server.basicAuthRefusal())
    case .needsHashing:
        state.phase = .authorizing
        return suspend(context, connection, on: context.server.hashing) {
            state.authorized = users.verify(bytes: authorization)
        } ifBusy: {
            reject(context, connection, state, .error(503, "too many logins are being checked; retry shortly",
                                                      headers: [("Retry-After", "1")]))
        }
    }
}

/// The handler's admission from the headers; on acceptance the body is read next.
private func admit(_ context: DaemonContext, _ connection: OpaquePointer, _ state: RequestState) -> MHD_Result {
    switch context.server.handler.admit(state.head) {
    case .reject(let response):
        return reject(context, connection, state, response)
    case .accept(let limit, let lane):
        state.limit = limit
        state.lane = lane
        state.phase = .receiving
        return .YES
    }
}

/// Answers from the headers alone, without reading the body; the connection is closed after
/// the answer and drained first, so the client can read it.
private func reject(_ context: DaemonContext, _ connection: OpaquePointer, _ state: RequestState,
                    _ response: HTTPResponse) -> MHD_Result {
    let key = key(connection)
    context.server.watch.received(key)
    if state.mayHaveBody { context.server.watch.lingerOnClose(key) }
    return respond(context, connection, state, response)
}

/// Runs the handler: inline for handlers that never block, otherwise on the lane's workers.
private func dispatch(_ context: DaemonContext, _ connection: OpaquePointer, _ state: RequestState) -> MHD_Result {
    var assembled = state.head
    assembled.body = state.body
    state.body = []
    let request = assembled
    let handler = context.server.handler
    guard let pool = context.server.pool(state.lane) else {
        return respond(context, connection, state, handler.handle(request))
    }
    state.phase = .processing
    return suspend(context, connection, on: pool) {
        state.response = handler.handle(request)
    } ifBusy: {
        respond(context, connection, state, .error(503, "pgwarden is busy with other requests; retry shortly",
                                                   headers: [("Retry-After", "1")]))
    }
}

/// Suspends the connection and runs `work` on `pool`, which resumes it; `ifBusy` answers when
/// the pool is full or the daemon is stopping.
private func suspend(_ context: DaemonContext, _ connection: OpaquePointer, on pool: WorkerPool,
                     _ work: @escaping @Sendable () -> Void, ifBusy: () -> MHD_Result) -> MHD_Result {
    context.suspended.add(1, ordering: .sequentiallyConsistent)
    guard !context.stopping.load(ordering: .sequentiallyConsistent) else {
        context.suspended.subtract(1, ordering: .sequentiallyConsistent)
        return ifBusy()
    }
    let handle = ConnectionHandle(connection)
    let queued = pool.submit({
        work()
        MHD_resume_connection(handle.pointer)
        context.suspended.subtract(1, ordering: .sequentiallyConsistent)
    }, accepted: { MHD_suspend_connection(connection) })
    guard queued else {
        context.suspended.subtract(1, ordering: .sequentiallyConsistent)
        return ifBusy()
    }
    return .YES
}

/// A suspended connection handed to the worker that resumes it.
/// `@unchecked Sendable`: libmicrohttpd keeps a suspended connection alive and untouched until
/// it is resumed, and the worker resumes it exactly once.
struct ConnectionHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// Queues the answer, with the web configuration's headers, and tells the handler its status.
private func respond(_ context: DaemonContext, _ connection: OpaquePointer, _ state: RequestState,
                     _ response: HTTPResponse) -> MHD_Result {
    state.phase = .done
    state.response = nil
    context.server.handler.didRespond(method: state.head.method, path: state.head.path, status: response.status)
    return queue(connection, response, extraHeaders: context.web.headers)
}

/// The table key of a connection.
func key(_ connection: OpaquePointer) -> UInt { UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(connection))) }
