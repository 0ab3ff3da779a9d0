/// Gathers the bits of two strings at the positions a mask selects, packed in order: the one
/// operation sifting and sample removal need. Walks the set bits of each mask word.
enum Compaction {
    /// The bits of `first` and `second` where `mask` is one, as two packed strings of equal length.
    static func select(_ first: [UInt64], _ second: [UInt64], where mask: [UInt64]) -> (BitString, BitString) {
        let total = mask.reduce(0) { $0 + $1.nonzeroBitCount }
        var outFirst = [UInt64](repeating: 0, count: BitString.wordCount(total))
        var outSecond = [UInt64](repeating: 0, count: BitString.wordCount(total))
        first.withUnsafeBufferPointer { a in
            second.withUnsafeBufferPointer { b in
                mask.withUnsafeBufferPointer { m in
                    outFirst.withUnsafeMutableBufferPointer { oa in
                        outSecond.withUnsafeMutableBufferPointer { ob in
                            var accA: UInt64 = 0
                            var accB: UInt64 = 0
                            var fill: UInt64 = 0
                            var out = 0
                            for index in 0..<m.count {
                                var bits = m[index]
                                let wordA = a[index]
                                let wordB = b[index]
                                while bits != 0 {
                                    let shift = UInt64(bits.trailingZeroBitCount)
                                    accA |= (wordA >> shift & 1) << fill
                                    accB |= (wordB >> shift & 1) << fill
                                    fill += 1
                                    if fill == 64 {
                                        oa[out] = accA
                                        ob[out] = accB
                                        out += 1
                                        accA = 0
                                        accB = 0
                                        fill = 0
                                    }
                                    bits &= bits &- 1
                                }
                            }
                            if fill > 0 {
                                oa[out] = accA
                                ob[out] = accB
                            }
                        }
                    }
                }
            }
        }
        return (BitString(words: outFirst, count: total), BitString(words: outSecond, count: total))
    }
}

/// Sifting: Bob announces which qubits he detected and his bases, Alice says which bases matched; both
/// keep the detected qubits measured in Alice's basis.
enum Sifting {
    /// Alice's and Bob's sifted keys, equal in length.
    static func run(_ raw: RawTransmission) -> (alice: BitString, bob: BitString) {
        var keep = raw.detected
        for index in keep.indices { keep[index] &= ~(raw.aliceBases[index] ^ raw.bobBases[index]) }
        return Compaction.select(raw.aliceBits, raw.bobBits, where: keep)
    }

    /// Efficient BB84: the bits sifted in the key (rectilinear) basis and, apart, those sifted in the
    /// test (diagonal) basis.
    static func split(
        _ raw: RawTransmission
    ) -> (key: (alice: BitString, bob: BitString), test: (alice: BitString, bob: BitString)) {
        var key = raw.detected
        var test = raw.detected
        for index in key.indices {
            let agree = raw.detected[index] & ~(raw.aliceBases[index] ^ raw.bobBases[index])
            key[index] = agree & ~raw.aliceBases[index]
            test[index] = agree & raw.aliceBases[index]
        }
        return (
            Compaction.select(raw.aliceBits, raw.bobBits, where: key),
            Compaction.select(raw.aliceBits, raw.bobBits, where: test)
        )
    }
}
