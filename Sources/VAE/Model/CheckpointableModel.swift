import NN

/// A model whose weights a run directory holds: Checkpoint saves and loads any of these.
public protocol CheckpointableModel: AnyObject {
    /// The architecture (its `arch` names the checkpoint's weights file metadata).
    var config: ModelConfig { get }
    /// Every trainable parameter, in checkpoint order.
    var parameters: [Parameter] { get }
    /// State that is not trained by the optimizer but saved with the weights (a VQ-VAE's
    /// moving averages), by name.
    var buffers: [(name: String, tensor: Tensor)] { get }
}

extension CheckpointableModel {
    public var buffers: [(name: String, tensor: Tensor)] { [] }

    /// Floats of trainable parameters.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}
