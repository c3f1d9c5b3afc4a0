/// Rows of one statement's result, copied out of the `PGresult` before it is cleared.
public struct QueryResult: Sendable, Equatable {
    public var columns: [String]
    public var rows: [[String?]]
    /// The command tag's row count for statements that return no rows ("UPDATE 3" gives 3).
    public var affectedRows: Int

    public init(columns: [String], rows: [[String?]], affectedRows: Int = 0) {
        self.columns = columns
        self.rows = rows
        self.affectedRows = affectedRows
    }

    /// The index of a column by name; a programmer error when absent.
    public func column(_ name: String) -> Int {
        guard let index = columns.firstIndex(of: name) else {
            preconditionFailure("result has no column \(name); columns are \(columns)")
        }
        return index
    }
}

extension Array where Element == String? {
    /// The text of column `i`, or "" when NULL.
    @inlinable func text(_ i: Int) -> String { self[i] ?? "" }
    /// Column `i` as a Double, 0 when NULL or unparsable.
    @inlinable func double(_ i: Int) -> Double { self[i].flatMap(Double.init) ?? 0 }
    /// Column `i` as an Int, 0 when NULL or unparsable.
    @inlinable func int(_ i: Int) -> Int { self[i].flatMap { Int($0) } ?? 0 }
    /// Column `i` as a boolean: "t" (PostgreSQL's output) or "true" (bool::text) are true.
    @inlinable func bool(_ i: Int) -> Bool { self[i] == "t" || self[i] == "true" }
}
