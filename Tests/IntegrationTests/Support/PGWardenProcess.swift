import Foundation
import Testing
import Synchronization

/// A running pgwarden binary, started with arguments, its stderr captured to a file.
final class PGWardenProcess: @unchecked Sendable {
    // @unchecked: the Process is started and stopped from the test's own thread.
    let process = Process()
    let logPath: String
    private(set) var port = 0

    /// Starts `pgwarden ARGS --web.listen-address 127.0.0.1:0` and waits until it listens.
    init(_ env: TestEnvironment, arguments: [String], environment: [String: String] = [:], listen: Bool = true) throws {
        logPath = "\(env.workDir)/pgwarden-\(uniqueSuffix()).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process.executableURL = URL(fileURLWithPath: env.binary)
        process.arguments = arguments + (listen ? ["--web.listen-address", "127.0.0.1:0"] : [])
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "DATA_SOURCE_NAME")
        for (k, v) in environment { merged[k] = v }
        process.environment = merged
        process.standardError = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = FileHandle(forWritingAtPath: logPath)
        try process.run()
        guard listen else { return }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let match = log.range(of: #"port(=|":")\d+"#, options: .regularExpression) {
                port = Int(log[match].filter(\.isNumber))!
                return
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw SetupError("pgwarden did not start listening; its log:\n\(log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// GET /metrics parsed into samples.
    func scrape(path: String = "/metrics") throws -> Metrics {
        let response = try HTTP.get(port: port, path)
        guard response.status == 200 else { throw SetupError("scrape answered \(response.status): \(response.body)") }
        return Metrics(text: response.body)
    }

    /// Sends SIGTERM and waits for exit; returns the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// Runs pgwarden to completion (for CLI error paths) and returns exit status and output
/// (standard output and standard error together).
func runPGWarden(_ env: TestEnvironment, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let (status, output, _) = try runPGWarden(env, arguments, separateStandardError: false)
    return (status, output)
}

/// Runs pgwarden to completion; with `separateStandardError`, standard output and standard
/// error come back apart (for output meant for a program, such as `--output json`).
func runPGWarden(_ env: TestEnvironment, _ arguments: [String],
                 separateStandardError: Bool) throws -> (status: Int32, output: String, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: env.binary)
    process.arguments = arguments
    let pipe = Pipe(), errorPipe = separateStandardError ? Pipe() : pipe
    process.standardError = errorPipe
    process.standardOutput = pipe
    try process.run()
    // Standard error is read on another thread, so that neither pipe can fill up and stall pgwarden.
    let errors = Mutex(Data())
    let readErrors = Thread { errors.withLock { $0 = errorPipe.fileHandleForReading.readDataToEndOfFile() } }
    if separateStandardError { readErrors.start() }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while separateStandardError && !readErrors.isFinished { Thread.sleep(forTimeInterval: 0.01) }
    return (process.terminationStatus, String(decoding: data, as: UTF8.self),
            String(decoding: errors.withLock { $0 }, as: UTF8.self))
}

/// `promtool check metrics` finds nothing to say about `text`.
func expectPromtoolAccepts(_ text: String, workDir: String) throws {
    let file = "\(workDir)/metrics-\(uniqueSuffix()).txt"
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    let promtool = Process()
    promtool.executableURL = URL(fileURLWithPath: "/bin/sh")
    promtool.arguments = ["-c", "promtool check metrics < '\(file)' 2>&1"]
    let pipe = Pipe()
    promtool.standardOutput = pipe
    try promtool.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    promtool.waitUntilExit()
    #expect(promtool.terminationStatus == 0, "promtool check metrics: \(output)")
    #expect(output.isEmpty, "promtool reported: \(output)")
}

/// Parsed exposition text: sample lookup by name and labels.
struct Metrics {
    let text: String
    let samples: [(name: String, labels: [String: String], value: Double)]

    init(text: String) {
        self.text = text
        var samples: [(String, [String: String], Double)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            let series = line[..<space]
            if let brace = series.firstIndex(of: "{") {
                samples.append((String(series[..<brace]), Self.parseLabels(series[series.index(after: brace)..<series.index(before: series.endIndex)]), value))
            } else {
                samples.append((String(series), [:], value))
            }
        }
        self.samples = samples
    }

    /// The value of the one sample with this name whose labels include `labels`; nil if none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }?.value
    }

    /// All samples of a name whose labels include `labels`.
    func all(_ name: String, _ labels: [String: String] = [:]) -> [(labels: [String: String], value: Double)] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            .map { ($0.labels, $0.value) }
    }

    static func parseLabels(_ text: Substring) -> [String: String] {
        var labels: [String: String] = [:]
        var i = text.startIndex
        while i < text.endIndex {
            guard let eq = text[i...].firstIndex(of: "=") else { break }
            let name = String(text[i..<eq])
            var j = text.index(eq, offsetBy: 2)
            var value = ""
            while j < text.endIndex && text[j] != "\"" {
                if text[j] == "\\" {
                    j = text.index(after: j)
                    switch text[j] { case "n": value.append("\n"); default: value.append(text[j]) }
                } else {
                    value.append(text[j])
                }
                j = text.index(after: j)
            }
            labels[name] = value
            i = text.index(after: j)
            if i < text.endIndex && text[i] == "," { i = text.index(after: i) }
        }
        return labels
    }
}
