/// Whether a connection string carries a password, as libpq reads it.
extension PGConnection {
    /// True when libpq finds a non-empty password in `dsn`: a `password=` keyword or the
    /// password of a URI's `user:password@`. A string libpq cannot parse (reported when
    /// connecting) and a bare database name carry none.
    public static func carriesPassword(dsn: String) -> Bool {
        guard let password = try? checkedPassword(dsn) else { return false }
        return !password.isEmpty
    }
}
