import Foundation
import Testing
import Varlink

@Suite("Reference certification client")
struct CertificationTests {
    @Test func referenceClientPasses() async throws {
        let python = try #require(
            varlinkPython(), "no Python with PyPI varlink: run tools/test, or set QSM_VARLINK_PYTHON")
        try await withTestServer(configure: { $0.enableCertification = true }) { path, _ in
            let result = try await runProcess(
                python, ["-m", "varlink.tests.test_certification", "--client", "--varlink=unix:\(path)"])
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains("Certification passed"), "\(result.output)")
        }
    }

    @Test func certificationIsOffByDefault() async throws {
        try await withTestServer { path, _ in
            let reply = try await offload {
                try TestClient(path: path).call(#"{"method":"org.varlink.certification.Start"}"#)
            }
            #expect(reply.error == "org.varlink.service.InterfaceNotFound")
        }
    }

    @Test func outOfOrderCallIsACertificationError() async throws {
        try await withTestServer(configure: { $0.enableCertification = true }) { path, _ in
            try await offload {
                let client = try TestClient(path: path)
                let start = try client.call(#"{"method":"org.varlink.certification.Start"}"#)
                let id = try #require(start.parameters["client_id"] as? String)
                let wrong = try client.call(
                    #"{"method":"org.varlink.certification.Test02","parameters":{"client_id":"\#(id)","bool":true}}"#)
                #expect(wrong.error == "org.varlink.certification.CertificationError")
                let unknown = try client.call(
                    #"{"method":"org.varlink.certification.Test01","parameters":{"client_id":"nope"}}"#)
                #expect(unknown.error == "org.varlink.certification.ClientIdError")
            }
        }
    }
}
