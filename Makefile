# pgwarden: `make demo` and `make test` are all the set-up a user needs on Debian.
SWIFT ?= swift

.PHONY: build release deb test unit demo bench clean

build:
	scripts/deps.sh build
	scripts/stamp-build.sh
	$(SWIFT) build

# The installed binary: the Swift runtime and libstdc++ linked in, packed relocations. That tuning is in
# Package.swift (a plain `swift build -c release` gets it too); release/build.sh checks it took.
release:
	scripts/deps.sh build
	scripts/stamp-build.sh
	release/build.sh

# The Debian package of the release binary: .build/deb/pgwarden_<version>-1_<arch>.deb (release/deb.sh says
# what it holds). checks/deb.sh installs, upgrades and purges it.
deb:
	scripts/deps.sh deb
	scripts/stamp-build.sh
	release/build.sh
	release/deb.sh

# Everything: unit and integration tests against a throwaway PostgreSQL, alert rule tests,
# the end-to-end run with Prometheus and Alertmanager.
test:
	scripts/test.sh

# Unit tests only (no database needed).
unit:
	scripts/deps.sh build
	$(SWIFT) test --filter "PGWardenTests|PGWardenCLITests"

demo:
	scripts/demo.sh

# Scrape latency vs postgres_exporter and the bare query; webhook time for 100 terminations; peak RSS;
# one fleet-mode pgwarden for 20 clusters vs one postgres_exporter per cluster and its /probe.
bench:
	bench/run.sh
	bench/webhook.sh
	bench/rss.sh
	bench/fleet.sh

clean:
	rm -rf .build .build-* .tmp
