/// How JSONReader's messages show a character: printable ones as themselves, the others in words
/// or as bytes.
extension JSONReader {
    /// A space, tab, line break or other control character (or DEL) in words.
    static func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x20: "space"
        case 0x09: "tab"
        case 0x0A: "line feed"
        case 0x0D: "carriage return"
        default: "control character U+00\(hex(byte, digits: 2))"
        }
    }

    /// The character starting at `index` when it is printable ASCII or valid UTF-8 above it.
    static func printable(at index: Int, in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        guard bytes[index] > 0x20 && bytes[index] != 0x7F, let length = UTF8Validation.sequenceLength(at: index, in: bytes) else {
            return nil
        }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<index + length]), as: UTF8.self)
    }

    /// `value` in upper-case hex, zero-padded to `digits`.
    static func hex(_ value: some BinaryInteger, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
