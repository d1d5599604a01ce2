# Sotto's checks. `make` (or `make test`) runs, in order:
#
#   fmt    gofmt -l over every .go file (node_modules excluded); fails if any is listed
#   vet    go vet ./...
#   npm    npm ci in interop/node, if interop/node/package-lock.json exists
#   race   go test -race ./...
#   fuzz   every Fuzz function in the module, for FUZZTIME each (.ci/fuzz tells
#          a found crash from a hiccup of the fuzzing engine and retries the latter)
#
# and `make bench` writes bench.txt (go test -bench=. -count=COUNT ./...).
# Override the knobs on the command line: make fuzz FUZZTIME=1m
#
# Written for POSIX make and sh (tested with GNU make 4.3 and dash).

.POSIX:
.NOTPARALLEL:

GO = go
GOFMT = gofmt
NPM = npm
FUZZTIME = 5s
COUNT = 10

test: fmt vet npm race fuzz

fmt:
	@echo '== gofmt -l'
	@files=$$(find . \( -name node_modules -o -name .git \) -prune -o -type f -name '*.go' -exec $(GOFMT) -l {} +) || { \
		echo 'gofmt failed'; exit 1; }; \
	if [ -n "$$files" ]; then \
		echo 'these files are not gofmt-formatted (run gofmt -w on them):'; \
		printf '%s\n' "$$files"; exit 1; \
	fi

vet:
	$(GO) vet ./...

npm:
	@if [ -f interop/node/package-lock.json ]; then \
		echo '== npm ci (interop/node)'; \
		cd interop/node && $(NPM) ci --no-audit --no-fund; \
	else \
		echo '== npm ci: skipped, no interop/node/package-lock.json'; \
	fi

race:
	$(GO) test -race ./...

# go test -list prints each package's matching functions, then an "ok" line
# naming the package; -fuzz takes exactly one function in one package.
fuzz:
	@echo '== fuzz, $(FUZZTIME) per function'
	@list=$$($(GO) test -list='^Fuzz' ./...) || { \
		printf '%s\n' "$$list"; echo 'fuzz: go test -list failed'; exit 1; }; \
	targets=$$(printf '%s\n' "$$list" | awk ' \
		/^Fuzz/ { names = names " " $$1; next } \
		/^ok[ \t]/ { n = split(names, f, " "); for (i = 1; i <= n; i++) print $$2, f[i]; names = "" }'); \
	if [ -z "$$targets" ]; then echo 'fuzz: no Fuzz functions found'; exit 0; fi; \
	printf '%s\n' "$$targets" | while read -r pkg name; do \
		echo "-- $$pkg $$name"; \
		GO=$(GO) ./.ci/fuzz "$$pkg" "$$name" $(FUZZTIME) || exit 1; \
	done

# go test's own exit status is lost in the pipe to tee, so a failure is
# recorded as a FAIL line, which go test also prints for failing benchmarks.
bench:
	@echo '== go test -bench=. -count=$(COUNT) ./... > bench.txt'
	@{ $(GO) test -run='^$$' -bench=. -count=$(COUNT) ./... || echo "FAIL: go test exited with status $$?"; } | tee bench.txt
	@if grep -q '^FAIL' bench.txt; then echo 'bench: failed, see bench.txt'; exit 1; fi

.PHONY: test fmt vet npm race fuzz bench
