// swift-tools-version:6.0
import PackageDescription

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
        .executableTarget(name: "pgwarden", dependencies: ["PGWardenCLI"]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "PGWardenTests", dependencies: ["PGWarden", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PGWardenCLITests", dependencies: ["PGWardenCLI", "PGWarden"]),
        .testTarget(name: "IntegrationTests", dependencies: ["PGWarden", "TestSupport", .product(name: "Logging", package: "swift-log")]),
    ],
    swiftLanguageModes: [.v6]
)
