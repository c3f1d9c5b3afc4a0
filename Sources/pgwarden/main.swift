import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

// Bad flags exit with status 2 (as Prometheus exporters do); --help and --version with 0;
// runtime failures (port in use, unreadable file) with 1.
do {
    var command = try PGWardenCommand.parseAsRoot()
    try command.run()
} catch let error as RuntimeError {
    FileHandleStderr.write("pgwarden: \(error.description)\n")
    exit(1)
} catch {
    let code = PGWardenCommand.exitCode(for: error)
    if code == .success {
        PGWardenCommand.exit(withError: error)
    }
    if error is ExitCode {
        exit(code.rawValue)
    }
    FileHandleStderr.write(PGWardenCommand.fullMessage(for: error) + "\n")
    exit(2)
}

enum FileHandleStderr {
    static func write(_ text: String) {
        text.utf8CString.withUnsafeBufferPointer { _ = Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }
}
