import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `--audit.file`: the durable audit trail. One JSON line per record, appended by a serial
/// queue of its own so that a slow or failing disk never holds up an action; each batch (one
/// notification's records) is one write(2), so it is on its way to the file before the next.
/// The file is created with mode 0600 and reopened on SIGHUP (logrotate's rename-and-signal).
/// A write that fails is counted and logged, and the records it held are lost from the file
/// only (the log and /actions still have them).
public final class AuditFile: Sendable {
    public let path: String
    private let fd = Mutex<Int32>(-1)
    private let queue = DispatchQueue(label: "pgwarden.audit.file")
    private let pending = Atomic<Int>(0)
    private let errors = Atomic<Int>(0)
    private let logger: Logger
    /// Batches waiting to be written at most; beyond, a batch is dropped and counted as an error.
    static let maxPending = 1000

    /// Opens (creating) `path` for appending; throws a message naming the file and the reason.
    public init(path: String, logger: Logger) throws {
        self.path = path
        self.logger = logger
        let opened = try Self.open(path)
        fd.withLock { $0 = opened }
    }

    deinit { fd.withLock { if $0 >= 0 { close($0) } } }

    /// Appends `lines` (each without its newline) in one write, in the background.
    public func append(_ lines: [String]) {
        guard !lines.isEmpty else { return }
        guard pending.add(1, ordering: .relaxed).newValue <= Self.maxPending else {
            pending.subtract(1, ordering: .relaxed)
            failed("the audit file is not keeping up; \(lines.count) record(s) not written")
            return
        }
        var bytes: [UInt8] = []
        for line in lines {
            bytes.append(contentsOf: line.utf8)
            bytes.append(UInt8(ascii: "\n"))
        }
        queue.async { [self, bytes] in
            defer { pending.subtract(1, ordering: .relaxed) }
            fd.withLock { fd in
                guard fd >= 0 else { return failed("the audit file is not open") }
                var offset = 0
                while offset < bytes.count {
                    let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else {
                        return failed("writing the audit file failed: \(String(cString: strerror(n < 0 ? errno : EIO)))")
                    }
                    offset += n
                }
            }
        }
    }

    /// SIGHUP: closes the file and opens `path` again (a new file after logrotate renamed the old).
    /// On failure the old descriptor is kept and the failure logged.
    public func reopen() {
        queue.sync {
            do {
                let opened = try Self.open(path)
                fd.withLock { old in
                    if old >= 0 { close(old) }
                    old = opened
                }
                logger.info("audit file reopened", metadata: ["audit.file": "\(path)"])
            } catch {
                logger.error("audit file not reopened; writing on to the file open before", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Waits until every batch handed in so far is written (tests, shutdown).
    public func flush() { queue.sync {} }

    /// pgwarden_audit_write_errors_total.
    public var writeErrors: Int { errors.load(ordering: .relaxed) }

    private func failed(_ message: String) {
        errors.add(1, ordering: .relaxed)
        logger.error("audit record not written", metadata: ["audit.file": "\(path)", "error": "\(message)"])
    }

    private static func open(_ path: String) throws -> Int32 {
        var fd: Int32
        // O_NONBLOCK only for the open: a FIFO nobody reads would otherwise hang start-up (it
        // fails with ENXIO instead); writes to a regular file never see it.
        repeat {
            fd = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0o600)
        } while fd < 0 && errno == EINTR
        guard fd >= 0 else {
            throw ConfigError("--audit.file \(path): cannot open it for appending (\(String(cString: strerror(errno))))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        // A file that existed keeps the mode it had; the trail holds names and addresses, so 0600.
        var status = stat()
        if fstat(fd, &status) == 0 && status.st_mode & S_IFMT == S_IFREG { _ = fchmod(fd, 0o600) }
        return fd
    }
}
