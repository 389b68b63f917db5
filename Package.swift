// swift-tools-version:6.0
// The layers, bottom up (each folder under Sources/ is one room):
//   C*              generated protobuf-c code and C shims; each is imported by exactly one Swift module
//   FaceRPCProtos   Swift value types for Protos/facerpc/v1, converted to and from protobuf-c
//   FaceRPCCore     status codes, RPCError, method names, limits, endpoints, SHA-256; no NIO, no codec
//   FaceRPCWire     length-prefixed framing and envelope codec on NIOCore (no syscalls)
//   FaceRPCKernels  handwritten SIMD kernels (conv, GEMM, pooling, LRN, ...)
//   FaceRPCEngine   network graphs, buffer planning, execution, native weight format
//   FaceRPCONNX     ONNX import (minimal schema subset through protobuf-c)
//   FaceRPCRegistry named models, versions, health, hot swap
//   FaceRPCImage    JPEG decode/encode (libturbojpeg), EXIF, resampling, face chips
//   FaceRPCDetection face detection (MTCNN on our engine), 5-point landmarks
//   FaceRPCPredict  the Predict pipeline: compute pool, dynamic batching, response building
//   FaceRPCTraining in-server training: backward passes, optimisers, data, jobs, checkpoints, evaluation
//   FaceRPCServer   SwiftNIO server: sockets, connections, dispatch, services
//   FaceRPCClient   SwiftNIO client used by the CLI and tests
//   FaceRPCMetrics  metric names and instruments on swift-metrics (backend-neutral)
//   FaceRPCPrometheus the Prometheus backend and its HTTP exporter (GET /metrics)
//   FaceRPCCLI      the `facerpc` command
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "facerpc",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "facerpc", targets: ["FaceRPCCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: C interop (generated code; do not edit by hand)
        .target(
            name: "CFaceRPCProtos",
            path: "Sources/CFaceRPCProtos",
            
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),
        .target(
            name: "CONNXProtos",
            path: "Sources/CONNXProtos",
            
            linkerSettings: [.linkedLibrary("protobuf-c")]
        ),

        .systemLibrary(
            name: "CTurboJPEG",
            path: "Sources/CTurboJPEG",
            pkgConfig: "libturbojpeg",
            providers: [.apt(["libturbojpeg0-dev"])]
        ),

        // MARK: Protocol
        .target(
            name: "FaceRPCProtos",
            dependencies: ["CFaceRPCProtos"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FaceRPCCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FaceRPCWire",
            dependencies: [
                "FaceRPCCore", "FaceRPCProtos",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // Runs per frame on the event loop; ByteBuffer's inlined storage
            // accesses would otherwise each pay a run-time exclusivity check.
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),

        // MARK: Inference
        .target(
            name: "FaceRPCKernels",
            swiftSettings: swiftSettings + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "FaceRPCEngine",
            dependencies: ["FaceRPCKernels"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FaceRPCONNX",
            dependencies: ["CONNXProtos", "FaceRPCEngine"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FaceRPCRegistry",
            dependencies: [
                "FaceRPCEngine", "FaceRPCONNX", "FaceRPCCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Images and faces
        .target(
            name: "FaceRPCImage",
            dependencies: ["CTurboJPEG"],
            swiftSettings: swiftSettings + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "FaceRPCDetection",
            dependencies: ["FaceRPCCore", "FaceRPCImage", "FaceRPCEngine", "FaceRPCONNX"],
            swiftSettings: swiftSettings + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),

        .target(
            name: "FaceRPCPredict",
            dependencies: [
                "FaceRPCCore", "FaceRPCProtos", "FaceRPCImage", "FaceRPCDetection", "FaceRPCRegistry", "FaceRPCEngine",
                "FaceRPCMetrics",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Training
        .target(
            name: "FaceRPCTraining",
            dependencies: [
                "FaceRPCCore", "FaceRPCKernels", "FaceRPCEngine", "FaceRPCImage",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),

        // MARK: Operations
        .target(
            name: "FaceRPCMetrics",
            dependencies: [
                "FaceRPCCore",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "FaceRPCPrometheus",
            dependencies: [
                "FaceRPCMetrics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Serving
        .target(
            name: "FaceRPCServer",
            dependencies: [
                "FaceRPCCore", "FaceRPCWire", "FaceRPCProtos", "FaceRPCRegistry", "FaceRPCTraining", "FaceRPCEngine", "FaceRPCMetrics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Atomics", package: "swift-atomics"),
            ],
            // The connection handler's state is touched only on its event loop;
            // run-time exclusivity checks on it cost ~5% of a health call.
            swiftSettings: swiftSettings + [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]
        ),
        .target(
            name: "FaceRPCClient",
            dependencies: [
                "FaceRPCCore", "FaceRPCWire", "FaceRPCProtos",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FaceRPCCLI",
            dependencies: [
                "FaceRPCServer", "FaceRPCClient", "FaceRPCRegistry", "FaceRPCEngine", "FaceRPCONNX", "FaceRPCPredict", "FaceRPCImage",
                "FaceRPCTraining", "FaceRPCMetrics", "FaceRPCPrometheus", "FaceRPCKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Fuzzing (Fuzz/, `make fuzz`)
        // Built by `make fuzz` with -sanitize=fuzzer,address -parse-as-library -DFUZZING as
        // libFuzzer targets; in every other build each is a program that replays the files
        // or folders it is given (the committed corpora and crash regressions, in `make test`).
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"], path: "Fuzz/Support", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-wire", dependencies: [
            "FuzzSupport", "FaceRPCWire", "FaceRPCProtos", "FaceRPCCore", .product(name: "NIOCore", package: "swift-nio"),
        ], path: "Fuzz/Wire", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-jpeg", dependencies: ["FuzzSupport", "FaceRPCImage"], path: "Fuzz/JPEG", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-onnx", dependencies: ["FuzzSupport", "FaceRPCONNX"], path: "Fuzz/ONNX", swiftSettings: swiftSettings),
        .executableTarget(name: "fuzz-checkpoint", dependencies: ["FuzzSupport", "FaceRPCTraining"], path: "Fuzz/Checkpoint",
                          swiftSettings: swiftSettings),

        // MARK: Tests (the tree mirrors Sources/)
        .testTarget(name: "FaceRPCCoreTests", dependencies: ["FaceRPCCore"]),
        .testTarget(name: "FaceRPCProtosTests", dependencies: ["FaceRPCProtos"]),
        .testTarget(name: "FaceRPCWireTests", dependencies: [
            "FaceRPCWire", "FaceRPCCore", "FaceRPCProtos", "FaceRPCKernels",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "FaceRPCKernelsTests", dependencies: ["FaceRPCKernels"]),
        .testTarget(name: "FaceRPCEngineTests", dependencies: ["FaceRPCEngine", "FaceRPCKernels"]),
        .testTarget(name: "FaceRPCONNXTests", dependencies: ["FaceRPCONNX", "FaceRPCEngine", "FaceRPCTestSupport"]),
        .testTarget(name: "FaceRPCImageTests", dependencies: ["FaceRPCImage", "CTurboJPEG"], exclude: ["Fixtures"]),
        .testTarget(name: "FaceRPCDetectionTests", dependencies: ["FaceRPCDetection", "FaceRPCImage", "FaceRPCEngine"]),
        .testTarget(name: "FaceRPCPredictTests", dependencies: ["FaceRPCPredict", "FaceRPCCore", "FaceRPCRegistry", "FaceRPCEngine"]),
        .testTarget(name: "FaceRPCRegistryTests", dependencies: ["FaceRPCRegistry", "FaceRPCEngine"]),
        .testTarget(name: "FaceRPCTrainingTests", dependencies: [
            "FaceRPCTraining", "FaceRPCKernels", "FaceRPCEngine", "FaceRPCCore", "FaceRPCImage",
        ]),
        .testTarget(name: "FaceRPCCLITests", dependencies: [
            "FaceRPCClient", "FaceRPCCore", "FaceRPCProtos", "FaceRPCTestSupport",
        ]),
        // Helpers several test targets share (not a test target itself).
        .target(name: "FaceRPCTestSupport", path: "Tests/FaceRPCTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "FaceRPCMetricsTests", dependencies: [
            "FaceRPCMetrics", "FaceRPCCore", "FaceRPCTestSupport",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        .testTarget(name: "FaceRPCPrometheusTests", dependencies: [
            "FaceRPCPrometheus", "FaceRPCMetrics", "FaceRPCClient", "FaceRPCCore", "FaceRPCProtos", "FaceRPCTestSupport",
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .testTarget(name: "FaceRPCServerTests", dependencies: [
            "FaceRPCServer", "FaceRPCClient", "FaceRPCCore", "FaceRPCProtos", "FaceRPCRegistry", "FaceRPCPredict", "FaceRPCTraining",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
    ]
)
