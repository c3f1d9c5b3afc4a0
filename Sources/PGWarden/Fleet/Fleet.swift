import Dispatch
import Logging
import Synchronization

/// One server of the fleet at run time: its configuration, its scraper (the scrape
/// connection) and, with rules, its action runner (the action connection). Both connections
/// are opened on first use and reopened when lost, each on its own, so a target's scrapes and
/// actions never wait for another target's.
public final class FleetTarget: Sendable {
    public let config: TargetConfig
    public let scraper: Scraper
    public let runner: ActionRunner?

    public init(config: TargetConfig, scraper: Scraper, runner: ActionRunner?) {
        self.config = config
        self.scraper = scraper
        self.runner = runner
    }

    public var name: String { config.name }

    /// Closes both connections (the target left the config file).
    func close() {
        runner?.retire()
        scraper.database.retire()
    }
}

/// The targets of `--config.file`, by name; replaced as a whole on a reload.
public final class Fleet: Sendable {
    /// Builds a target's run-time parts from its configuration.
    public typealias Factory = @Sendable (TargetConfig) -> FleetTarget

    private let factory: Factory
    private let state: Mutex<Targets>
    private let sweeper = Mutex<SweeperBox?>(nil)
    public let budget: ConnectionBudget

    /// The targets in file order, and by name (the UTF-8 bytes: names are compared byte for byte).
    struct Targets {
        var list: [FleetTarget]
        var byName: [[UInt8]: FleetTarget]
        init(_ list: [FleetTarget]) {
            self.list = list
            byName = Dictionary(list.map { (Array($0.name.utf8), $0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    public init(targets: [TargetConfig], budget: ConnectionBudget, factory: @escaping Factory) {
        self.factory = factory
        self.budget = budget
        self.state = Mutex(Targets(targets.map(factory)))
    }

    /// The targets in file order.
    public var targets: [FleetTarget] { state.withLock { $0.list } }

    /// The target with this name, byte for byte.
    public func target(named name: String) -> FleetTarget? {
        let key = Array(name.utf8)
        return state.withLock { $0.byName[key] }
    }

    /// Takes a reloaded target list. A target whose server is unchanged (same `dsn` and
    /// `password_file`) keeps its connections, scrape state, claims, rate limits and pending
    /// escalations, with its new labels; one whose server changed is built anew; a removed or
    /// changed one is retired: its connections close for good and its pending escalations are
    /// withdrawn.
    public func update(_ configs: [TargetConfig], logger: Logger) {
        let (added, changed, retired): ([String], [String], [FleetTarget]) = state.withLock { current in
            let old = Dictionary(current.list.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            var next: [FleetTarget] = []
            var added: [String] = [], changed: [String] = []
            var kept = Set<ObjectIdentifier>()
            for config in configs {
                if let previous = old[config.name], previous.config.dsn == config.dsn,
                   previous.config.passwordFile == config.passwordFile {
                    kept.insert(ObjectIdentifier(previous))
                    next.append(previous.config == config ? previous
                                : FleetTarget(config: config, scraper: previous.scraper, runner: previous.runner))
                } else {
                    (old[config.name] == nil ? { added.append(config.name) } : { changed.append(config.name) })()
                    next.append(factory(config))
                }
            }
            let retired = current.list.filter { !kept.contains(ObjectIdentifier($0)) }
            current = Targets(next)
            return (added, changed, retired)
        }
        for target in retired { target.close() }
        let removed = retired.map(\.name).filter { n in !configs.contains { $0.name == n } }
        logger.info("targets reloaded", metadata: [
            "targets": "\(configs.count)", "added": "\(added.joined(separator: ","))",
            "changed": "\(changed.joined(separator: ","))", "removed": "\(removed.joined(separator: ","))",
        ])
    }

    /// Every 30 seconds, each target's runner releases its alert claims older than
    /// `ActionRunner.claimRetention` (a timer for the life of the process).
    public func startClaimSweeper() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        timer.schedule(deadline: .now() + .seconds(30), repeating: .seconds(30))
        timer.setEventHandler { [self] in
            for target in targets { target.runner?.releaseExpiredClaims() }
        }
        timer.resume()
        sweeper.withLock { $0 = SweeperBox(timer) }
    }

    /// `GET /probe?target=NAME` and `GET /targets`.
    public func routes() -> [String: Route] {
        let readOnly: Set<String> = ["GET", "HEAD"]
        return [
            "/probe": Route(methods: readOnly) { [self] request in probe(request) },
            "/targets": Route(methods: readOnly) { [self] _ in
                HTTPResponse(status: 200, contentType: "application/json", text: serviceDiscovery())
            },
        ]
    }

    /// One target's metrics, or 400 naming what is wrong with the request.
    func probe(_ request: HTTPRequest) -> HTTPResponse {
        if request.repeatedQueryKeys.contains("target") {
            return .error(400, "the target parameter is given more than once; probe one target per request")
        }
        guard let name = request.queryItems["target"] else {
            return .error(400, "no target: ask for /probe?target=NAME, with a name from /targets")
        }
        guard let target = target(named: name) else {
            // At most 200 bytes of the name echoed back (cut at a scalar boundary).
            var shownScalars = String.UnicodeScalarView()
            var bytes = 0
            for scalar in name.unicodeScalars {
                bytes += String(scalar).utf8.count
                if bytes > 200 { break }
                shownScalars.append(scalar)
            }
            let shown = JSONText.quote(String(shownScalars))
            return .error(400, "unknown target \(shown): it is not in the targets of --config.file; /targets lists them")
        }
        return HTTPResponse(status: 200, contentType: TextFormat.contentType, text: target.scraper.scrape().body)
    }

    /// The targets in Prometheus HTTP service-discovery format: one group per target, its name
    /// as the address and its labels.
    public func serviceDiscovery() -> String {
        let groups = targets.map { target -> String in
            let labels = target.config.labels.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                .map { JSONText.quote($0) + ":" + JSONText.quote(target.config.labels[$0]!) }
            return "{\"targets\":[\(JSONText.quote(target.name))],\"labels\":{\(labels.joined(separator: ","))}}"
        }
        return "[" + groups.joined(separator: ",") + "]\n"
    }

    /// The fleet's own families, for /metrics.
    public func families() -> [MetricFamily] {
        let counts = budget.counts
        return [
            MetricFamily("pgwarden_targets", .gauge, help: "Targets in --config.file.",
                         samples: [Sample(Double(targets.count))]),
            MetricFamily("pgwarden_target_connections", .gauge,
                         help: "PostgreSQL connections pgwarden holds open over every target (scrapes and actions).",
                         samples: [Sample(Double(counts.open))]),
            MetricFamily("pgwarden_target_connections_max", .gauge,
                         help: "The cap on them (--targets.max-connections).", samples: [Sample(Double(budget.limit))]),
            MetricFamily("pgwarden_target_connections_evicted_total", .counter,
                         help: "Idle connections closed to make room under the cap.", samples: [Sample(Double(counts.evicted))]),
            MetricFamily("pgwarden_target_connections_refused_total", .counter,
                         help: "Connections not opened because every connection under the cap was in use.",
                         samples: [Sample(Double(counts.refused))]),
        ]
    }
}

/// Keeps the claim sweeper's timer alive.
struct SweeperBox: @unchecked Sendable {
    // @unchecked: the timer source is only kept, never touched again.
    let timer: any DispatchSourceTimer
    init(_ timer: any DispatchSourceTimer) { self.timer = timer }
}
