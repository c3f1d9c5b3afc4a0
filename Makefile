# pgwarden: `make demo` and `make test` are all the set-up a user needs on Debian.
SWIFT ?= swift

.PHONY: build release test unit demo bench clean

build:
	scripts/deps.sh build
	$(SWIFT) build

release:
	scripts/deps.sh build
	$(SWIFT) build -c release

# Everything: unit and integration tests against a throwaway PostgreSQL, alert rule tests,
# the end-to-end run with Prometheus and Alertmanager.
test:
	scripts/test.sh

# Unit tests only (no database needed).
unit:
	scripts/deps.sh build
	$(SWIFT) test --filter PGWardenTests

demo:
	scripts/demo.sh

bench:
	bench/run.sh

clean:
	rm -rf .build .build-* .tmp
