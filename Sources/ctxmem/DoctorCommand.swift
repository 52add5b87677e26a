import ArgumentParser
import ContextMemory
import Foundation

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check every page of the index for damage.",
        discussion: """
            Runs SQLite's full integrity check and FTS5's check of the full-text index. Every command \
            already checks the file's header when it opens the index, and any statement that meets a \
            damaged page stops with "damaged: run ctxmem index --rebuild"; `ctxmem index` rebuilds a \
            damaged index by itself. This reads the whole file, so it finds damage nothing has touched yet.

            Examples:
              ctxmem doctor
              ctxmem doctor --json

            Exit codes: 0 intact; 1 damaged (run `ctxmem index --rebuild`), no index, or locked.
            """
    )

    @OptionGroup var location: LocationOptions

    @Flag(help: "Print the result as JSON (index, intact, problems).")
    var json = false

    func run() throws {
        let service = location.service()
        let problems = try service.checkIntegrity()
        if json {
            struct Result: Encodable {
                var index: String
                var intact: Bool
                var problems: [String]
            }
            print(try Terminal.json(Result(index: service.databasePath, intact: problems.isEmpty, problems: problems)))
        } else if problems.isEmpty {
            print("\(service.databasePath): intact (every page read)")
        } else {
            print(
                "\(service.databasePath): damaged; run `ctxmem index --rebuild` to recreate it from the files (nothing is lost)"
            )
            for problem in problems.prefix(20) { print("  \(problem)") }
            if problems.count > 20 { print("  ... and \(problems.count - 20) more") }
        }
        if !problems.isEmpty { throw ExitCode(1) }
    }
}
