import Foundation
import NN

extension Communicator {
    /// Rank 0's result of `make`, on every rank: rank 0 runs it (reading the run directory,
    /// say) and sends the value as JSON, or its error, which every rank then throws.
    func shared<T: Codable>(_ make: () throws -> T) throws -> T {
        guard size > 1 else { return try make() }
        var result: Result<T, Error> = .failure(VAEError("rank \(rank): nothing received from rank 0"))
        var message: [UInt8] = []
        if isRoot {
            result = Result { try make() }
            switch result {
            case .success(let value): message = [0] + Array(try JSONEncoder().encode(value))
            case .failure(let error): message = [1] + Array("\(error)".utf8)
            }
        }
        let received = try broadcast(message)
        if isRoot { return try result.get() }
        guard let kind = received.first else { throw VAEError("rank \(rank): an empty message from rank 0") }
        let body = Data(received.dropFirst())
        if kind == 1 { throw VAEError("rank 0: " + String(decoding: body, as: UTF8.self)) }
        do { return try JSONDecoder().decode(T.self, from: body) } catch {
            throw VAEError("rank \(rank): cannot read rank 0's \(T.self) (\(error.localizedDescription))")
        }
    }
}
