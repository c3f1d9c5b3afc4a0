/// Base64 decoding (RFC 4648 §4: the standard alphabet `A-Z a-z 0-9 + /`, padded with `=`).
enum Base64 {
    /// The bytes `text` encodes, or nil when it is not padded base64: its length must be a
    /// multiple of 4, `=` may only end it (as `=` or `==`), and nothing outside the alphabet
    /// (whitespace, line breaks, the URL-safe `-` and `_`) may appear. Bits left over in the
    /// last character before the padding are ignored, as most decoders do (`YR==` is `a` too).
    static func decode(_ text: String) -> [UInt8]? {
        decode(bytes: Array(text.utf8)[...])
    }

    /// The bytes the base64 text `input` encodes, or nil (the rules of `decode(_:)`).
    static func decode(bytes input: ArraySlice<UInt8>) -> [UInt8]? {
        var bytes: [UInt8] = []
        let valid = input.withUnsafeBufferPointer { decode($0, into: &bytes) }
        return valid ? bytes : nil
    }

    /// Decodes `input` into `out`; false when it is not padded base64.
    private static func decode(_ input: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        guard input.count % 4 == 0 else { return false }
        out.reserveCapacity(input.count / 4 * 3)
        let padding = UInt8(ascii: "=")
        var i = 0
        while i < input.count {
            let last = i + 4 == input.count
            guard let a = value(input[i]), let b = value(input[i + 1]) else { return false }
            out.append(a << 2 | b >> 4)
            if last && input[i + 2] == padding {
                return input[i + 3] == padding
            }
            guard let c = value(input[i + 2]) else { return false }
            out.append(b << 4 | c >> 2)
            if last && input[i + 3] == padding {
                return true
            }
            guard let d = value(input[i + 3]) else { return false }
            out.append(c << 6 | d)
            i += 4
        }
        return true
    }

    /// The 6-bit value of an alphabet character; nil for anything else (including `=`).
    private static func value(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
