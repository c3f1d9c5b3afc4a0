// swift-tools-version:6.0
import PackageDescription
#if canImport(Glibc)
import Glibc
#endif

// Release builds (`swift build -c release`, and `make release`, which runs it) link the
// executable the way it is installed and benchmarked; each flag changes the linking, never the
// code. Why each is worth it, and what it costs: docs/development.md (Release build) and
// docs/benchmarks.md (Peak resident memory).
//   -static-stdlib   the Swift runtime inside the binary: no Swift libraries at run time, and
//                    about 2 MB less resident than loading libswiftCore.so and its kin.
//   -use-ld=lld      the toolchain's lld (the Swift driver's default on Linux is gold, which
//                    cannot pack relocations).
//   -L release/static-libstdc++  a linker script there turns the driver's -lstdc++ into GCC's
//                    libstdc++.a: the few functions the runtime uses, not the whole library.
//   -z pack-relative-relocs  (RELR) relative relocations packed, only when the build machine
//                    has glibc >= 2.36, which the binary then needs too; RELR=0 in the
//                    environment leaves them unpacked (to run on an older glibc).
let releaseLinkerFlags: [String] = {
    var flags = ["-static-stdlib", "-use-ld=lld", "-L\(Context.packageDirectory)/release/static-libstdc++"]
    if Context.environment["RELR"] != "0" && buildMachineGlibcHasRELR() {
        flags += ["-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"]
    }
    return flags
}()

/// Whether the glibc of the machine evaluating this manifest (the build machine) is 2.36 or later.
func buildMachineGlibcHasRELR() -> Bool {
    #if canImport(Glibc)
    var buffer = [CChar](repeating: 0, count: 64)
    guard confstr(Int32(_CS_GNU_LIBC_VERSION), &buffer, buffer.count) > 0 else { return false }
    // "glibc 2.36"
    let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let numbers = (text.split(separator: " ").last ?? "").split(separator: ".").map { Int($0) ?? 0 }
    guard numbers.count >= 2 else { return false }
    return numbers[0] > 2 || (numbers[0] == 2 && numbers[1] >= 36)
    #else
    return false
    #endif
}

let package = Package(
    name: "pgwarden",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pgwarden", targets: ["pgwarden"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(name: "CBuildInfo", exclude: ["generated"]),
        .target(
            name: "CMicroHTTPD",
            linkerSettings: [.linkedLibrary("microhttpd"), .linkedLibrary("gnutls"), .linkedLibrary("crypt")]
        ),
        .target(
            name: "PGWarden",
            dependencies: [
                "CLibPQ",
                "CMicroHTTPD",
                "CYAML",
                "CBuildInfo",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PGWardenCLI",
            dependencies: [
                "PGWarden",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pgwarden",
            dependencies: ["PGWardenCLI"],
            linkerSettings: [.unsafeFlags(releaseLinkerFlags, .when(platforms: [.linux], configuration: .release))]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "PGWardenTests", dependencies: ["PGWarden", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PGWardenCLITests", dependencies: ["PGWardenCLI", "PGWarden"]),
        .testTarget(name: "IntegrationTests", dependencies: ["PGWarden", "TestSupport", .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
