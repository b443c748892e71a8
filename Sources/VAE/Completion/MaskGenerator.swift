import Foundation
import ImageIO
import NN

/// The kinds of generated masks.
public enum MaskKind: String, CaseIterable, Codable, Sendable {
    /// A centered box of half the width and half the height (16x16 on 32x32 images).
    case center
    /// One to four axis-aligned boxes, each side between 1/8 and 1/2 of the scale.
    case boxes
    /// Free-form brush strokes: polylines of 1 to 5 segments with a round brush
    /// (after Yu et al. 2019, "Free-form image inpainting with gated convolution").
    case strokes
    /// Each pixel missing with probability 1/2, independently (missing completely at random).
    case pixels
    /// Free-form strokes added one by one until 20-30% of the picture is missing (the
    /// irregular holes of photo inpainting benchmarks).
    case freeform

    /// The training mix of new inpainting runs: every kind, or for photos (patch training) the
    /// large holes alone (freeform, center, boxes): on BSDS500 with 20 minutes on one core its
    /// first sample beat every kind's by 0.19 / 0.21 dB (freeform / center masks at photo size,
    /// seed 1) and 0.03 / 0.04 dB (seed 2). Small holes (strokes, pixels) the harmonic fill
    /// already explains.
    public static func recipe(photos: Bool) -> [MaskKind] { photos ? [.freeform, .center, .boxes] : allCases }
}

/// Draws masks of a mix of kinds from a seeded generator, so a set of masks is reproducible.
/// Saved (in config.json) as the mix it parses from, e.g. "center,boxes".
///
/// Sizes of boxes and strokes are relative to `scale` (by default the smaller image side); on an
/// image larger than the model, pass the model's side so that the holes are ones it can fill, and
/// the number of boxes and strokes grows with the area so the coverage stays alike.
public struct MaskGenerator: Equatable, Sendable, Codable, CustomStringConvertible {
    /// The kinds drawn from, uniformly (repeat a kind to weight it).
    public let kinds: [MaskKind]

    public init(kinds: [MaskKind]) {
        precondition(!kinds.isEmpty, "a mask mix needs at least one kind")
        self.kinds = kinds
    }

    /// Parses a mix: "center", "boxes,strokes", "center,center,pixels" or "mix" (every kind).
    public init(parsing text: String) throws {
        if text == "mix" || text == "all" {
            self.init(kinds: MaskKind.allCases)
            return
        }
        var kinds: [MaskKind] = []
        for part in text.split(separator: ",") {
            guard let kind = MaskKind(rawValue: part.trimmingCharacters(in: .whitespaces)) else {
                throw VAEError("unknown mask kind '\(part)' (use \(MaskKind.allCases.map(\.rawValue).joined(separator: ", ")) or mix)")
            }
            kinds.append(kind)
        }
        guard !kinds.isEmpty else { throw VAEError("empty mask kind") }
        self.init(kinds: kinds)
    }

    /// The mix as `init(parsing:)` reads it.
    public var description: String { kinds.map(\.rawValue).joined(separator: ",") }

    public init(from decoder: Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// The generator of mask `index` of an evaluation set: depends only on (seed, index), never
    /// on the batch size or on the order of evaluation.
    public static func generator(seed: UInt64, index: Int) -> SplitMix64 {
        var rng = SplitMix64(seed: Noise.derive(Noise.Stream.masks.seed(seed), index))
        _ = rng.next()
        return rng
    }

    /// A new mask of one kind drawn from the mix.
    public func mask(width: Int, height: Int, scale: Int? = nil, rng: inout SplitMix64) -> Mask {
        var values = [Float](repeating: 0, count: width * height)
        values.withUnsafeMutableBufferPointer { draw(into: $0, width: width, height: height, scale: scale, rng: &rng) }
        return Mask(width: width, height: height, values: values)
    }

    /// Draws one mask of a kind chosen from the mix into `plane` (width x height floats,
    /// overwritten), allocating nothing, for use inside a training loop.
    public func draw(into plane: UnsafeMutableBufferPointer<Float>, width: Int, height: Int, scale: Int? = nil,
                     rng: inout SplitMix64) {
        precondition(plane.count >= width * height, "mask plane too small")
        let kind = kinds.count == 1 ? kinds[0] : kinds[rng.nextInt(below: kinds.count)]
        Self.draw(kind, into: plane, width: width, height: height, scale: scale ?? min(width, height), rng: &rng)
    }

    /// Draws one mask of `kind` into `plane` (overwritten).
    public static func draw(_ kind: MaskKind, into plane: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                            scale: Int, rng: inout SplitMix64) {
        for i in 0..<(width * height) { plane[i] = 0 }
        let s = max(scale, 4)
        // How many model-sized areas the image holds: boxes and strokes are repeated per area.
        let areas = max(1, (width * height) / (s * s))
        switch kind {
        case .center:
            let w = max(1, width / 2), h = max(1, height / 2)
            fillBox(plane, width: width, x0: (width - w) / 2, y0: (height - h) / 2, w: w, h: h)
        case .boxes:
            let count = (1 + rng.nextInt(below: 4)) * areas
            for _ in 0..<count {
                let w = max(1, min(width, s / 8 + rng.nextInt(below: s / 2 - s / 8 + 1)))
                let h = max(1, min(height, s / 8 + rng.nextInt(below: s / 2 - s / 8 + 1)))
                let x0 = rng.nextInt(below: width - w + 1), y0 = rng.nextInt(below: height - h + 1)
                fillBox(plane, width: width, x0: x0, y0: y0, w: w, h: h)
            }
        case .strokes:
            let count = (1 + rng.nextInt(below: 3)) * areas
            for _ in 0..<count { stroke(plane, width: width, height: height, scale: s, rng: &rng) }
        case .pixels:
            for i in 0..<(width * height) { plane[i] = rng.next() >> 63 == 1 ? 1 : 0 }
        case .freeform:
            // Strokes until the coverage reaches 20%; a stroke that overshoots 30% starts over.
            let n = width * height
            for _ in 0..<16 {
                for i in 0..<n { plane[i] = 0 }
                var missing = 0
                while missing * 5 < n {
                    stroke(plane, width: width, height: height, scale: s, rng: &rng)
                    missing = (0..<n).reduce(0) { $0 + (plane[$1] > 0.5 ? 1 : 0) }
                }
                if missing * 10 <= n * 3 { break }
            }
        }
    }

    /// One brush stroke: a polyline of 1 to 5 segments, sized relative to `scale`.
    static func stroke(_ plane: UnsafeMutableBufferPointer<Float>, width: Int, height: Int, scale s: Int,
                       rng: inout SplitMix64) {
        var x = Float(rng.nextInt(below: width)), y = Float(rng.nextInt(below: height))
        let radius = max(1, Float(s) * rng.nextFloat(in: 1.0 / 32...1.0 / 12))
        var angle = rng.nextFloat(in: 0...(2 * Float.pi))
        let segments = 1 + rng.nextInt(below: 5)
        for _ in 0..<segments {
            angle += rng.nextFloat(in: -1.2...1.2)
            let length = Float(s) * rng.nextFloat(in: 1.0 / 8...1.0 / 3)
            let x1 = min(max(x + length * cos(angle), 0), Float(width - 1))
            let y1 = min(max(y + length * sin(angle), 0), Float(height - 1))
            stampSegment(plane, width: width, height: height, from: (x, y), to: (x1, y1), radius: radius)
            x = x1
            y = y1
        }
    }

    static func fillBox(_ plane: UnsafeMutableBufferPointer<Float>, width: Int, x0: Int, y0: Int, w: Int, h: Int) {
        for y in y0..<(y0 + h) {
            for x in x0..<(x0 + w) { plane[y * width + x] = 1 }
        }
    }

    /// Marks every pixel whose center lies within `radius` of the segment.
    static func stampSegment(_ plane: UnsafeMutableBufferPointer<Float>, width: Int, height: Int,
                             from a: (Float, Float), to b: (Float, Float), radius: Float) {
        let xmin = max(0, Int((min(a.0, b.0) - radius).rounded(.down)))
        let xmax = min(width - 1, Int((max(a.0, b.0) + radius).rounded(.up)))
        let ymin = max(0, Int((min(a.1, b.1) - radius).rounded(.down)))
        let ymax = min(height - 1, Int((max(a.1, b.1) + radius).rounded(.up)))
        guard xmin <= xmax, ymin <= ymax else { return }
        let dx = b.0 - a.0, dy = b.1 - a.1, len2 = dx * dx + dy * dy
        for y in ymin...ymax {
            for x in xmin...xmax {
                let px = Float(x) - a.0, py = Float(y) - a.1
                let t = len2 > 0 ? min(max((px * dx + py * dy) / len2, 0), 1) : 0
                let ex = px - t * dx, ey = py - t * dy
                if ex * ex + ey * ey <= radius * radius { plane[y * width + x] = 1 }
            }
        }
    }
}
