/// What `org.varlink.service.GetInfo` reports about the service.
public struct VarlinkServiceInfo: Sendable, Hashable {
    public var vendor: String
    public var product: String
    public var version: String
    public var url: String

    /// Creates service information.
    public init(vendor: String, product: String, version: String, url: String) {
        self.vendor = vendor
        self.product = product
        self.version = version
        self.url = url
    }
}

enum ServiceInterface {
    /// The description of `org.varlink.service` (varlink.org, with the PermissionDenied and ExpectedMore
    /// errors that systemd's implementation added).
    static let description = """
        # The Varlink Service Interface is provided by every varlink service. It
        # describes the service and the interfaces it implements.
        interface org.varlink.service

        # Get a list of all the interfaces a service provides and information
        # about the implementation.
        method GetInfo() -> (
          vendor: string,
          product: string,
          version: string,
          url: string,
          interfaces: []string
        )

        # Get the description of an interface that is implemented by this service.
        method GetInterfaceDescription(interface: string) -> (description: string)

        # The requested interface was not found.
        error InterfaceNotFound (interface: string)

        # The requested method was not found
        error MethodNotFound (method: string)

        # The interface defines the requested method, but the service does not
        # implement it.
        error MethodNotImplemented (method: string)

        # One of the passed parameters is invalid.
        error InvalidParameter (parameter: string)

        # Client is denied access
        error PermissionDenied ()

        # Method is expected to be called with 'more' set to true, but wasn't
        error ExpectedMore ()

        """

    /// Builds `org.varlink.service` for a set of interfaces (which should include this one's name).
    static func make(info: VarlinkServiceInfo, descriptions: [String: String]) -> VarlinkInterface {
        // The description above is a constant that parses; a failure here is a bug caught by every test.
        var service = try! VarlinkInterface(description: description)
        let names = descriptions.keys.sorted()
        service.method("GetInfo") { _ in
            [
                "vendor": .string(info.vendor), "product": .string(info.product), "version": .string(info.version),
                "url": .string(info.url), "interfaces": .array(names.map { .string($0) }),
            ]
        }
        service.method("GetInterfaceDescription") { call in
            let name = call["interface"]?.stringValue ?? ""
            guard let text = descriptions[name] else { throw VarlinkError.interfaceNotFound(name) }
            return ["description": .string(text)]
        }
        return service
    }
}
