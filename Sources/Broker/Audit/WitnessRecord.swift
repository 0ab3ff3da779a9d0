public import Foundation

/// One line of a witness file: a copy of a signed checkpoint kept outside the data directory, so that
/// someone who can rewrite the data directory (log, keys and all) cannot also rewrite what the witness
/// saw. One JSON object per line, keys sorted; docs/audit.md describes the fields.
public struct WitnessRecord: Sendable, Hashable {
    public let statement: CheckpointStatement
    /// The position of the CheckpointSigned event itself.
    public let eventPosition: UInt64
    /// When the checkpoint was recorded, microseconds since the epoch.
    public let recordedAtMicros: Int64
    public let signature: Data
    public let publicKeyID: Data

    public init(statement: CheckpointStatement, eventPosition: UInt64, recordedAtMicros: Int64, signature: Data, publicKeyID: Data) {
        self.statement = statement
        self.eventPosition = eventPosition
        self.recordedAtMicros = recordedAtMicros
        self.signature = signature
        self.publicKeyID = publicKeyID
    }

    /// The record as one line of JSON, with its line feed.
    public var line: String {
        let object: [String: Any] = [
            "logId": statement.logID.uuidString.lowercased(), "position": statement.position,
            "chainHash": statement.chainHash.hex, "checkpointEvent": eventPosition,
            "recordedAtUs": recordedAtMicros, "algorithm": "ML-DSA-65",
            "publicKeyId": publicKeyID.hex, "signature": signature.base64EncodedString(),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Parses one line; throws with the reason when it is not a witness record.
    public init(line: String) throws(WitnessError) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
            throw WitnessError(reason: "not a JSON object")
        }
        func number(_ key: String) throws(WitnessError) -> Int64 {
            guard let value = object[key] as? NSNumber, let int = Optional(value.int64Value),
                  int >= 0 else { throw WitnessError(reason: "\(key) is missing or not a whole number") }
            return int
        }
        func bytes(_ key: String, count: Int?) throws(WitnessError) -> Data {
            guard let text = object[key] as? String, let data = Data(hex: text), count.map({ data.count == $0 }) ?? true else {
                throw WitnessError(reason: "\(key) is missing or not hex\(count.map { " of \($0) bytes" } ?? "")")
            }
            return data
        }
        guard let logText = object["logId"] as? String, let logID = UUID(uuidString: logText) else {
            throw WitnessError(reason: "logId is missing or not a UUID")
        }
        guard let signatureText = object["signature"] as? String, let signature = Data(base64Encoded: signatureText) else {
            throw WitnessError(reason: "signature is missing or not base64")
        }
        statement = CheckpointStatement(
            logID: logID, position: UInt64(try number("position")), chainHash: try bytes("chainHash", count: 32))
        eventPosition = UInt64(try number("checkpointEvent"))
        recordedAtMicros = try number("recordedAtUs")
        self.signature = signature
        publicKeyID = try bytes("publicKeyId", count: 32)
    }

    /// Every record of the witness file at `path`, in order; throws naming the first bad line.
    public static func read(path: String) throws(WitnessError) -> [WitnessRecord] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw WitnessError(reason: "cannot read the witness file \(path)")
        }
        var records: [WitnessRecord] = []
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        // A last line without its line feed is being written now, or was cut short by a crash: qsmd
        // appends whole lines, so it is not a record yet.
        if data.last != UInt8(ascii: "\n") { lines.removeLast() }
        for (index, line) in lines.enumerated() where !line.isEmpty {
            do { records.append(try WitnessRecord(line: String(line))) } catch {
                throw WitnessError(reason: "\(path) line \(index + 1): \(error.reason)")
            }
        }
        return records
    }
}

/// A witness file or line that cannot be used.
public struct WitnessError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { "witness: \(reason)" }
}
