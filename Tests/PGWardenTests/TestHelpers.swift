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
