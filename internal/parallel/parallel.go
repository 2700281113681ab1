// Package parallel runs independent pieces of work with a bound on how many are in flight.
package parallel

import "sync"

// Do calls f(0), …, f(n-1), at most limit of them at once, and returns when all have returned.
// Each call must touch only what belongs to its index.
func Do(n, limit int, f func(i int)) {
	slots := make(chan struct{}, max(limit, 1))
	var wg sync.WaitGroup
	for i := range n {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			f(i)
		})
	}
	wg.Wait()
}
