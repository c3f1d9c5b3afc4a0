import Testing
@testable import PGWarden

// Small lookups shared by the collector and exposition tests.

/// The family called `name`, or nil.
func family(_ families: [MetricFamily], _ name: String) -> MetricFamily? {
    families.first { $0.name == name }
}

/// A sample's labels as a dictionary (label names are unique within a sample).
func labelDict(_ sample: Sample) -> [String: String] {
    Dictionary(sample.labels, uniquingKeysWith: { first, _ in first })
}

/// The samples of `family` whose labels are exactly `labels`.
func samples(_ family: MetricFamily?, _ labels: [String: String], suffix: String = "") -> [Sample] {
    (family?.samples ?? []).filter { $0.suffix == suffix && labelDict($0) == labels }
}

/// The value of the single sample of `family` with exactly `labels`; nil when there is none.
/// Two or more matching samples yield nil too (a duplicate series is a bug the caller should see).
func value(_ family: MetricFamily?, _ labels: [String: String], suffix: String = "") -> Double? {
    let matching = samples(family, labels, suffix: suffix)
    return matching.count == 1 ? matching[0].value : nil
}

/// Label names of a sample, in order.
func labelNames(_ sample: Sample) -> [String] { sample.labels.map(\.0) }

/// Non-overlapping occurrences of `needle` in `haystack`.
func occurrences(of needle: String, in haystack: String) -> Int {
    var count = 0
    var rest = haystack[...]
    while let range = rest.firstRange(of: needle) {
        count += 1
        rest = rest[range.upperBound...]
    }
    return count
}

// Helpers for the single-statement design: each collector's branch returns one text[] per row
// (`SELECT ARRAY[...]`) whose elements follow `columns(options:)`.

/// The top-level elements of every `ARRAY[...]` constructor in `sql`, in order of appearance
/// (commas inside parentheses, brackets or quoted literals do not split).
func arrayElements(_ sql: String) -> [[String]] {
    let chars = Array(sql)
    let marker = Array("ARRAY[")
    var arrays: [[String]] = []
    var i = 0
    while i + marker.count <= chars.count {
        guard Array(chars[i..<(i + marker.count)]) == marker else { i += 1; continue }
        var j = i + marker.count, depth = 0, inQuote = false
        var elements: [String] = [], current = ""
        while j < chars.count {
            let c = chars[j]
            if inQuote {
                if c == "'" { inQuote = false }
            } else if c == "'" {
                inQuote = true
            } else if c == "(" || c == "[" {
                depth += 1
            } else if c == ")" || c == "]" {
                if depth == 0 { break }
                depth -= 1
            } else if c == "," && depth == 0 {
                elements.append(current.trimmingWhitespace())
                current = ""
                j += 1
                continue
            }
            current.append(c)
            j += 1
        }
        elements.append(current.trimmingWhitespace())
        arrays.append(elements)
        i = j
    }
    return arrays
}

extension String {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

/// PostgreSQL's text output of a one-dimensional text[] (array_out's quoting rules).
func textArrayOutput(_ elements: [String?]) -> String {
    let parts = elements.map { element -> String in
        guard let element else { return "NULL" }
        let special: Set<Character> = ["{", "}", ",", "\"", "\\"]
        let quoted = element.isEmpty || element.uppercased() == "NULL"
            || element.contains { special.contains($0) || $0.isWhitespace }
        guard quoted else { return element }
        var escaped = ""
        for c in element {
            if c == "\"" || c == "\\" { escaped.append("\\") }
            escaped.append(c)
        }
        return "\"\(escaped)\""
    }
    return "{" + parts.joined(separator: ",") + "}"
}

/// The families `collector` builds from `rows` (elements in `columns(options:)` order) after they
/// travel as the scrape statement returns them: tagged text[] rows, split back per collector.
func familiesThroughScrape(_ collector: any Collector, _ rows: [[String?]], options: CollectorOptions = .init(),
                           serverVersion: Int = 160000) throws -> [MetricFamily] {
    let statement = ScrapeStatement(collectors: [collector], serverVersion: serverVersion, options: options)
    let tagged = rows.map { ["0", textArrayOutput($0)] as [String?] }
    let parts = try statement.split(QueryResult(columns: ["section", "r"], rows: tagged))
    return collector.families(from: parts[0], options: options)
}

/// A collector's unit tests: what its `collector` builds from rows in its own column order.
protocol CollectorSuite {
    associatedtype Subject: Collector
    var collector: Subject { get }
}

extension CollectorSuite {
    /// The families `collector` builds from `rows` (elements in `columns(options:)` order).
    func families(_ rows: [[String?]], options: CollectorOptions = .init()) -> [MetricFamily] {
        collector.families(from: QueryResult(columns: collector.columns(options: options), rows: rows), options: options)
    }

    /// The collector's branch for `version` (default options), expected to be the same for every
    /// supported version and to read sessions only through the shared CTEs.
    func singleBranch(_ version: Int, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let sql = collector.sql(serverVersion: version, options: .init())
        #expect(sql == collector.sql(serverVersion: CollectorSQLTests.supportedVersions[0], options: .init()),
                "one branch for every version", sourceLocation: sourceLocation)
        #expect(readsOnlySharedCTEs(sql), sourceLocation: sourceLocation)
        return sql
    }
}

/// Whether a branch reads sessions only through the shared CTEs (never the view itself, and
/// never excluding pgwarden's backend on its own: ScrapeStatement does that once).
func readsOnlySharedCTEs(_ sql: String) -> Bool {
    !sql.contains("pg_stat_activity") && !sql.contains("pg_stat_get_activity") && !sql.contains("pg_backend_pid")
}
