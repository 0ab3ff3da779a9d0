import Foundation
import QSMEvents
import SwiftProtobuf

/// Retires every pair's unused pool bits and aes block in force (security review, issue 16 item 1).
///
/// qsmd runs it at every start, before any command: a log cut back (truncated, or restored from a backup)
/// forgets which pool bits and aes (key, nonce) pairs were handed out after the cut, and nothing in the
/// data directory can prove that no cut happened (a backup restores every file in it). Key material used
/// after a start therefore always comes from exchanges recorded after that start; a send that finds its
/// pool retired runs a fresh exchange first, as for an empty pool.
struct RetireKeyMaterialCommand: BrokerCommand {
    /// "start", or "damaged-log-accepted" when the operator accepted a log that failed its start-up check.
    let cause: String
    /// What the start-up check found, for an accepted damaged log.
    let detail: String

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<Void, BrokerError> {
        let inForce = state.keyPools.keyMaterialInForce
        // Nothing to retire and nothing to record: a start writes no event.
        guard inForce.pairs > 0 || !detail.isEmpty else { return .success(()) }
        decision.emit(.keyMaterialRetired(.with {
            $0.cause = cause
            $0.detail = detail
            $0.pairs = UInt32(clamping: inForce.pairs)
            $0.bits = inForce.bits
        }), actor: "")
        return .success(())
    }
}

/// Records that the operator had qsmd make a new signing key for a log signed by another.
struct ReplaceSigningKeyCommand: BrokerCommand {
    let previousKeyID: Data
    let publicKeyID: Data
    let publicKey: Data

    func decide(_ state: BrokerState, _ decision: inout Decision) -> Result<Void, BrokerError> {
        decision.emit(.signingKeyReplaced(.with {
            $0.previousPublicKeyID = previousKeyID
            $0.publicKeyID = publicKeyID
            $0.publicKey = publicKey
        }), actor: "")
        return .success(())
    }
}
