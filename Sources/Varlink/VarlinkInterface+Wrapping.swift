extension VarlinkInterface {
    /// Replaces every registered method handler with `wrap(method, handler)`: for measuring or tracing
    /// calls around the handlers without touching them. Whether a method requires `more` is kept.
    /// - Parameter wrap: gets the method's name (unqualified, such as `Login`) and its current handler.
    public mutating func wrapHandlers(
        _ wrap: (_ method: String, _ handler: @escaping VarlinkMethodHandler) -> VarlinkMethodHandler
    ) {
        for (name, entry) in entries {
            entries[name]?.handler = wrap(name, entry.handler)
        }
    }
}
