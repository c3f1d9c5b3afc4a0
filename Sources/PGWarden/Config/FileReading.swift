#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The one way pgwarden reads a file it is pointed at (policy, secrets): whole, capped in size,
// regular files only, with the reason in plain words when it cannot.

/// The largest configuration file pgwarden reads (policy, web config); such files are a few kilobytes.
let maxConfigFileBytes = 1 << 20

/// The largest secret file pgwarden reads; a token or password is far smaller, and the cap keeps
/// a mistaken path (a log, /dev/zero) from filling memory.
let maxSecretFileBytes = 64 * 1024

/// Reads a secret file (token or password), without surrounding blanks and line breaks (the
/// final newline). The secret must be printable ASCII without blanks (bytes 0x21-0x7E): what
/// Alertmanager sends in a header, and what compares the same as bytes and as text. Throws a
/// message that names the file, the flag and the reason, never the content.
public func readSecretFile(_ path: String, flag: String) throws(ConfigError) -> String {
    let bytes: [UInt8]
    switch readWholeFile(path, limit: maxSecretFileBytes) {
    case .success(let read): bytes = read
    case .failure(let problem):
        throw ConfigError("\(flag) \(path): cannot read the file (\(problem.reason)); check that it exists, is a regular file and is readable by pgwarden")
    }
    let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else {
        throw ConfigError("\(flag) \(path): the file is empty; put the secret in it")
    }
    let secret = bytes[first...last]
    if let bad = secret.firstIndex(where: { $0 < 0x21 || $0 > 0x7E }) {
        throw ConfigError("\(flag) \(path): the secret has a blank, a control character or a non-ASCII byte "
            + "(at byte \(bad - first + 1) of the secret); it must be printable ASCII without blanks (0x21-0x7E)")
    }
    return String(decoding: secret, as: UTF8.self)
}

/// Why a file could not be read: the system's words for errno, or the size limit.
struct FileReadProblem: Error, Equatable {
    var reason: String
    /// The errno behind it; 0 for a file that is not regular or too large.
    var errno: Int32 = 0
}

/// The bytes of the file at `path`, at most `limit` of them; a failure says why (missing, no
/// permission, a directory, too large). Interrupted calls are retried.
func readWholeFile(_ path: String, limit: Int) -> Result<[UInt8], FileReadProblem> {
    func failure() -> Result<[UInt8], FileReadProblem> {
        .failure(FileReadProblem(reason: String(cString: strerror(errno)), errno: errno))
    }
    var fd: Int32
    repeat {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    } while fd < 0 && errno == EINTR
    guard fd >= 0 else { return failure() }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { return failure() }
    guard status.st_mode & S_IFMT == S_IFREG else {
        return .failure(FileReadProblem(reason: status.st_mode & S_IFMT == S_IFDIR ? "it is a directory" : "it is not a regular file"))
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count > 0 {
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > limit { return .failure(FileReadProblem(reason: "larger than \(limit / 1024) KiB")) }
        } else if count == 0 {
            return .success(bytes)
        } else if errno != EINTR {
            return failure()
        }
    }
}

/// A configuration problem found at start-up or reload.
public struct ConfigError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
