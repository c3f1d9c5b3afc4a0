import Testing
@testable import PGWarden

@Suite("Text exposition format")
struct TextFormatTests {
    static let golden: [MetricFamily] = [
        MetricFamily("pg_up", .gauge, help: "1 when the database answers.", samples: [Sample(1)]),
        MetricFamily("pg_sessions", .gauge, help: "Sessions per state.", samples: [
            Sample(3, labels: [("datname", "app"), ("state", "active")]),
            Sample(0, labels: [("datname", "app"), ("state", "idle")]),
        ]),
        MetricFamily("pgwarden_scrape_errors_total", .counter, help: "Failed scrapes.", samples: [Sample(7)]),
        MetricFamily("pg_empty", .untyped, help: "No samples at all."),
    ]

    static let goldenText = """
        # HELP pg_up 1 when the database answers.
        # TYPE pg_up gauge
        pg_up 1
        # HELP pg_sessions Sessions per state.
        # TYPE pg_sessions gauge
        pg_sessions{datname="app",state="active"} 3
        pg_sessions{datname="app",state="idle"} 0
        # HELP pgwarden_scrape_errors_total Failed scrapes.
        # TYPE pgwarden_scrape_errors_total counter
        pgwarden_scrape_errors_total 7
        # HELP pg_empty No samples at all.
        # TYPE pg_empty untyped

        """

    @Test func goldenTextExact() {
        #expect(TextFormat.render(Self.golden) == Self.goldenText)
    }

    @Test func goldenTextSortedLines() {
        let got = TextFormat.render(Self.golden).split(separator: "\n", omittingEmptySubsequences: false).sorted()
        let want = Self.goldenText.split(separator: "\n", omittingEmptySubsequences: false).sorted()
        #expect(got == want)
    }

    @Test func everyFamilyHasHelpThenTypeThenItsSamples() {
        let lines = TextFormat.render(Self.golden).split(separator: "\n").map(String.init)
        for family in Self.golden {
            let help = lines.firstIndex(of: "# HELP \(family.name) \(family.help)")
            let type = lines.firstIndex(of: "# TYPE \(family.name) \(family.type.rawValue)")
            #expect(help != nil)
            #expect(type != nil)
            guard let help, let type else { continue }
            #expect(type == help + 1, "TYPE must directly follow HELP for \(family.name)")
            // The family's samples come right after its TYPE line, in the order given.
            for (offset, _) in family.samples.enumerated() {
                let line = lines[type + 1 + offset]
                #expect(line.hasPrefix(family.name + " ") || line.hasPrefix(family.name + "{"))
            }
            #expect(occurrences(of: "# HELP \(family.name) ", in: lines.joined(separator: "\n")) == 1)
        }
    }

    @Test func endsWithNewlineAndEmptyInputRendersNothing() {
        #expect(TextFormat.render([]) == "")
        #expect(TextFormat.render(Self.golden).hasSuffix("\n"))
        #expect(!TextFormat.render(Self.golden).hasSuffix("\n\n"))
    }

    @Test func contentTypeIsVersion004() {
        #expect(TextFormat.contentType.hasPrefix("text/plain"))
        #expect(TextFormat.contentType.contains("version=0.0.4"))
    }

    // MARK: Label values

    @Test(arguments: [
        ("plain", "plain"),
        ("C:\\temp", "C:\\\\temp"),
        ("say \"hi\"", "say \\\"hi\\\""),
        ("line1\nline2", "line1\\nline2"),
        ("\\\"\n", "\\\\\\\"\\n"),
        ("ró", "ró"),
        ("データ", "データ"),
        ("🐘🔥", "🐘🔥"),
        ("データ\"\n", "データ\\\"\\n"),
        ("", ""),
    ])
    func labelValueEscaping(raw: String, escaped: String) {
        #expect(TextFormat.escapeLabelValue(raw) == escaped)
    }

    @Test func escapedLabelValueRendersOnOneLine() {
        let value = "a\\b\"c\nd データ 🐘"
        let family = MetricFamily("m", .gauge, help: "h", samples: [Sample(1, labels: [("l", value)])])
        let text = TextFormat.render([family])
        #expect(text == "# HELP m h\n# TYPE m gauge\nm{l=\"a\\\\b\\\"c\\nd データ 🐘\"} 1\n")
        #expect(text.split(separator: "\n").count == 3)
    }

    @Test func nonASCIIPassesThroughByteForByte() {
        for raw in ["ró", "データ", "🐘", "e\u{301}"] {
            #expect(Array(TextFormat.escapeLabelValue(raw).utf8) == Array(raw.utf8))
        }
    }

    // MARK: HELP

    @Test(arguments: [
        ("Plain help.", "Plain help."),
        ("back\\slash", "back\\\\slash"),
        ("two\nlines", "two\\nlines"),
        // Double quotes are only escaped in label values, never in HELP.
        ("a \"quoted\" word", "a \"quoted\" word"),
        ("ró データ", "ró データ"),
    ])
    func helpEscaping(raw: String, escaped: String) {
        #expect(TextFormat.escapeHelp(raw) == escaped)
    }

    @Test func helpLineUsesEscapedText() {
        let text = TextFormat.render([MetricFamily("m", .gauge, help: "x\ny\\z")])
        #expect(text == "# HELP m x\\ny\\\\z\n# TYPE m gauge\n")
    }

    // MARK: Values

    @Test(arguments: [
        (0.0, "0"),
        (1.0, "1"),
        (-3.0, "-3"),
        (42.0, "42"),
        (0.5, "0.5"),
        (-0.25, "-0.25"),
        (0.0015, "0.0015"),
        (17.5, "17.5"),
        (123_456_789_012_345.0, "123456789012345"),
        (Double.infinity, "+Inf"),
        (-Double.infinity, "-Inf"),
        (Double.nan, "NaN"),
    ])
    func valueFormatting(value: Double, text: String) {
        #expect(formatValue(value) == text)
    }

    @Test func integralValuesHaveNoDecimalPoint() {
        for v in [1.0, 100, 65535, 1e9, 1e14, -1e14] {
            #expect(!formatValue(v).contains("."), "\(v) rendered as \(formatValue(v))")
            #expect(!formatValue(v).contains("e"), "\(v) rendered as \(formatValue(v))")
        }
    }

    /// Large and tiny values need not look pretty, but a Prometheus parser must read back the same number.
    @Test(arguments: [1e15, 2e15, 9_007_199_254_740_992.0, 1e300, Double.greatestFiniteMagnitude, -1e18,
                      1e-9, Double.leastNonzeroMagnitude, 0.1, 1.0 / 3.0])
    func finiteValuesRoundTrip(value: Double) {
        let text = formatValue(value)
        #expect(Double(text) == value, "\(value) rendered as \(text)")
    }

    @Test func negativeZeroIsZero() {
        #expect(formatValue(-0.0) == "0")
    }

    // MARK: Histograms

    @Test func histogramRendering() {
        var family = MetricFamily("h_seconds", .histogram, help: "Ages.")
        // Observations 0.5, 2, 2, 7 and 8 (sum 19.5): le=1 has 1, le=2.5 has 3, le=10 has all 5.
        let counts = BucketCounts(upperBounds: [1, 2.5, 10], cumulative: [1, 3, 5], count: 5, sum: 19.5)
        counts.append(to: &family, labels: [("usename", "app")])
        #expect(TextFormat.render([family]) == """
            # HELP h_seconds Ages.
            # TYPE h_seconds histogram
            h_seconds_bucket{usename="app",le="1"} 1
            h_seconds_bucket{usename="app",le="2.5"} 3
            h_seconds_bucket{usename="app",le="10"} 5
            h_seconds_bucket{usename="app",le="+Inf"} 5
            h_seconds_sum{usename="app"} 19.5
            h_seconds_count{usename="app"} 5

            """)
    }

    @Test func histogramInfBucketEqualsCountAndLeIsLast() {
        var family = MetricFamily("h", .histogram, help: "h")
        let counts = BucketCounts(upperBounds: [0.25, 60, 3600], cumulative: [0, 2, 2], count: 4, sum: 9000)
        counts.append(to: &family, labels: [])
        let buckets = family.samples.filter { $0.suffix == "_bucket" }
        #expect(buckets.count == counts.upperBounds.count + 1)
        #expect(buckets.map { labelDict($0)["le"] } == ["0.25", "60", "3600", "+Inf"])
        #expect(buckets.allSatisfy { labelNames($0).last == "le" })
        #expect(value(family, ["le": "+Inf"], suffix: "_bucket") == 4)
        #expect(value(family, [:], suffix: "_count") == 4)
        #expect(value(family, [:], suffix: "_sum") == 9000)
        // _sum and _count carry no le label.
        #expect(family.samples.filter { $0.suffix != "_bucket" }.allSatisfy { labelDict($0)["le"] == nil })
        let values = buckets.map(\.value)
        #expect(values == values.sorted(), "bucket counts must be cumulative")
    }

    @Test func histogramWithTwoLabelSetsKeepsThemApart() {
        var family = MetricFamily("h", .histogram, help: "h")
        BucketCounts(upperBounds: [1], cumulative: [1], count: 2, sum: 3).append(to: &family, labels: [("usename", "a")])
        BucketCounts(upperBounds: [1], cumulative: [0], count: 1, sum: 9).append(to: &family, labels: [("usename", "b")])
        #expect(family.samples.count == 2 * 4)
        #expect(value(family, ["usename": "a", "le": "+Inf"], suffix: "_bucket") == 2)
        #expect(value(family, ["usename": "b", "le": "1"], suffix: "_bucket") == 0)
        #expect(value(family, ["usename": "b"], suffix: "_sum") == 9)
    }

    // MARK: Model

    @Test func sampleEqualityComparesLabelsInOrderAndNaNBitwise() {
        #expect(Sample(.nan) == Sample(.nan))
        #expect(Sample(1, labels: [("a", "1"), ("b", "2")]) != Sample(1, labels: [("b", "2"), ("a", "1")]))
        #expect(Sample(1, suffix: "_sum") != Sample(1, suffix: "_count"))
        #expect(Sample(1, labels: [("a", "1")]) != Sample(2, labels: [("a", "1")]))
    }

    @Test func addAppendsInOrder() {
        var family = MetricFamily("m", .gauge, help: "h")
        family.add(1, [("k", "x")])
        family.add(2)
        #expect(family.samples == [Sample(1, labels: [("k", "x")]), Sample(2)])
    }
}
