/// What the rollback did to one prepared transaction.
public enum RollbackOutcome: Sendable, Equatable {
    /// Still the same transaction, still matching, and ROLLBACK PREPARED succeeded.
    case rolledBack
    /// No longer there or no longer matching when re-checked (committed, rolled back, its gid
    /// now names another transaction, or being finished by another session): left alone.
    case gone
    /// pgwarden's role was refused (SET ROLE to the owner, or ROLLBACK PREPARED itself).
    case notPermitted(String)
    /// Nothing was rolled back: its database could not be reached, or the re-check failed.
    case notSent(PostgresError)
    /// ROLLBACK PREPARED was sent but its answer never came (a timeout, a lost connection): it
    /// may or may not have been rolled back.
    case unknown(PostgresError)
}

extension Killer {
    /// Every prepared transaction of the cluster, each marked protected when its owner is one of
    /// `protectedRoles` or a member of one, with whether pgwarden's role may finish it.
    public func listPrepared(protectedRoles: [String] = []) throws -> [PreparedTransaction] {
        let result = try database.withConnection { connection in
            try connection.execute(PreparedTransaction.listSQL(serverVersion: connection.serverVersion),
                                   params: [arrayLiteral(protectedRoles)], timeout: database.settings.queryTimeout)
        }
        return PreparedTransaction.rows(from: result.last ?? QueryResult(columns: [], rows: []))
    }

    /// Rolls `target` back, from a connection of its own to the transaction's database (ROLLBACK
    /// PREPARED works only there), and only if it is still the same transaction and still
    /// selected: on that connection, immediately before the rollback, one statement re-checks
    /// the identity (gid, xid and prepared time), the database, the selection (its age by the
    /// server's clock included), protection, the superuser rule and permission.
    ///
    /// ROLLBACK PREPARED cannot run inside a transaction block or a function, so the re-check
    /// and the rollback are two statements, back to back on one connection. What remains is the
    /// window between them (one round trip): another session that, in that window, both
    /// finishes the transaction and prepares a new one under the same gid would see its new
    /// transaction rolled back. A transaction finished in the window alone makes the rollback
    /// fail with "does not exist", which is `gone`.
    public func rollbackPrepared(_ target: PreparedTransaction, selection: PreparedSelection,
                                 protectedRoles: [String]) -> RollbackOutcome {
        var settings = database.settings
        settings.warmsBackendHeap = false
        settings.database = target.datname
        let own = Database(settings: settings, ownBackends: database.ownBackends)
        defer { own.disconnect() }
        var sent = false
        do {
            return try own.withConnection(retryingStale: false) { connection -> RollbackOutcome in
                let timeout = settings.queryTimeout
                if target.viaRole {
                    do {
                        _ = try connection.execute("SELECT set_config('role', $1, false)", params: [target.owner], timeout: timeout)
                    } catch let error as PostgresError where error.sqlState == "42501" {
                        return .notPermitted("SET ROLE to the owner \(target.owner) was refused: \(error.message)")
                    }
                }
                let (check, params) = Self.preparedCheck(target, selection: selection, protectedRoles: protectedRoles,
                                                         serverVersion: connection.serverVersion)
                let rows = try connection.execute(check, params: params, timeout: timeout).last?.rows ?? []
                guard rows.count == 1 else { return .gone }
                let literal = try connection.escapeLiteral(target.gid)
                sent = true
                do {
                    _ = try connection.execute("ROLLBACK PREPARED " + literal, timeout: timeout)
                } catch let error as PostgresError where error.sqlState == "42704" || error.sqlState == "55000" {
                    // 42704: finished since the re-check. 55000: another session is finishing it.
                    return .gone
                } catch let error as PostgresError where error.sqlState == "42501" {
                    return .notPermitted(error.message)
                }
                return .rolledBack
            }
        } catch let error as PostgresError {
            return sent && error.isConnectionLevel ? .unknown(error) : .notSent(error)
        } catch {
            return .notSent(PostgresError(.queryFailed, message: "\(error)"))
        }
    }

    /// The re-check run on the transaction's database right before ROLLBACK PREPARED: one row
    /// when `target` is still there, the same transaction and still allowed (pure; unit-tested).
    static func preparedCheck(_ target: PreparedTransaction, selection: PreparedSelection, protectedRoles: [String],
                              serverVersion: Int) -> (String, [String?]) {
        var params = SQLParameters()
        var conditions = [
            "p.gid = \(params.bind(target.gid))",
            "p.transaction::text = \(params.bind(target.transaction))",
            "\(PreparedTransaction.preparedMicrosSQL("p.prepared")) = \(params.bind(String(target.preparedMicros)))::int8",
            "p.database = current_database()",
            "NOT \(PreparedTransaction.protectedSQL(params.textArray(protectedRoles)))",
            PreparedTransaction.canRollBackSQL(serverVersion: serverVersion),
        ]
        if !selection.criteria.allowSuperuser { conditions.append("NOT COALESCE(r.rolsuper, false)") }
        conditions += selection.sqlConditions(&params)
        let sql = "SELECT 1 FROM pg_prepared_xacts p LEFT JOIN pg_roles r ON r.rolname = p.owner WHERE "
            + conditions.joined(separator: " AND ")
        return (sql, params.values)
    }
}
