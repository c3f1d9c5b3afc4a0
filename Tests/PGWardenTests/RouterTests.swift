import Logging
import Testing
@testable import PGWarden

@Suite("Router")
struct RouterTests {
    static let router = Router(routes: [
        "/metrics": Route(methods: ["GET", "HEAD"]) { request in
            HTTPResponse(status: 200, text: "metrics for \(request.method)")
        },
        "/hook": Route(methods: ["POST"], maxBodyBytes: 1024) { request in
            HTTPResponse(status: 202, text: "got \(request.body.count) bytes")
        },
    ])

    static func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }
    static func header(_ response: HTTPResponse, _ name: String) -> String? {
        response.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    @Test(arguments: ["/nope", "/metrics/", "/Metrics", "", "/hook/x"])
    func unknownPathIs404(path: String) {
        let response = Self.router.handle(HTTPRequest(method: "GET", path: path))
        #expect(response.status == 404)
        #expect(Self.text(response).contains("no such path"))
        #expect(Self.header(response, "Allow") == nil)
    }

    @Test func wrongMethodIs405WithSortedAllow() {
        let response = Self.router.handle(HTTPRequest(method: "POST", path: "/metrics"))
        #expect(response.status == 405)
        #expect(Self.header(response, "Allow") == "GET, HEAD")
        #expect(Self.text(response).contains("POST"))
        let hook = Self.router.handle(HTTPRequest(method: "GET", path: "/hook"))
        #expect(hook.status == 405)
        #expect(Self.header(hook, "Allow") == "POST")
    }

    @Test func methodsAreCaseSensitive() {
        #expect(Self.router.handle(HTTPRequest(method: "get", path: "/metrics")).status == 405)
    }

    @Test func matchingRouteHandles() {
        let get = Self.router.handle(HTTPRequest(method: "GET", path: "/metrics"))
        #expect(get.status == 200)
        #expect(Self.text(get) == "metrics for GET")
        #expect(Self.text(Self.router.handle(HTTPRequest(method: "HEAD", path: "/metrics"))) == "metrics for HEAD")
        let post = Self.router.handle(HTTPRequest(method: "POST", path: "/hook", body: Array("hello".utf8)))
        #expect(post.status == 202)
        #expect(Self.text(post) == "got 5 bytes")
    }

    static func status(_ admission: Admission) -> Int? {
        if case .reject(let response) = admission { return response.status }
        return nil
    }

    @Test func admissionRefusesFromTheHeadersAlone() {
        #expect(Self.status(Self.router.admit(HTTPRequest(method: "GET", path: "/unknown"))) == 404)
        #expect(Self.status(Self.router.admit(HTTPRequest(method: "GET", path: "/hook"))) == 405)
        let large = HTTPRequest(method: "POST", path: "/hook", headers: ["content-length": "1025"])
        #expect(Self.status(Self.router.admit(large)) == 413)
        let bodyOnGet = HTTPRequest(method: "GET", path: "/metrics", headers: ["content-length": "10"])
        #expect(Self.status(Self.router.admit(bodyOnGet)) == 413)
    }

    @Test func admissionGivesTheRoutesLimitAndLane() {
        guard case .accept(let limit, let lane) = Self.router.admit(
            HTTPRequest(method: "POST", path: "/hook", headers: ["content-length": "1024"])) else {
            Issue.record("a body at the limit is admitted")
            return
        }
        #expect(limit == 1024)
        #expect(lane == .standard)
        guard case .accept(let none, _) = Self.router.admit(HTTPRequest(method: "GET", path: "/metrics")) else {
            Issue.record("GET /metrics is admitted")
            return
        }
        #expect(none == 0)
    }

    @Test func routeCredentialsAreCheckedBeforeTheBody() {
        let router = Router(routes: [
            "/hook": Route(methods: ["POST"], maxBodyBytes: 10, lane: .actions,
                           authorize: { $0.header("authorization") == "Bearer ok" ? nil : .error(401, "no") }) { _ in
                HTTPResponse(status: 200, text: "ran")
            },
        ])
        // Credentials first: a wrong token is 401 even when the body would be too large.
        let wrong = HTTPRequest(method: "POST", path: "/hook", headers: ["content-length": "99999999999"])
        #expect(Self.status(router.admit(wrong)) == 401)
        let right = HTTPRequest(method: "POST", path: "/hook", headers: ["authorization": "Bearer ok", "content-length": "5"])
        guard case .accept(_, let lane) = router.admit(right) else {
            Issue.record("the right token is admitted")
            return
        }
        #expect(lane == .actions)
    }

    @Test func errorResponsesArePlainTextWithTrailingNewline() {
        let response = HTTPResponse.error(418, "teapot")
        #expect(response.status == 418)
        #expect(response.contentType.hasPrefix("text/plain"))
        #expect(Self.text(response) == "teapot\n")
    }

    @Test func requestHeaderLookupIsCaseInsensitive() {
        let request = HTTPRequest(method: "GET", path: "/", headers: ["content-type": "text/plain"])
        #expect(request.header("Content-Type") == "text/plain")
        #expect(request.header("accept") == nil)
    }

    // MARK: Exporter routes (none of these requests scrape, so nothing connects)

    static func exporterRouter(telemetryPath: String = "/metrics", version: String = "1.2.3") -> Router {
        let scraper = Scraper(database: Database(settings: ConnectionSettings(dsn: "host=/nonexistent")),
                              version: version, logger: Logger(label: "pgwarden.tests"))
        return Router(routes: ExporterRoutes.make(scraper: scraper, telemetryPath: telemetryPath, version: version))
    }

    @Test func exporterRoutesServeLandingPageAndHealth() {
        let router = Self.exporterRouter(telemetryPath: "/custom")
        #expect(Set(router.routes.keys) == ["/", "/custom", "/healthz"])
        let landing = router.handle(HTTPRequest(method: "GET", path: "/"))
        #expect(landing.status == 200)
        #expect(landing.contentType.hasPrefix("text/html"))
        #expect(Self.text(landing).contains("href=\"/custom\""))
        #expect(Self.text(landing).contains("1.2.3"))
        let health = router.handle(HTTPRequest(method: "GET", path: "/healthz"))
        #expect(health.status == 200)
        #expect(Self.text(health) == "ok\n")
        let post = router.handle(HTTPRequest(method: "POST", path: "/custom"))
        #expect(post.status == 405)
        #expect(Self.header(post, "Allow") == "GET, HEAD")
        #expect(router.handle(HTTPRequest(method: "GET", path: "/metrics")).status == 404)
    }

    @Test func landingPageEscapesHTML() {
        let router = Self.exporterRouter(telemetryPath: "/m\"><script>x</script>", version: "1&2")
        let body = Self.text(router.handle(HTTPRequest(method: "GET", path: "/")))
        #expect(!body.contains("<script>"))
        #expect(body.contains("/m&quot;&gt;&lt;script&gt;x&lt;/script&gt;"))
        #expect(body.contains("1&amp;2"))
    }
}
