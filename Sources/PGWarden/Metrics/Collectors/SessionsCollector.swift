/// Client sessions per database, role and state, with the oldest state and transaction ages.
public struct SessionsCollector: Collector {
    /// The states PostgreSQL reports for client backends; each is exported (0 when none) for
    /// every database/role pair that has sessions, so alerts see 0 rather than an absent series.
    public static let knownStates = SessionState.all

    public init() {}

    public func columns(options: CollectorOptions) -> [String] {
        ["datname", "usename", "state"] + (options.includeApplicationName ? ["application_name"] : [])
            + ["sessions", "state_age", "xact_age"]
    }

    public func sql(serverVersion: Int, options: CollectorOptions) -> String {
        let app = options.includeApplicationName ? "application_name, " : ""
        return """
            SELECT ARRAY[datname, usename, state, \(app)sum(n)::text, \(ageSeconds("min(state_change)"))::text, \
            \(ageSeconds("min(xact_start)"))::text] FROM grouped WHERE backend_type = 'client backend' \
            GROUP BY \(app)datname, usename, state
            """
    }

    public func families(from result: QueryResult, options: CollectorOptions) -> [MetricFamily] {
        var sessions = MetricFamily("pg_sessions", .gauge,
            help: "Client backends (excluding pgwarden's own) per database, role and state.")
        var stateAge = MetricFamily("pg_session_state_age_max_seconds", .gauge,
            help: "Oldest time spent in the current state (now - state_change): idle-in-transaction age, or the running query's age for active.")
        var xactAge = MetricFamily("pg_session_transaction_age_max_seconds", .gauge,
            help: "Oldest open transaction (now - xact_start) among sessions in this state; absent when none has a transaction open.")
        let d = result.column("datname"), u = result.column("usename"), s = result.column("state")
        let a = options.includeApplicationName ? result.column("application_name") : nil
        let n = result.column("sessions"), sa = result.column("state_age"), xa = result.column("xact_age")

        // Names are grouped by their bytes, as the server groups them (see ExactName).
        struct Key: Hashable, Comparable {
            var datname: ExactName, usename: ExactName, app: ExactName?
            static func < (l: Key, r: Key) -> Bool {
                (l.datname, l.usename, l.app ?? ExactName("")) < (r.datname, r.usename, r.app ?? ExactName(""))
            }
        }
        var byKey: [Key: [ExactName: [String?]]] = [:]
        for row in result.rows {
            let key = Key(datname: ExactName(row.text(d)), usename: ExactName(row.text(u)), app: a.map { ExactName(row.text($0)) })
            byKey[key, default: [:]][ExactName(row.text(s))] = row
        }
        for key in byKey.keys.sorted() {
            let rows = byKey[key]!
            var labels = [("datname", key.datname.text), ("usename", key.usename.text)]
            if let app = key.app { labels.append(("application_name", app.text)) }
            let extra = rows.keys.filter { !Self.knownStates.containsExactly($0.text) }.sorted().map(\.text)
            for state in Self.knownStates + extra {
                let stateLabels = labels + [("state", state)]
                guard let row = rows[ExactName(state)] else {
                    sessions.add(0, stateLabels)
                    continue
                }
                sessions.add(row.double(n), stateLabels)
                if row[sa] != nil { stateAge.add(max(0, row.double(sa)), stateLabels) }
                if row[xa] != nil { xactAge.add(max(0, row.double(xa)), stateLabels) }
            }
        }
        return [sessions, stateAge, xactAge]
    }
}
