import ImageIO
import NN
import VAE

/// The readers a hostile file reaches, each one entry point from bytes: what libFuzzer drives
/// (Fuzz/Driver, `scripts/fuzz`) and what the tests replay over the seed corpus and every input
/// the fuzzer found to crash (the seeds of Fuzz/make-corpus, Fuzz/regressions).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case safetensors, config, state, idx, cifar, png, jpeg, mask

    /// Feeds `bytes` to the reader. An error is the expected outcome of bad input and is
    /// returned; a crash, a hang or a runaway allocation is what the fuzzer looks for.
    @discardableResult
    public func run(_ bytes: [UInt8]) -> Error? {
        do {
            switch self {
            case .safetensors:
                _ = try? SafeTensors.decodeMetadata(bytes)
                _ = try SafeTensors.decode(bytes)
            case .config: _ = try Checkpoint.decodeConfig(bytes)
            case .state: _ = try Checkpoint.decodeState(bytes)
            case .idx:
                if (try? IDX.decodeLabels(bytes)) == nil { _ = try IDX.decodeImages(bytes) }
            case .cifar: _ = try ImageSet.decodeCIFAR10(bytes)
            case .png: _ = try Image.decodePNG(bytes)
            case .jpeg: _ = try Image.decodeJPEG(bytes)
            case .mask: _ = try Mask.decode(bytes, width: 32, height: 24)
            }
            return nil
        } catch {
            return error
        }
    }
}
