import DashboardPage
import Foundation
import Hummingbird
import NIOCore
import QSMClient
import ServiceLifecycle

extension WebFace {
    /// The window the dashboard's charts cover.
    static let dashboardMinutes = 60

    /// /dashboard and its live updates, /dashboard/events.
    func addDashboardRoutes(to router: Router<WebContext>) {
        router.get("/dashboard") { request, _ -> Response in
            guard let session = self.signedIn(request), let token = session.brokerToken else { return Self.redirect("/login") }
            let loaded = try await self.calling(session) { () async throws(QSMClientError) in
                let reply = try await self.client.call(BrokerAPI.Dashboard(token: token, minutes: Self.dashboardMinutes))
                let alerts = try await self.client.call(BrokerAPI.MyAlerts(token: token, limit: 10)).alerts
                let unread = try await self.client.call(BrokerAPI.Inbox(token: token, unreadOnly: true, limit: 1)).total
                return (reply, alerts, unread)
            }
            switch loaded {
            case .success(let (reply, alerts, unread)):
                return self.page(
                    "dashboard", title: "Dashboard", session: session,
                    ["sections": Self.sections(reply, alerts), "unread": unread > 0 ? unread : false,
                     "dashboardStyles": true, "liveScript": true])
            case .failure(let refusal):
                return self.page("failure", title: "Dashboard", session: session, error: Explain.sentence(refusal),
                                 status: .serviceUnavailable)
            }
        }
        router.get("/dashboard/events") { request, _ -> Response in
            guard let session = self.signedIn(request), let token = session.brokerToken else { throw WebFailure.forbidden }
            let stream: AsyncThrowingStream<BrokerAPI.DashboardReply, any Error>
            do {
                stream = try await self.client.stream(BrokerAPI.WatchDashboard(token: token, minutes: Self.dashboardMinutes))
            } catch {
                throw WebFailure.brokerUnreachable
            }
            let client = self.client
            let body = ResponseBody { writer in
                // Ends when qsmd closes the stream (a restart, the session's end): the browser's
                // EventSource reconnects by itself, and a dead session then gets 403 and stops it.
                do {
                    // A stream waits for the next change, not for the browser: on shutdown it must end itself.
                    for try await reply in stream.cancelOnGracefulShutdown() {
                        let alerts = (try? await client.call(BrokerAPI.MyAlerts(token: token, limit: 10)).alerts) ?? []
                        try await writer.write(ByteBuffer(string: Self.event(Self.sections(reply, alerts))))
                    }
                } catch {}
                try await writer.finish(nil)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"], body: body)
        }
    }

    /// The counters, charts and alerts, by the renderer `qsm dashboard --html` uses.
    static func sections(_ reply: BrokerAPI.DashboardReply, _ alerts: [BrokerAPI.UserAlert]) -> String {
        DashboardHTML.sections(DashboardHTML.Input(
            reply: reply, alerts: alerts.map(DashboardHTML.Alert.init), windowMinutes: dashboardMinutes, now: Date()))
    }

    /// One Server-Sent Event named dashboard carrying `html`, a data line per line.
    static func event(_ html: String) -> String {
        var text = "event: dashboard\n"
        for line in html.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        return text + "\n"
    }
}
