import ArgumentParser
import DashboardPage
import Forensics
import Foundation
import QSMClient

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
        path: String, watch: Bool, minutes: Int, token: String, connection: QSMConnection, options: ClientOptions
    ) async throws {
        func write(_ reply: BrokerAPI.DashboardReply) async throws {
            let alerts = try await latestAlerts(options: options)
            let page = DashboardHTML.render(DashboardHTML.Input(
                reply: reply, alerts: alerts, windowMinutes: minutes, now: Date(), refreshSeconds: watch ? 15 : nil))
            try writeAtomically(Data(page.utf8), to: path)
        }
        if !watch {
            try await write(try await connection.call(BrokerAPI.Dashboard(token: token, minutes: minutes)))
            if options.json { Output.json(["file": path]) } else { print("wrote \(path)") }
            return
        }
        var first = true
        for try await reply in connection.stream(BrokerAPI.WatchDashboard(token: token, minutes: minutes)) {
            do {
                try await write(reply)
            } catch {
                FileHandle.standardError.write(Data("qsm: \(error)\n".utf8))
                return
            }
            if first {
                print("writing \(path) on every change (Ctrl-C to stop)")
                first = false
            }
            fflush(nil)
        }
    }

    /// A saved reply as `qsm dashboard --json` writes it (times in RFC 3339), with an `alerts` list that
    /// may be added beside the Dashboard reply's own fields.
    private struct SavedReply: Decodable {
        var dashboard: BrokerAPI.DashboardReply
        var alerts: [AdminAPI.Alert]?

        init(from decoder: any Decoder) throws {
            dashboard = try BrokerAPI.DashboardReply(from: decoder)
            alerts = try decoder.container(keyedBy: Key.self).decodeIfPresent([AdminAPI.Alert].self, forKey: .alerts)
        }

        private enum Key: String, CodingKey { case alerts }
    }

    /// Renders a saved Dashboard reply (`qsm dashboard --json`) from `input` to `path`, without qsmd.
    static func renderSaved(_ input: String, to path: String, minutes: Int) throws {
        guard let data = FileManager.default.contents(atPath: input),
              let saved = try? SavedTimes.decode(SavedReply.self, from: data)
        else { throw ValidationError("--input: cannot read a JSON object from \(input)") }
        // A saved page is drawn as of its own latest minute, not now.
        let latest = saved.dashboard.minutes.map(\.minute).max()
        let now = latest.map { Date(timeIntervalSince1970: Double($0) * 60) } ?? Date()
        let page = DashboardHTML.render(DashboardHTML.Input(
            reply: saved.dashboard, alerts: saved.alerts?.map(DashboardHTML.Alert.init), windowMinutes: minutes, now: now,
            refreshSeconds: nil))
        try writeAtomically(Data(page.utf8), to: path)
        print("wrote \(path)")
    }

    /// The latest alerts, newest first, or nil when the caller is not an administrator.
    static func latestAlerts(options: ClientOptions, limit: Int = 12) async throws -> [DashboardHTML.Alert]? {
        do {
            let alerts = try await options.connect().call(AdminAPI.Alerts(limit: limit)).alerts
            return alerts.sorted { $0.at > $1.at }.map(DashboardHTML.Alert.init)
        } catch {
            if case QSMClientError.reply(let name, _) = error, name.hasSuffix("PermissionDenied") { return nil }
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

/// Reads back what ``Output/json(_:)`` wrote: its RFC 3339 times as the microseconds the typed replies
/// hold, so a saved reply decodes as qsmd's own would.
enum SavedTimes {
    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let numeric = micros(try JSONSerialization.jsonObject(with: data))
        return try JSONDecoder().decode(type, from: JSONSerialization.data(withJSONObject: numeric))
    }

    private static func micros(_ object: Any) -> Any {
        if let members = object as? [String: Any] {
            var converted = members
            for (key, value) in members {
                if Output.timeKeys.contains(key), let text = value as? String {
                    converted[key] = Timestamps.parse(text, nowMicros: 0) ?? 0
                } else {
                    converted[key] = micros(value)
                }
            }
            return converted
        }
        if let items = object as? [Any] { return items.map(micros) }
        return object
    }
}
