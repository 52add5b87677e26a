import HTTPTypes

/// The web console `ctxmem serve` answers at `/` (docs/console.md): three static files, compiled
/// into the binary by Package.swift's `.embedInCode`, that talk to the `/v1` API like any client.
enum ConsoleAssets {
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    /// By route. The files are not secret: they are served without the token, which the page asks
    /// for and sends to `/v1` itself.
    static let byPath: [String: Asset] = [
        "/": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "/console.css": Asset(bytes: PackageResources.console_css, contentType: "text/css; charset=utf-8"),
        "/console.js": Asset(bytes: PackageResources.console_js, contentType: "text/javascript; charset=utf-8"),
    ]

    /// Only the console's own files and the API; no inline script or style, no framing, no forms
    /// posted elsewhere: memory files are untrusted, and the page shows their text.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The headers every console file is sent with.
    static func headers(for asset: Asset) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = asset.contentType
        fields[.contentSecurityPolicy] = contentSecurityPolicy
        fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        fields[.cacheControl] = "no-cache"
        return fields
    }
}
