/// The `Crypto` suite (placeholder until its issue lands).
enum CryptoBench {
    static func run(_ options: [String]) throws {
        print("Crypto benchmark not built yet")
    }
}
