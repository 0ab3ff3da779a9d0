import Broker
import Foundation
import Varlink

/// StartSecondFactor, ConfirmSecondFactor, DisableSecondFactor and NewRecoveryCodes on io.qsm.Broker.
enum SecondFactorMethods {
    typealias Handler = @Sendable (VarlinkCall, Caller) async throws(BrokerError) -> JSONObject

    /// Registers the methods through `handle` (BrokerInterface's, which maps refusals to declared errors).
    static func add(to handle: (String, @escaping Handler) -> Void, broker: Broker) {
        handle("StartSecondFactor") { call, caller throws(BrokerError) in
            ["uri": .string(try await broker.startSecondFactor(token: try string(call, "token"), caller: caller))]
        }
        handle("ConfirmSecondFactor") { call, caller throws(BrokerError) in
            let codes = try await broker.confirmSecondFactor(
                token: try string(call, "token"), code: try string(call, "code"), caller: caller)
            return ["recoveryCodes": .array(codes.map { .string($0) })]
        }
        handle("DisableSecondFactor") { call, caller throws(BrokerError) in
            try await broker.disableSecondFactor(
                token: try string(call, "token"), password: try string(call, "password"), code: try string(call, "code"),
                caller: caller)
            return [:]
        }
        handle("NewRecoveryCodes") { call, caller throws(BrokerError) in
            let codes = try await broker.newRecoveryCodes(
                token: try string(call, "token"), code: try string(call, "code"), caller: caller)
            return ["recoveryCodes": .array(codes.map { .string($0) })]
        }
    }

    private static func string(_ call: VarlinkCall, _ name: String) throws(BrokerError) -> String {
        try BrokerInterface.param { try VarlinkMapping.string(call, name) }
    }
}
