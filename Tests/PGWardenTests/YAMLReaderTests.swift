import Testing
@testable import PGWarden

/// YAML the parser must refuse, and where and how it must say so.
struct BadYAML: Sendable, CustomTestStringConvertible {
    let label: String
    let yaml: String
    let line: Int
    /// Text the error message must contain.
    let message: String
    var testDescription: String { label }

    init(_ label: String, _ yaml: String, line: Int, _ message: String) {
        (self.label, self.yaml, self.line, self.message) = (label, yaml, line, message)
    }
}

@Suite("YAMLReader")
struct YAMLReaderTests {
    /// A compact rendering: plain text bare (`~` for nothing), 'single' and "double" quoted, [..] and {..}.
    static func render(_ node: YAMLNode?) -> String {
        guard let node else { return "<no document>" }
        switch node.content {
        case let .scalar(scalar):
            switch scalar.style {
            case .plain: return scalar.text.isEmpty ? "~" : scalar.text
            case .singleQuoted: return "'\(scalar.text)'"
            case .doubleQuoted: return "\"\(scalar.text)\""
            case .literal: return "|\(scalar.text)|"
            case .folded: return ">\(scalar.text)<"
            }
        case let .sequence(items):
            return "[" + items.map(render).joined(separator: ", ") + "]"
        case let .mapping(pairs):
            return "{" + pairs.map { render($0.key) + ": " + render($0.value) }.joined(separator: ", ") + "}"
        }
    }

    @Test func blockMappingValuesStylesAndPositions() throws {
        let root = try #require(try YAMLReader.parse("""
            # leading comment
            name: plain text
            single: 'it''s'
            double: "a\\tb"

            nested:
              inner: 1
            """))
        #expect(Self.render(root) == "{name: plain text, single: 'it's', double: \"a\tb\", nested: {inner: 1}}")
        #expect(root.line == 2 && root.column == 1)
        let pairs = try #require(root.pairs)
        #expect(pairs.map(\.key.line) == [2, 3, 4, 6])
        #expect(pairs[0].value.line == 2 && pairs[0].value.column == 7)
        #expect(pairs[1].value.scalar == YAMLScalar("it's", style: .singleQuoted))
        #expect(pairs[2].value.scalar?.style == .doubleQuoted)
        let nested = try #require(root["nested"])
        #expect(nested.line == 7 && nested.column == 3)
        #expect(nested["inner"]?.scalar?.kind == .int)
        #expect(root["missing"] == nil)
    }

    @Test func blockSequences() throws {
        let root = try #require(try YAMLReader.parse("""
            rules:
            - name: a
              action: cancel
            - - x
              - y
            -
            - z
            indented:
              - 1
              -   {k: v}
            other: ~
            """))
        #expect(Self.render(root) == "{rules: [{name: a, action: cancel}, [x, y], ~, z], indented: [1, {k: v}], other: ~}")
        let rules = try #require(root["rules"]?.items)
        #expect(root["rules"]?.line == 2 && root["rules"]?.column == 1)
        #expect(rules[0].line == 2 && rules[0].column == 3)
        #expect(rules[0]["action"]?.line == 3)
        #expect(rules[1].line == 4 && rules[1].column == 3)
        #expect(rules[2].isNull && rules[2].line == 6)
        #expect(root["indented"]?.items?[1].column == 7)
        #expect(root["other"]?.scalar?.kind == .null)
    }

    @Test func emptyValuesAreNullAtTheirKey() throws {
        let root = try #require(try YAMLReader.parse("a:\nb: # comment\nc:\n  - 1\nd:"))
        #expect(Self.render(root) == "{a: ~, b: ~, c: [1], d: ~}")
        #expect(root["a"]?.isNull == true && root["b"]?.isNull == true && root["d"]?.isNull == true)
        #expect(root["a"]?.line == 1 && root["b"]?.line == 2 && root["d"]?.line == 5)
    }

    @Test func plainScalars() throws {
        let root = try #require(try YAMLReader.parse("""
            url: http://example.com:8080/path
            hash: a#b
            spaced: idle in transaction   # comment
            range: fd00::/8
            folded: first
              second

              third
            dash: -1
            after: x
            """))
        #expect(root["url"]?.scalar?.text == "http://example.com:8080/path")
        #expect(root["hash"]?.scalar?.text == "a#b")
        #expect(root["spaced"]?.scalar?.text == "idle in transaction")
        #expect(root["range"]?.scalar?.text == "fd00::/8")
        #expect(root["folded"]?.scalar?.text == "first second\nthird")
        #expect(root["folded"]?.line == 5)
        #expect(root["dash"]?.scalar?.kind == .int)
        #expect(root["after"]?.line == 10)
    }

    @Test func quotedScalars() throws {
        let root = try #require(try YAMLReader.parse(#"""
            single: 'it''s # not a comment: \n'
            escapes: "\\ \" \/ \n \t \r \0 \x41 \u00e9 \U0001F600 \e \ \_"
            folded: "one
              two\
              three

              four  "
            sfold: 'a
              b'
            empty: ''
            number: "5"
            key "with" quotes: 1
            "quoted key": 2
            """#))
        #expect(root["single"]?.scalar == YAMLScalar(#"it's # not a comment: \n"#, style: .singleQuoted))
        #expect(root["escapes"]?.scalar?.text == "\\ \" / \n \t \r \0 A \u{e9} \u{1F600} \u{1B}  \u{A0}")
        #expect(root["folded"]?.scalar?.text == "one twothree\nfour  ")
        #expect(root["sfold"]?.scalar?.text == "a b")
        #expect(root["empty"]?.scalar == YAMLScalar("", style: .singleQuoted))
        #expect(root["empty"]?.scalar?.kind == .string)
        #expect(root["number"]?.scalar?.kind == .string)
        #expect(root["key \"with\" quotes"]?.line == 12)
        #expect(root["quoted key"]?.line == 13)
    }

    @Test func quotedContinuationLinesIndentedMoreThanTheirCollection() throws {
        let root = try #require(try YAMLReader.parse("a: \"x\n y\"\nb:\n  - 'p\n\n    q'\n  - \"r\\\n    s\"\nc: [\"u\n  v\"]\n"))
        #expect(Self.render(root) == "{a: \"x y\", b: ['p\nq', \"rs\"], c: [\"u v\"]}")
        // Empty lines may be indented less; the top level has no collection around it.
        #expect(Self.render(try YAMLReader.parse("a: 'x\n\n y'\n")) == "{a: 'x\ny'}")
        #expect(Self.render(try YAMLReader.parse("\"x\ny\"\n")) == "\"x y\"")
        #expect(Self.render(try YAMLReader.parse("--- 'x\ny'\n")) == "'x y'")
    }

    @Test func flowCollections() throws {
        let root = try #require(try YAMLReader.parse("""
            list: [a, "b", 'c']
            map: {k: v, k2: [x], "q":1}
            multi: [
              one,   # comment
              {a: 1,
               b: [2, 3],},
              idle
                in transaction,
            ]
            empty: [[], {}]
            bare: {a, b: c, d: }
            colons: [x:y, a:b:c, 'z']
            """))
        #expect(Self.render(root["list"]) == "[a, \"b\", 'c']")
        #expect(Self.render(root["map"]) == "{k: v, k2: [x], \"q\": 1}")
        #expect(Self.render(root["multi"]) == "[one, {a: 1, b: [2, 3]}, idle in transaction]")
        let multi = try #require(root["multi"]?.items)
        #expect(root["multi"]?.line == 3 && root["multi"]?.column == 8)
        #expect(multi[1].line == 5 && multi[1].column == 3)
        #expect(multi[1]["b"]?.line == 6)
        #expect(multi[2].line == 7)
        #expect(Self.render(root["empty"]) == "[[], {}]")
        #expect(Self.render(root["bare"]) == "{a: ~, b: c, d: ~}")
        #expect(Self.render(root["colons"]) == "[x:y, a:b:c, 'z']")
    }

    @Test func documentMarkersBOMAndLineBreaks() throws {
        #expect(try YAMLReader.parse("") == nil)
        #expect(try YAMLReader.parse("# only\n\n   # comments\n") == nil)
        let marked = try #require(try YAMLReader.parse("---\na: 1\n...\n# trailing comment\n"))
        #expect(Self.render(marked) == "{a: 1}" && marked.line == 2)
        #expect(Self.render(try YAMLReader.parse("--- [a, b] # inline\n")) == "[a, b]")
        let empty = try #require(try YAMLReader.parse("--- # nothing\n"))
        #expect(empty.isNull)
        let bom = try #require(try YAMLReader.parse("\u{FEFF}a: 1\r\nb: 2\rc: 3\r\n"))
        #expect(Self.render(bom) == "{a: 1, b: 2, c: 3}")
        #expect(bom.column == 1 && bom["c"]?.line == 3)
        #expect(Self.render(try YAMLReader.parse("plain root")) == "plain root")
    }

    @Test func anchorsAndAliases() throws {
        let root = try #require(try YAMLReader.parse("""
            tools: &tools [pg_dump, pgwarden]
            base: &base
              a: 1
              b: [x]
            rules:
              - exclude: *tools
              - *base
              - {x: *tools, &k y: &v 2, z: *v}
            """))
        #expect(Self.render(root["rules"])
            == "[{exclude: [pg_dump, pgwarden]}, {a: 1, b: [x]}, {x: [pg_dump, pgwarden], y: 2, z: 2}]")
        let alias = try #require(root["rules"]?.items?[0]["exclude"])
        #expect(alias.line == 6 && alias.column == 14)
        #expect(alias.items?.first?.line == 1)
        #expect(root["base"]?.line == 2)  // an anchored value starts at its anchor
        #expect(root["rules"]?.items?[1] == YAMLNode(content: root["base"]!.content, line: 7, column: 5))
    }

    @Test(arguments: [
        ("~", YAMLScalar.Kind.null), ("null", .null), ("Null", .null), ("NULL", .null),
        ("true", .bool), ("True", .bool), ("FALSE", .bool), ("false", .bool),
        ("0", .int), ("-12", .int), ("+3", .int), ("007", .int), ("0o17", .int), ("0x1F", .int),
        ("1.5", .float), ("-.5", .float), ("1e3", .float), ("2.", .float), ("6.02E+23", .float),
        (".inf", .float), ("-.Inf", .float), (".NaN", .float),
        ("yes", .string), ("on", .string), ("nULL", .string), ("tRUE", .string), ("0x", .string), ("0o8", .string),
        ("1_000", .string), ("1:30", .string), (".", .string), ("1e", .string), ("--1", .string), ("1.2.3", .string),
        ("10m", .string), ("<<", .string),
    ])
    func coreSchemaKinds(text: String, kind: YAMLScalar.Kind) throws {
        #expect(YAMLScalar(text).kind == kind)
        #expect(YAMLScalar(text, style: .doubleQuoted).kind == .string)
        #expect(try YAMLReader.parse("v: \(text)")?["v"]?.scalar == YAMLScalar(text))
    }

    /// YAML that libyaml or pgwarden refuses, and the line named; the message is checked where
    /// the words are pgwarden's own (libyaml's are its own, such as "did not find expected key").
    static let badYAML: [BadYAML] = [
        BadYAML("tag", "a: !custom x\n", line: 1, "tags such as !custom are not accepted"),
        BadYAML("core tag", "a: 1\nb: !!str 5\n", line: 2, "tags"),
        BadYAML("tab indentation", "a:\n\tb: 1\n", line: 2, ""),
        BadYAML("tab after spaces", "a:\n  b: 1\n  \tc: 2\n", line: 3, ""),
        BadYAML("second document", "a: 1\n---\nb: 2\n", line: 2, "a second document starts here"),
        BadYAML("second document after end", "a: 1\n...\n---\nb: 2\n", line: 3, "a second document starts here"),
        BadYAML("text after end marker", "a: 1\n...\nb: 2\n", line: 3, ""),
        BadYAML("unclosed list", "a: [1, 2\n", line: 2, ""),
        BadYAML("unclosed list at marker", "a: [1,\n---\n", line: 2, ""),
        BadYAML("unclosed mapping before next key", "a: {x: 1\nb: 2\n", line: 2, ""),
        BadYAML("missing comma", "a: [\"x\"\n  'y']\n", line: 2, ""),
        BadYAML("unclosed double quote", "a: \"abc\nb: 1\n", line: 3, ""),
        BadYAML("unclosed double quote at the end", "a: \"abc\n  b: 1\n", line: 3, ""),
        BadYAML("unclosed single quote", "a: 'abc", line: 1, ""),
        BadYAML("unknown escape", "a: \"C:\\data\"\n", line: 1, ""),
        BadYAML("short hex escape", "a: \"\\x4\"\n", line: 1, ""),
        BadYAML("surrogate escape", "a: 1\nb: \"\\uD800\"\n", line: 2, ""),
        BadYAML("continuation holding a key", "a: one\n  b: two\n", line: 2, ""),
        BadYAML("key indented too far", "a:\n  b: 1\n   c: 2\n", line: 3, ""),
        BadYAML("key indented between levels", "a:\n    b: 1\n  c: 2\n", line: 3, ""),
        BadYAML("list item indented too far", "- [a]\n  - b\n", line: 2, ""),
        BadYAML("mapping on its key's line", "a: b: c\n", line: 1, ""),
        BadYAML("list on its key's line", "a: - b\n", line: 1, ""),
        BadYAML("list item among keys", "a: 1\n- b\n", line: 2, ""),
        BadYAML("key without colon", "a: 1\nb\n", line: 3, ""),
        BadYAML("no space after colon", "a: 1\nb:2\n", line: 3, ""),
        BadYAML("key over two lines", "\"a\nb\": 1\n", line: 2, ""),
        BadYAML("empty flow entry", "a: [x,, y]\n", line: 1, ""),
        BadYAML("list as key", "[a]: 1\n", line: 1, "a list or mapping cannot be used as a key"),
        BadYAML("list as flow key", "{[a]: 1}\n", line: 1, "a list or mapping cannot be used as a key"),
        BadYAML("unknown alias", "a: 1\nb: *nope\n", line: 2, "the alias *nope refers to no anchor written before it"),
        BadYAML("alias before its anchor", "a: *x\nb: &x 1\n", line: 1, "the alias *x refers to no anchor"),
        BadYAML("alias inside its anchor", "a: &x [1, *x]\n", line: 1, "the alias *x refers to a value it is part of"),
        BadYAML("alias inside its block anchor", "a: &x\n  b: *x\n", line: 2, "refers to a value it is part of"),
        BadYAML("two anchors", "a: &x &y 1\n", line: 1, ""),
        BadYAML("empty anchor name", "a: & 1\n", line: 1, ""),
        BadYAML("text after a quote", "a: \"x\" y\n", line: 1, ""),
        BadYAML("text after a list", "a: [x] y\n", line: 1, ""),
        BadYAML("control character", "a: 1\nb: x\u{7}y\n", line: 2, ""),
        BadYAML("reserved indicator", "a: @x\n", line: 1, ""),
        BadYAML("missing key", ": 1\n", line: 1, ""),
        BadYAML("root continued", "- a\nb: 1\n", line: 2, ""),
    ]

    /// What the hand-written reader refused and YAML allows: libyaml reads these as PyYAML and
    /// editors do. The policy loader still refuses a value written over several lines.
    @Test func acceptedAsEveryYAMLToolReadsThem() throws {
        #expect(Self.render(try YAMLReader.parse("a: |\n  text\n")) == "{a: |text\n|}")
        #expect(Self.render(try YAMLReader.parse("a:\n  b: >-\n    one\n    two\n")) == "{a: {b: >one two<}}")
        #expect(Self.render(try YAMLReader.parse("? a\n: b\n")) == "{a: b}")
        #expect(Self.render(try YAMLReader.parse("%YAML 1.1\n---\na: 1\n")) == "{a: 1}")
        #expect(Self.render(try YAMLReader.parse("a: [x: 1]\n")) == "{a: [{x: 1}]}")
        #expect(Self.render(try YAMLReader.parse("a: &x k\n*x : 1\n")) == "{a: k, k: 1}")
        let folded = try #require(try YAMLReader.parse("a: 'x\ny'\n")?["a"]?.scalar)
        #expect(folded.text == "x y" && folded.spansLines)
        #expect(try YAMLReader.parse("a: 'x y'\n")?["a"]?.scalar?.spansLines == false)
    }

    @Test(arguments: badYAML)
    func refused(_ bad: BadYAML) {
        #expect {
            try YAMLReader.parse(bad.yaml)
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            #expect(error.line == bad.line, "\(error)")
            #expect(bad.message.isEmpty || error.message.contains(bad.message), "\(error)")
            #expect(error.duplicateKey == nil)
            return true
        }
    }

    @Test(arguments: [
        ("a: 1\nb: 2\na: 3\n", "a", 1, 1),
        ("x:\n  - {k: 1, j: 2, k: 3}\n", "k", 2, 6),
        ("'a': 1\n\"a\": 2\n", "a", 1, 1),
        ("r:\n  - n: 1\n    n: 2\n", "n", 2, 5),
        ("1: a\n\"1\": b\n", "1", 1, 1),
    ])
    func duplicateKeys(yaml: String, key: String, line: Int, column: Int) {
        #expect {
            try YAMLReader.parse(yaml)
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            #expect(error.duplicateKey == key)
            #expect(error.line == line && error.column == column, "\(error)")
            #expect(error.message.contains("appears more than once"))
            return true
        }
    }

    @Test func nestingIsCappedWithoutExhaustingTheStack() throws {
        let flow = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(try YAMLReader.parse(flow)?.items?.count == 1)
        var block = ""
        for level in 0..<64 { block += String(repeating: " ", count: level) + "k:\n" }
        #expect(try YAMLReader.parse(block)?.pairs?.count == 1)

        let tooDeep = "[" + flow + "]"
        #expect(throws: YAMLError(line: 1, column: 65, message: "lists and mappings are nested more than 64 deep")) {
            try YAMLReader.parse(tooDeep)
        }
        #expect(throws: YAMLError.self) { try YAMLReader.parse(block + String(repeating: " ", count: 64) + "k: 1\n") }
        #expect(throws: YAMLError.self) { try YAMLReader.parse(String(repeating: "- ", count: 100_000) + "x") }
        #expect(throws: YAMLError.self) { try YAMLReader.parse(String(repeating: "{a: ", count: 100_000)) }
    }

    @Test func aliasExpansionIsCapped() throws {
        let ten = { (name: String) in "[" + Array(repeating: "*\(name)", count: 10).joined(separator: ", ") + "]" }
        let base = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b \(ten("a"))\nc: &c \(ten("b"))\nd: &d \(ten("c"))\n"
        #expect(try YAMLReader.parse(base)?["d"]?.items?.count == 10)
        #expect {
            try YAMLReader.parse(base + "e: &e \(ten("d"))\n")
        } throws: { error in
            guard let error = error as? YAMLError else { return false }
            #expect(error.line == 5, "\(error)")
            #expect(error.message.contains("expands to more than 100000 values"), "\(error)")
            return true
        }
    }

    @Test func errorDescription() {
        let error = YAMLError(line: 3, column: 7, message: "a value is missing here")
        #expect(error.description == "line 3, column 7: a value is missing here")
    }
}
