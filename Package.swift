// swift-tools-version:6.0
// ConvVAE: convolutional variational autoencoders in Swift on C kernels.
import PackageDescription

let package = Package(
    name: "ConvVAE",
    platforms: [.macOS(.v13)],
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
            cSettings: [.unsafeFlags(["-O3", "-march=x86-64-v3", "-ffp-contract=fast", "-fno-trapping-math", "-fno-math-errno"])],
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("pthread"), .linkedLibrary("m")]
        ),
        .target(name: "NN", dependencies: ["CKernels"]),
        .target(name: "CImageShims", dependencies: ["CJPEG"]),
        // -O even in debug builds: decoding and converting whole datasets is 10x slower unoptimized.
        .target(name: "ImageIO", dependencies: ["CPNG", "CJPEG", "CZlib", "CImageShims"],
                swiftSettings: [.unsafeFlags(["-O"])]),
        .target(name: "VAE", dependencies: ["NN", "ImageIO"]),
        .executableTarget(
            name: "vae",
            dependencies: ["VAE", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // Tests. The C checks are shared with ctest (Tests/CKernelChecks).
        .target(name: "CKernelChecks", dependencies: ["CKernels"], path: "Tests/CKernelChecks",
                exclude: ["CMakeLists.txt"]),
        .testTarget(name: "CKernelsTests", dependencies: ["CKernelChecks", "CKernels"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO"]),
        .testTarget(name: "VAETests", dependencies: ["VAE"]),
        .testTarget(name: "CLITests", dependencies: ["vae"]),
    ]
)
