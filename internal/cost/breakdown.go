package cost

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The services a Breakdown names, in the order its tables list them.
const (
	ServiceLambda   = "Lambda"
	ServiceDynamoDB = "DynamoDB"
	ServiceKinesis  = "Kinesis"
)

var services = []string{ServiceLambda, ServiceDynamoDB, ServiceKinesis}

// Breakdown is the cost of a run per million events, line by line.
type Breakdown struct {
	Events   int64          `json:"events"`
	Lines    []Line         `json:"lines"`
	Services []ServiceTotal `json:"services"`
	// USD is the total in US dollars per million events.
	USD   float64  `json:"usdPerMillionEvents"`
	Notes []string `json:"notes,omitempty"`
}

// Line is one billed item: a quantity of one unit per million events, its unit price and their
// product.
type Line struct {
	Service    string  `json:"service"`
	Item       string  `json:"item"`
	Quantity   float64 `json:"quantityPerMillionEvents"`
	Unit       string  `json:"unit"`
	USDPerUnit float64 `json:"usdPerUnit"`
	USD        float64 `json:"usdPerMillionEvents"`
}

// ServiceTotal is one service's share, in US dollars per million events.
type ServiceTotal struct {
	Service string  `json:"service"`
	USD     float64 `json:"usdPerMillionEvents"`
}

// Service returns the service's total in US dollars per million events (0 if it has no lines).
func (b Breakdown) Service(name string) float64 {
	for _, s := range b.Services {
		if s.Service == name {
			return s.USD
		}
	}
	return 0
}

// total fills Services and USD from Lines.
func (b *Breakdown) total() {
	b.Services, b.USD = nil, 0
	for _, name := range services {
		t := ServiceTotal{Service: name}
		for _, l := range b.Lines {
			if l.Service == name {
				t.USD += l.USD
			}
		}
		b.Services = append(b.Services, t)
		b.USD += t.USD
	}
}

// WriteTable prints b as an aligned table: one row per line, a subtotal per service, the total,
// then the notes.
func (b Breakdown) WriteTable(w io.Writer) error {
	rows := [][]string{{"service", "item", "per 1M events", "unit", "$/unit", "$ per 1M events"}}
	for _, name := range services {
		for _, l := range b.Lines {
			if l.Service == name {
				rows = append(rows, []string{l.Service, l.Item, quantity(l.Quantity), l.Unit, price(l.USDPerUnit), fmt.Sprintf("%.4f", l.USD)})
			}
		}
		rows = append(rows, []string{name, "subtotal", "", "", "", fmt.Sprintf("%.4f", b.Service(name))})
	}
	rows = append(rows, []string{"total", fmt.Sprintf("(%d events measured)", b.Events), "", "", "", fmt.Sprintf("%.4f", b.USD)})
	if err := writeColumns(w, rows, []bool{false, false, true, false, true, true}); err != nil {
		return err
	}
	for _, n := range b.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// writeColumns prints rows in columns two spaces apart, numbers (right[i]) aligned right.
func writeColumns(w io.Writer, rows [][]string, right []bool) error {
	widths := make([]int, len(right))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var sb strings.Builder
	for _, row := range rows {
		line := make([]string, len(row))
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell))
			if right[i] {
				line[i] = pad + cell
			} else {
				line[i] = cell + pad
			}
		}
		sb.WriteString(strings.TrimRight(strings.Join(line, "  "), " "))
		sb.WriteByte('\n')
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// Comparison sets our design's breakdown beside the prototype's.
type Comparison struct {
	Ours      Breakdown `json:"ours"`
	Prototype Breakdown `json:"prototype"`
	// Ratio is ours / prototype for the totals (0 when the prototype costs nothing).
	Ratio float64 `json:"ratio"`
	// Services has one ratio per service.
	Services []ServiceRatio `json:"services"`
}

// ServiceRatio is one service's cost in both designs, per million events.
type ServiceRatio struct {
	Service   string  `json:"service"`
	Ours      float64 `json:"oursUSD"`
	Prototype float64 `json:"prototypeUSD"`
	Ratio     float64 `json:"ratio"`
}

// Compare sets ours beside prototype.
func Compare(ours, prototype Breakdown) Comparison {
	c := Comparison{Ours: ours, Prototype: prototype, Ratio: ratio(ours.USD, prototype.USD)}
	for _, name := range services {
		o, p := ours.Service(name), prototype.Service(name)
		c.Services = append(c.Services, ServiceRatio{Service: name, Ours: o, Prototype: p, Ratio: ratio(o, p)})
	}
	return c
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// WriteTable prints the two designs side by side per service, with the ratio ours/prototype.
func (c Comparison) WriteTable(w io.Writer) error {
	rows := [][]string{{"service", "ours $/1M events", "prototype $/1M events", "ours/prototype"}}
	for _, s := range c.Services {
		rows = append(rows, []string{s.Service, fmt.Sprintf("%.4f", s.Ours), fmt.Sprintf("%.4f", s.Prototype), times(s.Ratio)})
	}
	rows = append(rows, []string{"total", fmt.Sprintf("%.4f", c.Ours.USD), fmt.Sprintf("%.4f", c.Prototype.USD), times(c.Ratio)})
	return writeColumns(w, rows, []bool{false, true, true, true})
}

func times(r float64) string {
	if r == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", r)
}

// quantity prints a count without noise: whole numbers as such, small ones with decimals.
func quantity(q float64) string {
	switch {
	case q >= 100:
		return fmt.Sprintf("%.0f", q)
	case q >= 1:
		return fmt.Sprintf("%.2f", q)
	}
	return fmt.Sprintf("%.4f", q)
}

// price prints a unit price with its significant digits, without exponent.
func price(p float64) string {
	s := fmt.Sprintf("%.10f", p)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
