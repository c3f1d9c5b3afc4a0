/// What the webhook made of one alert of a notification: the `outcome` field of its summary in
/// the response and the `outcome` label of `pgwarden_webhook_alerts_total`.
public enum AlertOutcome: String, Sendable, CaseIterable, Comparable {
    /// The alert resolved; nothing is done, except that escalations it started stand down.
    case resolved
    /// The same alert (fingerprint or labels) appeared earlier in the notification; it is
    /// handled once, so its copies cannot multiply a rule's per-alert cap.
    case duplicate
    /// The alert is about another server than --target.name (or names none); nothing is done.
    case otherTarget = "other target"
    /// Fleet mode: the alert names no target, or one that is not configured
    /// (--webhook.target-label); nothing is done.
    case unknownTarget = "unknown target"
    /// Another pgwarden replica holds the alert's claim on the target and acts on it; this one
    /// does nothing (see `ActionRunner.claim`).
    case otherReplica = "other replica"
    /// No rule answers the alert.
    case nothingMatched = "nothing matched"
    /// A rule answers it, but the alert lacks (or carries empty) a label the rule requires.
    case missingLabels = "missing labels"
    /// A rule answers it, but its labels cannot narrow the sessions safely (a pid without its
    /// backend_start, a pid or backend_start that is not a plain decimal number, an implausible
    /// backend_start); nothing is done.
    case notAddressable = "not addressable"
    /// The rule's selection found no session.
    case noMatchingSessions = "no matching sessions"
    /// A rollback_prepared rule's selection found no prepared transaction.
    case noMatchingTransactions = "no matching transactions"
    /// Sessions would have been signalled (dry run).
    case dryRun = "dry run"
    /// Sessions were signalled.
    case acted
    /// Sessions matched, but every one was skipped (protected, capped, gone) or failed.
    case nothingActedOn = "nothing acted on"

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}
