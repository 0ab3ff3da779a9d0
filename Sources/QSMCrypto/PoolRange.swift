/// A half-open range `[start, start + length)` of bits in a pair's key pool (the `PoolRange` event field).
public struct PoolRange: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// First bit.
    public var start: UInt64
    /// Number of bits.
    public var length: UInt64

    /// A range of `length` bits from `start`.
    public init(start: UInt64, length: UInt64) {
        self.start = start
        self.length = length
    }

    /// One past the last bit.
    public var end: UInt64 { start + length }

    /// Whether both ends fall on byte boundaries (every range this module hands out does).
    public var isByteAligned: Bool { start % 8 == 0 && length % 8 == 0 }

    /// Orders by start, then length.
    public static func < (a: PoolRange, b: PoolRange) -> Bool { (a.start, a.length) < (b.start, b.length) }

    /// `[start, end)`.
    public var description: String { "[\(start), \(end))" }
}

/// The two users sharing a key pool, in a canonical order so that (a, b) and (b, a) name the same pool.
public struct UserPair: Sendable, Hashable, CustomStringConvertible {
    /// The lesser user name (byte order).
    public let first: String
    /// The greater user name.
    public let second: String

    /// The pair of `a` and `b`, in either order.
    public init(_ a: String, _ b: String) {
        if Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) {
            (first, second) = (a, b)
        } else {
            (first, second) = (b, a)
        }
    }

    /// Whether `user` is one of the two.
    public func contains(_ user: String) -> Bool { user == first || user == second }

    /// `first+second`.
    public var description: String { "\(first)+\(second)" }
}
