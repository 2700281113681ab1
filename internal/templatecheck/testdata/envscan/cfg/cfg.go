// Package cfg is a fixture for EnvReads: constants and helpers that forward a name to os.
package cfg

import "os"

// TableEnv names the table variable.
const TableEnv = "TABLE_NAME"

const alias = TableEnv

// MustEnv returns the variable named key or panics.
func MustEnv(key string) string {
	v, ok := os.LookupEnv(key)
	if !ok {
		panic(key)
	}
	return v
}

func wrapped(prefix, k string) string { return prefix + MustEnv(k) }

// Region reads a reserved variable.
func Region() string { return os.Getenv("AWS_REGION") }

// Aliased reads TABLE_NAME through two helpers and a constant alias.
func Aliased() string { return wrapped("", alias) }
