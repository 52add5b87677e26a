/// This build of ctxmem, as `--version`, `/healthz`, the MCP handshake and the audit's reports
/// (SARIF's `tool.driver`) state it.
public enum Release {
    public static let version = "0.1.0"
}
