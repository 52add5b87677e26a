import ArgumentParser
import ContextMemory
import Foundation

struct AgentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List the agents of .claude/agents with their budget, mode and coordination overhead.",
        discussion: """
            An agent's context settings live in its definition's frontmatter, in a `context:` block that \
            Claude Code ignores, beside Claude Code's own `omitClaudeMd`:

              omitClaudeMd: true              # Claude Code v2.1.271+: start without CLAUDE.md; the pack replaces it
              context:
                budget: 40000
                include: ["project_management/backend/**"]
                exclude: ["project_management/archive/**"]
                keywords: [django, api]
                tiers: [essential, detailed]
                essential_share: 0.2          # most of the budget for essentials, role brief and manifest

            Columns: mode is replace (omitClaudeMd: true: the pack is the agent's whole project memory) \
            or supplement (Claude Code loads CLAUDE.md, its imports and the unconditional rules itself); \
            pinned is what every pack for the agent holds (author-marked essentials, files addressed to \
            it, prohibitions, its definition); overhead is what its role pack (no task, its budget) spends \
            on coordination: essentials, role brief and manifest and, in supplement mode, what Claude Code \
            loads. An agent over 20% of its budget is flagged with `!`: coordination should leave the \
            agent most of its context. Counts are stored counts, before the pack's safety margin. A \
            definition with problems is listed with them (rule invalid-agent).
            """
    )

    @OptionGroup var location: LocationOptions

    @Flag(help: "Print the agents as JSON.")
    var json = false

    func run() throws {
        let agents = try location.service().agents()
        if json {
            try Terminal.standardOutput(json: agents)
            return
        }
        guard !agents.isEmpty else {
            Terminal.standardOutput("No agents: define them in .claude/agents/NAME.md (then run `ctxmem index`).")
            return
        }
        // Names as shown (made visible on a terminal), so the columns line up.
        let names = agents.map { Terminal.shown($0.profile.name) }
        let width = max(5, names.map(\.count).max() ?? 5)
        Terminal.standardOutput(
            "agent".padding(toLength: width, withPad: " ", startingAt: 0)
                + "  mode          budget   pinned  overhead  share   definition")
        for (agent, name) in zip(agents, names) {
            // `name` is already visible; the rest of the line is made so by standardOutput.
            Terminal.standardOutput(
                name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + "  " + agent.mode.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + String(
                        format: " %8d %8d  %8d  %4.0f%% %@ ", agent.budget, agent.pinnedTokens, agent.overheadTokens,
                        agent.overheadShare * 100, agent.overLimit ? "!" : " ")
                    + agent.profile.path)
            for finding in agent.findings { Terminal.standardOutput("    \(finding)") }
        }
        let flagged = agents.filter(\.overLimit)
        if !flagged.isEmpty {
            Terminal.standardOutput(
                "\n! \(flagged.count) agent\(flagged.count == 1 ? "" : "s") over 20% of the budget on coordination. "
                    + (flagged.contains { $0.mode == .supplement }
                        ? "In supplement mode Claude Code's own load counts: `omitClaudeMd: true` lets the pack replace it, trimmed to the role. "
                        : "")
                    + "Lower essential_share, re-tier pinned sections, or raise the budget (`ctxmem pack --explain` shows what is in)."
            )
        }
    }
}
