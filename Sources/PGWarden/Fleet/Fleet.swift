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
        scraper.database.disconnect()
        runner?.killer.database.disconnect()
    }
}

/// The targets of `--config.file`, by name; replaced as a whole on a reload.
public final class Fleet: Sendable {
    /// Builds a target's run-time parts from its configuration.
    public typealias Factory = @Sendable (TargetConfig) -> FleetTarget

    private let factory: Factory
    private let state: Mutex<[FleetTarget]>
    public let budget: ConnectionBudget

    public init(targets: [TargetConfig], budget: ConnectionBudget, factory: @escaping Factory) {
        self.factory = factory
        self.budget = budget
        self.state = Mutex(targets.map(factory))
    }

    /// The targets in file order.
    public var targets: [FleetTarget] { state.withLock { $0 } }

    /// The target with this name, byte for byte.
    public func target(named name: String) -> FleetTarget? {
        state.withLock { $0.first { $0.name.isExactly(name) } }
    }

    /// Takes a reloaded target list: a target whose configuration is unchanged keeps its
    /// connections, scrape state and escalations; a changed one is built anew; a removed one is
    /// closed (an escalation it had pending still runs, on its own connection).
    public func update(_ configs: [TargetConfig], logger: Logger) {
        let (added, changed, removed): ([String], [String], [FleetTarget]) = state.withLock { current in
            let old = Dictionary(current.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            var next: [FleetTarget] = []
            var added: [String] = [], changed: [String] = []
            for config in configs {
                if let kept = old[config.name], kept.config == config {
                    next.append(kept)
                } else {
                    (old[config.name] == nil ? { added.append(config.name) } : { changed.append(config.name) })()
                    next.append(factory(config))
                }
            }
            let keptIDs = Set(next.map(ObjectIdentifier.init))
            let removed = current.filter { !keptIDs.contains(ObjectIdentifier($0)) }
            current = next
            return (added, changed, removed)
        }
        for target in removed { target.close() }
        if !added.isEmpty || !changed.isEmpty || !removed.isEmpty {
            logger.info("targets reloaded", metadata: [
                "targets": "\(configs.count)", "added": "\(added.joined(separator: ","))",
                "changed": "\(changed.joined(separator: ","))",
                "removed": "\(removed.map(\.name).filter { n in !configs.contains { $0.name == n } }.joined(separator: ","))",
            ])
        }
    }

    /// `GET /probe?target=NAME` and `GET /targets`.
    public func routes() -> [String: Route] {
        let readOnly: Set<String> = ["GET", "HEAD"]
        return [
            "/probe": Route(methods: readOnly) { [self] request in probe(request) },
            "/targets": Route(methods: readOnly, lane: .inline) { [self] _ in
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
            let shown = JSONText.quote(String(name.prefix(200)))
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
