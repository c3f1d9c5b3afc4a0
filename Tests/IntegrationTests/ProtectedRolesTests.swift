import Foundation
import PGWarden
import Testing

/// protected_roles names group roles too: a DBA who protects `admins` means its members, direct
/// or through other groups. Checked when the plan is made and again inside the kill statement.
@Suite("Protected group roles against a real server")
struct ProtectedRolesTests {
    @Test func membersOfAProtectedGroupSurvive() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let admins = try fx.createRole("pgw_admins")
        let alice = try fx.createRole("pgw_alice", options: "IN ROLE \(quoteIdent(admins))")
        let oncall = try fx.createRole("pgw_oncall", options: "IN ROLE \(quoteIdent(admins))")
        let bob = try fx.createRole("pgw_bob", options: "IN ROLE \(quoteIdent(oncall))")  // a member through oncall
        let carol = try fx.createRole("pgw_carol")
        var sessions: [String: TestSession] = [:]
        for role in [alice, bob, carol] {
            let session = try fx.connect(role: role, database: db)
            try session.idleInTransaction()
            sessions[role] = session
        }
        let (status, output) = try runPGWarden(fx.env, ["terminate", "--dsn", fx.env.dsn(), "--database", db,
                                                        "--protect-role", admins])
        #expect(status == 0, "\(output)")
        #expect(output.contains("1 session(s) signalled, 2 left alone"), "\(output)")
        #expect(sessions[carol]!.wasTerminated())
        #expect(try fx.state(of: sessions[alice]!.pid) == "idle in transaction")
        #expect(try fx.state(of: sessions[bob]!.pid) == "idle in transaction")
    }

    /// The kill statement itself refuses a member of a protected group, whatever the caller planned.
    @Test func theKillStatementRechecksMembership() throws {
        let fx = try AdminFixture()
        defer { fx.cleanUp() }
        let db = try fx.createDatabase()
        let admins = try fx.createRole("pgw_admins")
        let alice = try fx.createRole("pgw_alice", options: "IN ROLE \(quoteIdent(admins))")
        let session = try fx.connect(role: alice, database: db)
        try session.idleInTransaction()
        let killer = Killer(database: Database(settings: ConnectionSettings(dsn: fx.env.dsn())))
        let row = try #require(try killer.listSessions().first { $0.pid == session.pid })
        #expect(!row.isProtected, "listed without protected roles")
        #expect(try killer.listSessions(protectedRoles: [admins]).first { $0.pid == session.pid }?.isProtected == true)
        let outcomes = try killer.signal(.terminate, targets: [row], selection: Selection(criteria: SessionCriteria()),
                                         protectedRoles: [admins])
        #expect(outcomes[session.pid] == .gone)
        #expect(try fx.state(of: session.pid) == "idle in transaction")
    }
}
