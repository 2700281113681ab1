package chart

import (
	"slices"
	"testing"
)

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		max    int
		want   []float64
	}{
		{0, 97, 6, []float64{0, 20, 40, 60, 80, 100}},
		{0, 100, 11, []float64{0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100}},
		{0, 1, 6, []float64{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1}},
		{0, 60, 10, []float64{0, 10, 20, 30, 40, 50, 60}},
		{3, 58, 4, []float64{0, 20, 40, 60}},
		{-3, 2, 6, []float64{-3, -2, -1, 0, 1, 2}},
		{0, 0, 5, []float64{-1, -0.5, 0, 0.5, 1}},
		{0, 0, 3, []float64{-1, 0, 1}},
		{5, 5, 3, []float64{4, 5, 6}},
		{0, 1250, 8, []float64{0, 200, 400, 600, 800, 1000, 1200, 1400}},
		{0, 1250, 4, []float64{0, 500, 1000, 1500}},
		{0, 1050, 6, []float64{0, 250, 500, 750, 1000, 1250}},
		{97, 0, 6, []float64{0, 20, 40, 60, 80, 100}},
	} {
		if got := niceTicks(tc.lo, tc.hi, tc.max); !slices.Equal(got, tc.want) {
			t.Errorf("niceTicks(%v, %v, %d) = %v, want %v", tc.lo, tc.hi, tc.max, got, tc.want)
		}
	}
}

func TestFormatTick(t *testing.T) {
	for _, tc := range []struct {
		v     float64
		ticks []float64
		want  string
	}{
		{40, []float64{0, 20, 40}, "40"},
		{0.6000000000000001, []float64{0, 0.2, 0.4, 0.6000000000000001}, "0.6"},
		{0.05, []float64{0, 0.05, 0.1}, "0.05"},
		{15000, []float64{0, 5000, 10000, 15000}, "15k"},
		{2500, []float64{0, 2500, 5000, 7500, 10000}, "2.5k"},
		{2e6, []float64{0, 1e6, 2e6}, "2M"},
		{1e-17, []float64{-0.2, 0, 0.2}, "0.0"},
		{0.75, []float64{0, 0.25, 0.5, 0.75}, "0.75"},
		{1400, []float64{0, 200, 1400}, "1400"},
	} {
		if got := formatTick(tc.v, tc.ticks); got != tc.want {
			t.Errorf("formatTick(%v, %v) = %q, want %q", tc.v, tc.ticks, got, tc.want)
		}
	}
}
