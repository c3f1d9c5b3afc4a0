import PGWarden

/// One flag of a command, in the Prometheus exporters' long-only style: `--name value`,
/// `--name=value`, or a switch that takes no value (`--name`).
public struct FlagSpec: Sendable {
    /// What follows the flag's name.
    public enum Kind: Sendable, Equatable {
        /// A value; `repeatable` flags collect every occurrence, the others may appear once.
        case value(placeholder: String, repeatable: Bool)
        /// No value: present or not.
        case toggle
    }

    /// The name without its leading dashes, e.g. `web.listen-address`.
    public var name: String
    public var kind: Kind
    public var help: String
    /// The value used when the flag is absent, shown in the help.
    public var defaultValue: String?

    public init(_ name: String, kind: Kind, help: String, default defaultValue: String? = nil) {
        self.name = name
        self.kind = kind
        self.help = help
        self.defaultValue = defaultValue
    }

    /// A flag that takes one value.
    public static func value(_ name: String, _ placeholder: String, help: String, default defaultValue: String? = nil) -> FlagSpec {
        FlagSpec(name, kind: .value(placeholder: placeholder, repeatable: false), help: help, default: defaultValue)
    }

    /// A flag that may be given several times, each with a value.
    public static func repeatable(_ name: String, _ placeholder: String, help: String) -> FlagSpec {
        FlagSpec(name, kind: .value(placeholder: placeholder, repeatable: true), help: help)
    }

    /// A switch.
    public static func toggle(_ name: String, help: String) -> FlagSpec {
        FlagSpec(name, kind: .toggle, help: help)
    }
}

/// A command's name, its one-line purpose and its flags: enough to parse and to print help.
public struct CommandSpec: Sendable {
    /// How the command is invoked, e.g. `pgwarden terminate`.
    public var name: String
    public var abstract: String
    public var discussion: String?
    public var flags: [FlagSpec]

    public init(name: String, abstract: String, discussion: String? = nil, flags: [FlagSpec]) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.flags = flags
    }

    func flag(named name: String) -> FlagSpec? { flags.first { $0.name == name } }
}

/// A command line that cannot be run as given: printed with a pointer to the help, exit status 2.
public struct UsageError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The flags one command line gave, by name (without dashes).
public struct ParsedFlags: Sendable {
    /// Whether `--help` (or `-h`) was given: the caller prints the help instead of running.
    public var helpRequested = false
    /// Whether `--version` was given.
    public var versionRequested = false
    private var values: [String: [String]] = [:]
    private var toggles: Set<String> = []
    private let spec: CommandSpec

    init(spec: CommandSpec) { self.spec = spec }

    /// The value of a single-value flag, or its default.
    public func value(_ name: String) -> String? {
        check(name)
        return values[name]?.last ?? spec.flag(named: name)?.defaultValue
    }

    /// Every value of a repeatable flag, in command-line order.
    public func values(_ name: String) -> [String] {
        check(name)
        return values[name] ?? []
    }

    /// Whether a single-value or repeatable flag was given on the command line (not defaulted).
    public func isGiven(_ name: String) -> Bool {
        check(name)
        return values[name] != nil
    }

    /// Whether a switch was given.
    public func isSet(_ name: String) -> Bool {
        check(name)
        return toggles.contains(name)
    }

    /// The value of a flag as a whole number; a usage error names the flag when it is not one.
    public func integer<T: FixedWidthInteger>(_ name: String, as type: T.Type = Int.self) throws(UsageError) -> T? {
        guard let text = value(name) else { return nil }
        guard let number = T(text) else {
            throw UsageError("--\(name) '\(text)' is not a whole number (or is out of range); write it like --\(name) 10.")
        }
        return number
    }

    /// Reading a flag the command does not declare is a programming error, caught by any test
    /// that parses the command.
    private func check(_ name: String) {
        precondition(spec.flag(named: name) != nil, "\(spec.name) declares no flag --\(name)")
    }

    /// Records one occurrence of `flag`; a second value for a once-only flag is a usage error.
    mutating func add(_ flag: FlagSpec, value: String?) throws(UsageError) {
        switch flag.kind {
        case .toggle:
            toggles.insert(flag.name)
        case .value(_, let repeatable):
            guard let value else { return }
            if !repeatable, let previous = values[flag.name]?.first {
                throw UsageError("--\(flag.name) is given twice ('\(previous)' and '\(value)'); give it once.")
            }
            values[flag.name, default: []].append(value)
        }
    }
}

/// Parses and documents long flags against a `CommandSpec`. Flags only: no positional arguments.
public enum FlagParser {
    /// The flags of `arguments` (the words after the command's name).
    /// `--help` (or `-h`) anywhere wins over any mistake in the other words, so that asking for
    /// help always gets it.
    public static func parse(_ arguments: some Collection<String>, spec: CommandSpec) throws(UsageError) -> ParsedFlags {
        var parsed = ParsedFlags(spec: spec)
        if arguments.contains(where: { $0 == "--help" || $0 == "-h" }) {
            parsed.helpRequested = true
            return parsed
        }
        var words = arguments.makeIterator()
        while let word = words.next() {
            if word == "--help" || word == "-h" {
                parsed.helpRequested = true
                continue
            }
            if word == "--version" {
                parsed.versionRequested = true
                continue
            }
            guard word.hasPrefix("--"), word.count > 2 else {
                if word.hasPrefix("-") && word.count > 1 && word != "--" {
                    throw UsageError("unknown flag '\(word)'\(suggestion(for: word, in: spec)); pgwarden's flags are long, like --dsn.")
                }
                throw UsageError("unexpected argument '\(word)'; \(spec.name) takes only flags.")
            }
            let body = word.dropFirst(2)
            let name: String
            var inline: String?
            if let eq = body.firstIndex(of: "=") {
                name = String(body[..<eq])
                inline = String(body[body.index(after: eq)...])
            } else {
                name = String(body)
            }
            guard let flag = spec.flag(named: name) else {
                throw UsageError("unknown flag '--\(name)'\(suggestion(for: name, in: spec)).")
            }
            switch flag.kind {
            case .toggle:
                if inline != nil { throw UsageError("--\(name) takes no value; write just --\(name).") }
                try parsed.add(flag, value: nil)
            case .value(let placeholder, _):
                let value: String
                if let inline {
                    value = inline
                } else if let next = words.next(), !next.hasPrefix("--") {
                    value = next
                } else {
                    throw UsageError("--\(name) needs a value; write it like --\(name) <\(placeholder)>.")
                }
                try parsed.add(flag, value: value)
            }
        }
        return parsed
    }

    /// The help text: what the command does, how to call it, and every flag with its default.
    public static func help(_ spec: CommandSpec, subcommands: [(name: String, abstract: String)] = []) -> String {
        var text = "OVERVIEW: \(spec.abstract)\n"
        if let discussion = spec.discussion { text += "\n\(discussion)\n" }
        text += "\nUSAGE: \(spec.name)\(subcommands.isEmpty ? "" : " [<subcommand>]") [<flags>]\n"
        if !subcommands.isEmpty {
            text += "\nSUBCOMMANDS:\n"
            let width = subcommands.map(\.name.count).max() ?? 0
            for command in subcommands {
                text += "  \(command.name)\(String(repeating: " ", count: width - command.name.count + 2))\(command.abstract)\n"
            }
        }
        text += "\nFLAGS:\n"
        for flag in spec.flags {
            var line = "  --\(flag.name)"
            if case .value(let placeholder, let repeatable) = flag.kind {
                line += " <\(placeholder)>"
                if repeatable { line += " (repeatable)" }
            }
            text += line + "\n"
            text += "        \(flag.help)"
            if let defaultValue = flag.defaultValue { text += " (default: \(defaultValue))" }
            text += "\n"
        }
        text += "  --help\n        Show this help.\n  --version\n        Show pgwarden's version.\n"
        return text
    }

    /// " (did you mean '--x'?)" when a declared flag is one or two edits away from `word` (one for
    /// short words, none for a single letter).
    static func suggestion(for word: String, in spec: CommandSpec) -> String {
        let name = Array(word.drop { $0 == "-" })
        var best: (name: String, distance: Int)?
        for flag in spec.flags {
            let distance = editDistance(name, Array(flag.name))
            if distance <= min(2, name.count / 2), distance < (best?.distance ?? .max) { best = (flag.name, distance) }
        }
        return best.map { " (did you mean '--\($0.name)'?)" } ?? ""
    }
}
