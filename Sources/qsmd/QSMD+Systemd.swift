import ArgumentParser
import Foundation
import Logging
import QSMDaemon

/// What a service manager handed qsmd: its listening sockets and the socket to notify.
struct ServiceManagerHandover {
    var activation: SocketActivation?
    var notifier: SystemdNotifier?
}

extension QSMD {
    /// Reads LISTEN_FDS/LISTEN_PID/LISTEN_FDNAMES and NOTIFY_SOCKET/WATCHDOG_USEC before anything is
    /// created, and checks the data directory exists when `--require-data-directory` asks: whatever is wrong
    /// stops qsmd with one line on standard error (the journal) and a non-zero status, never a daemon
    /// that runs without serving.
    func serviceManagerHandover(dataDirectory: String, logger: Logger) throws -> ServiceManagerHandover {
        var handover = ServiceManagerHandover()
        do { handover.activation = try SocketActivation.fromEnvironment() } catch {
            logger.critical("Cannot use the sockets passed by the service manager: \(error)")
            throw ExitCode(78)  // EX_CONFIG: the socket unit does not fit
        }
        do { handover.notifier = try SystemdNotifier.fromEnvironment() } catch {
            logger.critical("Cannot notify the service manager: \(error)")
            throw ExitCode(69)  // EX_UNAVAILABLE
        }
        if requireDataDirectory {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory), isDirectory.boolValue
            else {
                let reason = "is its volume mounted, or its backup restored?"
                logger.critical("The data directory \(dataDirectory) is missing (--require-data-directory): \(reason)")
                throw ExitCode(66)  // EX_NOINPUT
            }
        }
        return handover
    }
}
