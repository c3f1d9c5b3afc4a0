/// What pgwarden may do to sessions, loaded from `--config.file`. Alerts can only narrow a
/// rule's selection (through their labels), never widen it.
public struct Policy: Sendable, Equatable {
    /// Roles whose sessions are never touched, whatever a rule says.
    public var protectedRoles: [String]
    /// When true, every rule only reports what it would do.
    public var dryRun: Bool
    /// Rules in file order; the first whose match fits an alert handles it.
    public var rules: [Rule]

    public init(protectedRoles: [String] = [], dryRun: Bool = false, rules: [Rule] = []) {
        self.protectedRoles = protectedRoles
        self.dryRun = dryRun
        self.rules = rules
    }

    /// The first rule answering an alert with these labels (about `target`, in fleet mode: a
    /// rule whose target scope leaves the target out does not answer it).
    public func rule(for labels: [String: String], target: TargetConfig? = nil) -> Rule? {
        rules.first { $0.match.matches(labels) && (target.map($0.applies) ?? true) }
    }
}

/// What pgwarden does to the sessions a rule selects.
public enum KillAction: String, Sendable, Equatable, CaseIterable {
    /// pg_cancel_backend: stops the running query, keeps the session.
    case cancel
    /// pg_terminate_backend: ends the session.
    case terminate
    /// Cancel, wait the grace period, terminate those still matching. Idle-in-transaction
    /// sessions are terminated at once (cancel does nothing to an idle backend).
    case cancelThenTerminate = "cancel_then_terminate"
    /// ROLLBACK PREPARED: ends forgotten prepared transactions (a rule of its own kind, which
    /// selects prepared transactions, not sessions; see `PreparedCriteria`).
    case rollbackPrepared = "rollback_prepared"
}

/// Which alerts a rule answers: an alertname and optional label equalities.
public struct AlertMatch: Sendable, Equatable {
    public var alertname: String
    public var labels: [String: String]

    public init(alertname: String, labels: [String: String] = [:]) {
        self.alertname = alertname
        self.labels = labels
    }

    public func matches(_ alertLabels: [String: String]) -> Bool {
        alertLabels["alertname"]?.isExactly(alertname) == true && labels.allSatisfy { alertLabels[$0.key]?.isExactly($0.value) == true }
    }
}

/// An include list and an exclude list; an empty include list means "any".
public struct NameFilter: Sendable, Equatable {
    public var include: [String]
    public var exclude: [String]

    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include
        self.exclude = exclude
    }

    public func allows(_ value: String) -> Bool {
        (include.isEmpty || include.containsExactly(value)) && !exclude.containsExactly(value)
    }
}

/// The sessions a rule may touch.
public struct SessionCriteria: Sendable, Equatable {
    /// pg_stat_activity states; empty means any state.
    public var states: [String]
    public var minStateAge: Duration?
    public var minTransactionAge: Duration?
    /// The session has been connected at least this long (backend_start): old pooled
    /// connections, to rebalance a pool.
    public var minBackendAge: Duration?
    public var databases: NameFilter
    public var roles: NameFilter
    public var applicationNames: NameFilter
    /// Client address ranges (CIDR); include non-empty means sessions over Unix sockets
    /// (no client address) are not included.
    public var clientAddresses: [CIDR]
    public var excludeClientAddresses: [CIDR]
    /// Only sessions that block at least one other session (pg_blocking_pids).
    public var onlyBlocking: Bool
    /// Superuser-owned sessions may be touched (needs a superuser connection too).
    public var allowSuperuser: Bool

    public init(states: [String] = [], minStateAge: Duration? = nil, minTransactionAge: Duration? = nil,
                minBackendAge: Duration? = nil, databases: NameFilter = .init(), roles: NameFilter = .init(), applicationNames: NameFilter = .init(),
                clientAddresses: [CIDR] = [], excludeClientAddresses: [CIDR] = [], onlyBlocking: Bool = false,
                allowSuperuser: Bool = false) {
        self.states = states
        self.minStateAge = minStateAge
        self.minTransactionAge = minTransactionAge
        self.minBackendAge = minBackendAge
        self.databases = databases
        self.roles = roles
        self.applicationNames = applicationNames
        self.clientAddresses = clientAddresses
        self.excludeClientAddresses = excludeClientAddresses
        self.onlyBlocking = onlyBlocking
        self.allowSuperuser = allowSuperuser
    }
}

/// One policy rule: which alerts, which sessions, what action, how many at most.
public struct Rule: Sendable, Equatable {
    public var name: String
    public var match: AlertMatch
    public var action: KillAction
    /// For cancel_then_terminate: how long to wait after cancelling before terminating.
    public var gracePeriod: Duration
    public var sessions: SessionCriteria
    /// For a rollback_prepared rule: the prepared transactions it may roll back.
    public var prepared: PreparedCriteria = .init()
    /// At most this many sessions (prepared transactions, for rollback_prepared) acted on per alert.
    public var maxSessionsPerAlert: Int
    /// At most this many sessions (prepared transactions, for rollback_prepared) acted on by
    /// this rule in any 60 seconds.
    public var maxSessionsPerMinute: Int
    public var dryRun: Bool
    /// Labels a firing alert must carry, non-empty, for this rule to act on it: those its scope
    /// depends on (Prometheus drops empty labels, and aggregation or relabelling can remove them).
    public var requireLabels: [String] = []
    /// Fleet mode: the targets this rule may act on, by name (empty: every target).
    public var targets: [String] = []
    /// Fleet mode: labels a target must carry (in its `labels`) for this rule to act on it.
    public var targetLabels: [String: String] = [:]

    /// Whether this rule may act on `target`: named by `targets` (when given) and carrying every
    /// pair of `targetLabels`, compared byte for byte.
    public func applies(to target: TargetConfig) -> Bool {
        (targets.isEmpty || targets.containsExactly(target.name))
            && targetLabels.allSatisfy { target.labels[$0.key]?.isExactly($0.value) == true }
    }

    /// The required labels `labels` lacks or carries empty, in the rule's order.
    public func missingLabels(_ labels: [String: String]) -> [String] {
        requireLabels.filter { labels[$0]?.isEmpty ?? true }
    }

    public static let defaultMaxSessionsPerAlert = 10
    public static let defaultMaxSessionsPerMinute = 60
    public static let defaultGracePeriod: Duration = .seconds(10)
    /// A rollback_prepared rule's caps when the policy gives none: lower than the sessions', as
    /// rolling back a prepared transaction discards work a transaction manager may have promised.
    public static let defaultMaxTransactionsPerAlert = 5
    public static let defaultMaxTransactionsPerMinute = 20

    public init(name: String, match: AlertMatch, action: KillAction, gracePeriod: Duration = Rule.defaultGracePeriod,
                sessions: SessionCriteria = .init(), maxSessionsPerAlert: Int = Rule.defaultMaxSessionsPerAlert,
                maxSessionsPerMinute: Int = Rule.defaultMaxSessionsPerMinute, dryRun: Bool = false) {
        self.name = name
        self.match = match
        self.action = action
        self.gracePeriod = gracePeriod
        self.sessions = sessions
        self.maxSessionsPerAlert = maxSessionsPerAlert
        self.maxSessionsPerMinute = maxSessionsPerMinute
        self.dryRun = dryRun
    }
}

/// What `--config.file` holds: the fleet's targets, the webhook's policy, or both.
public struct ConfigFile: Sendable, Equatable {
    /// Fleet mode when non-empty; empty with `--dsn` (a fleet of one).
    public var targets: [TargetConfig] = []
    /// The rules (none in a targets-only file: then no webhook is served).
    public var policy = Policy()

    public init(targets: [TargetConfig] = [], policy: Policy = Policy()) {
        self.targets = targets
        self.policy = policy
    }

    public var hasRules: Bool { !policy.rules.isEmpty }
}
