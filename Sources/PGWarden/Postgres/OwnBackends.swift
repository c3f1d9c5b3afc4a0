import Synchronization

/// The backend pids of every connection this pgwarden process holds (scrapes, actions), so
/// that each is excluded from every count and can never be signalled by another one.
public final class OwnBackends: Sendable {
    private let pids = Mutex<[ObjectIdentifier: Int32]>([:])

    public init() {}

    func set(_ pid: Int32?, for owner: ObjectIdentifier) {
        pids.withLock { $0[owner] = pid }
    }

    /// Every current own backend pid, sorted.
    public var all: [Int32] { pids.withLock { $0.values.sorted() } }

    /// The pids as a PostgreSQL int4[] literal, e.g. `{123,456}`.
    public var arrayLiteral: String { "{" + all.map(String.init).joined(separator: ",") + "}" }
}
