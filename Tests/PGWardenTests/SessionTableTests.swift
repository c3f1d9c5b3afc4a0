import Testing
@testable import PGWarden

/// SessionTable: ages and the aligned command-line tables.
@Suite("SessionTable")
struct SessionTableTests {
    @Test(arguments: [
        (0.4, "0s"), (0, "0s"), (0.999, "0s"), (1, "1s"), (59.9, "59s"), (60, "1m0s"), (75, "1m15s"),
        (3599, "59m59s"), (3600, "1h0m0s"), (3725, "1h2m5s"), (3605, "1h0m5s"), (90061, "25h1m1s"),
    ])
    func formatAge(seconds: Double, expected: String) {
        #expect(SessionTable.formatAge(seconds) == expected)
    }

    static let sessions = [
        SessionRow(pid: 7, datname: "shop", usename: "app", applicationName: "web", clientAddr: "10.1.2.3",
                   state: "active", stateAge: 75),
        SessionRow(pid: 123456, datname: "a_much_longer_database", usename: "batch_user", applicationName: "etl",
                   clientAddr: "", state: "idle in transaction", stateAge: 3725),
    ]

    /// Column start offsets in a line: the positions after runs of two or more spaces (cells have no double spaces).
    static func columnStarts(_ line: String) -> [Int] {
        let chars = Array(line)
        var starts = [0]
        var i = 0
        while i < chars.count {
            if chars[i] == " ", i + 1 < chars.count, chars[i + 1] == " " {
                var j = i
                while j < chars.count, chars[j] == " " { j += 1 }
                if j < chars.count { starts.append(j) }
                i = j
            } else {
                i += 1
            }
        }
        return starts
    }

    @Test func renderSessionsAligns() throws {
        let text = SessionTable.render(sessions: Self.sessions, notes: [123456: "protected role"])
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        try #require(lines.count == 3)
        #expect(lines[0].split(separator: " ", omittingEmptySubsequences: true)
            == ["PID", "DATABASE", "ROLE", "APPLICATION", "CLIENT", "STATE", "AGE", "NOTE"])
        // Every cell of the full row starts where its header starts.
        let header = Self.columnStarts(lines[0])
        #expect(header.count == 8)
        #expect(Self.columnStarts(lines[2]) == header)
        let full = lines[2]
        for (start, cell) in zip(header, ["123456", "a_much_longer_database", "batch_user", "etl", "local",
                                           "idle in transaction", "1h2m5s", "protected role"]) {
            #expect(String(Array(full)[start..<(start + cell.count)]) == cell)
        }
        #expect(lines[2].hasSuffix("protected role"))
        #expect(lines[2].contains("local"), "a Unix-socket session shows as local")
        #expect(lines[2].contains("1h2m5s"))
        // The first row's cells start at the same columns too.
        let first = Array(lines[1])
        for (start, cell) in zip(header, ["7", "shop", "app", "web", "10.1.2.3", "active", "1m15s"]) {
            #expect(String(first[start..<(start + cell.count)]) == cell)
        }
        // Columns are separated by at least two spaces.
        #expect(header[1] >= "123456".count + 2)
        #expect(header[2] - header[1] == "a_much_longer_database".count + 2)
    }

    @Test func noSessionsRendersTheHeaderOnly() {
        let text = SessionTable.render(sessions: [])
        #expect(text == "PID  DATABASE  ROLE  APPLICATION  CLIENT  STATE  AGE  NOTE\n")
    }

    @Test(arguments: ["evil\nname", "evil\r\nname", "evil\rname", "evil\tname", "two\n\nlines"])
    func controlCharactersDoNotBreakRows(application: String) {
        let rows = [SessionRow(pid: 1, datname: "db\nx", applicationName: application, state: "active"),
                    SessionRow(pid: 2, applicationName: "ok")]
        let text = SessionTable.render(sessions: rows)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 4)  // header, two rows, and the empty string after the final newline
        #expect(!text.contains("\r") && !text.contains("\t"))
        #expect(lines[1].contains("db x"))
        let flattened = String(application.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        #expect(lines[1].contains(flattened))
        #expect(lines[2].hasPrefix("2 "))
        // Alignment survives the replacement.
        #expect(Self.columnStarts(String(lines[0])).count == 8)
    }

    @Test func renderRecords() {
        let records = [
            ActionRecord(time: 1, rule: "r", alertname: "A", fingerprint: "f", session: Self.sessions[0],
                         action: .terminate, result: .success, dryRun: false),
            ActionRecord(time: 2, rule: "r", alertname: "A", fingerprint: "f", session: Self.sessions[1],
                         action: .cancelThenTerminate, result: .protected, dryRun: false),
        ]
        let lines = SessionTable.render(records: records).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0].split(separator: " ") == ["PID", "DATABASE", "ROLE", "APPLICATION", "CLIENT", "STATE", "AGE",
                                                   "ACTION", "RESULT"])
        #expect(lines[1].hasPrefix("7 ") && lines[1].hasSuffix("success"))
        #expect(lines[1].contains("terminate"))
        #expect(lines[2].hasPrefix("123456") && lines[2].hasSuffix("protected"))
        #expect(lines[2].contains("cancel_then_terminate"))
        #expect(Self.columnStarts(lines[2]) == Self.columnStarts(lines[0]))
    }
}
