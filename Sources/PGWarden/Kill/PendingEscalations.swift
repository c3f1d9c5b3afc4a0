import Synchronization

/// One escalation in its grace period: the rule as scheduled, the alert it answers and the
/// sessions it cancelled.
struct PendingEscalation: Sendable {
    var rule: Rule
    var alert: AlertRef
    var cancelled: [SessionRow]
    var onEscalated: (@Sendable ([ActionRecord]) -> Void)?
}

/// The escalations waiting for their terminate step. Each leaves it exactly once: taken by its
/// timer (which then terminates what still matches) or by its alert's resolved notification
/// (which stands it down); whichever comes first, under this mutex.
final class PendingEscalations: Sendable {
    private let state = Mutex<(next: UInt64, entries: [UInt64: PendingEscalation])>((1, [:]))

    /// Registers an escalation and returns its id.
    func add(_ escalation: PendingEscalation) -> UInt64 {
        state.withLock { s in
            let id = s.next
            s.next += 1
            s.entries[id] = escalation
            return id
        }
    }

    /// Takes the escalation out; nil when it is no longer waiting (its alert resolved).
    func remove(_ id: UInt64) -> PendingEscalation? {
        state.withLock { $0.entries.removeValue(forKey: id) }
    }

    /// Takes out every escalation that answered `alert`, in the order they were scheduled.
    func removeAll(answering alert: AlertRef) -> [PendingEscalation] {
        state.withLock { s in
            let ids = s.entries.filter { Self.sameAlert($0.value.alert, alert) }.keys.sorted()
            return ids.compactMap { s.entries.removeValue(forKey: $0) }
        }
    }

    /// Takes out every escalation (the runner's target left the fleet).
    func removeAll() -> [PendingEscalation] {
        state.withLock { s in
            let ids = s.entries.keys.sorted()
            return ids.compactMap { s.entries.removeValue(forKey: $0) }
        }
    }

    /// Sessions waiting, by rule name.
    func counts() -> [String: Int] {
        state.withLock { s in
            s.entries.values.reduce(into: [:]) { $0[$1.rule.name, default: 0] += $1.cancelled.count }
        }
    }

    /// Whether a resolved alert is the firing one an escalation answered: the same non-empty
    /// fingerprint (Alertmanager's hash of the labels), or the same labels byte for byte.
    /// Alerts without labels (the command line's) are never the same as any other.
    static func sameAlert(_ firing: AlertRef, _ resolved: AlertRef) -> Bool {
        guard !firing.labels.isEmpty, !resolved.labels.isEmpty else { return false }
        if !firing.fingerprint.isEmpty && firing.fingerprint.isExactly(resolved.fingerprint) { return true }
        return sortedLabels(firing.labels) == sortedLabels(resolved.labels)
    }

    /// Labels as bytes, in the order of their names' bytes.
    static func sortedLabels(_ labels: [String: String]) -> [SeenAlerts.Label] {
        labels.map { SeenAlerts.Label(name: Array($0.key.utf8), value: Array($0.value.utf8)) }.sorted()
    }
}
