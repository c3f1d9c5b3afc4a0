/// Minimal JSON string quoting for log lines and API responses.
public enum JSONText {
    /// `text` as a quoted JSON string, escaping quotes, backslashes and control characters.
    public static func quote(_ text: String) -> String {
        quoted(text, escapingDelete: false)
    }

    /// `text` in double quotes with `appendEscaped`'s escapes (JSON strings, quoted logfmt values).
    public static func quoted(_ text: String, escapingDelete: Bool) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 2)
            out.append(UInt8(ascii: "\""))
            appendEscaped(bytes, to: &out, escapingDelete: escapingDelete)
            out.append(UInt8(ascii: "\""))
            return String(decoding: out, as: UTF8.self)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Appends UTF-8 `bytes`, with quotes, backslashes and control characters (and DEL when asked)
    /// escaped as JSON escapes them. Only ASCII bytes are escaped, so valid UTF-8 stays valid, and
    /// runs without escapes are copied whole (audit lines and responses hold hundreds of fields).
    static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8], escapingDelete: Bool) {
        var start = 0
        for (i, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C || (escapingDelete && byte == 0x7F) {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
            start = i + 1
            out.append(UInt8(ascii: "\\"))
            switch byte {
            case 0x22: out.append(UInt8(ascii: "\""))
            case 0x5C: out.append(UInt8(ascii: "\\"))
            case 0x0A: out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
    }
}
