import EventLog
public import Foundation
public import QSMCrypto

/// The broker's snapshot as stored: a magic, an HMAC-SHA256 under a key derived from the master key and
/// bound to the log's id and the snapshot's position, then the state's JSON.
///
/// Anyone who can write the data directory can edit a snapshot, and a snapshot is trusted on load in place
/// of the events it sums up: a session added to one gave a working token with no login event (security
/// review, issue 16 item 7). The chain and the checkpoints cover events, not snapshots; this covers these.
public enum SnapshotSeal {
    public static let magic = Data("QSMSNAP2".utf8)
    public static let codeByteCount = 32

    /// The stored form of `state` (``BrokerState/snapshotData()``), the snapshot of the log `logID` as of
    /// `position`, sealed under `key` (the master key).
    public static func seal(_ state: Data, logID: UUID, position: UInt64, key: MasterKey) -> Data {
        var stored = Data(capacity: magic.count + codeByteCount + state.count)
        stored.append(magic)
        stored.append(key.authenticationCode(for: state, context: context(logID: logID, position: position)))
        stored.append(state)
        return stored
    }

    /// The state in a stored snapshot, or why it cannot be trusted.
    static func open(_ stored: Data, logID: UUID, position: UInt64, key: MasterKey) -> Result<Data, Refusal> {
        let header = magic.count + codeByteCount
        guard stored.count >= header, stored.prefix(magic.count).elementsEqual(magic) else { return .failure(.unsealed) }
        let code = stored.subdata(in: stored.startIndex + magic.count ..< stored.startIndex + header)
        let state = stored.subdata(in: stored.startIndex + header ..< stored.endIndex)
        guard key.isAuthentic(code, for: state, context: context(logID: logID, position: position)) else {
            return .failure(.notAuthentic)
        }
        return .success(state)
    }

    /// Why a stored snapshot was not used.
    enum Refusal: Error, CustomStringConvertible {
        /// Written before snapshots were sealed (or not by qsmd).
        case unsealed
        /// Edited, moved to another position or log, or sealed under another master key.
        case notAuthentic

        var description: String {
            switch self {
            case .unsealed: "it carries no authentication code (written by an older qsmd, or not by qsmd)"
            case .notAuthentic: "its authentication code does not match: it was altered, moved, or made under another master key"
            }
        }
    }

    private static func context(logID: UUID, position: UInt64) -> String {
        "broker-snapshot/\(logID.uuidString.lowercased())/\(position)"
    }
}
