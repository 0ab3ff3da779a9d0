import Broker
import EventLog
import Foundation
import QSMEvents
import QSMTesting
import SwiftProtobuf

/// Target `event-record`: stored records as the broker's projections, ReadEvents and the offline tools read
/// them. The input is a sequence of records, each a two-byte little-endian length and that many bytes (the
/// last one takes what is left). Each record's header and event must decode or be refused with an error;
/// a decoded event must encode to bytes that decode to the same event, render as JSON, and fold into the
/// broker's projections (as a hostile or damaged log would be replayed) without stopping the process.
public enum EventRecordFuzzer {
    /// Runs one input.
    public static func run(_ bytes: UnsafeRawBufferPointer) {
        var input = FuzzInput(bytes)
        var state = BrokerState()
        var position: UInt64 = 0
        while !input.isAtEnd, position < 16 {
            position += 1
            let record = Data(input.take(input.uint16()))
            let stored = StoredEvent(position: position, record: record)
            _ = try? stored.header()
            guard var event = try? QSMEvent(stored) else { continue }
            _ = event.eventType?.name
            if let body = event.body {
                FuzzTargets.check(body.type.rawValue > 0, "a body without a type id")
                _ = try? body.message.jsonString()
            }
            // Compared as deterministic encodings: `==` would call a NaN figure (QBER, efficiency) unequal to itself.
            var options = BinaryEncodingOptions()
            options.useDeterministicOrdering = true
            if let encoded: [UInt8] = try? event.serializedBytes(options: options) {
                let again: [UInt8]? = try? QSMEvent(serializedBytes: encoded).serializedBytes(options: options)
                FuzzTargets.check(again == encoded, "an event does not survive encoding and decoding")
            }
            // The log gives positions in order; a projection sees them as the log gives them.
            event.position = position
            state.evolve(event)
        }
        _ = try? state.digests()
    }
}

extension EventRecordFuzzer {
    /// Seed inputs: records of every event type as the broker stores them (QSMTesting's samples), alone,
    /// in the order a session produces them, and damaged.
    public static func seeds() throws -> [(name: String, bytes: [UInt8])] {
        var generator = SeededGenerator(seed: 42)
        let bodies = SampleEvents.allBodies(using: &generator)
        func record(_ body: QSMEvent.OneOf_Body, position: UInt64) throws -> [UInt8] {
            try QSMEvent.with {
                $0.position = position
                $0.recordedAtUs = 1_800_000_000_000_000 + Int64(position) * 1_000_000
                $0.type = body.type.rawValue
                $0.schemaVersion = body.type.currentSchemaVersion
                $0.actor = "alice"
                $0.correlationID = Data(repeating: 7, count: 16)
                $0.peer = .with { $0.uid = 1001; $0.gid = 1001; $0.pid = 4242 }
                $0.body = body
            }.serializedBytes()
        }
        func framed(_ records: [[UInt8]]) -> [UInt8] {
            records.flatMap { [UInt8(truncatingIfNeeded: $0.count), UInt8(truncatingIfNeeded: $0.count >> 8)] + $0 }
        }
        var seeds: [(String, [UInt8])] = []
        for (index, body) in bodies.enumerated() {
            seeds.append(("\(body.type.name)", framed([try record(body, position: UInt64(index + 1))])))
        }
        let all = try bodies.enumerated().map { try record($1, position: UInt64($0 + 1)) }
        seeds.append(("all-types-in-order", framed(all)))
        var damaged = all[0]
        damaged.removeLast(damaged.count / 3)
        seeds.append(("truncated", framed([damaged])))
        return seeds
    }
}
