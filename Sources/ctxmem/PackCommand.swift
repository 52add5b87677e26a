import ArgumentParser
import ContextMemory
import Foundation

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Assemble what a new agent should start with, within its token budget.",
        discussion: """
            A pack holds, in this order: the pinned essentials (sections an author marked essential, files \
            whose frontmatter names the agent, rules every agent keeps and sections that say what agents \
            may not do); the rest of the essential tier (the root CLAUDE.md, CLAUDE.local.md and what they \
            import) by relevance to the role and task, while the coordination overhead stays within the \
            essential share (20% of the budget unless context.essential_share or .ctxmem.yaml say \
            otherwise); the detailed sections most relevant to the role and task, best value per token \
            first; operational sections (runbooks, commands, history) only when the task calls for them; a \
            "more available" list of memory:// handles for what did not fit; then the agent's own \
            definition and the task.

            Mode: Claude Code loads the CLAUDE.md hierarchy, its imports and the rules without paths: \
            itself, unless the agent's definition sets omitClaudeMd: true. `supplement` leaves that memory \
            out and spends the budget on the rest; `replace` makes the pack the agent's whole project \
            memory; `auto` (the default) follows the definition. The manifest says which, and what was \
            left out because Claude Code loads it.

            The budget is a hard limit on everything printed, manifest and wrappers included, measured by \
            the counter in force: the estimator with a 5% safety margin, or the exact BPE of --tokenizer. \
            Default budget: the agent's context.budget, else budget in .ctxmem.yaml, else 200,000. Any \
            budget the pinned sections fit in gives the best pack that fits.

            Examples:
              ctxmem pack --agent backend-manager --task "add the VPC peering API"
              ctxmem pack --agent qa-manager --budget 10000 --mode replace --format xml --out pack.xml
              ctxmem pack --task "rotate the staging certificates" --explain
              ctxmem pack --agent gitops-manager --tokenizer Tokenizers/claude2-tokenizer.json

            Exit codes: 0 pack written; 1 runtime error (no index: run `ctxmem index`); 2 usage error, \
            including an unknown agent and pinned sections that alone exceed the budget (the message \
            names the largest and how to re-tier them; --trim-essentials cuts them instead).
            """
    )

    @OptionGroup var location: LocationOptions

    @Option(
        help: ArgumentHelp(
            "The agent's name, as in .claude/agents (see `ctxmem agents`); none for a generic pack.", valueName: "name")
    )
    var agent: String?

    @Option(help: ArgumentHelp("What the agent is asked to do; ranks sections by relevance.", valueName: "text"))
    var task: String?

    @Option(
        help: ArgumentHelp(
            "Token budget (\(PackRequest.budgetRange.lowerBound)-\(PackRequest.budgetRange.upperBound)).",
            valueName: "tokens"))
    var budget: Int?

    @Option(help: ArgumentHelp("Output format.", valueName: "format"))
    var format: PackFormat = .markdown

    @Option(
        help: ArgumentHelp(
            "replace: the pack is the agent's whole project memory; supplement: leave out what Claude Code loads itself; auto: replace when the agent's definition sets omitClaudeMd: true.",
            valueName: "mode"))
    var mode: PackMode = .auto

    @Flag(help: "Print, on stderr, every candidate with its score, tier, tokens and what became of it.")
    var explain = false

    @Option(help: ArgumentHelp("Write the pack to this file instead of stdout.", valueName: "file"))
    var out: String?

    @OptionGroup var counting: CountingOptions

    @Flag(help: "Cut pinned essential sections to fit instead of failing when they alone exceed the budget.")
    var trimEssentials = false

    func run() throws {
        let request = PackRequest(
            agent: agent, task: task, budget: budget, format: format, trimEssentials: trimEssentials, mode: mode)
        try request.validate()  // before the index is opened
        let pack = try location.service().pack(
            request, tokenizer: counting.tokenizer, modelFactor: counting.tokenFactor,
            safetyMargin: counting.safetyMargin)
        if let out {
            do {
                try Data(pack.text.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw CommandFailure.runtime("cannot write \(out): \(error.localizedDescription)")
            }
            Terminal.standardError(
                "ctxmem: wrote \(out): \(pack.manifest.tokens) of \(pack.manifest.budget) tokens, "
                    + "\(pack.manifest.sections) sections from \(pack.manifest.documents) documents (pack \(pack.manifest.packId))"
            )
        } else {
            // On a terminal, made visible (the JSON format as JSON); to a pipe, byte for byte.
            let shown =
                !Terminal.escapesStandardOutput
                ? pack.text
                : format == .json ? Terminal.visibleJSON(pack.text) : Terminal.visible(pack.text)
            FileHandle.standardOutput.write(Data(shown.utf8))
        }
        if explain { Terminal.standardError(Self.explanation(pack)) }
    }

    static func explanation(_ pack: Pack) -> String {
        let manifest = pack.manifest
        let overhead = manifest.overhead
        var lines = [
            "mode \(manifest.mode.rawValue); coordination overhead \(overhead.tokens) of \(manifest.budget) tokens "
                + String(format: "(%.1f%%, limit %.0f%%)", overhead.share * 100, overhead.limit * 100)
                + ": essentials \(overhead.essentialTokens), role brief and manifest \(overhead.fixedTokens)"
                + (manifest.mode == .supplement
                    ? ", loaded by Claude Code \(overhead.claudeCodeTokens) (\(manifest.loadedByClaudeCode.files.count) files, left out)"
                    : ""),
            "outcome    tier         tokens  score  handle  (why)",
        ]
        for decision in pack.explanation {
            lines.append(
                "\(decision.outcome.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) "
                    + "\(decision.tier.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) "
                    + String(format: "%7d  %5.2f  ", decision.tokens, decision.score)
                    + "\(decision.handle)  (\(decision.reason))")
        }
        return lines.joined(separator: "\n")
    }
}

/// How tokens are counted: shared by pack, agents, tiers and tokens.
struct CountingOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Count exactly with this HF tokenizer.json (e.g. Tokenizers/claude2-tokenizer.json) instead of the estimator.",
            valueName: "file"))
    var tokenizer: String?

    @Option(
        help: ArgumentHelp(
            "Multiply every count by this per-model factor (e.g. 1.35 for models with a newer tokenizer).",
            valueName: "factor"))
    var tokenFactor: Double?

    @Option(
        help: ArgumentHelp(
            "Reserve this share against counting error (default 0.05 with the estimator, 0 with --tokenizer).",
            valueName: "share"))
    var safetyMargin: Double?

    func validate() throws {
        if let tokenFactor, !(0.25...4).contains(tokenFactor) {
            throw ValidationError("--token-factor must be between 0.25 and 4")
        }
        if let safetyMargin, !(0...1).contains(safetyMargin) {
            throw ValidationError("--safety-margin must be between 0 and 1")
        }
    }
}
