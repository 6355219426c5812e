// swift-tools-version:6.0
// A program that uses the StreamRelay package the way an app does: as a
// dependency, by path (../ is bindings-swift/). run-tests.sh builds and runs
// it in the Linux toolchain; link libstreamrelay as for the package itself
// (`-Xlinker -L<dir>`). With a released package, replace the path with
// `.package(url: "<repository>", from: "0.1.0")`.
import PackageDescription

let package = Package(
    name: "GettingStarted",
    dependencies: [
        .package(path: "..")
    ],
    targets: [
        .executableTarget(
            name: "GettingStarted",
            dependencies: [.product(name: "StreamRelay", package: "bindings-swift")]
        )
    ]
)
