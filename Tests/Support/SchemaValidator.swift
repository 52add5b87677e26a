public import Foundation

/// Validates JSON against a JSON Schema with Python's `jsonschema` (installed by `make deps`).
public enum SchemaValidator {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    /// The first Python that imports `modules` (`CTXMEM_PYTHON`, then `python3`, then the system's).
    public static func python(modules: String = "jsonschema") throws -> String {
        for candidate in [ProcessInfo.processInfo.environment["CTXMEM_PYTHON"], "python3", "/usr/bin/python3"]
            .compactMap({ $0 })
        {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [candidate, "-c", "import \(modules)"]
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil {
                process.waitUntilExit()
                if process.terminationStatus == 0 { return candidate }
            }
        }
        throw Failure(
            description: "no python3 that imports \(modules); run `make deps` (Debian: python3-jsonschema python3-yaml)"
        )
    }

    public static func validate(instance: URL, schema: URL) throws {
        try runPython(
            """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[2]))
            jsonschema.validators.validator_for(schema).check_schema(schema)
            jsonschema.validate(json.load(open(sys.argv[1])), schema)
            """, arguments: [instance.path, schema.path])
    }

    /// Runs a Python script that imports `modules`; its stderr becomes the failure when it exits non-zero.
    public static func runPython(_ script: String, modules: String = "jsonschema", arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [try python(modules: modules), "-c", script] + arguments
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: String(decoding: message, as: UTF8.self))
        }
    }
}

/// Checks responses against Schemas/openapi.yaml with Python's jsonschema and PyYAML (`make deps`).
public enum OpenAPIValidator {
    public struct Sample: Encodable, Sendable {
        public var route: String
        public var method: String
        public var status: Int
        public var contentType: String
        public var body: String

        public init(route: String, method: String, status: Int, contentType: String, body: String) {
            self.route = route
            self.method = method
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    public static func validate(_ samples: [Sample]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ctxmem-openapi-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try JSONEncoder().encode(samples).write(to: file)
        let script = """
            import json, sys, os, yaml, jsonschema
            schemas = sys.argv[1]
            spec = yaml.safe_load(open(os.path.join(schemas, 'openapi.yaml')))
            def inline(node):
                if isinstance(node, dict):
                    ref = node.get('$ref')
                    if isinstance(ref, str) and not ref.startswith('#'):
                        return json.load(open(os.path.join(schemas, ref)))
                    return {k: inline(v) for k, v in node.items()}
                if isinstance(node, list):
                    return [inline(v) for v in node]
                return node
            spec = inline(spec)
            def resolve(node):
                while isinstance(node, dict) and isinstance(node.get('$ref'), str) and node['$ref'].startswith('#/components/responses/'):
                    node = spec['components']['responses'][node['$ref'].split('/')[-1]]
                return node
            failures = []
            for s in json.load(open(sys.argv[2])):
                operation = spec['paths'].get(s['route'], {}).get(s['method'])
                if operation is None:
                    failures.append(f"{s['method']} {s['route']}: not in openapi.yaml"); continue
                response = resolve(operation['responses'].get(str(s['status'])))
                if response is None:
                    failures.append(f"{s['method']} {s['route']} {s['status']}: status not documented"); continue
                media = s['contentType'].split(';')[0].strip()
                content = response.get('content', {})
                if media not in content:
                    failures.append(f"{s['method']} {s['route']} {s['status']}: {media} not documented ({list(content)})"); continue
                schema = dict(content[media].get('schema', {}))
                schema['components'] = spec['components']
                instance = json.loads(s['body']) if media.endswith('json') else s['body']
                try:
                    jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)(schema).validate(instance)
                except jsonschema.ValidationError as error:
                    failures.append(f"{s['method']} {s['route']} {s['status']}: {error.message} at {list(error.absolute_path)}")
            if failures:
                print('\\n'.join(failures), file=sys.stderr); sys.exit(1)
            """
        try SchemaValidator.runPython(
            script, modules: "jsonschema, yaml", arguments: [TestPaths.schemas.path, file.path])
    }
}
