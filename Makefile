# go-event-processor: the front door.
#
#   make tools   install the local emulators (kinesalite, DynamoDB Local)
#   make test    vet, then every test, on the emulators
#   make build   build each functions/<name> into bin/<name>/bootstrap (Lambda, linux/arm64)
#   make demo    run the pipeline demo on the emulators
#   make up      start the local stack in the background (eventctl local up -d; GEP_DATA_DIR picks its data directory)
#   make down    stop it and everything it started (eventctl local down)
#   make fuzz    fuzz record → router → quarantine item for FUZZTIME (default 30s; CI runs it)
#   make lint    cfn-lint the template
#   make clean   remove build output

SHELL := /bin/bash
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))

.PHONY: tools test fuzz lint build demo up down clean FORCE

tools:
	bash scripts/install-emulators.sh

test: tools
	go vet ./...
	go test -count=1 ./...

FUZZTIME ?= 30s

# Any record up to Kinesis's 1 MiB: no panic, sent or quarantined, every quarantine item bounded.
fuzz: tools
	go test -run x -fuzz FuzzRouterQuarantine -fuzztime $(FUZZTIME) ./internal/store

# cfn-lint judges the template (informational checks included: I3011 asks for retained state).
lint:
	cfn-lint --include-checks I -- template.yaml

build: $(FUNCTIONS:%=bin/%/bootstrap)

# Always rebuilt: go build's cache makes an unchanged function cheap.
bin/%/bootstrap: FORCE
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o $@ ./functions/$*

demo: tools
	go run ./cmd/eventctl demo

# The local stack in the background: eventctl re-executes its own binary, so nothing is left to go
# run; `eval "$$(go run ./cmd/eventctl local env)"` points the AWS CLI at it.
up:
	go run ./cmd/eventctl local up -d

down:
	go run ./cmd/eventctl local down

# Keeps node_modules/ and .cache/ (the installed emulators); delete them by hand to reinstall.
clean:
	rm -rf bin/

FORCE:
