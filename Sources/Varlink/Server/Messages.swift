/// A call as it arrives on the wire: `{"method": ..., "parameters": {...}, "oneway": ..., "more": ..., "upgrade": ...}`.
struct CallMessage {
    var interface: String
    var methodName: String
    var parameters: JSONValue?
    var oneway: Bool
    var more: Bool
    var upgrade: Bool

    var method: String { "\(interface).\(methodName)" }

    /// Reads a call from a parsed frame.
    /// - Throws: ``VarlinkError/invalidMessage(_:)`` when the frame is not a call at all.
    init(_ value: JSONValue) throws(VarlinkError) {
        guard case .object(let members) = value else { throw .invalidMessage("a call must be a JSON object") }
        guard case .string(let method)? = members["method"] else {
            throw .invalidMessage("a call needs a string member \"method\"")
        }
        guard let dot = method.lastIndex(of: "."), dot != method.startIndex, method.index(after: dot) != method.endIndex
        else { throw .invalidMessage("\"method\" must be interface.Method") }
        self.interface = String(method[..<dot])
        self.methodName = String(method[method.index(after: dot)...])
        self.parameters = members["parameters"]
        func flag(_ name: String) throws(VarlinkError) -> Bool {
            switch members[name] {
            case nil, .null?: return false
            case .bool(let value)?: return value
            default: throw .invalidMessage("\"\(name)\" must be a boolean")
            }
        }
        self.oneway = try flag("oneway")
        self.more = try flag("more")
        self.upgrade = try flag("upgrade")
    }
}

/// Encodes replies: `{"parameters": {...}, "continues": true}` or `{"error": ..., "parameters": {...}}`, each
/// followed by the NUL that ends a Varlink message.
enum ReplyEncoder {
    static func reply(_ parameters: JSONObject, continues: Bool) -> [UInt8] {
        var members: JSONObject = ["parameters": .object(parameters)]
        if continues { members["continues"] = .bool(true) }
        return frame(members)
    }

    static func error(_ error: VarlinkError) -> [UInt8] {
        frame(["error": .string(error.name), "parameters": .object(error.parameters)])
    }

    private static func frame(_ members: JSONObject) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        JSONWriter.writeObject(members, into: &out)
        out.append(0)
        return out
    }
}
