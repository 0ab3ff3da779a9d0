public import Foundation

/// The checks verify makes on each stored event, whichever engine stored it: positions dense, the
/// record decodes and names its position, times never go backwards, and the stored chain hash is
/// h(n) = SHA-256(h(n-1) || be64(n) || record). One copy, so both backends verify alike.
public struct ChainCheck: Sendable {
    /// The position the next stored event must have.
    public private(set) var expected: UInt64
    /// The chain hash after the last good event.
    public private(set) var hash: Data
    private var previousTime: Int64

    /// Starts after `position`, whose chain hash is `hash` and recorded time `time` (Int64.min: none).
    public init(after position: UInt64 = 0, hash: Data = HashChain.genesis, time: Int64 = .min) {
        expected = position + 1
        self.hash = hash
        previousTime = time
    }

    /// Checks the event stored at `position` and, when it is good, moves past it and returns its
    /// header; returns the problem otherwise (and stays where it is).
    public mutating func check<Stored: Sequence<UInt8>>(
        position: UInt64, record: Data, storedHash: Stored
    ) -> Outcome {
        guard position == expected else { return .bad(.gap(found: position)) }
        let header: RecordHeader
        do {
            header = try RecordHeader(record: record)
        } catch {
            return .bad(.undecodable("\(error)"))
        }
        let next = HashChain.next(previous: hash, position: position, record: record)
        guard next.elementsEqual(storedHash) else { return .bad(.hashMismatch) }
        guard header.position == position else { return .bad(.positionMismatch(recorded: header.position)) }
        guard header.recordedAtMicros >= previousTime else {
            return .bad(.timeWentBackwards(previousMicros: previousTime, recordedMicros: header.recordedAtMicros))
        }
        previousTime = header.recordedAtMicros
        hash = next
        expected += 1
        return .good(header)
    }

    /// What ``check(position:record:storedHash:)`` found.
    public enum Outcome: Sendable {
        /// The event holds; its decoded header.
        case good(RecordHeader)
        /// What is wrong at the position checked.
        case bad(VerificationReport.Problem)
    }

    /// The report as of now: every event before ``expected`` good, and `problem` at `position` if any.
    public func report(_ problem: VerificationReport.Problem? = nil, at position: UInt64? = nil) -> VerificationReport {
        VerificationReport(
            verifiedEvents: expected - 1, verifiedHash: hash,
            firstProblem: problem.map { (position ?? expected, $0) })
    }
}

extension VerificationReport {
    /// The report of a verify from a later position whose predecessor is missing (nothing to start from).
    public static func missing(at position: UInt64) -> VerificationReport {
        VerificationReport(verifiedEvents: position, verifiedHash: HashChain.genesis, firstProblem: (position, .missingEvent))
    }
}
