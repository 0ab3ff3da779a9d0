import Foundation
import Testing
import Varlink

@Suite("Calls, replies and errors")
struct ProtocolTests {
    @Test func getInfoListsInterfaces() async throws {
        try await withTestServer { path, _ in
            let reply = try await offload { try TestClient(path: path).call(#"{"method":"org.varlink.service.GetInfo"}"#) }
            #expect(reply.error == nil)
            let parameters = reply.parameters
            #expect(parameters["vendor"] as? String == "qsm")
            #expect(parameters["product"] as? String == "varlink-tests")
            #expect(parameters["version"] as? String == "1")
            #expect(parameters["url"] as? String == "https://example.org")
            #expect(
                parameters["interfaces"] as? [String] == ["org.example.locked", "org.example.test", "org.varlink.service"])
        }
    }

    @Test func getInterfaceDescriptionIsVerbatim() async throws {
        try await withTestServer { path, _ in
            let reply = try await offload {
                try TestClient(path: path).call(
                    #"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"org.example.test"}}"#)
            }
            #expect(reply.parameters["description"] as? String == testInterfaceDescription)
            let missing = try await offload {
                try TestClient(path: path).call(
                    #"{"method":"org.varlink.service.GetInterfaceDescription","parameters":{"interface":"no.such"}}"#)
            }
            #expect(missing.error == "org.varlink.service.InterfaceNotFound")
            #expect(missing.parameters["interface"] as? String == "no.such")
        }
    }

    @Test func unknownInterfaceAndMethod() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                let noInterface = try client.call(#"{"method":"org.example.nothing.Echo"}"#)
                #expect(noInterface.error == "org.varlink.service.InterfaceNotFound")
                #expect(noInterface.parameters["interface"] as? String == "org.example.nothing")
                let noMethod = try client.call(#"{"method":"org.example.test.Nothing"}"#)
                #expect(noMethod.error == "org.varlink.service.MethodNotFound")
                #expect(noMethod.parameters["method"] as? String == "org.example.test.Nothing")
                let notDone = try client.call(#"{"method":"org.example.test.NotDone"}"#)
                #expect(notDone.error == "org.varlink.service.MethodNotImplemented")
                // The connection survives call errors.
                #expect(try client.call(#"{"method":"org.example.test.Echo","parameters":{"text":"x"}}"#).error == nil)
            }
        }
    }

    @Test(arguments: [
        (#"{}"#, "text"),
        (#"{"text": 5}"#, "text"),
        (#"{"text": null}"#, "text"),
        (#"{"text": "a", "count": "five"}"#, "count"),
        (#"{"text": "a", "count": 1.5}"#, "count"),
        (#"{"text": "a", "point": {"x": 1}}"#, "point"),
        (#"{"text": "a", "point": {"x": 1, "y": "2"}}"#, "point"),
        (#"{"text": "a", "tags": ["a", 1]}"#, "tags"),
        (#"{"text": "a", "ratio": true}"#, "ratio"),
        (#"[1]"#, "parameters"),
    ])
    func missingOrMistypedParameter(parameters: String, name: String) async throws {
        try await withTestServer { path, _ in
            let reply = try await offload {
                try TestClient(path: path).call(#"{"method":"org.example.test.Echo","parameters":\#(parameters)}"#)
            }
            #expect(reply.error == "org.varlink.service.InvalidParameter")
            #expect(reply.parameters["parameter"] as? String == name)
        }
    }

    @Test func wellTypedOptionalParametersAreAccepted() async throws {
        try await withTestServer { path, _ in
            let reply = try await offload {
                try TestClient(path: path).call(
                    #"{"method":"org.example.test.Echo","parameters":{"text":"a","count":2.0,"point":{"x":1,"y":2,"z":3},"tags":[],"ratio":1,"unknown":1}}"#
                )
            }
            #expect(reply.error == nil)
            #expect(reply.parameters["text"] as? String == "a")
        }
    }

    @Test func onewayGetsNoReply() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                try client.send(#"{"method":"org.example.test.Echo","oneway":true,"parameters":{"text":"first"}}"#)
                try client.send(#"{"method":"org.example.test.Fail","oneway":true,"parameters":{"reason":"r"}}"#)
                try client.send(#"{"method":"org.example.test.Echo","parameters":{"text":"second"}}"#)
                let reply = try #require(try client.receive())
                #expect(reply.parameters["text"] as? String == "second")
            }
        }
    }

    @Test func moreStreamsRepliesWithContinues() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                try client.send(#"{"method":"org.example.test.Stream","more":true,"parameters":{"count":5}}"#)
                for index in 0..<5 {
                    let reply = try #require(try client.receive())
                    #expect(reply.parameters["index"] as? Int == index)
                    #expect(reply.continues == (index < 4))
                }
            }
        }
    }

    @Test func streamingWithoutMoreIsExpectedMore() async throws {
        try await withTestServer { path, _ in
            let reply = try await offload {
                try TestClient(path: path).call(#"{"method":"org.example.test.Stream","parameters":{"count":3}}"#)
            }
            #expect(reply.error == "org.varlink.service.ExpectedMore")
        }
    }

    @Test func pipelinedCallsAreAnsweredInOrder() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                // A slow streaming call, then fast ones, in one write: nothing may overtake the stream.
                var bytes = Array(#"{"method":"org.example.test.Stream","more":true,"parameters":{"count":3,"delayMs":30}}"#.utf8) + [0]
                bytes += Array(#"{"method":"org.example.test.Echo","parameters":{"text":"after"}}"#.utf8) + [0]
                bytes += Array(#"{"method":"org.example.test.Nothing"}"#.utf8) + [0]
                bytes += Array(#"{"method":"org.example.test.Stream","more":true,"parameters":{"count":2}}"#.utf8) + [0]
                try client.send(bytes)
                var seen: [String] = []
                for _ in 0..<7 {
                    let reply = try #require(try client.receive())
                    if let index = reply.parameters["index"] as? Int {
                        seen.append("s\(index)\(reply.continues ? "+" : "")")
                    } else if let text = reply.parameters["text"] as? String {
                        seen.append(text)
                    } else {
                        seen.append(reply.error ?? "?")
                    }
                }
                #expect(seen == ["s0+", "s1+", "s2", "after", "org.varlink.service.MethodNotFound", "s0+", "s1"])
            }
        }
    }

    @Test func declaredErrorsAndPermissionDenied() async throws {
        try await withTestServer { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                let failed = try client.call(#"{"method":"org.example.test.Fail","parameters":{"reason":"because"}}"#)
                #expect(failed.error == "org.example.test.Failed")
                #expect(failed.parameters["reason"] as? String == "because")
                let denied = try client.call(#"{"method":"org.example.locked.Secret"}"#)
                #expect(denied.error == "org.varlink.service.PermissionDenied")
            }
        }
    }
}
