import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import PGWarden

/// process_* families from /proc, as every Prometheus exporter has them.
@Suite("ProcessMetrics")
struct ProcessMetricsTests {
    /// A command name with blanks and parentheses does not shift the fields after it.
    @Test func parsesStatAfterTheCommandName() throws {
        let stat = "4242 (pg warden (x)) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 150 0 0 20 0 7 0 12345 104857600 2560 "
            + "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let reading = try #require(ProcessMetrics.parse(stat: stat, ticksPerSecond: 100, pageSize: 4096, bootTime: 1_700_000_000))
        #expect(reading.cpuSeconds == 4.0)
        #expect(reading.threads == 7)
        #expect(reading.startTimeSeconds == 1_700_000_123.45)
        #expect(reading.virtualBytes == 104_857_600)
        #expect(reading.residentBytes == 2560 * 4096)
        #expect(ProcessMetrics.parse(stat: "4242 (truncated", ticksPerSecond: 100, pageSize: 4096, bootTime: 0) == nil)
        #expect(ProcessMetrics.parse(stat: "1 (x) S 1 2", ticksPerSecond: 100, pageSize: 4096, bootTime: 0) == nil)
    }

    @Test func bootTimeLine() {
        #expect(ProcessMetrics.bootTime("cpu  1 2 3\nbtime 1796182574\nprocesses 9\n") == 1_796_182_574)
        #expect(ProcessMetrics.bootTime("cpu 1\n") == nil)
    }

    /// This very process: every family present, with plausible values.
    @Test func readsThisProcess() throws {
        let families = ProcessMetrics.families()
        #expect(families.map(\.name) == ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
                                         "process_start_time_seconds", "process_threads", "process_open_fds", "process_max_fds"])
        func value(_ name: String) -> Double { families.first { $0.name == name }?.samples.first?.value ?? -1 }
        #expect(value("process_resident_memory_bytes") > 1_000_000)
        #expect(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"))
        #expect(value("process_threads") >= 1)
        #expect(value("process_open_fds") >= 3 && value("process_open_fds") <= value("process_max_fds"))
        #expect(value("process_start_time_seconds") > 1_600_000_000 && value("process_start_time_seconds") <= Double(time(nil)) + 1)
    }
}
