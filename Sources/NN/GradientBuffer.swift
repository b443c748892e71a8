/// Every gradient of a list of parameters as a view of one contiguous tensor, so that the
/// ranks of a data-parallel run sum all of them with one collective and no copy (and a norm
/// covers them in one pass). The parameters' `grad` tensors are replaced by the views, with
/// their contents; layers reach gradients through their parameters, so they write into it.
public final class GradientBuffer {
    /// The gradients, back to back (each at an offset aligned for views; the gaps stay zero).
    public let all: Tensor
    /// The parameters whose gradients it holds, in order.
    public let parameters: [Parameter]

    /// Gathers the gradients of `parameters` (all on one device, each listed once).
    public init(_ parameters: [Parameter]) throws {
        precondition(!parameters.isEmpty, "no parameters")
        precondition(Set(parameters.map(ObjectIdentifier.init)).count == parameters.count,
                     "a parameter is listed twice")
        let device = parameters[0].grad.device
        let align = device.viewAlignment
        var offsets: [Int] = [], total = 0
        for p in parameters {
            precondition(p.grad.device === device, "parameters on different devices")
            offsets.append(total)
            total += (p.grad.capacity + align - 1) / align * align
        }
        all = try Tensor([total], on: device)
        for (p, offset) in zip(parameters, offsets) {
            let view = try Tensor(viewing: all, offset: offset, shape: p.grad.shape)
            try view.copy(from: p.grad)
            p.grad = view
        }
        self.parameters = parameters
    }

    /// Floats holding gradients (without the alignment gaps).
    public var gradientCount: Int { parameters.reduce(0) { $0 + $1.grad.count } }
}
