import Foundation
import Testing

@testable import ContextMemory

/// `read(handle:references:)`: what a section links to and what links to it (the console's
/// reading view, `GET /v1/memory?references=true`).
@Suite("A section's references in and out")
struct ReferencesTests {
    @Test("links to a section from its own file and from others count as in; a link out names the section it leads to")
    func inAndOut() async throws {
        let tree = try FixtureTree()
        try tree.write(
            "project_management/anchors.md",
            "# Top\n\nSee [the details](#details) and [a missing file](nowhere.md).\n\n## Details\n\nText.\n")
        try tree.write(
            "project_management/elsewhere.md",
            "# Elsewhere\n\n[details](anchors.md#details), [the file](anchors.md), [top](anchors.md#top)\n")
        _ = try await tree.service.index()
        let details = try await tree.service.read(
            handle: "memory://project_management/anchors.md#details", references: true)
        let incoming = try #require(details.references?.incoming)
        #expect(
            Set(incoming.map { "\($0.path):\($0.line):\($0.target)" }) == [
                "project_management/anchors.md:3:#details",
                "project_management/elsewhere.md:3:anchors.md#details",
                "project_management/elsewhere.md:3:anchors.md",
            ])
        #expect(incoming.allSatisfy { $0.handle != nil })
        #expect(details.references?.outgoing == [])

        let first = try await tree.service.read(handle: "memory://project_management/anchors.md#top", references: true)
        let outgoing = try #require(first.references?.outgoing)
        #expect(outgoing.map(\.target) == ["#details", "nowhere.md"])
        #expect(outgoing.first?.handle == "memory://project_management/anchors.md#details")
        #expect(outgoing.last?.handle == nil, "a file that is not indexed memory has no handle")
        // The file as a whole: only links from other files come in.
        let file = try await tree.service.read(handle: "memory://project_management/anchors.md", references: true)
        #expect(file.references?.incoming.allSatisfy { $0.path == "project_management/elsewhere.md" } == true)
        #expect(file.references?.incoming.count == 3)
        // A line of the file: the section that holds it (the file before the first heading's line).
        let byLine = try await tree.service.read(handle: "memory://project_management/anchors.md", line: 6)
        #expect(byLine.handle == "memory://project_management/anchors.md#details")
        let top = try await tree.service.read(handle: "memory://project_management/anchors.md", line: 1)
        #expect(top.handle == "memory://project_management/anchors.md#top")
        // Without the flag: nothing.
        #expect(try await tree.service.read(handle: "memory://project_management/anchors.md").references == nil)
    }
}
