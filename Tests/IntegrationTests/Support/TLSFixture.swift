import Foundation
import Testing

/// Runs a tool (openssl, htpasswd, curl) and returns its exit status and output. A tool that
/// is missing is a test failure naming the package that brings it (scripts/deps.sh test).
@discardableResult
func runTool(_ tool: String, _ arguments: [String], input: String? = nil, directory: String? = nil) throws
    -> (status: Int32, stdout: String, stderr: String) {
    let path = ["/usr/bin/\(tool)", "/bin/\(tool)", "/usr/local/bin/\(tool)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let path else {
        Issue.record("\(tool) is missing: run scripts/deps.sh test (Debian: openssl, apache2-utils, curl)")
        throw SetupError("\(tool) missing")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe(), stdin = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try? stdin.fileHandleForWriting.close()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    let stderrData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdoutData, as: UTF8.self), String(decoding: stderrData, as: UTF8.self))
}

/// A CA, a server certificate for 127.0.0.1, client certificates (from the CA, self-signed,
/// expired) made by openssl in a directory of the test's own.
final class TLSFixture: @unchecked Sendable {
    // @unchecked: used from one test's thread only.
    let directory: String

    init(_ env: TestEnvironment) throws {
        directory = "\(env.workDir)/tls-\(uniqueSuffix())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=pgwarden test CA"])
        try server(named: "server", commonName: "first")
        try client(named: "client", commonName: "prometheus")
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                     "-keyout", "stranger.key", "-out", "stranger.crt", "-days", "2", "-subj", "/CN=stranger"])
        try expiredClient()
    }

    func path(_ name: String) -> String { "\(directory)/\(name)" }

    func openssl(_ arguments: [String]) throws {
        let result = try runTool("openssl", arguments, directory: directory)
        guard result.status == 0 else { throw SetupError("openssl \(arguments.joined(separator: " ")): \(result.stderr)") }
    }

    /// `NAME.crt` and `NAME.key`: a server certificate for 127.0.0.1 and localhost from the CA.
    func server(named name: String, commonName: String) throws {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                     "-out", "\(name).csr", "-subj", "/CN=\(commonName)"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
            .write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext"])
    }

    /// `NAME.crt` and `NAME.key`: a client certificate from the CA.
    func client(named name: String, commonName: String) throws {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                     "-out", "\(name).csr", "-subj", "/CN=\(commonName)"])
        try "extendedKeyUsage=clientAuth\n".write(toFile: path("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                     "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext"])
    }

    /// `expired.crt`/`expired.key`: from the CA, valid for one day in 2020 (openssl ca sets the dates).
    func expiredClient() throws {
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "expired.key",
                     "-out", "expired.csr", "-subj", "/CN=expired"])
        try "".write(toFile: path("index.txt"), atomically: true, encoding: .utf8)
        try "1000\n".write(toFile: path("serial"), atomically: true, encoding: .utf8)
        try """
            [ca]
            default_ca = test
            [test]
            dir = .
            database = index.txt
            serial = serial
            new_certs_dir = .
            default_md = sha256
            policy = any
            copy_extensions = none
            [any]
            commonName = supplied
            [client]
            extendedKeyUsage = clientAuth

            """.write(toFile: path("ca.cnf"), atomically: true, encoding: .utf8)
        try openssl(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in", "expired.csr",
                     "-out", "expired.crt", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
                     "-extensions", "client", "-notext"])
    }

    /// Writes a web configuration file into the directory and returns its path.
    func webConfig(_ text: String, name: String = "web.yml") throws -> String {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
        return path(name)
    }

    /// curl against pgwarden over HTTPS, verifying the chain with `ca` (nil: no --cacert):
    /// returns curl's exit status, the HTTP status (0 without one) and the body; `-v` output in `trace`.
    func curl(port: Int, _ path: String, ca: String? = "ca.crt", cert: String? = nil, user: String? = nil,
              scheme: String = "https", extra: [String] = []) throws -> (exit: Int32, status: Int, body: String, trace: String) {
        var arguments = ["-sS", "-v", "--max-time", "20", "-o", "-", "-w", "\n%{http_code}"]
        if let ca { arguments += ["--cacert", ca] }
        if let cert { arguments += ["--cert", "\(cert).crt", "--key", "\(cert).key"] }
        if let user { arguments += ["-u", user] }
        arguments += extra + ["\(scheme)://127.0.0.1:\(port)\(path)"]
        let result = try runTool("curl", arguments, directory: directory)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.last ?? "") ?? 0
        return (result.status, status, lines.dropLast().joined(separator: "\n"), result.stderr)
    }
}
