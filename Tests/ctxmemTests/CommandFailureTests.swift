import ContextMemory
import Testing

@testable import ctxmem

/// The one mapping from what a command throws to the exit code the README documents (0 success,
/// 1 runtime error, 2 usage error; `ctxmem audit`: 1 findings, 2 any error) and the text printed.
@Suite("Errors to exit codes")
struct CommandFailureTests {
    @Test(
        "each error keeps its documented exit code and prints its own description",
        arguments: [
            (SearchError.malformedQuery("the quote at character 1 is not closed"), 2),
            (SearchError.invalidOption("limit must be between 1 and 1000"), 2),
            (ConfigurationError.invalidYAML(source: ".ctxmem.yaml", detail: "line 2: bad"), 2),
            (PackError.invalidBudget(10), 2),
            (PackError.unknownAgent(name: "backend-manger", known: ["backend-manager"]), 2),
            (AuditError.unknownRule("broken-links", suggestion: "broken-link"), 2),
            (AuditError.invalidBaseline(path: "b.json", detail: "cannot read it"), 2),
            (ReadError.invalidHandle("memory://../x", reason: "it leaves the memory root"), 2),
            (ReadError.notFound(handle: "memory://CLAUDE.md#nope", suggestion: nil), 1),
            (IndexError.missing(path: "/tmp/x/.ctxmem/index.sqlite"), 1),
            (IndexError.invalidRoot(path: "/no/such", detail: "it does not exist or is not a folder"), 1),
            (IndexError.locked(path: "/tmp/x/.ctxmem/index.sqlite"), 1),
            (TokenizerError.unreadable(path: "t.json", reason: "no such file"), 1),
            (CommandFailure.usage("an unusable --tokenizer"), 2),
            (CommandFailure.runtime("cannot write /x: The file doesn’t exist."), 1),
            (Unexpected(), 1),
        ] as [(any Error, Int32)])
    func mapping(error: any Error, code: Int32) {
        let failure = CommandFailure.exit(for: error, in: PackCommand.self)
        #expect(failure.code == code, "\(error)")
        #expect(failure.message == "\(error)", "the message is the error's own text")
    }

    @Test(
        "ctxmem audit: 1 means findings, so every error exits 2, runtime errors included",
        arguments: [
            IndexError.missing(path: "/tmp/x/.ctxmem/index.sqlite"),
            CommandFailure.runtime("cannot write /x: The file doesn’t exist."),
            AuditError.unknownRule("broken-links", suggestion: "broken-link"),
            Unexpected(),
        ] as [any Error])
    func audit(error: any Error) {
        #expect(CommandFailure.exit(for: error, in: AuditCommand.self).code == 2)
        #expect(CommandFailure.exit(for: error, in: SearchCommand.self).code == (error is AuditError ? 2 : 1))
    }

    struct Unexpected: Error, CustomStringConvertible {
        var description: String { "something no one planned for" }
    }
}
