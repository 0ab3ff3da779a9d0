/// One incoming method call, as a handler sees it.
public struct VarlinkCall: Sendable {
    /// The interface name, such as `org.example.ftl`.
    public var interface: String
    /// The method name without the interface, such as `Monitor`.
    public var methodName: String
    /// The call's parameters, already checked against the method's input types.
    public var parameters: JSONObject
    /// The client wants no reply (`"oneway": true`): whatever the handler returns or throws is dropped.
    public var oneway: Bool
    /// The client accepts several replies (`"more": true`).
    public var more: Bool
    /// The client asked for a connection upgrade (`"upgrade": true`).
    public var upgrade: Bool
    /// The credentials of the calling process (`SO_PEERCRED`).
    public var peer: PeerCredentials

    /// Creates a call (for tests and in-process dispatch).
    public init(
        interface: String, methodName: String, parameters: JSONObject = [:], oneway: Bool = false,
        more: Bool = false, upgrade: Bool = false, peer: PeerCredentials
    ) {
        self.interface = interface
        self.methodName = methodName
        self.parameters = parameters
        self.oneway = oneway
        self.more = more
        self.upgrade = upgrade
        self.peer = peer
    }

    /// The fully qualified method name, such as `org.example.ftl.Monitor`.
    public var method: String { "\(interface).\(methodName)" }

    /// The parameter named `name`, if present.
    public subscript(name: String) -> JSONValue? { parameters[name] }
}

/// Sends the intermediate replies of a streaming call (those with `"continues": true`).
///
/// The value a handler returns is always the last reply. ``send(_:)`` waits until the connection can take
/// more data, so a client that does not read slows its handler down instead of filling memory; it throws
/// when the connection is gone (the handler should then stop) or when the call did not ask for `more`.
public struct VarlinkReplier: Sendable {
    let sink: @Sendable (JSONObject) async throws -> Void

    /// Whether the call accepts intermediate replies (it was made with `more`).
    public let canContinue: Bool

    init(canContinue: Bool, sink: @escaping @Sendable (JSONObject) async throws -> Void) {
        self.canContinue = canContinue
        self.sink = sink
    }

    /// Sends one reply with `"continues": true`.
    /// - Throws: ``VarlinkError/expectedMore`` when the call was not made with `more`; a channel error when the
    ///   connection is closed.
    public func send(_ parameters: JSONObject) async throws {
        guard canContinue else { throw VarlinkError.expectedMore }
        try await sink(parameters)
    }
}
