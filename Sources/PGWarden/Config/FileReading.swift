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

/// Reads a secret file (token or password), without its trailing newline. Throws a message
/// that names the file, the flag and the reason, never the content.
public func readSecretFile(_ path: String, flag: String) throws -> String {
    let bytes: [UInt8]
    switch readWholeFile(path, limit: maxSecretFileBytes) {
    case .success(let read): bytes = read
    case .failure(let problem):
        throw ConfigError("\(flag) \(path): cannot read the file (\(problem.reason)); check that it exists, is a regular file and is readable by pgwarden")
    }
    let text = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
    guard !text.isEmpty else { throw ConfigError("\(flag) \(path): the file is empty; put the secret in it") }
    return text
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
