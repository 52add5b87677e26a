import Foundation
import Testing

@testable import ContextMemory

@Suite("Packing policy")
struct PackingPolicyTests {
    @Test("contentThreshold decides content or pointer: sections scoring under it are pointed to, the rest stay in")
    func contentThreshold() async throws {
        let tree = try FixtureTree()
        _ = try await tree.service.index()
        let task = "the GitOps decision: what is the source of truth for the fabric state"
        let request = PackRequest(task: task, budget: 20_000)
        let standard = try tree.service.packBuilder().build(request)
        let included = standard.explanation.filter { $0.outcome == .included && $0.tier != .essential }
        let scores = included.map(\.score).sorted()
        let lowest = try #require(scores.first)
        let highest = try #require(scores.last)
        try #require(lowest < highest, "the fixture's pack needs sections of different scores: \(included)")

        var policy = PackingPolicy.default
        policy.contentThreshold = (lowest + highest) / 2
        let strict = try tree.service.packBuilder(policy: policy).build(request)
        let outcomes = Dictionary(strict.explanation.map { ($0.handle, $0.outcome) }, uniquingKeysWith: { a, _ in a })
        for decision in included {
            let expected: PackDecision.Outcome = decision.score >= policy.contentThreshold ? .included : .pointer
            #expect(outcomes[decision.handle] == expected, "\(decision.handle), score \(decision.score)")
        }
        #expect(included.contains { outcomes[$0.handle] == .pointer })
        #expect(included.contains { outcomes[$0.handle] == .included })
        // The essentials do not depend on the threshold.
        let essentials = standard.explanation.filter { $0.tier == .essential }
        #expect(strict.explanation.filter { $0.tier == .essential } == essentials)
        #expect(strict.text.contains("## More available"))
    }

    @Test("overrides set fields by name, read back what differences() writes, and name what they reject")
    func overrides() throws {
        let policy = try PackingPolicy.default.overriding("documentWeight=0.3, mostRelevantFirst=10")
        #expect(policy.documentWeight == 0.3 && policy.mostRelevantFirst == 10)
        #expect(policy.differences() == "documentWeight=0.3,mostRelevantFirst=10")
        #expect(try PackingPolicy.default.overriding(policy.differences()) == policy)
        #expect(try PackingPolicy.default.overriding("") == .default)
        #expect { try PackingPolicy.default.overriding("documentWieght=0.3") } throws: {
            "\($0)".contains("no packing policy field named 'documentWieght'") && "\($0)".contains("documentWeight")
        }
        #expect { try PackingPolicy.default.overriding("mostRelevantFirst=2.5") } throws: {
            "\($0)".contains("mostRelevantFirst takes a whole number")
        }
        #expect(throws: PackingPolicyError.self) { try PackingPolicy.default.overriding("slackDivisor=0") }
        #expect(throws: PackingPolicyError.self) { try PackingPolicy.default.overriding("taskWeight=nan") }
        #expect(throws: PackingPolicyError.self) { try PackingPolicy.default.overriding("taskWeight") }
    }

    @Test("every field of the policy can be overridden by name")
    func everyFieldNamed() {
        let stored = Mirror(reflecting: PackingPolicy.default).children.compactMap(\.label)
        #expect(PackingPolicy.fieldNames == stored)
    }
}
