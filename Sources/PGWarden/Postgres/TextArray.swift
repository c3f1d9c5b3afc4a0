/// Parses PostgreSQL's text output of a one-dimensional array (`{a,"b c",NULL,"d\"e"}`) into
/// its elements; an unquoted NULL is nil. Returns nil for text that is not such an array.
public func parseTextArray(_ text: String) -> [String?]? {
    var utf8 = Array(text.utf8)
    guard utf8.first == UInt8(ascii: "{"), utf8.last == UInt8(ascii: "}") else { return nil }
    utf8.removeFirst()
    utf8.removeLast()
    var elements: [String?] = []
    if utf8.isEmpty { return elements }
    var i = 0
    let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), comma = UInt8(ascii: ",")
    while i <= utf8.count {
        var bytes: [UInt8] = []
        if i < utf8.count && utf8[i] == quote {
            i += 1
            while i < utf8.count && utf8[i] != quote {
                if utf8[i] == backslash { i += 1 }
                guard i < utf8.count else { return nil }
                bytes.append(utf8[i])
                i += 1
            }
            guard i < utf8.count else { return nil }
            i += 1  // closing quote
            elements.append(String(decoding: bytes, as: UTF8.self))
        } else {
            while i < utf8.count && utf8[i] != comma {
                bytes.append(utf8[i])
                i += 1
            }
            let element = String(decoding: bytes, as: UTF8.self)
            elements.append(element == "NULL" ? nil : element)
        }
        guard i == utf8.count || utf8[i] == comma else { return nil }
        i += 1
    }
    return elements
}
