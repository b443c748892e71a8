import ImageIO
import NN

extension ImageSet {
    /// Copies the images `indices` into `tensor` as its batch: straight into its host memory
    /// where the device shares it, else through `staging` (room for the batch), so a training
    /// step allocates nothing.
    func load(_ indices: some Collection<Int>, into tensor: Tensor, staging: UnsafeMutablePointer<Float>) throws {
        let item = tensor.itemCount
        tensor.setBatch(indices.count)
        if let host = tensor.host {
            copyBatch(indices: indices, into: host)
        } else {
            copyBatch(indices: indices, into: staging)
            try tensor.write(from: staging, count: indices.count * item)
        }
    }
}
