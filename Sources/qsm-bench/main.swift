// qsm-bench: the benchmarks behind tools/bench. Each suite prints its figures and, last, one summary line.
import Foundation

let usage = "usage: qsm-bench log|qkd|crypto|consttime|broker|socket|forensics|web [options]"
let arguments = Array(CommandLine.arguments.dropFirst())
guard let suite = arguments.first else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(64)
}
let options = Array(arguments.dropFirst())
do {
    switch suite {
    case "log": try await LogBench.run(options)
    case "pg-log": try await PostgresLogBench.run(options)
    case "qkd": try QKDBench.run(options)
    case "crypto": try CryptoBench.run(options)
    case "consttime": try ConstantTimeBench.run(options)
    case "broker": try await BrokerBench.run(options)
    case "socket": try await SocketBench.run(options)
    case "forensics": try await ForensicsBench.run(options)
    case "web": try await WebBench.run(options)
    default:
        FileHandle.standardError.write(Data("qsm-bench: unknown suite '\(suite)'\n\(usage)\n".utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("qsm-bench \(suite): \(error)\n".utf8))
    exit(1)
}
