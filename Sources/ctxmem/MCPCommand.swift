import ArgumentParser
import ContextMemory
import ContextMemoryServer
import Foundation
import Logging
import MCP

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the memory to an MCP client (Claude Code, ...) over stdio.",
        discussion: """
            Tools: context_pack (what a new agent starts with, for its role and task), search_memory, \
            read_memory (memory:// handles) and audit_references. Every result stays within \
            --max-result-tokens and --max-result-bytes: a pack's budget is capped, search returns fewer \
            results, a long section is cut with a note. The index is refreshed at start and before \
            each audit. Logs go to stderr (CTXMEM_LOG_LEVEL=debug for more); stdout carries only the \
            protocol. When stdin ends, every request in flight is answered before the process exits.

            Register it with Claude Code:
              claude mcp add ctxmem -- ctxmem mcp --root /path/to/project
            """
    )

    @OptionGroup var location: LocationOptions

    @Option(
        help: ArgumentHelp(
            "Largest tool result in tokens (Claude Code warns above 10,000 and cuts at MAX_MCP_OUTPUT_TOKENS, 25,000 by default).",
            valueName: "tokens"))
    var maxResultTokens = 10_000

    @Option(help: ArgumentHelp("Largest tool result in bytes.", valueName: "bytes"))
    var maxResultBytes = 256 * 1024

    func validate() throws {
        guard maxResultTokens >= 500 else { throw ValidationError("--max-result-tokens must be at least 500") }
        guard maxResultBytes >= 4096 else { throw ValidationError("--max-result-bytes must be at least 4096") }
    }

    func run() async throws {
        let service = location.service(readerConnections: ProcessInfo.processInfo.activeProcessorCount)
        let coordinator = IndexCoordinator(service: service)
        try await coordinator.refresh()
        let face = MCPFace(
            coordinator: coordinator,
            limits: MCPFace.Limits(maxTokens: maxResultTokens, maxBytes: maxResultBytes),
            logger: Logger(label: "ctxmem.mcp"))
        var transportLogger = Logger(label: "ctxmem.mcp.stdio")
        transportLogger.logLevel = .warning
        try await face.run(transport: StdioTransport(logger: transportLogger))
    }
}
