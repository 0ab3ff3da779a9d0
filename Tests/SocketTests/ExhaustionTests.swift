import EventLog
import Foundation
import QSMEvents
import QSMTesting
import Synchronization
import Testing

/// Resource exhaustion against a real qsmd: many idle connections, peers that never read, a full disk.
@Suite("Exhaustion")
struct ExhaustionTests {
    /// 1,000 connections open and idle while four others send and list their inbox: every served call
    /// succeeds, and their p50/p99 latency is printed (target p99 50 ms, measured in docs/hardening.md; not
    /// asserted: a latency bound fails by chance on a loaded machine). The held connections are all still
    /// served afterwards.
    @Test func aThousandConnectionsHeldWhileOthersAreServed() async throws {
        let limit = raiseOpenFileLimit(to: 8192)
        try #require(limit >= 1200, "RLIMIT_NOFILE is \(limit); 1,000 connections need more")
        let rules = try rulesWithoutSendFlood()
        let daemon = try await Daemon(settings: cheapSettings(["rulesFile": rules.file]))
        let setup = try RawVarlink(daemon.socket)
        let token = try setup.registerAndLogin("holder")
        _ = try setup.registerAndLogin("peer")
        try setup.ok("io.qsm.Broker.EstablishKey", ["token": token, "peer": "peer", "qubits": 60_000])

        var held: [RawVarlink] = []
        for _ in 0..<1000 { held.append(try RawVarlink(daemon.socket)) }
        // One call on each, so each connection is surely accepted and counted by qsmd.
        for connection in held { try connection.send("org.varlink.service.GetInfo") }
        for connection in held { #expect(try connection.receive().error == nil) }

        let latencies = Mutex<[Duration]>([])
        let failures = Mutex<[String]>([])
        let served = 4
        let callsEach = 150
        DispatchQueue.concurrentPerform(iterations: served) { worker in
            do {
                let client = try RawVarlink(daemon.socket)
                for index in 0..<callsEach {
                    let start = ContinuousClock.now
                    let reply = index % 2 == 0
                        ? try client.call("io.qsm.Broker.Send", ["token": token, "to": "peer", "body": "served \(worker)-\(index)", "mode": "aes"])
                        : try client.call("io.qsm.Broker.Inbox", ["token": token, "limit": 10])
                    let took = ContinuousClock.now - start
                    latencies.withLock { $0.append(took) }
                    if let error = reply.error { failures.withLock { $0.append("\(error) \(reply.parameters)") } }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        let all = latencies.withLock { $0 }
        let p50 = percentile(all, 0.5)
        let p99 = percentile(all, 0.99)
        print("exhaustion: 1000 connections held, \(all.count) calls served, p50 \(p50), p99 \(p99)")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(5) })")
        #expect(all.count == served * callsEach)

        // Every held connection still answers.
        for connection in held { try connection.send("org.varlink.service.GetInfo") }
        var answered = 0
        for connection in held where (try? connection.receive(timeout: .seconds(30)))?.error == nil { answered += 1 }
        #expect(answered == 1000)
        held.removeAll()
        #expect(try await daemon.stop() == 0)
    }

    /// Connections that pipeline large streaming calls and never read a byte: qsmd keeps answering others
    /// (every call, before and while the silent peers' replies pile up and after they are stuck) and its
    /// memory stays bounded (backpressure, not buffering). Latencies are printed, not asserted.
    @Test func peersThatNeverReadTheirRepliesDoNotStarveOthers() async throws {
        let rules = try rulesWithoutSendFlood()
        let daemon = try await Daemon(settings: cheapSettings(["rulesFile": rules.file]))
        let setup = try RawVarlink(daemon.socket)
        // About 2 KB a UserRegistered event (the X-Wing public key): 150 of them make each ReadEvents
        // stream about 300 KB of JSON, more than the socket and the outbound watermark hold.
        for index in 0..<150 { try setup.ok("io.qsm.Broker.Register", ["username": "bulk\(index)", "password": "bulk\(index)-password"]) }
        let token = try setup.login("bulk0")
        func measure() throws -> [Duration] {
            var latencies: [Duration] = []
            for index in 0..<100 {
                let start = ContinuousClock.now
                let reply = index % 2 == 0
                    ? try setup.call("io.qsm.Broker.Inbox", ["token": token])
                    : try setup.call("io.qsm.Broker.Send", ["token": token, "to": "bulk1", "body": "still served", "mode": "pqc"])
                latencies.append(ContinuousClock.now - start)
                #expect(reply.error == nil, "\(reply.error ?? "") \(reply.parameters)")
            }
            return latencies
        }
        let baseline = try measure()
        let before = residentKiB(daemon.process.pid)

        var silent: [RawVarlink] = []
        for _ in 0..<40 {
            let connection = try RawVarlink(daemon.socket)
            // 100 pipelined calls, about 30 MB of replies each if qsmd buffered them.
            var frames = Data()
            for _ in 0..<100 {
                frames.append(try JSONSerialization.data(withJSONObject: [
                    "method": "io.qsm.Admin.ReadEvents", "parameters": ["from": 1, "limit": 1000], "more": true]))
                frames.append(0)
            }
            try connection.write(frames)
            silent.append(connection)
        }
        // The first calls of each silent peer are answered until its socket and qsmd's watermark are full:
        // that is work, and it competes for the CPU. Measure once during it (once qsmd has begun answering
        // every silent peer) and once after (once the bytes waiting on their sockets stop growing).
        func pending(_ connection: RawVarlink) -> Int {
            var bytes: Int32 = 0
            return ioctl(connection.fd, UInt(FIONREAD), &bytes) == 0 ? Int(bytes) : 0
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while silent.contains(where: { pending($0) == 0 }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(!silent.contains { pending($0) == 0 }, "qsmd answered no call of some silent peers within 120 s")
        let during = try measure()
        var totals = [-1, -2, -3]
        while Set(totals.suffix(3)).count > 1 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            totals.append(silent.reduce(0) { $0 + pending($1) })
        }
        try #require(Set(totals.suffix(3)).count == 1, "the silent peers' replies kept coming for 120 s: \(totals.suffix(5))")
        let latencies = try measure()
        let after = residentKiB(daemon.process.pid)
        let p99 = percentile(latencies, 0.99)
        print("exhaustion: 40 peers never reading (4,000 pipelined 300 KB streams): others' p50 \(percentile(latencies, 0.5)) p99 \(p99) "
              + "(before: p50 \(percentile(baseline, 0.5)) p99 \(percentile(baseline, 0.99)); while they fill up: p50 \(percentile(during, 0.5)) p99 \(percentile(during, 0.99))), qsmd RssAnon \(before) -> \(after) KiB")
        // 40 connections x 100 calls x 300 KB would be 1.2 GB if replies were buffered.
        #expect(after - before < 200 * 1024, "qsmd grew by \((after - before) / 1024) MiB while 40 peers never read")
        silent.removeAll()
        #expect(try setup.call("io.qsm.Broker.Inbox", ["token": token]).error == nil)
        #expect(try await daemon.stop() == 0)
    }

    /// The data directory on a small tmpfs that fills up: sends are refused with a clear Unavailable error,
    /// every acknowledged send is in the log, and once space is freed the same qsmd goes on (no restart).
    @Test func aFullDiskRefusesSendsLosesNothingAndRecovers() async throws {
        let directory = try TemporaryDirectory(prefix: "qsm-diskfull")
        chmod(directory.path, 0o755)
        let mountpoint = directory.appending("data")
        try FileManager.default.createDirectory(atPath: mountpoint, withIntermediateDirectories: true)
        let (mounted, _, mountError) = try await ChildProcess.run(
            "/bin/mount", ["-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", mountpoint])
        // A full disk needs a filesystem of its own, and mounting one needs root (CAP_SYS_ADMIN); CI runs
        // as root. There is no non-root path: an unprivileged user+mount namespace could hold the tmpfs, but
        // only for processes inside it, and it vanishes when qsmd exits, before the log is read back below.
        // So the skip is printed, not only reported as a cancellation a summary can hide.
        if mounted != 0 {
            let why = "cannot mount a tmpfs here (uid \(getuid()): "
                + "\(mountError.trimmingCharacters(in: .whitespacesAndNewlines)))"
            print("exhaustion: SKIPPED aFullDiskRefusesSendsLosesNothingAndRecovers: \(why)")
            try Test.cancel("skipped: \(why)")
        }
        defer { Self.unmount(mountpoint) }

        let daemon = try await Daemon(directory: directory, settings: cheapSettings())
        let client = try RawVarlink(daemon.socket)
        let token = try client.registerAndLogin("filler")
        _ = try client.registerAndLogin("target")
        let filler = mountpoint + "/filler"
        // Leave about 1.5 MiB free.
        var space = statvfs()
        statvfs(mountpoint, &space)
        let free = Int(space.f_bavail) * Int(space.f_frsize)
        try Data(count: max(0, free - 1_536 * 1024)).write(to: URL(fileURLWithPath: filler))

        var acknowledged: [String] = []
        var refusal: RawVarlink.Reply?
        let body = String(repeating: "f", count: 16 * 1024)
        for index in 0..<2000 {
            let reply = try client.call("io.qsm.Broker.Send", ["token": token, "to": "target", "body": "\(index) \(body)", "mode": "pqc"])
            if let error = reply.error {
                refusal = reply
                #expect(error == "io.qsm.Broker.Unavailable", "\(error) \(reply.parameters)")
                break
            }
            acknowledged.append(try #require(reply["messageId"] as? String))
        }
        let refused = try #require(refusal, "2,000 sends of 16 KiB fitted in 1.5 MiB?")
        let reason = refused["reason"] as? String ?? ""
        print("exhaustion: disk full after \(acknowledged.count) sends: \(refused.error ?? "") \(reason)")
        #expect(reason.contains("no space left"), "the refusal says why: \(reason)")
        // Still full: refused again, and reads are served.
        #expect(try client.call("io.qsm.Broker.Send", ["token": token, "to": "target", "body": body, "mode": "pqc"]).error
                == "io.qsm.Broker.Unavailable")
        #expect(try client.call("io.qsm.Broker.Inbox", ["token": token]).error == nil)

        // Free the space: the same qsmd accepts sends again.
        try FileManager.default.removeItem(atPath: filler)
        var resumed = 0
        for index in 0..<20 {
            let reply = try client.call("io.qsm.Broker.Send", ["token": token, "to": "target", "body": "after \(index)", "mode": "pqc"])
            #expect(reply.error == nil, "after freeing space: \(reply.error ?? "") \(reply.parameters)")
            if let id = reply["messageId"] as? String { acknowledged.append(id); resumed += 1 }
        }
        #expect(resumed == 20)
        let verified = try client.ok("io.qsm.Admin.VerifyChain")
        #expect(verified["ok"] as? Bool == true)
        let rebuilt = try client.ok("io.qsm.Admin.Rebuild")
        #expect(rebuilt["equal"] as? Bool == true, "live state after a failed commit equals a rebuild")
        #expect(daemon.process.pid > 0 && kill(daemon.process.pid, 0) == 0, "the same qsmd, never restarted")
        #expect(try await daemon.stop() == 0)

        // Nothing acknowledged is lost, and the chain holds.
        let (events, chainHolds) = try readLog(daemon.data)
        let stored = sentMessageIDs(events)
        #expect(chainHolds)
        let lost = acknowledged.filter { !stored.contains($0) }
        #expect(lost.isEmpty, "\(lost.count) of \(acknowledged.count) acknowledged sends are missing")
        let (status, _, verifyError) = try await ChildProcess.run(Products.qsm, ["audit", "verify", "--data", daemon.data])
        #expect(status == 0, "qsm audit verify: \(verifyError)")
    }

    /// qsmd started with a 1 MiB LMDB map (`initialMapBytes`) takes about 4 MB of messages: the map grows
    /// while it serves, nothing is refused, and the log verifies and reopens.
    @Test func theMapGrowsPastItsInitialSize() async throws {
        let initial = 1 << 20
        let rules = try rulesWithoutSendFlood()
        let daemon = try await Daemon(settings: cheapSettings(["initialMapBytes": initial, "rulesFile": rules.file]))
        let client = try RawVarlink(daemon.socket)
        let token = try client.registerAndLogin("grower")
        _ = try client.registerAndLogin("sink")
        let start = try client.ok("io.qsm.Admin.Stats")
        #expect(start["mapBytes"] as? Int == initial, "the map starts at initialMapBytes: \(start)")
        let body = String(repeating: "g", count: 16 * 1024)
        var sent: [String] = []
        for index in 0..<250 {
            let reply = try client.ok("io.qsm.Broker.Send", ["token": token, "to": "sink", "body": "\(index) \(body)", "mode": "pqc"])
            sent.append(reply["messageId"] as? String ?? "")
        }
        let end = try client.ok("io.qsm.Admin.Stats")
        let mapBytes = end["mapBytes"] as? Int ?? 0
        print("exhaustion: map grew from \(initial) to \(mapBytes) bytes (log file \(end["logBytes"] ?? 0) bytes) over 250 sends of 16 KiB")
        #expect(mapBytes > initial * 2, "the map grew: \(end)")
        #expect(try client.ok("io.qsm.Admin.VerifyChain")["ok"] as? Bool == true)
        #expect(try await daemon.stop() == 0)

        let again = try await Daemon(directory: daemon.directory, settings: cheapSettings(["initialMapBytes": initial, "rulesFile": rules.file]))
        let reader = try RawVarlink(again.socket)
        let sink = try reader.login("sink")
        let read = try reader.ok("io.qsm.Broker.Decrypt", ["token": sink, "messageId": sent.last ?? ""])
        #expect((read["body"] as? String)?.hasPrefix("249 ") == true)
        #expect(try await again.stop() == 0)
    }

    static func unmount(_ path: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/umount")
        process.arguments = ["-l", path]
        try? process.run()
        process.waitUntilExit()
    }
}
