import CMicroHTTPD
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Why the server could not start.
public struct HTTPServerError: Error, CustomStringConvertible {
    public var description: String
}

/// The embedded HTTP server: libmicrohttpd with one thread per connection, so a handler may
/// block on the database without holding up other connections.
/// `@unchecked Sendable`: `daemon` is written once in `start` before any callback can run and
/// read only by `stop`; the handler is itself Sendable.
public final class HTTPServer: @unchecked Sendable {
    let handler: any HTTPHandler
    private let logger: Logger
    private var daemon: OpaquePointer?
    private var listenFD: Int32 = -1
    /// The port actually bound (differs from the requested one when that was 0).
    public private(set) var port: Int = 0

    public init(handler: any HTTPHandler, logger: Logger) {
        self.handler = handler
        self.logger = logger
    }

    /// Binds and starts serving. Throws a message naming the address and the reason.
    public func start(_ address: ListenAddress, connectionLimit: Int = 128, idleTimeoutSeconds: Int = 30) throws {
        var err: Int32 = 0
        let fd = address.host.withCString { pgw_listen(address.host.isEmpty ? nil : $0, address.port, 128, &err) }
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
        listenFD = fd
        port = Int(pgw_socket_port(fd))
        let context = Unmanaged.passUnretained(self).toOpaque()
        daemon = pgw_mhd_start(fd, accessHandler, context, requestCompleted, nil,
                               UInt32(connectionLimit), UInt32(idleTimeoutSeconds))
        guard daemon != nil else {
            close(fd)
            throw HTTPServerError(description: "cannot start the HTTP server on \(address): libmicrohttpd refused to start")
        }
    }

    /// Stops accepting, finishes the requests in progress and closes the socket.
    public func stop() {
        guard let daemon else { return }
        self.daemon = nil
        MHD_stop_daemon(daemon)
        if listenFD >= 0 { close(listenFD) }
        listenFD = -1
    }

    deinit { stop() }
}

/// Per-request state kept by libmicrohttpd between the calls of one request.
final class RequestState {
    /// Header values as the client sent them (names lowercased); decoded to text only for `HTTPRequest.headers`.
    var headers: [String: [UInt8]] = [:]
    var body: [UInt8] = []
    var limit: Int = 0
    var tooLarge = false
    var responded = false
}

/// libmicrohttpd's access handler: called with the headers, then once per body chunk, then
/// once more with no data. A request whose route takes no body (including unknown paths and
/// wrong methods) is answered from the headers; a body over the limit is read and dropped,
/// then answered 413 (answering mid-upload would only close the connection).
private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, conCls in
    guard let cls, let connection, let url, let method, let uploadSize, let conCls else { return .NO }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    let methodText = String(cString: method)
    let path = String(cString: url)

    guard let existing = conCls.pointee else {
        let state = RequestState()
        _ = MHD_get_connection_values(connection, .HEADER_KIND, collectHeader,
                                      Unmanaged.passUnretained(state).toOpaque())
        state.limit = server.handler.maxBodyBytes(method: methodText, path: path)
        conCls.pointee = Unmanaged.passRetained(state).toOpaque()
        if state.limit == 0 {
            state.responded = true
            return dispatch(server, connection, methodText, path, state)
        }
        if let length = state.headers["content-length"].flatMap({ Int(String(decoding: $0, as: UTF8.self)) }),
           length > state.limit {
            state.responded = true
            return respond(server, connection, methodText, path,
                           .error(413, "request body of \(length) bytes is over the limit of \(state.limit) bytes; send a smaller request"))
        }
        return .YES
    }
    let state = Unmanaged<RequestState>.fromOpaque(existing).takeUnretainedValue()
    if uploadSize.pointee > 0 {
        let count = uploadSize.pointee
        uploadSize.pointee = 0
        if state.responded || state.tooLarge { return .YES }
        if state.body.count + count > state.limit {
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
    if state.responded { return .YES }
    state.responded = true
    if state.tooLarge {
        return respond(server, connection, methodText, path,
                       .error(413, "request body is over the limit of \(state.limit) bytes; send a smaller request"))
    }
    return dispatch(server, connection, methodText, path, state)
}

/// Builds the request and queues the handler's response.
private func dispatch(_ server: HTTPServer, _ connection: OpaquePointer, _ method: String, _ path: String,
                      _ state: RequestState) -> MHD_Result {
    var address = [CChar](repeating: 0, count: 64)
    pgw_mhd_client_address(connection, &address, address.count)
    let arguments = QueryArguments()
    _ = MHD_get_connection_values(connection, .GET_ARGUMENT_KIND, collectArgument,
                                  Unmanaged.passUnretained(arguments).toOpaque())
    let request = HTTPRequest(method: method, path: path, queryItems: arguments.items,
                              headers: state.headers.mapValues { String(decoding: $0, as: UTF8.self) },
                              headerBytes: state.headers, body: state.body, clientAddress: address.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    state.body = []
    return respond(server, connection, method, path, server.handler.handle(request))
}

/// Queues `response` and tells the handler which status the request got (for its counters).
private func respond(_ server: HTTPServer, _ connection: OpaquePointer, _ method: String, _ path: String,
                     _ response: HTTPResponse) -> MHD_Result {
    server.handler.didRespond(method: method, path: path, status: response.status)
    return queue(connection, response)
}

/// Query-string arguments, collected through libmicrohttpd's iterator (already URL-decoded).
final class QueryArguments {
    var items: [String: String] = [:]
}

private let collectArgument: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let arguments = Unmanaged<QueryArguments>.fromOpaque(cls).takeUnretainedValue()
    arguments.items[String(cString: key)] = value.map { String(cString: $0) } ?? ""
    return .YES
}

/// Releases the per-request state when libmicrohttpd is done with the request.
private let requestCompleted: MHD_RequestCompletedCallback = { _, _, conCls, _ in
    guard let conCls, let state = conCls.pointee else { return }
    Unmanaged<RequestState>.fromOpaque(state).release()
    conCls.pointee = nil
}

/// Copies one header into the request state: the name lowercased, the value's bytes as sent
/// (`String(cString:)` would replace invalid UTF-8, making different values equal). A repeated
/// header's values are joined with ", ".
private let collectHeader: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let state = Unmanaged<RequestState>.fromOpaque(cls).takeUnretainedValue()
    let name = String(cString: key).lowercased()
    let bytes = value.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self),
                                                      count: strlen($0))) } ?? []
    if let previous = state.headers[name] {
        state.headers[name] = previous + Array(", ".utf8) + bytes
    } else {
        state.headers[name] = bytes
    }
    return .YES
}

/// Hands a response to libmicrohttpd.
private func queue(_ connection: OpaquePointer, _ response: HTTPResponse) -> MHD_Result {
    let mhdResponse: OpaquePointer? = response.body.withUnsafeBytes { buffer in
        MHD_create_response_from_buffer(buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                                        .RESPMEM_MUST_COPY)
    }
    guard let mhdResponse else { return .NO }
    defer { MHD_destroy_response(mhdResponse) }
    _ = MHD_add_response_header(mhdResponse, "Content-Type", response.contentType)
    for (name, value) in response.headers { _ = MHD_add_response_header(mhdResponse, name, value) }
    return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
}
