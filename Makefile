# ctxmem: the two quick-start commands (`make demo`, `make test`) and the tools around them.
# Every target first installs the system libraries it needs when they are missing (Debian/Ubuntu).

SWIFT ?= swift
DEMO_ROOT ?= memory
DEMO_DB ?= $(CURDIR)/.build/demo-index.sqlite
DEMO_PACK ?= $(CURDIR)/.build/demo-pack.md
DEMO_AGENT ?= backend-manager
DEMO_TASK ?= add the VPC peering API
APT_PACKAGES = pkg-config libcmark-dev libxml2-dev libsqlite3-dev python3-jsonschema python3-yaml

.PHONY: demo test lint format deps browser-deps build release coverage bench clean

## Index the bundled example memory and pack what its backend manager starts with.
demo: deps
	$(SWIFT) build --product ctxmem
	.build/debug/ctxmem index --root $(DEMO_ROOT) --db $(DEMO_DB)
	.build/debug/ctxmem agents --root $(DEMO_ROOT) --db $(DEMO_DB)
	.build/debug/ctxmem pack --root $(DEMO_ROOT) --db $(DEMO_DB) --agent $(DEMO_AGENT) --task "$(DEMO_TASK)" --out $(DEMO_PACK)
	@echo; sed -n '1,4p' $(DEMO_PACK); echo '[...]'; sed -n '/^## More available/,/^## Your role/p' $(DEMO_PACK) | head -n 12; echo '[...]'; tail -n 3 $(DEMO_PACK)
	@echo; echo "The whole pack: $(DEMO_PACK)   (ctxmem pack --help for formats, budgets and --explain)"

## Run the whole test suite: the Swift tests, then the web console in headless Chromium.
test: deps browser-deps
	$(SWIFT) test
	$(SWIFT) build --product ctxmem
	scripts/console-test

## Style and structure (CI runs it before the tests): swift-format's lint with the committed
## .swift-format (any finding fails), and scripts/layers (no folder of the core uses one above it).
lint:
	$(SWIFT) format lint --strict --recursive --parallel Package.swift Sources Tests
	scripts/layers

## Rewrite the tree as .swift-format says (then `make lint` passes).
format:
	$(SWIFT) format --in-place --recursive --parallel Package.swift Sources Tests

## Install missing system packages (apt-get; uses sudo when not root).
deps:
	@missing=""; \
	pkg-config --exists libcmark 2>/dev/null || missing="$$missing libcmark-dev"; \
	pkg-config --exists libxml-2.0 2>/dev/null || missing="$$missing libxml2-dev"; \
	pkg-config --exists sqlite3 2>/dev/null || missing="$$missing libsqlite3-dev"; \
	command -v pkg-config >/dev/null 2>&1 || missing="$$missing pkg-config"; \
	{ python3 -c 'import jsonschema' 2>/dev/null || /usr/bin/python3 -c 'import jsonschema' 2>/dev/null; } || missing="$$missing python3-jsonschema"; \
	{ python3 -c 'import jsonschema, yaml' 2>/dev/null || /usr/bin/python3 -c 'import jsonschema, yaml' 2>/dev/null; } || missing="$$missing python3-yaml"; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

## What scripts/console-test drives: Debian's Chromium, its driver, and Selenium for the system Python.
browser-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	/usr/bin/python3 -c 'import selenium' 2>/dev/null || missing="$$missing python3-selenium"; \
	if [ -n "$$missing" ]; then \
		echo "Installing:$$missing"; \
		SUDO=""; [ "$$(id -u)" -eq 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

## Line coverage of the core library (target: >= 90%).
coverage: deps
	$(SWIFT) test --enable-code-coverage
	@"$$(dirname "$$(readlink -f "$$(command -v $(SWIFT))")")/llvm-cov" report "$$($(SWIFT) build --show-bin-path)/ctxmemPackageTests.xctest" \
		-instr-profile="$$($(SWIFT) build --show-bin-path)/codecov/default.profdata" \
		-ignore-filename-regex='(\.build|Tests)/' Sources/ContextMemory | tail -n 1

## Benchmarks (release build): synthetic corpus, or BENCH_ARGS='--dir PATH'.
bench: deps
	$(SWIFT) run -c release ctxmem-bench $(BENCH_ARGS)

clean:
	rm -rf .build
