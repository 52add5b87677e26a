import ArgumentParser
import ContextMemory
import Foundation

struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Assemble what a new agent should start with, within its token budget.",
        discussion: """
            A pack holds, in this order: the essential sections (the root CLAUDE.md and what it imports, \
            unconditional rules, files whose frontmatter names the agent); the detailed sections most \
            relevant to the agent's role and task, best value per token first; operational sections \
            (runbooks, commands, history) only when the task calls for them; a "more available" list of \
            memory:// handles for what did not fit; then the agent's own definition and the task.

            The budget is a hard limit on everything printed, manifest and wrappers included, measured by \
            the counter in force: the estimator with a 5% safety margin, or the exact BPE of --tokenizer. \
            Default budget: the agent's context.budget, else budget in .ctxmem.yaml, else 200,000.

            Examples:
              ctxmem pack --agent backend-manager --task "add the VPC peering API"
              ctxmem pack --agent qa-manager --budget 20000 --format xml --out pack.xml
              ctxmem pack --task "rotate the staging certificates" --explain
              ctxmem pack --agent gitops-manager --tokenizer Tokenizers/claude2-tokenizer.json

            Exit codes: 0 pack written; 1 runtime error (no index: run `ctxmem index`); 2 usage error, \
            including an unknown agent and essentials that alone exceed the budget (the message names \
            the largest and how to re-tier them).
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

    @Flag(help: "Print, on stderr, every candidate with its score, tier, tokens and what became of it.")
    var explain = false

    @Option(help: ArgumentHelp("Write the pack to this file instead of stdout.", valueName: "file"))
    var out: String?

    @OptionGroup var counting: CountingOptions

    @Flag(help: "Cut essential sections to fit instead of failing when they alone exceed the budget.")
    var trimEssentials = false

    func run() throws {
        let request = PackRequest(
            agent: agent, task: task, budget: budget, format: format, trimEssentials: trimEssentials)
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
        var lines = ["outcome    tier         tokens  score  handle  (why)"]
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
