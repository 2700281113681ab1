package chart

import (
	"math"
	"strconv"
)

// niceTicks returns evenly spaced round values (1, 2, 2.5 or 5 times a power of ten apart) from at or
// below lo to at or above hi, at most maxTicks of them and at least two.
func niceTicks(lo, hi float64, maxTicks int) []float64 {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		d := math.Max(math.Abs(lo)/10, 1)
		lo, hi = lo-d, hi+d
	}
	maxTicks = max(2, maxTicks)
	raw := (hi - lo) / float64(maxTicks-1)
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	var step float64
	var first, last float64
	for _, m := range []float64{1, 2, 2.5, 5, 10, 20, 25, 50} {
		step = m * pow
		first, last = math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
		if int(last-first)+1 <= maxTicks {
			break
		}
	}
	ticks := make([]float64, 0, int(last-first)+1)
	for k := first; k <= last; k++ {
		ticks = append(ticks, k*step)
	}
	if len(ticks) < 2 {
		ticks = append(ticks, ticks[0]+step)
	}
	return ticks
}

// formatTick prints a tick with as many decimals as the step between ticks needs, and with k or M
// for large values.
func formatTick(v float64, ticks []float64) string {
	step := 1.0
	if len(ticks) > 1 {
		step = ticks[1] - ticks[0]
	}
	big := math.Max(math.Abs(ticks[0]), math.Abs(ticks[len(ticks)-1]))
	suffix, div := "", 1.0
	switch {
	case big >= 1e6:
		suffix, div = "M", 1e6
	case big >= 1e4:
		suffix, div = "k", 1e3
	}
	if math.Abs(v) < step/2 {
		v = 0
	}
	// As many decimals as show the step exactly (0.5 needs one, 0.25 two), six at most.
	decimals, scaled := 0, step/div
	for ; decimals < 6; decimals++ {
		if f := scaled * math.Pow(10, float64(decimals)); math.Abs(f-math.Round(f)) < 1e-6*math.Max(1, f) {
			break
		}
	}
	return strconv.FormatFloat(v/div, 'f', decimals, 64) + suffix
}
