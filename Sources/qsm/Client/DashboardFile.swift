import ArgumentParser
import DashboardPage
import Foundation
import Varlink

/// `--window`: a duration of whole minutes or hours, up to the 24 hours the broker keeps.
enum DashboardWindow {
    /// Minutes in `text` ("1h", "24h", "90m", "45"), or nil when it is not a duration from 1 minute to 24 hours.
    static func minutes(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let (digits, factor): (Substring, Int) =
            if trimmed.hasSuffix("h") { (trimmed.dropLast(), 60) } else if trimmed.hasSuffix("m") { (trimmed.dropLast(), 1) } else { (Substring(trimmed), 1) }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let count = Int(digits), count > 0, count <= 1440 / factor else {
            return nil
        }
        return count * factor
    }
}

/// `qsm dashboard --html FILE`: fetches the dashboard (and, for administrators, the latest alerts) and
/// writes the page atomically: to a temporary file beside FILE, then renamed over it.
enum DashboardFile {
    /// Refuses FILE when its directory is missing or not writable, or FILE is a directory, before anything
    /// is fetched or written.
    static func checkWritable(_ path: String) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--html: the directory \(directory) does not exist")
        }
        guard access(directory, W_OK | X_OK) == 0 else {
            throw ValidationError("--html: cannot write in \(directory): \(String(cString: strerror(errno)))")
        }
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("--html: \(url.path) is a directory")
        }
    }

    static func run(
        path: String, watch: Bool, minutes: Int, parameters: [String: Any], connection: VarlinkClient,
        options: ClientOptions
    ) throws {
        func write(_ reply: [String: Any]) throws {
            let alerts = try latestAlerts(options: options)
            let page = DashboardHTML.render(DashboardHTML.Input(
                reply: reply, alerts: alerts, windowMinutes: minutes, now: Date(), refreshSeconds: watch ? 15 : nil, integer: Output.int))
            try writeAtomically(Data(page.utf8), to: path)
        }
        if !watch {
            try write(try connection.call("io.qsm.Broker.Dashboard", parameters))
            if options.json { Output.json(["file": path]) } else { print("wrote \(path)") }
            return
        }
        var first = true
        try connection.stream("io.qsm.Broker.WatchDashboard", parameters) { reply in
            do {
                try write(reply)
            } catch {
                FileHandle.standardError.write(Data("qsm: \(error)\n".utf8))
                return false
            }
            if first {
                print("writing \(path) on every change (Ctrl-C to stop)")
                first = false
            }
            fflush(nil)
            return true
        }
    }

    /// Renders a saved Dashboard reply (`qsm dashboard --json`) from `input` to `path`, without qsmd.
    static func renderSaved(_ input: String, to path: String, minutes: Int) throws {
        guard let data = FileManager.default.contents(atPath: input),
              let reply = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw ValidationError("--input: cannot read a JSON object from \(input)") }
        // A saved page is drawn as of its own latest minute, not now.
        let latest = (reply["minutes"] as? [[String: Any]] ?? []).map { Output.int($0["minute"]) }.max()
        let now = latest.map { Date(timeIntervalSince1970: Double($0) * 60) } ?? Date()
        let page = DashboardHTML.render(DashboardHTML.Input(
            reply: reply, alerts: reply["alerts"] as? [[String: Any]], windowMinutes: minutes, now: now, refreshSeconds: nil, integer: Output.int))
        try writeAtomically(Data(page.utf8), to: path)
        print("wrote \(path)")
    }

    /// The latest alerts, newest first, or nil when the caller is not an administrator.
    static func latestAlerts(options: ClientOptions, limit: Int = 12) throws -> [[String: Any]]? {
        do {
            let reply = try options.connect().call("io.qsm.Admin.Alerts", ["limit": limit])
            let alerts = reply["alerts"] as? [[String: Any]] ?? []
            return alerts.sorted { Output.int($0["at"]) > Output.int($1["at"]) }
        } catch let error as VarlinkClientError {
            if case .reply(let name, _) = error, name.hasSuffix("PermissionDenied") { return nil }
            throw error
        }
    }

    /// Writes `data` to a temporary file in `path`'s directory and renames it over `path`, so a reader
    /// (a browser, a web server) sees the old page or the new one, never half of one.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp").path
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw ValidationError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var failure: String?
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    failure = String(cString: strerror(errno))
                    return
                }
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = String(cString: strerror(errno)) }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = String(cString: strerror(errno)) }
        if let failure {
            unlink(temporary)
            throw ValidationError("cannot write \(path): \(failure)")
        }
    }
}
