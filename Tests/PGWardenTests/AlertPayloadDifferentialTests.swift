import Foundation
import Testing
import TestSupport
@testable import PGWarden

/// AlertNotification.decode (JSONReader) against the decoding it replaced: Foundation's
/// JSONDecoder over Decodable mirrors of the notification, with the same checks after it. Over
/// a seeded corpus of notification-shaped documents and mutations of them, both accept the same
/// documents and decode them to the same values, and type, presence and value errors carry the
/// same message.
///
/// The documents the two may disagree on are the ones JSONReader refuses on purpose while
/// JSONDecoder lets them through (see `Leniency`): a key written twice in one object, a trailing
/// comma, and a malformed string or number that JSONDecoder never looks at closely because it
/// checks strings and numbers only when it decodes them. For each such disagreement a test-side
/// scanner, independent of JSONReader, must find that leniency exactly at the byte JSONReader's
/// error names.
@Suite("AlertNotification.decode vs JSONDecoder")
struct AlertPayloadDifferentialTests {
    /// Change to explore another corpus; a failure names the seed and the document.
    static let seed: UInt64 = 0x0A1E_4720_24
    static let baseDocuments = 800
    static let mutantsPerDocument = 4

    /// How the documents fell out, to show the corpus covers every case.
    struct Tally {
        var bothAccepted = 0
        var bothRefusedSameMessage = 0
        var bothRefusedOursMorePrecise = 0
        var bothRefusedAnotherLabelOfTheSameMap = 0
        var refusedOnPurpose: [Leniency.Kind: Int] = [:]
    }

    @Test func sameVerdictsValuesAndMessagesAsJSONDecoder() throws {
        var generator = NotificationGenerator(seed: Self.seed)
        var tally = Tally()
        for n in 0..<Self.baseDocuments {
            let document = Array(generator.notification().utf8)
            var documents = [document]
            for _ in 0..<Self.mutantsPerDocument { documents.append(generator.mutate(document)) }
            for (m, body) in documents.enumerated() {
                let label = "seed \(Self.seed), document \(n), mutant \(m): \(String(decoding: body, as: UTF8.self))"
                compare(body, label: label, tally: &tally)
            }
        }
        let total = Self.baseDocuments * (Self.mutantsPerDocument + 1)
        let counts = "\(tally)"
        #expect(tally.bothAccepted > total / 20, "\(counts)")
        #expect(tally.bothRefusedSameMessage > total / 20, "\(counts)")
        #expect(tally.bothRefusedOursMorePrecise > total / 10, "\(counts)")
        for kind in Leniency.Kind.allCases {
            #expect(tally.refusedOnPurpose[kind, default: 0] > 2, "\(kind): \(counts)")
        }
    }

    /// One document through both decoders.
    func compare(_ body: [UInt8], label: String, tally: inout Tally) {
        let reference = FoundationAlertDecoding.decode(body)
        let ours: Result<AlertNotification, PayloadError> = Result { () throws(PayloadError) in try AlertNotification.decode(body) }
        switch (reference, ours) {
        case (.success(let expected), .success(let actual)):
            tally.bothAccepted += 1
            let (want, got) = (NotificationText.render(expected), NotificationText.render(actual))
            #expect(Array(got.utf8) == Array(want.utf8), "\(label)\nJSONDecoder: \(want)\nJSONReader:  \(got)")
        case (.success, .failure(let error)):
            if let kind = Leniency.explaining(error.description, in: body) {
                tally.refusedOnPurpose[kind, default: 0] += 1
            } else {
                Issue.record("JSONDecoder accepted, JSONReader refused: \(error) (\(Leniency.find(in: body)))\n\(label)")
            }
        case (.failure(let expected), .success):
            Issue.record("JSONDecoder refused (\(expected)), JSONReader accepted\n\(label)")
        case (.failure(let reference), .failure(let error)):
            let (expected, message) = (reference.description, error.description)
            if expected == message || Self.sameWithoutOffset(expected, message) {
                tally.bothRefusedSameMessage += 1
            } else if expected.hasSuffix("; expected an object") && message == expected + " of strings" {
                // JSONDecoder named only the container for a label map that is null or not an object.
                tally.bothRefusedOursMorePrecise += 1
            } else if expected == FoundationAlertDecoding.notJSON {
                // JSONDecoder says only that; ours says what and where, or names the repeated key
                // (found while reading, before a later syntax error), or the number that is not
                // a whole one (JSONDecoder reports that as invalid JSON too).
                let precise = message.hasPrefix("the body is not valid JSON: ") || message.contains(" twice (again at byte ")
                    || (message.hasPrefix("truncatedAlerts is ") && message.hasSuffix("; expected a whole number (a 64-bit integer)"))
                #expect(precise, "\(label)\nJSONReader: \(message)")
                tally.bothRefusedOursMorePrecise += 1
            } else if Self.sameMap(expected, message) {
                // Several labels of one map are not strings: JSONDecoder does not go through a
                // map in the order it is written, JSONReader does.
                tally.bothRefusedAnotherLabelOfTheSameMap += 1
            } else if let kind = Leniency.explaining(message, in: body) {
                // JSONDecoder got past the syntax (so the document is JSON but for its
                // leniencies) and found another problem first.
                tally.refusedOnPurpose[kind, default: 0] += 1
            } else {
                Issue.record("\(label)\nJSONDecoder: \(expected)\nJSONReader:  \(message)")
            }
        }
    }

    /// `message` is `expected` with the offset of the bad byte added (the body is not UTF-8).
    static func sameWithoutOffset(_ expected: String, _ message: String) -> Bool {
        let offset = try! Regex(#" \(at byte \d+\);"#)
        return message.replacing(offset, with: ";") == expected
    }

    /// Both messages say a value in the same label or annotation map is not a string.
    static func sameMap(_ a: String, _ b: String) -> Bool {
        let map = try! Regex(#"^(groupLabels|commonLabels|commonAnnotations|alerts\[\d+\]\.labels|alerts\[\d+\]\.annotations)\."#)
        let problems = ["has the wrong type; expected a string", "is null; expected a string"]
        guard problems.contains(where: a.hasSuffix), problems.contains(where: b.hasSuffix),
              let first = try? map.firstMatch(in: a), let second = try? map.firstMatch(in: b) else { return false }
        return a[first.range] == b[second.range]
    }

    /// The scanner the exemptions rest on finds what it must, where it is, and nothing in clean
    /// documents.
    @Test func leniencyScanner() {
        let cases: [(String, [Leniency])] = [
            (#"{"a":1,"b":[-0.5e+7,true,false,null]}"#, []),
            (#"{"a":"x,}","b":["]",",","01","\\"]}"#, []),
            (#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#, []),
            (#"{"a":1,}"#, [Leniency(.trailingComma, 6...7)]),
            (#"{"a":[1, ] }"#, [Leniency(.trailingComma, 7...9)]),
            (#"{"a":1,"a":2}"#, [Leniency(.duplicateKey, 7...9)]),
            (#"{"x":{"é":1,"e\u0301":2}}"#, [Leniency(.duplicateKey, 13...21)]),
            (#"{"x":[{"k\"":1,"k\u0022":2,}]}"#, [Leniency(.duplicateKey, 15...23), Leniency(.trailingComma, 26...27)]),
            (#"{"x":"a\x","y":"\ud800"}"#, [Leniency(.invalidString, 5...9), Leniency(.invalidString, 15...22)]),
            (#"{"x":[01,1.,1.5.2,2e,-,1+2,-1]}"#, [Leniency(.invalidNumber, 6...8), Leniency(.invalidNumber, 9...11),
                                                   Leniency(.invalidNumber, 12...17), Leniency(.invalidNumber, 18...20),
                                                   Leniency(.invalidNumber, 21...22), Leniency(.invalidNumber, 23...26)]),
        ]
        for (text, expected) in cases {
            #expect(Leniency.find(in: Array(text.utf8)) == expected, "\(text)")
        }
    }

    /// JSONDecoder does accept what the exemptions are for (if it stopped, the exemptions would
    /// hide nothing and could go).
    @Test(arguments: [#","receiver":"a","receiver":"b"}"#, ",}", #","x":"\'"}"#, #","x":[01,1.5.2]}"#])
    func foundationIsLenientWhereJSONReaderIsNot(ending: String) throws {
        let body = #"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"}}]"# + ending
        guard case .success = FoundationAlertDecoding.decode(Array(body.utf8)) else {
            Issue.record("JSONDecoder refused \(body)")
            return
        }
        #expect(throws: PayloadError.self) { try AlertNotification.decode(Array(body.utf8)) }
    }
}

/// Something JSONDecoder lets through and JSONReader refuses on purpose, and the bytes it spans.
struct Leniency: Equatable, Sendable, CustomStringConvertible {
    enum Kind: Hashable, Sendable, CaseIterable {
        /// A key written twice in one object: JSONDecoder keeps the first.
        case duplicateKey
        /// `[1,]`, `{"a":1,}`: the range runs from the comma to the bracket.
        case trailingComma
        /// A string JSONDecoder cannot decode (a bad escape, an unpaired surrogate, a raw control
        /// character): JSONDecoder checks a string only when it decodes it, so it never notices
        /// one in a field it skips, and reports a problem with a field it decodes earlier first.
        case invalidString
        /// A run of number characters (`-+.eE0-9`) outside the JSON number grammar, such as
        /// `01`, `1.5.2` or `1+2`: checked by JSONDecoder only when decoded, like strings. The
        /// range includes the byte after the run.
        case invalidNumber
    }

    /// What it is.
    var kind: Kind
    /// The bytes it spans.
    var range: ClosedRange<Int>

    init(_ kind: Kind, _ range: ClosedRange<Int>) {
        self.kind = kind
        self.range = range
    }

    var description: String { "\(kind) at \(range)" }

    /// The kind of leniency JSONReader's `message` is about: one found in `body` at the byte the
    /// message names, and of a kind the message is about. Nil when there is none.
    static func explaining(_ message: String, in body: [UInt8]) -> Kind? {
        let duplicate = try! Regex(#" twice \(again at byte (\d+)\); a notification must not repeat a key"#)
        let syntax = try! Regex(#"^the body is not valid JSON: .*? at byte (\d+)"#)
        let kinds: [Kind]
        let match: Regex<AnyRegexOutput>.Match?
        if let found = message.matches(of: duplicate).last {
            (kinds, match) = ([.duplicateKey], found)
        } else if let found = try? syntax.firstMatch(in: message) {
            kinds = message.contains("(JSON allows no trailing comma)") ? [.trailingComma] : [.invalidString, .invalidNumber]
            match = found
        } else {
            return nil
        }
        guard let offset = match?.output[1].substring.flatMap({ Int($0) }) else { return nil }
        return find(in: body).first { kinds.contains($0.kind) && $0.range.contains(offset) }?.kind
    }

    /// The leniencies in `body`, a document JSONDecoder parsed (so JSON but for them), in order.
    /// Strings are decoded by JSONDecoder itself, keys compared as Swift strings (as
    /// JSONDecoder's dictionaries and JSONReader do), numbers matched against the grammar.
    static func find(in bytes: [UInt8]) -> [Leniency] {
        let number = try! Regex(#"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?"#)
        var found: [Leniency] = []
        /// One open object (with its keys so far) or array.
        struct Container {
            var isObject: Bool
            var keys: Set<String> = []
            var expectingKey = false
        }
        var stack: [Container] = []
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"): stack.append(Container(isObject: true, expectingKey: true))
            case UInt8(ascii: "["): stack.append(Container(isObject: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                var j = i + 1
                while j < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[j]) { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "}") || bytes[j] == UInt8(ascii: "]") {
                    found.append(Leniency(.trailingComma, i...j))
                }
                if stack.last?.isObject == true { stack[stack.count - 1].expectingKey = true }
            case UInt8(ascii: "\""):
                var end = i + 1
                while end < bytes.count && bytes[end] != UInt8(ascii: "\"") {
                    end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
                }
                end = min(end, bytes.count - 1)
                let string = try? JSONDecoder().decode(String.self, from: Data(bytes[i...end]))
                if string == nil { found.append(Leniency(.invalidString, i...end)) }
                if let top = stack.last, top.isObject, top.expectingKey {
                    if let string, !stack[stack.count - 1].keys.insert(string).inserted {
                        found.append(Leniency(.duplicateKey, i...end))
                    }
                    stack[stack.count - 1].expectingKey = false
                }
                i = end
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                var end = i
                while end < bytes.count, Array("-+.eE0123456789".utf8).contains(bytes[end]) { end += 1 }
                let run = String(decoding: bytes[i..<end], as: UTF8.self)
                if (try? number.wholeMatch(in: run)) == nil { found.append(Leniency(.invalidNumber, i...end)) }
                i = end - 1
            default: break
            }
            i += 1
        }
        return found
    }
}

/// A notification as text that shows every field (sorted maps, quoted strings), to compare two
/// decodings byte for byte (so a difference in Unicode normalization would show).
enum NotificationText {
    static func render(_ n: AlertNotification) -> String {
        var fields = ["version=" + JSONText.quote(n.version), "status=" + JSONText.quote(n.status),
                      "receiver=" + text(n.receiver), "groupKey=" + text(n.groupKey),
                      "truncatedAlerts=" + (n.truncatedAlerts.map { String($0) } ?? "nil"),
                      "groupLabels=" + text(n.groupLabels), "commonLabels=" + text(n.commonLabels),
                      "commonAnnotations=" + text(n.commonAnnotations), "externalURL=" + text(n.externalURL)]
        for (i, a) in n.alerts.enumerated() {
            fields.append("alerts[\(i)]={status=\(JSONText.quote(a.status)) labels=\(text(a.labels)) annotations=\(text(a.annotations)) "
                + "startsAt=\(text(a.startsAt)) endsAt=\(text(a.endsAt)) generatorURL=\(text(a.generatorURL)) fingerprint=\(text(a.fingerprint))}")
        }
        return fields.joined(separator: " ")
    }

    static func text(_ string: String?) -> String { string.map(JSONText.quote) ?? "nil" }

    static func text(_ map: [String: String]?) -> String {
        guard let map else { return "nil" }
        let entries = map.map { (JSONText.quote($0.key), JSONText.quote($0.value)) }
            .sorted { Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8)) }
        return "{" + entries.map { "\($0.0):\($0.1)" }.joined(separator: ",") + "}"
    }
}

/// The decoding before JSONReader, as it was on main (Foundation's JSONDecoder over Decodable
/// types with the same fields, then the same checks): the reference for the differential test.
enum FoundationAlertDecoding {
    struct Notification: Decodable {
        var version: String
        var status: String
        var receiver: String?
        var groupKey: String?
        var truncatedAlerts: Int?
        var groupLabels: [String: String]?
        var commonLabels: [String: String]?
        var commonAnnotations: [String: String]?
        var externalURL: String?
        var alerts: [Alert]
    }

    struct Alert: Decodable {
        var status: String
        var labels: [String: String]
        var annotations: [String: String]?
        var startsAt: String?
        var endsAt: String?
        var generatorURL: String?
        var fingerprint: String?
    }

    static let notJSON = "the body is not valid JSON (or not UTF-8)"

    /// The notification (as pgwarden's type), or the message the old code gave.
    static func decode(_ body: [UInt8]) -> Result<AlertNotification, PayloadError> {
        guard !body.isEmpty else { return .failure(PayloadError("the body is empty; send an Alertmanager webhook notification (JSON)")) }
        guard !body.contains(0), String(validating: body, as: UTF8.self) != nil else {
            return .failure(PayloadError("the body is not UTF-8 text; send the notification as UTF-8 JSON"))
        }
        let n: Notification
        do {
            n = try JSONDecoder().decode(Notification.self, from: Data(body))
        } catch let error as DecodingError {
            return .failure(PayloadError(describe(error)))
        } catch {
            return .failure(PayloadError("the body is not valid JSON"))
        }
        guard n.version == "4" else {
            return .failure(PayloadError("version is \"\(n.version)\"; pgwarden understands Alertmanager's webhook version \"4\""))
        }
        guard n.status == "firing" || n.status == "resolved" else {
            return .failure(PayloadError("status is \"\(n.status)\"; expected \"firing\" or \"resolved\""))
        }
        guard n.alerts.count <= AlertNotification.maxAlerts else {
            return .failure(PayloadError("\(n.alerts.count) alerts in one notification; at most \(AlertNotification.maxAlerts) are accepted (set max_alerts in Alertmanager's webhook_config)"))
        }
        for (i, alert) in n.alerts.enumerated() {
            guard alert.status == "firing" || alert.status == "resolved" else {
                return .failure(PayloadError("alerts[\(i)].status is \"\(alert.status)\"; expected \"firing\" or \"resolved\""))
            }
            guard let name = alert.labels["alertname"], !name.isEmpty else {
                return .failure(PayloadError("alerts[\(i)].labels has no alertname"))
            }
            // pgwarden refuses a NUL in a label (after every check above); the first in name order.
            for key in alert.labels.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
                if key.unicodeScalars.contains("\u{0}") {
                    return .failure(PayloadError("alerts[\(i)].labels has the label name \(JSONText.quote(key)), which contains a NUL character (\\u0000); label names and values must not contain NUL"))
                }
                if alert.labels[key]!.unicodeScalars.contains("\u{0}") {
                    return .failure(PayloadError("alerts[\(i)].labels.\(key) contains a NUL character (\\u0000); label names and values must not contain NUL"))
                }
            }
        }
        return .success(AlertNotification(
            version: n.version, status: n.status, receiver: n.receiver, groupKey: n.groupKey, truncatedAlerts: n.truncatedAlerts,
            groupLabels: n.groupLabels, commonLabels: n.commonLabels, commonAnnotations: n.commonAnnotations,
            externalURL: n.externalURL,
            alerts: n.alerts.map {
                AlertNotification.Alert(status: $0.status, labels: $0.labels, annotations: $0.annotations, startsAt: $0.startsAt,
                                        endsAt: $0.endsAt, generatorURL: $0.generatorURL, fingerprint: $0.fingerprint)
            }))
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = ""
            for key in keys {
                if let index = key.intValue { text += "[\(index)]" } else { text += text.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return text.isEmpty ? "the body" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "\(path(context.codingPath + [key])) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)) has the wrong type; expected \(jsonTypeName(type))"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)) is null; expected \(jsonTypeName(type))"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? notJSON : "\(path(context.codingPath)) is malformed"
        @unknown default:
            return "the body does not match the Alertmanager webhook format"
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a number"
        case is [String: String].Type: "an object of strings"
        case is [String: Any].Type: "an object"
        default: type is any Collection.Type ? "an array" : "an object"
        }
    }
}

/// Alertmanager-shaped notifications with random content: labels and strings with quotes,
/// backslashes, non-ASCII text and every kind of escape; fields missing, null, of the wrong type
/// or repeated now and then; unknown fields; random whitespace and member order. Seeded.
struct NotificationGenerator {
    var rng: SeededGenerator
    /// Whether the notification being generated may hold faults (about half do); the others are
    /// valid notifications, so that mutations start from both.
    var faults = true

    init(seed: UInt64) { rng = SeededGenerator(seed: seed) }

    mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &rng) < probability }
    mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &rng)! }
    mutating func count(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &rng) }

    /// Whitespace between tokens, usually none.
    mutating func space() -> String { chance(0.7) ? "" : pick([" ", "\n", "\t", "\r\n", "  ", " \n  "]) }

    /// Pieces of string content as written inside the quotes.
    static let fragments = ["a", "Z", "db1", "4242", " ", "-", "_", ":", ",", "{", "}", "[", "]", "'", #"\""#, #"\\"#, #"\/"#, "/",
                            #"\n"#, #"\t"#, #"\r"#, #"\b\f"#, "é", "e\u{301}", #"e\u0301"#, "データ", "🐘", #"\u00e9"#, #"\u00E9"#,
                            #"\ud83d\udc18"#, #"\uD83D\uDC18"#, #"\u0000"#, #"\u001f"#, #"\u2028"#, "\u{7F}", #"\u0041"#, "alertname",
                            "\u{FEFF}", #"\uFEFF"#, "\u{10FFFF}"]
    /// Pieces no JSON string may hold.
    static let badFragments = [#"\ud800"#, #"\udc00x"#, #"\x"#, "\t", "\u{1}", #"\u12G4"#, #"\'"#]

    /// A JSON string literal (with its quotes).
    mutating func string() -> String {
        var text = "\""
        for _ in 0..<count(0...5) { text += faults && chance(0.01) ? pick(Self.badFragments) : pick(Self.fragments) }
        return text + "\""
    }

    static let labelNames = ["datname", "usename", "application_name", "pid", "backend_start", "instance", "severity", "job", "team"]
    static let numbers = ["0", "-0", "7", "12", "-3", "1.0", "1.5", "1e2", "1E+2", "100e-2", "0.1e1", "2.5e-3", "0.0", "123456789",
                          "9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e400", "-1e-2", "10E-1"]
    /// Runs of number characters outside the grammar.
    static let badNumbers = ["01", "-01", "1.", "1.5.2", "2e", "-", "1+2", "0x1F", ".5", "+1"]

    /// Any JSON value, for unknown fields.
    mutating func anyValue(depth: Int = 0) -> String {
        switch count(0...(depth < 3 ? 7 : 4)) {
        case 0: return "null"
        case 1: return pick(["true", "false"])
        case 2, 3: return faults && chance(0.2) ? pick(Self.badNumbers) : pick(Self.numbers)
        case 4: return string()
        case 5: return "[" + space() + (0..<count(0...3)).map { _ in anyValue(depth: depth + 1) }.joined(separator: "," + space()) + space() + "]"
        default: return object((0..<count(0...3)).map { _ in (string(), anyValue(depth: depth + 1)) })
        }
    }

    /// A value of the wrong type, or null.
    mutating func wrongValue(_ right: String) -> String {
        pick(["null", "4", "true", "{}", "[]", #""x""#, "[" + right + "]"])
    }

    /// An object of `members` (key literal, value text) in random order, now and then with a
    /// member repeated (same or another value) or, when `unknown`, an unknown member added.
    mutating func object(_ members: [(String, String)], unknown: Bool = true) -> String {
        var members = members
        if unknown && chance(0.15) { members.append((#""x-"# + string().dropFirst(), anyValue(depth: 2))) }
        members.shuffle(using: &rng)
        if faults && !members.isEmpty && chance(0.02) {
            let repeated = pick(members)
            members.insert((repeated.0, chance(0.5) ? repeated.1 : anyValue(depth: 2)), at: count(0...members.count))
        }
        let body = members.map { space() + $0.0 + space() + ":" + space() + $0.1 + space() }.joined(separator: ",")
        return "{" + body + (members.isEmpty ? space() : "") + "}"
    }

    /// A field: usually `right`, sometimes missing (nil) or of another type.
    mutating func field(_ key: String, _ right: String, required: Bool) -> (String, String)? {
        if chance(required ? (faults ? 0.01 : 0) : 0.25) { return nil }
        if faults && chance(required ? 0.02 : 0.08) { return (#""\#(key)""#, wrongValue(right)) }
        if !required && chance(0.08) { return (#""\#(key)""#, "null") }
        return (#""\#(key)""#, right)
    }

    /// An object of strings: labels (with an alertname, usually) or annotations.
    mutating func strings(alertname: Bool) -> String {
        var members: [(String, String)] = []
        if alertname && !(faults && chance(0.02)) {
            members.append((#""alertname""#, faults && chance(0.02) ? #""""# : "\"A" + string().dropFirst()))
        }
        for name in Self.labelNames.shuffled(using: &rng).prefix(count(0...4)) {
            members.append((chance(0.9) ? #""\#(name)""# : string(), faults && chance(0.02) ? pick(["null", "7", "true", "[]"]) : string()))
        }
        // Unique keys (object() repeats one now and then on its own), in a reproducible order.
        var seen: Set<String> = []
        let unique = members.filter { seen.insert((try? JSONDecoder().decode(String.self, from: Data($0.0.utf8))) ?? $0.0).inserted }
        return object(unique, unknown: false)
    }

    mutating func alert() -> String {
        let status = !faults || chance(0.97) ? pick([#""firing""#, #""resolved""#]) : pick([#""pending""#, #""FIRING""#])
        let fields: [(String, String)?] = [
            field("status", status, required: true),
            field("labels", strings(alertname: true), required: true),
            field("annotations", strings(alertname: false), required: false),
            field("startsAt", string(), required: false),
            field("endsAt", string(), required: false),
            field("generatorURL", string(), required: false),
            field("fingerprint", string(), required: false),
        ]
        return object(fields.compactMap { $0 })
    }

    /// One notification.
    mutating func notification() -> String {
        faults = chance(0.5)
        let version = !faults || chance(0.97) ? #""4""# : pick([#""3""#, #""""#, #""4.0""#])
        let status = !faults || chance(0.97) ? pick([#""firing""#, #""resolved""#]) : #""pending""#
        let alerts = "[" + space() + (0..<count(0...4)).map { _ in alert() }.joined(separator: "," + space()) + space() + "]"
        let fields: [(String, String)?] = [
            field("version", version, required: true),
            field("status", status, required: true),
            field("receiver", string(), required: false),
            field("groupKey", string(), required: false),
            field("truncatedAlerts", faults ? pick(Self.numbers) : pick(["0", "3", "1.0", "1e2", "-0", "100e-2"]), required: false),
            field("groupLabels", strings(alertname: true), required: false),
            field("commonLabels", strings(alertname: false), required: false),
            field("commonAnnotations", strings(alertname: false), required: false),
            field("externalURL", string(), required: false),
            field("alerts", alerts, required: true),
        ]
        let text = space() + object(fields.compactMap { $0 }) + space()
        return chance(0.01) ? "\u{FEFF}" + text : text
    }

    /// Bytes inserted by mutations: JSON's punctuation and letters, digits, whitespace, control
    /// characters, and pieces of UTF-8 (valid only by chance).
    static let insertable = Array("{}[]\",:\\0123456789-+.eEtrufalsn \t\n".utf8) + [0x00, 0x01, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF, 0xEF, 0xBB, 0xBF]

    /// `document` with one or two random edits: a byte removed, inserted or replaced, the end cut
    /// off, a few bytes doubled or removed, or a comma put before a closing bracket.
    mutating func mutate(_ document: [UInt8]) -> [UInt8] {
        var bytes = document
        for _ in 0..<count(1...2) where !bytes.isEmpty {
            let i = count(0...bytes.count - 1)
            let j = min(bytes.count, i + count(1...8))
            switch count(0...6) {
            case 0: bytes.remove(at: i)
            case 1: bytes.insert(pick(Self.insertable), at: i)
            case 2: bytes[i] = pick(Self.insertable)
            case 3: bytes.removeSubrange(i...)
            case 4: bytes.insert(contentsOf: Array(bytes[i..<j]), at: j)
            case 5: bytes.removeSubrange(i..<j)
            default:
                let closers = bytes.indices.filter { bytes[$0] == UInt8(ascii: "}") || bytes[$0] == UInt8(ascii: "]") }
                if let at = closers.randomElement(using: &rng) { bytes.insert(UInt8(ascii: ","), at: at) }
            }
        }
        return bytes
    }
}
