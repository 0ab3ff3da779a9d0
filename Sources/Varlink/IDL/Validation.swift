extension VarlinkInterfaceDefinition {
    /// Checks call parameters against a method's input.
    /// - Returns: the name of the first missing or mistyped top-level parameter, or `nil` when all fit.
    public func invalidParameter(in parameters: JSONObject, for method: VarlinkMethodDefinition) -> String? {
        for field in method.input where !conforms(parameters[field.name], to: field.type) {
            return field.name
        }
        return nil
    }

    /// Whether a JSON value (or its absence, `nil`) conforms to a type of this interface.
    ///
    /// Objects may carry members the type does not declare (so newer clients can talk to older servers);
    /// recursion is bounded by the value's depth, which the frame parser limits.
    public func conforms(_ value: JSONValue?, to type: VarlinkType) -> Bool {
        if case .optional(let inner) = type {
            guard let value, value != .null else { return true }
            return conforms(value, to: inner)
        }
        guard let value else { return false }
        switch (type, value) {
        case (.bool, .bool), (.int, .int), (.float, .int), (.float, .double), (.string, .string), (.object, .object):
            return true
        case (.int, .double): return value.intValue != nil
        case (.named(let name), _):
            guard let resolved = types[name] else { return false }
            return conforms(value, to: resolved)
        case (.array(let element), .array(let elements)):
            return elements.allSatisfy { conforms($0, to: element) }
        case (.dictionary(let element), .object(let members)):
            return members.values.allSatisfy { conforms($0, to: element) }
        case (.structure(let fields), .object(let members)):
            return fields.allSatisfy { conforms(members[$0.name], to: $0.type) }
        case (.enumeration(let cases), .string(let string)): return cases.contains(string)
        default: return false
        }
    }
}
