import Testing
@testable import Varlink

@Suite("Interface definitions")
struct IDLTests {
    @Test func parsesTheCertificationInterface() throws {
        let definition = try VarlinkInterfaceDefinition(parsing: VarlinkCertification.description)
        #expect(definition.name == "org.varlink.certification")
        #expect(definition.methodNames.first == "Start")
        #expect(definition.methodNames.count == 13)
        #expect(Set(definition.errors.keys) == ["ClientIdError", "CertificationError"])
        #expect(definition.types["Interface"] == .structure([
            VarlinkField(name: "foo", type: .optional(.array(.optional(.dictionary(.enumeration(["foo", "bar", "baz"])))))),
            VarlinkField(name: "anon", type: .structure([
                VarlinkField(name: "foo", type: .bool), VarlinkField(name: "bar", type: .bool),
            ])),
        ]))
        let test10 = try #require(definition.methods["Test10"])
        #expect(definition.invalidParameter(in: ["client_id": "x", "mytype": .object(VarlinkCertification.myType)], for: test10) == nil)
        var broken = VarlinkCertification.myType
        broken["enum"] = "four"
        #expect(definition.invalidParameter(in: ["client_id": "x", "mytype": .object(broken)], for: test10) == "mytype")
    }

    @Test func parsesTheServiceInterface() throws {
        let definition = try VarlinkInterfaceDefinition(parsing: ServiceInterface.description)
        #expect(definition.name == "org.varlink.service")
        #expect(definition.methods["GetInfo"]?.output.map(\.name) == ["vendor", "product", "version", "url", "interfaces"])
        #expect(definition.errors["ExpectedMore"] != nil)
    }

    @Test(arguments: [
        "",
        "interface noDot\nmethod A() -> ()",
        "interface org.example\n",
        "interface org.example\nmethod a() -> ()",
        "interface org.example\nmethod A() -> (x: Missing)",
        "interface org.example\nmethod A(x: ??int) -> ()",
        "interface org.example\nmethod A(x: int, x: int) -> ()",
        "interface org.example\nmethod A() -> ()\nmethod A() -> ()",
        "interface org.example\nmethod A() ()",
        "interface org.example\nmethod A(x: [int]string) -> ()",
        "interface org.example\nmethod A() -> () %",
        "interface org.example\nfunction A() -> ()",
    ])
    func rejectsInvalidDescriptions(text: String) {
        #expect(throws: VarlinkIDLError.self) { try VarlinkInterfaceDefinition(parsing: text) }
    }

    @Test func keepsDescriptionVerbatimAndReportsLines() throws {
        let text = "# comment\ninterface org.example.a-b\n\nmethod A(x: ?[]int) -> (y: [string]())\n"
        let definition = try VarlinkInterfaceDefinition(parsing: text)
        #expect(definition.description == text)
        #expect(definition.name == "org.example.a-b")
        let error = #expect(throws: VarlinkIDLError.self) {
            try VarlinkInterfaceDefinition(parsing: "interface org.example\n\nmethod A(x: bogus!) -> ()")
        }
        #expect(error?.line == 3)
    }
}
