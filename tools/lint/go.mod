// Module lint pins the static checkers `make lint` runs. It is its own
// module so their dependencies stay out of sluice's go.mod; the Makefile
// runs them from the repository root with go tool -modfile=tools/lint/go.mod.
// (It is not tools/go.mod because that would cut tools/gendocs out of the
// main module.) Bump with: cd tools/lint && go get -tool <module>@<version>
module github.com/sluice-log/sluice/tools/lint

go 1.26.8

tool (
	github.com/kisielk/errcheck
	honnef.co/go/tools/cmd/staticcheck
)

require (
	github.com/BurntSushi/toml v1.4.1-0.20240526193622-a339e1f7089c // indirect
	github.com/kisielk/errcheck v1.30.0 // indirect
	golang.org/x/exp/typeparams v0.0.0-20231108232855-2478ac86f678 // indirect
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	honnef.co/go/tools v0.8.2 // indirect
)
