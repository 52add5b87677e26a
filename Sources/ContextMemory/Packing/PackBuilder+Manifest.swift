/// The manifest a pack states about itself, and its id: rendered inside the pack, so the fit
/// stage makes it again for each render.
extension PackBuilder {
    /// The manifest before anything is chosen: what the fixed cost is measured with.
    static func emptyManifest(
        request: PackRequest, agent: String?, task: String?, mode: PackMode, budget: Int,
        counter: PackTokenCounter, loadedByClaudeCode: PackManifest.LoadedByClaudeCode
    ) -> PackManifest {
        PackManifest(
            packId: String(repeating: "0", count: 16), agent: agent, task: task, format: request.format,
            mode: mode, budget: budget, tokens: 0, counter: counter.identifier, modelFactor: counter.modelFactor,
            safetyMargin: counter.safetyMargin, tokensByTier: [:], pointerTokens: 0, documents: 0,
            sections: 0, trimmed: [], leftOut: [:], duplicatesSkipped: 0,
            overhead: .init(essentialTokens: 0, fixedTokens: 0, claudeCodeTokens: 0, budget: budget, limit: 0),
            loadedByClaudeCode: loadedByClaudeCode)
    }

    /// The manifest of `content` as it stands: tokens by tier, pointers, trims, left out, its id.
    /// - Parameter pointerCosts: each listed pointer's tokens by handle, filled in for new ones.
    func manifest(
        for content: PackContent, roleTokens: Int, pointerCosts: inout [String: Int],
        request: PackRequest, budget: Int, leftOut: [Tier], duplicates: Int,
        fixedOverhead: Int, essentialShare: Double
    ) -> PackManifest {
        var manifest = content.manifest
        var byTier: [String: Int] = [:]
        for tier in Tier.allCases { byTier[tier.rawValue] = 0 }
        var trimmed: [PackManifest.Trim] = []
        var sections = 0
        for document in content.documents {
            for section in document.sections {
                let tokens = section.textTokens
                byTier[section.tier.rawValue, default: 0] += tokens
                sections += section.sectionCount
                if section.trimmed {
                    trimmed.append(.init(handle: section.handle, keptTokens: tokens, fullTokens: section.fullTokens))
                }
            }
        }
        let essentialText = byTier[Tier.essential.rawValue] ?? 0
        manifest.overhead = .init(
            essentialTokens: essentialText, fixedTokens: fixedOverhead,
            claudeCodeTokens: manifest.loadedByClaudeCode.tokens, budget: budget, limit: essentialShare)
        byTier[Tier.essential.rawValue, default: 0] += roleTokens
        var leftOutByTier: [String: Int] = [:]
        for tier in leftOut { leftOutByTier[tier.rawValue, default: 0] += 1 }
        manifest.tokensByTier = byTier
        let renderer = PackRenderer(format: request.format, delivery: request.delivery)
        manifest.pointerTokens = content.pointers.reduce(0) { total, pointer in
            let cost = pointerCosts[pointer.handle] ?? counter.count(renderer.pointerFragment(pointer))
            pointerCosts[pointer.handle] = cost
            return total + cost
        }
        manifest.documents = content.documents.count
        manifest.sections = sections
        manifest.trimmed = trimmed
        manifest.leftOut = leftOutByTier
        manifest.duplicatesSkipped = duplicates
        manifest.packId = Self.packID(content: content, request: request, budget: budget, counter: counter.identifier)
        return manifest
    }

    /// A hash of the inputs and of what was chosen (handles, content hashes, trims and pointers).
    static func packID(content: PackContent, request: PackRequest, budget: Int, counter: String) -> String {
        var key =
            "ctxmem-pack-v2\u{1}\(request.agent ?? "")\u{1}\(content.task ?? "")\u{1}\(budget)"
            + "\u{1}\(request.format.rawValue)\u{1}\(counter)\u{1}\(content.manifest.mode.rawValue)"
        for document in content.documents {
            for section in document.sections {
                key += "\u{1}\(section.handle)\u{2}\(section.endLine)\u{2}\(ContentHash(value: section.digest).hex)"
            }
        }
        for pointer in content.pointers { key += "\u{1}>\(pointer.handle)" }
        if let role = content.role { key += "\u{1}role\u{2}\(ContentHash(role.text).hex)" }
        return ContentHash(key).hex
    }
}
