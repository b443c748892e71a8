import NN

/// How `vae inpaint` and `vae evaluate --task inpaint` fill holes: a conditional model trained
/// for the task, or any plain VAE by imputation.
public enum CompletionMethod: String, CaseIterable, Sendable {
    /// The conditional model when the checkpoint is one, else Metropolis-within-Gibbs.
    case auto
    case conditional
    case pseudoGibbs = "pseudo-gibbs"
    case mwg

    /// The completer a run directory gives for `task` by this method.
    /// - Parameters:
    ///   - checkpoint: the run directory
    ///   - iterations: imputation chain length (plain VAEs)
    ///   - temperature: the conditional model's latent noise scale (1: samples of p(z | c)); nil
    ///     keeps the run's (`ConditionalOptions.temperature`)
    ///   - rebalancing: a colorization model's read-out of its color bins (see
    ///     `ChromaBins.rebalancing`); nil keeps the run's
    /// - Returns: the completer, the run's configuration and the method's name.
    /// - Throws: `VAEError` when the checkpoint cannot do the task by this method.
    public func completer(checkpoint: String, task: ConditionalTask, iterations: Int, temperature: Float? = nil,
                          rebalancing: Float? = nil, device: Device) throws
        -> (TileCompleter, RunConfig, String) {
        let config = try Checkpoint.loadConfig(checkpoint)
        if let trained = config.task.conditional {
            guard trained == task else {
                throw VAEError("\(checkpoint): trained for \(trained.rawValue), not for \(task.rawValue)")
            }
            guard self == .auto || self == .conditional else {
                throw VAEError("\(checkpoint): --method \(rawValue) needs a plain VAE checkpoint; this one is a conditional model (use --method conditional)")
            }
            let (model, config) = try ConditionalVAE.load(from: checkpoint, task: task, device: device)
            if let temperature { model.temperature = temperature }
            if let rebalancing {
                guard model.chroma != nil else {
                    throw VAEError("\(checkpoint): --rebalancing applies to colorization with color bins (vae train --task colorize --color bins)")
                }
                model.chroma?.rebalancing = rebalancing
            }
            return (model, config, "conditional")
        }
        guard task == .inpaint else {
            throw VAEError("\(checkpoint): trained as a plain VAE (task 'vae'), which cannot colorize; train one with vae train --task colorize")
        }
        guard self != .conditional else {
            throw VAEError("\(checkpoint): --method conditional needs a checkpoint trained with --task inpaint; this one is a plain VAE (use pseudo-gibbs or mwg)")
        }
        guard rebalancing == nil else {
            throw VAEError("\(checkpoint): --rebalancing applies to colorization with color bins; this one is a plain VAE")
        }
        guard temperature == nil else {
            throw VAEError("\(checkpoint): --temperature applies to conditional models (vae train --task \(task.rawValue)); this one is a plain VAE")
        }
        guard config.model.classes == nil else {
            throw VAEError("\(checkpoint): a label-conditional VAE; imputation needs an unconditional one")
        }
        let (vae, _) = try ConvVAE.load(from: checkpoint, device: device, maxBatch: 128,
                                        purpose: "inpainting by --method \(self == .pseudoGibbs ? "pseudo-gibbs" : "mwg") needs a shallow VAE (vae train without --arch deep)")
        let chosen: ImputationMethod = self == .pseudoGibbs ? .pseudoGibbs : .metropolisWithinGibbs
        return (Imputer(model: vae, method: chosen, iterations: iterations), config, chosen.rawValue)
    }
}
