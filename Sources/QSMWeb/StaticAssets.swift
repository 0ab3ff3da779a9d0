import DashboardPage

/// The files under /static: the only style and script the pages use, served from qsm-web itself so the
/// Content-Security-Policy can allow 'self' and nothing inline.
enum StaticAssets {
    /// Path to (content type, body).
    static let files: [String: (type: String, body: String)] = [
        "app.css": ("text/css; charset=utf-8", appCSS),
        "dashboard.css": ("text/css; charset=utf-8", DashboardHTML.css),
        "live.js": ("text/javascript; charset=utf-8", liveJS),
    ]

    static let appCSS = """
        body { font: 15px/1.45 system-ui, "DejaVu Sans", sans-serif; margin: 0; color: #1a1a1a; background: #fafafa; }
        header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 16px; padding: 10px 20px; background: #0b3d5c; color: #fff; }
        header.top a { color: #fff; }
        .brand { font-weight: 700; font-size: 20px; text-decoration: none; }
        nav { display: flex; flex-wrap: wrap; gap: 14px; align-items: center; }
        form.inline { display: inline; margin: 0; }
        main { padding: 12px 20px 24px; max-width: 1100px; }
        .card { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 14px; margin: 10px 0; max-width: 640px; }
        .card label { display: block; margin: 8px 0; }
        .card input:not([type=radio]), .card textarea { display: block; width: 100%; box-sizing: border-box; padding: 6px; font: inherit; }
        button { font: inherit; padding: 6px 14px; }
        .error { background: #fde8e0; border: 1px solid #D55E00; padding: 8px 12px; border-radius: 6px; }
        .notice { background: #e3f3ec; border: 1px solid #009E73; padding: 8px 12px; border-radius: 6px; }
        .aborted { border-color: #D55E00; }
        table { border-collapse: collapse; }
        th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #eee; }
        tr.unread td { font-weight: 700; }
        .dot { color: #0072B2; }
        .tiles { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 10px; }
        .tiles a { display: block; padding: 14px 18px; background: #fff; border: 1px solid #ddd; border-radius: 6px; text-decoration: none; font-weight: 600; }
        pre.plaintext { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid #ddd; padding: 10px; }
        footer { padding: 10px 20px; color: #777; font-size: 12px; }
        """

    /// Replaces the dashboard's sections with each one the server streams (Server-Sent Events). Without
    /// JavaScript the page is still whole and a reload updates it.
    static let liveJS = """
        "use strict";
        (function () {
          var live = document.getElementById("live");
          if (!live || !window.EventSource) { return; }
          var source = new EventSource(live.getAttribute("data-source"));
          source.addEventListener("dashboard", function (event) { live.innerHTML = event.data; });
          source.addEventListener("end", function () { source.close(); });
        })();

        """
}
