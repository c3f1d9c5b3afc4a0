/// A Prometheus metric type as written on the `# TYPE` line.
public enum MetricType: String, Sendable {
    case gauge, counter, histogram, untyped
}

/// One sample line: optional name suffix (`_bucket`, `_sum`, `_count`), labels and value.
public struct Sample: Sendable, Equatable {
    public var suffix: String
    public var labels: [(String, String)]
    public var value: Double

    public init(_ value: Double, labels: [(String, String)] = [], suffix: String = "") {
        self.value = value
        self.labels = labels
        self.suffix = suffix
    }

    public static func == (lhs: Sample, rhs: Sample) -> Bool {
        lhs.suffix == rhs.suffix && lhs.value.bitPattern == rhs.value.bitPattern
            && lhs.labels.elementsEqual(rhs.labels, by: { $0 == $1 })
    }
}

/// A metric family: name, HELP text, TYPE and its samples, rendered together.
public struct MetricFamily: Sendable, Equatable {
    public var name: String
    public var help: String
    public var type: MetricType
    public var samples: [Sample]

    public init(_ name: String, _ type: MetricType, help: String, samples: [Sample] = []) {
        self.name = name
        self.type = type
        self.help = help
        self.samples = samples
    }

    /// Appends a sample with these labels.
    public mutating func add(_ value: Double, _ labels: [(String, String)] = []) {
        samples.append(Sample(value, labels: labels))
    }
}

/// A histogram of current values (a gauge histogram): cumulative bucket counts, sum and count.
public struct BucketCounts: Sendable, Equatable {
    public var upperBounds: [Double]
    public var cumulative: [Double]
    public var count: Double
    public var sum: Double

    /// Appends this histogram's `_bucket`, `_sum` and `_count` samples under `labels` to `family`.
    public func append(to family: inout MetricFamily, labels: [(String, String)]) {
        for (bound, value) in zip(upperBounds, cumulative) {
            family.samples.append(Sample(value, labels: labels + [("le", formatValue(bound))], suffix: "_bucket"))
        }
        family.samples.append(Sample(count, labels: labels + [("le", "+Inf")], suffix: "_bucket"))
        family.samples.append(Sample(sum, labels: labels, suffix: "_sum"))
        family.samples.append(Sample(count, labels: labels, suffix: "_count"))
    }
}
