import Foundation
import NN

extension ConditionalVAE {
    /// Rebuilds a trained conditional model from a run directory.
    /// - Parameters:
    ///   - directory: holds config.json and model.safetensors
    ///   - task: the task the caller needs; a checkpoint of another task is refused
    ///   - maxBatch: the largest batch the model will process
    public static func load(from directory: String, task: ConditionalTask, device: Device,
                            maxBatch: Int = 64) throws -> (ConditionalVAE, RunConfig) {
        let config = try Checkpoint.loadConfig(directory)
        guard let saved = config.task.conditional else {
            throw VAEError("\(directory): trained as a plain VAE (task 'vae'), not for \(task.rawValue); train one with vae train --task \(task.rawValue)")
        }
        guard saved == task else {
            throw VAEError("\(directory): trained for \(saved.rawValue), not for \(task.rawValue)")
        }
        let model = try Checkpoint.build(from: directory) {
            try ConditionalVAE(config.model, task: task, device: device, maxBatch: maxBatch, seed: 0,
                               chroma: config.conditional?.chroma,
                               headKernel: (config.conditional ?? ConditionalOptions()).headKernelSize)
        }
        try Checkpoint.load(into: model, optimizer: nil, from: directory)
        model.temperature = (config.conditional ?? ConditionalOptions()).completionTemperature
        return (model, config)
    }

    /// Draws from p(x | c) for `count` conditions: z = mu_p(c) + sigma_p(c) * eps, decoded to
    /// pixel means (the likelihood's noise is not added: it would only be pixel grain).
    /// - Parameters:
    ///   - conditions: `count` condition items (NCHW rows) on the host
    ///   - noise: `count * latent` standard normal values, one row per item; passing the same row
    ///     for neighbouring tiles of one picture makes them choose alike
    /// - Returns: `count` target items of means.
    public func sample(conditions: [Float], count: Int, noise: [Float]) throws -> [Float] {
        let L = config.latent
        precondition(conditions.count >= count * conditionItem && noise.count >= count * L, "too few conditions or noise rows")
        var result = [Float]()
        result.reserveCapacity(count * targetItem)
        for start in stride(from: 0, to: count, by: maxBatch) {
            let m = min(maxBatch, count - start)
            try conditions.withUnsafeBufferPointer {
                try loadConditions($0.baseAddress! + start * conditionItem, batch: m)
            }
            let prior = try priorForward()
            _ = try noise.withUnsafeBufferPointer { try latent.draw(from: prior, noise: $0.baseAddress! + start * L) }
            result += try targetMeans(try decode())
        }
        return result
    }
}
