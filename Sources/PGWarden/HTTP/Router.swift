/// A route: the methods it answers, the credentials it checks from the headers, and what it does.
public struct Route: Sendable {
    public var methods: Set<String>
    public var maxBodyBytes: Int
    /// Where the handler runs; `.inline` only for handlers that never block.
    public var lane: WorkLane
    /// Checked from the headers before any body byte is read: nil admits, a response refuses
    /// (401). Must not block.
    public var authorize: (@Sendable (HTTPRequest) -> HTTPResponse?)?
    public var handle: @Sendable (HTTPRequest) -> HTTPResponse

    public init(methods: Set<String>, maxBodyBytes: Int = 0, lane: WorkLane = .standard,
                authorize: (@Sendable (HTTPRequest) -> HTTPResponse?)? = nil,
                handle: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.methods = methods
        self.maxBodyBytes = maxBodyBytes
        self.lane = lane
        self.authorize = authorize
        self.handle = handle
    }
}

/// Dispatches by exact path: 404 for unknown paths, 405 with `Allow` for a wrong method.
public struct Router: HTTPHandler {
    public var routes: [String: Route]
    /// Told the path and status of every response (the webhook counts its requests with it).
    public var onResponse: (@Sendable (_ path: String, _ status: Int) -> Void)?

    public init(routes: [String: Route], onResponse: (@Sendable (_ path: String, _ status: Int) -> Void)? = nil) {
        self.routes = routes
        self.onResponse = onResponse
    }

    public func didRespond(method: String, path: String, status: Int) {
        onResponse?(path, status)
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        switch route(for: request) {
        case .failure(let refusal): return refusal.response
        case .success(let route): return route.handle(request)
        }
    }

    /// Unknown path, wrong method, the route's credentials, then the declared body size: each
    /// answered before a body byte is read.
    public func admit(_ head: HTTPRequest) -> Admission {
        let route: Route
        switch self.route(for: head) {
        case .failure(let refusal): return .reject(refusal.response)
        case .success(let found): route = found
        }
        if let refusal = route.authorize?(head) { return .reject(refusal) }
        if let length = head.header("content-length").flatMap(Int.init), length > route.maxBodyBytes {
            if route.maxBodyBytes == 0 {
                return .reject(.error(413, "\(head.method) \(head.path) takes no request body; send it without one"))
            }
            return .reject(.error(413, "request body of \(length) bytes is over the limit of \(route.maxBodyBytes) bytes; send a smaller request"))
        }
        return .accept(maxBodyBytes: route.maxBodyBytes, lane: route.lane)
    }

    /// A refusal as an error value, so `route(for:)` can return it through `Result`.
    struct Refusal: Error { var response: HTTPResponse }

    /// The route for the request's path and method, or the 404/405 that refuses it.
    func route(for request: HTTPRequest) -> Result<Route, Refusal> {
        guard let route = routes[request.path] else {
            return .failure(Refusal(response: .error(404, "no such path: \(request.path); see / for what pgwarden serves")))
        }
        guard route.methods.contains(request.method) else {
            let allow = route.methods.sorted().joined(separator: ", ")
            return .failure(Refusal(response: .error(405, "method \(request.method) is not allowed on \(request.path); use \(allow)",
                                                     headers: [("Allow", allow)])))
        }
        return .success(route)
    }
}

/// The exporter's routes: landing page, metrics, health.
public enum ExporterRoutes {
    /// `/` (landing page), the telemetry path and `/healthz`.
    public static func make(scraper: Scraper, telemetryPath: String, version: String) -> [String: Route] {
        make(metrics: { scraper.scrape().body }, telemetryPath: telemetryPath, version: version)
    }

    /// The same, with /metrics rendered by `metrics` (fleet mode: pgwarden's own families).
    public static func make(metrics: @escaping @Sendable () -> String, telemetryPath: String, version: String,
                            fleet: Bool = false) -> [String: Route] {
        let readOnly: Set<String> = ["GET", "HEAD"]
        return [
            "/": Route(methods: readOnly, lane: .inline) { _ in
                HTTPResponse(status: 200, contentType: "text/html; charset=utf-8",
                             text: landingPage(telemetryPath: telemetryPath, version: version, fleet: fleet))
            },
            telemetryPath: Route(methods: readOnly) { _ in
                HTTPResponse(status: 200, contentType: TextFormat.contentType, text: metrics())
            },
            "/healthz": Route(methods: readOnly, lane: .inline) { _ in
                HTTPResponse(status: 200, text: "ok\n")
            },
        ]
    }

    static func landingPage(telemetryPath: String, version: String, fleet: Bool = false) -> String {
        let path = htmlEscape(telemetryPath)
        let fleetItems = fleet ? """
            <li><a href="/targets">Targets</a> (/targets, Prometheus HTTP service discovery)</li>
            <li>Probe: /probe?target=NAME</li>

            """ : ""
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>pgwarden</title></head>
            <body>
            <h1>pgwarden \(htmlEscape(version))</h1>
            <p>PostgreSQL session exporter and kill hooks.</p>
            <ul>
            <li><a href="\(path)">Metrics</a> (\(path))</li>
            \(fleetItems)<li><a href="/healthz">Health</a> (/healthz)</li>
            </ul>
            </body></html>

            """
    }

    static func htmlEscape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}
