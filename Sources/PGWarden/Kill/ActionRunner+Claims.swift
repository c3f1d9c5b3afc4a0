import Synchronization

// Alert claims: how replicas of one pgwarden in fleet mode act on a notification once between them.

extension ActionRunner {
    /// Claims `alert` on the server for this pgwarden, on `connection` (the action connection,
    /// already holding the action lock): true when no other replica holds it. A claim is a
    /// session-level advisory lock (`Killer.claimLockKey`, a 32-bit hash of the alert's
    /// fingerprint) held by the action connection until the alert resolves, `claimRetention`
    /// passes, or the connection ends; while it holds claims the connection is never evicted.
    /// Two replicas given the same notification act on it once between them: the one whose claim
    /// fails answers `other replica`, while the one holding the claim goes on answering its later
    /// notifications, as a single pgwarden would.
    func claim(_ alert: AlertRef, on connection: PGConnection) throws -> Bool {
        let key = Self.claimKey(alert)
        return try claims.withLock { claims in
            if claims.connection != connection.serial { claims = Claims(connection: connection.serial) }
            let now = ContinuousClock.now
            var stale = claims.held.filter { now - $0.value > Self.claimRetention && $0.key != key }.map(\.key)
            if claims.held[key] == nil, claims.held.count - stale.count >= Self.maxClaims,
               let oldest = claims.held.filter({ !stale.contains($0.key) }).min(by: { $0.value < $1.value }) {
                stale.append(oldest.key)
            }
            for old in stale {
                try unlockClaim(old, on: connection)
                claims.held[old] = nil
            }
            if claims.held[key] == nil {
                let result = try connection.executePrepared(
                    name: "pgwarden_claim", sql: "SELECT pg_try_advisory_lock($1::int4, $2::int4)",
                    params: [String(Killer.claimLockKey), String(key)], timeout: killer.database.settings.queryTimeout)
                guard result.last?.rows.first?[0] == "t" else {
                    killer.database.pin(!claims.held.isEmpty)
                    return false
                }
            }
            claims.held[key] = now
            killer.database.pin(true)
            return true
        }
    }

    /// Releases this pgwarden's claim on `alert`, if it holds one (its resolved notification).
    public func releaseClaim(_ alert: AlertRef) {
        let key = Self.claimKey(alert)
        release { $0 == key }
    }

    /// Releases the claims older than `claimRetention` (the fleet's sweeper calls it), so a
    /// replica that stopped answering its notifications cannot hold an alert for long.
    public func releaseExpiredClaims() {
        let now = ContinuousClock.now
        let expired = claims.withLock { c in Set(c.held.filter { now - $0.value > Self.claimRetention }.map(\.key)) }
        guard !expired.isEmpty else { return }
        release { expired.contains($0) }
    }

    /// Unlocks the held claims whose key `which` picks. Without such a claim, no round trip
    /// (and no connection opened for nothing).
    func release(_ which: (Int32) -> Bool) {
        guard claims.withLock({ $0.held.keys.contains(where: which) }) else { return }
        _ = try? killer.database.withConnection { connection in
            try claims.withLock { claims in
                guard claims.connection == connection.serial else {
                    claims = Claims(connection: connection.serial)
                    killer.database.pin(false)
                    return
                }
                for key in claims.held.keys where which(key) {
                    try unlockClaim(key, on: connection)
                    claims.held[key] = nil
                }
                killer.database.pin(!claims.held.isEmpty)
            }
        }
    }

    func unlockClaim(_ key: Int32, on connection: PGConnection) throws {
        _ = try connection.executePrepared(name: "pgwarden_unclaim", sql: "SELECT pg_advisory_unlock($1::int4, $2::int4)",
                                           params: [String(Killer.claimLockKey), String(key)],
                                           timeout: killer.database.settings.queryTimeout)
    }

    /// The claim's second key: FNV-1a over the alert's fingerprint (or, without one, its labels
    /// sorted by name, each name and value preceded by its length), the same in every replica.
    static func claimKey(_ alert: AlertRef) -> Int32 {
        var bytes = Array(alert.fingerprint.utf8)
        if bytes.isEmpty {
            func field(_ text: String) -> [UInt8] {
                let utf8 = Array(text.utf8)
                return withUnsafeBytes(of: UInt32(utf8.count).littleEndian, Array.init) + utf8
            }
            for name in alert.labels.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
                bytes += field(name) + field(alert.labels[name]!)
            }
        }
        var hash: UInt32 = 2_166_136_261
        for byte in bytes {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        return Int32(bitPattern: hash)
    }
}
