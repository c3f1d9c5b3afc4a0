#if canImport(Glibc)
import Glibc
#endif

/// pgwarden's own process, as every Prometheus exporter reports it (the client libraries'
/// `process_*` families), read from /proc at scrape time.
public enum ProcessMetrics {
    /// What /proc says of one process.
    struct Reading: Equatable {
        var cpuSeconds: Double
        var residentBytes: Double
        var virtualBytes: Double
        var startTimeSeconds: Double
        var threads: Double
    }

    /// The process_* families; empty where /proc cannot be read (not Linux).
    public static func families() -> [MetricFamily] {
        guard let stat = readText("/proc/self/stat"), let boot = machineBootTime,
              let reading = parse(stat: stat, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
                                  pageSize: Double(sysconf(Int32(_SC_PAGESIZE))), bootTime: boot) else { return [] }
        var limit = rlimit()
        let maxFDs = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : -1
        var result = [
            MetricFamily("process_cpu_seconds_total", .counter, help: "Total user and system CPU time spent in seconds.",
                         samples: [Sample(reading.cpuSeconds)]),
            MetricFamily("process_resident_memory_bytes", .gauge, help: "Resident memory size in bytes.",
                         samples: [Sample(reading.residentBytes)]),
            MetricFamily("process_virtual_memory_bytes", .gauge, help: "Virtual memory size in bytes.",
                         samples: [Sample(reading.virtualBytes)]),
            MetricFamily("process_start_time_seconds", .gauge, help: "Start time of the process since unix epoch in seconds.",
                         samples: [Sample(reading.startTimeSeconds)]),
            MetricFamily("process_threads", .gauge, help: "Number of OS threads in the process.",
                         samples: [Sample(reading.threads)]),
        ]
        if let open = openFileDescriptors() {
            result.append(MetricFamily("process_open_fds", .gauge, help: "Number of open file descriptors.",
                                       samples: [Sample(Double(open))]))
        }
        if maxFDs >= 0 {
            result.append(MetricFamily("process_max_fds", .gauge, help: "Maximum number of open file descriptors.",
                                       samples: [Sample(maxFDs)]))
        }
        return result
    }

    /// Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses):
    /// utime and stime in clock ticks, num_threads, starttime in ticks since boot, vsize in bytes,
    /// rss in pages (proc(5)).
    static func parse(stat: String, ticksPerSecond: Double, pageSize: Double, bootTime: Double) -> Reading? {
        guard let close = stat.utf8.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields 3 onwards (state is field 3).
        let fields = stat[stat.utf8.index(after: close)...].split(separator: " ").map(String.init)
        func field(_ number: Int) -> Double? { number - 3 < fields.count ? Double(fields[number - 3]) : nil }
        guard ticksPerSecond > 0, let utime = field(14), let stime = field(15), let threads = field(20),
              let start = field(22), let vsize = field(23), let rss = field(24) else { return nil }
        return Reading(cpuSeconds: (utime + stime) / ticksPerSecond, residentBytes: rss * pageSize, virtualBytes: vsize,
                       startTimeSeconds: bootTime + start / ticksPerSecond, threads: threads)
    }

    /// When the machine booted: read once, it does not change (and /proc/stat is the largest
    /// file a scrape would otherwise read).
    static let machineBootTime = bootTime(readText("/proc/stat") ?? "")

    /// The `btime` line of /proc/stat: when the machine booted, in Unix seconds.
    static func bootTime(_ text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6))
        }
        return nil
    }

    /// Entries of /proc/self/fd, less the one the listing itself opens.
    static func openFileDescriptors() -> Int? {
        guard let dir = opendir("/proc/self/fd") else { return nil }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { count += 1 }
        }
        return max(0, count - 1)
    }

    /// A small /proc file, whole.
    static func readText(_ path: String) -> String? {
        guard case let .success(bytes) = readWholeFile(path, limit: 1 << 20) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
