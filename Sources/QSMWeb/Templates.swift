import Mustache

/// The pages' templates. Mustache escapes every `{{value}}` for HTML; a `{{{...}}}` is the dashboard
/// renderer's output, which escapes what it takes from users itself, the inbox's rows, rendered by the
/// `inboxRow` template, or the QR code's SVG.
enum Templates {
    /// All templates, partials included, by name.
    static func library() throws -> MustacheLibrary {
        HTMLEscaping.register()
        var library = MustacheLibrary()
        for (name, text) in all {
            // Each template selects qsm's escaper; a partial renders in the context of its page.
            try library.register("{{% CONTENT_TYPE: \(HTMLEscaping.name)}}" + text, named: name)
        }
        return library
    }

    static let all: [(String, String)] = [
        ("head", head), ("foot", foot), ("nav", nav), ("message", messageBox),
        ("login", login), ("register", register), ("dashboard", dashboard), ("keys", keys), ("send", send),
        ("inbox", inbox), ("inboxRow", inboxRow), ("messageDetail", messageDetail), ("history", history), ("failure", failure),
        ("mfa", mfa),
    ]

    static let head = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · qsm</title>
        <link rel="stylesheet" href="/static/app.css">
        {{#dashboardStyles}}<link rel="stylesheet" href="/static/dashboard.css">{{/dashboardStyles}}
        </head>
        <body>
        <header class="top"><a class="brand" href="/">qsm</a>{{#user}}{{> nav}}{{/user}}</header>
        <main>
        <h1>{{title}}</h1>
        {{> message}}

        """

    static let nav = """
        <nav><a href="/dashboard">Dashboard</a> <a href="/send">Encrypt Message</a> <a href="/inbox">Decrypt Message · Inbox</a> \
        <a href="/history">History</a> <a href="/keys">Key exchange</a> <a href="/mfa">Second factor</a>
        <form class="inline" method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}">\
        <button type="submit">Logout {{user}}</button></form></nav>
        """

    static let messageBox = """
        {{#error}}<p class="error" role="alert">{{error}}</p>{{/error}}{{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        """

    static let foot = """
        </main>
        <footer>qsm · BB84 keys, one-time pad, AES-GCM and post-quantum sealing</footer>
        {{#liveScript}}<script src="/static/live.js"></script>{{/liveScript}}
        </body>
        </html>

        """

    static let login = """
        {{> head}}<form method="post" action="/login" class="card">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>Username <input name="username" value="{{username}}" autocomplete="username" required maxlength="64"></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        {{#needsCode}}<label>Code from your authenticator app, or a recovery code <input name="code" inputmode="numeric" \
        autocomplete="one-time-code" required maxlength="16" autofocus></label>{{/needsCode}}
        <button type="submit">Log in</button>
        </form>
        <p>No account? <a href="/register">Register</a>.</p>
        {{> foot}}
        """

    static let mfa = """
        {{> head}}{{#enrol}}<section class="card">
        <p>Scan this code with your authenticator app, then type the 6-digit code it shows.</p>
        <figure class="qr">{{{qr}}}</figure>
        <p>Or enter this key by hand: <code>{{uri}}</code></p>
        <form method="post" action="/mfa/confirm">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>Code <input name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="16"></label>
        <button type="submit">Turn on</button>
        </form></section>{{/enrol}}{{#hasCodes}}<section class="card"><h2>Recovery codes</h2><ul class="codes">
        {{#codes}}<li><code>{{code}}</code></li>{{/codes}}</ul>
        <p><a href="/dashboard">Back to the dashboard</a></p></section>{{/hasCodes}}{{#menu}}<section class="card">
        <h2>Turn on</h2><p>A second factor makes a stolen password useless: logins then also need a code from your phone.</p>
        <form method="post" action="/mfa/start"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Set up an authenticator app</button></form></section>
        <section class="card"><h2>New recovery codes</h2>
        <form method="post" action="/mfa/recovery-codes"><input type="hidden" name="csrf" value="{{csrf}}">
        <label>Current code <input name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="16"></label>
        <button type="submit">Replace my recovery codes</button></form></section>
        <section class="card"><h2>Turn off</h2>
        <form method="post" action="/mfa/disable"><input type="hidden" name="csrf" value="{{csrf}}">
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <label>Current code <input name="code" inputmode="numeric" autocomplete="one-time-code" required maxlength="16"></label>
        <button type="submit">Turn off the second factor</button></form></section>{{/menu}}
        {{> foot}}
        """

    static let register = """
        {{> head}}<form method="post" action="/register" class="card">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>Username <input name="username" value="{{username}}" autocomplete="username" required maxlength="64"></label>
        <label>Password <input name="password" type="password" autocomplete="new-password" required></label>
        <label>Password again <input name="confirm" type="password" autocomplete="new-password" required></label>
        <button type="submit">Register</button>
        </form>
        <p>Have an account? <a href="/login">Log in</a>.</p>
        {{> foot}}
        """

    static let dashboard = """
        {{> head}}<ul class="tiles">
        <li><a href="/send">Encrypt Message</a></li><li><a href="/inbox">Decrypt Message</a></li>
        <li><a href="/inbox">Inbox{{#unread}} ({{unread}} unread){{/unread}}</a></li><li><a href="/history">History</a></li>
        <li><a href="/keys">Key exchange</a></li>
        </ul>
        <div id="live" data-source="/dashboard/events">{{{sections}}}</div>
        {{> foot}}
        """

    static let keys = """
        {{> head}}<form method="post" action="/keys" class="card">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>Peer <input name="peer" value="{{peer}}" required maxlength="64"></label>
        <label>Qubits <input name="qubits" value="{{qubits}}" inputmode="numeric"></label>
        <label>Channel noise (0 to 0.5) <input name="noise" value="{{noise}}" inputmode="decimal"></label>
        <label>Eavesdropper: fraction of qubits intercepted (0 to 1) <input name="eavesdropper" value="{{eavesdropper}}" inputmode="decimal"></label>
        <button type="submit">Run BB84</button>
        </form>
        {{#exchange}}<section class="card result"><h2>Key established with {{peer}}</h2>
        <table class="figures">
        <tr><th>Qubits sent</th><td>{{qubitsSent}}</td></tr>
        <tr><th>Sifted (bases agreed)</th><td>{{sifted}}</td></tr>
        <tr><th>Sample disclosed to estimate errors</th><td>{{sampleSize}}</td></tr>
        <tr><th>QBER</th><td>{{qber}}</td></tr>
        <tr><th>QBER upper bound</th><td>{{qberUpperBound}} (threshold 11%: {{verdict}})</td></tr>
        <tr><th>Bits leaked by Cascade</th><td>{{leakedBits}}</td></tr>
        <tr><th>Final key length</th><td>{{finalBits}} bits</td></tr>
        <tr><th>Key id</th><td><code>{{keyId}}</code></td></tr>
        </table></section>{{/exchange}}
        {{#aborted}}<section class="card aborted"><h2>Exchange aborted: possible eavesdropper</h2>
        <p>QBER {{qber}}, upper bound {{qberUpperBound}}, over the {{threshold}} threshold: no key was made.</p></section>{{/aborted}}
        {{#hasPools}}<h2>Your keys</h2><table><thead><tr><th>Peer</th><th>Bits left</th><th>Keys made</th></tr></thead><tbody>
        {{/hasPools}}{{#pools}}<tr><td>{{peer}}</td><td>{{availableBits}}</td><td>{{keys}}</td></tr>{{/pools}}{{#hasPools}}</tbody></table>{{/hasPools}}
        {{> foot}}
        """

    static let send = """
        {{> head}}<form method="post" action="/send" class="card">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label>To <input name="to" value="{{to}}" required maxlength="64"></label>
        <label>Message <textarea name="body" rows="8" required>{{body}}</textarea></label>
        <fieldset><legend>Encryption</legend>
        <label><input type="radio" name="mode" value="aes"{{#aes}} checked{{/aes}}> AES-256-GCM keyed by BB84 (fast)</label>
        <label><input type="radio" name="mode" value="otp"{{#otp}} checked{{/otp}}> One-time pad (costs the message's size plus 32 bytes of key)</label>
        <label><input type="radio" name="mode" value="pqc"{{#pqc}} checked{{/pqc}}> Post-quantum (X-Wing HPKE)</label>
        </fieldset>
        <button type="submit">Encrypt and send</button>
        </form>
        {{> foot}}
        """

    static let inbox = """
        {{> head}}<p>{{total}} messages{{#unread}}, {{unread}} unread{{/unread}}.</p>
        {{#hasMessages}}<table class="inbox"><thead><tr><th></th><th>From</th><th>Sent (UTC)</th><th>Mode</th><th>Size</th></tr></thead><tbody>
        {{{rows}}}</tbody></table>{{/hasMessages}}
        {{^hasMessages}}<p class="empty">No messages yet.</p>{{/hasMessages}}
        {{> foot}}
        """

    /// One row of the inbox, rendered once per message and state (``RowCache``); the inbox page puts
    /// the rows in with `{{{rows}}}`, as they were escaped here.
    static let inboxRow = """
        <tr class="{{#unread}}unread{{/unread}}"><td>{{#unread}}<span class="dot" title="unread">●</span>{{/unread}}</td>\
        <td><a href="/messages/{{messageId}}">{{from}}</a></td><td>{{sentAt}}</td><td>{{mode}}</td><td>{{size}} bytes</td></tr>

        """

    static let messageDetail = """
        {{> head}}<table class="figures">
        <tr><th>From</th><td>{{from}}</td></tr><tr><th>Sent (UTC)</th><td>{{sentAt}}</td></tr>
        <tr><th>Mode</th><td>{{mode}}</td></tr><tr><th>Size</th><td>{{size}} bytes</td></tr>
        </table>
        {{#plaintext}}<h2>Decrypted</h2><pre class="plaintext">{{plaintext}}</pre>{{/plaintext}}
        {{^plaintext}}<form method="post" action="/messages/{{messageId}}/decrypt">
        <input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">Decrypt</button></form>{{/plaintext}}
        <p><a href="/inbox">Back to the inbox</a></p>
        {{> foot}}
        """

    static let history = """
        {{> head}}<p>{{total}} entries, newest first.</p>
        <table><thead><tr><th>When (UTC)</th><th>What</th><th>Details</th></tr></thead><tbody>
        {{#entries}}<tr><td>{{at}}</td><td>{{kind}}</td><td>{{summary}}</td></tr>
        {{/entries}}</tbody></table>
        {{> foot}}
        """

    static let failure = """
        {{> head}}<p><a href="/">Go to the start page</a>.</p>
        {{> foot}}
        """
}
