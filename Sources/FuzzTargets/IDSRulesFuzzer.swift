import Broker
import EventLog
import Foundation
import QSMEvents
import QSMTesting
import SwiftProtobuf

/// Target `ids-rules`: the rules file qsmd reads with `--rules`. Any input must be accepted or refused with
/// an error; accepted rules must then drive intrusion detection over a stream of logins failing, refused
/// accesses, key exchanges and sends (the events its rules count) without stopping the process.
public enum IDSRulesFuzzer {
    /// Events every rule looks at, from QSMTesting's samples, repeated a second apart and after a long pause.
    static let stream: [QSMEvent] = {
        var generator = SeededGenerator(seed: 9)
        let watched = SampleEvents.allBodies(using: &generator).filter { body in
            switch body {
            case .loginFailed, .accessDenied, .keyExchangeAborted, .keyExchangeCompleted, .messageSent: true
            default: false
            }
        }
        var events: [QSMEvent] = []
        var at: Int64 = 1_800_000_000_000_000
        for round in 0..<12 {
            at += round == 8 ? 90_000 * 1_000_000 : 1_000_000
            for body in watched {
                events.append(QSMEvent.with {
                    $0.position = UInt64(events.count + 1)
                    $0.recordedAtUs = at
                    $0.type = body.type.rawValue
                    $0.actor = "alice"
                    $0.peer = .with { $0.uid = 1001; $0.gid = 1001; $0.pid = 4242 }
                    $0.body = body
                })
            }
        }
        return events
    }()

    /// Runs one input.
    public static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let rules = try? IDSRules(json: Data(bytes)) else { return }
        var state = BrokerState(rules: rules)
        for event in stream {
            state.evolve(event)
            _ = state.ids.takePending()
        }
        _ = try? state.digests()
    }
}
