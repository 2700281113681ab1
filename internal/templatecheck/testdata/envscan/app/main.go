package main

import (
	"os"

	c "example.test/envscan/cfg"
)

func main() {
	const local = "LOCAL_ONLY"
	_ = c.MustEnv(c.TableEnv)
	_ = os.Getenv("FRAUD_ALERT_FUNCTION")
	_, _ = os.LookupEnv(local)
	_ = c.Region()
}
