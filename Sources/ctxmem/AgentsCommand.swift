import ArgumentParser
import ContextMemory
import Foundation

struct AgentsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agents",
        abstract: "List the agents of .claude/agents with their budget and the essential tokens each starts with.",
        discussion: """
            An agent's context settings live in its definition's frontmatter, in a `context:` block that \
            Claude Code ignores:

              context:
                budget: 40000
                include: ["project_management/backend/**"]
                exclude: ["project_management/archive/**"]
                keywords: [django, api]
                tiers: [essential, detailed]

            Essential tokens are what every pack for the agent starts with (stored counts, before the \
            pack's safety margin). A definition with problems is listed with them (rule invalid-agent).
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
            "agent".padding(toLength: width, withPad: " ", startingAt: 0) + "   budget  essential  share  definition")
        for (agent, name) in zip(agents, names) {
            let share = Double(agent.essentialTokens) / Double(max(1, agent.budget)) * 100
            // `name` is already visible; the rest of the line is made so by standardOutput.
            Terminal.standardOutput(
                name.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(format: " %8d  %9d  %4.0f%%  ", agent.budget, agent.essentialTokens, share)
                    + agent.profile.path
                    + (agent.essentialTokens > agent.budget ? "  (essentials exceed the budget)" : ""))
            for finding in agent.findings { Terminal.standardOutput("    \(finding)") }
        }
    }
}
