import Testing
@testable import PGWarden

@Suite("PostgresError")
struct PostgresErrorTests {
    @Test func descriptionWithSQLState() {
        let error = PostgresError(.connectionFailed, sqlState: "28P01",
                                  message: "FATAL:  password authentication failed for user \"app\"\n")
        #expect(error.description
            == "PostgreSQL connection failed: FATAL:  password authentication failed for user \"app\" (SQLSTATE 28P01)")
    }

    @Test func descriptionWithoutSQLState() {
        let error = PostgresError(.timeout, message: "no answer from the server within 3 seconds")
        #expect(error.description == "PostgreSQL timed out: no answer from the server within 3 seconds")
        #expect(!error.description.contains("SQLSTATE"))
    }

    @Test(arguments: [
        ("  \n msg \t\n", "msg"),
        ("inner  spaces\nkept", "inner  spaces\nkept"),
        ("", ""),
        ("ERROR:  relation \"x\" does not exist\n", "ERROR:  relation \"x\" does not exist"),
    ])
    func messageIsTrimmed(raw: String, trimmed: String) {
        #expect(PostgresError(.queryFailed, message: raw).message == trimmed)
    }

    /// Windows-style line ends (e.g. from a server message relayed through a proxy) are whitespace too.
    @Test func messageIsTrimmedOfCRLF() {
        #expect(PostgresError(.queryFailed, message: "\r\n").message == "")
        #expect(PostgresError(.queryFailed, message: "server closed the connection\r\n").message
            == "server closed the connection")
        // A lone CR is trimmed too.
        #expect(PostgresError(.queryFailed, message: "x\r").message == "x")
    }

    @Test(arguments: [
        (PostgresError.Kind.connectionFailed, true),
        (.timeout, true),
        (.connectionLost, true),
        (.queryFailed, false),
    ])
    func connectionLevel(kind: PostgresError.Kind, expected: Bool) {
        #expect(PostgresError(kind, message: "x").isConnectionLevel == expected)
        #expect(PostgresError(kind, message: "x").description.hasPrefix("PostgreSQL \(kind.rawValue): "))
    }

    @Test func descriptionIsOnlyKindMessageAndState() {
        // The type holds no DSN, so whatever it prints comes from these three fields alone (the
        // fourth is a flag).
        let error = PostgresError(.queryFailed, sqlState: "57014", message: "canceling statement due to statement timeout")
        #expect(error.description == "PostgreSQL query failed: canceling statement due to statement timeout (SQLSTATE 57014)")
        #expect(Mirror(reflecting: error).children.compactMap(\.label).sorted() == ["kind", "message", "sqlState", "whileConnecting"])
        #expect(Mirror(reflecting: error).children.first { $0.label == "whileConnecting" }?.value is Bool)
    }

    // MARK: SQLSTATE from start-up failures (libpq reports them as text only)

    @Test(arguments: [
        ("connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user \"app\"", "28P01"),
        ("connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  database \"nope\" does not exist", "3D000"),
        ("connection to server at \"db\", port 5432 failed: FATAL:  role \"nobody\" does not exist", "28000"),
        ("FATAL:  too many connections for role \"app\"", "53300"),
        ("FATAL:  too many connections for database \"app\"", "53300"),
        ("FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute", "53300"),
        ("FATAL:  role \"retired\" is not permitted to log in", "28000"),
    ])
    func startupSQLState(message: String, state: String) {
        #expect(sqlStateFromStartupMessage(message) == state)
    }

    @Test(arguments: [
        "connection to server at \"db\" (10.0.0.5), port 5432 failed: Connection refused",
        "could not translate host name \"nowhere\" to address: Name or service not known",
        "",
    ])
    func startupSQLStateUnknown(message: String) {
        #expect(sqlStateFromStartupMessage(message) == nil)
    }

    /// max_connections exhaustion is reported as "sorry, too many clients already" (SQLSTATE 53300).
    @Test func startupSQLStateForMaxConnections() {
        #expect(sqlStateFromStartupMessage("connection to server at \"db\", port 5432 failed: FATAL:  sorry, too many clients already") == "53300")
    }

    /// A role whose name contains "database" must still be reported as a missing role.
    @Test func startupSQLStateForRoleNamedLikeDatabase() {
        #expect(sqlStateFromStartupMessage("FATAL:  role \"database_admin\" does not exist") == "28000")
    }

    /// A statement that never left pgwarden (no connection) is told apart from one that failed
    /// after it was sent: the kill path audits the first as "error", the second as "unknown".
    @Test func failureToConnectIsMarkedWhileConnecting() {
        let database = Database(settings: ConnectionSettings(dsn: "host=/nonexistent-pgwarden-test port=1", connectTimeout: .seconds(2)))
        do {
            _ = try database.execute("SELECT 1", retryingStale: false)
            Issue.record("connected to a server that does not exist")
        } catch let error as PostgresError {
            #expect(error.whileConnecting)
            #expect(error.kind == .connectionFailed)
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(!PostgresError(.connectionLost, message: "server closed the connection").whileConnecting)
        var connecting = PostgresError(.connectionFailed, message: "x")
        connecting.whileConnecting = true
        #expect(!ActionRunner.mayHaveBeenSent(connecting))
        #expect(ActionRunner.mayHaveBeenSent(PostgresError(.connectionLost, message: "x")))
        #expect(ActionRunner.mayHaveBeenSent(PostgresError(.queryFailed, sqlState: "57014", message: "statement timeout")))
    }

    // MARK: What a failed connect says (libpq, no server needed)

    static func connectError(_ dsn: String?, overrides: [(String, String)] = []) -> PostgresError? {
        do {
            _ = try PGConnection.connect(dsn: dsn, defaults: [], overrides: overrides, timeout: .seconds(2))
            return nil
        } catch {
            return error as? PostgresError
        }
    }

    /// A server that is not running on a Unix-domain socket is a connection failure with libpq's
    /// reason, not a "malformed connection string".
    @Test func missingSocketIsAConnectionFailureWithItsReason() throws {
        let error = try #require(Self.connectError("host=/nonexistent-pgwarden-test port=5432 password=s3cret-pw"))
        #expect(error.kind == .connectionFailed)
        #expect(error.message.contains("/nonexistent-pgwarden-test/.s.PGSQL.5432"), "\(error.message)")
        #expect(error.message.contains("No such file or directory"), "\(error.message)")
        #expect(!error.message.contains("malformed"))
        #expect(!error.message.contains("s3cret-pw"))
    }

    @Test(arguments: [
        "host=127.0.0.1 password='s3cret-pw port=5432",   // unterminated quote
        "host=127.0.0.1 password=s3cret-pw nosuchoption=1",
        "postgresql://user:s3cret-pw@[::1",                 // unterminated IPv6 literal
        "postgresql://user:s3cret-pw@localhost/db?nosuchparam=1",
    ])
    func malformedDSNIsNamedWithoutQuotingIt(dsn: String) throws {
        let error = try #require(Self.connectError(dsn))
        #expect(error.kind == .connectionFailed)
        #expect(error.message == "the connection string (--dsn or DATA_SOURCE_NAME) is malformed; check its key=value or URI syntax")
    }

    @Test func refusedOptionValueIsNamed() throws {
        let error = try #require(Self.connectError("host=/nonexistent-pgwarden-test sslmode=bogus password=s3cret-pw"))
        #expect(error.message.contains("sslmode"), "\(error.message)")
        #expect(!error.message.contains("s3cret-pw"))
        #expect(!error.message.contains("malformed"))
    }

    /// A DSN without "=" or a URI prefix is a database name to libpq, not a malformed string.
    @Test func plainDatabaseNameIsNotMalformed() throws {
        let error = try #require(Self.connectError("nosuchdb", overrides: [("host", "/nonexistent-pgwarden-test")]))
        #expect(!error.message.contains("malformed"), "\(error.message)")
        #expect(error.message.contains("/nonexistent-pgwarden-test"), "\(error.message)")
    }

    @Test func passwordIsScrubbedFromMessages() {
        #expect(PGConnection.scrubbed("failed for s3cret-pw at s3cret-pw", "s3cret-pw") == "failed for *** at ***")
        #expect(PGConnection.scrubbed("nothing here", nil) == "nothing here")
        #expect(PGConnection.scrubbed("nothing here", "") == "nothing here")
    }
}

/// PGConnection.carriesPassword: the start-up warning's test of --dsn, as libpq parses it.
@Suite("DSN password")
struct DSNPasswordTests {
    @Test(arguments: [
        ("host=db password=secret", true), ("host=db password='s e c'", true), ("password=x", true),
        ("postgresql://app:secret@db/shop", true), ("postgres://app:s%40cret@db:5432/shop?sslmode=require", true),
        ("postgresql://db/shop?password=secret", true),
        ("host=db user=app", false), ("host=db password=''", false), ("postgresql://app@db/shop", false),
        ("postgresql://app:@db/shop", false), ("shop", false), ("host=db password", false), ("host='unterminated", false),
        ("host=db passfile=/etc/pgwarden/pgpass", false),
    ])
    func detectsAPasswordInTheDSN(dsn: String, expected: Bool) {
        #expect(PGConnection.carriesPassword(dsn: dsn) == expected)
    }
}

/// The database override of a connection without a DSN goes into a quoted key=value string.
@Suite("Database override quoting")
struct DatabaseOverrideQuotingTests {
    @Test(arguments: [("shop", "'shop'"), ("a b", "'a b'"), ("o'brien", "'o\\'brien'"), ("x\\y", "'x\\\\y'"),
                      ("host=evil dbname=x", "'host=evil dbname=x'")])
    func quoted(name: String, expected: String) {
        #expect(Database.conninfoQuoted(name) == expected)
    }
}
