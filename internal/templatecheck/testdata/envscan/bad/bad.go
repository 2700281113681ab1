package bad

import (
	"os"
	"strings"
)

func dynamic(name string) string {
	get := func(k string) string { return os.Getenv(k) }
	return get(name) + os.Getenv(strings.ToUpper("x"))
}
