import Broker
import Varlink

/// The `origin` parameter of Login and Register: the client address a gateway saw.
enum ClientOrigin {
    /// At most this many bytes: an IPv6 address with a zone fits.
    static let maxBytes = 64
    /// What an IPv4 or IPv6 address (with a zone) is written with; nothing a log line could be forged with.
    static let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:[]%-_".unicodeScalars)

    /// `caller` with the call's origin: trusted (keyed on by the intrusion detection) on the gateway
    /// socket, recorded as ignored elsewhere, where any local user could claim any address.
    static func apply(_ call: VarlinkCall, to caller: Caller, trusted: Bool) throws(BrokerError) -> Caller {
        guard let value = call["origin"], !value.isNull else { return caller }
        guard let origin = value.stringValue else { throw .invalidParameter(name: "origin", reason: "must be a string") }
        guard !origin.isEmpty, origin.utf8.count <= maxBytes,
              origin.unicodeScalars.allSatisfy(allowed.contains)
        else {
            throw .invalidParameter(name: "origin", reason: "must be an IP address of at most \(maxBytes) bytes")
        }
        var caller = caller
        if trusted { caller.origin = origin } else { caller.ignoredOrigin = origin }
        return caller
    }
}
