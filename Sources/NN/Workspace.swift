/// Scratch memory shared by the convolutions of a model, sized for the largest.
public final class Workspace {
    let device: Device
    private(set) var tensor: Tensor?

    public init(device: Device) { self.device = device }

    /// Grows the workspace to at least `count` floats (only while building a model).
    func reserve(_ count: Int) throws {
        if count > (tensor?.capacity ?? 0) { tensor = try Tensor([count], on: device) }
    }
}
