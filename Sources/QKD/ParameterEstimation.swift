/// Parameter estimation: Alice and Bob disclose a random sample of the sifted bits, count the
/// disagreements and discard the sample. The bound on the key's error rate is the exact hypergeometric
/// one (`SamplingBound`); the margin reported is how far it lies above the sample's rate.
enum ParameterEstimation {
    struct Result {
        var aliceKey: BitString
        var bobKey: BitString
        var sampleSize: Int
        var sampleErrors: Int
        var qber: Double
        var margin: Double
        var qberBound: Double
    }

    /// Efficient BB84: every bit sifted in the test basis is the sample, and the key is every bit sifted
    /// in the key basis. The sample is a random subset of the sifted bits only in the sense Tomamichel et
    /// al. need: which basis each qubit was prepared in is random and hidden until sifting.
    static func run(
        key: (alice: BitString, bob: BitString), test: (alice: BitString, bob: BitString), failureProbability: Double
    ) -> Result {
        let sampleErrors = test.alice.hammingDistance(to: test.bob)
        let qber = Double(sampleErrors) / Double(test.alice.count)
        let bound = SamplingBound.errorRateBound(
            keyBits: key.alice.count, sampleBits: test.alice.count, sampleErrors: sampleErrors,
            failureProbability: failureProbability)
        return Result(
            aliceKey: key.alice, bobKey: key.bob, sampleSize: test.alice.count, sampleErrors: sampleErrors, qber: qber,
            margin: max(0, bound - qber), qberBound: bound)
    }

    /// Samples `sampleSize` distinct random positions of the sifted keys (0 < sampleSize < count).
    static func run(
        alice: BitString, bob: BitString, sampleSize: Int, failureProbability: Double,
        using generator: inout some RandomNumberGenerator
    ) -> Result {
        let count = alice.count
        // Mark `marked` random distinct positions (rejection on a bitset, at most half the string), then
        // invert when the sample is more than half.
        let marked = min(sampleSize, count - sampleSize)
        var mask = [UInt64](repeating: 0, count: BitString.wordCount(count))
        var placed = 0
        while placed < marked {
            let position = RandomBits.below(count, generator.next())
            let bit: UInt64 = 1 << UInt64(position & 63)
            if mask[position >> 6] & bit == 0 {
                mask[position >> 6] |= bit
                placed += 1
            }
        }
        if marked != sampleSize { mask = BitString(words: mask.map { ~$0 }, count: count).words }
        var sampleErrors = 0
        var keep = mask
        for index in mask.indices {
            sampleErrors += ((alice.words[index] ^ bob.words[index]) & mask[index]).nonzeroBitCount
            keep[index] = ~mask[index]
        }
        keep = BitString(words: keep, count: count).words
        let (aliceKey, bobKey) = Compaction.select(alice.words, bob.words, where: keep)
        let qber = Double(sampleErrors) / Double(sampleSize)
        let bound = SamplingBound.errorRateBound(
            keyBits: aliceKey.count, sampleBits: sampleSize, sampleErrors: sampleErrors,
            failureProbability: failureProbability)
        return Result(
            aliceKey: aliceKey, bobKey: bobKey, sampleSize: sampleSize, sampleErrors: sampleErrors, qber: qber,
            margin: max(0, bound - qber), qberBound: bound)
    }
}
