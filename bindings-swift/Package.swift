// swift-tools-version:6.0
// The Swift bindings of libstreamrelay: the UniFFI-generated StreamRelay
// module (Sources/StreamRelay/StreamRelay.swift, from scripts/gen-bindings.sh),
// its C module (Sources/StreamRelayFFI) and a thin idiomatic layer
// (Sources/StreamRelay/Host.swift). Link libstreamrelay: pass
// `-Xlinker -L<dir with libstreamrelay.so or .a>` (run-tests.sh does).
import PackageDescription

let package = Package(
    name: "StreamRelay",
    products: [
        .library(name: "StreamRelay", targets: ["StreamRelay"])
    ],
    targets: [
        // The target name must equal the FFI module name the generated
        // Swift imports (StreamRelayFFI).
        .systemLibrary(name: "StreamRelayFFI", path: "Sources/StreamRelayFFI"),
        .target(name: "StreamRelay", dependencies: ["StreamRelayFFI"]),
        .testTarget(name: "StreamRelayTests", dependencies: ["StreamRelay"]),
    ]
)
