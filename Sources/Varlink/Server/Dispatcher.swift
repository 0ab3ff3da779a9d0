internal import Logging

/// Routes calls to interfaces: name lookup, parameter checks, `more` and authorization rules, then the
/// handler. Knows nothing of sockets: a connection hands it parsed frames and a way to send bytes.
struct Dispatcher: Sendable {
    let interfaces: [String: VarlinkInterface]
    let logger: Logger

    /// Runs one call to completion, sending its replies (none for `oneway`) through `send`.
    /// - Throws: only when `send` throws (the connection is gone).
    func dispatch(
        _ message: CallMessage, peer: PeerCredentials, send: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws {
        let oneway = message.oneway
        let result: Result<JSONObject, VarlinkError>
        do {
            let (entry, call) = try prepare(message, peer: peer)
            if let authorization = interfaces[call.interface]?.authorization, try await !authorization(call) {
                throw VarlinkError.permissionDenied
            }
            let replier = VarlinkReplier(canContinue: call.more && !oneway) { parameters in
                try await send(ReplyEncoder.reply(parameters, continues: true))
            }
            result = .success(try await entry.handler(call, replier))
        } catch let error as VarlinkError {
            result = .failure(error)
        } catch let error as any VarlinkErrorConvertible {
            result = .failure(error.varlinkError)
        } catch {
            if Task.isCancelled { throw error }
            logger.error(
                "Handler failed", metadata: ["varlink.method": "\(message.method)", "error": "\(String(describing: error))"])
            result = .failure(.internalError)
        }
        guard !oneway else { return }
        switch result {
        case .success(let parameters): try await send(ReplyEncoder.reply(parameters, continues: false))
        case .failure(let error): try await send(ReplyEncoder.error(error))
        }
    }

    /// Finds the handler and checks the call against the interface description.
    private func prepare(
        _ message: CallMessage, peer: PeerCredentials
    ) throws(VarlinkError) -> (VarlinkInterface.Entry, VarlinkCall) {
        guard let interface = interfaces[message.interface] else { throw .interfaceNotFound(message.interface) }
        guard let definition = interface.definition.methods[message.methodName] else {
            throw .methodNotFound(message.method)
        }
        guard let entry = interface.entries[message.methodName] else { throw .methodNotImplemented(message.method) }
        let parameters: JSONObject
        switch message.parameters {
        case nil, .null?: parameters = [:]
        case .object(let members)?: parameters = members
        default: throw .invalidParameter("parameters")
        }
        if let invalid = interface.definition.invalidParameter(in: parameters, for: definition) {
            throw .invalidParameter(invalid)
        }
        if message.upgrade { throw .invalidParameter("upgrade") }
        if entry.requiresMore && !message.more && !message.oneway { throw .expectedMore }
        let call = VarlinkCall(
            interface: message.interface, methodName: message.methodName, parameters: parameters,
            oneway: message.oneway, more: message.more, upgrade: message.upgrade, peer: peer)
        return (entry, call)
    }
}
