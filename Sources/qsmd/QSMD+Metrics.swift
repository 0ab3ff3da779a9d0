import ArgumentParser
import Logging
import QSMDaemon

extension QSMD {
    /// Refuses a `--metrics-listen` that does not parse, or names a non-loopback address without
    /// `--metrics-allow-remote` (exit 64, before anything starts).
    func validateMetrics() throws {
        guard let metricsListen else {
            if metricsAllowRemote { throw ValidationError("--metrics-allow-remote needs --metrics-listen") }
            return
        }
        do { _ = try MetricsEndpoint(metricsListen, allowRemote: metricsAllowRemote) } catch {
            throw ValidationError("--metrics-listen: \(error)")
        }
    }

    /// Starts the metrics endpoint when `--metrics-listen` asks for it, before the broker opens: a port
    /// in use (or any bind failure) stops qsmd at once with exit status 69, nothing else started.
    func startMetrics(logger: Logger) async throws -> MetricsServer? {
        guard let metricsListen else { return nil }
        do {
            let endpoint = try MetricsEndpoint(metricsListen, allowRemote: metricsAllowRemote)
            return try await MetricsServer.start(endpoint: endpoint, logger: logger)
        } catch {
            logger.critical("Cannot serve metrics", metadata: ["metrics.address": "\(metricsListen)", "error": "\(error)"])
            throw ExitCode(69)  // EX_UNAVAILABLE
        }
    }
}
