# modelops — the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help
NODE_TEST := node --experimental-vm-modules node_modules/jest/bin/jest.js

.PHONY: help
help: ## List the targets.
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json .npmrc
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.installed ## Install Node packages and the system packages the tests use.
	@bash test/deps.sh

.PHONY: testbed
testbed: ## Build (or reuse) the local control plane binaries.
	@bash test/bed/build.sh >/dev/null

.PHONY: testbed-up
testbed-up: deps testbed ## Start the local control plane (simulated CPU and GPU nodes, real serving pods).
	@bash test/bed/testbed.sh up

.PHONY: testbed-down
testbed-down: ## Stop the local control plane and every process it started; remove its data plane.
	@bash test/bed/testbed.sh down

.PHONY: crds
crds: deps ## Regenerate crds/ from the TypeScript schemas.
	node_modules/.bin/tsx operator/src/api/generate.ts

.PHONY: format
format: deps ## Format the TypeScript and JavaScript with Prettier (`make test` checks it).
	node_modules/.bin/prettier --write --log-level warn .

.PHONY: build
build: deps ## Compile the operator and the serving image to dist/.
	node_modules/.bin/tsc -p tsconfig.json

.PHONY: test
test: deps testbed ## Run every check and test; ends with "N passed, N failed".
	@bash test/run-all.sh

.PHONY: demo
demo: deps testbed ## Run the operator on a local control plane and watch the examples' lifecycle.
	@bash examples/demo.sh

.PHONY: mutation
mutation: deps ## Mutation-test the unit tests (StrykerJS; FOLDER=serving-image/src for one folder, FOLDER=a.ts,b.ts SCOPE=name for several; MUTATION_TYPECHECK=off skips the slow type checker). Reports in .cache/mutation.
	MUTATION_FOLDER=$(FOLDER) $(if $(SCOPE),MUTATION_SCOPE=$(SCOPE)) node_modules/.bin/stryker run
	@node test/mutation/scores.mjs $(if $(FOLDER),.cache/mutation/$(or $(SCOPE),$(subst /,-,$(FOLDER)))/report.json)
