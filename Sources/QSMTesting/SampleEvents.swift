public import EventLog
import Foundation
import SwiftProtobuf
public import QSMEvents

/// Realistic events of every type, for round-trip tests, cross-checks and benchmarks.
public enum SampleEvents {
    /// One event body of each type, filled the way the broker fills them, with values from `generator`.
    public static func allBodies(using generator: inout some RandomNumberGenerator) -> [QSMEvent.OneOf_Body] {
        func bytes(_ count: Int) -> Data { Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        let alice = "alice", bob = "bob"
        let wrapped = QSMWrappedSecret.with {
            $0.keyID = "master:1"
            $0.algorithm = "AES-256-GCM"
            $0.nonce = bytes(12)
            $0.sealed = bytes(48)
        }
        let figures = QSMBB84Figures.with {
            $0.qubitsSent = 65_536
            $0.qubitsDetected = 65_000
            $0.sifted = 32_500
            $0.sampleSize = 3_250
            $0.qber = 0.021
            $0.qberUpperBound = 0.034
            $0.leakedBits = 4_100
            $0.finalBits = 17_900
            $0.efficiency = 1.07
            $0.secretFraction = 0.55
            $0.noise = 0.02
            $0.abortThreshold = 0.11
        }
        return [
            .userRegistered(.with {
                $0.username = alice
                $0.passwordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
                $0.pqcPublicKey = bytes(1216)
                $0.pqcPrivateKey = wrapped
            }),
            .passwordChanged(.with {
                $0.username = alice
                $0.passwordHash = "$argon2id$v=19$m=19456,t=2,p=1$bmV3c2FsdG5ld3NhbHQ$bmV3aGFzaG5ld2hhc2g"
                $0.pqcPrivateKey = wrapped
                $0.reason = .user
            }),
            .loginSucceeded(.with {
                $0.username = alice
                $0.sessionID = bytes(32)
                $0.expiresAtUs = 1_800_000_000_000_000
            }),
            .loginFailed(.with {
                $0.username = bob
                $0.reason = .badPassword
            }),
            .loggedOut(.with {
                $0.username = alice
                $0.sessionID = bytes(32)
            }),
            .sessionExpired(.with {
                $0.username = alice
                $0.sessionID = bytes(32)
                $0.expiredAtUs = 1_800_000_000_000_000
            }),
            .keyExchangeCompleted(.with {
                $0.exchangeID = bytes(16)
                $0.initiator = alice
                $0.peer = bob
                $0.keyID = "qkd:alice:bob:1"
                $0.figures = figures
                $0.key = wrapped
                $0.poolOffset = 0
            }),
            .keyExchangeAborted(.with {
                $0.exchangeID = bytes(16)
                $0.initiator = alice
                $0.peer = bob
                $0.reason = .qberAboveThreshold
                $0.detail = "QBER bound 0.26 exceeds the threshold 0.11: eavesdropping suspected"
                $0.figures = figures
            }),
            .messageSent(.with {
                $0.messageID = bytes(16)
                $0.sender = alice
                $0.recipient = bob
                $0.mode = .otp
                $0.ciphertext = bytes(120)
                $0.tag = bytes(16)
                $0.size = 120
                $0.poolRanges = [.with { $0.start = 0; $0.length = 960 }, .with { $0.start = 960; $0.length = 256 }]
                $0.keyID = "qkd:alice:bob:1"
            }),
            .messageDecrypted(.with {
                $0.messageID = bytes(16)
                $0.reader = bob
                $0.sender = alice
            }),
            .accessDenied(.with {
                $0.username = "mallory"
                $0.method = "io.qsm.Broker.Decrypt"
                $0.resource = "message"
                $0.resourceID = bytes(16).map { String(format: "%02x", $0) }.joined()
                $0.owner = bob
                $0.reason = .notOwner
            }),
            .alertRaised(.with {
                $0.alertID = "brute-force@42"
                $0.rule = "brute-force"
                $0.severity = .high
                $0.subject = bob
                $0.summary = "5 failed logins for bob in 10 minutes"
                $0.evidencePositions = [38, 39, 40, 41, 42]
                $0.triggerPosition = 42
            }),
            .accountLocked(.with {
                $0.username = bob
                $0.untilUs = 1_800_000_000_000_000
                $0.rule = "brute-force"
                $0.triggerPosition = 42
                $0.level = 1
            }),
            .accountUnlocked(.with {
                $0.username = bob
                $0.reason = .expired
            }),
            .checkpointSigned(.with {
                $0.checkpointPosition = 1000
                $0.chainHash = bytes(32)
                $0.signature = bytes(3309)
                $0.algorithm = "ML-DSA-65"
                $0.publicKeyID = bytes(32)
            }),
            .refusalsAggregated(.with {
                $0.source = "uid:65534"
                $0.count = 480
                $0.firstAtUs = 1_800_000_000_000_000
                $0.lastAtUs = 1_800_000_020_000_000
                $0.kinds = [.with { $0.kind = "access_denied:noSession"; $0.count = 480 }]
            }),
            .decryptionFailed(.with {
                $0.messageID = bytes(16)
                $0.reader = bob
                $0.sender = alice
                $0.mode = "aes"
            }),
            .keyMaterialRetired(.with {
                $0.cause = "start"
                $0.pairs = 2
                $0.bits = 4096
            }),
            .signingKeyReplaced(.with {
                $0.previousPublicKeyID = bytes(32)
                $0.publicKeyID = bytes(32)
                $0.publicKey = bytes(1952)
            }),
            .secondFactorStarted(.with {
                $0.username = alice
                $0.secret = wrapped
                $0.algorithm = "SHA1"
                $0.digits = 6
                $0.periodSeconds = 30
            }),
            .secondFactorEnabled(.with {
                $0.username = alice
                $0.step = 60_000_000
                $0.recoveryCodeHashes = (0..<10).map { _ in bytes(32) }
            }),
            .secondFactorDisabled(.with {
                $0.username = alice
                $0.step = 60_000_007
            }),
            .recoveryCodesGenerated(.with {
                $0.username = alice
                $0.recoveryCodeHashes = (0..<10).map { _ in bytes(32) }
                $0.step = 60_000_003
            }),
            .recoveryCodeUsed(.with {
                $0.username = alice
                $0.index = 4
                $0.method = "Login"
                $0.remaining = 9
            }),
        ]
    }

    /// A message-sent event of about `size` record bytes (the benchmark's and load tools' workload).
    public static func message(
        recordSize size: Int = 300, sender: String = "alice", using generator: inout some RandomNumberGenerator
    ) throws -> NewEvent {
        // Header, ids and names take about 90 bytes; the ciphertext fills the rest.
        let cipherBytes = max(size - 90, 0)
        let body = QSMEvent.OneOf_Body.messageSent(.with {
            $0.messageID = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
            $0.sender = sender
            $0.recipient = "bob"
            $0.mode = .aes
            $0.ciphertext = Data((0..<cipherBytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
            $0.size = UInt64(cipherBytes)
            $0.nonce = Data(count: 12)
            $0.blockCounter = 7
            $0.keyID = "qkd:alice:bob:1"
        })
        return try NewEvent(
            body, actor: sender, correlationID: Data(count: 16), peer: PeerCredentials(uid: 1000, gid: 1000, pid: 4242))
    }
}
