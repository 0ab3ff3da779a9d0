import Foundation
import Glibc
import Synchronization

/// A line on a terminal's standard error that counts the seconds of a running key exchange: qsmd answers
/// EstablishKey only at the end, and 10,000,000 qubits take seconds. Ctrl-C closes the connection, which
/// cancels the exchange in qsmd before anything is recorded (the line says so).
final class ExchangeProgress: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)
    private let shown = Atomic<Bool>(false)

    /// Starts counting on standard error when it is a terminal and `qubits` makes the wait noticeable;
    /// otherwise does nothing.
    init(peer: String, qubits: Int) {
        guard isatty(STDERR_FILENO) == 1, qubits >= 1_000_000 else {
            stopped.store(true, ordering: .relaxed)
            done.signal()
            return
        }
        let start = ContinuousClock.now
        let thread = Thread { [self] in
            // Quick exchanges finish before the first line is drawn.
            while !stopped.load(ordering: .relaxed) {
                usleep(100_000)
                let elapsed = ContinuousClock.now - start
                guard elapsed >= .seconds(1), !stopped.load(ordering: .relaxed) else { continue }
                let seconds = Int(elapsed.components.seconds)
                let line = "\r\u{1B}[Kkey exchange with \(peer): \(qubits) qubits, \(seconds) s "
                    + "(Ctrl-C cancels it; nothing is stored)"
                FileHandle.standardError.write(Data(line.utf8))
                shown.store(true, ordering: .relaxed)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops counting and clears the line.
    func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        done.wait()
        if shown.load(ordering: .relaxed) { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
