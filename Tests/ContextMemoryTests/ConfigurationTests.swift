import Testing

@testable import ContextMemory

@Suite("Configuration")
struct ConfigurationTests {
    private let source = "/repo/.ctxmem.yaml"

    private func parse(_ text: String) throws -> Configuration {
        try Configuration.parse(text, source: source)
    }

    /// The error's description, or nil when the text parses.
    private func message(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("every setting")
    func valid() throws {
        let configuration = try parse(
            """
            # project settings
            include: ["docs/**/*.md"]
            exclude:
              - vendor/**
              - "*.draft.md"
            import_depth: 3
            max_file_size: 1000
            tier_rules:
              - path: "project_management/archive/**"
                tier: operational
              - path: docs/adr/
                tier: essential
            """)
        #expect(
            configuration
                == Configuration(
                    include: ["docs/**/*.md"], exclude: ["vendor/**", "*.draft.md"], importDepth: 3, maxFileSize: 1000,
                    tierRules: [
                        .init(path: "project_management/archive/**", tier: .operational),
                        .init(path: "docs/adr/", tier: .essential),
                    ]))
    }

    @Test(
        "empty text, comments only and partial settings give the defaults",
        arguments: [
            "", "\n\n", "# nothing here\n", "---\n", "---\n# include: [docs/**]\n", "~\n", "include: []\n",
        ])
    func defaults(text: String) throws {
        let configuration = try parse(text)
        #expect(configuration == Configuration())
        #expect(configuration.importDepth == 4)
        #expect(configuration.maxFileSize == 8 * 1024 * 1024)
    }

    @Test(
        "problems name the file, the line and the setting",
        arguments: [
            // Invalid YAML.
            ("include: [a\nexclude: b\n", "/repo/.ctxmem.yaml: not valid YAML: line 2: "),
            (
                "import_depth: 3\na: b: c\n",
                "/repo/.ctxmem.yaml: not valid YAML: line 2: mapping values are not allowed"
            ),
            ("\tinclude: x\n", "/repo/.ctxmem.yaml: not valid YAML: line 1: "),
            // Unknown settings.
            (
                "\n\nimports_depth: 3\n",
                "/repo/.ctxmem.yaml: line 3: unknown setting 'imports_depth'; did you mean 'import_depth'? (known: budget, essential_share, exclude, handoffs, import_depth"
            ),
            // Values of the wrong type or out of range.
            ("include: docs\n", "/repo/.ctxmem.yaml: line 1: include: expected "),
            ("exclude: [a]\nimport_depth: many\n", "/repo/.ctxmem.yaml: line 2: import_depth: expected Int"),
            ("import_depth: 0\n", "/repo/.ctxmem.yaml: line 1: import_depth must be between 1 and 64"),
            ("\nimport_depth: 65\n", "/repo/.ctxmem.yaml: line 2: import_depth must be between 1 and 64"),
            ("max_file_size: -1\n", "/repo/.ctxmem.yaml: line 1: max_file_size must be between 1 and 268435456 bytes"),
            ("tier_rules:\n  - path: a/**\n    tier: urgent\n", "/repo/.ctxmem.yaml: line 3: tier_rules[0].tier: "),
            (
                "tier_rules:\n  - path: a/**\n    tier: essential\n  - tier: essential\n",
                "/repo/.ctxmem.yaml: line 4: tier_rules[1].path: required"
            ),
            // Not a mapping at all.
            ("- a\n- b\n", "/repo/.ctxmem.yaml: the top level must be a mapping of settings"),
        ])
    func problems(text: String, prefix: String) throws {
        let described = try #require(message(text))
        #expect(described.hasPrefix(prefix), "\(described)")
    }

    @Test("errors are ConfigurationError values")
    func errorKinds() {
        #expect(throws: ConfigurationError.self) { try parse("import_depth: [") }
        #expect {
            try parse("bogus: 1")
        } throws: { error in
            guard case .invalidValue(let source, _) = error as? ConfigurationError else { return false }
            return source == "/repo/.ctxmem.yaml"
        }
    }

    @Test("the fingerprint changes with any setting and only then")
    func fingerprint() throws {
        let base = try parse("include: [a]\n")
        #expect(base.fingerprint == (try parse("include:\n  - a\n")).fingerprint)
        #expect(base.fingerprint != (try parse("include: [b]\n")).fingerprint)
        #expect(base.fingerprint != (try parse("include: [a]\nimport_depth: 5\n")).fingerprint)
    }
}
