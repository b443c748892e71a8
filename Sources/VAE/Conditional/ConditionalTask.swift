/// What a conditional VAE is trained to do, and so what its target and condition are.
///
/// - inpaint: target x (the image, C channels); condition [x with its holes pre-filled; m] (C + 1
///   channels), with m = 1 where a pixel is missing (see `ConditionalBatch`).
/// - colorize: target the chroma (Cb, Cr) of full-range YCbCr; condition the luminance Y.
public enum ConditionalTask: String, Codable, CaseIterable, Sendable {
    case inpaint
    case colorize

    /// The task a run directory's `RunConfig.task` names, or nil for a plain VAE ("vae").
    public init?(runTask: String) { self.init(rawValue: runTask) }

    /// Channels of the target for images of `imageChannels` channels.
    public func targetChannels(imageChannels: Int) -> Int {
        switch self {
        case .inpaint: imageChannels
        case .colorize: 2
        }
    }

    /// Channels of the condition for images of `imageChannels` channels.
    public func conditionChannels(imageChannels: Int) -> Int {
        switch self {
        case .inpaint: imageChannels + 1
        case .colorize: 1
        }
    }
}
