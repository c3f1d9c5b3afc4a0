/// The states `pg_stat_activity.state` reports for client backends: the one list the collectors,
/// the policy loader and the command line share.
public enum SessionState {
    /// Every state, in the order the metrics list them.
    public static let all = [
        "active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled",
    ]
    /// States in which a backend runs no query but holds a transaction open.
    public static let idleInTransaction: Set<String> = ["idle in transaction", "idle in transaction (aborted)"]
}
