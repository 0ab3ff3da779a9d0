/// A method implementation: gets the call and a replier for intermediate replies, returns the last reply's
/// parameters, or throws a ``VarlinkError`` (or a ``VarlinkErrorConvertible``).
public typealias VarlinkMethodHandler = @Sendable (VarlinkCall, VarlinkReplier) async throws -> JSONObject

/// Decides whether a call may proceed; sees the peer credentials. Returning `false` answers
/// `org.varlink.service.PermissionDenied`; throwing a ``VarlinkError`` answers that error.
public typealias VarlinkAuthorization = @Sendable (VarlinkCall) async throws -> Bool

/// An interface a server provides: its `.varlink` description and a handler per method.
///
/// ```swift
/// var broker = try VarlinkInterface(description: text)
/// broker.authorize { call in call.peer.uid == 0 }
/// broker.method("Ping") { call in ["pong": call["ping"] ?? nil] }
/// broker.streamingMethod("Watch") { call, replier in
///     for update in updates { try await replier.send(["value": update]) }
///     return ["value": last]
/// }
/// ```
public struct VarlinkInterface: Sendable {
    struct Entry: Sendable {
        var requiresMore: Bool
        var handler: VarlinkMethodHandler
    }

    /// The parsed description.
    public let definition: VarlinkInterfaceDefinition
    var entries: [String: Entry] = [:]
    var authorization: VarlinkAuthorization?

    /// The interface name from the description.
    public var name: String { definition.name }

    /// Creates an interface from the content of its `.varlink` file (served verbatim by introspection).
    /// - Throws: ``VarlinkIDLError`` when the description does not parse.
    public init(description: String) throws(VarlinkIDLError) {
        self.definition = try VarlinkInterfaceDefinition(parsing: description)
    }

    /// Sets the authorization hook, consulted before every call of this interface (after parameter checks).
    public mutating func authorize(_ hook: @escaping VarlinkAuthorization) {
        authorization = hook
    }

    /// Registers the handler of a method answering with one reply.
    /// - Parameters:
    ///   - name: a method declared in the description (a precondition).
    ///   - handler: returns the reply's parameters or throws an error reply.
    public mutating func method(_ name: String, _ handler: @escaping @Sendable (VarlinkCall) async throws -> JSONObject) {
        register(name, requiresMore: false) { call, _ in try await handler(call) }
    }

    /// Registers the handler of a method that streams replies.
    /// - Parameters:
    ///   - name: a method declared in the description (a precondition).
    ///   - requiresMore: when true (the default) a call without `more` gets `ExpectedMore` and the handler
    ///     is not run; when false the handler checks ``VarlinkReplier/canContinue`` itself.
    ///   - handler: sends intermediate replies through the replier and returns the last one.
    public mutating func streamingMethod(
        _ name: String, requiresMore: Bool = true, _ handler: @escaping VarlinkMethodHandler
    ) {
        register(name, requiresMore: requiresMore, handler)
    }

    private mutating func register(_ name: String, requiresMore: Bool, _ handler: @escaping VarlinkMethodHandler) {
        precondition(definition.methods[name] != nil, "\(definition.name) declares no method \(name)")
        entries[name] = Entry(requiresMore: requiresMore, handler: handler)
    }
}
