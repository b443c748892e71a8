// swift-tools-version:6.0
// ConvVAE: convolutional variational autoencoders in Swift on C kernels.
//
// Platform: Linux on x86-64 with AVX2 and FMA (x86-64-v3: Intel since 2013, AMD since 2015), as
// the C flags below say; the AVX-512 kernels are chosen at run time. System libraries come from
// Debian's packages (scripts/setup).
import PackageDescription

let package = Package(
    name: "ConvVAE",
    products: [
        .executable(name: "vae", targets: ["vae"]),
        .library(name: "VAE", targets: ["VAE"]),
        .library(name: "CKernels", targets: ["CKernels"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries from Debian.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // C kernels: CPU (im2col + OpenBLAS) and OpenCL (loaded at run time) backends.
        .target(
            name: "CKernels",
            dependencies: ["COpenBLAS"],
            path: "Sources/CKernels",
            cSettings: [.unsafeFlags(["-O3", "-march=x86-64-v3", "-ffp-contract=fast", "-fno-trapping-math", "-fno-math-errno"],
                                     .when(platforms: [.linux]))],
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread"), .linkedLibrary("m")]
        ),
        // NN is the only Swift module that calls the C API.
        .target(name: "NN", dependencies: ["CKernels"]),
        .target(name: "CImageShims", dependencies: ["CJPEG"]),
        // -O even in debug builds: decoding and converting whole datasets is 10x slower unoptimized.
        .target(name: "ImageIO", dependencies: ["CPNG", "CJPEG", "CZlib", "CImageShims"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "VAE", dependencies: ["NN", "ImageIO"]),
        .executableTarget(
            name: "vae",
            dependencies: ["VAE", "NN", "ImageIO", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // Tests. The C checks are shared with ctest (Tests/CKernelChecks); TestSupport holds what
        // the Swift suites share (the data's location, temporary folders, seeded numbers,
        // gradient checks).
        .target(name: "CKernelChecks", dependencies: ["CKernels"], path: "Tests/CKernelChecks",
                exclude: ["CMakeLists.txt"]),
        .target(name: "TestSupport", dependencies: ["NN"], path: "Tests/TestSupport"),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernelChecks", "CKernels"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"]),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO", "TestSupport"]),
        .testTarget(name: "VAETests", dependencies: ["VAE", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["vae", "VAE", "TestSupport"]),

        // The readers' entry points for fuzzing (Fuzz/, scripts/fuzz); the tests replay the seed
        // corpus and every input found to crash through them.
        .target(name: "FuzzTargets", dependencies: ["ImageIO", "NN", "VAE"], path: "Fuzz/Targets"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets", "TestSupport"]),
    ]
)

// scripts/fuzz sets CONVVAE_FUZZ and builds with -sanitize=fuzzer,address: then a libFuzzer
// driver joins the package (libFuzzer brings its own main).
if Context.environment["CONVVAE_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/Driver",
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
}
