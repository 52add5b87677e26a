import CtxmemTestSupport

// The helpers every test target shares are in Tests/Support (CtxmemTestSupport). These names make
// them this target's own, so its files use them without importing that module. `SplitMix64`, the
// seeded generator, is in the core (ContextMemory), which the bench shares.

/// Where the tests' files are (``CtxmemTestSupport/TestPaths``).
typealias TestPaths = CtxmemTestSupport.TestPaths
/// A fixture tree copied to a fresh temporary folder, removed when the test ends
/// (``CtxmemTestSupport/FixtureTree``; the index helpers are in IndexTests/FixtureTree.swift).
typealias FixtureTree = CtxmemTestSupport.FixtureTree
