import ImageIO

extension ModelConfig {
    /// The largest image side, latent size, layer width and number of stride-2 stages a model
    /// may have: far beyond what trains on a CPU, small enough that no product overflows.
    public static let maxSide = 4096, maxLatent = 16384, maxWidth = 8192, maxStages = 12
    /// The most classes a label-conditional model may have.
    public static let maxClasses = 4096
    /// The most residual blocks per stage and latent groups per stage of a deep model.
    public static let maxBlocks = 64, maxGroups = 64

    /// Floats of the plain VAE's parameters (convolutions, the encoder head and the decoder's
    /// projection), nil on overflow. Other families are of the same order.
    var approximateParameters: Int? {
        var total = 0
        var cin = channels + (classes ?? 0)
        for w in widths {
            guard let conv = MemoryLimit.product([2, 16, cin, w]) else { return nil }
            total += conv
            cin = w
        }
        guard let dense = MemoryLimit.product([3, bottleneck.reduce(1, *), latent]) else { return nil }
        return total.addingReportingOverflow(dense).overflow ? nil : total + dense
    }

    /// Floats of activations, their gradients and convolution workspace per image, roughly.
    var approximateActivationsPerImage: Int? {
        // A label-conditional model's one-hot planes and the input they join, besides the image.
        guard let planes = MemoryLimit.product([2 * (classes ?? 0), height, width]) else { return nil }
        var total = 4 * dimensions + planes, workspace = 0
        var cin = channels + (classes ?? 0)
        for (i, w) in widths.enumerated() {
            guard let map = MemoryLimit.product([w, height >> (i + 1), width >> (i + 1)]),
                  let unfolded = MemoryLimit.product([16, cin, height >> (i + 1), width >> (i + 1)]) else { return nil }
            // A deep stage keeps a few maps per residual block and latent group besides.
            let deepMaps = deep.map { 2 * $0.blocks + 3 * ($0.groups.indices.contains(i) ? $0.groups[i] : 0) } ?? 0
            guard let stage = MemoryLimit.product([8 * (1 + deepMaps), map]),
                  !total.addingReportingOverflow(stage).overflow else { return nil }
            total += stage
            workspace = max(workspace, unfolded)
            cin = w
        }
        return total.addingReportingOverflow(workspace).overflow ? nil : total + workspace
    }

    /// Checks the geometry before anything is built: 1 or 3 channels, sides, widths and latent
    /// within the limits, stride-2 stages that divide the image, and parameters plus `batch`
    /// images of activations within `MemoryLimit`.
    /// - Throws: `VAEError` naming the field; callers add the file or flag it came from.
    public func check(batch: Int) throws {
        guard channels == 1 || channels == 3 else { throw VAEError("channels \(channels) is not 1 or 3") }
        guard (1...Self.maxSide).contains(height), (1...Self.maxSide).contains(width) else {
            throw VAEError("image size \(height)x\(width) is outside 1...\(Self.maxSide)")
        }
        guard (1...Self.maxLatent).contains(latent) else { throw VAEError("latent \(latent) is outside 1...\(Self.maxLatent)") }
        if let classes {
            guard (2...Self.maxClasses).contains(classes) else { throw VAEError("classes \(classes) is outside 2...\(Self.maxClasses)") }
            guard modelFamily == .vae else { throw VAEError("classes: only a VAE is label-conditional, not \(modelFamily.title)") }
        }
        guard widths.count <= Self.maxStages, widths.allSatisfy({ (1...Self.maxWidth).contains($0) }) else {
            throw VAEError("widths \(widths): at most \(Self.maxStages) stages of 1...\(Self.maxWidth) channels")
        }
        if modelFamily == .deep {
            guard let deep else { throw VAEError("family deep without its options (deep)") }
            guard (1...Self.maxBlocks).contains(deep.blocks), deep.groups.count <= Self.maxStages,
                  deep.groups.allSatisfy({ (0...Self.maxGroups).contains($0) }) else {
                throw VAEError("deep: blocks \(deep.blocks) must be in 1...\(Self.maxBlocks), groups \(deep.groups) each in 0...\(Self.maxGroups)")
            }
        }
        let stride = 1 << widths.count
        guard height % stride == 0, width % stride == 0 else {
            throw VAEError("\(widths.count) stride-2 stages do not divide \(height)x\(width) images")
        }
        guard let p = approximateParameters, let a = approximateActivationsPerImage,
              let total = MemoryLimit.product([a, batch]).flatMap({ $0.addingReportingOverflow(4 * p).overflow ? nil : $0 + 4 * p }),
              total <= MemoryLimit.bytes / 4 else {
            let gb = (Double(approximateParameters ?? Int.max) * 16 + Double(approximateActivationsPerImage ?? Int.max) * Double(batch) * 4) / 1e9
            throw VAEError("a \(arch) model of \(channels)x\(height)x\(width), widths \(widths), latent \(latent) at batch \(batch) needs about \(String(format: "%.1f", gb)) GB, more than the \(String(format: "%.1f", Double(MemoryLimit.bytes) / 1e9)) GB allowed (half of this machine's memory)")
        }
    }
}
