#if canImport(Glibc)
import Glibc
#endif

/// Caps glibc's malloc arenas at one per CPU, eight at most (its default allows eight per CPU). Each HTTP
/// connection runs on a thread of its own, and every thread that allocates gets an arena whose
/// used pages stay resident; pgwarden's threads rarely allocate at the same moment (concurrent
/// scrapes share one database round trip), so more arenas only cost memory. MALLOC_ARENA_MAX or
/// GLIBC_TUNABLES=glibc.malloc.arena_max=N in the environment still decide when set.
public func limitMallocArenas() {
    if getenv("MALLOC_ARENA_MAX") != nil { return }
    if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("glibc.malloc.arena_max") { return }
    // Swift's Glibc module leaves out <malloc.h>; mallopt is looked up instead (a null handle is
    // RTLD_DEFAULT). M_ARENA_MAX is -8 in glibc's ABI.
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    guard let symbol = dlsym(nil, "mallopt") else { return }
    let cpus = Int32(clamping: max(1, min(sysconf(Int32(_SC_NPROCESSORS_ONLN)), 8)))
    _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, cpus)
}
