internal import Synchronization

/// `org.varlink.certification`: the interface the reference clients (varlink.org) use to certify a server.
/// A client calls Start, Test01 … Test11 and End in order, each with what the previous reply returned.
/// Served only when ``VarlinkServerConfiguration/enableCertification`` is set.
enum VarlinkCertification {
    static let description = """
        # Interface to test varlink implementations against: a client calls Start, Test01 … Test11, End;
        # the reply of each call is the argument of the next (varlink.org, Language Bindings).
        interface org.varlink.certification

        type Interface (
          foo: ?[]?[string](foo, bar, baz),
          anon: (foo: bool, bar: bool)
        )

        type MyType (
          object: object,
          enum: (one, two, three),
          struct: (first: int, second: string),
          array: []string,
          dictionary: [string]string,
          stringset: [string](),
          nullable: ?string,
          nullable_array_struct: ?[](first: int, second: string),
          interface: Interface
        )

        method Start() -> (client_id: string)

        method Test01(client_id: string) -> (bool: bool)

        method Test02(client_id: string, bool: bool) -> (int: int)

        method Test03(client_id: string, int: int) -> (float: float)

        method Test04(client_id: string, float: float) -> (string: string)

        method Test05(client_id: string, string: string) -> (
          bool: bool,
          int: int,
          float: float,
          string: string
        )

        method Test06(
          client_id: string,
          bool: bool,
          int: int,
          float: float,
          string: string
        ) -> (
          struct: (
            bool: bool,
            int: int,
            float: float,
            string: string
          )
        )

        method Test07(
          client_id: string,
          struct: (
            bool: bool,
            int: int,
            float: float,
            string: string
          )
        ) -> (map: [string]string)

        method Test08(client_id: string, map: [string]string) -> (set: [string]())

        method Test09(client_id: string, set: [string]()) -> (mytype: MyType)

        # returns more than one reply with "continues"
        method Test10(client_id: string, mytype: MyType) -> (string: string)

        # must be called as "oneway"
        method Test11(client_id: string, last_more_replies: []string) -> ()

        method End(client_id: string) -> (all_ok: bool)

        error ClientIdError ()

        error CertificationError (wants: object, got: object)

        """

    static let pi = 3.141592653589793
    static let fiveStrings: JSONObject = ["bool": false, "int": 2, "float": .double(pi), "string": "a lot of string"]
    static let map: JSONObject = ["foo": "Foo", "bar": "Bar"]
    static let set: JSONObject = ["one": [:], "two": [:], "three": [:]]
    static let myType: JSONObject = [
        "object": ["method": "org.varlink.certification.Test09", "parameters": ["map": .object(map)]],
        "enum": "two",
        "struct": ["first": 1, "second": "2"],
        "array": ["one", "two", "three"],
        "dictionary": .object(map),
        "stringset": .object(set),
        "interface": [
            "foo": [nil, ["foo": "foo", "bar": "bar"], nil, ["one": "foo", "two": "bar"]],
            "anon": ["foo": true, "bar": false],
        ],
    ]
    static let replies = (1...10).map { "Reply number \($0)" }

    /// Clients in progress: client id → the method it must call next. Bounded: the oldest are forgotten.
    private final class Clients: Sendable {
        private let state = Mutex<(next: [String: String], order: [String])>(([:], []))
        private static let limit = 1000

        func start() -> String {
            var generator = SystemRandomNumberGenerator()
            let id = (0..<16).map { _ in
                let byte = UInt8.random(in: 0...255, using: &generator)
                return String(byte, radix: 16).count == 1 ? "0" + String(byte, radix: 16) : String(byte, radix: 16)
            }.joined()
            state.withLock { state in
                if state.order.count >= Self.limit { state.next[state.order.removeFirst()] = nil }
                state.next[id] = "Test01"
                state.order.append(id)
            }
            return id
        }

        /// Checks that `method` is the client's next step and moves it on (or forgets it when `next` is nil).
        func advance(_ call: VarlinkCall, to next: String?) throws {
            let id = call["client_id"]?.stringValue ?? ""
            try state.withLock { state in
                guard let expected = state.next[id] else {
                    throw VarlinkError("org.varlink.certification.ClientIdError")
                }
                guard expected == call.methodName else {
                    state.next[id] = nil
                    throw failure(wants: ["method": .string("org.varlink.certification.\(expected)")], call)
                }
                state.next[id] = next
            }
        }

        func forget(_ call: VarlinkCall) {
            let id = call["client_id"]?.stringValue ?? ""
            state.withLock { $0.next[id] = nil }
        }
    }

    static func failure(wants: JSONObject, _ call: VarlinkCall) -> VarlinkError {
        var got: JSONObject = ["method": .string(call.method), "parameters": .object(call.parameters)]
        if call.more { got["more"] = true }
        if call.oneway { got["oneway"] = true }
        return VarlinkError(
            "org.varlink.certification.CertificationError",
            parameters: ["wants": .object(wants), "got": .object(got)])
    }

    /// Compares a call's parameters (other than client_id) with what the client must send.
    private static func check(
        _ call: VarlinkCall, _ clients: Clients, wants: JSONObject, more: Bool = false, oneway: Bool = false
    ) throws {
        var got = call.parameters
        got["client_id"] = nil
        guard equal(.object(got), .object(wants)), call.more == more, call.oneway == oneway else {
            clients.forget(call)
            var expected: JSONObject = ["method": .string(call.method), "parameters": .object(wants)]
            if more { expected["more"] = true }
            if oneway { expected["oneway"] = true }
            throw failure(wants: expected, call)
        }
    }

    /// JSON equality where integral numbers equal their floating-point form and null members equal absence.
    static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            let keys = Set(x.filter { $0.value != .null }.keys).union(y.filter { $0.value != .null }.keys)
            return keys.allSatisfy { equal(x[$0] ?? .null, y[$0] ?? .null) }
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equal($0, $1) }
        default:
            if let x = a.doubleValue, let y = b.doubleValue { return x == y }
            return a == b
        }
    }

    static func interface() -> VarlinkInterface {
        // A constant description that parses (every certification test would fail otherwise).
        var interface = try! VarlinkInterface(description: description)
        let clients = Clients()
        interface.method("Start") { call in
            guard call.parameters.isEmpty, !call.more, !call.oneway else { throw failure(wants: [:], call) }
            return ["client_id": .string(clients.start())]
        }
        interface.method("Test01") { call in
            try clients.advance(call, to: "Test02")
            try check(call, clients, wants: [:])
            return ["bool": true]
        }
        interface.method("Test02") { call in
            try clients.advance(call, to: "Test03")
            try check(call, clients, wants: ["bool": true])
            return ["int": 1]
        }
        interface.method("Test03") { call in
            try clients.advance(call, to: "Test04")
            try check(call, clients, wants: ["int": 1])
            return ["float": 1.0]
        }
        interface.method("Test04") { call in
            try clients.advance(call, to: "Test05")
            try check(call, clients, wants: ["float": 1.0])
            return ["string": "ping"]
        }
        interface.method("Test05") { call in
            try clients.advance(call, to: "Test06")
            try check(call, clients, wants: ["string": "ping"])
            return fiveStrings
        }
        interface.method("Test06") { call in
            try clients.advance(call, to: "Test07")
            try check(call, clients, wants: fiveStrings)
            return ["struct": .object(fiveStrings)]
        }
        interface.method("Test07") { call in
            try clients.advance(call, to: "Test08")
            try check(call, clients, wants: ["struct": .object(fiveStrings)])
            return ["map": .object(map)]
        }
        interface.method("Test08") { call in
            try clients.advance(call, to: "Test09")
            try check(call, clients, wants: ["map": .object(map)])
            return ["set": .object(set)]
        }
        interface.method("Test09") { call in
            try clients.advance(call, to: "Test10")
            try check(call, clients, wants: ["set": .object(set)])
            var reply = myType
            reply["nullable"] = .null
            reply["nullable_array_struct"] = .null
            return ["mytype": .object(reply)]
        }
        interface.streamingMethod("Test10") { call, replier in
            try clients.advance(call, to: "Test11")
            try check(call, clients, wants: ["mytype": .object(myType)], more: true)
            for reply in replies.dropLast() { try await replier.send(["string": .string(reply)]) }
            return ["string": .string(replies[replies.count - 1])]
        }
        interface.method("Test11") { call in
            try clients.advance(call, to: "End")
            try check(call, clients, wants: ["last_more_replies": .array(replies.map { .string($0) })], oneway: true)
            return [:]
        }
        interface.method("End") { call in
            try clients.advance(call, to: nil)
            try check(call, clients, wants: [:])
            return ["all_ok": true]
        }
        return interface
    }
}
