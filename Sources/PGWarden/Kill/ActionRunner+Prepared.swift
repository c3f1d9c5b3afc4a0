extension ActionRunner {
    /// Runs a `rollback_prepared` rule: list the prepared transactions, plan, roll back each
    /// planned one with its re-check (`Killer.rollbackPrepared`), record. Serialised with every
    /// other action, counted against the rule's per-minute cap like signals.
    ///
    /// Each transaction is rolled back on a connection of its own, so one that cannot be reached
    /// (a database closed to connections, no CONNECT privilege) is `error` and the others go on.
    /// A rollback sent whose answer never came is `unknown`, counts against the cap, and, once
    /// every transaction was tried, the error is thrown (the webhook answers 5xx, Alertmanager
    /// retries, and the retry finds the transaction gone or rolls it back then).
    @discardableResult
    public func runPrepared(rule: Rule, selection: PreparedSelection, protectedRoles: [String], dryRun: Bool,
                            alert: AlertRef) throws -> [ActionRecord] {
        let (records, failure) = try serial.withLock { _ -> ([ActionRecord], PostgresError?) in
            let rows = try killer.listPrepared(protectedRoles: protectedRoles)
            let budget = limiter.remaining(rule: rule.name, limit: rule.maxSessionsPerMinute)
            let plan = PreparedPlanner.plan(rule: rule, selection: selection, protectedRoles: protectedRoles, rows: rows, budget: budget)
            var records: [ActionRecord] = []
            var failure: PostgresError?
            for planned in plan {
                let t = planned.transaction
                switch planned.decision {
                case .skip(let reason):
                    records.append(.init(rule, alert, prepared: t, reason, dryRun: dryRun, refusedBy: planned.refusedBy))
                case .act:
                    if dryRun {
                        records.append(.init(rule, alert, prepared: t, .dryRun, dryRun: true))
                        continue
                    }
                    let outcome = killer.rollbackPrepared(t, selection: selection, protectedRoles: protectedRoles)
                    switch outcome {
                    case .rolledBack:
                        limiter.record(rule: rule.name, count: 1)
                        records.append(.init(rule, alert, prepared: t, .success, dryRun: false))
                    case .gone:
                        records.append(.init(rule, alert, prepared: t, .gone, dryRun: false, refusedBy: .killTimeRecheck))
                    case .notPermitted(let message):
                        logger.error("prepared transaction not rolled back: permission denied",
                                     metadata: ["rule": "\(rule.name)", "gid": "\(t.gid)", "error": "\(message)"])
                        records.append(.init(rule, alert, prepared: t, .notPermitted, dryRun: false, refusedBy: .rollbackPermission))
                    case .notSent(let error):
                        logger.error("prepared transaction not rolled back: its database could not be reached or the re-check failed",
                                     metadata: ["rule": "\(rule.name)", "gid": "\(t.gid)", "datname": "\(t.datname)", "error": "\(error)"])
                        records.append(.init(rule, alert, prepared: t, .error, dryRun: false))
                    case .unknown(let error):
                        limiter.record(rule: rule.name, count: 1)
                        failure = failure ?? error
                        logger.error("ROLLBACK PREPARED failed after it was sent; whether it was rolled back is unknown",
                                     metadata: ["rule": "\(rule.name)", "gid": "\(t.gid)", "error": "\(error)"])
                        records.append(.init(rule, alert, prepared: t, .unknown, dryRun: false))
                    }
                }
            }
            return (stamped(records), failure)
        }
        log.record(records)
        if let failure { throw failure }
        return records
    }
}

extension ActionRecord {
    /// A record of `rule` answering `alert` about a prepared transaction, stamped now.
    init(_ rule: Rule, _ alert: AlertRef, prepared: PreparedTransaction, _ result: ActionResult, dryRun: Bool,
         refusedBy: Guard? = nil) {
        let session = SessionRow(pid: 0, datname: prepared.datname, usename: prepared.owner, state: "prepared",
                                 stateAge: prepared.age)
        self.init(time: unixTime(), rule: rule.name, alertname: alert.alertname, fingerprint: alert.fingerprint,
                  session: session, action: .rollbackPrepared, result: result, dryRun: dryRun, refusedBy: refusedBy,
                  alertLabels: alert.labels, prepared: prepared)
    }
}
