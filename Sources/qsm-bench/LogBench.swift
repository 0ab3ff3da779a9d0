/// The `Log` suite (placeholder until its issue lands).
enum LogBench {
    static func run(_ options: [String]) async throws {
        print("Log benchmark not built yet")
    }
}
