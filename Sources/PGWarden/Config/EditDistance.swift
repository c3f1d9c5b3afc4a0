/// Levenshtein distance between two sequences (of characters, bytes, …): the fewest single-element
/// insertions, deletions and substitutions that turn one into the other. The policy loader and the
/// flag parser use it to suggest the key or flag that was meant.
public func editDistance<S: Collection>(_ a: S, _ b: S) -> Int where S.Element: Equatable {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    var previous = Array(0...b.count)
    var current = previous
    for i in 1...a.count {
        current[0] = i
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
