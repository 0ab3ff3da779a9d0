/// A type of the Varlink interface definition language.
public indirect enum VarlinkType: Sendable, Hashable {
    case bool
    case int
    case float
    case string
    /// Any JSON object (foreign data).
    case object
    /// A type declared with `type Name ...` in the same interface.
    case named(String)
    /// `?T`: the member may be absent or `null`.
    case optional(VarlinkType)
    /// `[]T`
    case array(VarlinkType)
    /// `[string]T`: a JSON object with values of type T (`[string]()` is a set).
    case dictionary(VarlinkType)
    /// `(name: T, ...)`
    case structure([VarlinkField])
    /// `(one, two, three)`: one of these strings.
    case enumeration([String])
}

/// A named member of a structure, of a method's input or output, or of an error.
public struct VarlinkField: Sendable, Hashable {
    /// The member name.
    public var name: String
    /// Its type.
    public var type: VarlinkType

    /// Creates a field.
    public init(name: String, type: VarlinkType) {
        self.name = name
        self.type = type
    }
}

/// A method of an interface: `method Name(input) -> (output)`.
public struct VarlinkMethodDefinition: Sendable, Hashable {
    /// The method name, without the interface.
    public var name: String
    /// The parameters of a call.
    public var input: [VarlinkField]
    /// The parameters of a reply.
    public var output: [VarlinkField]
}

/// An error of an interface: `error Name (parameters)`.
public struct VarlinkErrorDefinition: Sendable, Hashable {
    /// The error name, without the interface.
    public var name: String
    /// Its parameters.
    public var parameters: [VarlinkField]
}
