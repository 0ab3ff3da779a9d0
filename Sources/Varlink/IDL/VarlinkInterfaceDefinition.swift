/// A parsed `.varlink` interface description: its name, types, methods and errors.
public struct VarlinkInterfaceDefinition: Sendable {
    /// The interface name, such as `org.example.ftl`.
    public let name: String
    /// The description text exactly as given (served verbatim by `GetInterfaceDescription`).
    public let description: String
    /// The declared types by name.
    public let types: [String: VarlinkType]
    /// The declared methods by name, in declaration order in ``methodNames``.
    public let methods: [String: VarlinkMethodDefinition]
    /// Method names in declaration order.
    public let methodNames: [String]
    /// The declared errors by name.
    public let errors: [String: VarlinkErrorDefinition]

    /// Parses and checks an interface description.
    /// - Parameter description: the content of a `.varlink` file.
    /// - Throws: ``VarlinkIDLError`` when the text is not a valid interface description.
    public init(parsing description: String) throws(VarlinkIDLError) {
        var parser = IDLParser(text: description)
        let parsed = try parser.parseInterface()
        self.name = parsed.name
        self.description = description
        self.types = parsed.types
        self.methods = Dictionary(uniqueKeysWithValues: parsed.methods.map { ($0.name, $0) })
        self.methodNames = parsed.methods.map(\.name)
        self.errors = Dictionary(uniqueKeysWithValues: parsed.errors.map { ($0.name, $0) })
    }
}

/// A `.varlink` text that could not be parsed.
public struct VarlinkIDLError: Error, Sendable, CustomStringConvertible {
    /// What is wrong.
    public var message: String
    /// The 1-based line where it was noticed.
    public var line: Int

    public var description: String { "line \(line): \(message)" }
}
