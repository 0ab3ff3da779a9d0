public import EventLog
public import Foundation
import QSMEvents
import SwiftProtobuf

/// Writes a realistic synthetic log quickly, straight through `EventStore.append` (no broker, no
/// crypto): many users logging in, sending to and reading from each other, refusals on others'
/// messages, key exchanges, alerts, lockouts and checkpoints, each with the actor and socket peer the
/// broker would record. For the forensic tests and `tools/bench forensics`, where actor, peer and
/// message filters must be selective as in a real log.
public enum SyntheticLog {
    /// What was written, for choosing query arguments.
    public struct Summary: Sendable {
        public let users: [String]
        public let events: UInt64
        /// Ids of messages that were sent (a sample of up to 1,000, spread over the log).
        public let messageIDs: [Data]
        public let firstMicros: Int64
        public let lastMicros: Int64
    }

    /// Appends `count` events among `users` users, in durable batches of `batchSize`, each batch
    /// recorded one second after the previous from `startMicros`.
    public static func append(
        count: Int, users userCount: Int = 200, to store: EventStore, batchSize: Int = 2048,
        startMicros: Int64 = 1_800_000_000_000_000, using generator: inout some RandomNumberGenerator
    ) async throws -> Summary {
        var state = State(users: (0..<max(userCount, 2)).map { "user\($0)" })
        var written: UInt64 = 0
        var micros = startMicros
        var first: Int64?
        while written < UInt64(count) {
            let size = min(batchSize, count - Int(written))
            let base = try store.head().position + 1
            var batch: [NewEvent] = []
            batch.reserveCapacity(size)
            for index in 0..<size {
                batch.append(try state.next(position: base + UInt64(index), using: &generator))
            }
            let positions = try await store.append(batch, recordedAtMicros: micros)
            written += UInt64(positions.count)
            first = first ?? micros
            micros += 1_000_000
        }
        return Summary(
            users: state.users, events: written, messageIDs: state.sampledIDs, firstMicros: first ?? startMicros,
            lastMicros: micros - 1_000_000)
    }

    private struct Sent {
        let id: Data
        let sender: Int
        let recipient: Int
    }

    private struct State {
        let users: [String]
        var recent: [Sent] = []
        var recentNext = 0
        var sampledIDs: [Data] = []
        var sentCount = 0

        init(users: [String]) { self.users = users }

        mutating func next(position: UInt64, using g: inout some RandomNumberGenerator) throws -> NewEvent {
            func bytes(_ n: Int) -> Data {
                var out = [UInt8]()
                out.reserveCapacity(n + 7)
                while out.count < n { withUnsafeBytes(of: g.next()) { out.append(contentsOf: $0) } }
                return Data(out.prefix(n))
            }
            let u = Int.random(in: 0..<users.count, using: &g)
            var v = Int.random(in: 0..<(users.count - 1), using: &g)
            if v >= u { v += 1 }
            let user = users[u]
            // The user's own uid mostly; now and then another's (a shared account, a stolen session).
            let uid = UInt32(1000 + (Int.random(in: 0..<20, using: &g) == 0 ? v : u))
            let peer = PeerCredentials(uid: uid, gid: uid, pid: Int32.random(in: 2000...60_000, using: &g))
            let correlation = bytes(16)
            if position % 10_000 == 0 {
                return try NewEvent(.checkpointSigned(.with {
                    $0.checkpointPosition = position - 1
                    $0.chainHash = bytes(32)
                    $0.signature = bytes(96)  // shortened: the size of a real ML-DSA-65 signature would dominate
                    $0.algorithm = "ML-DSA-65"
                    $0.publicKeyID = bytes(32)
                }), correlationID: correlation)
            }
            if position % 10_000 == 5_000 {
                return try NewEvent(.keyMaterialRetired(.with {
                    $0.cause = "start"
                    $0.pairs = UInt32.random(in: 0...500, using: &g)
                    $0.bits = UInt64.random(in: 0...10_000_000, using: &g)
                }), correlationID: correlation)
            }
            if position % 50_000 == 25_001 {
                return try NewEvent(.signingKeyReplaced(.with {
                    $0.previousPublicKeyID = bytes(32)
                    $0.publicKeyID = bytes(32)
                    $0.publicKey = bytes(96)  // shortened, as the checkpoints' signatures are
                }), correlationID: correlation)
            }
            // Rare types, at fixed positions so the roll's stream stays as it was.
            if position % 10_000 == 5_001 {
                return try NewEvent(.refusalsAggregated(.with {
                    $0.source = "uid:\(uid)"
                    $0.count = 480
                    $0.firstAtUs = 1_800_000_000_000_000
                    $0.lastAtUs = 1_800_000_020_000_000
                    $0.kinds = [.with { $0.kind = "access_denied:noSession"; $0.count = 480 }]
                }), correlationID: correlation)
            }
            if position % 10_000 == 7_001, let sent = recent.first {
                return try NewEvent(.decryptionFailed(.with {
                    $0.messageID = sent.id
                    $0.reader = users[sent.recipient]
                    $0.sender = users[sent.sender]
                    $0.mode = "aes"
                }), actor: users[sent.recipient], correlationID: correlation, peer: peer)
            }
            if (7_002...7_006).contains(position % 10_000) {
                return try NewEvent(secondFactorEvent(position % 10_000 - 7_002, user: user, bytes: bytes),
                    actor: user, correlationID: correlation, peer: peer)
            }
            let roll = Int.random(in: 0..<100, using: &g)
            switch roll {
            case 0..<35, 92..<100:
                let id = bytes(16)
                let mode = [QSMMessageMode.otp, .aes, .pqc][Int.random(in: 0..<3, using: &g)]
                let size = Int.random(in: 16...160, using: &g)
                let sent = Sent(id: id, sender: u, recipient: v)
                if recent.count < 4096 { recent.append(sent) } else { recent[recentNext] = sent }
                recentNext = (recentNext + 1) % 4096
                sentCount += 1
                if sentCount % 97 == 1, sampledIDs.count < 1000 { sampledIDs.append(id) }
                return try NewEvent(.messageSent(.with {
                    $0.messageID = id
                    $0.sender = user
                    $0.recipient = users[v]
                    $0.mode = mode
                    $0.ciphertext = bytes(size)
                    $0.size = UInt64(size)
                    switch mode {
                    case .otp:
                        $0.tag = bytes(16)
                        $0.poolRanges = [.with { $0.start = position * 8; $0.length = UInt64(size * 8) }]
                        $0.keyID = "qkd:\(user):\(users[v]):1"
                    case .aes:
                        $0.nonce = bytes(12)
                        $0.blockCounter = position % 1000
                        $0.keyID = "qkd:\(user):\(users[v]):1"
                    default:
                        $0.encapsulatedKey = bytes(64)
                    }
                }), actor: user, correlationID: correlation, peer: peer)
            case 35..<55 where !recent.isEmpty:
                let message = recent[Int.random(in: 0..<recent.count, using: &g)]
                let readerPeer = PeerCredentials(uid: UInt32(1000 + message.recipient), gid: 100, pid: peer.pid)
                return try NewEvent(.messageDecrypted(.with {
                    $0.messageID = message.id
                    $0.reader = users[message.recipient]
                    $0.sender = users[message.sender]
                }), actor: users[message.recipient], correlationID: correlation, peer: readerPeer)
            case 55..<65:
                return try NewEvent(.loginSucceeded(.with {
                    $0.username = user
                    $0.sessionID = bytes(32)
                    $0.expiresAtUs = 1_900_000_000_000_000
                }), actor: user, correlationID: correlation, peer: peer)
            case 65..<72:
                let unknown = Int.random(in: 0..<4, using: &g) == 0
                let name = unknown ? "nobody\(u)" : user
                return try NewEvent(.loginFailed(.with {
                    $0.username = name
                    $0.reason = unknown ? .unknownUser : .badPassword
                }), actor: name, correlationID: correlation, peer: peer)
            case 72..<75:
                return try NewEvent(.loggedOut(.with {
                    $0.username = user
                    $0.sessionID = bytes(32)
                }), actor: user, correlationID: correlation, peer: peer)
            case 75..<80 where !recent.isEmpty:
                let message = recent[Int.random(in: 0..<recent.count, using: &g)]
                if message.recipient == u || Int.random(in: 0..<5, using: &g) == 0 {
                    // A refused admin call: no session, no actor.
                    return try NewEvent(.accessDenied(.with {
                        $0.method = "io.qsm.Admin.Alerts"
                        $0.resource = "admin"
                        $0.reason = .notAdmin
                    }), correlationID: correlation, peer: peer)
                }
                return try NewEvent(.accessDenied(.with {
                    $0.username = user
                    $0.method = "Decrypt"
                    $0.resource = "message"
                    $0.resourceID = message.id.map { String(format: "%02x", $0) }.joined()
                    $0.owner = users[message.recipient]
                    $0.reason = .notOwner
                }), actor: user, correlationID: correlation, peer: peer)
            case 80..<84:
                let figures = QSMBB84Figures.with {
                    $0.qubitsSent = 40_000
                    $0.qubitsDetected = 39_000
                    $0.sifted = 19_500
                    $0.sampleSize = 1950
                    $0.qber = Double(Int.random(in: 0..<400, using: &g)) / 10_000
                    $0.qberUpperBound = $0.qber + 0.012
                    $0.finalBits = 9000
                    $0.efficiency = 1.1
                    $0.noise = 0.02
                    $0.abortThreshold = 0.11
                }
                if roll == 83 {
                    return try NewEvent(.keyExchangeAborted(.with {
                        $0.exchangeID = bytes(16)
                        $0.initiator = user
                        $0.peer = users[v]
                        $0.reason = .qberAboveThreshold
                        $0.detail = "QBER bound above the threshold 0.11: eavesdropping suspected"
                        $0.figures = figures
                    }), actor: user, correlationID: correlation, peer: peer)
                }
                return try NewEvent(.keyExchangeCompleted(.with {
                    $0.exchangeID = bytes(16)
                    $0.initiator = user
                    $0.peer = users[v]
                    $0.keyID = "qkd:\(user):\(users[v]):\(position)"
                    $0.figures = figures
                    $0.key = .with {
                        $0.keyID = "master:1"
                        $0.algorithm = "AES-256-GCM"
                        $0.nonce = bytes(12)
                        $0.sealed = bytes(48)
                    }
                    $0.poolOffset = position * 8
                }), actor: user, correlationID: correlation, peer: peer)
            case 84..<86:
                // Derived: no peer; evidence is the events just before.
                return try NewEvent(.alertRaised(.with {
                    $0.alertID = "access_to_others@\(position - 1)"
                    $0.rule = "access_to_others"
                    $0.severity = .medium
                    $0.subject = user
                    $0.summary = "\(user) was refused others' messages"
                    $0.evidencePositions = (1...3).compactMap { position > $0 ? position - UInt64($0) : nil }
                    $0.triggerPosition = position - 1
                }), actor: user, correlationID: correlation)
            case 86:
                return try NewEvent(.accountLocked(.with {
                    $0.username = user
                    $0.untilUs = 1_900_000_000_000_000
                    $0.rule = "brute_force"
                    $0.triggerPosition = position - 1
                    $0.level = 1
                }), actor: user, correlationID: correlation)
            case 87:
                return try NewEvent(.accountUnlocked(.with {
                    $0.username = user
                    $0.reason = .expired
                }), actor: user, correlationID: correlation)
            case 88..<90:
                return try NewEvent(.passwordChanged(.with {
                    $0.username = user
                    $0.passwordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
                    $0.reason = .user
                    $0.pqcPrivateKey = .with {
                        $0.keyID = "password:\(user)"
                        $0.algorithm = "ChaCha20-Poly1305"
                        $0.nonce = bytes(12)
                        $0.sealed = bytes(80)
                        $0.kdf = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA"
                    }
                }), actor: user, correlationID: correlation, peer: peer)
            case 90:
                return try NewEvent(.userRegistered(.with {
                    $0.username = user
                    $0.passwordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"
                    $0.pqcPublicKey = bytes(128)  // shortened from X-Wing's 1,216 bytes
                }), actor: user, correlationID: correlation, peer: peer)
            default:
                return try NewEvent(.sessionExpired(.with {
                    $0.username = user
                    $0.sessionID = bytes(32)
                    $0.expiredAtUs = 1_800_000_000_000_000
                }), actor: user, correlationID: correlation)
            }
        }

        /// The second factor's events, one kind per `kind` (0-4): started, enabled, a recovery code used,
        /// new codes, disabled.
        private func secondFactorEvent(_ kind: UInt64, user: String, bytes: (Int) -> Data) -> QSMEvent.OneOf_Body {
            switch kind {
            case 0:
                return .secondFactorStarted(.with {
                    $0.username = user
                    $0.secret = .with {
                        $0.keyID = "master:0123456789abcdef"
                        $0.algorithm = "AES-256-GCM"
                        $0.nonce = bytes(12)
                        $0.sealed = bytes(36)
                    }
                    $0.algorithm = "SHA1"
                    $0.digits = 6
                    $0.periodSeconds = 30
                })
            case 1: return .secondFactorEnabled(.with { $0.username = user; $0.step = 60_000_000; $0.recoveryCodeHashes = [bytes(32), bytes(32)] })
            case 2: return .recoveryCodeUsed(.with { $0.username = user; $0.index = 1; $0.method = "Login"; $0.remaining = 9 })
            case 3: return .recoveryCodesGenerated(.with { $0.username = user; $0.step = 60_000_001; $0.recoveryCodeHashes = [bytes(32)] })
            default: return .secondFactorDisabled(.with { $0.username = user; $0.step = 60_000_002 })
            }
        }
    }
}
