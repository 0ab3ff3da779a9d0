/// The `QKD` suite (placeholder until its issue lands).
enum QKDBench {
    static func run(_ options: [String]) throws {
        print("QKD benchmark not built yet")
    }
}
