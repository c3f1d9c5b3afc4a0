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
        .target(
            name: "CMicroHTTPD",
            linkerSettings: [.linkedLibrary("microhttpd")]
        ),
        .target(
            name: "PGWarden",
            dependencies: [
                "CLibPQ",
                "CMicroHTTPD",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "pgwarden",
            dependencies: [
                "PGWarden",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "PGWardenTests", dependencies: ["PGWarden"]),
        .testTarget(name: "IntegrationTests", dependencies: ["PGWarden"]),
    ],
    swiftLanguageModes: [.v6]
)
