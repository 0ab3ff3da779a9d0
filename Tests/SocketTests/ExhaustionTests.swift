import EventLog
import Foundation
import QSMEvents
import QSMClient
import QSMTesting
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
        let setup = try await QSMConnection.connect(socketPath: daemon.socket)
        let token = try await setup.registerAndLogin("holder")
        _ = try await setup.registerAndLogin("peer")
        _ = try await setup.call(BrokerAPI.EstablishKey(token: token, peer: "peer", qubits: 60_000))

        var held: [RawWire] = []
        for _ in 0..<1000 { held.append(try RawWire(daemon.socket)) }
        // One call on each, so each connection is surely accepted and counted by qsmd.
        for connection in held { try connection.send("org.varlink.service.GetInfo") }
        for connection in held { #expect(try connection.receive().error == nil) }

        let latencies = Collected<Duration>()
        let failures = Collected<String>()
        let served = 4
        let callsEach = 150
        let socket = daemon.socket
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<served {
                group.addTask {
                    do {
                        let client = try await QSMConnection.connect(socketPath: socket)
                        for index in 0..<callsEach {
                            let start = ContinuousClock.now
                            if index % 2 == 0 {
                                _ = try await client.call(BrokerAPI.Send(token: token, to: "peer", body: "served \(worker)-\(index)", mode: "aes"))
                            } else {
                                _ = try await client.call(BrokerAPI.Inbox(token: token, limit: 10))
                            }
                            latencies.append(ContinuousClock.now - start)
                        }
                        await client.close()
                    } catch {
                        failures.append("\(error)")
                    }
                }
            }
        }
        let all = latencies.all
        let p50 = percentile(all, 0.5)
        let p99 = percentile(all, 0.99)
        print("exhaustion: 1000 connections held, \(all.count) calls served, p50 \(p50), p99 \(p99)")
        #expect(failures.all.isEmpty, "\(failures.all.prefix(5))")
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
        let setup = try await QSMConnection.connect(socketPath: daemon.socket)
        // About 2 KB a UserRegistered event (the X-Wing public key): 150 of them make each ReadEvents
        // stream about 300 KB of JSON, more than the socket and the outbound watermark hold.
        for index in 0..<150 { _ = try await setup.call(BrokerAPI.Register(username: "bulk\(index)", password: "bulk\(index)-password")) }
        let token = try await setup.login("bulk0")
        func measure() async throws -> [Duration] {
            var latencies: [Duration] = []
            for index in 0..<100 {
                let start = ContinuousClock.now
                let refusal = index % 2 == 0
                    ? await Outcome.of(setup, BrokerAPI.Inbox(token: token)).error
                    : await Outcome.of(setup, BrokerAPI.Send(token: token, to: "bulk1", body: "still served", mode: "pqc")).error
                latencies.append(ContinuousClock.now - start)
                #expect(refusal == nil, "\(refusal ?? "")")
            }
            return latencies
        }
        let baseline = try await measure()
        let before = residentKiB(daemon.process.pid)

        var silent: [RawWire] = []
        for _ in 0..<40 {
            let connection = try RawWire(daemon.socket)
            // 100 pipelined calls, about 30 MB of replies each if qsmd buffered them.
            var frames = Data()
            for _ in 0..<100 {
                frames.append(Data(#"{"method":"io.qsm.Admin.ReadEvents","parameters":{"from":1,"limit":1000},"more":true}"#.utf8))
                frames.append(0)
            }
            try connection.write(frames)
            silent.append(connection)
        }
        // The first calls of each silent peer are answered until its socket and qsmd's watermark are full:
        // that is work, and it competes for the CPU. Measure once during it (once qsmd has begun answering
        // every silent peer) and once after (once the bytes waiting on their sockets stop growing).
        func pending(_ connection: RawWire) -> Int {
            var bytes: Int32 = 0
            return ioctl(connection.fd, UInt(FIONREAD), &bytes) == 0 ? Int(bytes) : 0
        }
        let deadline = ContinuousClock.now + .seconds(120)
        while silent.contains(where: { pending($0) == 0 }) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(!silent.contains { pending($0) == 0 }, "qsmd answered no call of some silent peers within 120 s")
        let during = try await measure()
        var totals = [-1, -2, -3]
        while Set(totals.suffix(3)).count > 1 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            totals.append(silent.reduce(0) { $0 + pending($1) })
        }
        try #require(Set(totals.suffix(3)).count == 1, "the silent peers' replies kept coming for 120 s: \(totals.suffix(5))")
        let latencies = try await measure()
        let after = residentKiB(daemon.process.pid)
        let p99 = percentile(latencies, 0.99)
        print("exhaustion: 40 peers never reading (4,000 pipelined 300 KB streams): others' p50 \(percentile(latencies, 0.5)) p99 \(p99) "
              + "(before: p50 \(percentile(baseline, 0.5)) p99 \(percentile(baseline, 0.99)); while they fill up: p50 \(percentile(during, 0.5)) p99 \(percentile(during, 0.99))), qsmd RssAnon \(before) -> \(after) KiB")
        // 40 connections x 100 calls x 300 KB would be 1.2 GB if replies were buffered.
        #expect(after - before < 200 * 1024, "qsmd grew by \((after - before) / 1024) MiB while 40 peers never read")
        silent.removeAll()
        #expect(await Outcome.of(setup, BrokerAPI.Inbox(token: token)).error == nil)
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
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let token = try await client.registerAndLogin("filler")
        _ = try await client.registerAndLogin("target")
        let filler = mountpoint + "/filler"
        // Leave about 1.5 MiB free.
        var space = statvfs()
        statvfs(mountpoint, &space)
        let free = Int(space.f_bavail) * Int(space.f_frsize)
        try Data(count: max(0, free - 1_536 * 1024)).write(to: URL(fileURLWithPath: filler))

        var acknowledged: [String] = []
        var refusal: QSMClientError?
        let body = String(repeating: "f", count: 16 * 1024)
        for index in 0..<2000 {
            do {
                acknowledged.append(try await client.call(BrokerAPI.Send(token: token, to: "target", body: "\(index) \(body)", mode: "pqc")).messageId)
            } catch {
                refusal = error
                break
            }
        }
        let refused = try #require(refusal, "2,000 sends of 16 KiB fitted in 1.5 MiB?")
        guard case .broker(.unavailable(let reason)) = refused else {
            Issue.record("a full disk refused with \(refused), not io.qsm.Broker.Unavailable")
            return
        }
        print("exhaustion: disk full after \(acknowledged.count) sends: \(refused.replyName ?? "") \(reason)")
        #expect(reason.contains("no space left"), "the refusal says why: \(reason)")
        // Still full: refused again, and reads are served.
        #expect(await Outcome.of(client, BrokerAPI.Send(token: token, to: "target", body: body, mode: "pqc")).error
                == "io.qsm.Broker.Unavailable")
        #expect(await Outcome.of(client, BrokerAPI.Inbox(token: token)).error == nil)

        // Free the space: the same qsmd accepts sends again.
        try FileManager.default.removeItem(atPath: filler)
        var resumed = 0
        for index in 0..<20 {
            do {
                acknowledged.append(try await client.call(BrokerAPI.Send(token: token, to: "target", body: "after \(index)", mode: "pqc")).messageId)
                resumed += 1
            } catch {
                Issue.record("after freeing space: \(error)")
            }
        }
        #expect(resumed == 20)
        let verified = try await client.call(AdminAPI.VerifyChain())
        #expect(verified.ok)
        let rebuilt = try await client.call(AdminAPI.Rebuild())
        #expect(rebuilt.equal, "live state after a failed commit equals a rebuild")
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
        let client = try await QSMConnection.connect(socketPath: daemon.socket)
        let token = try await client.registerAndLogin("grower")
        _ = try await client.registerAndLogin("sink")
        let start = try await client.call(AdminAPI.Stats())
        #expect(start.mapBytes == initial, "the map starts at initialMapBytes: \(start)")
        let body = String(repeating: "g", count: 16 * 1024)
        var sent: [String] = []
        for index in 0..<250 {
            let reply = try await client.call(BrokerAPI.Send(token: token, to: "sink", body: "\(index) \(body)", mode: "pqc"))
            sent.append(reply.messageId)
        }
        let end = try await client.call(AdminAPI.Stats())
        let mapBytes = end.mapBytes
        print("exhaustion: map grew from \(initial) to \(mapBytes) bytes (log file \(end.logBytes) bytes) over 250 sends of 16 KiB")
        #expect(mapBytes > initial * 2, "the map grew: \(end)")
        #expect(try await client.call(AdminAPI.VerifyChain()).ok)
        #expect(try await daemon.stop() == 0)

        let again = try await Daemon(directory: daemon.directory, settings: cheapSettings(["initialMapBytes": initial, "rulesFile": rules.file]))
        let reader = try await QSMConnection.connect(socketPath: again.socket)
        let sink = try await reader.login("sink")
        let read = try await reader.call(BrokerAPI.Decrypt(token: sink, messageId: sent.last ?? ""))
        #expect(read.body.hasPrefix("249 "))
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
