import ArgumentParser
import ContextMemory

/// A failure of the command line itself rather than of the core: a file ctxmem cannot write, a
/// file `ctxmem tokens` cannot read, a `--tokenizer` it cannot use. Its message is printed as is.
struct CommandFailure: Error, CustomStringConvertible {
    /// What the user did wrong (``usage``) or what went wrong around them (``runtime``).
    enum Kind: Equatable {
        /// A bad option, argument or input file: exit 2.
        case usage
        /// The run failed (no index, a file that cannot be written): exit 1, or 2 for `ctxmem audit`.
        case runtime
    }

    var kind: Kind
    var message: String

    var description: String { message }

    static func usage(_ message: String) -> CommandFailure { CommandFailure(kind: .usage, message: message) }
    static func runtime(_ message: String) -> CommandFailure { CommandFailure(kind: .runtime, message: message) }

    /// The one mapping from an error a command's `run()` throws to the exit code ctxmem documents
    /// and the message it prints after `ctxmem: error: ` (none for an ``ExitCode``, which says all).
    ///
    /// - Usage, exit 2: ``SearchError`` (malformed query, bad option), ``ConfigurationError``,
    ///   ``PackError`` (unknown agent, budget, essentials over budget), ``AuditError`` (unknown rule,
    ///   unusable baseline), a malformed handle (``ReadError/invalidHandle(_:reason:)``), a
    ///   `ValidationError` and a ``CommandFailure`` of kind ``Kind/usage``.
    /// - Runtime, exit 1: everything else, among them ``IndexError`` (no index, locked, damaged),
    ///   ``ReadError/notFound(handle:suggestion:)``, ``TokenizerError`` (a pack's `--tokenizer`) and
    ///   a ``CommandFailure`` of kind ``Kind/runtime``.
    /// - `ctxmem audit` exits 1 for findings at or above `--fail-on`, so every error there is 2.
    /// - An ``ExitCode`` is the command's own verdict (audit findings, doctor's damage, tokens'
    ///   unreadable files): its code, no message.
    ///
    /// ArgumentParser's own usage errors never get here: `CTXMem.main` reports them (exit 2) before
    /// a command runs.
    static func exit(for error: any Error, in command: any ParsableCommand.Type) -> (code: Int32, message: String?) {
        if let code = error as? ExitCode { return (code.rawValue, nil) }
        let kind: Kind
        switch error {
        case let failure as CommandFailure: kind = failure.kind
        case is SearchError, is ConfigurationError, is PackError, is AuditError, is ValidationError: kind = .usage
        case ReadError.invalidHandle: kind = .usage
        default: kind = .runtime
        }
        let code: Int32 = kind == .usage || command is AuditCommand.Type ? 2 : 1
        return (code, "\(error)")
    }
}
