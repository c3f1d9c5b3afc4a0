#if canImport(Glibc)
import Glibc
#endif

// Bad flags exit with status 2 (as Prometheus exporters do); --help and --version with 0;
// runtime failures (port in use, unreadable file) with 1.
exit(PGWardenCommand.main(Array(CommandLine.arguments.dropFirst())))

/// Writes straight to standard error (unbuffered, so it is never lost at exit).
enum Stderr {
    static func write(_ text: String) {
        text.utf8CString.withUnsafeBufferPointer { _ = Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}
