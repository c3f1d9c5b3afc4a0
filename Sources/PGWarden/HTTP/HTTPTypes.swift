/// An HTTP request as the handlers see it: method, path, query, headers and the whole body.
public struct HTTPRequest: Sendable {
    public var method: String
    public var path: String
    /// Query-string arguments, URL-decoded.
    public var queryItems: [String: String]
    /// Query parameters given more than once (`queryItems` holds the last value of each).
    public var repeatedQueryKeys: Set<String> = []
    /// Header names lowercased; values as text (invalid UTF-8 replaced by U+FFFD).
    public var headers: [String: String]
    /// Header names lowercased; values as the bytes the client sent. Credentials are compared
    /// over these, never over the text.
    public var headerBytes: [String: [UInt8]]
    public var body: [UInt8]
    public var clientAddress: String

    /// - Parameter headerBytes: the headers as sent; nil: the UTF-8 of `headers`.
    public init(method: String, path: String, queryItems: [String: String] = [:], headers: [String: String] = [:],
                headerBytes: [String: [UInt8]]? = nil, body: [UInt8] = [], clientAddress: String = "") {
        self.method = method
        self.path = path
        self.queryItems = queryItems
        self.headers = headers
        self.headerBytes = headerBytes ?? headers.mapValues { Array($0.utf8) }
        self.body = body
        self.clientAddress = clientAddress
    }

    /// A header's value by case-insensitive name.
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// A header's value, as the bytes the client sent, by case-insensitive name.
    public func headerValueBytes(_ name: String) -> [UInt8]? { headerBytes[name.lowercased()] }
}

/// An HTTP response: status, content type, extra headers and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", headers: [(String, String)] = [],
                body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", headers: [(String, String)] = [],
                text: String) {
        self.init(status: status, contentType: contentType, headers: headers, body: Array(text.utf8))
    }

    /// A plain-text error response whose body says what went wrong and what to do.
    public static func error(_ status: Int, _ message: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, text: message + "\n")
    }
}

/// Which threads run a request's handler.
public enum WorkLane: Int, Sendable, CaseIterable {
    /// On libmicrohttpd's polling thread: only for handlers that never block (landing page, health).
    case inline
    /// On the worker pool: scrapes and anything else that may wait on the database.
    case standard
    /// On the actions' own workers, so a webhook is never queued behind slow scrapes.
    case actions
}

/// What to do with a request once its headers are in: answer it now, without reading its
/// body (401, 404, 405, 413), or read a body of at most `maxBodyBytes` and hand it to a lane.
public enum Admission: Sendable {
    case reject(HTTPResponse)
    case accept(maxBodyBytes: Int, lane: WorkLane)
}

/// Answers requests; called on libmicrohttpd's polling threads (`admit`, inline handlers) and
/// on the worker pool, possibly concurrently.
public protocol HTTPHandler: Sendable {
    /// The response to a request whose body was read in full.
    func handle(_ request: HTTPRequest) -> HTTPResponse
    /// Decides from the request line and headers alone (`head.body` is empty), before any
    /// body byte is buffered. Must not block.
    func admit(_ head: HTTPRequest) -> Admission
    /// Called with the status of every response, including those the server makes itself (413).
    func didRespond(method: String, path: String, status: Int)
}

extension HTTPHandler {
    public func didRespond(method: String, path: String, status: Int) {}
}

/// A `--web.listen-address` value split into host and port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Empty means every address.
    public var host: String
    public var port: UInt16

    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `:port` or `[v6]:port`; nil when malformed.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        let portText = text[text.index(after: colon)...]
        guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }), let port = UInt16(portText) else {
            return nil
        }
        if host.hasPrefix("[") {
            guard host.hasSuffix("]"), host.count > 2 else { return nil }
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") {
            return nil
        }
        self.init(host: host, port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
