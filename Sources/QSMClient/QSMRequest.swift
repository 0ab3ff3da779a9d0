/// One method of io.qsm.Broker or io.qsm.Admin: the value is the call's parameters (encoded as they are
/// named in the .varlink file; nil optionals are left out) and `Reply` the reply's.
public protocol QSMRequest: Encodable, Sendable {
    /// The reply's parameters.
    associatedtype Reply: Decodable & Sendable
    /// The qualified method name, "io.qsm.Broker.Login".
    static var method: String { get }
}

/// A method that answers with a stream of replies (called with `more`).
public protocol QSMStreamingRequest: QSMRequest {}

/// A reply without parameters.
public struct EmptyReply: Codable, Sendable, Equatable {
    public init() {}
}
