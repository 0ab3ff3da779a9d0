import Broker
import Foundation
import Testing

/// A rules file is checked before the broker uses it: every bad value is refused with its name.
@Suite("IDS rules file")
struct IDSRulesFileTests {
    private func refusal(_ json: String) -> String? {
        do {
            _ = try IDSRules(json: Data(json.utf8), source: "rules.json")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func acceptsOverridesUpToTheLongestDuration() throws {
        let longest = IDSRules.maxDurationSeconds
        let rules = try IDSRules(json: Data("""
            {"bruteForce": {"count": 10, "windowSeconds": \(longest)}, "offenceMemorySeconds": \(longest),
             "lockoutSeconds": 60, "maxLockoutSeconds": \(longest)}
            """.utf8))
        #expect(rules.bruteForce == IDSRules.Threshold(count: 10, windowSeconds: longest))
        #expect(rules.maxLockoutSeconds == longest)
        #expect(rules.sendFlood == IDSRules().sendFlood)
    }

    // Each of these once passed validation and trapped later, multiplying seconds into microseconds.
    @Test(arguments: [
        ("{\"bruteForce\": {\"count\": 5, \"windowSeconds\": 9300000000000}}", "bruteForce.windowSeconds"),
        ("{\"staleTokens\": {\"count\": 3, \"windowSeconds\": 316224001}}", "staleTokens.windowSeconds"),
        ("{\"maxLockoutSeconds\": 9223372036854775807}", "maxLockoutSeconds"),
        ("{\"throttleSeconds\": 400000000}", "throttleSeconds"),
        ("{\"offenceMemorySeconds\": 9300000000000}", "offenceMemorySeconds"),
    ])
    func refusesDurationsBeyondTenYears(json: String, field: String) throws {
        let reason = try #require(refusal(json))
        #expect(reason.contains(field) && reason.contains("ten years"), "\(reason)")
    }

    // Each refusal names what to fix (the field, or that the file is not JSON) and the file it came from.
    @Test(arguments: [
        ("{\"bruteForce\": {\"count\": -1, \"windowSeconds\": 60}}", ["bruteForce", "count"]),
        ("{\"sendFlood\": {\"count\": 5, \"windowSeconds\": 0}}", ["sendFlood.windowSeconds"]),
        ("{\"qberDriftLimit\": 1.5}", ["qberDriftLimit"]),
        ("{\"lockoutSeconds\": 600, \"maxLockoutSeconds\": 300}", ["maxLockoutSeconds", "lockoutSeconds"]),
        ("{\"bruteForce\": \"five\"}", ["bruteForce"]),
        ("not json", ["not a valid rules file"]),
    ])
    func refusesOtherBadValues(json: String, names: [String]) throws {
        let reason = try #require(refusal(json), "accepted: \(json)")
        #expect(reason.contains("rules.json"), "\(reason)")
        for name in names { #expect(reason.contains(name), "\(reason)") }
    }
}
