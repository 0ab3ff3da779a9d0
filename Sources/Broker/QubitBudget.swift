import Synchronization

/// Qubits each user may have simulated within a sliding window, counted when an exchange is admitted
/// (EstablishKey, and the exchanges Send runs to top a pool up). The exchange pool bounds how many cores
/// BB84 takes at once; the budget bounds how much of that one user may take over time (security review,
/// issue 16 item 6). Kept in memory only: a restart forgets it, which costs an attacker a restart they
/// cannot cause.
final class QubitBudget: Sendable {
    /// What was charged, so it can be given back if the exchange never ran.
    struct Charge: Sendable {
        let user: String
        let at: Int64
        let qubits: Int
    }

    private let limit: Int
    private let window: Int64
    /// Per user, the charges still inside the window, oldest first.
    private let charges = Mutex<[String: [(at: Int64, qubits: Int)]]>([:])

    /// `limit` qubits per user in any `windowSeconds`; a limit of 0 means no budget.
    init(limit: Int, windowSeconds: Int64) {
        self.limit = limit
        window = max(1, windowSeconds) * 1_000_000
    }

    /// Charges `qubits` to `user` at `now` (microseconds), or refuses with the time at which enough of
    /// the window will have passed.
    func charge(_ user: String, qubits: Int, now: Int64) throws(BrokerError) -> Charge? {
        guard limit > 0 else { return nil }
        let seconds = window / 1_000_000
        guard qubits <= limit else {
            throw .invalidParameter(
                name: "qubits", reason: "\(qubits) is over the budget of \(limit) qubits per user in \(seconds) s")
        }
        let refusal: Int64? = charges.withLock { charges in
            var entries = charges[user, default: []]
            entries.removeAll { $0.at <= now - window }
            var used = entries.reduce(0) { $0 + $1.qubits }
            guard used + qubits > limit else {
                entries.append((now, qubits))
                charges[user] = entries
                return nil
            }
            charges[user] = entries.isEmpty ? nil : entries
            // The oldest charges leave the window first: the retry time is when enough of them have.
            for entry in entries {
                used -= entry.qubits
                if used + qubits <= limit { return entry.at + window }
            }
            return now + window
        }
        if let until = refusal {
            throw .qubitBudgetExceeded(limit: limit, windowSeconds: seconds, until: until)
        }
        return Charge(user: user, at: now, qubits: qubits)
    }

    /// Gives a charge back: its exchange was cancelled before it ran.
    func refund(_ charge: Charge?) {
        guard let charge else { return }
        charges.withLock { charges in
            guard var entries = charges[charge.user],
                  let index = entries.firstIndex(where: { $0.at == charge.at && $0.qubits == charge.qubits })
            else { return }
            entries.remove(at: index)
            charges[charge.user] = entries.isEmpty ? nil : entries
        }
    }
}
