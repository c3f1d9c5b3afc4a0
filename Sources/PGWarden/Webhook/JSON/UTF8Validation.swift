/// UTF-8 well-formedness as Unicode defines it (Table 3-7): no overlong forms, no surrogates,
/// nothing above U+10FFFF, no stray or missing continuation bytes. Checks bytes in place,
/// without making a `String` of them.
enum UTF8Validation {
    /// The length (1 to 4) of the well-formed sequence starting at `index`; nil when the bytes
    /// there are not UTF-8 (a continuation byte, a bad lead byte, a truncated sequence).
    static func sequenceLength(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let lead = bytes[index]
        if lead < 0x80 { return 1 }
        /// The continuation byte `offset` after the lead is within `range` (80...BF, or narrower
        /// right after E0, ED, F0 and F4).
        func continuation(_ offset: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + offset < bytes.count && range.contains(bytes[index + offset])
        }
        switch lead {
        case 0xC2...0xDF:
            return continuation(1) ? 2 : nil
        case 0xE0:
            return continuation(1, 0xA0...0xBF) && continuation(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF:
            return continuation(1) && continuation(2) ? 3 : nil
        case 0xED:
            return continuation(1, 0x80...0x9F) && continuation(2) ? 3 : nil
        case 0xF0:
            return continuation(1, 0x90...0xBF) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF1...0xF3:
            return continuation(1) && continuation(2) && continuation(3) ? 4 : nil
        case 0xF4:
            return continuation(1, 0x80...0x8F) && continuation(2) && continuation(3) ? 4 : nil
        default:
            return nil
        }
    }

    /// The offset of the first byte that does not start a well-formed sequence; nil when all of
    /// `bytes` is UTF-8.
    static func firstInvalidOffset(in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] < 0x80 {
                index += 1
            } else if let length = sequenceLength(at: index, in: bytes) {
                index += length
            } else {
                return index
            }
        }
        return nil
    }
}
