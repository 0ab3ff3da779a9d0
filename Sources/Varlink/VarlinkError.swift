/// An error reply: a fully qualified error name (`interface.ErrorName`) and its parameters.
///
/// Handlers throw it to answer a call with an error declared in their interface, or one of the standard
/// errors below. Any other error thrown by a handler becomes ``internalError`` (and is logged).
public struct VarlinkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The fully qualified error name, such as `org.varlink.service.InvalidParameter`.
    public var name: String
    /// The error's parameters.
    public var parameters: JSONObject

    /// Creates an error reply.
    /// - Parameters:
    ///   - name: the fully qualified name (`interface.Error`).
    ///   - parameters: the parameters the interface declares for this error.
    public init(_ name: String, parameters: JSONObject = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String { "\(name) \(JSONValue.object(parameters).jsonText)" }

    /// `org.varlink.service.InterfaceNotFound`: the service does not provide this interface.
    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InterfaceNotFound", parameters: ["interface": .string(interface)])
    }

    /// `org.varlink.service.MethodNotFound`: the interface has no such method (`method` is fully qualified).
    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError("org.varlink.service.MethodNotFound", parameters: ["method": .string(method)])
    }

    /// `org.varlink.service.MethodNotImplemented`: declared in the interface, but no handler is registered.
    public static func methodNotImplemented(_ method: String) -> VarlinkError {
        VarlinkError("org.varlink.service.MethodNotImplemented", parameters: ["method": .string(method)])
    }

    /// `org.varlink.service.InvalidParameter`: a parameter is missing, mistyped or unacceptable.
    public static func invalidParameter(_ parameter: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InvalidParameter", parameters: ["parameter": .string(parameter)])
    }

    /// `org.varlink.service.PermissionDenied`: the peer may not call this method.
    public static let permissionDenied = VarlinkError("org.varlink.service.PermissionDenied")

    /// `org.varlink.service.ExpectedMore`: the method streams its replies and must be called with `more`.
    public static let expectedMore = VarlinkError("org.varlink.service.ExpectedMore")

    /// `org.varlink.server.InternalError`: a handler failed with an error that is not a Varlink error.
    public static let internalError = VarlinkError("org.varlink.server.InternalError")

    /// `org.varlink.server.InvalidMessage`: the frame is not a JSON call (the connection is closed after it).
    public static func invalidMessage(_ reason: String) -> VarlinkError {
        VarlinkError("org.varlink.server.InvalidMessage", parameters: ["reason": .string(reason)])
    }

    /// `org.varlink.server.TooManyCalls`: the peer's uid already has `limit` calls running; the connection
    /// stays open and the call may be made again.
    public static func tooManyCalls(limit: Int) -> VarlinkError {
        VarlinkError("org.varlink.server.TooManyCalls", parameters: ["limit": .int(limit)])
    }

    /// `org.varlink.server.TooManyStreams`: the peer's uid already has `limit` calls with `more` running;
    /// the connection stays open and the call may be made again once one of them ends.
    public static func tooManyStreams(limit: Int) -> VarlinkError {
        VarlinkError("org.varlink.server.TooManyStreams", parameters: ["limit": .int(limit)])
    }

    /// `org.varlink.server.FrameTooLarge`: a message exceeded the frame limit (the connection is closed after it).
    public static func frameTooLarge(limit: Int) -> VarlinkError {
        VarlinkError("org.varlink.server.FrameTooLarge", parameters: ["limit": .int(limit)])
    }
}

/// An error type that knows its Varlink error reply, so handlers can throw their own error enums.
public protocol VarlinkErrorConvertible: Error {
    /// The error reply to send.
    var varlinkError: VarlinkError { get }
}
