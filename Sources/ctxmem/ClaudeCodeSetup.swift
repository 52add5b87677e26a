import ContextMemory

/// What `ctxmem init` merges into a project's Claude Code configuration: the ctxmem hook entries
/// in `.claude/settings.json` and the `ctxmem mcp` server in `.mcp.json`. Pure: it takes the
/// files' values and returns the merged values with what changed; ``InitCommand`` reads, backs up
/// and writes the files.
///
/// The merge keeps everything it does not own: other events, other matcher groups, other
/// handlers in ctxmem's group, unknown keys (also inside ctxmem's own handler), other MCP servers,
/// and the order of it all. ctxmem's own entries are recognised (``isCtxmemHook(_:)``,
/// ``ctxmemServerKey(in:)``) and updated where they stand, so a second run changes nothing and a
/// run with other options (`--http`) replaces the entry instead of adding one.
///
/// The settings it writes (Claude Code's hooks reference, https://code.claude.com/docs/en/hooks):
///
/// ```json
/// {
///   "hooks": {
///     "SubagentStart": [
///       {"hooks": [{"type": "command", "command": "ctxmem hook --root \"$CLAUDE_PROJECT_DIR\"", "timeout": 10}]}
///     ],
///     "PreToolUse": [{"matcher": "^(Agent|Task)$", "hooks": [...]}],
///     "SessionStart": [{"matcher": "compact", "hooks": [...]}]
///   }
/// }
/// ```
struct ClaudeCodeSetup: Sendable {
    /// How Claude Code reaches ctxmem on a hook event.
    enum HookTransport: Equatable, Sendable {
        /// A command hook: this shell command (`ctxmem hook --root "$CLAUDE_PROJECT_DIR"`).
        case command(String)
        /// An http hook to `ctxmem serve`: POST to `url`; with `tokenVariable`, the header
        /// `Authorization: Bearer $NAME`, the variable listed in `allowedEnvVars` so Claude Code
        /// fills it in (it sends unlisted variables as empty strings).
        case http(url: String, tokenVariable: String?)
    }

    /// One event ctxmem answers, with the matcher of its group (nil: every occurrence).
    struct HookEvent: Equatable, Sendable {
        var name: String
        var matcher: String?
        /// Whether Claude Code runs http hooks for it: `SessionStart` "supports only `command`
        /// hooks" (https://code.claude.com/docs/en/hooks), so it stays a command under `--http`.
        var acceptsHTTP = true
    }

    /// `SubagentStart` for every agent type (the pack goes to the new sub-agent), `PreToolUse` of
    /// the delegation tool (`Agent`, formerly `Task`), and `SessionStart` after a compaction.
    static let hookEvents = [
        HookEvent(name: "SubagentStart", matcher: nil),
        HookEvent(name: "PreToolUse", matcher: "^(Agent|Task)$"),
        HookEvent(name: "SessionStart", matcher: "compact", acceptsHTTP: false),
    ]
    /// `SubagentStop`, with `--handoffs`: the sub-agent's report becomes a handoff record.
    static let handoffEvent = HookEvent(name: "SubagentStop", matcher: nil)
    /// Seconds Claude Code waits for a hook (its `timeout` field is in seconds).
    static let hookTimeout = 10
    /// The route of `ctxmem serve` that answers Claude Code's http hooks.
    static let hookRoute = "/v1/hooks/claude-code"
    /// The name of ctxmem's server in `.mcp.json`.
    static let serverName = "ctxmem"

    var transport: HookTransport
    /// The command hook's command line, for the events that take no http hook (and ``transport``'s
    /// own when it is a command).
    var commandLine: String?
    /// `.mcp.json`'s `command` (`ctxmem` or the binary's absolute path, no shell quoting).
    var serverCommand: String
    /// `.mcp.json`'s `args` (`mcp --root /abs/root`).
    var serverArguments: [String]
    /// Names a command hook's program may have to be ctxmem's: `ctxmem`, and the running binary's
    /// file name when it was renamed.
    var executableNames: Set<String> = ["ctxmem"]
    /// Whether `SubagentStop` gets ctxmem's hook too (`ctxmem init --handoffs`).
    var handoffs = false

    /// The events this setup hooks.
    var events: [HookEvent] { Self.hookEvents + (handoffs ? [Self.handoffEvent] : []) }

    /// A file whose shape Claude Code would not accept either: the message names the key and
    /// what is there.
    struct ShapeError: Error, Equatable, CustomStringConvertible {
        /// The key path (`hooks.PreToolUse`); nil for the whole file.
        var key: String?
        var found: String
        var expected: String

        var description: String {
            "\(key.map { "`\($0)`" } ?? "the file") is \(found), where Claude Code expects \(expected)"
        }
    }

    // MARK: - .ctxmem.yaml

    /// `.ctxmem.yaml` with handoffs turned on, and what changed: a line added, or `handoffs: false`
    /// made true; every other line kept as written.
    /// - Throws: ``ShapeError`` when `handoffs` is a mapping that says `enabled: false` (the user
    ///   turned it off on purpose there; ctxmem does not rewrite mappings), or the result would not load.
    static func enableHandoffs(in text: String?) throws -> (text: String, changes: [String]) {
        let source = text ?? ""
        let current = try? Configuration.parse(source)
        if current?.handoffs.enabled == true { return (source, []) }
        var lines = source.components(separatedBy: "\n")
        let comment = "   # ctxmem init --handoffs: keep each sub-agent's report (docs/claude-code.md)"
        if let index = lines.firstIndex(where: { $0.hasPrefix("handoffs:") }) {
            let value =
                lines[index].dropFirst("handoffs:".count).split(separator: "#").first?
                .trimmingCharacters(in: .whitespaces) ?? ""
            guard ["false", "no", "off"].contains(value.lowercased()) else {
                throw ShapeError(
                    key: "handoffs", found: "a mapping with enabled: false",
                    expected: "`enabled: true` (set it yourself: ctxmem init does not rewrite mappings)")
            }
            lines[index] = "handoffs: true" + comment
        } else {
            if let last = lines.last, last.isEmpty { lines.removeLast() }
            lines.append("handoffs: true" + comment)
            lines.append("")
        }
        let updated = lines.joined(separator: "\n")
        _ = try Configuration.parse(updated)  // what is written must load
        return (updated, ["handoffs: true (sub-agents' reports are kept as handoff records)"])
    }

    // MARK: - .claude/settings.json

    /// `settings` with ctxmem's hook in each of ``hookEvents``, and what changed (empty: nothing).
    /// - Throws: ``ShapeError`` when the file, its `hooks` or an event is not what Claude Code
    ///   reads (then nothing is changed).
    func mergeSettings(_ settings: OrderedJSON) throws -> (merged: OrderedJSON, changes: [String]) {
        guard settings.isObject else { throw ShapeError(key: nil, found: settings.kindName, expected: "an object") }
        var merged = settings
        var hooks = merged["hooks"] ?? .emptyObject
        guard hooks.isObject else { throw ShapeError(key: "hooks", found: hooks.kindName, expected: "an object") }
        var changes: [String] = []
        for event in events {
            let groups = hooks[event.name] ?? .array([])
            guard case .array(let list) = groups else {
                throw ShapeError(
                    key: "hooks.\(event.name)", found: groups.kindName, expected: "a list of matcher groups")
            }
            let (updated, eventChanges) = merge(list, event: event)
            if !eventChanges.isEmpty {
                hooks[event.name] = .array(updated)
                let label = "hooks.\(event.name)" + (event.matcher.map { " (matcher \($0))" } ?? "")
                changes += eventChanges.map { "\(label): \($0)" }
            }
        }
        if !changes.isEmpty { merged["hooks"] = hooks }
        return (merged, changes)
    }

    /// One event's matcher groups with ctxmem's handler in the group of `event.matcher`.
    private func merge(_ original: [OrderedJSON], event: HookEvent) -> ([OrderedJSON], [String]) {
        var groups = original
        var changes: [String] = []
        // Where ctxmem's handlers are now: (group, handler) indices.
        var found: [(group: Int, handler: Int)] = []
        for (groupIndex, group) in groups.enumerated() {
            for (handlerIndex, handler) in (group["hooks"]?.arrayValue ?? []).enumerated() where isCtxmemHook(handler) {
                found.append((groupIndex, handlerIndex))
            }
        }
        // Keep the one in the right group; else one alone in a group whose matcher can be changed.
        let kept =
            found.first { Self.matches(groups[$0.group], event.matcher) }
            ?? found.first { location in
                (groups[location.group]["hooks"]?.arrayValue ?? []).allSatisfy(isCtxmemHook)
            }
        if let kept {
            var group = groups[kept.group]
            var handlers = group["hooks"]?.arrayValue ?? []
            if !Self.matches(group, event.matcher) {
                group["matcher"] = event.matcher.map(OrderedJSON.string)
                changes.append("set the matcher of ctxmem's group")
            }
            let handler = updatedHandler(handlers[kept.handler], event: event)
            if handler != handlers[kept.handler] {
                handlers[kept.handler] = handler
                changes.append("updated the ctxmem hook")
            }
            group["hooks"] = .array(handlers)
            groups[kept.group] = group
        }
        // Any other is a duplicate, or sits in a group shared with other handlers under another
        // matcher: it goes (last first, so the indices stay valid), with a group it leaves empty.
        // The kept one's group never empties, so `kept` stays valid too.
        for location in found.reversed() where !(kept.map { $0 == location } ?? false) {
            var handlers = groups[location.group]["hooks"]?.arrayValue ?? []
            handlers.remove(at: location.handler)
            if handlers.isEmpty {
                groups.remove(at: location.group)
            } else {
                groups[location.group]["hooks"] = .array(handlers)
            }
            changes.append("removed a duplicate ctxmem hook")
        }
        guard kept == nil else { return (groups, changes) }
        let handler = updatedHandler(.emptyObject, event: event)
        if let groupIndex = groups.firstIndex(where: {
            Self.matches($0, event.matcher) && $0["hooks"]?.arrayValue != nil
        }) {
            groups[groupIndex]["hooks"] = .array((groups[groupIndex]["hooks"]?.arrayValue ?? []) + [handler])
            changes.append("added the ctxmem hook to the existing group")
        } else {
            var group = OrderedJSON.emptyObject
            if let matcher = event.matcher { group["matcher"] = .string(matcher) }
            group["hooks"] = .array([handler])
            groups.append(group)
            changes.append("added the ctxmem hook")
        }
        return (groups, changes)
    }

    /// Whether a matcher group applies to `matcher`; for nil (every occurrence), a group without a
    /// matcher, or with `""` or `*`, which Claude Code reads the same way.
    static func matches(_ group: OrderedJSON, _ matcher: String?) -> Bool {
        guard group.isObject else { return false }
        let written = group["matcher"]
        guard let matcher else { return written == nil || written == .string("") || written == .string("*") }
        return written == .string(matcher)
    }

    /// ctxmem's handler: `existing` with the keys ctxmem owns set for ``transport`` (in place, new
    /// ones at the end) and every other key kept. A command handler loses `url`, `headers`,
    /// `allowedEnvVars` and `args`; an http handler loses `command` and `args`, and keeps headers
    /// of its own beside the `Authorization` ctxmem sets or removes.
    func updatedHandler(_ existing: OrderedJSON, event: HookEvent? = nil) -> OrderedJSON {
        var handler = existing.isObject ? existing : .emptyObject
        var transport = transport
        if event?.acceptsHTTP == false, case .http = transport, let commandLine { transport = .command(commandLine) }
        switch transport {
        case .command(let command):
            handler.renameKey("url", to: "command")  // an http hook becomes a command where it stood
            handler["type"] = .string("command")
            handler["command"] = .string(command)
            for key in ["url", "headers", "allowedEnvVars", "args"] { handler[key] = nil }
        case .http(let url, let tokenVariable):
            handler.renameKey("command", to: "url")
            handler["type"] = .string("http")
            handler["url"] = .string(url)
            handler["command"] = nil
            handler["args"] = nil
            var headers = handler["headers"].flatMap { $0.isObject ? $0 : nil } ?? .emptyObject
            var allowed = (handler["allowedEnvVars"]?.arrayValue ?? []).compactMap(\.stringValue)
            if let tokenVariable {
                headers["Authorization"] = .string("Bearer $\(tokenVariable)")
                if !allowed.contains(tokenVariable) { allowed.append(tokenVariable) }
            } else if let old = headers["Authorization"]?.stringValue, let variable = Self.bearerVariable(old) {
                // A token ctxmem set before, no longer wanted.
                headers["Authorization"] = nil
                allowed.removeAll { $0 == variable }
            }
            handler["headers"] = headers == .emptyObject ? nil : headers
            handler["allowedEnvVars"] = allowed.isEmpty ? nil : .array(allowed.map(OrderedJSON.string))
        }
        handler["timeout"] = .number(Self.hookTimeout)
        return handler
    }

    /// `NAME` of `Bearer $NAME` or `Bearer ${NAME}`, else nil.
    static func bearerVariable(_ value: String) -> String? {
        guard let match = value.wholeMatch(of: /Bearer \$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/)
        else { return nil }
        return String(match.1 ?? match.2 ?? "")
    }

    /// Whether a handler is ctxmem's: an http hook to ``hookRoute``, or a command hook whose
    /// program is ctxmem (by file name, quoted or not) and whose first argument is `hook`.
    func isCtxmemHook(_ handler: OrderedJSON) -> Bool {
        if let url = handler["url"]?.stringValue {
            var trimmed = Substring(url)
            while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            return trimmed.hasSuffix(Self.hookRoute)
        }
        guard let command = handler["command"]?.stringValue else { return false }
        let words = Self.shellWords(command, limit: 2)
        guard words.count == 2, words[1] == "hook" else { return false }
        let program = words[0].split(separator: "/").last.map(String.init) ?? words[0]
        return executableNames.contains(program)
    }

    /// The first `limit` words of a shell command, with simple quoting undone (`"a b"`, `'a b'`,
    /// `a\ b`); enough to find a program and its first argument.
    static func shellWords(_ command: String, limit: Int) -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var escaped = false
        for character in command {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                if character == open {
                    quote = nil
                } else if character == "\\" && open == "\"" {
                    escaped = true
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case "\"", "'":
                quote = character
                inWord = true
            case "\\":
                escaped = true
                inWord = true
            case " ", "\t", "\n":
                if inWord {
                    words.append(current)
                    if words.count == limit { return words }
                    current = ""
                    inWord = false
                }
            default:
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return Array(words.prefix(limit))
    }

    // MARK: - .mcp.json

    /// `config` with ctxmem's server under `mcpServers`, and what changed (empty: nothing).
    /// - Throws: ``ShapeError`` when the file, its `mcpServers` or ctxmem's entry is not an object.
    func mergeMCP(_ config: OrderedJSON) throws -> (merged: OrderedJSON, changes: [String]) {
        guard config.isObject else { throw ShapeError(key: nil, found: config.kindName, expected: "an object") }
        var merged = config
        var servers = merged["mcpServers"] ?? .emptyObject
        guard servers.isObject else {
            throw ShapeError(key: "mcpServers", found: servers.kindName, expected: "an object of servers by name")
        }
        let key = ctxmemServerKey(in: servers) ?? Self.serverName
        let existing = servers[key]
        if let existing, !existing.isObject {
            throw ShapeError(key: "mcpServers.\(key)", found: existing.kindName, expected: "an object")
        }
        var entry = existing ?? .emptyObject
        // ctxmem mcp speaks stdio only: a transport type other than stdio, a url and headers go.
        if entry["type"] != nil && entry["type"] != .string("stdio") { entry["type"] = nil }
        entry["url"] = nil
        entry["headers"] = nil
        entry["command"] = .string(serverCommand)
        entry["args"] = .array(serverArguments.map(OrderedJSON.string))
        guard entry != existing else { return (config, []) }
        servers[key] = entry
        merged["mcpServers"] = servers
        return (
            merged,
            ["mcpServers.\(key): " + (existing == nil ? "added the ctxmem server" : "updated the ctxmem server")]
        )
    }

    /// The name ctxmem's server has in `servers`: `ctxmem`, else the first server whose command is
    /// ctxmem and whose first argument is `mcp` (a server registered under another name).
    func ctxmemServerKey(in servers: OrderedJSON) -> String? {
        guard case .object(let members) = servers else { return nil }
        if servers[Self.serverName] != nil { return Self.serverName }
        return members.first { member in
            guard let command = member.value["command"]?.stringValue,
                member.value["args"]?.arrayValue?.first == .string("mcp")
            else { return false }
            return executableNames.contains(command.split(separator: "/").last.map(String.init) ?? command)
        }?.key
    }
}
