// swift-tools-version:6.0
// The Swift bindings of libstreamrelay: the UniFFI-generated StreamRelay
// module (Sources/StreamRelay/StreamRelay.swift, from scripts/gen-bindings.sh),
// its C module (StreamRelayFFI) and a thin idiomatic layer
// (Sources/StreamRelay/Host.swift).
//
// Where the C library comes from:
// - Linux (and any platform without the XCFramework): the system-library
//   target Sources/StreamRelayFFI; pass `-Xlinker -L<dir with
//   libstreamrelay.so or .a>` (run-tests.sh does).
// - Apple platforms: StreamRelayFFI.xcframework beside this file, made on a
//   Mac by build-xcframework.sh; when it exists it replaces the system
//   library (untested here: no Xcode on the Linux CI; see README.md).
import Foundation
import PackageDescription

let xcframework = "StreamRelayFFI.xcframework"
let hasXCFramework = FileManager.default.fileExists(
    atPath: Context.packageDirectory + "/" + xcframework)

// The target name must equal the FFI module name the generated Swift
// imports (StreamRelayFFI).
let ffi: Target =
    hasXCFramework
    ? .binaryTarget(name: "StreamRelayFFI", path: xcframework)
    : .systemLibrary(name: "StreamRelayFFI", path: "Sources/StreamRelayFFI")

let package = Package(
    name: "StreamRelay",
    products: [
        .library(name: "StreamRelay", targets: ["StreamRelay"])
    ],
    targets: [
        ffi,
        .target(name: "StreamRelay", dependencies: ["StreamRelayFFI"]),
        .testTarget(name: "StreamRelayTests", dependencies: ["StreamRelay"]),
    ]
)
