/// A glob over a prepared transaction's gid (`gid_patterns`, `--gid-pattern`). The whole gid
/// must match, character for character (a character is one Unicode scalar, as PostgreSQL counts
/// characters in UTF-8):
///
/// - `*` matches any run of characters, the empty one included;
/// - `?` matches exactly one character;
/// - `\` makes the next character literal, and may only precede `*`, `?`, `\`, `[`, `]` or a space;
/// - every other character matches itself, byte for byte (no case folding, no normalisation).
///
/// Refused, so that no pattern silently means something else than it seems to: an empty
/// pattern, a `\` at the end or before another character, `[` or `]` without `\` (reserved: there
/// are no character classes), a blank at either end (write `\ `), control, format and separator
/// characters, and a pattern that needs more bytes than a gid can have (199).
public struct GlobPattern: Sendable, Equatable, CustomStringConvertible {
    /// One element of a pattern.
    enum Token: Sendable, Equatable {
        case literal(Unicode.Scalar)
        /// `?`
        case one
        /// `*`
        case any
    }

    /// The pattern as written.
    public let text: String
    let tokens: [Token]

    /// The longest gid PostgreSQL accepts, in bytes (GIDSIZE 200, with its terminating NUL).
    public static let maxGIDBytes = 199

    public var description: String { text }

    /// Why `text` is not a pattern, or nil when it is.
    public static func problem(_ text: String) -> String? {
        switch parse(text) {
        case .success: nil
        case .failure(let problem): problem.message
        }
    }

    /// A pattern, or the reason it is refused.
    public static func parse(_ text: String) -> Result<GlobPattern, GlobProblem> {
        guard !text.isEmpty else { return .failure(GlobProblem("is empty; write * to mean any gid")) }
        let scalars = Array(text.unicodeScalars)
        if let bad = scalars.first(where: isInvisible) {
            return .failure(GlobProblem("contains \(codePoint(bad)), a control, format or separator character; "
                + "a reviewer would not see it (PostgreSQL gids can hold it, but a pattern for one cannot)"))
        }
        var tokens: [Token] = []
        var index = 0
        var minimumBytes = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "*":
                if tokens.last != .any { tokens.append(.any) }  // ** is *
            case "?":
                tokens.append(.one)
                minimumBytes += 1
            case "[", "]":
                return .failure(GlobProblem("has \(scalar) without a \\ before it: there are no character classes "
                    + "([abc]); write \\\(scalar) for the character itself"))
            case "\\":
                index += 1
                guard index < scalars.count else {
                    return .failure(GlobProblem("ends with a lone \\; write \\\\ for a backslash"))
                }
                let next = scalars[index]
                guard ["*", "?", "\\", "[", "]", " "].contains(next) else {
                    return .failure(GlobProblem("has \\\(next): \\ may only precede *, ?, \\, [, ] or a space; "
                        + "write \\\\ for a backslash"))
                }
                tokens.append(.literal(next))
                minimumBytes += 1
            default:
                if scalar.properties.isWhitespace && (index == 0 || index == scalars.count - 1) {
                    return .failure(GlobProblem("starts or ends with a blank; remove it (a space meant literally at either end is written \\ and a space)"))
                }
                tokens.append(.literal(scalar))
                minimumBytes += String(scalar).utf8.count
            }
            index += 1
        }
        if minimumBytes > maxGIDBytes {
            return .failure(GlobProblem("needs at least \(minimumBytes) bytes, so it can never match a gid "
                + "(at most \(maxGIDBytes) bytes)"))
        }
        return .success(GlobPattern(text: text, tokens: tokens))
    }

    /// A pattern known to be valid (tests, literals in code); nil otherwise.
    public init?(_ text: String) {
        guard case .success(let pattern) = Self.parse(text) else { return nil }
        self = pattern
    }

    private init(text: String, tokens: [Token]) {
        self.text = text
        self.tokens = tokens
    }

    public static func == (a: Self, b: Self) -> Bool { a.text.isExactly(b.text) }

    /// Whether the whole of `gid` matches (greedy `*` with backtracking to the last `*`: linear
    /// in practice, at most quadratic, over gids of at most 199 bytes).
    public func matches(_ gid: String) -> Bool {
        let text = Array(gid.unicodeScalars)
        var p = 0, i = 0
        var star: Int? = nil, mark = 0
        while i < text.count {
            if p < tokens.count, tokens[p] == .any {
                star = p
                mark = i
                p += 1
            } else if p < tokens.count, tokens[p] == .one || tokens[p] == .literal(text[i]) {
                p += 1
                i += 1
            } else if let star {
                p = star + 1
                mark += 1
                i = mark
            } else {
                return false
            }
        }
        while p < tokens.count, tokens[p] == .any { p += 1 }
        return p == tokens.count
    }

    /// The same pattern for SQL's `LIKE` (whose escape character is `\`): `*` is `%`, `?` is
    /// `_`, and `%`, `_` and `\` themselves are escaped.
    public var likePattern: String {
        var out = ""
        for token in tokens {
            switch token {
            case .any: out += "%"
            case .one: out += "_"
            case .literal(let c):
                if c == "%" || c == "_" || c == "\\" { out += "\\" }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Characters a reader would not see: controls (C0, DEL, C1), format characters (U+200B,
    /// U+FEFF, bidirectional marks), line and paragraph separators.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate: true
        default: false
        }
    }

    /// `U+200B`.
    static func codePoint(_ scalar: Unicode.Scalar) -> String {
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

/// Why a gid pattern is refused (see `GlobPattern`).
public struct GlobProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
