import CtxmemTestSupport

// The helpers every test target shares are in Tests/Support (CtxmemTestSupport). These names make
// them this target's own, so its files use them without importing that module.

/// Where the tests' files are (``CtxmemTestSupport/TestPaths``).
typealias TestPaths = CtxmemTestSupport.TestPaths
/// A fixture tree copied to a fresh temporary folder (``CtxmemTestSupport/FixtureTree``).
typealias FixtureTree = CtxmemTestSupport.FixtureTree
/// JSON against a JSON Schema, with Python's jsonschema (``CtxmemTestSupport/SchemaValidator``).
typealias SchemaValidator = CtxmemTestSupport.SchemaValidator
/// Responses against Schemas/openapi.yaml (``CtxmemTestSupport/OpenAPIValidator``).
typealias OpenAPIValidator = CtxmemTestSupport.OpenAPIValidator
