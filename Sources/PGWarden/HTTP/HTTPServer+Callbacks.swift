import CMicroHTTPD

#if canImport(Glibc)
import Glibc
#endif

// libmicrohttpd's other callbacks (connection start and end, request end) and the helpers that
// copy a request's head out of it and hand it a response.

/// NOTIFY_CONNECTION: a connection starts (its request deadline starts; a TLS session is told
/// what to ask of client certificates before its handshake) or closes (it leaves the table
/// before libmicrohttpd closes the socket).
let connectionNotified: MHD_NotifyConnectionCallback = { cls, connection, _, toe in
    guard let cls, let connection else { return }
    let context = Unmanaged<DaemonContext>.fromOpaque(cls).takeUnretainedValue()
    switch toe.rawValue {
    case 0:  // MHD_CONNECTION_NOTIFY_STARTED
        context.server.watch.opened(key(connection), fd: pgw_mhd_connection_fd(connection))
        if let tls = context.web.tls { _ = pgw_tls_prepare(connection, tls.clientAuth.code) }
    case 1:  // MHD_CONNECTION_NOTIFY_CLOSED
        context.server.watch.closed(key(connection))
    default:
        break
    }
}

/// NOTIFY_COMPLETED: releases the request's state; the next request on the connection gets a
/// fresh deadline.
let requestCompleted: MHD_RequestCompletedCallback = { cls, connection, conCls, _ in
    if let cls, let connection {
        Unmanaged<DaemonContext>.fromOpaque(cls).takeUnretainedValue().server.watch.completed(key(connection))
    }
    guard let conCls, let state = conCls.pointee else { return }
    Unmanaged<RequestState>.fromOpaque(state).release()
    conCls.pointee = nil
}

/// The request line, headers, query arguments and client address, without a body.
func requestHead(_ connection: OpaquePointer, method: UnsafePointer<CChar>, url: UnsafePointer<CChar>) -> HTTPRequest {
    let collected = Collected()
    let box = Unmanaged.passUnretained(collected).toOpaque()
    _ = MHD_get_connection_values(connection, .HEADER_KIND, collectHeader, box)
    _ = MHD_get_connection_values_n(connection, .GET_ARGUMENT_KIND, collectArgument, box)
    var address = [CChar](repeating: 0, count: 64)
    pgw_mhd_client_address(connection, &address, address.count)
    var request = HTTPRequest(method: String(cString: method), path: String(cString: url), queryItems: collected.arguments,
                              headers: collected.headers.mapValues { String(decoding: $0, as: UTF8.self) },
                              headerBytes: collected.headers,
                              clientAddress: address.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
    request.repeatedQueryKeys = collected.repeatedArguments
    return request
}

/// Headers (values as the client sent them) and query arguments gathered through
/// libmicrohttpd's iterators.
final class Collected {
    var headers: [String: [UInt8]] = [:]
    var arguments: [String: String] = [:]
    var repeatedArguments: Set<String> = []
}

/// Copies one header: the name lowercased, the value's bytes as sent (`String(cString:)` would
/// replace invalid UTF-8, making different values equal). A repeated header's values are joined
/// with ", ".
private let collectHeader: MHD_KeyValueIterator = { cls, _, key, value in
    guard let cls, let key else { return .YES }
    let collected = Unmanaged<Collected>.fromOpaque(cls).takeUnretainedValue()
    let name = String(cString: key).lowercased()
    let bytes = value.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self),
                                                      count: strlen($0))) } ?? []
    if let previous = collected.headers[name] {
        collected.headers[name] = previous + Array(", ".utf8) + bytes
    } else {
        collected.headers[name] = bytes
    }
    return .YES
}

/// Copies one query argument (already URL-decoded), every byte of it: a `%00` in the URL stays
/// in the value, so `target=db1%00x` is not read as `db1`.
private let collectArgument: MHD_KeyValueIteratorN = { cls, _, key, keySize, value, valueSize in
    guard let cls, let key else { return .YES }
    let collected = Unmanaged<Collected>.fromOpaque(cls).takeUnretainedValue()
    func text(_ pointer: UnsafePointer<CChar>, _ size: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: pointer, count: size), as: UTF8.self)
    }
    let name = text(key, keySize)
    if collected.arguments[name] != nil { collected.repeatedArguments.insert(name) }
    collected.arguments[name] = value.map { text($0, valueSize) } ?? ""
    return .YES
}

extension HTTPServer {
    /// 401 for the web configuration's basic auth.
    func basicAuthRefusal() -> HTTPResponse {
        .error(401, "this server requires HTTP basic auth with a user from its web configuration",
               headers: [("WWW-Authenticate", "Basic realm=\"pgwarden\", charset=\"UTF-8\"")])
    }
}

/// Hands a response to libmicrohttpd.
func queue(_ connection: OpaquePointer, _ response: HTTPResponse, extraHeaders: [(String, String)]) -> MHD_Result {
    let mhdResponse: OpaquePointer? = response.body.withUnsafeBytes { buffer in
        MHD_create_response_from_buffer(buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                                        .RESPMEM_MUST_COPY)
    }
    guard let mhdResponse else { return .NO }
    defer { MHD_destroy_response(mhdResponse) }
    _ = MHD_add_response_header(mhdResponse, "Content-Type", response.contentType)
    for (name, value) in extraHeaders { _ = MHD_add_response_header(mhdResponse, name, value) }
    for (name, value) in response.headers { _ = MHD_add_response_header(mhdResponse, name, value) }
    return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
}
