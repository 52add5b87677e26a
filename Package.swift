// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ctxmem",
    // No `platforms`: ctxmem is Linux-only (README, docs/development.md). The watcher reads inotify
    // and nothing is built or tested on macOS, so the `.macOS(.v15)` that stood here promised a
    // build nobody runs; guarding inotify with `#if os(Linux)` and falling back to polling would only
    // move that promise elsewhere. A port would add an FSEvents reader behind the watcher's
    // `EventReader` and declare the platform with it.
    products: [
        .executable(name: "ctxmem", targets: ["ctxmem"]),
        .library(name: "ContextMemory", targets: ["ContextMemory"]),
        .library(name: "ContextMemoryServer", targets: ["ContextMemoryServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCmark",
            pkgConfig: "libcmark",
            providers: [.apt(["libcmark-dev"])]
        ),
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        // Claude 2's vocabulary for the default token estimator (generated: scripts/gen-claude-vocabulary).
        .target(name: "CClaudeVocabulary"),
        // glibc's memmem for the transcript reader (Swift's Glibc module leaves GNU extensions out).
        .target(name: "CByteSearch"),
        .target(
            name: "ContextMemory",
            dependencies: [
                "CCmark",
                "CLibXML2",
                "CClaudeVocabulary",
                "CByteSearch",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // HTTP and MCP faces over the same facade, as a library so tests drive it in process.
        .target(
            name: "ContextMemoryServer",
            dependencies: [
                "ContextMemory",
                .product(name: "Hummingbird", package: "hummingbird"),
                // The connection guard sits in Hummingbird's HTTP/1 pipeline: its parts (NIOHTTPTypes),
                // NIO's parse errors (NIOHTTP1) and the server's connection delegate (HummingbirdCore);
                // packs run on a thread pool of their own (NIOPosix).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The web console: static files compiled into the binary (no build step, no files to ship).
            resources: [
                .embedInCode("Console/index.html"), .embedInCode("Console/console.css"),
                .embedInCode("Console/console.js"),
            ]
        ),
        .executableTarget(
            name: "ctxmem",
            dependencies: [
                "ContextMemory",
                "ContextMemoryServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ctxmem-bench",
            dependencies: [
                "ContextMemory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // What the test targets share (paths, fixture copies, schema validation): a target of its
        // own, since a test target cannot import another. Foundation only; never shipped.
        .target(name: "CtxmemTestSupport", path: "Tests/Support"),
        // The core: unit tests (inline cases) and index tests on a fixture tree copy.
        .testTarget(
            name: "ContextMemoryTests",
            dependencies: ["ContextMemory", "CLibXML2", "CtxmemTestSupport"],
            // The golden hashes are read from the source tree (re-recording writes them there).
            exclude: ["Golden/Snapshots"],
            resources: [.copy("Fixtures")]
        ),
        // The server library in process: every route through the router `ctxmem serve` runs
        // (HummingbirdTesting's `.router` mode, no socket), the MCP tools, the watcher, the queues.
        .testTarget(
            name: "ContextMemoryServerTests",
            dependencies: [
                "ContextMemory", "ContextMemoryServer", "CtxmemTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "MCP", package: "swift-sdk"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The built binary end to end, and the server over real sockets.
        .testTarget(
            name: "ctxmemTests",
            dependencies: [
                "ContextMemory", "ContextMemoryServer", "ctxmem", "CtxmemTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)

// House style: the same strictness for every target (as swift-log and swift-nio do).
for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
