import ArgumentParser
import ContextMemory
import Foundation

struct HookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook",
        abstract: "Answer a Claude Code hook: give each sub-agent its pack when Claude Code starts it.",
        discussion: """
            Claude Code runs this command with the hook's input JSON on stdin (`ctxmem init` writes the \
            entries into .claude/settings.json). It answers four events:

              PreToolUse (matcher ^(Agent|Task)$)  records the delegation prompt for the sub-agent it \
            starts (kept for 10 minutes beside the index, redacted, never indexed); prints nothing.
              SubagentStart                        prints hookSpecificOutput.additionalContext: a pack \
            for the agent and the recorded task (else its role), pinned essentials first, at most 10,000 \
            characters with memory:// handles for the rest.
              SubagentStop                         with `handoffs: true` in .ctxmem.yaml (`ctxmem init \
            --handoffs`), keeps the sub-agent's final message as a handoff record in \
            project_management/handoffs/YYYY-MM-DD/AGENT-ID.md (redacted, capped) and indexes it; prints nothing.
              SessionStart (matcher compact)       prints what compaction dropped: the nested CLAUDE.md \
            files and path-scoped rules of the files the session worked on, and the session's handoffs.

            It never stops Claude Code: every error (no index, unknown agent, locked or damaged index, \
            malformed input) exits 0 with one line on stderr. An agent with omitClaudeMd: true then gets \
            the pinned essentials written at the last `ctxmem index`. `ctxmem serve` answers the same at \
            POST /v1/hooks/claude-code. docs/claude-code.md has the details.

            Try it (--text prints the context alone):
              echo '{"hook_event_name": "SubagentStart", "agent_type": "qa-manager"}' | ctxmem hook --text
            """
    )

    @OptionGroup var location: LocationOptions

    @Flag(help: "Print only the injected context, as text, instead of Claude Code's JSON (to read it).")
    var text = false

    func run() async throws {
        let input = FileHandle.standardInput.readData(ofLength: MemoryService.hookInputLimit + 1)
        let answer: HookAnswer
        if input.count > MemoryService.hookInputLimit {
            answer = HookAnswer(note: "ctxmem hook: the input is over \(MemoryService.hookInputLimit) bytes; ignored")
        } else {
            answer = location.service().answerHook(input)
        }
        if let output = text ? answer.context : answer.output {
            FileHandle.standardOutput.write(Data((output + "\n").utf8))
        }
        if let note = answer.note { Terminal.standardError(note) }
        if let record = answer.wroteHandoff {
            // Fails open like the rest: the record is on disk, and the next index run takes it.
            do { try await location.service().indexHandoffs() } catch {
                Terminal.standardError("ctxmem hook: \(record) is written but not indexed yet: \(error)")
            }
        }
    }
}
