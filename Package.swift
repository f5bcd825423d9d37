// swift-tools-version:6.0
import PackageDescription

// Hot loops are written with SIMD types over unsafe pointers. Without a target CPU,
// `SIMD16<Float>.addingProduct` lowers to scalar `fmaf` calls; `-target-cpu native`
// lets the code generator use the FMA vector units of whatever machine builds it
// (AVX2, AVX-512, NEON), so the build stays portable while the binary is fast.
let nativeCPU: [SwiftSetting] = [.unsafeFlags(["-target-cpu", "native"])]

// The engine's SIMD code is 50-100x slower unoptimised, which would make the test suite
// (which trains small models) crawl; debug builds optimise it too. Tests still get
// `@testable import`, which needs only -enable-testing.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "harness",
    products: [
        .executable(name: "harness", targets: ["harness"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "HarnessKit", targets: ["HarnessKit"]),
    ],
    targets: [
        // System C libraries, isolated in their own targets.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),

        // The neural-network engine: tensors, kernels, layers, optimizers. No I/O.
        .target(name: "Engine", swiftSettings: nativeCPU + optimizedInDebug),

        // Specs, grids, data, scheduler, store, reports.
        .target(name: "HarnessKit", dependencies: ["Engine", "CSQLite", "CZlib"],
                swiftSettings: nativeCPU + optimizedInDebug),

        // The thin command-line front end.
        .executableTarget(name: "harness", dependencies: ["HarnessKit", "Engine"],
                          swiftSettings: nativeCPU),

        // Helpers shared by the test targets.
        .target(name: "TestSupport", dependencies: ["Engine", "HarnessKit"], path: "Tests/TestSupport"),

        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"], exclude: ["reference_values.py"],
                    swiftSettings: nativeCPU),
        .testTarget(name: "HarnessKitTests", dependencies: ["HarnessKit", "Engine", "TestSupport"],
                    exclude: ["Golden", "statistics_reference.py"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "harness"]),
    ]
)
