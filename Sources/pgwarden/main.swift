import PGWardenCLI

#if canImport(Glibc)
import Glibc
#endif

// Bad flags exit with status 2 (as Prometheus exporters do); --help and --version with 0;
// runtime failures (port in use, unreadable file) with 1.
limitMallocArenas()
exit(PGWardenCommand.main(Array(CommandLine.arguments.dropFirst())))
