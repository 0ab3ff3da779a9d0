import Foundation
import QSMCrypto
import QSMEvents
import SwiftProtobuf

/// The broker's snapshot as a stream of protobuf records (Schemas/qsm/snapshot/v1/snapshot.proto): a
/// header, one record per user, session and pair pool, then the intrusion detection and the dashboard.
/// Each record is encoded and decoded on its own, so neither side builds the whole state as one
/// document (the JSON snapshot it replaces did, and decoding it was most of a start).
enum SnapshotStream {
    /// Bumped whenever a projection's shape or meaning changes: older snapshots are then ignored.
    // 2: history holds positions, not lines; 3: dashboard keeps recent exchanges; 4: the intrusion
    // detection keys logins by source and keeps per-source limits, refusal windows and quiet alerts;
    // 5: pools keep their frontier (retired bits), and snapshots are sealed (SnapshotSeal); 6: protobuf
    // records, without the inbox and history (tables on disk)
    static let currentVersion: UInt32 = 6

    /// Why a snapshot stream could not be read.
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    // MARK: Writing

    static func encode(_ state: BrokerState) throws -> Data {
        var out = Data()
        func write(_ entry: SnapSnapshotRecord.OneOf_Entry) throws {
            var record = SnapSnapshotRecord()
            record.entry = entry
            try append(record, to: &out)
        }
        try write(.header(SnapHeader.with {
            $0.version = currentVersion
            $0.position = state.position
            $0.lastRecordedAtUs = state.lastRecordedAt
        }))
        // Sorted, so equal states give equal bytes.
        for (name, user) in state.users.users.sorted(by: { $0.key < $1.key }) { try write(.user(user.record(name))) }
        for (id, session) in state.sessions.sessions.sorted(by: { $0.key < $1.key }) { try write(.session(session.record(id))) }
        for (_, pool) in state.keyPools.pools.sorted(by: { $0.key < $1.key }) { try write(.pool(pool.record)) }
        try write(.ids(state.ids.record))
        try write(.dashboard(state.dashboard.record))
        return out
    }

    /// Appends `record`, length first.
    static func append(_ record: SnapSnapshotRecord, to out: inout Data) throws {
        // Map fields in key order: equal states give equal bytes.
        var options = BinaryEncodingOptions()
        options.useDeterministicOrdering = true
        let bytes: Data = try record.serializedBytes(options: options)
        var length = UInt64(bytes.count)
        while length >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: length) | 0x80)
            length >>= 7
        }
        out.append(UInt8(length))
        out.append(bytes)
    }

    /// Calls `body` with each record of a stream, in order, until it returns false.
    static func forEachRecord(in data: Data, _ body: (SnapSnapshotRecord) throws -> Bool) throws {
        var offset = data.startIndex
        while offset < data.endIndex {
            var length: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard offset < data.endIndex, shift < 64 else { throw Malformed(description: "a record length is cut off") }
                let byte = data[offset]
                offset += 1
                length |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { break }
                shift += 7
            }
            guard length <= UInt64(data.endIndex - offset) else { throw Malformed(description: "a record runs past the end") }
            let end = offset + Int(length)
            guard try body(try SnapSnapshotRecord(serializedBytes: data[offset..<end])) else { return }
            offset = end
        }
    }

    // MARK: Reading

    /// The state a stream holds, with `rules` for intrusion detection; nil when it is of another
    /// version (or the JSON of earlier versions).
    static func decode(_ data: Data, rules: IDSRules) throws -> BrokerState? {
        if data.first == UInt8(ascii: "{") { return nil }
        var state = BrokerState(rules: rules)
        var sawHeader = false
        var otherVersion = false
        try forEachRecord(in: data) { record in
            switch record.entry {
            case .header(let header):
                guard !sawHeader else { throw Malformed(description: "a second header") }
                guard header.version == currentVersion else {
                    otherVersion = true
                    return false
                }
                sawHeader = true
                state.position = header.position
                state.lastRecordedAt = header.lastRecordedAtUs
            case _ where !sawHeader:
                throw Malformed(description: "records before the header")
            case .user(let user): state.users.users[user.name] = UsersProjection.User(user)
            case .session(let session): state.sessions.sessions[session.id] = SessionsProjection.Session(session)
            case .pool(let record):
                let pool = try KeyPoolsProjection.PairPool(record)
                state.keyPools.pools[KeyPoolsProjection.pairKey(pool.pool.pair.first, pool.pool.pair.second)] = pool
            case .ids(let ids): state.ids.restore(ids)
            case .dashboard(let dashboard): state.dashboard.restore(dashboard)
            case nil: throw Malformed(description: "a record of an unknown kind")
            }
            return true
        }
        if otherVersion { return nil }
        guard sawHeader else { throw Malformed(description: "no header") }
        return state
    }
}

// MARK: - Users and sessions

extension UsersProjection.User {
    func record(_ name: String) -> SnapUser {
        SnapUser.with {
            $0.name = name
            $0.passwordHash = passwordHash
            $0.pqcPublicKey = pqcPublicKey
            $0.pqcPrivateKey = pqcPrivateKey
            $0.registeredAtUs = registeredAt
            $0.credentialVersion = credentialVersion
            if let lockedUntil { $0.lockedUntilUs = lockedUntil }
            if let factor = secondFactor {
                $0.secondFactor = SnapSecondFactor.with {
                    $0.secret = factor.secret
                    $0.startedAt = factor.startedAt
                    $0.algorithm = factor.algorithm
                    $0.enabled = factor.enabled
                    $0.lastStep = factor.lastStep
                    $0.recoveryCodes = factor.recoveryCodes
                }
            }
        }
    }

    init(_ record: SnapUser) {
        self.init(
            passwordHash: record.passwordHash, pqcPublicKey: record.pqcPublicKey, pqcPrivateKey: record.pqcPrivateKey,
            registeredAt: record.registeredAtUs, credentialVersion: record.credentialVersion,
            lockedUntil: record.hasLockedUntilUs ? record.lockedUntilUs : nil,
            secondFactor: record.hasSecondFactor
                ? UsersProjection.SecondFactor(
                    secret: record.secondFactor.secret, startedAt: record.secondFactor.startedAt,
                    algorithm: record.secondFactor.algorithm, enabled: record.secondFactor.enabled,
                    lastStep: record.secondFactor.lastStep, recoveryCodes: record.secondFactor.recoveryCodes)
                : nil)
    }
}

extension SessionsProjection.Session {
    func record(_ id: String) -> SnapSession {
        SnapSession.with {
            $0.id = id
            $0.username = username
            $0.startedAtUs = startedAt
            $0.expiresAtUs = expiresAt
            $0.ending = switch ending {
            case nil: .none
            case .loggedOut: .loggedOut
            case .expired: .expired
            case .passwordChanged: .passwordChanged
            }
            if let sealedKeyAt { $0.sealedKeyAt = sealedKeyAt }
        }
    }

    init(_ record: SnapSession) {
        let ending: SessionsProjection.Ending? = switch record.ending {
        case .loggedOut: .loggedOut
        case .expired: .expired
        case .passwordChanged: .passwordChanged
        default: nil
        }
        self.init(
            username: record.username, startedAt: record.startedAtUs, expiresAt: record.expiresAtUs, ending: ending,
            sealedKeyAt: record.hasSealedKeyAt ? record.sealedKeyAt : nil)
    }
}

// MARK: - Key pools

extension KeyPoolsProjection.PairPool {
    var record: SnapPairPool {
        SnapPairPool.with {
            $0.first = pool.pair.first
            $0.second = pool.pair.second
            $0.segments = pool.segments.map { segment in
                SnapSegment.with {
                    $0.keyID = segment.keyID
                    $0.start = segment.start
                    $0.bitCount = segment.bitCount
                    $0.wrappedKey = segment.wrappedKey.event
                }
            }
            $0.consumed = pool.consumed.map(\.record)
            $0.frontier = pool.frontier
            if let block = aesBlock {
                $0.hasAesBlock_p = true
                $0.aesRanges = block.ranges.map(\.record)
                $0.aesStartedAtUs = block.startedAtMicroseconds
                $0.aesNextCounter = block.nextCounter
            }
            $0.refusedRanges = refusedRanges
        }
    }

    init(_ record: SnapPairPool) throws {
        try self.init(
            pair: UserPair(record.first, record.second),
            segments: record.segments.map {
                KeyPool.Segment(keyID: $0.keyID, start: $0.start, bitCount: $0.bitCount, wrappedKey: WrappedSecret($0.wrappedKey))
            },
            consumed: record.consumed.map { PoolRange(start: $0.start, length: $0.length) }, frontier: record.frontier,
            aes: record.hasAesBlock_p
                ? (record.aesRanges.map { PoolRange(start: $0.start, length: $0.length) }, record.aesStartedAtUs, record.aesNextCounter)
                : nil,
            refusedRanges: record.refusedRanges)
    }
}

extension PoolRange {
    var record: SnapRange {
        SnapRange.with {
            $0.start = start
            $0.length = length
        }
    }
}

// MARK: - Intrusion detection

extension IDSProjection {
    var record: SnapIntrusionDetection {
        func marks(_ map: [String: [Mark]]) -> [String: SnapMarks] { map.mapValues(Self.marks) }
        return SnapIntrusionDetection.with {
            $0.accountFailures = marks(accountFailures)
            $0.peerFailures = marks(peerFailures)
            $0.sourceFailures = marks(sourceFailures)
            $0.systemFailures = Self.marks(systemFailures)
            $0.denials = marks(denials)
            $0.staleTokens = marks(staleTokens)
            $0.sends = marks(sends)
            $0.sourceSends = marks(sourceSends)
            $0.registrations = marks(registrations)
            $0.aborts = marks(aborts)
            $0.qber = marks(qber)
            $0.offences = offences.mapValues { offence in
                SnapOffence.with {
                    $0.level = offence.level
                    $0.lastAtUs = offence.lastAt
                }
            }
            $0.throttledUntil = throttledUntil
            $0.loginLocks = loginLocks
            $0.sourceLocks = sourceLocks
            $0.registrationThrottles = registrationThrottles
            $0.sendThrottles = sendThrottles
            $0.refusals = refusals.mapValues { window in
                SnapRefusalWindow.with {
                    $0.startUs = window.start
                    $0.count = Int64(window.count)
                }
            }
            $0.lastAlerts = lastAlerts
            $0.quietFirings = quietFirings.mapValues { Int64($0) }
            $0.alerts = alerts.map { alert in
                SnapAlert.with {
                    $0.id = alert.id
                    $0.rule = alert.rule
                    $0.severity = alert.severity
                    $0.subject = alert.subject
                    $0.summary = alert.summary
                    $0.evidence = alert.evidence
                    $0.trigger = alert.trigger
                    $0.position = alert.position
                    $0.atUs = alert.at
                }
            }
        }
    }

    /// Takes the windows, locks and alerts of `record` (the rules stay).
    mutating func restore(_ record: SnapIntrusionDetection) {
        func marks(_ map: [String: SnapMarks]) -> [String: [Mark]] { map.mapValues(Self.marks) }
        accountFailures = marks(record.accountFailures)
        peerFailures = marks(record.peerFailures)
        sourceFailures = marks(record.sourceFailures)
        systemFailures = Self.marks(record.systemFailures)
        denials = marks(record.denials)
        staleTokens = marks(record.staleTokens)
        sends = marks(record.sends)
        sourceSends = marks(record.sourceSends)
        registrations = marks(record.registrations)
        aborts = marks(record.aborts)
        qber = marks(record.qber)
        offences = record.offences.mapValues { Offence(level: $0.level, lastAt: $0.lastAtUs) }
        throttledUntil = record.throttledUntil
        loginLocks = record.loginLocks
        sourceLocks = record.sourceLocks
        registrationThrottles = record.registrationThrottles
        sendThrottles = record.sendThrottles
        refusals = record.refusals.mapValues { RefusalWindow(start: $0.startUs, count: Int($0.count)) }
        lastAlerts = record.lastAlerts
        quietFirings = record.quietFirings.mapValues { Int($0) }
        alerts = record.alerts.map {
            Alert(
                id: $0.id, rule: $0.rule, severity: $0.severity, subject: $0.subject, summary: $0.summary,
                evidence: $0.evidence, trigger: $0.trigger, position: $0.position, at: $0.atUs)
        }
        pending = []
    }

    private static func marks(_ marks: [Mark]) -> SnapMarks {
        SnapMarks.with {
            $0.marks = marks.map { mark in
                SnapMark.with {
                    $0.atUs = mark.at
                    $0.position = mark.position
                    $0.detail = mark.detail
                }
            }
        }
    }

    private static func marks(_ record: SnapMarks) -> [Mark] {
        record.marks.map { Mark(at: $0.atUs, position: $0.position, detail: $0.detail) }
    }
}

// MARK: - Dashboard

extension DashboardProjection {
    var record: SnapDashboard {
        SnapDashboard.with {
            $0.counters = SnapCounters.with {
                $0.registrations = counters.registrations
                $0.loginsSucceeded = counters.loginsSucceeded
                $0.loginsFailed = counters.loginsFailed
                $0.keyExchanges = counters.keyExchanges
                $0.keyExchangesAborted = counters.keyExchangesAborted
                $0.qberSum = counters.qberSum
                $0.keyBitsMade = counters.keyBitsMade
                $0.keyBitsUsed = counters.keyBitsUsed
                $0.encryptions = counters.encryptions
                $0.decryptions = counters.decryptions
                $0.alerts = counters.alerts
                $0.alertsByRule = counters.alertsByRule.mapValues { counts in SnapCounts.with { $0.counts = counts } }
                $0.accessDenied = counters.accessDenied
            }
            $0.recentExchanges = recentExchanges.map { exchange in
                SnapExchange.with {
                    $0.atUs = exchange.at
                    $0.qber = exchange.qber
                    $0.qberUpperBound = exchange.qberUpperBound
                    $0.threshold = exchange.threshold
                    $0.aborted = exchange.aborted
                }
            }
            $0.minutes = minutes.mapValues { minute in
                SnapMinute.with {
                    $0.sends = minute.sends
                    $0.decryptions = minute.decryptions
                    $0.loginsFailed = minute.loginsFailed
                    $0.alerts = minute.alerts
                }
            }
            $0.latestMinute = latestMinute
        }
    }

    mutating func restore(_ record: SnapDashboard) {
        let c = record.counters
        counters = Counters(
            registrations: c.registrations, loginsSucceeded: c.loginsSucceeded, loginsFailed: c.loginsFailed,
            keyExchanges: c.keyExchanges, keyExchangesAborted: c.keyExchangesAborted, qberSum: c.qberSum,
            keyBitsMade: c.keyBitsMade, keyBitsUsed: c.keyBitsUsed, encryptions: c.encryptions,
            decryptions: c.decryptions, alerts: c.alerts, alertsByRule: c.alertsByRule.mapValues(\.counts),
            accessDenied: c.accessDenied)
        recentExchanges = record.recentExchanges.map {
            Exchange(at: $0.atUs, qber: $0.qber, qberUpperBound: $0.qberUpperBound, threshold: $0.threshold, aborted: $0.aborted)
        }
        minutes = record.minutes.mapValues {
            Minute(sends: $0.sends, decryptions: $0.decryptions, loginsFailed: $0.loginsFailed, alerts: $0.alerts)
        }
        latestMinute = record.latestMinute
    }
}
