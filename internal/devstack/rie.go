package devstack

import (
	"context"
	"errors"
	"io"
)

// startRIE runs a function's bootstrap under the Lambda runtime interface emulator.
func (s *Stack) startRIE(ctx context.Context, f Function, out io.Writer) (runtime, error) {
	return nil, errors.New("the rie runtime is not wired yet")
}
