import Foundation
import ImageIO

/// One line of metrics.csv.
public struct EpochMetrics: Sendable {
    public var epoch: Int
    public var step: Int64
    public var trainLoss: Double, trainReconstruction: Double, trainKL: Double
    public var valLoss: Double, valReconstruction: Double, valKL: Double
    public var bitsPerDim: Double
    public var imagesPerSecond: Double
    public var seconds: Double
    /// A family's own validation figures, as extra columns after `seconds`.
    public var extras: [(name: String, value: Double)] = []

    static let header = "epoch,step,train_loss,train_rec,train_kl,val_loss,val_rec,val_kl,val_bits_per_dim,images_per_s,seconds"
    var csv: String {
        let values = [trainLoss, trainReconstruction, trainKL, valLoss, valReconstruction, valKL, bitsPerDim,
                      imagesPerSecond, seconds] + extras.map(\.value)
        return ([String(epoch), String(step)] + values.map { String(format: "%.4f", $0) }).joined(separator: ",")
    }

    /// metrics.csv's content: the header (with the extras' names of the last epoch) and a line per epoch.
    static func csv(_ history: [EpochMetrics]) -> [UInt8] {
        let names = history.last?.extras.map(\.name) ?? []
        return Array((([([header] + names).joined(separator: ",")] + history.map(\.csv)).joined(separator: "\n") + "\n").utf8)
    }

    /// Reads the metrics.csv of a run directory (empty when there is none), keeping the epochs
    /// up to `step` (a checkpoint's own).
    static func read(_ directory: String, upTo step: Int64) -> [EpochMetrics] {
        let file = (directory as NSString).appendingPathComponent(Checkpoint.metricsFile)
        guard let bytes = try? FileIO.readBytes(file, limit: 1 << 26) else { return [] }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        let names = lines.first.map { $0.split(separator: ",").dropFirst(11).map(String.init) } ?? []
        return lines.dropFirst().compactMap { line in
            let f = line.split(separator: ",").map(String.init)
            guard f.count == 11 + names.count, let e = Int(f[0]), let s = Int64(f[1]), s <= step else { return nil }
            let v = f[2...].map { Double($0) ?? .nan }
            return EpochMetrics(epoch: e, step: s, trainLoss: v[0], trainReconstruction: v[1], trainKL: v[2], valLoss: v[3],
                                valReconstruction: v[4], valKL: v[5], bitsPerDim: v[6], imagesPerSecond: v[7], seconds: v[8],
                                extras: Array(zip(names, v[9...])).map { (name: $0.0, value: $0.1) })
        }
    }
}
