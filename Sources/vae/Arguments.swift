import ArgumentParser
import ImageIO
import NN
import VAE

// The library's types as command-line argument types: each parses in one place (its own
// initializer), and ArgumentParser names the option and the value when one does not parse.

extension DataSpec: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension MaskGenerator: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(parsing: argument) }
    public var defaultValueDescription: String { description }
}

extension RunTask: ExpressibleByArgument {}
extension ModelCondition: ExpressibleByArgument {}
extension ConditionalTask: ExpressibleByArgument {}
extension Architecture: ExpressibleByArgument {}
extension Likelihood: ExpressibleByArgument {}
extension DataSplit: ExpressibleByArgument {}
extension CompletionMethod: ExpressibleByArgument {}
extension ModelFamily: ExpressibleByArgument {}
extension VectorQuantizer.CodebookUpdate: ExpressibleByArgument {}
