//go:build !unix

package emulators

// lockFile does nothing: concurrent installs are not serialized here.
func lockFile(string) (func(), error) { return func() {}, nil }
