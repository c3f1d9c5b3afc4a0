/// The alerts of one notification handled so far, to handle each alert once. Alertmanager
/// never repeats an alert in a notification; a sender that does would otherwise get a rule's
/// `max_sessions_per_alert` once per copy.
///
/// Two alerts are the same when they have the same fingerprint (a non-empty one) or the same
/// labels, names and values byte for byte. The labels are what an alert acts through, so
/// copies with made-up fingerprints are still copies; an alert without a fingerprint is known
/// by its labels alone.
struct SeenAlerts {
    /// One label, as bytes (Swift's `String ==` equates canonically equivalent texts).
    struct Label: Hashable, Comparable {
        var name: [UInt8]
        var value: [UInt8]

        static func < (a: Self, b: Self) -> Bool {
            a.name == b.name ? a.value.lexicographicallyPrecedes(b.value) : a.name.lexicographicallyPrecedes(b.name)
        }
    }

    /// Why an alert is a copy: the earlier alert's index and what the two share.
    struct Earlier: Equatable {
        var index: Int
        var sameFingerprint: Bool
    }

    private var fingerprints: [[UInt8]: Int] = [:]
    private var labelSets: [[Label]: Int] = [:]

    /// The earlier alert that `alert` (at `index`) repeats, or nil after remembering it as new.
    mutating func earlier(_ alert: AlertNotification.Alert, index: Int) -> Earlier? {
        let fingerprint = alert.fingerprint.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        let labels = alert.labels.map { Label(name: Array($0.key.utf8), value: Array($0.value.utf8)) }.sorted()
        if let fingerprint, let first = fingerprints[fingerprint] { return Earlier(index: first, sameFingerprint: true) }
        if let first = labelSets[labels] { return Earlier(index: first, sameFingerprint: false) }
        if let fingerprint { fingerprints[fingerprint] = index }
        labelSets[labels] = index
        return nil
    }

    /// The reason given in a copy's summary.
    static func reason(_ earlier: Earlier) -> String {
        "the same alert as alerts[\(earlier.index)] of this notification ("
            + (earlier.sameFingerprint ? "same fingerprint" : "same labels")
            + "); an alert is handled once per notification"
    }
}
