import Foundation
import QSMClient
import Testing

@testable import QSMWeb

/// The inbox's rows are rendered once per message and read state, escaped, and the cache stays bounded.
@Suite struct RowCacheTests {
    private func message(_ id: String, from: String = "alice", read: Bool) throws -> BrokerAPI.InboxMessage {
        let json = #"{"messageId":"\#(id)","from":"\#(from)","sentAt":1800000000000000,"mode":"aes","size":64,"read":\#(read)}"#
        return try JSONDecoder().decode(BrokerAPI.InboxMessage.self, from: Data(json.utf8))
    }

    @Test func aRowChangesWhenItsMessageIsReadAndIsEscaped() throws {
        let templates = try Templates.library()
        let cache = RowCache()
        let unread = try cache.html(for: message("01a3185c5000774592a05a784312adf3", from: "<b>&", read: false), templates: templates)
        #expect(unread.contains(#"class="unread""#))
        #expect(unread.contains("&lt;b&gt;&amp;") && !unread.contains("<b>"))
        #expect(unread.contains("2027-01-15 08:00:00") && unread.contains("64 bytes"))
        let read = try cache.html(for: message("01a3185c5000774592a05a784312adf3", from: "<b>&", read: true), templates: templates)
        #expect(!read.contains(#"class="unread""#))
        #expect(cache.count == 2)
        // The same message and state again is the same row, from the cache.
        #expect(try cache.html(for: message("01a3185c5000774592a05a784312adf3", from: "<b>&", read: true), templates: templates) == read)
        #expect(cache.count == 2)
    }

    @Test func theCacheStartsAgainPastItsLimit() throws {
        let templates = try Templates.library()
        let cache = RowCache(limit: 3)
        for index in 0..<3 {
            _ = cache.html(for: try message(String(format: "%032x", index), read: false), templates: templates)
        }
        #expect(cache.count == 3)
        _ = cache.html(for: try message(String(format: "%032x", 99), read: false), templates: templates)
        #expect(cache.count == 1)
    }
}
