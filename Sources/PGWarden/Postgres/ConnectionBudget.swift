import Synchronization

/// The fleet's cap on the PostgreSQL connections pgwarden holds open at once, over every
/// target. A `Database` asks for a place before it connects; at the cap, the least recently
/// used idle connection of another target is closed to make room (it reconnects when next
/// used). When every connection is busy, the new one is refused: that probe answers `pg_up 0`
/// and that action fails with a clear error, and no other target waits.
public final class ConnectionBudget: Sendable {
    public let limit: Int
    private let state = Mutex(State())

    struct State {
        /// Open (or opening) connections and when each was last used.
        var open: [ObjectIdentifier: Entry] = [:]
        var clock: UInt64 = 0
        var evicted = 0
        var refused = 0
    }

    struct Entry {
        var database: Database
        var lastUsed: UInt64
    }

    public init(limit: Int) {
        precondition(limit >= 1)
        self.limit = limit
    }

    /// Takes a place for `database`'s next connection, closing idle ones of others at the cap.
    func admit(_ database: Database) throws(PostgresError) {
        let key = ObjectIdentifier(database)
        while true {
            let candidates: [Database]? = state.withLock { s in
                s.clock += 1
                if s.open[key] != nil || s.open.count < limit {
                    s.open[key] = Entry(database: database, lastUsed: s.clock)
                    return nil
                }
                return s.open.filter { $0.key != key }.sorted { $0.value.lastUsed < $1.value.lastUsed }.map(\.value.database)
            }
            guard let candidates else { return }
            // Outside the lock: closing releases the place through `release`.
            guard candidates.contains(where: { $0.closeIfIdle() }) else {
                state.withLock { $0.refused += 1 }
                throw PostgresError(.connectionFailed, message: "pgwarden holds \(limit) connections (--targets.max-connections) and "
                    + "every one is in use; this target's connection waits for the next scrape or action")
            }
            state.withLock { $0.evicted += 1 }
        }
    }

    /// Marks `database`'s connection as used now (eviction closes the least recently used).
    func touch(_ database: Database) {
        state.withLock { s in
            s.clock += 1
            s.open[ObjectIdentifier(database)]?.lastUsed = s.clock
        }
    }

    /// Gives back `database`'s place (its connection closed or never opened).
    func release(_ database: Database) {
        _ = state.withLock { $0.open.removeValue(forKey: ObjectIdentifier(database)) }
    }

    /// Open connections, evictions and refusals so far.
    public var counts: (open: Int, evicted: Int, refused: Int) {
        state.withLock { ($0.open.count, $0.evicted, $0.refused) }
    }
}
