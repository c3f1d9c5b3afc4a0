/// A route: the methods it answers and what it does.
public struct Route: Sendable {
    public var methods: Set<String>
    public var maxBodyBytes: Int
    public var handle: @Sendable (HTTPRequest) -> HTTPResponse

    public init(methods: Set<String>, maxBodyBytes: Int = 0, handle: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.methods = methods
        self.maxBodyBytes = maxBodyBytes
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
        guard let route = routes[request.path] else {
            return .error(404, "no such path: \(request.path); see / for what pgwarden serves")
        }
        guard route.methods.contains(request.method) else {
            let allow = route.methods.sorted().joined(separator: ", ")
            return .error(405, "method \(request.method) is not allowed on \(request.path); use \(allow)",
                          headers: [("Allow", allow)])
        }
        return route.handle(request)
    }

    public func maxBodyBytes(method: String, path: String) -> Int {
        guard let route = routes[path], route.methods.contains(method) else { return 0 }
        return route.maxBodyBytes
    }
}

/// The exporter's routes: landing page, metrics, health.
public enum ExporterRoutes {
    /// `/` (landing page), the telemetry path and `/healthz`.
    public static func make(scraper: Scraper, telemetryPath: String, version: String) -> [String: Route] {
        let readOnly: Set<String> = ["GET", "HEAD"]
        return [
            "/": Route(methods: readOnly) { _ in
                HTTPResponse(status: 200, contentType: "text/html; charset=utf-8",
                             text: landingPage(telemetryPath: telemetryPath, version: version))
            },
            telemetryPath: Route(methods: readOnly) { _ in
                let result = scraper.scrape()
                return HTTPResponse(status: 200, contentType: TextFormat.contentType, text: result.body)
            },
            "/healthz": Route(methods: readOnly) { _ in
                HTTPResponse(status: 200, text: "ok\n")
            },
        ]
    }

    static func landingPage(telemetryPath: String, version: String) -> String {
        let path = htmlEscape(telemetryPath)
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>pgwarden</title></head>
            <body>
            <h1>pgwarden \(htmlEscape(version))</h1>
            <p>PostgreSQL session exporter and kill hooks.</p>
            <ul>
            <li><a href="\(path)">Metrics</a> (\(path))</li>
            <li><a href="/healthz">Health</a> (/healthz)</li>
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
