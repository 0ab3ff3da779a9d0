import EventLog
import EventLogPostgres
import Foundation
import QSMEvents
import QSMTesting
import SwiftProtobuf
import Testing

@Suite("Append and read")
struct AppendReadTests {
    @Test(arguments: Backend.allCases)
    func everyEventTypeRoundTripsAndPositionsAreDenseFromOne(backend: Backend) async throws {
        let (_, log) = try await TestLog.make(backend)
        let events = try sampleEventsOfEveryType()
        #expect(Set(events.map(\.type)) == Set(EventType.allCases.map(\.rawValue)))

        // Appended in three calls of different sizes: positions continue densely across calls.
        let first = try await log.append(Array(events.prefix(1)))
        let second = try await log.append(Array(events.dropFirst().prefix(6)))
        let third = try await log.append(Array(events.dropFirst(7)))
        #expect(first + second + third == Array(1...UInt64(events.count)))

        let stored = try await log.read(from: 1, limit: 1000)
        #expect(stored.map(\.position) == Array(1...UInt64(events.count)))
        var lastTime = Int64.min
        for (event, record) in zip(events, stored) {
            let decoded = try QSMEvent(record)
            #expect(decoded.position == record.position)
            #expect(decoded.type == event.type)
            #expect(decoded.eventType?.rawValue == event.type)
            #expect(decoded.schemaVersion == event.schemaVersion)
            #expect(decoded.actor == event.actor)
            #expect(decoded.correlationID == event.correlationID)
            #expect(decoded.peerCredentials == event.peer)
            #expect(decoded.recordedAtUs >= lastTime)
            lastTime = decoded.recordedAtUs
            // The body survives byte for byte and decodes to the message that was appended.
            let body = try #require(decoded.body)
            #expect(body.type.rawValue == event.type)
            #expect(try body.message.serializedBytes() == event.body)
            let header = try record.header()
            #expect(header.actor == event.actor && header.type == event.type && header.position == record.position)
        }
        #expect(try await log.head().position == UInt64(events.count))
        #expect(try await log.verify(from: 1, progress: nil, visit: nil).isValid)
    }

    /// The Swift catalogue's ids and names are the schema's field numbers and names.
    @Test func eventTypeNamesAndIdsMatchTheSchema() throws {
        var generator = SeededGenerator(seed: 2)
        let bodies = SampleEvents.allBodies(using: &generator)
        #expect(bodies.map(\.type) == EventType.allCases)
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        for body in bodies {
            var event = QSMEvent()
            event.body = body
            let json = try event.jsonString(options: options)
            #expect(json.hasPrefix("{\"\(body.type.name)\":"), "\(json.prefix(60))")
            let decoded = try QSMEvent(serializedBytes: try NewEvent(body).body.prefixedAsField(body.type.rawValue))
            #expect(decoded.body?.type == body.type)
            #expect(EventType(name: body.type.name) == body.type)
        }
        #expect(EventType(name: "no_such_event") == nil)
    }

    @Test(arguments: Backend.allCases)
    func rangeReadsAndTheForwardSequenceAgree(backend: Backend) async throws {
        let (_, log) = try await TestLog.make(backend)
        var generator = SeededGenerator(seed: 3)
        let events = try (0..<250).map { _ in try SampleEvents.message(using: &generator) }
        try await log.append(events)
        #expect(try await log.read(from: 10, limit: 11).map(\.position) == Array(10...20))
        #expect(try await log.read(from: 240, limit: 161).map(\.position) == Array(240...250))
        #expect(try await log.read(from: 251, limit: 1).first == nil)
        #expect(try await log.read(from: 0, limit: 1).first?.position == 1)  // positions start at 1
        // The chunked forward sequence is LMDB's (readers in other processes); it agrees with the range read.
        if let lmdb = log as? EventStore {
            let all = Array(lmdb.events(from: 5, chunkSize: 7))
            #expect(all.map(\.position) == Array(5...250))
            #expect(all == (try lmdb.read(from: 5, limit: 1000)))
        }
    }

    @Test(arguments: Backend.allCases)
    func indexesFindEventsByActorAndByType(backend: Backend) async throws {
        let (_, log) = try await TestLog.make(backend)
        let events = try sampleEventsOfEveryType()
        try await log.append(events + events)
        let n = UInt64(events.count)
        for actor in Set(events.map(\.actor)) where !actor.isEmpty {
            let expected = events.indices.filter { events[$0].actor == actor }.map { UInt64($0) + 1 }
            #expect(try await log.positions(actor: actor, after: 0, limit: .max) == expected + expected.map { $0 + n })
            #expect(try await log.positions(actor: actor, after: expected[0], limit: .max) == Array(expected.dropFirst()) + expected.map { $0 + n })
            #expect(try await log.positions(actor: actor, after: 0, limit: 1) == [expected[0]])
        }
        #expect(try await log.positions(actor: "", after: 0, limit: .max) == [])
        #expect(try await log.positions(actor: "nobody-here", after: 0, limit: .max) == [])
        for type in EventType.allCases {
            let expected = events.indices.filter { events[$0].type == type.rawValue }.map { UInt64($0) + 1 }
            #expect(try await log.positions(type: type.rawValue, after: 0, limit: .max) == expected + expected.map { $0 + n })
        }
    }

    @Test(arguments: Backend.allCases)
    func metaAndHeadSurviveReopening(backend: Backend) async throws {
        let (source, log) = try await TestLog.make(backend)
        try await log.append(try sampleEventsOfEveryType())
        let (meta, head) = (log.meta, try await log.head())
        await log.close()
        let reopened = try await source.open()
        #expect(reopened.meta == meta)
        #expect(meta.formatVersion == LogMeta.currentFormatVersion)
        #expect(try await reopened.head() == head)
        #expect(try await reopened.chainHash(at: head.position) == head.hash)
        let more = try await reopened.append(try sampleEventsOfEveryType(seed: 9))
        #expect(more.first == head.position + 1)
        #expect(try await reopened.verify(from: 1, progress: nil, visit: nil).isValid)
        // A new log gets a new id.
        #expect(try await TestLog.make(backend).1.meta.logID != meta.logID)
    }

    @Test(arguments: Backend.allCases)
    func recordedTimeNeverGoesBackwardsEvenWhenTheClockDoes(backend: Backend) async throws {
        let ticks = Mutex<[Int64]>([5_000, 9_000, 1_000, 7_000, 12_000])
        let (_, log) = try await TestLog.make(backend, clock: { ticks.withLock { $0.isEmpty ? 0 : $0.removeFirst() } })
        var generator = SeededGenerator(seed: 1)
        for _ in 0..<4 { try await log.append([try SampleEvents.message(using: &generator)]) }
        let times = try await log.read(from: 1, limit: 10).map { try $0.header().recordedAtMicros }
        #expect(times == [9_000, 9_000, 9_000, 12_000])  // the first tick went to the log's creation time
    }

    @Test(arguments: Backend.allCases)
    func invalidEventsAreRefusedAndNothingIsWritten(backend: Backend) async throws {
        let (_, log) = try await TestLog.make(backend)
        let good = try sampleEventsOfEveryType()[0]
        var headerType = good
        headerType.type = 3
        var longActor = good
        longActor.actor = String(repeating: "a", count: NewEvent.maxActorBytes + 1)
        for bad in [headerType, longActor] {
            await #expect(throws: EventLogError.self) { try await log.append([good, bad]) }
        }
        #expect(try await log.head().position == 0)
        #expect(try await log.append([]) == [])
    }
}

import Synchronization

extension Data {
    /// This message's bytes as field `number` (length-delimited) of an enclosing message.
    func prefixedAsField(_ number: UInt32) -> Data {
        var out = Data()
        func varint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                out.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        varint(UInt64(number) << 3 | 2)
        varint(UInt64(count))
        out.append(self)
        return out
    }
}
