// Public: a conformance of the core's public enums is as visible as they are.
public import ArgumentParser
import ContextMemory

// The core's enums as typed options. ArgumentParser's defaults for a `CaseIterable` enum with
// `String` raw values do the work: `init?(argument:)` takes the raw value, `allValueStrings` (the
// raw values, in declaration order) are listed in `--help` as "(values: ...)" and offered by shell
// completion, and any other value stops the command before `run()` with exit 2 and a message
// naming the choices. The conformances live here because the core knows no argument parser.

/// `ctxmem pack --format`.
extension PackFormat: ExpressibleByArgument {}

/// `ctxmem pack --mode`.
extension PackMode: ExpressibleByArgument {}

/// `ctxmem search --tier`, `ctxmem tiers --tier`.
extension Tier: ExpressibleByArgument {}

/// `ctxmem search --kind`.
extension DocumentKind: ExpressibleByArgument {}

/// `ctxmem audit --format`.
extension AuditFormat: ExpressibleByArgument {}

/// `ctxmem audit --fail-on`.
extension AuditThreshold: ExpressibleByArgument {}
